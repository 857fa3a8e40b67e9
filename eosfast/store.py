"""The grid result file: the one module that knows the HDF5 layout.

Layout (see DESIGN.md): coordinates ``eta``, ``y0``, ``x0`` (1-D float64
dimension scales) and the arrays of :data:`~eosfast.result.FIELDS`, each shaped
``(eta, y0, x0)``, chunked by tile and compressed, so that h5py, xarray
(``engine="h5netcdf"``) and pandas read the file directly.

Resume bookkeeping: ``tile_done`` (int8, one entry per tile, with its own
dimension scale ``tile``) is set to 1 only after that tile's data has been
written and flushed, so a run killed at any moment leaves a file that says
exactly which tiles are complete. Runs are written to ``<name>.part`` and
renamed to ``<name>`` only when every tile is done.
"""

from __future__ import annotations

import json
import os
import zlib
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

from ._version import __version__
from .errors import EosfastError
from .result import FIELDS, GridResult, outcome_counts

#: Values that mark "not computed yet" in a partial file.
FILL = {"status": -128, "steps": -1, "period": -1}

#: Filters of every per-point array: byte shuffle then deflate (level 1), which
#: every HDF5 reader decodes. Chunks are encoded by the workers that computed
#: them (:func:`encode_tile`, in parallel, GIL released by zlib) and written
#: as they are with ``write_direct_chunk``, so the single writer only copies
#: bytes. A float chunk that is mostly finite (random mantissas, which deflate
#: shrinks by a third at a tenth of the speed) is stored raw: HDF5's
#: per-chunk filter mask records that, and readers see no difference.
COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}

#: Filter-mask value meaning "shuffle and deflate not applied to this chunk".
RAW_CHUNK = 0b11

#: Float chunks with at least this fraction of NaN (diverged points) are deflated.
DEFLATE_NAN_FRACTION = 0.25

#: Root attribute marking an eosfast grid file.
KIND = "eosfast.grid"


def part_path(path: str | os.PathLike) -> Path:
    """The temporary name a run writes to before the final rename."""
    path = Path(path)
    return path.with_name(path.name + ".part")


