"""The grid result file: creation, tiles, resume bookkeeping, verification, reading.

Layout (:data:`eosfast.store.layouts.GRID`, DESIGN.md): coordinates ``eta``,
``y0``, ``x0`` (1-D float64 dimension scales) and the per-point arrays, each
shaped ``(eta, y0, x0)``, one chunk per tile, shuffled, deflated and
checksummed (Fletcher-32), so that h5py, xarray (``engine="h5netcdf"``) and
pandas read the file directly and every chunk can be verified.

Resume bookkeeping lives in the group ``resume``, which xarray does not put
in the dataset (the root dataset has exactly the dimensions ``eta, y0, x0``):
``resume/tile_done`` (int8, one entry per tile, eta-major then y0 then x0)
is set to 1 only after that tile's chunks have been written and flushed, so
a run killed at any moment leaves a file that says which tiles are complete,
and ``--resume`` re-verifies each of them (:func:`eosfast.store.integrity.verify_tiles`) before
trusting it.
"""

from __future__ import annotations

import json
import math
import os
import weakref
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import h5py
import numpy as np
from h5py import h5s

from ..errors import EosfastError
from ..status import Status, outcome_counts
from .h5 import (
    add_array,
    add_coord,
    closed_on_error,
    new_file,
    open_file,
    read_params,
    stamp,
)
from .layouts import GRID, GRID_DIMS, GRID_DTYPES, GRID_FIELDS, file_axes, grid_layout, tile_grid

#: Group holding the resume bookkeeping.
RESUME = "resume"

#: HDF5 filter-mask bits of the pipeline shuffle (bit 0), deflate (bit 1),
#: Fletcher-32 (bit 2): a chunk stored with shuffle and deflate skipped.
RAW_CHUNK = 0b011

#: Float chunks with at least this fraction of NaN (diverged points) are
#: deflated; mostly finite ones (random mantissas, which deflate shrinks by a
#: third at a tenth of the speed) are stored raw. Readers see no difference.
DEFLATE_NAN_FRACTION = 0.25

#: Disk space reserved beyond a unit of work's own bytes: HDF5's bookkeeping
#: of it (chunk index, object headers) and a margin.
RESERVE_MARGIN = 1 << 20


def create(path: Path, params: dict, eta: np.ndarray, y0: np.ndarray, x0: np.ndarray,
           tile: tuple[int, int], axes: tuple[str, str, str] = GRID_DIMS,
           **attrs) -> h5py.File:
    """Create a new grid file at ``path`` (truncating) and return it open for writing.

    ``eta, y0, x0`` are the coordinates of the slices, rows and columns, named
    ``axes`` (a plane's, :mod:`eosfast.axes`: then the root attribute ``axes``
    says so).
    """
    shape = (eta.size, y0.size, x0.size)
    layout = grid_layout(axes)
    if tuple(axes) != GRID_DIMS:
        attrs["axes"] = " ".join(axes)
    f = new_file(path)
    with closed_on_error(f):
        stamp(f, GRID.kind, params, model=params["model"],
              model_params=json.dumps(params.get("model_params", {}), sort_keys=True),
              steps=params["steps"],
              tol=params["tol"], escape=params["escape"], complete=np.int8(0), **attrs)
        for name, axis in zip(axes, (eta, y0, x0), strict=True):
            add_coord(f, name, axis, layout.coords[name])
        chunks = (1, min(tile[0], shape[1]), min(tile[1], shape[2]))
        for name, var in layout.data.items():
            add_array(f, name, var, shape=shape, chunks=chunks)
        g = f.create_group(RESUME)
        ntiles = math.prod(tile_grid(shape, tile))
        done = g.create_dataset("tile_done", shape=(ntiles,), dtype=np.int8, fillvalue=0)
        done.attrs["description"] = "1 where the tile (eta-major, then y0, then x0) is written"
        g.attrs["tile_shape"] = np.asarray(tile, dtype=np.int64)
        f.flush()
    return f


