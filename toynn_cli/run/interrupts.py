"""Ctrl-C and SIGTERM while a command works: :class:`SignalGuard` holds a signal while
files are being written and interrupts training at once (:class:`Interrupted`).

Standard library only.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar


class Interrupted(BaseException):
    """Ctrl-C (exit 130) or SIGTERM (exit 143) during training.

    A BaseException, like KeyboardInterrupt: the signal handler raises it wherever the
    main thread is, and library code (Dask's client, for one) that catches
    ``Exception`` must not swallow it."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code


class SignalGuard:
    """SIGINT and SIGTERM while a command works.

    Inside :meth:`live` (training) a signal raises :class:`Interrupted` at once. At any
    other moment (creating the run folder, rendering, writing files) the first signal is
    held, so the files stay consistent, and the command exits with its code when the
    files are written; a second signal while one is held interrupts anyway (temporary
    files are still removed by :func:`runs.atomic_write`).
    """

    CODES: ClassVar[dict[int, int]] = {signal.SIGINT: 130, signal.SIGTERM: 143}

    def __init__(self) -> None:
        self.code: int | None = None
        self._live = False

    def _handle(self, signum: int, frame: Any) -> None:
        held = self.code is not None
        if not held:
            self.code = self.CODES[signum]
        if self._live or held:
            self._live = False
            raise Interrupted(self.code)

    @contextmanager
    def installed(self) -> Iterator[SignalGuard]:
        """Handle both signals while the block runs (main thread only), then restore.
        A signal the process was started ignoring (``nohup``, a background job) stays
        ignored."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {
            signum: signal.signal(signum, self._handle)
            for signum in self.CODES
            if signal.getsignal(signum) is not signal.SIG_IGN
        }
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)

    @contextmanager
    def live(self) -> Iterator[None]:
        """A block that a signal interrupts at once (a held signal: before it starts)."""
        self._live = True  # first: a signal from here on raises, one before it was held
        if self.code is not None:
            self._live = False
            raise Interrupted(self.code)
        try:
            yield
        except KeyboardInterrupt:
            raise Interrupted(130) from None
        finally:
            self._live = False
