"""Stopping long work cleanly on Ctrl-C (SIGINT) or SIGTERM.

Inside ``with GracefulStop() as stop:`` the first of these signals does not raise: it sets
``stop.requested``, which a training loop reads after each step, to save and exit with one
line that says how to go on. A second signal raises ``KeyboardInterrupt`` at once (what was
saved last is whole either way: checkpoints are written as one unit). Outside the block the
previous handlers are back.
"""
from __future__ import annotations

import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """Turns SIGINT and SIGTERM into a request to stop at the next safe point."""

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():  # (Python's rule for handlers)
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + int(self.signum or signal.SIGINT)
