"""Grid arrays as rows: the columns of :func:`eosfast.read_frame` and ``eosfast export``.

A grid point is a row with the columns ``eta, x0, y0`` (its coordinates,
float64; on a plane, :mod:`eosfast.axes`, the parameters of its slices,
columns and rows) and the per-point fields ``status, steps, period, sharpness, loss,
x, y`` (dtypes of :data:`~eosfast.store.layouts.GRID_FIELDS`). Rows run in
``(eta, y0, x0)`` order, ``x0`` fastest, as the arrays lie in the file. A
row of every column takes :data:`ROW_BYTES` (63) bytes: a frame of the whole
default 4096^2 file is 1.06 GB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from . import validate
from .errors import EosfastError
from .store.layouts import GRID_DIMS, GRID_DTYPES, GRID_FIELDS

#: The coordinate columns, in frame order.
AXES = ("eta", "x0", "y0")

#: A grid's dimensions ``(slices, rows, columns)`` of initial points.
GRID_AXES = GRID_DIMS


def axis_columns(axes: tuple[str, str, str] = GRID_AXES) -> tuple[str, str, str]:
    """The coordinate columns of a grid with these dimensions, in frame order."""
    return (axes[0], axes[2], axes[1])

#: Every column, in order.
COLUMNS = (*AXES, *GRID_FIELDS)

#: dtype of every column.
DTYPES = {**{a: np.dtype(np.float64) for a in AXES}, **GRID_DTYPES}

#: Bytes of one row holding every column.
ROW_BYTES = sum(dt.itemsize for dt in DTYPES.values())


def columns(value: Iterable[str] | str | None, index: bool = False,
            name: str = "columns", axes: tuple[str, str, str] = GRID_AXES) -> list[str]:
    """The columns selected by ``columns=`` (all when None), in the order given.

    With ``index`` the axes (``eta, y0, x0``, or a plane's) become the
    index, so they are dropped from the columns.
    """
    coords = axis_columns(axes)
    cols = validate.names(name, value, (*coords, *GRID_FIELDS))
    if index:
        cols = [c for c in cols if c not in coords]
    return cols


def frame_bytes(n_points: int, cols: Iterable[str]) -> int:
    """Bytes of a frame of ``n_points`` rows and these columns."""
    return n_points * sum(DTYPES.get(c, np.dtype(np.float64)).itemsize for c in cols)


def column_arrays(eta: np.ndarray, y0: np.ndarray, x0: np.ndarray,
                  arrays: Mapping[str, np.ndarray], cols: Iterable[str],
                  axes: tuple[str, str, str] = GRID_AXES) -> dict[str, np.ndarray]:
    """1-D arrays of the columns ``cols`` for grid arrays shaped ``(n_eta, ny, nx)``.

    ``eta``, ``y0``, ``x0`` are the coordinates of the block's slices, rows
    and columns (a block may be any sub-grid: one eta, some rows), whose
    columns ``axes`` names; ``arrays`` maps a field to its block.
    """
    ne, ny, nx = len(eta), len(y0), len(x0)
    make = {axes[0]: lambda: np.repeat(np.asarray(eta, np.float64), ny * nx),
            axes[2]: lambda: np.tile(np.asarray(x0, np.float64), ne * ny),
            axes[1]: lambda: np.tile(np.repeat(np.asarray(y0, np.float64), nx), ne)}
    return {c: (make[c]() if c in make else np.asarray(arrays[c]).reshape(-1)) for c in cols}


def frame_from_arrays(eta: np.ndarray, y0: np.ndarray, x0: np.ndarray,
                      arrays: Mapping[str, np.ndarray], cols: Iterable[str] | None = None,
                      index: bool = False, axes: tuple[str, str, str] = GRID_AXES):
    """A pandas DataFrame of grid arrays shaped ``(n_eta, ny, nx)``: one row per point.

    Parameters
    ----------
    eta, y0, x0 : ndarray, float64
        The axes.
    arrays : mapping of str -> ndarray
        The fields to include (each shaped ``(n_eta, ny, nx)``).
    cols : iterable of str, optional
        Columns, default the axes and every field of ``arrays`` in
        :data:`COLUMNS` order.
    index : bool
        Index the rows by an ``(eta, y0, x0)`` MultiIndex instead of axis columns.
    axes : (str, str, str)
        The names of the slices, rows and columns (a plane's: :mod:`eosfast.axes`).
    """
    import pandas as pd

    coords = axis_columns(axes)
    if cols is None:
        cols = [*coords, *(c for c in GRID_FIELDS if c in arrays)]
    cols = columns(list(cols), index, axes=axes)
    missing = [c for c in cols if c not in coords and c not in arrays]
    if missing:
        raise EosfastError(f"no array for the column(s) {', '.join(missing)} (read without them)")
    df = pd.DataFrame(column_arrays(eta, y0, x0, arrays, cols, axes), copy=False)
    if index:
        df.index = pd.MultiIndex.from_product(
            [np.asarray(eta, np.float64), np.asarray(y0, np.float64),
             np.asarray(x0, np.float64)], names=list(axes))
    return df