def tile_grid(shape: tuple[int, int, int], tile: tuple[int, int]) -> tuple[int, int, int]:
    """Number of tiles along ``(eta, y0, x0)`` for tiles of ``tile = (ty, tx)``."""
    ne, ny, nx = shape
    ty, tx = tile
    return ne, -(-ny // ty), -(-nx // tx)


def create(path: Path, params: dict, eta: np.ndarray, y0: np.ndarray, x0: np.ndarray,
           tile: tuple[int, int]) -> h5py.File:
    """Create a new result file at ``path`` (truncating) and return it open for writing."""
    shape = (eta.size, y0.size, x0.size)
    f = h5py.File(path, "w")
    try:
        for name, axis in (("eta", eta), ("y0", y0), ("x0", x0)):
            d = f.create_dataset(name, data=np.asarray(axis, dtype=np.float64))
            d.make_scale(name)
        chunks = (1, min(tile[0], shape[1]), min(tile[1], shape[2]))
        for name, (dtype, doc) in FIELDS.items():
            fill = FILL.get(name, np.nan)
            d = f.create_dataset(name, shape=shape, dtype=dtype, chunks=chunks,
                                 fillvalue=fill, **COMPRESSION)
            d.attrs["description"] = doc
            for axis, dim in enumerate(("eta", "y0", "x0")):
                d.dims[axis].attach_scale(f[dim])
        ntiles = int(np.prod(tile_grid(shape, tile)))
        t = f.create_dataset("tile", data=np.arange(ntiles, dtype=np.int64))
        t.make_scale("tile")
        done = f.create_dataset("tile_done", shape=(ntiles,), dtype=np.int8, fillvalue=0)
        done.attrs["description"] = "1 where the tile (eta-major, then y0, then x0) is written"
        done.dims[0].attach_scale(t)
        attrs = f.attrs
        attrs["kind"] = KIND
        attrs["model"] = params["model"]
        attrs["steps"] = params["steps"]
        attrs["tol"] = params["tol"]
        attrs["escape"] = params["escape"]
        attrs["eosfast_version"] = __version__
        attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        attrs["params"] = json.dumps(params, sort_keys=True)
        attrs["tile_shape"] = np.asarray(tile, dtype=np.int64)
        attrs["complete"] = np.int8(0)
        f.flush()
    except BaseException:
        f.close()
        raise
    return f


def encode_tile(arrays: dict[str, np.ndarray], chunk: tuple[int, int]
                ) -> dict[str, tuple[bytes, int]]:
    """Encode a tile's arrays as stored HDF5 chunks: ``name -> (bytes, filter_mask)``.

    Parameters
    ----------
    arrays : dict of ndarray, each shaped (ty, tx) with ty <= chunk[0], tx <= chunk[1]
        One tile (a tile at the grid's edge may be smaller than a chunk; it
        is padded with the fill value, as HDF5 itself would).
    chunk : (int, int)
        The datasets' chunk shape in (y0, x0).
    """
    out = {}
    for name, (dtype, _) in FIELDS.items():
        a = np.asarray(arrays[name], dtype=dtype)
        if a.shape != chunk:
            full = np.full(chunk, FILL.get(name, np.nan), dtype=dtype)
            full[: a.shape[0], : a.shape[1]] = a
            a = full
        raw = np.ascontiguousarray(a)
        if a.dtype.kind == "f" and np.count_nonzero(np.isnan(a)) < DEFLATE_NAN_FRACTION * a.size:
            out[name] = (raw.tobytes(), RAW_CHUNK)
            continue
        shuffled = raw.view(np.uint8).reshape(-1, a.itemsize).T.tobytes()
        out[name] = (zlib.compress(shuffled, 1), 0)
    return out


def write_tile(f: h5py.File, index: int, e: int, ys: slice, xs: slice,
               arrays: dict[str, np.ndarray] | dict[str, tuple[bytes, int]]) -> None:
    """Write one tile and mark it done, durably.

    ``arrays`` holds either the tile's arrays (each shaped (ty, tx)) or the
    chunks :func:`encode_tile` made of them.
    """
    for name in FIELDS:
        value = arrays[name]
        if isinstance(value, tuple):
            data, mask = value
            f[name].id.write_direct_chunk((e, ys.start, xs.start), data, mask)
        else:
            f[name][e, ys, xs] = value
    f.flush()
    f["tile_done"][index] = 1
    f.flush()


def finish(f: h5py.File) -> None:
    """Mark the file complete (every tile written)."""
    f.attrs["complete"] = np.int8(1)
    f.flush()


def count_outcomes(f: h5py.File) -> dict[str, int]:
    """Points per outcome in a result file, read one eta slice at a time."""
    total: dict[str, int] = {}
    for e in range(f["status"].shape[0]):
        for k, v in outcome_counts(f["status"][e]).items():
            total[k] = total.get(k, 0) + v
    return total


def read_params(f: h5py.File, path) -> dict:
    """The ``params`` of an eosfast grid file, or :class:`EosfastError` if it is not one."""
    if f.attrs.get("kind") != KIND or "params" not in f.attrs:
        raise EosfastError(f"{path} is not an eosfast grid result")
    return json.loads(f.attrs["params"])


def open_existing(path: Path, mode: str = "r") -> h5py.File:
    """Open an HDF5 file, turning unreadable files into :class:`EosfastError`."""
    try:
        return h5py.File(path, mode)
    except FileNotFoundError:
        raise EosfastError(f"{path}: no such file") from None
    except OSError as exc:
        raise EosfastError(f"{path} is not a readable HDF5 file ({exc})") from None


def done_tiles(f: h5py.File) -> np.ndarray:
    """Boolean mask of finished tiles, shape (n_tiles,)."""
    return f["tile_done"][:].astype(bool)


def is_complete(f: h5py.File) -> bool:
    """Whether every tile of the file is written."""
    return bool(f.attrs.get("complete", 0))


def read_grid(path: str | os.PathLike, eta: float | None = None) -> GridResult:
    """Load a grid result file into memory.

    Parameters
    ----------
    path : path-like
        A file written by :func:`eosfast.grid` (complete or ``.part``).
    eta : float, optional
        Load only the slice with this step size.

    Returns
    -------
    GridResult
        Arrays shaped (n_eta, ny, nx); in a partial file, points not computed
        yet have ``status == -128``.
    """
    path = Path(path)
    with open_existing(path) as f:
        params = read_params(f, path)
        etas = f["eta"][:]
        sel = slice(None)
        if eta is not None:
            hits = np.flatnonzero(np.isclose(etas, eta, rtol=1e-12, atol=0.0))
            if hits.size == 0:
                raise EosfastError(f"{path} has no slice at eta={eta!r} (it has {list(etas)})")
            sel = slice(int(hits[0]), int(hits[0]) + 1)
        arrays = {name: f[name][sel] for name in FIELDS}
        return GridResult(model=str(f.attrs["model"]), eta=etas[sel], y0=f["y0"][:],
                          x0=f["x0"][:], params=params, **arrays)
