"""Values as messages show them: short, bounded in depth and length (a YAML alias bomb
or a large inline dataset must not hang or flood a message), and spelled the way a
config writes them (``true``, ``false``, ``null``), not Python's ``True``."""

from __future__ import annotations

import reprlib
from typing import Any


class _Repr(reprlib.Repr):
    def repr_bool(self, value: bool, level: int) -> str:
        return "true" if value else "false"

    def repr_NoneType(self, value: None, level: int) -> str:
        return "null"


_REPR = _Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 3, 8, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 50, 50, 30


def show(value: Any, limit: int = 60) -> str:
    """``value`` for a message: ``'abc'``, ``2.5``, ``true``, ``[1, 2, ...]``."""
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
