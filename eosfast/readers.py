"""Reading grid files: into a :class:`~eosfast.GridResult` or a pandas DataFrame.

Both read only what they are asked for: one step size (``eta=``) and some
fields (``fields=`` / ``columns=``), so a column of a 4096^2 file costs its
own size, not the whole file's.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from . import validate
from .errors import EosfastError
from .result import GridResult
from .store.gridfile import eta_index, open_grid, read_array
from .store.h5 import read_params
from .store.layouts import GRID_DTYPES, GRID_FIELDS
from .validate import show

#: Columns of :func:`read_frame`, in order.
COLUMNS = ("eta", "x0", "y0", *GRID_FIELDS)

#: A frame above this many bytes is announced with a warning.
LARGE_FRAME = 2 * 2**30


def _fields(fields: Iterable[str] | None, known: Sequence[str], what: str) -> list[str]:
    if fields is None:
        return list(known)
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, Iterable) or isinstance(fields, bytes):
        raise EosfastError(f"{what}s must be a name or names, got {show(fields)}")
    fields = list(fields)
    if not all(isinstance(n, str) for n in fields):
        raise EosfastError(f"{what}s must be names, got {show(fields)}")
    unknown = [n for n in fields if n not in known]
    if unknown:
        raise EosfastError(f"unknown {what} {', '.join(map(repr, unknown))} (known: "
                           f"{', '.join(known)})")
    return fields


def read_grid(path: str | os.PathLike, eta: float | None = None,
              fields: Iterable[str] | None = None) -> GridResult:
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

    Returns
    -------
    GridResult
        Arrays shaped (n_eta, ny, nx); in a partial file, points not computed
        yet have ``status == -128`` (``Status.PENDING``).
    """
    names = _fields(fields, list(GRID_FIELDS), "field")
    if eta is not None:
        eta = validate.real("eta", eta)
    with open_grid(path) as f:
        etas = f["eta"][:]
        sel = slice(None)
        if eta is not None:
            i = eta_index(etas, eta, path)
            sel = slice(i, i + 1)
        arrays = {n: (read_array(f, n, sel) if n in names else None) for n in GRID_FIELDS}
        return GridResult(model=str(f.attrs["model"]), eta=etas[sel], y0=f["y0"][:],
                          x0=f["x0"][:], params=read_params(f), **arrays)


def frame_from_arrays(eta: np.ndarray, y0: np.ndarray, x0: np.ndarray,
                      arrays: dict[str, np.ndarray], columns: Iterable[str] | None = None,
                      index: bool = False):
    """A DataFrame of grid arrays shaped (n_eta, ny, nx): one row per point, x0 fastest."""
    import pandas as pd

    cols = _fields(columns, [c for c in COLUMNS if c in ("eta", "x0", "y0") or c in arrays],
                   "column")
    ne, ny, nx = eta.size, y0.size, x0.size
    axes = {"eta": lambda: np.repeat(eta, ny * nx),
            "x0": lambda: np.tile(x0, ne * ny),
            "y0": lambda: np.tile(np.repeat(y0, nx), ne)}
    data = {c: (axes[c]() if c in axes else arrays[c].reshape(-1)) for c in cols}
    df = pd.DataFrame(data, copy=False)
    if index:
        mi = pd.MultiIndex.from_product([eta, y0, x0], names=["eta", "y0", "x0"])
        df = df.drop(columns=[c for c in ("eta", "y0", "x0") if c in df.columns])
        df.index = mi
    return df


def frame_bytes(n_points: int, columns: Iterable[str]) -> int:
    """Bytes of a frame of ``n_points`` rows and these columns."""
    return n_points * sum(8 if c in ("eta", "x0", "y0") else GRID_DTYPES[c].itemsize
                          for c in columns)


def read_frame(path: str | os.PathLike, eta: float | None = None,
               columns: Iterable[str] | None = None, index: bool = False):
    """Load a grid result file as a pandas DataFrame.

    Parameters
    ----------
    path : path-like
        An eosfast grid file.
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
        dtypes as in the file. A frame of the whole default 4096^2 file is
        about 1.1 GB (68 bytes a row): select what you need.

    Warns
    -----
    ResourceWarning
        When the frame will take more than 2 GiB, with its size.
    """
    cols = _fields(columns, list(COLUMNS), "column")
    index = validate.flag("index", index)
    if eta is not None:
        eta = validate.real("eta", eta)
    if index:
        cols = [c for c in cols if c not in ("eta", "y0", "x0")]
    with open_grid(path) as f:
        ne = 1 if eta is not None else f["eta"].shape[0]
        n = ne * f["y0"].shape[0] * f["x0"].shape[0]
    size = frame_bytes(n, cols + (["eta", "y0", "x0"] if index else []))
    if size > LARGE_FRAME:
        warnings.warn(f"the frame of {path} will take about {size / 2**30:.1f} GiB; pass "
                      "columns=[...] or eta=... to read less", ResourceWarning, stacklevel=2)
    fields = [c for c in cols if c in GRID_FIELDS]
    r = read_grid(path, eta=eta, fields=fields)
    return frame_from_arrays(r.eta, r.y0, r.x0, {n: getattr(r, n) for n in fields},
                             cols if not index else fields, index)
