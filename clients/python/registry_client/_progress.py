"""A progress bar for long transfers, drawn with rich when it is installed (the `cli` or
`progress` extra) and stderr is a terminal; otherwise nothing is drawn."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ProgressHook:
    """What a transfer reports: bytes done, or starting over (a retried attempt)."""

    def advance(self, done: int) -> None:
        pass

    def restart(self) -> None:
        pass


class _RichHook(ProgressHook):
    def __init__(self, progress: Any, task: Any) -> None:
        self._progress = progress
        self._task = task

    def advance(self, done: int) -> None:
        self._progress.advance(self._task, done)

    def restart(self) -> None:
        self._progress.reset(self._task)


@contextmanager
def progress_bar(description: str, total: int, enabled: bool) -> Iterator[ProgressHook]:
    if not enabled or not sys.stderr.isatty():
        yield ProgressHook()
        return
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:  # rich is optional: the transfer goes ahead without a bar
        yield ProgressHook()
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        yield _RichHook(progress, progress.add_task(description, total=total))
