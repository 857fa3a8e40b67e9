"""Pieces shared by the commands: the progress bar and common options."""

from __future__ import annotations

import contextlib
import sys

import click

quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")


@contextlib.contextmanager
def progress_reporter(label: str, quiet: bool = False):
    """Yield a ``progress(done, total)`` callback drawing a bar with ETA on stderr.

    Silent (yields None) with ``--quiet`` or when stderr is not a terminal.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, show_eta=True,
                                    show_percent=True, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
