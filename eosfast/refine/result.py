"""A refined map in memory or in a file: results, readers, the file's parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .. import defaults, validate
from ..errors import EosfastError, InvalidArgument
from ..optimizer import Optimizer
from ..result import Result, percent
from ..status import Status
from ..stoprule import StopRule
from .lattice import (
    REFINED_FIELDS,
    LevelStats,
    RefinedLattice,
    base_store,
    gd_flag,
    lattice_coords,
    lattice_points,
)
from .points import PointStore, RepeatedPoint
from .spec import (
    RefineSpec,
    make_refine_spec,
)
from .verify import Verification

if TYPE_CHECKING:  # pragma: no cover
    pass


@dataclass(repr=False)
class RefinedResult(Result):
    """A refined basin map in memory (from :func:`refine` or :func:`read_refined`).

    Attributes
    ----------
    spec : RefineSpec
    lattice : RefinedLattice
        The computed points and the rule.
    base_grid : GridResult
        The base grid, every field (as ``eosfast grid --res base`` gives it).
    verification : Verification or None
    path : Path or None
        The file it was read from or written to.
    """

    spec: RefineSpec
    lattice: RefinedLattice
    base_grid: object
    verification: Verification | None = None
    path: object = None
    seconds: float = 0.0
    level_points: list[int] = field(default_factory=list)
    planned_levels: int | None = None

    @property
    def levels(self) -> int:
        return self.spec.levels

    @property
    def points(self) -> int:
        """Points computed, base grid included."""
        return self.lattice.store.n

    def axes(self, level: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(x0, y0)`` of a level's lattice (float64; default the finest)."""
        level = self.levels if level is None else level
        n = lattice_points(self.spec.base, level)
        idx = np.arange(n)
        return lattice_coords(*self.spec.x_range, n, idx), lattice_coords(*self.spec.y_range,
                                                                          n, idx)

    def window_slices(self, level: int, window=None) -> tuple[slice, slice]:
        """Index ranges ``(iy, ix)`` of the level's lattice points inside ``window``.

        ``window = ((x_lo, x_hi), (y_lo, y_hi))`` in data units (ends included);
        None: the whole lattice.
        """
        n = lattice_points(self.spec.base, level)
        if window is None:
            return slice(0, n), slice(0, n)
        try:
            (xa, xb), (ya, yb) = window
        except (TypeError, ValueError):
            raise InvalidArgument("{window} must be ((x_lo, x_hi), (y_lo, y_hi))",
                                  "window") from None
        xa, xb = validate.pair("window", (xa, xb))
        ya, yb = validate.pair("window", (ya, yb))
        x0, y0 = self.axes(level)
        ix = slice(int(np.searchsorted(x0, xa, "left")), int(np.searchsorted(x0, xb, "right")))
        iy = slice(int(np.searchsorted(y0, ya, "left")), int(np.searchsorted(y0, yb, "right")))
        if ix.stop - ix.start < 1 or iy.stop - iy.start < 1:
            raise EosfastError(f"the window holds no point of level {level}")
        return iy, ix

    def raster(self, level: int | None = None, window=None, steps: bool = False):
        """A dense outcome map of a window at a level (the raster rule of this module).

        Parameters
        ----------
        level : int, optional
            0 (the base grid) .. L (default: the finest).
        window : ((float, float), (float, float)), optional
            ``((x_lo, x_hi), (y_lo, y_hi))``: the lattice points inside (ends
            included); default the whole window.
        steps : bool
            Also give ``steps`` where the point was computed (-1 elsewhere).

        Returns
        -------
        GridResult
            ``status`` (and ``steps``) shaped ``(1, ny, nx)``, axes the lattice's
            exact coordinates: equal to the same points of a dense grid where
            the rule is right.
        """
        from ..result import GridResult

        level = self.levels if level is None else validate.integer("level", level, lo=0,
                                                                    hi=self.levels)
        iy, ix = self.window_slices(level, window)
        status = self.lattice.raster(level, iy, ix)
        st = None
        if steps:
            ys = np.arange(iy.start, iy.stop, dtype=np.int64)
            xs = np.arange(ix.start, ix.stop, dtype=np.int64)
            rows = self.lattice.store.lookup(self.lattice.key(ys[:, None], xs[None, :], level))
            st = np.where(rows >= 0, self.lattice.store.field("steps")[np.maximum(rows, 0)],
                          -1).astype(np.int32)[None]
        x0, y0 = self.axes(level)
        return GridResult(model=self.spec.model, eta=np.array([self.spec.eta]), y0=y0[iy],
                          x0=x0[ix], status=status[None], steps=st, period=None,
                          sharpness=None, loss=None, x=None, y=None,
                          params={**self.spec.params(), "level": level})

    def to_frame(self):
        """The computed points as a pandas DataFrame, one row each.

        Columns ``level`` (int8: the level whose refinement computed the
        point, 0 the base grid), ``x0``, ``y0`` (float64: the point's exact
        lattice coordinates, as a dense grid has them), ``status`` (int8) and
        ``steps`` (int32); the base grid's rows first, then each level's.
        ``eosfast export`` writes the same rows to Parquet.
        """
        import pandas as pd

        store = self.lattice.store
        iy, ix = self.lattice.indices(store.keys, self.levels)
        n = lattice_points(self.spec.base, self.levels)
        level = np.zeros(store.n, np.int8)
        for k in range(1, self.levels + 1):
            level[store.rows(k)] = k
        return pd.DataFrame({"level": level,
                             "x0": lattice_coords(*self.spec.x_range, n, ix),
                             "y0": lattice_coords(*self.spec.y_range, n, iy),
                             "status": store.field("status"), "steps": store.field("steps")})

    def summary(self) -> str:
        """One line: window, levels, points computed, verification."""
        s = self.spec
        n = s.finest
        where = f"{self.path}: " if self.path else ""
        ver = self.verification.summary() if self.verification is not None else \
            "not verified"
        planned = self.planned_levels
        part = (f" (interrupted: {s.levels} of {planned} levels done)"
                if planned is not None and planned > s.levels else "")
        return (f"{where}{s.model}, eta {s.eta:g}, base {s.base}^2 -> {n}^2 ({s.levels} "
                f"level{'s' if s.levels != 1 else ''}{part}), {self.points} points computed "
                f"({_pct(self.points, n * n)} of the finest lattice); {ver}")


