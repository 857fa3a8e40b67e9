"""One way to write any output: checked, locked, written aside, renamed into place.

Every command that writes (data files, images) goes through :class:`Output`:

1. The path is checked before any work: not empty, not a folder, its folder
   exists and is writable, it is not a file being read, it does not end in
   ``.part``, and if it exists it is a regular file (devices, FIFOs, sockets
   and folders are never replaced, even with ``force``).
2. An exclusive lock is taken on the output, and with it on its ``.part``
   (``fcntl.flock`` on a hidden ``.NAME.lock`` beside it, which records who
   holds it): a second writer of the same path fails at once, saying who
   holds it, and touches nothing.
3. Under the lock: an existing output is replaced only with ``force``; an
   existing ``.part`` (somebody's interrupted work) is continued with
   ``resume``, discarded with ``force``, and otherwise refused with a
   message saying how to resume it.
4. The writer writes ``NAME.part``; on success it is flushed to disk and
   renamed to ``NAME`` (:meth:`Output.commit`, the project's only rename).
   On failure the ``.part`` is removed, unless the writer declared it
   resumable (:meth:`Output.keep_on_error`): then finished work stays for
   ``--resume``. A full disk becomes one line naming the space needed, and a
   signal (Ctrl-C, SIGTERM, SIGHUP) an :class:`~eosfast.errors.Interrupted`
   saying what was kept and how to continue.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..errors import RESUME_HINT, EosfastError, Interrupted, signal_name, signal_number
from ..validate import show

#: Suffix of the file a writer fills before the final rename.
PART = ".part"


def part_path(path: str | os.PathLike) -> Path:
    """The temporary name a run writes to before the final rename."""
    path = Path(path)
    return path.with_name(path.name + PART)


#: Files a run may keep beside its ``.part`` (``NAME.part.points``: a stopped
#: refinement's points, :mod:`.pointcache`); they go when the ``.part`` goes.
SIDECARS = (".points", ".points.tmp")


def remove_sidecars(part: str | os.PathLike) -> None:
    """Delete the files kept beside ``part`` (:data:`SIDECARS`), if any."""
    part = Path(part)
    for suffix in SIDECARS:
        with contextlib.suppress(OSError):
            part.with_name(part.name + suffix).unlink()


def lock_path(path: str | os.PathLike) -> Path:
    """The hidden lock file of an output."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def _kind(path: Path) -> str | None:
    """What a path is if it exists: ``file``, ``folder``, ``device``, ``FIFO``, ..."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EosfastError(f"cannot inspect {str(path)[:80]}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        return "file"
    for test, name in ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO"),
                       (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_folder(folder: Path) -> None:
    """The folder exists and is writable (refused for everyone when it has no write bit)."""
    try:
        if not folder.is_dir():
            raise EosfastError(f"output folder {folder} does not exist")
        mode = folder.stat().st_mode
    except (OSError, ValueError) as exc:
        raise EosfastError(f"cannot use the output folder {str(folder)[:80]}: "
                           f"{getattr(exc, 'strerror', None) or exc}") from None
    # os.access says yes to root for any folder; a folder with no write bit at
    # all is read-only by intent, so refuse it for everyone.
    if not os.access(folder, os.W_OK | os.X_OK) or not mode & 0o222:
        raise EosfastError(f"output folder {folder} is read-only")


def check_output(path: str | os.PathLike, *, force: bool = False, reads=()) -> Path:
    """Check an output path before any work (no lock; :class:`Output` checks again under it).

    Parameters
    ----------
    path : path-like
        Where the output goes.
    force : bool
        Whether an existing regular file may be replaced.
    reads : iterable of path-like
        Files this command reads: never replaced.

    Returns
    -------
    Path
    """
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(text, str) or not text.strip() or "\0" in text:
        raise EosfastError(f"the output path must name a file, got {show(path)}")
    if text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise EosfastError(f"the output path {text!r} names a folder, not a file")
    path = Path(text)
    if path.name.endswith(PART):
        raise EosfastError(f"output names ending in {PART} are reserved for partial runs: "
                           f"{path}")
    if path.name.startswith(".") and path.name.endswith(".lock"):
        raise EosfastError(f"output names like .NAME.lock are reserved for the locks of "
                           f"running commands: {path}")
    folder = path.parent
    kind = _kind(path)
    if kind is not None and kind != "file":
        raise EosfastError(f"{path} is a {kind}, not a regular file: it is never replaced")
    for r in reads:
        if r is None or not isinstance(r, str | os.PathLike):
            continue
        for mine in (path, part_path(path)):
            if _kind(mine) is not None and _same_file(mine, Path(r)):
                raise EosfastError(f"{path} would replace {r}, the file being read: choose "
                                   "another output")
    check_folder(folder)
    if kind == "file" and not force:
        raise EosfastError(f"{path} exists; use --force to replace it")
    return path


#: Kinds of run that ``--resume`` continues.
RESUMABLE = ("eosfast.grid", "eosfast.zoom", "eosfast.refined")

#: The command that writes each file kind (where its name is not the kind's).
COMMANDS = {"eosfast.refined": "refine"}


def describe_partial(part: Path) -> str:
    """What an interrupted ``.part`` holds and what to do with it, for the refusal."""
    kind = ""
    with contextlib.suppress(Exception):
        import h5py

        with open(part, "rb") as raw:
            hdf5 = raw.read(8) == b"\x89HDF\r\n\x1a\n"
        if hdf5:
            with h5py.File(part, "r") as f:
                kind = f.attrs.get("kind", "")
                kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind.startswith("eosfast."):
        what = f"an interrupted `eosfast {COMMANDS.get(kind, kind.split('.', 1)[1])}` run"
    else:
        what = "an interrupted run"
    if kind in RESUMABLE:
        return (f"{what}, somebody's unfinished work: finish it by rerunning the command "
                "that started it with --resume, or discard it with --force")
    if kind.startswith("eosfast."):
        return f"{what}, which cannot be resumed: remove it, or replace it with --force"
    return (f"{what}: finish it by rerunning the command that started it with --resume "
            "(grid, zoom and refine can), or discard it with --force")


#: Outputs this process renamed into place, complete (a signal after the last one
#: is reported as coming after it: see ``cli/main.py``).
WRITTEN: list[Path] = []


class Output:
    """An output path claimed by one writer (see the module docstring).

    Use as a context manager::

        with Output(path, force=force, resume=resume, reads=[src]) as out:
            write(out.part)          # resuming: out.resuming is True
            out.keep_on_error()      # from here, a failure keeps the .part

    Parameters
    ----------
    path : path-like
        The final name.
    force : bool
        Replace an existing file, discard an existing ``.part``.
    resume : bool
        Continue an existing ``.part`` (``resuming`` tells whether there was one).
    reads : iterable of path-like
        Inputs of the command: never replaced.
    need : int, optional
        Bytes the output may take, for the message when the disk fills up.
    resume_hint : str
        How to continue after a failure that kept the ``.part``.
    """

    def __init__(self, path: str | os.PathLike, *, force: bool = False, resume: bool = False,
                 reads=(), need: int | None = None, resume_hint: str = RESUME_HINT):
        self.path = check_output(path, force=force or resume, reads=reads)
        self.force = force
        self.resume = resume
        self.reads = tuple(reads)
        self.part = part_path(self.path)
        self.need = need
        self.resume_hint = resume_hint
        self.resuming = False
        self.existing = False
        self._keep = False
        self._lock_fd: int | None = None
        self._lock_path = lock_path(self.path)
        self._done = False
        self._committed = False
        self._inode: int | None = None  # of the .part being renamed into place

    # ------------------------------------------------------------------ lock

    def _acquire(self) -> None:
        lp = self._lock_path
        kind = _kind(lp)
        if kind not in (None, "file"):
            raise EosfastError(f"{lp} is a {kind}; remove it to write {self.path}")
        while True:
            try:
                fd = os.open(lp, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as exc:
                raise EosfastError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise EosfastError(f"{self.path} is being written by another eosfast process"
                                   f"{holder}; its files are left alone: wait for it or "
                                   "choose another output") from None
            # The holder we waited on may have removed the lock file between
            # our open and our flock: then we locked an orphan; try again.
            try:
                same = os.stat(lp).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = {"pid": os.getpid(), "command": " ".join(Path(sys.argv[0]).name.split()
                                                        + sys.argv[1:])[:300],
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        self._lock_fd = fd

    def _release(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self._lock_path)
        os.close(self._lock_fd)
        self._lock_fd = None

    # ------------------------------------------------------------------ use

    def __enter__(self) -> Output:
        self._acquire()
        try:
            self.path = check_output(self.path, force=self.force or self.resume,
                                     reads=self.reads)
            self.existing = self.path.exists()
            kind = _kind(self.part)
            if kind not in (None, "file"):
                raise EosfastError(f"{self.part} is a {kind}, not a partial run: remove it")
            if kind == "file":
                if self.resume:
                    self.resuming = True
                elif self.force:
                    self.part.unlink()
                    remove_sidecars(self.part)
                else:
                    raise EosfastError(f"{self.part} holds {describe_partial(self.part)}")
        except BaseException:
            self._release()
            raise
        return self

    def keep_on_error(self) -> None:
        """From now on a failure keeps the ``.part`` (its finished work can be resumed)."""
        self._keep = True

    def abandon(self) -> None:
        """Nothing is written after all: leave every file as it is."""
        self._done = True

    def adopt_existing(self) -> None:
        """Move an existing unfinished output back to ``.part`` to resume it."""
        _move(self.path, self.part)
        self.existing = False
        self.resuming = True

    def commit(self) -> Path:
        """Flush the ``.part`` to disk and rename it to the final name."""
        fd = os.open(self.part, os.O_RDONLY)
        try:
            os.fsync(fd)
            self._inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)
        _move(self.part, self.path)
        self._committed = True
        remove_sidecars(self.part)
        WRITTEN.append(self.path)
        with contextlib.suppress(OSError):
            dfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        self._done = True
        return self.path

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None:
                self._failed(exc)
                return  # not converted: the writer's own exception goes on
            if self._done:
                return
            try:
                self.commit()
            except BaseException as failure:
                self._failed(failure)
                raise
        finally:
            self._release()

    def _failed(self, exc: BaseException) -> None:
        """Clean up after a failed write; raise what the user should read, if it is ours."""
        if not self._committed and self._inode is not None:
            # a signal between the rename and the line after it: look at the disk
            with contextlib.suppress(OSError):
                self._committed = os.stat(self.path).st_ino == self._inode
        if self._committed:
            # The output is in place and complete; only a signal can get here.
            if isinstance(exc, KeyboardInterrupt):
                sig = signal_number(exc)
                raise Interrupted(f"stopped by {signal_name(sig)} after {self.path} was "
                                  "written (it is complete)", sig) from None
            return
        if not (self._keep or self.resuming):
            with contextlib.suppress(OSError):
                self.part.unlink()
            remove_sidecars(self.part)
        kept = self.part.exists()
        if isinstance(exc, KeyboardInterrupt):
            sig = signal_number(exc)
            tail = (f"; the finished work is kept in {self.part}: {self.resume_hint}"
                    if kept else "; nothing was written")
            raise Interrupted(f"stopped by {signal_name(sig)}{tail}", sig) from None
        if isinstance(exc, OSError) and _disk_full(exc):
            raise EosfastError(self._disk_full_message(kept)) from None
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            raise EosfastError(self._size_limit_message(kept)) from None
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            reason = exc.strerror or str(exc)
            tail = (f"; the finished work is kept in {self.part}: {self.resume_hint}"
                    if kept else "; nothing was written")
            raise EosfastError(f"cannot write {self.path}: {reason}{tail}") from None

    def _kept_tail(self, kept: bool, what: str) -> str:
        return (f"; the finished work is kept in {self.part}: {what} and {self.resume_hint}"
                if kept else "; nothing was written")

    def _disk_full_message(self, kept: bool) -> str:
        folder = self.path.parent
        try:
            free = shutil.disk_usage(folder).free
        except OSError:  # pragma: no cover - the folder went away
            free = 0
        written = _size(self.part) if kept else 0
        if self.need:
            more = max(self.need - written, 0)
            need = (f"; the file needs up to {_size_text(self.need)} in all, "
                    f"{_size_text(more)} more than is written")
            what = f"free at least {_size_text(max(more - free, 0) or more)}"
        else:
            need, what = "", "free some space"
        return (f"no space left on the device of {folder or '.'} writing {self.path} "
                f"({_size_text(free)} free{need}){self._kept_tail(kept, what)}")

    def _size_limit_message(self, kept: bool) -> str:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        limit = "no limit" if soft == resource.RLIM_INFINITY else _size_text(soft)
        return (f"the file size limit of this process ({limit}, `ulimit -f`) stopped writing "
                f"{self.path}{self._kept_tail(kept, 'raise the limit')}")


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _size_text(n: int) -> str:
    """Bytes for people: ``12.3 MiB``, ``1.5 GiB``."""
    if n >= 2**30:
        return f"{n / 2**30:.3g} GiB"
    if n >= 2**20:
        return f"{n / 2**20:.3g} MiB"
    return f"{n / 2**10:.3g} KiB"


def _disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc) \
        or "errno = 28" in str(exc)


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f" (pid {int(info['pid'])}: {info['command']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return " (holder unknown)"


def _move(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` atomically (same folder): the one rename of the project."""
    os.replace(src, dst)
