"""HDF5 through h5py: the one opener, the one compression policy, dataset creation.

Every eosfast file has the root attributes ``kind`` (which layout,
:mod:`eosfast.store.layouts`), ``eosfast_version``, ``created`` (ISO 8601),
``params`` (JSON of every option) and ``Conventions``; every array axis has
exactly one attached dimension scale, so ``xarray.open_dataset(path,
engine="h5netcdf")`` reads each file, and every variable carries CF
``long_name`` / ``units``.

Files being written sit on a :class:`GuardedFile` (h5py's file-object
driver over our own descriptor), for two reasons:

- A failed write (disk full, file size limit, I/O error) is recorded and
  never reaches the HDF5 library, which would otherwise be left with a
  metadata cache it can neither flush nor close (HDF5 then prints errors at
  exit, and may crash). The file on disk stays as it was after the last
  write that succeeded, and the error is raised at the next
  :meth:`WritableFile.flush` or at closing, where the store's
  :class:`~eosfast.store.atomic.Output` turns it into one line.
- A resumable writer reserves the disk space of its next unit of work (a
  tile, a zoom level) before writing it (:meth:`WritableFile.reserve`): a
  full disk then stops the run between two units, never in the middle of
  one, so the ``.part`` left behind is exactly the units finished.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .._version import __version__
from ..errors import EosfastError, InvalidArgument
from ..validate import show
from .atomic import Output
from .layouts import LAYOUTS, Layout, Var, layout_of

#: Filters of every compressed array: byte shuffle, deflate level 1 (which
#: every HDF5 reader decodes) and a Fletcher-32 checksum per chunk (which
#: every HDF5 reader verifies).
COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True,
               "fletcher32": True}

#: Arrays smaller than this are stored contiguous, uncompressed.
SMALL = 1 << 14

#: CF convention version the files follow.
CONVENTIONS = "CF-1.8"


def stamp(f: h5py.Group, kind: str, params: Mapping[str, Any], **attrs: Any) -> None:
    """Write the root attributes every eosfast file has, and ``attrs``."""
    f.attrs["kind"] = kind
    f.attrs["Conventions"] = CONVENTIONS
    f.attrs["eosfast_version"] = __version__
    f.attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    f.attrs["params"] = json.dumps(params, sort_keys=True)
    for key, value in attrs.items():
        f.attrs[key] = value


class GuardedFile(io.RawIOBase):
    """The bytes of an HDF5 file being written, with write errors held back from HDF5.

    Positional reads and writes on one descriptor, locked exclusively
    (``flock``, as HDF5 itself locks: HDF5 readers elsewhere are refused
    while it is open). The first failed write is kept in :attr:`error`; that
    write and every later one are dropped, so the file on disk keeps the
    state of the last write that succeeded while HDF5 carries on in memory
    and can still close cleanly.

    Parameters
    ----------
    path : path-like
    create : bool
        Create (truncate) the file; else open an existing one for update.
    """

    def __init__(self, path: str | os.PathLike, create: bool):
        super().__init__()
        self.path = os.fspath(path)
        flags = os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        if create:
            flags |= os.O_CREAT | os.O_TRUNC
        self.fd = os.open(self.path, flags, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise EosfastError(f"{self.path} is open in another process") from None
        self.pos = 0
        self.end = 0  # where HDF5's next allocation starts, as far as we know
        self.size: int | None = None  # the size HDF5 asked for last (applied at close)
        self.error: OSError | None = None
        self.reported = False

    def __repr__(self) -> str:  # h5py names the file after it (File.filename)
        return self.path

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            self.pos = offset
        elif whence == os.SEEK_CUR:
            self.pos += offset
        else:
            self.pos = os.fstat(self.fd).st_size + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer) -> int:
        n = os.preadv(self.fd, [buffer], self.pos)
        self.pos += n
        return n

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        n = view.nbytes
        if self.error is None:
            try:
                done = 0
                while done < n:
                    done += os.pwrite(self.fd, view[done:], self.pos + done)
            except OSError as exc:
                self.error = exc
        self.pos += n
        self.end = max(self.end, self.pos)
        return n

    def truncate(self, size: int | None = None) -> int:
        """HDF5 sets the file's size to its end of allocation (at each flush).

        Growing is done at once; shrinking waits for :meth:`close`, so that
        space reserved ahead (:meth:`reserve`) stays reserved while writing.
        """
        size = self.pos if size is None else size
        self.size = size
        self.end = max(self.end, size)
        if self.error is None and size > os.fstat(self.fd).st_size:
            try:
                os.ftruncate(self.fd, size)
            except OSError as exc:
                self.error = exc
        return size

    def reserve(self, nbytes: int) -> None:
        """Allocate ``nbytes`` of disk beyond the file's end; OSError (ENOSPC) if it cannot.

        Filesystems that cannot preallocate are written to without a reservation.
        """
        if self.error is not None:
            self.raise_error()
            return
        try:
            os.posix_fallocate(self.fd, self.end, int(nbytes))
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENODEV, errno.ENOSYS):
                return
            raise OSError(exc.errno, f"{exc.strerror} (reserving {nbytes} bytes for "
                          f"{self.path})") from None

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            try:
                if self.error is None and self.size is not None \
                        and self.size < os.fstat(self.fd).st_size:
                    os.ftruncate(self.fd, self.size)  # give back what was reserved
            finally:
                os.close(self.fd)
        super().close()

    def raise_error(self) -> None:
        """Raise the first failed write, once."""
        if self.error is not None and not self.reported:
            self.reported = True
            exc = self.error
            raise OSError(exc.errno, f"{exc.strerror or exc} (writing {self.path})")


class WritableFile(h5py.File):
    """An HDF5 file open for writing on a :class:`GuardedFile`.

    :meth:`flush` and :meth:`close` raise the first write that failed (an
    ``OSError``, e.g. ``ENOSPC``); ``check()`` raises it without flushing.
    """

    def __init__(self, path: str | os.PathLike, create: bool):
        guard = GuardedFile(path, create)
        try:
            h5py.File.__init__(self, guard, "w" if create else "r+")
        except BaseException:
            guard.close()
            raise
        self._guard = guard

    def check(self) -> None:
        """Raise the first write error, if any (once)."""
        self._guard.raise_error()

    def reserve(self, nbytes: int) -> None:
        """Reserve disk space for the next ``nbytes`` written (see :class:`GuardedFile`)."""
        self._guard.reserve(nbytes)

    def flush(self) -> None:
        super().flush()
        self.check()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._guard.close()
        self.check()


#: What reading a damaged file raises (h5py, numpy and our own conversions).
DAMAGE = (OSError, KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError)


class ReadFile(h5py.File):
    """An eosfast file open for reading: damage met inside its ``with`` block is one line.

    The layout is checked on opening (:func:`open_file`); an attribute of the
    wrong type, a chunk failing its checksum or any other damage met while
    the block reads the file raises :class:`EosfastError` naming the file.
    """

    def __init__(self, path: str | os.PathLike):
        h5py.File.__init__(self, path, "r")
        self._path = path

    def __exit__(self, exc_type, exc, tb):
        super().__exit__(exc_type, exc, tb)
        if isinstance(exc, DAMAGE) and not isinstance(exc, EosfastError):
            reason = " ".join(str(exc).split())[:200]
            raise EosfastError(f"{self._path} is damaged ({type(exc).__name__}: {reason}); "
                               "`eosfast info --verify` lists what is wrong") from None


def new_file(path: str | os.PathLike) -> WritableFile:
    """Create (truncate) an HDF5 file for writing: every writer's ``.part`` starts here."""
    return WritableFile(path, create=True)


