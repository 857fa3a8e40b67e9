"""Running a refinement: in memory, or to a file saved piece by piece and resumable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .. import defaults, interrupts, validate
from ..errors import EosfastError
from ..optimizer import OPTIMIZER_KEYS, Optimizer
from ..stoprule import StopRule
from ..store import pointcache
from ..store.layouts import GRID_FIELDS
from .lattice import (
    REFINED_FIELDS,
    LevelState,
    LevelStats,
    RefinedLattice,
)
from .points import PointStore, RepeatedPoint
from .result import (
    RefinedResult,
    RefineRun,
    _load_level,
    _read_base,
    new_lattice,
    read_refined,
)
from .spec import (
    RefineSpec,
    estimate,
    make_refine_spec,
)
from .verify import Verification, verify_lattice

if TYPE_CHECKING:  # pragma: no cover
    from ..executors import Executor


#: Most points computed between two saves of a refinement written to a file
#: (a piece of a level, saved at the end of a round): a few seconds of work
#: on two cores near the boundary, so a run stopped at any moment loses
#: little, while the saves cost about 2% of a 65537^2 refinement.
PIECE_POINTS = 1 << 21


#: Most seconds between two saves of a level's computed points.
PIECE_SECONDS = 4.0

#: Seconds before the first save of a run (after its first round): a run
#: resumed again and again, each time for a few seconds only, saves what its
#: first round computed.
FIRST_PIECE_SECONDS = 0.0


def refine(model: str = defaults.MODEL, base: int = defaults.REFINE_BASE,
           levels: int = defaults.REFINE_LEVELS, *,
           model_params: Mapping[str, float] | Iterable[str] | None = None,
           x_range: Sequence[float] = defaults.X_RANGE,
           y_range: Sequence[float] = defaults.Y_RANGE, eta: float = defaults.ETA,
           steps: int = defaults.STEPS, tol: float = defaults.TOL,
           escape: float = defaults.ESCAPE, halo: int = defaults.REFINE_HALO,
           contrast: int | None = defaults.REFINE_CONTRAST,
           verify: int = defaults.REFINE_VERIFY, seed: int = 0,
           out=None, force: bool = False, resume: bool = False, threads: int | None = None,
           max_period: int = defaults.MAX_PERIOD, period_tol: float = defaults.PERIOD_TOL,
           scheduler: str | None = None, backend: str = defaults.BACKEND,
           executor: Executor | None = None, insist: bool = False,
           rule: StopRule | None = None,
           progress: Callable[[int, int], None] | None = None,
           optimizer: str | Optimizer = "gd", beta: float | None = None,
           eta_x: float | None = None, eta_y: float | None = None):
    """Refine a GD basin map where its outcome changes (see the module docstring).

    Parameters
    ----------
    model : str
        Model name (:data:`eosfast.MODELS`) or expression.
    base : int
        Points per axis of the dense base grid (>= 2); level ``l`` is the lattice
        of ``(base - 1) * 2**l + 1`` points per axis, the points of ``eosfast
        grid --res`` that many, bit for bit.
    levels : int
        Levels of refinement below the base grid.
    model_params : mapping of str -> float, or strings ``"NAME=VALUE"``, optional
        Parameters of the expression (or of a registry expression model).
    x_range, y_range : (float, float)
        The window, ends included.
    eta : float
        The step size (one per refined map).
    steps, tol, escape, max_period, period_tol, rule
        The stop rule, as for :func:`eosfast.grid`: keywords, or one
        :class:`~eosfast.stoprule.StopRule`.
    halo : int
        Cells around a flagged cell that are refined too (>= 1).
    contrast : int or None
        Escape-step contrast that flags an all-diverging cell (:func:`gd_flag`).
    verify : int
        Recompute this many random uncomputed points of the finest lattice and
        report how often the raster rule is wrong, with a 95% interval.
    seed : int
        Seed of the verification sample.
    out : path-like, optional
        Write an HDF5 file (kind ``eosfast.refined``, :mod:`eosfast.store.refinefile`),
        resumable piece by piece (:data:`PIECE_POINTS`); default: keep the result in memory.
    force, resume
        As for :func:`eosfast.grid`.
    threads : int, optional
        Threads computing points (default: all cores); results do not depend on it.
    scheduler, backend, executor
        Where the points are computed, as for :func:`eosfast.grid`; results
        do not depend on it.
    insist : bool
        Run even when the estimate of the run's peak memory or file size
        (:func:`estimate`) exceeds what this machine has free.
    progress : callable, optional
        ``progress(done, total)`` in thousandths of each level.
    optimizer, beta, eta_x, eta_y
        The optimizer, as for :func:`eosfast.grid` (:mod:`eosfast.optimizer`).

    Returns
    -------
    RefinedResult
        When ``out`` is None.
    RefineRun
        When ``out`` is given: the path and what was computed.
    """
    from ..executors import make_executor

    progress = validate.callback("progress", progress)
    force = validate.flag("force", force)
    resume = validate.flag("resume", resume)
    insist = validate.flag("insist", insist)
    spec = make_refine_spec(model, base, levels, model_params=model_params, x_range=x_range,
                            y_range=y_range, eta=eta, steps=steps, tol=tol, escape=escape,
                            halo=halo, contrast=contrast, verify=verify, seed=seed,
                            max_period=max_period, period_tol=period_tol, rule=rule,
                            optimizer=optimizer, beta=beta, eta_x=eta_x, eta_y=eta_y)
    path = None if out is None else validate.path("out", out)
    if executor is None:
        executor = make_executor(scheduler, threads, backend)
    with executor:
        if path is None:
            return _refine_in_memory(spec, executor, progress, insist)
        return _refine_to_file(spec, path, force, resume, executor, progress, insist)


def result_keys(spec: RefineSpec) -> list[str]:
    """The parameters a resumed file must share with ``spec``: all, the optimizer's included.

    (A plain-GD spec records no optimizer, and a GD request must not continue
    a momentum file.)
    """
    return list(dict.fromkeys([*spec.params(), *OPTIMIZER_KEYS]))


def compute_base(spec: RefineSpec, executor: Executor):
    """The dense base grid (every field), exactly as ``eosfast grid --res base`` computes it."""
    from ..grid import grid

    return grid(spec.model, spec.base, model_params=dict(spec.model_params),
                x_range=spec.x_range, y_range=spec.y_range,
                eta=spec.eta, rule=spec.rule, executor=executor, optimizer=spec.optimizer)


def level_progress(progress, level: int, levels: int):
    """A ``progress`` for one level, in thousandths of all ``levels + 1`` stages."""
    if progress is None:
        return None

    def tick(done: int, total: int) -> None:
        progress(1000 * level + (1000 * done) // max(total, 1), 1000 * (levels + 1))

    return tick


def _refine_in_memory(spec: RefineSpec, executor: Executor, progress,
                      insist: bool = False) -> RefinedResult:
    from ..tiles import load_kernels

    load_kernels(spec.model_spec, spec.optimizer)
    t0 = time.perf_counter()
    base_grid = compute_base(spec, executor)
    estimate(spec, base_grid.status[0]).check(None, insist)
    lat = new_lattice(spec, base_grid)
    classify = spec.classifier(executor)
    for level in range(1, spec.levels + 1):
        lat.refine_level(level, classify, progress=level_progress(progress, level - 1,
                                                                  spec.levels))
    ver = verify_lattice(lat, classify, spec.verify, spec.seed)
    if progress:
        progress(1000 * (spec.levels + 1), 1000 * (spec.levels + 1))
    return RefinedResult(spec, lat, base_grid, ver, None, time.perf_counter() - t0,
                         [s.points for s in lat.stats])


class _Counting:
    """A classifier that counts the GD steps it ran."""

    def __init__(self, classify):
        self.classify = classify
        self.iterations = 0

    def __call__(self, ix, iy, level):
        out = self.classify(ix, iy, level)
        self.iterations += int(np.asarray(out["steps"]).sum(dtype=np.int64))
        return out


def _refine_to_file(spec: RefineSpec, out, force: bool, resume: bool, executor: Executor,
                    progress, insist: bool = False) -> RefineRun:
    from ..store import refinefile as rf
    from ..store.h5 import read_params
    from ..store.run import Run
    from ..tiles import load_kernels

    def stored(path) -> dict:
        with rf.open_refined(path) as g:
            return read_params(g)

    def complete(path) -> bool:
        with rf.open_refined(path) as g:
            return rf.is_complete(g)

    # done: whole levels; lat: the points; rows: those the file holds; cached: those
    # the point cache the run started from holds
    state: dict = {"done": 0, "lat": None, "rows": 0, "cached": 0}

    def saved_now(f) -> tuple[int, int, str]:
        n = rf.pending_points(f)
        level = state["done"] + 1
        return state["done"], spec.levels, "levels" + (f" (and {n} points of level {level})"
                                                        if n else "")

    with Run(out, force=force, resume=resume) as run:
        if run.resume_existing(stored, spec.params(), complete, keys=result_keys(spec),
                               defaults=OLD_DEFAULTS):
            r = read_refined(out)
            return RefineRun(out, spec, r.points, r.level_points, 0, 0, 0.0, r.verification)
        load_kernels(spec.model_spec, spec.optimizer)
        interrupts.checkpoint()  # a signal while Numba compiled (it cannot raise there)
        t0 = time.perf_counter()
        classify = _Counting(spec.classifier(executor))
        base_points = 0
        start = None
        if run.resuming:
            f, lat, base_grid, done, start = _open_for_resume(run.part, spec, run, state)
            state["lat"], state["rows"] = lat, lat.store.n
            run.started(f, lambda: saved_now(f), lambda: _leave_points(f, run.part, state))
            estimate(spec, base_grid.status[0]).check(out, insist)
        else:
            pointcache.remove(run.part)  # of a .part that --force discarded
            base_grid = compute_base(spec, executor)
            interrupts.checkpoint()
            estimate(spec, base_grid.status[0]).check(out, insist)
            base_points = spec.base * spec.base
            classify.iterations += base_grid.iterations()
            lat = new_lattice(spec, base_grid)
            state["lat"], state["rows"] = lat, lat.store.n
            f = run.started(rf.create(run.part, spec.params(), spec.eta, base_grid.x0,
                                      base_grid.y0,
                                      {k: getattr(base_grid, k)[0] for k in GRID_FIELDS}),
                            lambda: saved_now(f), lambda: _leave_points(f, run.part, state))
            done = 0
        state["done"] = done
        if progress:
            progress(1000 * done, 1000 * (spec.levels + 1))
        n0 = lat.store.n
        # a signal stops the run between pieces (store.run.Run says what was saved)
        saves = [0]  # pieces this run saved
        for level in range(done + 1, spec.levels + 1):
            pieces = _Pieces(f, lat, level, saves, state)
            stats = lat.refine_level(level, classify,
                                     progress=level_progress(progress, level - 1, spec.levels),
                                     rounded=pieces.rounded, start=start)
            _write_level(f, lat, level, stats)
            state["done"], state["rows"], start = level, lat.store.n, None
            interrupts.saved()
            interrupts.checkpoint()
        interrupts.saved()  # the verification is no piece: a signal stops it at once
        ver = verify_lattice(lat, classify, spec.verify, spec.seed)
        _write_verify(f, lat, ver)
        rf.finish(f)
        if progress:
            progress(1000 * (spec.levels + 1), 1000 * (spec.levels + 1))
        counts = [s.points for s in sorted(lat.stats, key=lambda s: s.level)]
        computed = lat.store.n - n0 + base_points + ver.points
        return RefineRun(out, spec, lat.store.n, counts, computed, classify.iterations,
                         time.perf_counter() - t0, ver)


class _Pieces:
    """Saves a level's points, and where the level stands, every few rounds.

    After a round, if :data:`PIECE_POINTS` points or :data:`PIECE_SECONDS`
    seconds (:data:`FIRST_PIECE_SECONDS` for a run's first) have gone by since
    the last save, the points computed since go
    to the file with the level's state (:func:`eosfast.store.refinefile.write_piece`),
    and a pending signal is honoured right after: a stop loses at most that
    much work, and a resume continues from the state.
    """

    def __init__(self, f, lat: RefinedLattice, level: int, saves: list[int], state: dict):
        self.f, self.lat, self.level = f, lat, level
        self.saves = saves  # pieces this run saved so far, over all its levels
        self.state = state  # state["rows"]: the points the file holds
        self.upto = lat.store.n
        self.when = time.monotonic()

    def rounded(self, state) -> None:
        from ..store import refinefile as rf

        n = self.lat.store.n
        wait = PIECE_SECONDS if self.saves[0] else FIRST_PIECE_SECONDS
        if n - self.upto < PIECE_POINTS and time.monotonic() - self.when < wait:
            return
        rows = slice(self.upto, n)
        keys = self.lat.store.keys[rows]
        iy, ix = self.lat.indices(keys, self.level)
        st = state()
        rf.write_piece(self.f, self.level, {
            "ix": ix.astype(np.int32), "iy": iy.astype(np.int32),
            **{k: v[rows] for k, v in self.lat.store.fields.items() if k in REFINED_FIELDS}},
            {"seeds_taken": st.seeds_taken, "rounds": st.rounds, "requests": st.requests,
             "deferred": st.deferred, "seeds": st.seeds})
        self.upto = self.state["rows"] = n
        self.when = time.monotonic()
        self.saves[0] += 1
        interrupts.saved()
        interrupts.checkpoint()


#: What files written before refine took ``--param`` hold instead: no parameters.
OLD_DEFAULTS = {"model_params": {}}


#: Points saved since the point cache was written beyond which a stop writes
#: it anew (a resume adds them from the file's pieces: about a second per few
#: million; a new cache costs seconds per hundred million points).
CACHE_BEHIND = 1 << 23


def _leave_points(f, part, state: dict) -> None:
    """On a stop: leave the points in memory beside the ``.part`` for the resume.

    Only the points the file holds (those computed since the last piece are
    dropped, as the file drops them), tied to the file's present state
    (:mod:`eosfast.store.pointcache`). The cache the run started from is
    kept instead while it is current and fewer than :data:`CACHE_BEHIND`
    points behind the file (the resume adds those from the file's pieces).
    """
    from ..store import refinefile as rf

    lat = state["lat"]
    if lat is None:
        return
    if rf.cache_token(f) is not None and state["rows"] - state["cached"] < CACHE_BEHIND:
        return
    lat.store.truncate(state["rows"])
    arrays, meta = lat.store.export()
    token = pointcache.new_token()
    rf.set_cache_token(f, token)
    pointcache.write(part, token, arrays, {**meta, **_file_state(f)})


def _file_state(f) -> dict:
    """Where the file stands: its whole levels, and the pending level and its pieces."""
    from ..store import refinefile as rf

    done = rf.levels_done(f)
    return {"levels_done": done, "pieces": rf.pending_pieces(f, done + 1)}


def _cached_store(f, part) -> tuple[PointStore, int] | None:
    """The point store a stopped run left for this ``.part`` and the pieces it holds,
    if it is intact and the file holds what it held (and more pieces at most)."""
    from ..store import refinefile as rf

    token = rf.cache_token(f)
    got = pointcache.read(part, token) if token else None
    if got is None:
        return None
    meta, arrays = got
    now = _file_state(f)
    if meta.get("levels_done") != now["levels_done"] \
            or not 0 <= int(meta.get("pieces", -1)) <= now["pieces"]:
        return None
    try:
        store = PointStore.restore({k: arrays[f"field_{k}"].dtype for k in REFINED_FIELDS},
                                   arrays, meta)
    except (KeyError, ValueError):
        return None
    return store, int(meta["pieces"])


def _add_pieces(lat: RefinedLattice, pieces, level: int) -> None:
    for piece in pieces:
        lat.store.add(lat.key(piece["iy"].astype(np.int64), piece["ix"].astype(np.int64),
                              level), {k: piece[k] for k in REFINED_FIELDS}, level)


def _open_for_resume(part, spec: RefineSpec, run, state: dict):
    """Open an interrupted run: same parameters; its intact levels and saved pieces read back.

    ``run`` (:class:`eosfast.store.run.Run`) compares the parameters. The
    points come from the cache the stopped run left (:func:`_leave_points`)
    when it is current, in about a second, with the pieces saved after it
    from the file; else all from the file's levels and pieces (tens of
    seconds on deep levels). ``state["cached"]`` is set to the points the
    cache held (0 without one).
    """
    from ..store import refinefile as rf
    from ..store.h5 import closed_on_error

    cached: list = []

    def verify(f) -> bool:
        """Whether the file's points must be read and checked (no current cache)."""
        got = _cached_store(f, part)
        if got is None:
            return True
        store, first = got
        done, pieces, saved = rf.levels_done(f), [], None
        if done < spec.levels:
            pieces, saved = rf.read_pending(f, done + 1, first)
            if saved is None and rf.pending_points(f):
                return True  # a damaged piece or state: the file decides, level recomputed
        cached.extend([store, pieces, saved])
        return False

    f = rf.open_for_resume(part, lambda stored: run.check_params(
        part, stored, spec.params(), result_keys(spec), defaults=OLD_DEFAULTS), verify)
    with closed_on_error(f):
        base_grid = _read_base(f, spec)
        done = rf.levels_done(f)
        if cached:
            store, pieces, saved = cached
            state["cached"] = store.n
            lat = new_lattice(spec, base_grid, store)
            lat.stats = [_level_stats(f, level) for level in range(1, done + 1)]
            try:
                _add_pieces(lat, pieces, done + 1)
            except RepeatedPoint:
                raise EosfastError(f"{part}: its point cache and its pieces overlap; "
                                   f"delete {pointcache.cache_path(part)} and resume again") \
                    from None
            return f, lat, base_grid, done, None if saved is None else _level_state(saved)
        state["cached"] = 0
        pointcache.remove(part)
        lat = new_lattice(spec, base_grid)
        # every point to load, the saved pieces of the next level included: one hash build
        total = lat.store.n + sum(rf.level_size(f, k) for k in range(1, done + 1))
        lat.store.reserve(total + rf.pending_points(f), table=True)
        for level in range(1, done + 1):
            _load_level(lat, rf.read_level(f, level), level)
        start = None
        if done < spec.levels:
            pieces, saved = rf.read_pending(f, done + 1)
            if saved is not None:
                _add_pieces(lat, pieces, done + 1)
                start = _level_state(saved)
    return f, lat, base_grid, done, start


def _level_state(saved: Mapping) -> LevelState:
    return LevelState(saved["seeds_taken"], saved["rounds"], saved["requests"],
                      saved["deferred"], saved["seeds"])


def _level_stats(f, level: int) -> LevelStats:
    """What the file says of a whole level (its points, rounds and seconds)."""
    from ..store import refinefile as rf

    attrs = rf.level_attrs(f, level)
    return LevelStats(level, rf.level_size(f, level), int(attrs.get("rounds", 0)),
                      float(attrs.get("seconds", 0.0)))


def _write_level(f, lat: RefinedLattice, level: int, stats: LevelStats) -> None:
    """Write a level's points in key order, a few million at a time (memory stays flat)."""
    from ..store import refinefile as rf

    rows = lat.store.rows(level)
    keys = lat.store.keys[rows]
    order = np.argsort(keys, kind="stable")
    fields = {k: v[rows] for k, v in lat.store.fields.items() if k in REFINED_FIELDS}
    ny, nx = lat.shape(level)

    def parts():
        for a in range(0, order.size, 1 << 22):
            o = order[a:a + (1 << 22)]
            iy, ix = lat.indices(keys[o], level)
            yield a, {"ix": ix.astype(np.int32), "iy": iy.astype(np.int32),
                      **{k: v[o] for k, v in fields.items()}}

    rf.write_level(f, level, nx, ny, int(order.size), parts(),
                   rounds=np.int64(stats.rounds), seconds=float(stats.seconds))


def _write_verify(f, lat: RefinedLattice, ver: Verification) -> None:
    from ..store import refinefile as rf

    lo, hi = ver.interval
    rf.write_verify(f, {"ix": ver.ix.astype(np.int32), "iy": ver.iy.astype(np.int32),
                        "status": ver.status, "filled": ver.filled},
                    points=np.int64(ver.points), mismatches=np.int64(ver.mismatches),
                    rate=float(ver.rate), ci_low=float(lo), ci_high=float(hi),
                    uncomputed=np.int64(ver.uncomputed), seed=np.int64(ver.seed))