def _pct(a: int, b: int) -> str:
    return percent(a, b)


def new_lattice(spec: RefineSpec, base_grid, store: PointStore | None = None
                ) -> RefinedLattice:
    """The refined lattice of ``spec`` holding its base grid (or the points of ``store``)."""
    if store is None:
        values = {k: getattr(base_grid, k)[0] for k in REFINED_FIELDS}
        store = base_store(values, spec.levels, REFINED_FIELDS)
    return RefinedLattice((spec.base, spec.base), spec.levels, store, spec.halo,
                          gd_flag(spec.contrast))


def read_refined(path, levels: int | None = None) -> RefinedResult:
    """Load a refined file (:func:`refine` with ``out=``) into memory.

    Parameters
    ----------
    path : path-like
    levels : int, optional
        Read only the first ``levels`` levels: the refined map a run with
        that many levels would have made (the rule's result after each level
        is the rule's result for that many levels), at a fraction of the
        memory. Default: every level the file holds.

    Returns
    -------
    RefinedResult
        With ``.raster(level, window)``, the verification the file records
        (when every level is read), and the computed points
        (``.lattice.store``). A ``.part`` of an interrupted run reads as far as
        its finished levels.
    """
    from ..store import refinefile as rf
    from ..store.h5 import regular_file

    path = regular_file(path)
    with rf.open_refined(path) as f:
        spec = spec_from_params(read_params_checked(f, path), path)
        done = rf.levels_done(f)
        planned = spec.levels
        use = done if levels is None else min(done, validate.integer("levels", levels, lo=0))
        if use < planned:  # fewer levels: a refined map of the levels read
            spec = replace(spec, levels=use)
        base_grid = _read_base(f, spec)
        lat = new_lattice(spec, base_grid)
        lat.store.reserve(lat.store.n + sum(rf.level_size(f, k) for k in range(1, use + 1)),
                          table=True)
        counts = [_load_level(lat, rf.read_level(f, level), level)
                  for level in range(1, use + 1)]
        ver = _verification(rf.read_verify(f)) if use == planned else None
    return RefinedResult(spec, lat, base_grid, ver, path, 0.0, counts,
                         planned if done < planned else None)


def read_params_checked(f, path) -> dict:
    from ..store.h5 import read_params

    params = read_params(f)
    missing = [k for k in ("model", "base", "levels", "x_range", "y_range", "eta", "steps",
                           "tol", "escape", "halo") if k not in params]
    if missing:
        raise EosfastError(f"{path} is damaged: params lacks {', '.join(missing)}")
    return params


