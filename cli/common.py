"""Pieces shared by the commands: the progress bar and common options."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import click

from eosfast import defaults as D

quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")

def _model_help() -> str:
    """What --model accepts, with the registry's names read from the registry."""
    from eosfast.models import MODELS

    return (f"A registry name ({', '.join(MODELS)}: see `eosfast models`) or a loss "
            "L(x, y) written as an expression, e.g. \"log(cosh(1 - x**2*y**2))\": plain GD "
            "on it.")


#: What --model accepts (the same words in every command's help).
MODEL_HELP = _model_help()


#: What --tol means (every command that runs the map).
TOL_HELP = ("Converged when |1 - P| < tol (networks), or max |grad L| < tol at a minimum "
            "(expressions and the other registry models).")


def model_options(command):
    """``--model`` and ``--param NAME=VALUE`` (repeatable), passed as ``model, model_params``."""
    command = click.option(
        "--param", "model_params", multiple=True, metavar="NAME=VALUE",
        help="A parameter of the expression (or of a registry expression model); "
             "repeatable.")(command)
    return click.option("--model", default=D.MODEL, show_default=True,
                        help=MODEL_HELP)(command)


def stop_rule_options(command=None, *, steps: int = D.STEPS, tol: float = D.TOL):
    """``--steps --tol --escape --max-period --period-tol``: when GD stops (a StopRule).

    Used bare (``@stop_rule_options``) with the shared defaults; a command
    whose runs need another cap or tolerance names them
    (``@stop_rule_options(steps=..., tol=...)``) and says why in its help.
    """
    def decorate(command):
        for opt in reversed([
            click.option("--steps", type=int, default=steps, show_default=True,
                         help="Step cap."),
            click.option("--tol", type=float, default=tol, show_default=True, help=TOL_HELP),
            click.option("--escape", type=float, default=D.ESCAPE, show_default=True,
                         help="Diverged when |x| or |y| > escape or not finite."),
            click.option("--max-period", type=int, default=D.MAX_PERIOD, show_default=True,
                         help="Longest cycle searched in orbits still bounded at the cap."),
            click.option("--period-tol", type=float, default=D.PERIOD_TOL, show_default=True,
                         help="A cycle of period k >= 2 must close to this fraction of its "
                              "extent."),
        ]):
            command = opt(command)
        return command

    return decorate if command is None else decorate(command)


def optimizer_options(command):
    """``--optimizer --beta --eta-x --eta-y``: how the points move (an Optimizer)."""
    from eosfast.optimizer import METHODS

    for opt in reversed([
        click.option("--optimizer", type=click.Choice(METHODS), default="gd",
                     show_default=True,
                     help="gd, momentum (heavy-ball: w' = w - eta grad L + beta (w - w_prev)) "
                          "or nesterov (the gradient at w + beta (w - w_prev)); from rest. "
                          "See docs/optimizers.md."),
        click.option("--beta", type=float, default=None,
                     help="Momentum, in [0, 1) (needed by momentum and nesterov)."),
        click.option("--eta-x", type=float, default=None,
                     help="Step size of the layers carrying x (default: --eta)."),
        click.option("--eta-y", type=float, default=None,
                     help="Step size of the layers carrying y (default: --eta)."),
    ]):
        command = opt(command)
    return command


#: ``--threads``, ``--scheduler``, ``--backend``: where the points are computed.
threads_option = click.option(
    "--threads", type=int, default=None,
    help="Threads (default: all cores); split over the N processes of local:N, ignored for "
         "tcp:// (each worker's --nthreads decides).")
scheduler_option = click.option(
    "--scheduler", default=None, metavar="ADDRESS",
    help="dask scheduler tcp://host:port, or local:N for N local worker processes (extra "
         "eosfast[dask]); the same results.")
backend_option = click.option(
    "--backend", type=click.Choice(D.BACKENDS), default=D.BACKEND, show_default=True,
    help="cuda: the same kernel on this machine's NVIDIA GPU (extra eosfast[cuda]; "
         "bit-identical results, see docs/gpu.md).")


def compute_options(command):
    """``--threads --scheduler --backend``: where the points are computed."""
    for opt in reversed([threads_option, scheduler_option, backend_option]):
        command = opt(command)
    return command


def output_options(default: str, resume_help: str = "Continue an interrupted run of the "
                                                    "same parameters.",
                   force_help: str = "Replace an existing output file."):
    """``-o/--out --force --resume``, with the command's default file name."""
    def decorate(command):
        for opt in reversed([
            click.option("-o", "--out", default=default, show_default=True,
                         help="Output HDF5 file."),
            click.option("--force", is_flag=True, help=force_help),
            click.option("--resume", is_flag=True, help=resume_help),
        ]):
            command = opt(command)
        return command

    return decorate


