"""The ``eosfast`` click group.

Commands live one per module in this package and are imported only when run,
so ``eosfast --help`` stays instant although the kernels are heavy. Every
:class:`~eosfast.EosfastError` and every click usage error ends as a single
line on stderr and exit status 2.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys

import click

from eosfast._version import __version__

from . import RESUMABLE, command_name, resume_command, stopped_while_starting

#: command name -> (module in eosfast.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "grid": ("grid", "grid", "Iterate GD from every point of an (x0, y0, eta) grid."),
    "info": ("info", "info", "Summarise a result file."),
    "export": ("export", "export", "A grid file as Parquet or netCDF-4, streamed."),
    "bench": ("bench", "bench", "Throughput of the grid kernel against NumPy."),
    "trajectory": ("trajectory", "trajectory", "One GD run, every step recorded."),
    "bifurcation": ("bifurcation", "bifurcation", "Orbit diagram over a range of eta."),
    "plot": ("plot", "plot", "Plot a result file."),
    "figure": ("figure", "figure", "Regenerate a figure of the paper."),
    "fractal": ("fractal", "fractal", "Fractal dimension of a basin boundary."),
    "zoom": ("zoom", "zoom", "Nested grids toward a point."),
    "nets": ("nets", "nets", "Full-batch GD on small networks (paper Fig. 1)."),
    "models": ("models", "models", "Every model with its formula and source."),
    "refine": ("refine", "refine", "A basin map refined where the outcome changes."),
    "ensemble": ("ensemble", "ensemble",
                 "The vector case (Theorem 3.2) on many random initialisations."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx):
        return [name for name in COMMANDS if self._available(name)]

    @staticmethod
    def _available(name: str) -> bool:
        module = COMMANDS[name][0]
        return importlib.util.find_spec(f"eosfast.cli.{module}") is not None

    def get_command(self, ctx, name):
        if name not in COMMANDS or not self._available(name):
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"eosfast.cli.{module}"), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eosfast")
def cli() -> None:
    """eosfast: gradient descent at the edge of stability, compiled.

    Grids of (x0, y0, eta), trajectories, bifurcation diagrams, fractal basins
    and the figures of Zhu et al. (ICLR 2023), stored as HDF5.
    """


def say(message: str, code: int = 2, prefix: str = "error: ") -> int:
    """Print ``eosfast: error: message`` on one line; return the exit status ``code``."""
    message = " ".join(str(message).split())
    click.echo(f"eosfast: {prefix}{message}", err=True)
    return code


def fail(message: str, code: int = 2) -> None:
    """Print ``eosfast: error: message`` on one line and exit with ``code``."""
    sys.exit(say(message, code))


def flag_spelling(command: click.Command | None) -> dict[str, str]:
    """Python parameter name -> the long flag a user types (``eta_res`` -> ``--eta-res``)."""
    out: dict[str, str] = {}
    for p in getattr(command, "params", ()):
        if isinstance(p, click.Option) and p.name:
            longs = [o for o in p.opts if o.startswith("--")]
            out[p.name] = longs[0] if longs else p.opts[0]
    return out


def _raise_interrupt(signum, frame):
    """While a command works: every handled signal is a Ctrl-C (KeyboardInterrupt).

    If it lands where Python drops exceptions (a callback from C), the
    unraisable hook hands it to :func:`eosfast.interrupts.dropped`: it is
    raised again at the next checkpoint, or reported when the command returns.
    """
    import signal

    from eosfast.errors import Signalled

    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Signalled(signum)


def _quiet_unraisable(hook):
    """``sys.unraisablehook`` that keeps a dropped signal (raised again) and prints nothing."""
    def unraisable(info):
        if _interrupts is not None and _interrupts.dropped(info.exc_value):
            return
        hook(info)

    return unraisable


_interrupts = None  # eosfast.interrupts, imported by _catch_signals


def _catch_signals() -> dict | None:
    """Install :func:`_raise_interrupt` for Ctrl-C, SIGTERM and SIGHUP; the previous handlers.

    None outside the main thread (where Python allows no handlers).
    """
    import signal
    import threading

    from . import GUARDED, IGNORED, SIGNALS

    if threading.current_thread() is not threading.main_thread():
        return None
    global _interrupts
    from eosfast import interrupts as _interrupts  # before any signal can need it

    sys.unraisablehook = _quiet_unraisable(sys.unraisablehook)
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s, h in previous.items():
        ignored = s in IGNORED if GUARDED else h in (signal.SIG_IGN, None)
        if not ignored:
            signal.signal(s, _raise_interrupt)
    return previous


def _after(previous: dict | None, code: int) -> None:
    """Once the command is done: restore the handlers, or (in the command's own process)
    make any late signal end it at once with the status it already has: the work is
    saved, and a KeyboardInterrupt raised while Python shuts down would only print
    "Exception ignored" traces."""
    import os
    import signal

    from . import GUARDED

    if previous is None:
        return
    if GUARDED:
        def leave(signum, frame):  # pragma: no cover - runs in the command's process
            os._exit(code)

        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        for s, h in previous.items():
            if h != signal.SIG_IGN:
                signal.signal(s, leave)
    else:
        for s, h in previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


def usage(ctx: click.Context | None) -> str:
    """What ``eosfast`` alone prints: the usage line and the commands (not the whole help)."""
    ctx = ctx or click.Context(cli, info_name="eosfast")
    formatter = ctx.make_formatter()
    cli.format_usage(ctx, formatter)
    cli.format_commands(ctx, formatter)
    return (formatter.getvalue().rstrip() + "\n\nRun 'eosfast COMMAND --help' for the options "
            "of a command, 'eosfast --help' for more.")


@contextlib.contextmanager
def _notes_on_one_line():
    """While a command runs, an :class:`eosfast.errors.Note` prints as
    ``eosfast: note: ...`` (one line), not as a warning with its source line."""
    import warnings

    from eosfast.errors import Note

    show = warnings.showwarning

    def note(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, Note):
            click.echo(f"eosfast: note: {' '.join(str(message).split())}", err=True)
        else:
            show(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.showwarning = note
        warnings.simplefilter("always", Note)
        yield


def _written():
    """The last output this process renamed into place, if any (without importing the store)."""
    atomic = sys.modules.get("eosfast.store.atomic")
    written = getattr(atomic, "WRITTEN", None)
    return written[-1] if written else None


def run(argv: list[str]) -> int:
    """Run the group on ``argv``; every user error becomes one line. The exit status."""
    from eosfast.errors import (
        RESUME_HINT,
        EosfastError,
        Interrupted,
        InvalidArgument,
        signal_name,
        signal_number,
    )

    def one_line(message: str, code: int = 2, prefix: str = "error: ") -> int:
        return say(message.replace(RESUME_HINT, f"run `{resume_command(argv)}`"), code, prefix)

    atomic = sys.modules.get("eosfast.store.atomic")
    if atomic is not None:  # another command of this process (tests) wrote those
        atomic.WRITTEN.clear()

    try:
        # not cli.main(): it turns a KeyboardInterrupt (and so SIGTERM) into a bare Abort
        with cli.make_context("eosfast", list(argv)) as ctx, _notes_on_one_line():
            rv = cli.invoke(ctx)
        sig = _interrupts.lost() if _interrupts is not None else None
        if sig is not None:  # a signal whose exception Python dropped, after the last checkpoint
            return say(f"stopped by {signal_name(sig)} as the command finished (its output "
                       "is complete)", 128 + sig, "")
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(usage(exc.ctx), err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("eosfast: stopped by Ctrl-C", err=True)
        return 130
    except click.ClickException as exc:
        return say(exc.format_message(), exc.exit_code)
    except InvalidArgument as exc:
        name = next((a for a in argv if a in COMMANDS), None)
        command = cli.get_command(None, name) if name else None
        return one_line(exc.render(flag_spelling(command)))
    except EosfastError as exc:
        return one_line(str(exc))
    except Interrupted as exc:
        message = str(exc)
        if command_name(argv) in RESUMABLE and RESUME_HINT not in message:
            message += f"; {RESUME_HINT} to start it again"  # a .part of earlier runs, or none
        return one_line(message, exc.exit_status, prefix="")
    except KeyboardInterrupt as exc:  # before a writer had anything to keep, or after it
        sig = signal_number(exc)
        written = _written()
        if written is not None:  # the output is in place: only the summary was left
            return say(f"stopped by {signal_name(sig)} after {written} was written (it is "
                       "complete)", 128 + sig, "")
        click.echo(f"eosfast: {stopped_while_starting(sig, argv)}", err=True)
        return 128 + sig
    except BrokenPipeError:  # e.g. `eosfast info g.h5 | head -1`: nothing more to say
        import os

        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return rv if isinstance(rv, int) else 0


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group, turning user errors into one line and exit 2.

    A signal (Ctrl-C, SIGTERM, SIGHUP) stops a command with one line and exit
    status ``128 + signal`` (130 for Ctrl-C), its finished work kept as
    resumable where the command can resume.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    code = 1
    previous = _catch_signals()
    try:
        code = run(argv)
    except KeyboardInterrupt as exc:  # between two statements of run() itself
        from eosfast.errors import signal_number

        sig = signal_number(exc)
        click.echo(f"eosfast: {stopped_while_starting(sig, argv)}", err=True)
        code = 128 + sig
    finally:
        _after(previous, code)
    sys.exit(code)


if __name__ == "__main__":
    main()