def encode_tile(arrays: dict[str, np.ndarray], chunk: tuple[int, int]
                ) -> dict[str, tuple[np.ndarray, int]]:
    """Encode a tile's arrays as stored HDF5 chunks: ``name -> (bytes, filter_mask)``.

    The bytes are a uint8 array (read-only by convention: constant chunks
    share one).

    Each chunk is shuffled and deflated (or kept raw, see
    :data:`DEFLATE_NAN_FRACTION`) and followed by its Fletcher-32, exactly
    as HDF5's own pipeline would store it.

    Parameters
    ----------
    arrays : dict of ndarray, each shaped (ty, tx) with ty <= chunk[0], tx <= chunk[1]
        One tile (a tile at the grid's edge may be smaller than a chunk; it
        is padded with the fill value, as HDF5 itself would).
    chunk : (int, int)
        The datasets' chunk shape in (y0, x0).
    """
    out = {}
    for name, var in GRID_FIELDS.items():
        dtype = GRID_DTYPES[name]
        a = np.asarray(arrays[name], dtype=dtype)
        if a.shape != chunk:
            full = np.full(chunk, var.fill, dtype=dtype)
            full[: a.shape[0], : a.shape[1]] = a
            a = full
        out[name] = _encode_chunk(np.ascontiguousarray(a))
    return out


def _deflater():
    """zlib-format deflate at level 1: Intel ISA-L's (the ``isal`` package) where present.

    ISA-L writes the same zlib streams every HDF5 reader inflates, about seven
    times faster than zlib at level 1 and smaller (measured on grid chunks:
    5.4 against 37.8 ms, 185 against 273 KB), so workers encode tiles faster
    than they compute them. zlib itself where ``isal`` cannot be imported.
    """
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal ships wheels for every major platform
        return lambda data: zlib.compress(data, 1)
    return lambda data: isal_zlib.compress(data, 1)


#: Deflate a byte string into a zlib stream (level 1).
deflate = _deflater()


#: Stored bytes of chunks holding one value throughout (a diverged region's
#: NaN, its status -1, period 0), by (dtype, shape, value bytes): encoded once,
#: reused for every such chunk (a quarter to a half of a typical grid's).
_CONSTANT: dict[tuple, tuple[np.ndarray, int]] = {}
_CONSTANT_MAX = 256


def _encode_chunk(a: np.ndarray) -> tuple[np.ndarray, int]:
    """One chunk as HDF5 stores it: (payload + Fletcher-32 as uint8 bytes, filter mask)."""
    from ..kernels.checksum import fletcher32

    flat = a.reshape(-1)
    first = flat[:1]
    constant = bool((flat == first[0]).all()) if a.dtype.kind != "f" or not np.isnan(first[0]) \
        else bool(np.isnan(flat).all())
    if constant:
        key = (a.dtype.str, a.shape, first.tobytes())
        hit = _CONSTANT.get(key)
        if hit is not None:
            return hit
    if a.dtype.kind == "f" and np.count_nonzero(np.isnan(a)) < DEFLATE_NAN_FRACTION * a.size:
        payload, mask = a.view(np.uint8).reshape(-1), RAW_CHUNK
    else:
        shuffled = a.view(np.uint8).reshape(-1, a.itemsize).T.tobytes()
        payload, mask = np.frombuffer(deflate(shuffled), np.uint8), 0
    # one buffer, one copy: the payload then its checksum, little-endian
    stored = np.empty(payload.size + 4, np.uint8)
    stored[:-4] = payload
    stored[-4:] = np.frombuffer(int(fletcher32(payload)).to_bytes(4, "little"), np.uint8)
    result = (stored, mask)  # write_direct_chunk takes the buffer as it is
    if constant and len(_CONSTANT) < _CONSTANT_MAX:
        _CONSTANT[key] = result
    return result


