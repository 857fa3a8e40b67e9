"""Pieces shared by the commands: the progress bar and common options."""

from __future__ import annotations

import contextlib
import sys

import click

from eosfast import defaults as D

quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")

#: What --model accepts (the same words in every command's help).
MODEL_HELP = ("A registry name (zhu4, deg3, deg2, deg6, chen_bruna, catapult, kreisler, "
              "song_yun: see `eosfast models`) or a loss L(x, y) written as an expression, "
              "e.g. \"log(cosh(1 - x**2*y**2))\": plain GD on it.")


def model_options(command):
    """``--model`` and ``--param NAME=VALUE`` (repeatable), passed as ``model, model_params``."""
    command = click.option(
        "--param", "model_params", multiple=True, metavar="NAME=VALUE",
        help="A parameter of the expression (or of a registry expression model); "
             "repeatable.")(command)
    return click.option("--model", default=D.MODEL, show_default=True,
                        help=MODEL_HELP)(command)


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
