"""The ensemble file (vector case, Theorem 3.2): creation, pieces, resume bookkeeping, reading.

Layout (:data:`eosfast.store.layouts.ENSEMBLE`): the coordinate ``sample``
(int64 dimension scale) and one array per result field, each shaped
``(sample,)``, chunked one piece of samples a chunk, deflated and
checksummed (Fletcher-32), so that h5py, xarray (``engine="h5netcdf"``) and
pandas (:func:`eosfast.read_frame`) read it directly.

Resume bookkeeping lives in the group ``resume`` (outside xarray's dataset):
``resume/piece_done`` (int8, one flag per piece) is set only after the
piece's chunks are written and flushed; ``--resume`` re-verifies every done
piece against its checksums (:func:`eosfast.store.integrity.recheck_pieces`)
and computes again any that fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import h5py
import numpy as np

from ..errors import EosfastError
from .h5 import add_array, add_coord, closed_on_error, new_file, open_file, read_params, stamp
from .layouts import ENSEMBLE, ENSEMBLE_FIELDS

#: Group holding the resume bookkeeping.
RESUME = "resume"

#: Disk space reserved beyond a piece's own bytes (HDF5's bookkeeping, a margin).
RESERVE_MARGIN = 1 << 20


def create(path: Path, params: dict, samples: int, piece: int) -> h5py.File:
    """Create a new ensemble file at ``path`` (truncating) and return it open for writing."""
    f = new_file(path)
    with closed_on_error(f):
        stamp(f, ENSEMBLE.kind, params, objective=params["objective"], dim=params["dim"],
              eta=params["eta"], delta_x=params["delta_x"], delta_y=params["delta_y"],
              samples=samples, seed=params["seed"], steps=params["steps"],
              tol=params["tol"], escape=params["escape"], complete=np.int8(0))
        add_coord(f, "sample", np.arange(samples, dtype=np.int64), ENSEMBLE.coords["sample"])
        chunk = (min(piece, samples),)
        for name, var in ENSEMBLE_FIELDS.items():
            add_array(f, name, var, shape=(samples,), chunks=chunk)
        g = f.create_group(RESUME)
        npieces = -(-samples // piece)
        done = g.create_dataset("piece_done", shape=(npieces,), dtype=np.int8, fillvalue=0)
        done.attrs["description"] = "1 where the piece of samples is written"
        g.attrs["piece"] = np.int64(piece)
        f.flush()
    return f


def write_piece(f: h5py.File, index: int, start: int, arrays: dict[str, np.ndarray]) -> None:
    """Write one piece (samples ``start ..``) and mark it done, durably.

    Its disk space is reserved first: a full disk stops the run between pieces.
    """
    n = arrays["status"].size
    reserve = getattr(f, "reserve", None)
    if reserve is not None:
        reserve(2 * sum(np.asarray(a).nbytes for a in arrays.values()) + RESERVE_MARGIN)
    for name, var in ENSEMBLE_FIELDS.items():
        f[name][start:start + n] = np.asarray(arrays[name], dtype=var.dtype)
    # one flush for data and mark; --resume re-verifies done pieces anyway
    f[RESUME]["piece_done"][index] = 1
    f.flush()


def piece_size(f: h5py.File) -> int:
    """Samples per piece (the arrays' chunk)."""
    return int(f[RESUME].attrs["piece"])


def done_pieces(f: h5py.File) -> np.ndarray:
    """Boolean mask of the pieces marked written, shape (n_pieces,)."""
    return f[RESUME]["piece_done"][:].astype(bool)


def mark_undone(f: h5py.File, pieces: Iterable[int]) -> None:
    """Clear the done mark of ``pieces`` (found damaged: they will be recomputed)."""
    done = f[RESUME]["piece_done"]
    for k in pieces:
        done[int(k)] = 0
    f.attrs["complete"] = np.int8(0)
    f.flush()


def finish(f: h5py.File) -> None:
    """Mark the file complete (every piece written)."""
    f.attrs["complete"] = np.int8(1)
    f.flush()


def is_complete(f: h5py.File) -> bool:
    """Whether the file says every piece is written."""
    return bool(f.attrs.get("complete", 0))


def open_ensemble(path: str | os.PathLike, mode: str = "r") -> h5py.File:
    """Open an ensemble file (complete or ``.part``), checked against its layout."""
    f = open_file(path, ENSEMBLE.kind, mode)
    with closed_on_error(f):
        read_params(f)
        check_bookkeeping(f, path)
    return f


def check_bookkeeping(f: h5py.File, path) -> None:
    """Refuse an ensemble file whose resume bookkeeping does not fit its arrays."""
    g = f.get(RESUME)
    if not isinstance(g, h5py.Group):
        raise EosfastError(f"{path} is damaged: group {RESUME!r} is missing")
    piece = np.asarray(g.attrs.get("piece", 0))
    if piece.ndim != 0 or piece.dtype.kind not in "iu" or int(piece) <= 0:
        raise EosfastError(f"{path} is damaged: resume/piece is not a positive integer")
    n = -(-f["status"].shape[0] // int(piece))
    done = g.get("piece_done")
    if not isinstance(done, h5py.Dataset) or done.shape != (n,) or done.dtype != np.int8:
        raise EosfastError(f"{path} is damaged: resume/piece_done is not {n} int8 flags")


def open_for_resume(part: str | os.PathLike,
                    check_params: Callable[[dict], None]) -> h5py.File:
    """Open an ensemble ``.part`` to continue it (mode ``r+``), its parameters
    accepted by ``check_params(stored)``; its done pieces are then checked by
    :func:`eosfast.store.integrity.recheck_pieces`."""
    f = open_ensemble(part, "r+")
    with closed_on_error(f):
        check_params(read_params(f))
    return f


def read_arrays(path: str | os.PathLike, columns: Iterable[str] | None = None
                ) -> tuple[dict[str, np.ndarray], dict]:
    """The per-sample arrays of an ensemble file (``sample`` and the fields), and its params."""
    names = list(columns) if columns is not None else ["sample", *ENSEMBLE_FIELDS]
    with open_ensemble(path) as f:
        return {n: f[n][:] for n in names}, read_params(f)