def add_coord(g: h5py.Group, name: str, values: np.ndarray, var: Var) -> h5py.Dataset:
    """A 1-D coordinate, made a dimension scale, with its CF attributes.

    Coordinates are chunked with a checksum, so a damaged axis is caught too.
    """
    values = np.asarray(values, dtype=var.dtype)
    d = g.create_dataset(name, data=values, chunks=(max(1, values.size),) if values.size else
                         None, fletcher32=bool(values.size))
    d.make_scale(name)
    for k, v in var.cf_attrs().items():
        d.attrs[k] = v
    return d


def add_array(g: h5py.Group, name: str, var: Var, *, data: np.ndarray | None = None,
              shape: tuple[int, ...] | None = None,
              chunks: tuple[int, ...] | None = None) -> h5py.Dataset:
    """A data array with its dimension scales and CF attributes.

    Large arrays (or any with ``chunks``) are chunked and compressed with
    :data:`COMPRESSION`; ``var.fill`` is the fill value of unwritten chunks.
    """
    if data is not None:
        data = np.asarray(data, dtype=var.dtype)
        shape = data.shape
    size = int(np.prod(shape)) if shape else 1
    opts: dict[str, Any] = {}
    if chunks is not None or size >= SMALL:
        opts = {"chunks": chunks or True, **COMPRESSION}
    if var.fill is not None:
        opts["fillvalue"] = var.fill
    d = g.create_dataset(name, shape=shape, dtype=var.dtype, data=data, **opts)
    for k, v in var.cf_attrs().items():
        d.attrs[k] = v
    for axis, dim in enumerate(var.dims):
        d.dims[axis].attach_scale(g[dim])
    return d