def write_tile(f: h5py.File, index: int, e: int, ys: slice, xs: slice,
               arrays: dict[str, np.ndarray] | dict[str, tuple[bytes, int]]) -> None:
    """Write one tile and mark it done, durably.

    ``arrays`` holds either the tile's arrays (each shaped (ty, tx)) or the
    chunks :func:`encode_tile` made of them. The tile's disk space is
    reserved first (:meth:`~eosfast.store.h5.WritableFile.reserve`): a full
    disk stops the run before the tile, never halfway through it.
    """
    reserve = getattr(f, "reserve", None)
    if reserve is not None:
        size = sum(len(v[0]) if isinstance(v, tuple) else np.asarray(v).nbytes
                   for v in arrays.values())
        reserve(2 * size + RESERVE_MARGIN)
    datasets = _datasets(f)
    for name in GRID_FIELDS:
        value = arrays[name]
        if isinstance(value, tuple):
            data, mask = value
            datasets[name].id.write_direct_chunk((e, ys.start, xs.start), data, mask)
        else:
            datasets[name][e, ys, xs] = value
    # One flush for the data and the mark: a crash inside it can leave a tile
    # marked done whose chunks are not all on disk, but --resume verifies
    # every done tile against its checksums and recomputes what fails.
    # the low-level write of one flag: h5py's item assignment costs a third
    # of a millisecond, a fifth of the writer's time per tile
    done = datasets["tile_done"]
    space = done.id.get_space()
    space.select_hyperslab((index,), (1,))
    done.id.write(h5s.create_simple((1,)), space, _ONE)
    f.flush()


_ONE = np.ones(1, np.int8)

#: The datasets of each open grid file, looked up once (an h5py lookup by name
#: costs tens of microseconds; a 4096^2 grid writes 8 per tile).
_OPEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _datasets(f: h5py.File) -> dict[str, h5py.Dataset]:
    found = _OPEN.get(f)
    if found is None:
        found = {name: f[name] for name in GRID_FIELDS}
        found["tile_done"] = f[RESUME]["tile_done"]
        _OPEN[f] = found
    return found


def finish(f: h5py.File) -> None:
    """Mark the file complete (every tile written)."""
    f.attrs["complete"] = np.int8(1)
    f.flush()


def tile_shape(f: h5py.File) -> tuple[int, int]:
    """The file's tile shape ``(ty, tx)`` (its chunks in y0, x0)."""
    return tuple(int(v) for v in f[RESUME].attrs["tile_shape"]) if RESUME in f \
        else tuple(int(v) for v in f["status"].chunks[1:])


def done_tiles(f: h5py.File) -> np.ndarray:
    """Boolean mask of the tiles marked written, shape (n_tiles,)."""
    if RESUME in f:
        return f[RESUME]["tile_done"][:].astype(bool)
    ntiles = math.prod(tile_grid(f["status"].shape, tile_shape(f)))
    return np.full(ntiles, is_complete(f))


def mark_undone(f: h5py.File, tiles: Iterable[int]) -> None:
    """Clear the done mark of ``tiles`` (found damaged: they will be recomputed)."""
    done = f[RESUME]["tile_done"]
    for t in tiles:
        done[int(t)] = 0
    f.attrs["complete"] = np.int8(0)
    f.flush()


def is_complete(f: h5py.File) -> bool:
    """Whether the file says every tile is written."""
    return bool(f.attrs.get("complete", 0))


def count_outcomes(f: h5py.File) -> dict[str, int]:
    """Points per outcome in a grid file, read one eta slice at a time."""
    total = dict.fromkeys(outcome_counts(np.empty(0, np.int8)), 0)
    for e in range(f["status"].shape[0]):
        for k, v in outcome_counts(f["status"][e]).items():
            total[k] += v
    return total


# ---------------------------------------------------------------- reading


def check_resumable(f: h5py.File, path) -> None:
    """Refuse, in one line, a partial file in the layout of eosfast before the ``resume`` group.

    Those files keep their bookkeeping (``tile``, ``tile_done``) at the root
    and their chunks without checksums, so their finished tiles cannot be
    verified: they are not continued.
    """
    if RESUME not in f:
        version = f.attrs.get("eosfast_version", "an older version")
        raise EosfastError(f"{path} is a partial run in the file layout of eosfast {version} "
                           "(bookkeeping at the root, chunks without checksums), which this "
                           "version cannot resume: rerun with --force to start over")


