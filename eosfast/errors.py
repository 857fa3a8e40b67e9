"""Exceptions that the command line turns into a one-line message.

:class:`EosfastError` (a ``ValueError``) is anything the user can fix: bad
input or an unusable file; the command line prints it on one line and exits
with status 2. :class:`InvalidArgument` names the argument at fault, so that
the same error reads ``eta_res must be ...`` from Python and
``--eta-res must be ...`` from the command line. :class:`Interrupted` is a run
stopped by a signal whose finished work is saved (exit status 128 + the
signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

from collections.abc import Mapping


class EosfastError(ValueError):
    """Bad input or an unusable file: the user can fix it, no traceback needed."""


class Note(UserWarning):
    """Something the user should know that is not an error (the command line prints
    ``eosfast: note: ...`` on one line), e.g. which step size a near ``--eta`` took."""


class InvalidArgument(EosfastError, TypeError):
    """An argument of an API call is invalid.

    The message is a template whose ``{name}`` fields are argument names;
    ``str()`` shows them as Python names, :meth:`render` with any other
    spelling (the command line passes its flags).

    Parameters
    ----------
    template : str
        Message with ``{arg}`` fields, e.g. ``"{eta_range} needs {eta_res}"``.
    *names : str
        The argument names the template uses (the first is the one at fault).
    """

    def __init__(self, template: str, *names: str):
        self.template = template
        self.names = names
        super().__init__(self.render({}))

    @property
    def name(self) -> str:
        """The argument at fault (its Python name)."""
        return self.names[0] if self.names else ""

    def render(self, spelling: Mapping[str, str]) -> str:
        """The message with each argument name spelled as ``spelling`` says (default: as is)."""
        return self.template.format(**{n: spelling.get(n, n) for n in self.names})


#: How every message about kept work says to continue it; the command line
#: replaces it with the exact command to run.
RESUME_HINT = "rerun the same command with --resume"


class Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread as Ctrl-C is (see ``eosfast.cli.main``).

    A subclass of ``KeyboardInterrupt`` so that every clean-up written for
    Ctrl-C runs for them too.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def signal_number(exc: BaseException) -> int:
    """The signal behind an interrupt: ``exc.signum``, or SIGINT (2) for a plain Ctrl-C."""
    return int(getattr(exc, "signum", 2))


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, ...; Ctrl-C for SIGINT."""
    import signal

    if signum == signal.SIGINT:
        return "Ctrl-C"
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(Exception):
    """A run stopped by a signal (Ctrl-C, SIGTERM, SIGHUP); what finished is saved.

    Parameters
    ----------
    message : str
        What was saved and how to continue (one line).
    signum : int
        The signal (2 for Ctrl-C); the command line exits with ``128 + signum``.
    """

    def __init__(self, message: str, signum: int = 2):
        super().__init__(message)
        self.signum = int(signum)

    @property
    def exit_status(self) -> int:
        """The shell's convention for a process stopped by a signal: 128 + its number."""
        return 128 + self.signum
