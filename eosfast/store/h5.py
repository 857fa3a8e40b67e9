"""HDF5 through h5py: the one opener, the one compression policy, dataset creation.

Every eosfast file has the root attributes ``kind`` (which layout,
:mod:`eosfast.store.layouts`), ``eosfast_version``, ``created`` (ISO 8601),
``params`` (JSON of every option) and ``Conventions``; every array axis has
exactly one attached dimension scale, so ``xarray.open_dataset(path,
engine="h5netcdf")`` reads each file, and every variable carries CF
``long_name`` / ``units``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .._version import __version__
from ..errors import EosfastError
from .atomic import Output
from .layouts import LAYOUTS, Layout, Var

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


def new_file(path: str | os.PathLike) -> h5py.File:
    """Create (truncate) an HDF5 file for writing: every writer's ``.part`` starts here."""
    return h5py.File(path, "w")


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
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise EosfastError(f"need the path of a result file, got {path!r}")
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise EosfastError(f"{path}: no such file") from None
    except OSError as exc:
        raise EosfastError(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise EosfastError(f"{path} is not a regular file")
    return path


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
    h5py.File
        The caller closes it (use it as a context manager).

    Raises
    ------
    EosfastError
        No such file, not a regular file, not HDF5, in use by a writer, not of
        an accepted kind, not of its kind's layout, or its model (root
        attributes ``model``, ``model_params``) is refused by the parser.
    """
    path = regular_file(path)
    try:
        f = h5py.File(path, mode)
    except OSError as exc:
        text = str(exc)
        if "lock" in text and ("errno = 11" in text or "temporarily unavailable" in text):
            raise EosfastError(f"{path} is open for writing by another process") from None
        raise EosfastError(f"{path} is not a readable HDF5 file ({text})") from None
    try:
        kind = f.attrs.get("kind", None)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        wanted = (kinds,) if isinstance(kinds, str) else tuple(kinds or LAYOUTS)
        if not isinstance(kind, str) or kind not in LAYOUTS:
            raise EosfastError(f"{path} is not an eosfast result file")
        if kind not in wanted:
            names = " or ".join(k.split(".", 1)[1] for k in wanted)
            raise EosfastError(f"{path} is an eosfast {kind.split('.', 1)[1]} file, "
                               f"not a {names} file")
        LAYOUTS[kind].check(f, path)
        if "model" in f.attrs:
            check_model(f, path)
    except BaseException:
        f.close()
        raise
    return f


def check_model(f: h5py.Group, path: str | os.PathLike):
    """The model a file records, rebuilt: an expression is parsed by the same whitelist.

    A file is untrusted input: a ``model`` attribute that is not a registry
    name nor an acceptable expression is refused (one line), whatever reads it.
    """
    from ..models import model_of_attrs

    try:
        return model_of_attrs(f.attrs["model"], f.attrs.get("model_params", None))
    except EosfastError as exc:
        raise EosfastError(f"{path}: its model attributes are refused: {exc}") from None


def file_kind(path: str | os.PathLike) -> str:
    """The ``kind`` of an eosfast file (``"eosfast.grid"``, ...), checked."""
    with open_file(path) as f:
        return str(f.attrs["kind"])


def read_params(f: h5py.Group) -> dict:
    """The JSON ``params`` of an opened (checked) file."""
    return json.loads(f.attrs["params"])


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
