"""What every long run shares: the output, signals, resume checks, the size check, the stop line.

grid, zoom and refine write a file piece by piece (tiles, pieces of a level)
and can be stopped and resumed. This module is the frame they share:

- :class:`Run`: the output (:class:`~eosfast.store.atomic.Output`: lock,
  ``.part``, rename), signals turned into requests honoured between pieces
  (:mod:`eosfast.interrupts`), a ``--resume`` of a file left under its
  final name, the comparison of the stored parameters with the requested
  ones (each one that differs named), and the one line a stop ends with;
- :class:`Estimate`: a run's peak memory and file size, checked against what
  this machine has free before any work, refused in one line naming the flag
  to change.

Each command keeps only what is its own: what a piece is, how it is
computed and written (:mod:`~eosfast.store.gridfile`,
:mod:`~eosfast.store.zoomfile`, :mod:`~eosfast.store.refinefile`), and the
one intactness check (:mod:`~eosfast.store.integrity`) decides which saved
pieces a resume keeps.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import interrupts
from ..errors import RESUME_HINT, Interrupted, InvalidArgument, signal_name, signal_number
from .atomic import Output

#: Share of the memory available (or the disk free) one run may plan to use.
SHARE = 0.8


def memory_available() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None.

    ``MemAvailable`` counts the page cache the kernel would drop, which
    ``sysconf(SC_AVPHYS_PAGES)`` (free pages only) leaves out: after writing a
    few large files the latter can be a tenth of what a run can really use.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


@dataclass(frozen=True)
class Estimate:
    """A run's expected peak memory and file size, in bytes, and how it was made.

    Attributes
    ----------
    memory, disk : int
        Bytes (peak resident memory of the arrays, size of the output file).
    what : str
        The work, as the message names it, ending in a relative pronoun:
        ``"{levels} 9 on a 1025-point base means about 23 million points, which"``
        (``{name}`` is shown as the argument's name, or ``--flag`` on the command line).
    names : tuple of str
        The arguments that make the run larger (the first is the one to change),
        shown as ``--flag`` on the command line.
    points : int
        The points the estimate counts (0 when it counts none).
    """

    memory: int
    disk: int
    what: str
    names: tuple[str, ...]
    points: int = 0

    def check(self, out: Path | None, insist: bool = False) -> None:
        """Refuse a run that will not fit this machine (unless ``insist``).

        Raises
        ------
        InvalidArgument
            One line: the estimate, what is free, the argument to change and
            ``insist`` (``--insist``) to run anyway.
        """
        if insist:
            return
        avail = memory_available()
        first = "{" + self.names[0] + "}"
        hint = f"use a smaller {first}, or {{insist}} to run anyway"
        if avail is not None and self.memory > SHARE * avail:
            raise InvalidArgument(f"{self.what} need an estimated {_gib(self.memory)} of "
                                  "memory, "
                                  f"more than the {_gib(avail)} available; {hint}",
                                  *self.names, "insist")
        if out is not None:
            folder = out.parent if str(out.parent) else Path(".")
            try:
                free = shutil.disk_usage(folder).free
            except OSError:
                return  # the output's own checks say what is wrong with the folder
            if self.disk > SHARE * free:
                raise InvalidArgument(f"{self.what} need an estimated {_gib(self.disk)} on "
                                      f"disk, more than the {_gib(free)} free in {folder}; "
                                      f"{hint}", *self.names, "insist")


def stopped(sig: int, saved: int, total: int, unit: str, part: Path) -> Interrupted:
    """The error a run stopped by signal ``sig`` raises: one line, exit status 128 + sig."""
    return Interrupted(f"stopped by {signal_name(sig)}: {saved} of {total} {unit} saved in "
                       f"{part}; {RESUME_HINT}", sig)


class Run:
    """The frame of a resumable run: output, signals, resume checks, the stop line.

    ::

        with Run(path, force=force, resume=resume) as run:
            if run.resume_existing(read_params, requested, complete):
                return ...                      # the file is complete already
            f = open_part(run.part) if run.resuming else create(run.part)
            run.started(f, lambda: (saved, total, "tiles"))
            ...                                  # compute, write pieces, checkpoint

    Inside, a signal is recorded and raised at :func:`eosfast.interrupts.checkpoint`
    (between pieces), never inside HDF5. Once :meth:`started` says what is
    saved, a stop raises :class:`~eosfast.errors.Interrupted` with one line
    (``stopped by SIGTERM: 3 of 16 tiles saved in g.h5.part; run `...` to
    continue``) and exit status 128 + the signal; the ``.part`` is kept.
    """

    def __init__(self, path: str | os.PathLike, *, force: bool = False, resume: bool = False,
                 need: int | None = None, reads: Iterable = ()):
        self.output = Output(path, force=force, resume=resume, need=need, reads=reads)
        self.resume = resume
        self._saved: Callable[[], tuple[int, int, str]] | None = None
        self._stopping: Callable[[], None] | None = None
        self._stack = contextlib.ExitStack()

    @property
    def part(self) -> Path:
        return self.output.part

    @property
    def resuming(self) -> bool:
        """Whether a ``.part`` is continued."""
        return self.output.resuming

    def __enter__(self) -> Run:
        try:
            self._stack.enter_context(self.output)
            # a signal dropped before (sys.unraisablehook) is raised here, on entry
            self._stack.enter_context(interrupts.deferred())
        except BaseException as exc:
            # the output sees the failure (its lock released, nothing renamed)
            if not self._stack.__exit__(type(exc), exc, exc.__traceback__):
                raise
        return self

    def check_params(self, path, stored: Mapping[str, Any], requested: Mapping[str, Any],
                     keys: Iterable[str] | None = None,
                     defaults: Mapping[str, Any] | None = None) -> None:
        """Refuse to continue ``path`` made with other parameters, naming each."""
        from .h5 import check_same_params

        check_same_params(path, stored, requested, keys, defaults)

    def resume_existing(self, stored: Callable[[Path], Mapping[str, Any]],
                        requested: Mapping[str, Any], complete: Callable[[Path], bool], *,
                        keys: Iterable[str] | None = None,
                        defaults: Mapping[str, Any] | None = None) -> bool:
        """``--resume`` of a file under its final name: True when it is complete already.

        An unfinished one (a run from before the ``.part`` convention, or one
        renamed by hand) goes back to ``.part`` to be continued. Either way
        its parameters must be the requested ones.
        """
        o = self.output
        if o.resuming or not self.resume or not o.existing:
            return False
        self.check_params(o.path, stored(o.path), requested, keys, defaults)
        if complete(o.path):
            o.abandon()
            return True
        o.adopt_existing()
        return False

    def started(self, f, saved: Callable[[], tuple[int, int, str]],
                stopping: Callable[[], None] | None = None):
        """The ``.part`` is open as ``f``: keep it on any failure; ``saved()`` says what it holds.

        ``f`` (an open h5py file) is closed when the run ends, before the
        rename, and after ``saved() -> (done, total, unit)`` is read for the
        stop line. Until the writer calls :func:`eosfast.interrupts.saved`
        after its first piece, a signal waits for that piece
        (:func:`~eosfast.interrupts.hold_first_piece`). On a stop by signal,
        ``stopping()`` runs first, signals still deferred, with ``f`` open (a
        refinement leaves its points in a cache for the resume,
        :mod:`.pointcache`); if it fails, the stop goes on. Returns ``f``.
        """
        self._stack.enter_context(f)
        self.output.keep_on_error()
        self._saved = saved
        self._stopping = stopping
        # a signal while the first piece computes waits for it (writers call
        # interrupts.saved() after each piece): every stopped run saves something
        interrupts.hold_first_piece()
        return f

    def __exit__(self, exc_type, exc, tb) -> bool:
        interrupts.saved()
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) \
                and self._saved is not None:
            if self._stopping is not None:
                with contextlib.suppress(Exception):
                    self._stopping()
            try:
                done, total, unit = self._saved()
            except Exception:  # what the file says could not be read: say less
                done, total, unit = -1, 0, ""
            sig = signal_number(exc)
            if done >= 0:
                new = stopped(sig, done, total, unit, self.part)
            else:
                new = Interrupted(f"stopped by {signal_name(sig)}: the finished work is kept "
                                  f"in {self.part}; {RESUME_HINT}", sig)
            self._stack.__exit__(type(new), new, None)
            raise new from None
        return bool(self._stack.__exit__(exc_type, exc, tb))
