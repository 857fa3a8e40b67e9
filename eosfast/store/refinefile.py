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

Pieces: while level ``levels_done + 1`` is computed, its points are saved
every few rounds, in a group ``pending`` (attribute ``level``) of groups
``piece_000000``, ... (``ix``, ``iy``, ``status``, ``steps``, in computing
order, checksummed) and ``state``: where the level then stands (attributes
``pieces``, ``seeds_taken``, ``rounds``; the cells still wanted at each
level, ``requests_NN`` and ``deferred_NN``). A new state is written under
another name and renamed over the old one once whole, so the file always
holds a state and every piece it goes with. ``--resume`` loads them and
continues the level from that state, making exactly the rounds an
uninterrupted run makes after it; when the level is done, ``pending`` is
deleted and the level written whole, sorted, as above, so the finished file
is the same however often the run was stopped.

Cache: a run stopped by a signal also leaves its points in memory beside the
``.part`` (:mod:`eosfast.store.pointcache`), tied to it by a token in the
root attribute ``points_cache``. The cache holds the points of the whole
levels and of the first pieces of the pending one; a resume maps it and adds
the pieces saved after it. Every write but a new piece deletes the attribute
first (:func:`forget_cache`), so a resume uses the cache only while the
``.part`` holds what it holds and more pieces at most.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import EosfastError
from .h5 import (
    COMPRESSION,
    add_array,
    add_coord,
    closed_on_error,
    new_file,
    open_file,
    read_params,
    stamp,
)
from .layouts import GRID_FIELDS, REFINED, REFINED_LEVEL, REFINED_VERIFY, Var

#: Points per chunk of a level's arrays.
LEVEL_CHUNK = 1 << 18

#: Name of the verification group.
VERIFY = "verify"

#: Name of the group of the pieces of the level being computed.
PENDING = "pending"

#: Names, in ``pending``, of the level's state after its last piece, and of the
#: next state while it is written.
STATE = "state"
STATE_NEXT = "state_next"

#: Names, in ``pending``, of the level's seeds (the flagged cells of the level
#: above, in batches: written once a level), and of them while written.
SEEDS = "seeds"
SEEDS_NEXT = "seeds_next"


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
    with closed_on_error(f):
        stamp(f, REFINED.kind, params, model=params["model"],
              model_params=json.dumps(params.get("model_params", {}), sort_keys=True),
              steps=params["steps"],
              tol=params["tol"], escape=params["escape"], base=params["base"],
              levels=params["levels"], levels_done=np.int64(0), complete=np.int8(0))
        for name, axis in (("eta", np.array([eta])), ("y0", y0), ("x0", x0)):
            add_coord(f, name, axis, REFINED.coords[name])
        ny, nx = y0.size, x0.size
        for name, var in GRID_FIELDS.items():
            add_array(f, name, var, data=np.asarray(base[name])[None],
                      chunks=(1, min(256, ny), min(256, nx)))
        f.flush()
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
    forget_cache(f)
    name = level_name(level)
    if name in f:
        del f[name]
    # the level's pieces go first, so that the level reuses their space in the file
    # (the points are in memory; a signal cannot land before levels_done is raised)
    drop_pieces(f)
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


