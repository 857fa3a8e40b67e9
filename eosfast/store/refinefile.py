"""The refined-map file (kind ``eosfast.refined``): creation, levels, verification, reading.

Layout (:data:`eosfast.store.layouts.REFINED`): the root is the base grid
exactly as a grid file holds it (coordinates ``eta`` (1,), ``y0``, ``x0``; the
arrays of every grid field shaped ``(1, y0, x0)``, chunked, compressed,
Fletcher-32), so h5py and ``xarray.open_dataset(path, engine="h5netcdf")``
read it as the base grid. Root attributes: ``model``, ``steps``, ``tol``,
``escape``, ``params`` (JSON of every option of :func:`eosfast.refine`),
``base``, ``levels``, ``levels_done``, ``complete``.

One group ``level_01``, ``level_02``, ... per level
(:data:`~eosfast.store.layouts.REFINED_LEVEL`): the points computed for that
level, sparse, sorted by their index on the finest lattice: ``ix``, ``iy``
(int32, indices on that level's lattice), ``status`` (int8) and ``steps``
(int32), over the dimension ``point``, in chunks of :data:`LEVEL_CHUNK`
points, shuffled, deflated and checksummed. A group ``verify``
(:data:`~eosfast.store.layouts.REFINED_VERIFY`) holds the points
``--verify`` recomputed.

Resume: a level's group is written and flushed before ``levels_done`` is
raised to it, so a run killed at any moment leaves a file whose first
``levels_done`` levels are whole; ``--resume`` reads them back (every chunk's
checksum is verified on reading; a damaged level is recomputed), drops any
later group and continues with the next level.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import EosfastError
from .h5 import COMPRESSION, add_array, add_coord, new_file, open_file, read_params, stamp
from .layouts import GRID_FIELDS, REFINED, REFINED_LEVEL, REFINED_VERIFY, Var

#: Points per chunk of a level's arrays.
LEVEL_CHUNK = 1 << 18

#: Name of the verification group.
VERIFY = "verify"


def level_name(level: int) -> str:
    """Group name of a level: ``level_01``, ..."""
    return f"level_{level:02d}"


def create(path: Path, params: Mapping[str, Any], eta: float, x0: np.ndarray, y0: np.ndarray,
           base: Mapping[str, np.ndarray]) -> h5py.File:
    """Create a refined file holding its base grid, open for writing.

    Parameters
    ----------
    params : dict
        Every option (JSON), with ``model``, ``steps``, ``tol``, ``escape``,
        ``base``, ``levels``.
    base : dict of str -> ndarray
        Every grid field of the base grid, shaped (ny, nx).
    """
    f = new_file(path)
    try:
        stamp(f, REFINED.kind, params, model=params["model"], steps=params["steps"],
              tol=params["tol"], escape=params["escape"], base=params["base"],
              levels=params["levels"], levels_done=np.int64(0), complete=np.int8(0))
        for name, axis in (("eta", np.array([eta])), ("y0", y0), ("x0", x0)):
            add_coord(f, name, axis, REFINED.coords[name])
        ny, nx = y0.size, x0.size
        for name, var in GRID_FIELDS.items():
            add_array(f, name, var, data=np.asarray(base[name])[None],
                      chunks=(1, min(256, ny), min(256, nx)))
        f.flush()
    except BaseException:
        f.close()
        raise
    return f


def _add_points(g: h5py.Group, n: int, var: Var) -> h5py.Dataset:
    """The ``point`` coordinate 0 .. n - 1: compressed (it costs almost nothing), a scale."""
    opts: dict[str, Any] = {"chunks": (min(n, LEVEL_CHUNK),), **COMPRESSION} if n else {}
    d = g.create_dataset("point", shape=(n,), dtype=np.int64, **opts)
    for a in range(0, n, LEVEL_CHUNK):
        d[a:min(n, a + LEVEL_CHUNK)] = np.arange(a, min(n, a + LEVEL_CHUNK), dtype=np.int64)
    d.make_scale("point")
    for k, v in var.cf_attrs().items():
        d.attrs[k] = v
    return d


def _write_points(g: h5py.Group, layout, n: int,
                  parts: Iterable[tuple[int, Mapping[str, np.ndarray]]]) -> None:
    """Arrays of ``layout`` over ``point``, filled from ``(start, arrays)`` pieces."""
    _add_points(g, n, layout.coords["point"])
    ds = {name: add_array(g, name, var, shape=(n,),
                          chunks=(min(n, LEVEL_CHUNK),) if n else None)
          for name, var in layout.data.items()}
    for start, arrays in parts:
        for name, d in ds.items():
            a = np.asarray(arrays[name])
            d[start:start + a.size] = a


def write_level(f: h5py.File, level: int, nx: int, ny: int, n: int,
                parts: Iterable[tuple[int, Mapping[str, np.ndarray]]], **attrs: Any) -> None:
    """Write one level's ``n`` points and mark it done, durably.

    ``parts`` yields ``(start, arrays)``: the 1-D arrays ``ix, iy, status,
    steps`` of the points ``start, start + 1, ...`` (so a level of tens of
    millions of points is written without a second copy in memory).
    """
    name = level_name(level)
    if name in f:
        del f[name]
    g = f.create_group(name)
    _write_points(g, REFINED_LEVEL, n, parts)
    g.attrs["level"] = np.int64(level)
    g.attrs["nx"] = np.int64(nx)
    g.attrs["ny"] = np.int64(ny)
    for k, v in attrs.items():
        g.attrs[k] = v
    f.flush()
    f.attrs["levels_done"] = np.int64(level)
    f.flush()


def write_verify(f: h5py.File, arrays: Mapping[str, np.ndarray], **attrs: Any) -> None:
    """Write the verification sample (``ix, iy, status, filled``) and its statistics."""
    if VERIFY in f:
        del f[VERIFY]
    g = f.create_group(VERIFY)
    _write_points(g, REFINED_VERIFY, int(np.asarray(arrays["ix"]).size), [(0, arrays)])
    for k, v in attrs.items():
        g.attrs[k] = v
    f.flush()


def finish(f: h5py.File) -> None:
    """Mark the file complete (every level and the verification written)."""
    f.attrs["complete"] = np.int8(1)
    f.flush()


def open_refined(path: str | os.PathLike, mode: str = "r") -> h5py.File:
    """Open a refined file (complete or ``.part``), checked against its layout."""
    f = open_file(path, REFINED.kind, mode)
    try:
        read_params(f)
        if VERIFY in f:
            REFINED_VERIFY.check(f[VERIFY], path, f" (group {VERIFY})")
        done = levels_done(f)
        for level in range(1, done + 1):
            if level_name(level) not in f:
                raise EosfastError(f"{path} is damaged: group {level_name(level)} is missing")
    except BaseException:
        f.close()
        raise
    return f


def levels_done(f: h5py.File) -> int:
    """Levels written whole."""
    return int(f.attrs["levels_done"])


def is_complete(f: h5py.File) -> bool:
    return bool(f.attrs.get("complete", 0))


def truncate(f: h5py.File, done: int) -> None:
    """Keep levels ``1 .. done`` only (and no verification): a resume starts after them."""
    for name in list(f):
        if (name.startswith("level_") and int(name[6:]) > done) or name == VERIFY:
            del f[name]
    f.attrs["levels_done"] = np.int64(done)
    f.attrs["complete"] = np.int8(0)
    f.flush()


def _read(f: h5py.File, name: str, path, sel=Ellipsis) -> np.ndarray:
    try:
        return f[name][sel]
    except OSError as exc:
        raise EosfastError(f"{path}: array {name!r} is damaged ({exc})") from None


def read_base(f: h5py.File, fields=None) -> dict[str, np.ndarray]:
    """The base grid: ``eta`` (1,), ``x0``, ``y0`` and the grid fields shaped (1, ny, nx)."""
    names = list(GRID_FIELDS) if fields is None else list(fields)
    out = {k: _read(f, k, f.filename) for k in ("eta", "x0", "y0")}
    out.update({k: _read(f, k, f.filename) for k in names})
    return out


def level_size(f: h5py.File, level: int) -> int:
    """Points of a level (without reading them)."""
    return int(f[level_name(level)]["ix"].shape[0])


def level_intact(f: h5py.File, level: int) -> bool:
    """Whether every chunk of a level reads back with a valid checksum."""
    try:
        for _ in read_level(f, level):
            pass
    except (EosfastError, KeyError):
        return False
    return True


def read_level(f: h5py.File, level: int, chunk: int = 1 << 22
               ) -> Iterator[dict[str, np.ndarray]]:
    """A level's arrays (``ix, iy, status, steps``), ``chunk`` points at a time.

    Every piece also holds ``attrs``, the level group's attributes.
    """
    g = f[level_name(level)]
    attrs = dict(g.attrs)
    n = int(g["ix"].shape[0])
    for a in range(0, max(n, 1), chunk):
        sel = slice(a, min(n, a + chunk))
        out: dict[str, Any] = {k: _read(g, k, f.filename, sel) for k in REFINED_LEVEL.data}
        out["attrs"] = attrs
        yield out


def read_verify(f: h5py.File) -> dict[str, Any] | None:
    """The verification sample and its attributes, or None."""
    if VERIFY not in f:
        return None
    g = f[VERIFY]
    out: dict[str, Any] = {k: _read(g, k, f.filename) for k in REFINED_VERIFY.data}
    out["attrs"] = dict(g.attrs)
    return out
