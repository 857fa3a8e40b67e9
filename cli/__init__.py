"""The ``eosfast`` command line (installed as ``eosfast.cli``): thin click commands.

Signals, from the first line the command runs to its last: while it starts
(imports) and after its work is done, Ctrl-C, SIGTERM and SIGHUP end the
process at once with one line and status ``128 + signal`` (nothing is being
written then); while a command works, :func:`eosfast.cli.main.main` turns
them into ``KeyboardInterrupt`` so that every writer keeps its finished work
and says how to resume. A signal the shell started us ignoring (``nohup``,
background jobs) stays ignored.
"""

import os as _os
import signal as _signal
import sys as _sys

#: The signals handled like Ctrl-C.
SIGNALS = tuple(getattr(_signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(_signal, n))


def _started_as_command() -> bool:
    """Whether this process is the ``eosfast`` command (console script or ``python -m``).

    ``python -m eosfast.cli.main`` imports this package while ``sys.argv[0]``
    is still ``"-m"``; the console script's ``argv[0]`` is the script itself.
    """
    argv0 = _sys.argv[0] if _sys.argv else ""
    return argv0 == "-m" or _os.path.basename(argv0) in ("eosfast", "eosfast.exe",
                                                         "eosfast-script.py")


#: Commands that write their output piece by piece and continue it with ``--resume``.
RESUMABLE = frozenset({"grid", "zoom", "refine", "ensemble"})


def command_name(argv: list[str]) -> str | None:
    """The command of an ``eosfast`` argument list (its first word not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def resume_command(argv: list[str]) -> str:
    """The command line that continues this run: the same arguments and ``--resume``."""
    import shlex

    args = list(argv) + ([] if "--resume" in argv else ["--resume"])
    return shlex.join(["eosfast", *args])


def stopped_while_starting(signum: int, argv: list[str]) -> str:
    """What a command stopped before its work began says (without ``eosfast: ``)."""
    name = "Ctrl-C" if signum == _signal.SIGINT else _signal.Signals(signum).name
    line = f"stopped by {name} while starting (nothing was written)"
    if command_name(argv) in RESUMABLE and not {"-h", "--help"} & set(argv):
        # a .part from an earlier run is continued, or the run starts afresh
        line += f"; run `{resume_command(argv)}` to continue"
    return line


def _stop_at_start(signum, frame):  # pragma: no cover - runs in the command's process
    try:
        _os.write(2, f"eosfast: {stopped_while_starting(signum, _sys.argv[1:])}\n".encode())
    finally:
        _os._exit(128 + signum)


#: Signals ignored when the process started: they are left ignored.
IGNORED = frozenset(s for s in SIGNALS if _signal.getsignal(s) == _signal.SIG_IGN)

#: Whether the start-up guard is installed (this process is the command).
GUARDED = _started_as_command()

if GUARDED:
    for _s in SIGNALS:
        if _s not in IGNORED:
            try:
                _signal.signal(_s, _stop_at_start)
            except ValueError:  # pragma: no cover - imported outside the main thread
                GUARDED = False
