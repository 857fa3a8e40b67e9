"""Reading grid files: into a :class:`~eosfast.GridResult`, a pandas DataFrame, or in blocks.

Every reader reads only what it is asked for: some step sizes (``eta=``),
some fields (``fields=`` / ``columns=``), every k-th point (``stride=``, for
pictures) or one band of rows at a time (:func:`iter_blocks`, for streaming
writers), so a column of a 4096^2 file costs its own size, not the whole
file's.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import frame, validate
from .errors import InvalidArgument
from .result import GridResult
from .store.gridfile import axes_of, coords_of, eta_index, open_grid, read_array
from .store.h5 import read_params
from .store.layouts import GRID_FIELDS

#: A frame above this many bytes is announced with a :class:`LargeFrameWarning`.
LARGE_FRAME = 2 * 2**30


class LargeFrameWarning(ResourceWarning):
    """:func:`read_frame` is about to build a frame of more than :data:`LARGE_FRAME` bytes."""


# Python's default filters ignore ResourceWarning; this one is about memory the
# user is about to spend, so it is shown (once per call site) unless filtered.
warnings.filterwarnings("default", category=LargeFrameWarning)

#: Points per block of :func:`iter_blocks` (about 63 MiB of rows with every column).
BLOCK_POINTS = 1 << 20

def read_grid(path: str | os.PathLike, eta: float | None = None,
              fields: Iterable[str] | None = None, stride: int | Sequence[int] = 1
              ) -> GridResult:
    """Load a grid result file into memory.

    Parameters
    ----------
    path : path-like
        A file written by :func:`eosfast.grid` (complete or ``.part``).
    eta : float, optional
        Load only the slice with this step size.
    fields : iterable of str, optional
        Load only these arrays (default every one of ``status, steps, period,
        sharpness, loss, x, y``); the others are None.
    stride : int or (int, int)
        Keep every ``stride``-th point along ``y0`` and ``x0`` (``(sy, sx)``
        for different steps): a picture of a large grid needs no more points
        than it has pixels. The axes are strided alike.

    Returns
    -------
    GridResult
        Arrays shaped (n_eta, ny, nx); in a partial file, points not computed
        yet have ``status == -128`` (``Status.PENDING``).
    """
    names = validate.names("fields", fields, list(GRID_FIELDS))
    sy, sx = validate.tile("stride", stride)
    if eta is not None:
        eta = validate.real("eta", eta)
    with open_grid(path) as f:
        axes = axes_of(f)
        etas, y0, x0 = coords_of(f)
        sel = slice(None)
        if eta is not None:
            i = eta_index(etas, eta, path)
            sel = slice(i, i + 1)
        ys = slice(None, None, sy if sy > 1 else None)
        xs = slice(None, None, sx if sx > 1 else None)
        arrays = {n: (read_array(f, n, (sel, ys, xs)) if n in names else None)
                  for n in GRID_FIELDS}
        return GridResult(model=str(f.attrs["model"]), eta=etas[sel], y0=y0[ys],
                          x0=x0[xs], params=read_params(f), axes=axes, **arrays)


@dataclass
class Block:
    """A band of rows of one eta slice, from :func:`iter_blocks`.

    Attributes
    ----------
    index : int
        Position of the slice on the file's eta axis.
    eta : float
    rows : slice
        The band's rows along ``y0``.
    y0, x0 : ndarray, float64
        The band's axes.
    arrays : dict of str -> ndarray, each shaped (1, len(y0), len(x0))
    """

    index: int
    eta: float
    rows: slice
    y0: np.ndarray
    x0: np.ndarray
    arrays: dict[str, np.ndarray]
    axes: tuple[str, str, str] = frame.GRID_AXES

    def frame_columns(self, cols: Iterable[str]) -> dict[str, np.ndarray]:
        """The band as 1-D column arrays (rows in file order)."""
        return frame.column_arrays(np.array([self.eta]), self.y0, self.x0, self.arrays, cols,
                                   self.axes)


def band_rows(f, points: int = BLOCK_POINTS) -> int:
    """Rows of ``y0`` per band of :func:`iter_blocks`: whole chunks, about ``points`` points."""
    _, ny, nx = f["status"].shape
    chunk_rows = (f["status"].chunks or (1, ny, nx))[1]
    return max(chunk_rows, chunk_rows * (max(1, points // max(nx, 1)) // chunk_rows))


def count_bands(f, slices: int, points: int = BLOCK_POINTS) -> int:
    """How many bands :func:`iter_blocks` yields for ``slices`` eta slices."""
    return slices * -(-f["status"].shape[1] // band_rows(f, points))


def iter_blocks(f, fields: Iterable[str], etas: Iterable[int] | None = None,
                points: int = BLOCK_POINTS) -> Iterator[Block]:
    """Bands of rows of an open grid file, one eta slice after the other.

    Each band spans whole chunks along ``y0`` (reads decompress each chunk
    once) and about ``points`` points, so memory stays flat however large
    the file.

    Parameters
    ----------
    f : h5py.File
        An open grid file (:func:`eosfast.store.gridfile.open_grid`).
    fields : iterable of str
        Fields to read.
    etas : iterable of int, optional
        Slice indices (default all, in order).
    points : int
        About how many points a band holds.
    """
    fields = list(fields)
    ne, ny, _ = f["status"].shape
    rows = band_rows(f, points)
    etas_all, y0, x0 = coords_of(f)
    axes = axes_of(f)
    for e in range(ne) if etas is None else etas:
        for start in range(0, ny, rows):
            band = slice(start, min(ny, start + rows))
            arrays = {n: read_array(f, n, (slice(e, e + 1), band)) for n in fields}
            yield Block(int(e), float(etas_all[e]), band, y0[band], x0, arrays, axes)


def read_frame(path: str | os.PathLike, eta: float | None = None,
               columns: Iterable[str] | None = None, index: bool = False):
    """Load a grid result file as a pandas DataFrame.

    Parameters
    ----------
    path : path-like
        An eosfast grid file (or an ensemble file: then :func:`read_ensemble`).
    eta : float, optional
        Only the slice with this step size.
    columns : iterable of str, optional
        Only these columns, of ``eta, x0, y0, status, steps, period,
        sharpness, loss, x, y`` (default all); the arrays of the others are
        not read.
    index : bool
        Index the rows by an ``(eta, y0, x0)`` MultiIndex (the axes are then
        not columns).

    Returns
    -------
    pandas.DataFrame
        One row per grid point, rows in (eta, y0, x0) order, x0 fastest;
        dtypes as in the file. A row of every column takes 63 bytes
        (:data:`eosfast.frame.ROW_BYTES`): a frame of the whole default
        4096^2 file is 1.06 GB (1.3 GB peak while it is built). Select
        what you need, or stream the rows to Parquet with
        :func:`eosfast.export`.

    Warns
    -----
    LargeFrameWarning
        (a ResourceWarning, shown by default) when the frame will take more
        than 2 GiB, with its size.
    """
    from .store.h5 import file_kind
    from .store.layouts import ENSEMBLE

    if file_kind(path) == ENSEMBLE.kind:
        if eta is not None:
            raise InvalidArgument("{eta} selects a slice of a grid; an ensemble file has one "
                                  "step size", "eta")
        return read_ensemble(path, columns, index)
    index = validate.flag("index", index)
    if eta is not None:
        eta = validate.real("eta", eta)
    with open_grid(path) as f:
        axes = axes_of(f)
        ne, ny, nx = f["status"].shape
        n = (1 if eta is not None else ne) * ny * nx
    cols = frame.columns(columns, index, axes=axes)
    size = frame.frame_bytes(n, cols + (list(axes) if index else []))
    if size > LARGE_FRAME:
        warnings.warn(f"the frame of {path} will take about {size / 2**30:.1f} GiB "
                      f"({n} rows x {size / max(n, 1):.0f} bytes); pass columns=[...] or "
                      "eta=... to read less, or stream it with eosfast.export",
                      LargeFrameWarning, stacklevel=2)
    fields = [c for c in cols if c in GRID_FIELDS]
    r = read_grid(path, eta=eta, fields=fields)
    return frame.frame_from_arrays(r.eta, r.y0, r.x0, {n: getattr(r, n) for n in fields},
                                   cols, index, axes)


def read_ensemble(path: str | os.PathLike, columns: Iterable[str] | None = None,
                  index: bool = True):
    """Load an ensemble file (``eosfast ensemble``) as a pandas DataFrame, one row a sample.

    Parameters
    ----------
    path : path-like
        An eosfast ensemble file (complete, or a ``.part``: its samples not
        computed yet have status -128).
    columns : iterable of str, optional
        Only these of ``inner0, status, steps, period, norm2, sharpness,
        loss, inner`` (default all).
    index : bool
        Index the rows by ``sample`` (else it is a column).

    Returns
    -------
    pandas.DataFrame
        dtypes as in the file; ``df.attrs`` holds the run's parameters.
    """
    import pandas as pd

    from .store.ensemblefile import read_arrays
    from .store.layouts import ENSEMBLE_FIELDS

    index = validate.flag("index", index)
    cols = (list(ENSEMBLE_FIELDS) if columns is None
            else validate.names("columns", columns, list(ENSEMBLE_FIELDS)))
    arrays, params = read_arrays(path, ["sample", *cols])
    sample = arrays.pop("sample")
    if index:
        df = pd.DataFrame(arrays, index=pd.Index(sample, name="sample"))
    else:
        df = pd.DataFrame({"sample": sample, **arrays})
    df.attrs.update(params)
    return df


def picture_stride(shape: tuple[int, int], pixels: int) -> tuple[int, int]:
    """The largest stride that keeps at least ``pixels`` points along each axis of ``(ny, nx)``."""
    ny, nx = shape
    return max(1, ny // max(pixels, 1)), max(1, nx // max(pixels, 1))
