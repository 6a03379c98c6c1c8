"""A run's story from its run.json: what ran, where, with what, and how it ended, as
(label, text) pairs that ``toynn show`` prints as a table and report.html as a list.
Older run folders lack some facts: those lines are left out."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

#: state -> rich style (``toynn show``) and CSS class (report.html)
STATE_STYLE = {
    "complete": "green",
    "interrupted": "yellow",
    "running": "cyan",
    "killed": "red",
    "failed": "red",
}


def duration_text(seconds: object) -> str | None:
    """``12.3 s``, ``4 min 05 s``, ``2 h 03 min``; None for what is not a duration."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        return None
    if seconds < 60:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _time(info: dict[str, Any], key: str) -> str | None:
    value = info.get(key)
    if not isinstance(value, str) or not value:
        return None
    offset = info.get("utc_offset")
    text = value.replace("T", " ")
    return f"{text} {offset}" if isinstance(offset, str) and offset else text


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def story_lines(info: dict[str, Any], state: str | None = None) -> list[tuple[str, str]]:
    """The run's facts as ``(label, text)`` pairs, in reading order. ``state``: the
    state to show (``killed`` for a running folder whose process is gone); default
    run.json's ``status``."""
    state = state or str(info.get("status", "?"))
    ending = state
    if isinstance(info.get("error"), str):
        ending += f": {info['error']}"
    elif isinstance(info.get("signal"), str):
        ending += f" by {info['signal']}"
    done, total = info.get("networks_done"), info.get("networks")
    if isinstance(done, int) and isinstance(total, int):
        ending += f" ({done} of {total} networks)"
    lines: list[tuple[str, str | None]] = [
        ("state", ending),
        ("command", _text(info.get("command"))),
        ("config", _text(info.get("config"))),
        ("config sha256", _text(info.get("config_sha256"))),
        ("started", _time(info, "started")),
        ("finished", _time(info, "finished")),
        ("duration", duration_text(info.get("duration_seconds"))),
    ]
    resumed = info.get("resumed")
    if isinstance(resumed, int) and resumed > 0:
        lines.append(("resumed", f"{resumed} time" + ("" if resumed == 1 else "s")))
    engine = _text(info.get("engine"))
    if engine is not None:
        where = _text(info.get("executor")) or "local"
        workers, processes = info.get("workers"), info.get("processes")
        if isinstance(workers, int) and isinstance(processes, int):
            asked = f"{workers} worker" + ("" if workers == 1 else "s") + " asked"
            if processes == 0:
                threads = info.get("threads")
                on = f" on {threads} threads" if isinstance(threads, int) and threads > 1 else ""
                where += f", in this process{on}; {asked}"
            else:
                where += f", {processes} worker process" + ("" if processes == 1 else "es")
                where += "" if processes == workers else f"; {asked}"
        elif isinstance(workers, int):  # before processes were recorded
            where += f", {workers} worker" + ("" if workers == 1 else "s")
        scheduler = _text(info.get("scheduler"))
        lines.append(("engine", f"{engine} ({where}{', ' + scheduler if scheduler else ''})"))
    precision = info.get("history_precision")
    if precision in ("float32", "float64"):
        lines.append(("history", f"error history stored as {precision}"))
    versions = [
        f"{name} {info[key]}"
        for name, key in (
            ("toynn", "toynn_version"),
            ("python", "python_version"),
            ("numpy", "numpy_version"),
            ("numba", "numba_version"),
        )
        if _text(info.get(key)) is not None
    ]
    lines.append(("versions", ", ".join(versions) or None))
    machine = [
        _text(info.get("cpu")),
        _text(info.get("simd")),
        f"{info['cores']} cores" if isinstance(info.get("cores"), int) else None,
    ]
    facts = ", ".join(m for m in machine if m)
    host = _text(info.get("host"))
    lines.append(("host", f"{host} ({facts})" if host and facts else host or facts or None))
    commit = _text(info.get("git_commit"))
    if commit is not None:
        dirty = info.get("git_dirty")
        note = {True: " (uncommitted changes)", False: " (clean)"}.get(dirty, "")
        lines.append(("git commit", commit + note))
    return [(label, text) for label, text in lines if text is not None]


def story_table(info: dict[str, Any], state: str | None = None) -> Table:
    """:func:`story_lines` as a two-column table titled ``Run``, its state coloured."""
    table = Table(title="Run", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    shown = state or str(info.get("status", "?"))
    for label, text in story_lines(info, state):
        value = Text(text, style=STATE_STYLE.get(shown, "")) if label == "state" else text
        table.add_row(label, value)
    return table
