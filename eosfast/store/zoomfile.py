"""The zoom file (kind ``eosfast.zoom``): creation, levels written tile by tile, reading.

Layout (:data:`eosfast.store.layouts.ZOOM`): root attributes ``model``,
``eta``, ``center``, ``width``, ``magnification``, ``levels``, ``res``,
``steps``, ``tol``, ``escape``, ``complete``, ``params`` (JSON); one group
``level_00``, ``level_01``, ... per level (:data:`~eosfast.store.layouts.ZOOM_LEVEL`)
with dimension scales ``eta`` (1,), ``y0``, ``x0``, arrays ``status`` (int8)
and ``steps`` (int32) shaped ``(eta, y0, x0)`` as in a grid file (chunks of
256 x 256, compressed, checksummed), and the level's window and fractal
measures as attributes.

Pieces: a level is computed tile by tile (a tile is one chunk) into the group
``pending_level_NN``, which also holds ``tile_done`` (uint8, one per tile,
set after the tile's chunks are flushed) and the level's window
(``x_range``, ``y_range``, ``center``). When every tile is done, the level's
measures are written, ``tile_done`` deleted and the group renamed
``level_NN``: a ``level_NN`` group is always whole. A resume keeps every
level that reads back intact, and continues a pending level of the same
window from its done tiles (each read back through its checksum; a damaged
one is computed again).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import EosfastError
from .h5 import (
    add_array,
    add_coord,
    closed_on_error,
    new_file,
    open_file,
    read_params,
    stamp,
)
from .layouts import ZOOM, ZOOM_LEVEL, ZOOM_LEVEL_PREFIX, ZOOM_PENDING_PREFIX

#: Bookkeeping array of a pending level: one flag per tile.
TILE_DONE = "tile_done"


def create(path: Path, params: Mapping[str, Any]) -> h5py.File:
    """Create a zoom file (no level yet), open for writing."""
    f = new_file(path)
    with closed_on_error(f):
        stamp(f, ZOOM.kind, params, model=params["model"],
              model_params=json.dumps(params.get("model_params", {}), sort_keys=True),
              eta=params["eta"], width=params["width"],
              magnification=params["magnification"], levels=params["levels"],
              res=params["res"], steps=params["steps"], tol=params["tol"],
              escape=params["escape"],
              center=np.asarray(params["center"], dtype=np.float64), complete=np.int8(0))
    return f


def open_for_resume(part: Path, check_params: Callable[[dict], None]) -> h5py.File:
    """Open a zoom ``.part`` to continue it (mode ``r+``), its parameters accepted by
    ``check_params(stored)``; :func:`intact_levels` then says which levels it keeps."""
    f = open_file(part, ZOOM.kind, "r+")
    with closed_on_error(f):
        check_params(read_params(f))
    return f


def level_name(index: int) -> str:
    """Group name of level ``index``: ``level_00``, ..."""
    return f"{ZOOM_LEVEL_PREFIX}{index:02d}"


def pending_name(index: int) -> str:
    """Group name of level ``index`` while its tiles are written."""
    return ZOOM_PENDING_PREFIX + level_name(index)


def _same_window(g: h5py.Group, window: Mapping[str, Any], tile: tuple[int, int],
                 ntiles: int) -> bool:
    try:
        return (all(np.array_equal(np.asarray(g.attrs[k], dtype=np.float64),
                                   np.asarray(v, dtype=np.float64)) for k, v in window.items())
                and tuple(int(t) for t in g.attrs["tile"]) == tuple(tile)
                and g[TILE_DONE].shape == (ntiles,))
    except (KeyError, OSError, ValueError, TypeError):
        return False


def begin_level(f: h5py.File, index: int, eta: float, x0: np.ndarray, y0: np.ndarray,
                tile: tuple[int, int], ntiles: int, window: Mapping[str, Any]) -> h5py.Group:
    """The pending group of level ``index``: the one a stopped run left for this window, or new.

    ``window`` (``x_range``, ``y_range``, ``center``) decides whether a
    pending group is this level's: with tracking, a level's window depends
    on the levels before it.
    """
    from .gridfile import RESERVE_MARGIN

    reserve = getattr(f, "reserve", None)
    if reserve is not None:  # a full disk stops the zoom before the level, not inside it
        reserve(2 * x0.size * y0.size * 5 + RESERVE_MARGIN)
    name = pending_name(index)
    g = f.get(name)
    if g is not None and _same_window(g, window, tile, ntiles):
        return g
    if g is not None:
        del f[name]
    if level_name(index) in f:
        del f[level_name(index)]
    g = f.create_group(name)
    for cname, axis in (("eta", np.array([eta])), ("y0", y0), ("x0", x0)):
        add_coord(g, cname, axis, ZOOM_LEVEL.coords[cname])
    ny, nx = y0.size, x0.size
    for dname in ("status", "steps"):
        add_array(g, dname, ZOOM_LEVEL.data[dname], shape=(1, ny, nx),
                  chunks=(1, min(tile[0], ny), min(tile[1], nx)))
    g.create_dataset(TILE_DONE, data=np.zeros(ntiles, np.uint8))
    for k, v in window.items():
        g.attrs[k] = np.asarray(v, dtype=np.float64)
    g.attrs["tile"] = np.asarray(tile, dtype=np.int64)
    f.flush()
    return g


def write_tile(g: h5py.Group, t: int, ys: slice, xs: slice, status: np.ndarray,
               steps: np.ndarray) -> None:
    """Save tile ``t`` of a pending level durably (its chunks first, then its flag)."""
    g["status"][0, ys, xs] = status
    g["steps"][0, ys, xs] = steps
    g.file.flush()
    g[TILE_DONE][t] = 1
    g.file.flush()


def read_tiles(g: h5py.Group, tiles: list[tuple[int, slice, slice]], status: np.ndarray,
               steps: np.ndarray) -> np.ndarray:
    """Copy the done, intact tiles of a pending level into ``status`` and ``steps`` (ny, nx).

    Returns the done flags (bool, one per tile); a tile that fails its
    checksum is marked not done.
    """
    from .integrity import chunk_problem

    done = g[TILE_DONE][()].astype(bool)
    for t, ys, xs in tiles:
        if not done[t]:
            continue
        offset = (0, ys.start or 0, xs.start or 0)
        if any(chunk_problem(g[name], offset) for name in ("status", "steps")):
            done[t] = False
            continue
        try:
            status[ys, xs] = g["status"][0, ys, xs]
            steps[ys, xs] = g["steps"][0, ys, xs]
        except OSError:
            done[t] = False
    return done


def done_tiles(f: h5py.File) -> tuple[int, int]:
    """``(done, total)`` tiles of the pending level of a zoom file (0, 0 when there is none)."""
    for name in f:
        if name.startswith(ZOOM_PENDING_PREFIX) and TILE_DONE in f[name]:
            d = f[name][TILE_DONE][()]
            return int(d.sum()), int(d.size)
    return 0, 0


def finish_level(f: h5py.File, index: int, attrs: Mapping[str, Any]) -> None:
    """Write a pending level's measures and rename it ``level_NN``: it is whole."""
    g = f[pending_name(index)]
    del g[TILE_DONE]
    del g.attrs["tile"]
    for k, v in attrs.items():
        g.attrs[k] = v
    f.flush()
    f.move(pending_name(index), level_name(index))
    f.flush()


