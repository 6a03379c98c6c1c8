"""What every figure shares (the optional ``plot`` extra): whether matplotlib is there,
pyplot with the non-interactive Agg backend (imported only when a figure is made), the
size and resolution, and the bytes of a saved figure."""

from __future__ import annotations

import importlib.util
import io
from typing import Any

INSTALL_HINT = "matplotlib is not installed; install the plot extra: pip install 'toynn[plot]'"
#: Figure size in inches and resolution: PNGs are FIG_SIZE * DPI pixels.
FIG_SIZE = (8.0, 5.0)
DPI = 100


def available() -> bool:
    """True when matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text (searchable, small)
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # fixed metadata: the same figure gives the same bytes
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()
