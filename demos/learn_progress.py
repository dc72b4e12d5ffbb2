"""The one progress display of ``worldsim learn``: the share of the budget spent, the stage,
the time left and the latest held-out figure, on one line that a background thread redraws
(its own, not a tqdm bar: the stages' tqdm bars go to their logs and must not make room for
it), while each stage's own output goes to its log. The same thread keeps the job's stage times in its
state and saves them every few seconds, so a job killed mid-stage has its time counted.
"""
from __future__ import annotations

import shutil
import sys
import threading
import time

REDRAW_SECONDS = 1.0
REDRAW_SECONDS_NO_TTY = 30.0  # into a log file or a pipe: a line now and then
BAR_WIDTH = 20
SAVE_SECONDS = 10.0  # stage times are saved this often while a stage runs


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``with Progress(state, budget_s, save, quiet):`` draws until the block ends;
    ``begin(stage)`` / ``end()`` time a stage into ``state["seconds"]``; ``figure`` is the
    latest held-out line shown."""

    def __init__(self, state: dict, budget_seconds: float, save, quiet: bool = False):
        self.state = state
        self.budget = float(budget_seconds)
        self.save = save
        self.quiet = quiet
        self.figure = (state.get("checks") or [{}])[-1].get("line", "")
        self.stage: str | None = None
        self.base = self.began = 0.0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.stream = self.thread = None
        self.tty = False

    def begin(self, stage: str) -> None:
        with self.lock:
            self.stage = stage
            self.base = self.state["seconds"].get(stage, 0.0)
            self.began = time.time()

    def _tick(self) -> None:
        """Bring the running stage's time up to date (under the lock)."""
        if self.stage is not None:
            self.state["seconds"][self.stage] = self.base + time.time() - self.began

    def end(self) -> None:
        with self.lock:
            self._tick()
            self.stage = None
        self.redraw()

    def spent(self) -> float:
        return sum(self.state["seconds"].values())

    def line(self) -> str:
        with self.lock:
            self._tick()
            spent = self.spent()
        done = min(1.0, spent / self.budget) if self.budget > 0 else 1.0
        filled = int(round(done * BAR_WIDTH))
        parts = [f"learn [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:4.0%}",
                 self.stage or "between stages", f"{clock(self.budget - spent)} left"]
        if self.figure:
            parts.append(self.figure)
        return " | ".join(parts)

    def redraw(self) -> None:
        """The line again: in place on a terminal, as a new line into a file or a pipe."""
        if self.stream is None:
            return
        text = self.line()
        if self.tty:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r" + text[:width].ljust(width))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _loop(self) -> None:
        last_save = time.time()
        while not self.stop.wait(REDRAW_SECONDS if self.tty else REDRAW_SECONDS_NO_TTY):
            self.redraw()
            if time.time() - last_save >= SAVE_SECONDS:
                with self.lock:
                    self._tick()
                self.save()
                last_save = time.time()

    def __enter__(self) -> "Progress":
        if not self.quiet:  # (the real stderr: each stage's own output goes to its log)
            self.stream = sys.stderr
            self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.redraw()
        if self.stream is not None and self.tty:
            self.stream.write("\n")
