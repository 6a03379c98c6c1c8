"""Run folders: created once and never reused, files written atomically.

A run folder is ``<parent>/<YYYYmmdd-HHMMSS>-<name>[-N]``. It is made with ``os.mkdir``,
which fails if anything (a folder, a file, a symlink) already has that name; the next
suffix is tried instead, so concurrent runs never share a folder. Every file goes to a
temporary name in the same folder, is flushed to disk, then renamed over its final
name with ``os.replace``: a reader sees the old file or the new one, never half of one.

``run.json`` says how far a run got: ``running`` while it trains (a folder that still
says ``running`` after its process is gone was killed), then ``complete`` or
``interrupted``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

STATUS_FILE = "run.json"
#: The run-folder format this toynn writes (run.json's and results.json's ``format``;
#: absent: 1). 2: network records hold every setting (batch norm's arrays moved from
#: ``batch_norm`` to ``batch_norm_state``; ``momentum``: the momentum axis's value or
#: null), metrics.csv has the run's setting columns. 3: chunk files deflated, their
#: error history float32 unless run.json's ``history_precision`` says float64.
#: 4: chunk files keep float64 arrays as byte planes, the float32 history as third
#: differences (chunks.py). 5: chunk files leave out the initial weights their seeds
#: give again (chunks.py).
FORMAT = 5


class RunDirError(OSError):
    """The run folder cannot be created or written; the message is one line."""


def create_run_dir(parent: Path, name: str, now: datetime | None = None) -> Path:
    """Make a new, empty run folder under ``parent`` and return its path."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)  # the parent may be shared; the run never is
    except OSError as exc:
        raise RunDirError(f"option --out: cannot create '{parent}': {_reason(exc)}") from None
    for n in range(1, 10_000):
        path = parent / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{name}-{n}")
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunDirError(
                f"option --out: cannot create a run folder in '{parent}': {_reason(exc)}"
            ) from None
        return path
    raise RunDirError(f"option --out: '{parent}' has no free name left for {stamp}-{name}")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _file_mode() -> int:
    """The mode ``open()`` would give a new file: 0o666 less the process umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, data: bytes | str | Callable[[BinaryIO], None]) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    ``data`` may also be a function that writes to the open file (large archives are
    then streamed, never held in memory as a whole).

    The temporary file is ``.<name>.<random>.tmp`` in the same folder; on any failure
    (including Ctrl-C) it is removed and ``path`` is left as it was. The file gets the
    permissions an ordinary new file would get (not ``mkstemp``'s private 0o600).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    write = payload if callable(payload) else (lambda handle: handle.write(payload))
    while True:
        # The name is chosen before the file is made, so that an interrupt landing
        # between the file's creation and the return of the call that made it (as it
        # could inside tempfile.mkstemp) still finds the file to remove.
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:  # someone else's temporary file: not ours to remove
            continue
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _file_mode())
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_status(run_dir: Path, status: str, **info: Any) -> None:
    """Record the run's state (``running``, ``complete``, ``interrupted``) in run.json."""
    record = {"status": status, "updated": datetime.now().isoformat(timespec="seconds"), **info}
    atomic_write(run_dir / STATUS_FILE, json.dumps(record, indent=2) + "\n")


def read_status(run_dir: Path) -> dict[str, Any]:
    """The run.json of a run folder, or RunDirError if the folder is not a run."""
    path = run_dir / STATUS_FILE
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such run folder")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(f"{run_dir}: not a toynn run folder (it has no {STATUS_FILE})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: cannot read: {exc}") from None
    if not isinstance(record, dict) or "status" not in record:
        raise RunDirError(f"{path}: not a toynn run record (no 'status')")
    return record


def pid_alive(pid: object) -> bool:
    """Whether a process with this id exists on this machine."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


#: The temporary files :func:`atomic_write` makes: ``.<name>.<12 hex digits>.tmp``.
TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def clear_temporary(folder: Path) -> list[Path]:
    """Remove the temporary files a killed process left in ``folder`` and its
    subfolders (SIGKILL cannot be caught, so :func:`atomic_write` could not remove its
    own); returns them. Only for a folder this process holds (:func:`locked`): no other
    process is writing there."""
    removed = []
    for path in sorted(folder.rglob(".*.tmp")):
        if TEMPORARY.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


LOCK_FILE = ".lock"


@contextlib.contextmanager
def locked(run_dir: Path) -> Iterator[None]:
    """Hold the run folder for this process: a second process (another ``--resume``)
    is refused while this one lives; a lock left by a killed process is taken over.

    The lock is ``flock`` on ``.lock`` (which holds the owner's PID, for the message):
    the kernel releases it when its process dies, and taking it is one atomic step,
    so of several processes resuming one stale folder at once exactly one gets it.
    A lock file unlinked by its previous owner while another process opened it is
    noticed (its inode is no longer the path's) and the lock is taken again."""
    path = run_dir / LOCK_FILE
    for _ in range(10):
        try:
            fd = os.open(path, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise RunDirError(f"{run_dir}: cannot take its lock: {_reason(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise RunDirError(f"{run_dir}: in use by process {holder or 'unknown'}") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the previous owner unlinked it after we opened it: again
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        break
    else:
        raise RunDirError(f"{run_dir}: cannot take its lock")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still held: a waiter notices the new inode
        os.close(fd)


def _read_pid(fd: int) -> int:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0)
    except (OSError, ValueError):
        return 0