def regular_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it names an existing regular file, else EosfastError.

    Checked before opening: a FIFO would block the opener forever.
    """
    if not isinstance(path, str | os.PathLike) or not isinstance(os.fspath(path), str) \
            or not os.fspath(path) or "\0" in os.fspath(path):
        raise EosfastError(f"need the path of a result file, got {show(path)}")
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise EosfastError(f"{path}: no such file") from None
    except OSError as exc:
        raise EosfastError(f"{str(path)[:80]}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise EosfastError(f"{path} is not a regular file")
    return path


@contextmanager
def closed_on_error(f: h5py.File) -> Iterator[h5py.File]:
    """Yield ``f``, an h5py file just opened; close it if the block raises.

    For the functions that open a file, check it and hand it on open.
    """
    try:
        yield f
    except BaseException:
        f.close()
        raise


def open_file(path: str | os.PathLike, kinds: Iterable[str] | str | None = None,
              mode: str = "r") -> h5py.File:
    """Open an eosfast file, checked against its kind's layout.

    Parameters
    ----------
    path : path-like
    kinds : str or iterable of str, optional
        The kinds accepted (``"eosfast.grid"``, ...); any eosfast kind if None.
    mode : str
        ``"r"`` or ``"r+"``.

    Returns
    -------
    ReadFile or WritableFile
        The caller closes it (use it as a context manager: for reading, any
        damage met inside the block becomes an :class:`EosfastError`).

    Raises
    ------
    EosfastError
        No such file, not a regular file, not HDF5, in use by a writer, not of
        an accepted kind, not of its kind's layout, or its model (root
        attributes ``model``, ``model_params``) is refused by the parser.
    """
    path = regular_file(path)
    try:
        f = ReadFile(path) if mode == "r" else WritableFile(path, create=False)
    except OSError as exc:
        text = str(exc)
        if "lock" in text and ("errno = 11" in text or "temporarily unavailable" in text):
            raise EosfastError(f"{path} is open for writing by another process") from None
        raise EosfastError(f"{path} is not a readable HDF5 file ({text})") from None
    with closed_on_error(f):
        kind = f.attrs.get("kind", None)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        wanted = (kinds,) if isinstance(kinds, str) else tuple(kinds or LAYOUTS)
        if not isinstance(kind, str) or kind not in LAYOUTS:
            raise EosfastError(f"{path} is not an eosfast result file")
        if kind not in wanted:
            names = " or ".join(k.split(".", 1)[1] for k in wanted)
            raise EosfastError(f"{path} is an eosfast {kind.split('.', 1)[1]} file, "
                               f"not a {names} file")
        layout_of(kind, f, path).check(f, path)
        if "model" in f.attrs:
            check_model(f, path)
    return f


def check_model(f: h5py.Group, path: str | os.PathLike):
    """The model a file records, rebuilt: an expression is parsed by the same whitelist.

    A file is untrusted input: a ``model`` attribute that is not a registry
    name nor an acceptable expression is refused (one line), whatever reads it.
    """
    from ..checks import check_model_attrs

    try:
        return check_model_attrs(f.attrs["model"], f.attrs.get("model_params", None))
    except EosfastError as exc:
        raise EosfastError(f"{path}: its model attributes are refused: {exc}") from None


def file_kind(path: str | os.PathLike) -> str:
    """The ``kind`` of an eosfast file (``"eosfast.grid"``, ...), checked."""
    with open_file(path) as f:
        return str(f.attrs["kind"])


def read_params(f: h5py.Group) -> dict:
    """The JSON ``params`` of an opened (checked) file."""
    return json.loads(f.attrs["params"])


def _value_text(v: Any) -> str:
    """A parameter value as a user would type it (floats round-trip), lists shortened."""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        items = [_value_text(x) for x in v]
        if len(items) > 6:
            return f"[{', '.join(items[:2])}, ..., {items[-1]}] ({len(items)} values)"
        return f"[{', '.join(items)}]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={_value_text(x)}" for k, x in sorted(v.items())) + "}"
    return "none" if v is None else str(v)


def check_same_params(path, stored: Mapping[str, Any], requested: Mapping[str, Any],
                      keys: Iterable[str] | None = None,
                      defaults: Mapping[str, Any] | None = None) -> None:
    """Refuse to resume ``path`` with other parameters, naming each that differs.

    ``keys`` (default: every key of ``requested``) are compared; ``defaults``
    fills keys that files of older versions lack. Raises
    :class:`~eosfast.errors.InvalidArgument` whose names are the differing
    parameters, so the command line shows their flags: ``g.h5.part was made
    with other parameters: --steps 2000 in the file, 1000 asked for; ...``.
    """
    defaults = defaults or {}
    keys = list(requested) if keys is None else list(keys)
    differ = [k for k in keys if stored.get(k, defaults.get(k)) != requested.get(k)]
    if not differ:
        return
    esc = str(path).replace("{", "{{").replace("}", "}}")
    parts = []
    for k in differ:
        had = _value_text(stored.get(k, defaults.get(k))).replace("{", "{{").replace("}", "}}")
        now = _value_text(requested.get(k)).replace("{", "{{").replace("}", "}}")
        parts.append(f"{{{k}}} {had} in the file, {now} asked for")
    raise InvalidArgument(f"{esc} was made with other parameters: {'; '.join(parts)} (resume "
                          "with the file's values, or use --force to start over)", *differ)


def write_file(path: str | os.PathLike, layout: Layout, coords: Mapping[str, np.ndarray],
               data: Mapping[str, np.ndarray], params: Mapping[str, Any],
               attrs: Mapping[str, Any] | None = None, *, force: bool = False,
               reads=()) -> Path:
    """Write a small file of ``layout`` in one go (trajectory, bifurcation, nets).

    Through :class:`~eosfast.store.atomic.Output`: locked, written as
    ``.part``, renamed; never replaces an existing file without ``force``.
    """
    need = sum(np.asarray(v).nbytes for v in (*coords.values(), *data.values()))
    with Output(path, force=force, reads=reads, need=need) as out, new_file(out.part) as f:
        stamp(f, layout.kind, params, **(attrs or {}))
        for name, var in layout.coords.items():
            add_coord(f, name, coords[name], var)
        for name, var in layout.data.items():
            add_array(f, name, var, data=data[name])
    return out.path