def spec_from_params(params: Mapping, path=None) -> RefineSpec:
    """The :class:`RefineSpec` a file's ``params`` describe."""
    try:
        return make_refine_spec(params["model"], params["base"], params["levels"],
                                x_range=params["x_range"], y_range=params["y_range"],
                                eta=params["eta"], rule=StopRule.from_params(params),
                                halo=params["halo"], contrast=params.get("contrast"),
                                verify=params.get("verify", 0), seed=params.get("seed", 0),
                                model_params=params.get("model_params") or None,
                                optimizer=Optimizer.from_params(params))
    except EosfastError as exc:
        raise EosfastError(f"{path} is damaged: its parameters are not valid ({exc})") \
            from None


def _read_base(f, spec: RefineSpec):
    from ..result import GridResult
    from ..store.refinefile import read_base

    b = read_base(f)
    n = spec.base
    if b["status"].shape != (1, n, n):
        raise EosfastError(f"{f.filename} is damaged: the base grid is {b['status'].shape}, "
                           f"expected (1, {n}, {n})")
    return GridResult(model=spec.model, eta=b["eta"], y0=b["y0"], x0=b["x0"],
                      status=b["status"], steps=b["steps"], period=b["period"],
                      sharpness=b["sharpness"], loss=b["loss"], x=b["x"], y=b["y"],
                      params=spec.params())


def _load_level(lat: RefinedLattice, parts: Iterable[Mapping], level: int) -> int:
    """Add a level read from a file (in pieces) to the lattice; its point count."""
    ny, nx = lat.shape(level)
    n = 0
    attrs: Mapping = {}
    for data in parts:
        attrs = data.get("attrs", {})
        iy = data["iy"].astype(np.int64)
        ix = data["ix"].astype(np.int64)
        if iy.size and (iy.min() < 0 or ix.min() < 0 or iy.max() >= ny or ix.max() >= nx):
            raise EosfastError(f"level {level} holds indices outside its {ny} x {nx} lattice")
        keys = lat.key(iy, ix, level)
        del iy, ix
        try:
            lat.store.add(keys, {k: data[k] for k in REFINED_FIELDS}, level)
        except RepeatedPoint:
            raise EosfastError(f"level {level} repeats points (of itself or of a level "
                               "above)") from None
        n += int(keys.size)
    lat.stats.append(LevelStats(level, n, int(attrs.get("rounds", 0)),
                                float(attrs.get("seconds", 0.0))))
    return n


def _verification(data: Mapping | None) -> Verification | None:
    if data is None:
        return None
    a = data["attrs"]
    return Verification(data["iy"].astype(np.int64), data["ix"].astype(np.int64),
                        data["status"], data["filled"], int(a["uncomputed"]), int(a["seed"]))


@dataclass(repr=False)
class RefineRun(Result):
    """Summary of a refinement written to a file (what ``refine(out=...)`` returns).

    Attributes
    ----------
    path : Path
    spec : RefineSpec
    points : int
        Points in the file, base grid included.
    level_points : list of int
        Points of each level, in order.
    computed : int
        Points computed in this call (0 when the file was already complete).
    iterations : int
        GD steps run in this call.
    seconds : float
        Wall time of this call.
    verification : Verification or None
    """

    path: object
    spec: RefineSpec
    points: int
    level_points: list[int]
    computed: int
    iterations: int
    seconds: float
    verification: Verification | None

    def summary(self) -> str:
        """The one-line summary the command prints."""
        s = self.spec
        n = s.finest
        ver = self.verification.summary() if self.verification is not None else \
            "not verified"
        speed = (f"computed in {self.seconds:.1f} s ({self.iterations:.3g} GD steps, "
                 f"verification included)" if self.computed else "nothing left to compute")
        per = " + ".join(str(p) for p in [s.base * s.base, *self.level_points])
        return (f"{self.path}: {s.model}, eta {s.eta:g}, base {s.base}^2 -> {n}^2 "
                f"({s.levels} level{'s' if s.levels != 1 else ''}, halo {s.halo}): "
                f"{self.points} points = {per} "
                f"({_pct(self.points, n * n)} of the finest lattice) {speed}; {ver}")


def split_function(split: str = "diverged") -> Callable[[np.ndarray], np.ndarray]:
    """``status -> bool`` naming one side of the boundary ``eosfast fractal`` measures."""
    validate.choice("split", split, defaults.FRACTAL_SPLITS)
    code = Status.DIVERGED if split == "diverged" else Status.CONVERGED
    return lambda s: s == code