#: ``--insist``: run although the size estimate says it will not fit.
insist_option = click.option(
    "--insist", is_flag=True,
    help="Run even when the estimated memory or file size exceeds what is free.")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def terminal_width(stream: TextIO) -> int:
    """Columns of the terminal ``stream`` writes to (80 when unknown)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size((80, 24)).columns


def _si(value: float) -> str:
    """3 significant digits with a k/M/G/T suffix: ``3.41M``."""
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.3g}{suffix}"
    return f"{value:.3g}"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """A one-line progress bar on a terminal: ``progress(done, total, info=None)``.

    Rates and the time left count only the work done since the first call
    (a resumed run's first call reports the work found done, which took no
    time in this run). ``info`` (see :mod:`eosfast.progress`) adds the
    current step size (``eta``), the rate in points and GD iterations per
    second (``points``, ``iterations``) and what is being done (``what``).
    The line never exceeds the terminal's width; it is redrawn at most
    every ``interval`` seconds (and always at the end).

    Parameters
    ----------
    label : str
    stream : text stream
        A terminal (stderr).
    width : int, optional
        Columns; default the terminal's, read at each redraw.
    clock : callable
        Seconds (monotonic); replaceable for tests.
    interval : float
        Least seconds between redraws.
    """

    def __init__(self, label: str, stream: TextIO, *, width: int | None = None,
                 clock: Callable[[], float] = time.monotonic, interval: float = 0.1):
        self.label = label
        self.stream = stream
        self.width = width
        self.clock = clock
        self.interval = interval
        self.start: tuple[float, int, dict] | None = None
        self.last_draw = -float("inf")
        self.drawn = False
        self.line = ""

    # -------------------------------------------------------------- numbers

    def rates(self, done: int, info: dict, now: float) -> dict[str, float]:
        """Per-second rates of this run's work: ``units``, and ``points`` / ``iterations``."""
        t0, done0, info0 = self.start
        dt = now - t0
        if dt <= 0:
            return {}
        out = {"units": (done - done0) / dt}
        for key in ("points", "iterations"):
            if key in info:
                out[key] = (info[key] - info0.get(key, 0)) / dt
        return out

    def remaining(self, done: int, total: int, now: float) -> float | None:
        """Seconds left at this run's pace, None before any work of this run is done."""
        t0, done0, _ = self.start
        if done <= done0 or now <= t0:
            return None
        return (total - done) * (now - t0) / (done - done0)

    def render(self, done: int, total: int, info: dict, now: float, width: int) -> str:
        """The line for this state, at most ``width - 1`` characters."""
        frac = done / total if total > 0 else 1.0
        head = self.label
        if "what" in info:
            head += f" {info['what']}"
        tail = [f"{100 * frac:3.0f}%"]
        extra = []
        if "eta" in info:
            extra.append((3, f"eta {info['eta']:.6g}"))
        r = self.rates(done, info, now)
        if "points" in r and r["points"] > 0:
            extra.append((2, f"{_si(r['points'])} pts/s"))
        if "iterations" in r and r["iterations"] > 0:
            extra.append((1, f"{_si(r['iterations'])} it/s"))
        left = self.remaining(done, total, now)
        if done >= total:
            extra.append((4, f"in {_clock(now - self.start[0])}"))
        elif left is not None:
            extra.append((4, f"ETA {_clock(left)}"))
        # drop the least important pieces until a bar of 10 fits
        while True:
            text = "  ".join([*tail, *(t for _, t in extra)])
            room = width - 1 - len(head) - len(text) - 5
            if room >= 10 or not extra:
                break
            extra.remove(min(extra))
        room = min(max(room, 0), 40)
        if room >= 3:
            fill = int(round(frac * room))
            bar = f" [{'#' * fill}{'-' * (room - fill)}] "
        else:
            bar = " "
        return (head + bar + text)[: max(width - 1, 1)]

    # -------------------------------------------------------------- drawing

    def __call__(self, done: int, total: int, info: dict[str, Any] | None = None) -> None:
        info = dict(info or {})
        now = self.clock()
        if self.start is None:
            self.start = (now, done, info)
        if done < total and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        width = self.width or terminal_width(self.stream)
        line = self.render(done, total, info, now, width)
        pad = max(0, len(self.line) - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self.line = line
        self.drawn = True

    def close(self) -> None:
        """End the line (the next output starts on a fresh one)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


@contextlib.contextmanager
def progress_reporter(label: str, quiet: bool = False, stream: TextIO | None = None,
                      interval: float = 0.1):
    """Yield a progress callback drawing a :class:`ProgressBar` on stderr.

    Silent (yields None) with ``--quiet`` or when stderr is not a terminal.
    ``interval``: least seconds between redraws (0: every call, for few slow steps).
    """
    stream = sys.stderr if stream is None else stream
    if quiet or not _is_terminal(stream):
        yield None
        return
    bar = ProgressBar(label, stream, interval=interval)
    try:
        yield bar
    finally:
        bar.close()