def write_piece(f: h5py.File, level: int, arrays: Mapping[str, np.ndarray],
                state: Mapping[str, Any]) -> None:
    """Save a piece of level ``level``'s points and where the level then stands, durably.

    ``arrays``: ``ix, iy, status, steps`` (1-D) of the points computed since
    the last piece. ``state``: ``seeds_taken``, ``rounds`` (ints) and
    ``requests``, ``deferred`` (lists of int64 arrays, one per level): what is
    left of the level (:class:`eosfast.refine.lattice.LevelState`); ``seeds``
    (list of int64 arrays, optional): the level's batches of seed cells,
    written with the level's first piece only. The state is written beside
    the last one and takes its name only when whole, so a stop at any moment
    leaves a state and the pieces it goes with.
    """
    # a new piece keeps the point cache (a prefix of the points: the resume
    # adds the pieces after it); a piece of another level drops it with the pieces
    p = f.get(PENDING)
    if p is not None and int(p.attrs.get("level", -1)) != level:
        drop_pieces(f)
        p = None
    if p is None:
        p = f.create_group(PENDING)
        p.attrs["level"] = np.int64(level)
    k = int(p[STATE].attrs["pieces"]) if STATE in p else 0
    for name in (f"piece_{k:06d}", STATE_NEXT, SEEDS_NEXT):
        if name in p:  # left by a run killed while writing it
            del p[name]
    if SEEDS not in p and state.get("seeds") is not None:
        # a resume reads the seeds instead of finding them again (seconds on a
        # deep level), and finds exactly those an uninterrupted run took
        batches = [np.ascontiguousarray(b, dtype=np.int64) for b in state["seeds"]]
        g = p.create_group(SEEDS_NEXT)
        for name, a in (("cells", np.concatenate(batches) if batches else
                         np.empty(0, np.int64)),
                        ("counts", np.array([b.size for b in batches], dtype=np.int64))):
            g.create_dataset(name, data=a, **({"chunks": (min(a.size, LEVEL_CHUNK),),
                                               "fletcher32": True} if a.size else {}))
        f.flush()
        p.move(SEEDS_NEXT, SEEDS)
    g = p.create_group(f"piece_{k:06d}")
    for key, var in REFINED_LEVEL.data.items():
        a = np.ascontiguousarray(arrays[key], dtype=var.dtype)
        # checksummed but not compressed: a piece lives until its level is written,
        # and deflating it cost the single writer 5-8% of a 65537^2 refinement
        g.create_dataset(key, data=a, **({"chunks": (min(a.size, LEVEL_CHUNK),),
                                          "fletcher32": True} if a.size else {}))
    s = p.create_group(STATE_NEXT)
    s.attrs["pieces"] = np.int64(k + 1)
    s.attrs["seeds_taken"] = np.int64(state["seeds_taken"])
    s.attrs["rounds"] = np.int64(state["rounds"])
    s.attrs["levels"] = np.int64(len(state["requests"]))
    for kind in ("requests", "deferred"):
        for lv, cells in enumerate(state[kind]):
            cells = np.ascontiguousarray(cells, dtype=np.int64)
            s.create_dataset(f"{kind}_{lv:02d}", data=cells,
                             **({"chunks": (min(cells.size, LEVEL_CHUNK),), "fletcher32": True}
                                if cells.size else {}))
    f.flush()
    if STATE in p:
        del p[STATE]
    p.move(STATE_NEXT, STATE)
    f.flush()


def read_pending(f: h5py.File, level: int, first: int = 0
                 ) -> tuple[list[dict[str, np.ndarray]], dict | None]:
    """The saved pieces of ``level`` (from piece ``first`` on) and the state they lead
    to, or ``([], None)``.

    Everything is read through its checksums; if anything the state needs is
    missing or damaged, nothing is returned (the level is computed again).
    The state's ``seeds`` is None when the file holds none (or a damaged copy).
    The pieces before ``first`` are neither read nor checked (the resume has
    them from the point cache).
    """
    from .integrity import group_intact

    p = f.get(PENDING)
    if p is None or int(p.attrs.get("level", -1)) != level or STATE not in p:
        return [], None
    try:
        s = p[STATE]
        n = int(s.attrs["pieces"])
        if not group_intact(s):
            return [], None
        state = {"seeds_taken": int(s.attrs["seeds_taken"]), "rounds": int(s.attrs["rounds"]),
                 **{kind: [s[f"{kind}_{lv:02d}"][()] for lv in range(int(s.attrs["levels"]))]
                    for kind in ("requests", "deferred")}}
        state["seeds"] = _read_seeds(p)
        pieces = []
        if not 0 <= first <= n:
            return [], None
        for k in range(first, n):
            g = p[f"piece_{k:06d}"]
            if not group_intact(g):
                return [], None
            piece = {key: g[key][()] for key in REFINED_LEVEL.data}
            if len({a.size for a in piece.values()}) != 1:
                return [], None
            pieces.append(piece)
    except (OSError, KeyError, ValueError, RuntimeError):
        return [], None
    return pieces, state


def _read_seeds(p: h5py.Group) -> list[np.ndarray] | None:
    from .integrity import group_intact

    g = p.get(SEEDS)
    if g is None or not group_intact(g):
        return None
    cells, counts = g["cells"][()], g["counts"][()]
    if int(counts.sum()) != cells.size or (counts < 0).any():
        return None
    return np.split(cells, np.cumsum(counts)[:-1]) if counts.size else []


def pending_points(f: h5py.File) -> int:
    """Points saved in pieces of the level being computed (those its state goes with)."""
    p = f.get(PENDING)
    if p is None or STATE not in p:
        return 0
    n = 0
    for k in range(int(p[STATE].attrs.get("pieces", 0))):
        g = p.get(f"piece_{k:06d}")
        if g is not None and "ix" in g:
            n += int(g["ix"].shape[0])
    return n


def drop_pieces(f: h5py.File) -> None:
    """Delete the pending pieces (their level is written whole, or being recomputed)."""
    forget_cache(f)
    if PENDING in f:
        del f[PENDING]
        f.flush()