def open_for_resume(part: str | os.PathLike,
                    check_params: Callable[[dict], None]) -> h5py.File:
    """Open a grid ``.part`` to continue it (mode ``r+``): its layout one this
    version continues, its parameters accepted by ``check_params(stored)``.

    Its done tiles are then checked by :func:`eosfast.store.integrity.recheck_tiles`.
    """
    f = open_grid(part, "r+")
    with closed_on_error(f):
        check_resumable(f, part)
        check_params(read_params(f))
    return f


def axes_of(f: h5py.File) -> tuple[str, str, str]:
    """The names of a grid file's ``(slices, rows, columns)``: ``(eta, y0, x0)`` or a plane's."""
    return file_axes(f)


def coords_of(f: h5py.File) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grid file's slice, row and column coordinates (whatever they are named)."""
    s, r, c = axes_of(f)
    return f[s][:], f[r][:], f[c][:]


def open_grid(path: str | os.PathLike, mode: str = "r") -> h5py.File:
    """Open a grid file (complete or ``.part``), checked against the grid layout."""
    f = open_file(path, GRID.kind, mode)
    with closed_on_error(f):
        read_params(f)
        check_bookkeeping(f, path)
    return f


def check_bookkeeping(f: h5py.File, path) -> None:
    """Refuse a grid file whose resume bookkeeping does not fit its arrays."""
    if RESUME not in f:
        return
    g = f[RESUME]
    ts = np.asarray(g.attrs.get("tile_shape", []))
    if ts.shape != (2,) or ts.dtype.kind not in "iu" or not (ts > 0).all():
        raise EosfastError(f"{path} is damaged: resume/tile_shape is not two positive integers")
    done = g.get("tile_done")
    ntiles = math.prod(tile_grid(f["status"].shape, (int(ts[0]), int(ts[1]))))
    if not isinstance(done, h5py.Dataset) or done.shape != (ntiles,) \
            or done.dtype != np.int8:
        raise EosfastError(f"{path} is damaged: resume/tile_done is not {ntiles} int8 flags")


#: How close a requested step size must be to one of a file's (relative): a value
#: printed with 6 significant digits (``%g``, as summaries print it) is within 5e-6.
ETA_MATCH_RTOL = 1e-5


def eta_index(etas: np.ndarray, eta: float, path) -> int:
    """Index of the slice whose step size is ``eta``.

    An exact match (to 1e-12 relative) is taken as is. Otherwise the nearest
    step size within :data:`ETA_MATCH_RTOL` is taken, with an
    :class:`~eosfast.errors.Note` saying which (so ``--eta 0.113333`` finds
    the slice ``0.11333333333333334`` that a summary printed as 0.113333).
    Raises :class:`EosfastError` listing the step sizes (each as the shortest
    text that reads back exactly) when none is that close.
    """
    import warnings

    from ..errors import Note

    etas = np.asarray(etas, dtype=np.float64)
    eta = float(eta)
    exact = np.flatnonzero(np.isclose(etas, eta, rtol=1e-12, atol=0.0))
    if exact.size:
        return int(exact[0])
    near = np.flatnonzero(np.isclose(etas, eta, rtol=ETA_MATCH_RTOL, atol=0.0))
    if near.size:
        k = int(near[np.argmin(np.abs(etas[near] - eta))])
        warnings.warn(Note(f"eta={eta!r} taken as the step size {float(etas[k])!r} of {path}"),
                      stacklevel=2)
        return k
    shown = ", ".join(repr(float(e)) for e in etas[:20]) + (", ..." if etas.size > 20 else "")
    raise EosfastError(f"{path} has no slice at eta={eta!r} (it has {shown})")


def read_array(f: h5py.File, name: str, sel=slice(None)) -> np.ndarray:
    """Read ``f[name][sel]``, turning a failed checksum into one line."""
    try:
        return f[name][sel]
    except OSError as exc:
        raise EosfastError(f"{f.filename}: array {name!r} is damaged ({exc}); "
                           "`eosfast info --verify` lists what is wrong") from None


def pending_mask(status: np.ndarray) -> np.ndarray:
    """Where a (partial file's) status array holds no result yet."""
    return status == Status.PENDING

