"""Ctrl-C, SIGTERM and SIGHUP while a file is being written: a request, honoured where it is safe.

Python runs a signal handler in the main thread between two bytecodes,
wherever that thread is. While a writer's HDF5 file is open that can be
inside HDF5 itself: the file sits on a Python file object
(:class:`eosfast.store.h5.GuardedFile`), so HDF5's C code calls back into
Python for every read and write, and a handler that raises there aborts an
HDF5 operation half done. The file is then closed from a broken state
(``RuntimeError: Can't decrement id ref count``: issue 18), or a level is
left half-written. The same holds for Numba compiling a kernel: LLVM calls
back into Python through ctypes, which prints and swallows an exception
raised there, so the signal is lost and the run goes on.

So a writer runs inside :func:`deferred`: there the handled signals only
record themselves, and the writer raises the request itself with
:func:`checkpoint` where nothing is half done (between tiles, after a
kernel is compiled). While it waits for workers, which touches no file, it
opens :func:`allowed`, where a signal raises at once as usual. Outside
:func:`deferred` nothing changes, and in threads other than the main one
every function here does nothing (signals reach only the main thread).

What is raised is what the handler would have raised: ``KeyboardInterrupt``
for Ctrl-C, :class:`~eosfast.errors.Signalled` (a ``KeyboardInterrupt``)
carrying the signal number for SIGTERM and SIGHUP, so every clean-up
written for Ctrl-C runs, and the command exits with 128 + the signal.

A raise can still be lost: a handler that runs inside a callback Python
calls from C (a weakref callback of the import system, a ctypes callback,
``__del__``) has its exception passed to ``sys.unraisablehook`` and
dropped. The command line's hook hands such a signal to :func:`dropped`,
and it is raised again at the next :func:`checkpoint` (or on entering
:func:`deferred` or :func:`allowed`); the command line checks for one when
the command returns (:func:`lost`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from .errors import Signalled

#: The signals a writer defers (those the command line turns into a stop).
SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, n))


class _State:
    depth = 0                 # nested deferred() blocks
    allowed = 0               # nested allowed() blocks inside them
    first = False             # hold_first_piece() waiting for saved(): allowed() stays shut
    pending: int | None = None
    lost: int | None = None   # raised where Python dropped the exception
    previous: dict = {}


_state = _State()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _exception(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Signalled(signum)


def dropped(exc: BaseException) -> bool:
    """Python dropped ``exc`` (``sys.unraisablehook``): keep it if it was a signal's.

    Returns whether it was (then it is raised again at the next checkpoint).
    """
    if not isinstance(exc, KeyboardInterrupt):
        return False
    if _state.lost is None:
        _state.lost = int(getattr(exc, "signum", signal.SIGINT))
    return True


def lost() -> int | None:
    """A signal whose exception Python dropped, not raised again since; clears it."""
    signum, _state.lost = _state.lost, None
    return signum


def _record(signum, frame) -> None:
    if _state.allowed:
        _state.pending = None
        raise _exception(signum)
    if _state.pending is None:  # the first signal is the one reported
        _state.pending = signum


def pending() -> int | None:
    """The signal received and not yet raised inside :func:`deferred`, if any."""
    return _state.pending


def checkpoint() -> None:
    """Raise the signal received inside :func:`deferred`, if one was; else nothing.

    Call it where the writer's state is whole (a tile written, a kernel
    compiled).
    """
    if not _main_thread():
        return
    signum = _state.pending if _state.pending is not None else _state.lost
    if signum is not None:
        _state.pending = _state.lost = None
        raise _exception(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Signals inside the block are recorded, and raised by :func:`checkpoint`.

    Only signals whose handler is Python code are deferred (the command
    line's, or Python's own Ctrl-C); one left at the system's default or
    ignored stays so. A signal still unraised when the block ends normally is
    raised then, after the block's own clean-up. Nested blocks are one block.
    """
    if not _main_thread():
        yield
        return
    outer = _state.depth == 0
    if outer:
        checkpoint()  # a signal raised before, whose exception was dropped
        _state.pending = None
        _state.previous = {}
        for s in SIGNALS:
            h = signal.getsignal(s)
            if callable(h):
                _state.previous[s] = h
                signal.signal(s, _record)
    _state.depth += 1
    ok = False
    try:
        yield
        ok = True
    finally:
        _state.depth -= 1
        if outer:
            for s, h in _state.previous.items():
                signal.signal(s, h)
            _state.previous = {}
            signum, _state.pending = _state.pending, None
            if ok and signum is not None:
                raise _exception(signum)


@contextlib.contextmanager
def allowed() -> Iterator[None]:
    """Inside :func:`deferred`: a block that touches no open file, where signals raise at once.

    A signal already received raises on entry. Never put a ``yield`` of a
    generator inside it: the block would stay open while the consumer writes.
    """
    if _state.depth == 0 or not _main_thread() or _state.first:
        yield
        return
    checkpoint()
    _state.allowed += 1
    try:
        yield
    finally:
        _state.allowed -= 1


def hold_first_piece() -> None:
    """Inside :func:`deferred`: until :func:`saved`, :func:`allowed` blocks do not open.

    A signal that arrives while a run waits for its first piece (a tile, a
    refine round) then stops it at the :func:`checkpoint` after that piece is
    written, not at once: a run stopped a few seconds in, again and again,
    still saves something each time (issue 24). The wait is one piece at
    most, a few seconds. :class:`eosfast.store.run.Run` holds from
    :meth:`~eosfast.store.run.Run.started`.
    """
    if _main_thread():
        _state.first = True


def saved() -> None:
    """A piece is saved (or the work left is no piece): end :func:`hold_first_piece`."""
    if _main_thread():
        _state.first = False