def write_verify(f: h5py.File, arrays: Mapping[str, np.ndarray], **attrs: Any) -> None:
    """Write the verification sample (``ix, iy, status, filled``) and its statistics."""
    forget_cache(f)
    if VERIFY in f:
        del f[VERIFY]
    g = f.create_group(VERIFY)
    _write_points(g, REFINED_VERIFY, int(np.asarray(arrays["ix"]).size), [(0, arrays)])
    for k, v in attrs.items():
        g.attrs[k] = v
    f.flush()


def finish(f: h5py.File) -> None:
    """Mark the file complete (every level and the verification written)."""
    forget_cache(f)
    f.attrs["complete"] = np.int8(1)
    f.flush()


def open_refined(path: str | os.PathLike, mode: str = "r") -> h5py.File:
    """Open a refined file (complete or ``.part``), checked against its layout."""
    f = open_file(path, REFINED.kind, mode)
    with closed_on_error(f):
        read_params(f)
        if VERIFY in f:
            REFINED_VERIFY.check(f[VERIFY], path, f" (group {VERIFY})")
        done = levels_done(f)
        for level in range(1, done + 1):
            if level_name(level) not in f:
                raise EosfastError(f"{path} is damaged: group {level_name(level)} is missing")
    return f


def levels_done(f: h5py.File) -> int:
    """Levels written whole."""
    return int(f.attrs["levels_done"])


def is_complete(f: h5py.File) -> bool:
    return bool(f.attrs.get("complete", 0))


def open_for_resume(part: str | os.PathLike, check_params: Callable[[dict], None],
                    verify: Callable[[h5py.File], bool] | None = None) -> h5py.File:
    """Open a refined ``.part`` to continue it (mode ``r+``), its parameters accepted
    by ``check_params(stored)``.

    Its whole levels are verified against their checksums; from the first
    damaged one on, levels are dropped (:func:`truncate`) to be computed
    again, so :func:`levels_done` counts intact levels only. When
    ``verify(f)`` says False (the resume takes the points from a cache the
    stopped run wrote, :mod:`~eosfast.store.pointcache`), nothing is read
    or changed: the levels are not read back, and their checksums are
    still checked by every later reader.
    """
    from .integrity import group_intact

    f = open_refined(part, "r+")
    with closed_on_error(f):
        check_params(read_params(f))
        if verify is not None and not verify(f):
            return f
        done = levels_done(f)
        intact = next((k - 1 for k in range(1, done + 1) if not group_intact(f[level_name(k)])),
                      done)
        truncate(f, intact)
    return f


def cache_token(f: h5py.File) -> str | None:
    """The token of the point cache this ``.part`` goes with, if any."""
    from .pointcache import TOKEN_ATTR

    t = f.attrs.get(TOKEN_ATTR)
    return None if t is None else str(t.decode() if isinstance(t, bytes) else t)


def set_cache_token(f: h5py.File, token: str) -> None:
    """Tie the ``.part`` to the point cache about to be written with ``token``."""
    from .pointcache import TOKEN_ATTR

    f.attrs[TOKEN_ATTR] = token
    f.flush()


def forget_cache(f: h5py.File) -> None:
    """Untie the ``.part`` from its point cache: called before every change to it."""
    from .pointcache import TOKEN_ATTR

    if TOKEN_ATTR in f.attrs:
        del f.attrs[TOKEN_ATTR]
        f.flush()


def pending_pieces(f: h5py.File, level: int) -> int:
    """Pieces the saved state of pending ``level`` goes with (0 when there is none),
    without reading them."""
    p = f.get(PENDING)
    if p is None or int(p.attrs.get("level", -1)) != level or STATE not in p:
        return 0
    return int(p[STATE].attrs["pieces"])


def truncate(f: h5py.File, done: int) -> None:
    """Keep levels ``1 .. done`` only (and no verification): a resume starts after them.

    The pieces of level ``done + 1`` are kept; pieces of another level are dropped.
    """
    forget_cache(f)
    for name in list(f):
        if (name.startswith("level_") and int(name[6:]) > done) or name == VERIFY:
            del f[name]
    p = f.get(PENDING)
    if p is not None and int(p.attrs.get("level", -1)) != done + 1:
        del f[PENDING]
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


def level_attrs(f: h5py.File, level: int) -> dict[str, Any]:
    """A whole level's attributes (``level``, ``nx``, ``ny``, ``rounds``, ``seconds``)."""
    return dict(f[level_name(level)].attrs)


def level_size(f: h5py.File, level: int) -> int:
    """Points of a level (without reading them)."""
    return int(f[level_name(level)]["ix"].shape[0])


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
