"""Exceptions that the command line turns into a one-line message.

:class:`EosfastError` (a ``ValueError``) is anything the user can fix: bad
input or an unusable file; the command line prints it on one line and exits
with status 2. :class:`InvalidArgument` names the argument at fault, so that
the same error reads ``eta_res must be ...`` from Python and
``--eta-res must be ...`` from the command line. :class:`Interrupted` is a run
stopped by a signal whose finished work is saved (exit status 130).
"""

from __future__ import annotations

from collections.abc import Mapping


class EosfastError(ValueError):
    """Bad input or an unusable file: the user can fix it, no traceback needed."""


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


class Interrupted(Exception):
    """A run stopped by a signal (Ctrl-C, SIGTERM, SIGHUP); what finished is saved."""