def finish(f: h5py.File) -> None:
    """Mark the zoom complete."""
    f.attrs["complete"] = np.int8(1)
    f.flush()


def load_level(g: h5py.Group) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray,
                                        np.ndarray]:
    """A level group read in full (so checked against its checksums).

    Returns ``(head, x0, y0, status, steps)``: ``head`` holds ``index``,
    ``x_range``, ``y_range``, ``center``, ``zoom``, ``ulps_per_pixel``;
    ``status`` and ``steps`` are shaped (ny, nx).
    """
    a = g.attrs
    head = dict(index=int(a["index"]), x_range=tuple(float(v) for v in a["x_range"]),
                y_range=tuple(float(v) for v in a["y_range"]),
                center=tuple(float(v) for v in a["center"]), zoom=float(a["zoom"]),
                ulps_per_pixel=float(a["ulps_per_pixel"]))
    return head, g["x0"][:], g["y0"][:], g["status"][0], g["steps"][0]


def intact_levels(f: h5py.File) -> dict[int, tuple]:
    """The whole levels of a stopped zoom that read back intact (others are deleted).

    Pending levels are kept: :func:`begin_level` continues them.
    """
    from .integrity import group_intact

    kept: dict[int, tuple] = {}
    for name in list(f):
        if not name.startswith(ZOOM_LEVEL_PREFIX):
            continue
        try:
            raw = load_level(f[name]) if group_intact(f[name]) else None
        except (OSError, KeyError, ValueError, TypeError, EosfastError):
            raw = None
        if raw is None or name != level_name(raw[0]["index"]) or raw[0]["index"] in kept:
            del f[name]
        else:
            kept[raw[0]["index"]] = raw
    f.flush()
    return kept


def read_levels(f: h5py.File) -> list[tuple]:
    """Every whole level of an open zoom file, in order (see :func:`load_level`)."""
    names = sorted(k for k in f if k.startswith(ZOOM_LEVEL_PREFIX))
    return [load_level(f[name]) for name in names]
