"""Figures with matplotlib (the optional ``plot`` extra): each function returns the
bytes of one image file; nothing is shown or written here.

matplotlib is imported only when a figure is made, with the non-interactive Agg
backend, so the rest of toynn never needs it.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from toynn_cli.engine import NetworkResult
from toynn_cli.surface import Surface

INSTALL_HINT = "matplotlib is not installed; install the plot extra: pip install 'toynn[plot]'"
#: Figure size in inches and resolution: PNGs are FIG_SIZE * DPI pixels.
FIG_SIZE = (8.0, 5.0)
DPI = 100


def available() -> bool:
    """True when matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # fixed metadata: the same figure gives the same bytes
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def surface_png(surface: Surface, title: str) -> bytes:
    """The error surface as an image, with a colour bar and the training path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIG_SIZE)
    try:
        extent = (
            surface.values_a[0],
            surface.values_a[-1],
            surface.values_b[0],
            surface.values_b[-1],
        )
        image = ax.imshow(
            surface.errors, origin="lower", extent=extent, cmap="viridis", aspect="auto"
        )
        fig.colorbar(image, ax=ax, label="error (mean |output - target|)")
        ax.plot(surface.path_a, surface.path_b, color="white", linewidth=1.5, label="training")
        ax.plot(surface.path_a[0], surface.path_b[0], "o", color="white", label="start")
        ax.plot(
            surface.path_a[-1], surface.path_b[-1], "*", color="red", markersize=12, label="end"
        )
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel(surface.a.name)
        ax.set_ylabel(surface.b.name)
        ax.set_title(title)
        ax.legend(loc="upper right", fontsize="small")
        fig.tight_layout()
        return _save(fig, "png")
    finally:
        plt.close(fig)


def error_curves(results: Sequence[NetworkResult], swept: str, title: str, fmt: str) -> bytes:
    """Error against iteration, log axes, one line per network, coloured by the value of
    the ``swept`` axis (``alpha``, ``hidden`` or ``seed``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIG_SIZE)
    try:
        values = sorted({_axis_value(r, swept) for r in results})
        cmap = plt.get_cmap("viridis")
        shade = {v: cmap(i / max(1, len(values) - 1)) for i, v in enumerate(values)}
        labelled: set[float] = set()
        for r in results:
            value = _axis_value(r, swept)
            its = np.append(r.history_iterations, r.iterations).astype(float) + 1
            errors = np.append(r.history_errors, r.final_error)
            label = None
            if value not in labelled:
                label = f"{swept} {value:g}"
                labelled.add(value)
            ax.plot(its, errors, color=shade[value], linewidth=1.2, alpha=0.8, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration + 1")
        ax.set_ylabel("error (mean |output - target|)")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
        if len(values) <= 12:
            ax.legend(fontsize="small", loc="lower left")
        else:
            mappable = plt.cm.ScalarMappable(cmap=cmap)
            mappable.set_clim(min(values), max(values))
            fig.colorbar(mappable, ax=ax, label=swept)
        fig.tight_layout()
        return _save(fig, fmt)
    finally:
        plt.close(fig)


def _axis_value(result: NetworkResult, swept: str) -> float:
    return float(getattr(result.spec, swept))
