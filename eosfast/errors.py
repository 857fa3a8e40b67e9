"""Exceptions that the command line turns into a one-line message and exit 2."""


class EosfastError(ValueError):
    """Bad input or an unusable file: the user can fix it, no traceback needed."""


class Interrupted(Exception):
    """A run stopped by Ctrl-C; what finished is saved and can be resumed."""
