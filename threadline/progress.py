"""Progress bars of long work on the operator's terminal: counts, rate and time left.

``ProgressDisplay`` hands out ``bot.ports.progress.ProgressCallback`` functions, one per line
(``track("mailbox support")``). It draws with rich only when its stream (standard error by
default) is a terminal; otherwise every callback does nothing, so logs and pipes never get
control characters. A line appears when its work starts and stays, finished, when it ends;
the live display runs only while some work is unfinished. Callbacks may be called from any
thread (the IMAP readers run in their own). When a line editor owns the terminal (the local
surface's prompt), ``embed()`` stops the drawing, hands out the text to show in its place and
prints each finished line once, with its count, time and rate.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from bot.ports.progress import ProgressCallback

__all__ = ["ProgressDisplay"]


class _RateColumn(ProgressColumn):
    """Items per second, as measured by rich over the last moments."""

    def render(self, task: Task) -> Text:
        """``123/s`` (or ``–/s`` before there is a measure)."""
        return Text(_rate(task))


def _rate(task: Task) -> str:
    speed = task.finished_speed or task.speed
    return "–/s" if speed is None else f"{speed:,.0f}/s" if speed >= 10 else f"{speed:.1f}/s"


class ProgressDisplay:
    """Progress lines on ``stream`` (default standard error) when it is a terminal; silent otherwise.

    Use as a context manager (``with ProgressDisplay() as shown:``) or call ``close()``: both stop
    the live display, leaving the last state of every line on screen.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        out = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(out)
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}  # the lines of the work now shown
        self._embedded: Callable[[str], None] | None = None  # prints finished lines once embedded
        self._progress: Progress | None = None
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=Console(file=out),
                redirect_stdout=False,
                redirect_stderr=False,
            )

    def track(self, label: str) -> ProgressCallback:
        """A callback drawing the line ``label``; each new round of work (``done`` back at 0) restarts it."""

        def report(done: int, total: int) -> None:
            if self._progress is not None and total > 0:  # no work, no line
                self._update(label, done, total)

        return report

    def _update(self, label: str, done: int, total: int) -> None:
        progress = self._progress
        assert progress is not None
        with self._lock:
            task = self._tasks.get(label)
            if task is None:  # a new round: a fresh line (its rate and time left start over)
                task = progress.add_task(label, total=total)
                self._tasks[label] = task
                if len(self._tasks) == 1 and self._embedded is None:
                    progress.start()
            elif done < total and _task(progress, task).finished:  # a new round while other lines run
                progress.reset(task, total=total)
            progress.update(task, completed=done, total=total)
            if done >= total and self._embedded is not None:
                self._embedded(_finished_line(_task(progress, task)))
            if done >= total and all(t.finished for t in progress.tasks):
                self._stop()

    def _stop(self) -> None:
        """Stop the live display; its lines stay on screen as they were, and are forgotten here."""
        assert self._progress is not None
        if self._embedded is None:
            self._progress.stop()
        for task in list(self._tasks.values()):
            self._progress.remove_task(task)
        self._tasks.clear()

    def embed(self, printer: Callable[[str], None]) -> Callable[[], str]:
        """Draw nothing from now on; the returned function gives the unfinished lines as plain text
        (``mailbox support 120/5,000 · 350/s · eta 0:00:14``, one per line; empty when nothing runs)
        for a line editor to show, e.g. as the prompt's bottom toolbar. ``printer`` gets each line
        once when it finishes (``mailbox support 5,000/5,000 in 0:00:14 · 350/s``); not on a terminal,
        neither ever has anything to show."""
        with self._lock:
            if self._progress is not None and self._tasks:
                self._stop()
            self._embedded = printer
        return self._summary

    def _summary(self) -> str:
        if self._progress is None:
            return ""
        with self._lock:
            lines = []
            for task in self._progress.tasks:
                if not task.finished:
                    left = task.time_remaining
                    eta = "–" if left is None else str(timedelta(seconds=int(left)))
                    done, total = f"{task.completed:,.0f}", f"{task.total or 0:,.0f}"
                    lines.append(f"{task.description} {done}/{total} · {_rate(task)} · eta {eta}")
            return "\n".join(lines)

    def close(self) -> None:
        """Stop drawing (the lines keep their last state)."""
        with self._lock:
            if self._progress is not None and self._tasks:
                self._stop()

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _finished_line(task: Task) -> str:
    spent = str(timedelta(seconds=int(task.finished_time or task.elapsed or 0)))
    return f"{task.description} {task.completed:,.0f}/{task.total or 0:,.0f} in {spent} · {_rate(task)}"


def _task(progress: Progress, task_id: TaskID) -> Task:
    return next(task for task in progress.tasks if task.id == task_id)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or a stream without a file behind it
        return False
