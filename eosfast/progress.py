"""Progress callbacks of the long-running functions.

Every long function takes ``progress``, a callable called as
``progress(done, total)`` (both ints, in the function's own units: tiles,
step sizes, steps). A callback that also accepts a keyword argument
``info`` (or ``**kwargs``) is called as ``progress(done, total, info=info)``
with a dict saying more about the work; the keys a function may set:

``eta``
    The step size of the work just finished (float).
``points``
    Grid points computed so far *in this call* (int; a resumed run starts
    from 0, so a rate computed from it counts only this run's work).
``iterations``
    GD steps run so far in this call (int).
``what``
    What is being done now, for people (``"fig2b"``, ``"filmstrip"``).

Plain ``progress(done, total)`` callbacks keep working unchanged (the same
rule as SciPy's ``callback(intermediate_result=...)``). The command line's
bar (:mod:`eosfast.cli.common`) uses ``info`` for its rate and current step
size.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

#: A progress callback as the functions call it.
Notify = Callable[..., None]


def takes_info(callback: Callable) -> bool:
    """Whether ``callback`` accepts the keyword argument ``info``."""
    try:
        params = inspect.signature(callback).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return any(p.kind is p.VAR_KEYWORD or (p.name == "info" and p.kind in (
        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)) for p in params)


def notifier(callback: Callable | None) -> Notify | None:
    """``callback`` as a function always callable as ``f(done, total, info=...)``.

    ``info`` is passed on only to callbacks that accept it (:func:`takes_info`).
    """
    if callback is None:
        return None
    if takes_info(callback):
        return callback

    def plain(done: int, total: int, info: dict[str, Any] | None = None) -> None:
        callback(done, total)

    return plain
