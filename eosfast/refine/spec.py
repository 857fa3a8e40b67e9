"""A validated refinement of a GD basin map, and the estimate of its size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import defaults, validate
from ..errors import InvalidArgument
from ..optimizer import GD, Optimizer
from ..stoprule import StopRule
from .lattice import (
    REFINED_FIELDS,
    lattice_coords,
    lattice_points,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..executors import Executor


@dataclass(frozen=True)
class RefineSpec:
    """A validated refinement of a GD basin map (see :func:`refine`)."""

    model: str
    base: int
    levels: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    eta: float
    rule: StopRule
    halo: int
    contrast: int | None
    verify: int
    seed: int
    model_params: tuple[tuple[str, float], ...] = ()
    optimizer: Optimizer = GD

    @property
    def model_spec(self):
        """What rebuilds the model anywhere (:class:`~eosfast.models.ModelSpec`)."""
        from ..models import ModelSpec

        return ModelSpec(self.model, tuple(self.model_params))

    @property
    def finest(self) -> int:
        """Points per axis of the finest lattice."""
        return lattice_points(self.base, self.levels)

    def params(self) -> dict:
        """Every parameter, JSON-serialisable (the file's ``params``)."""
        return {"model": self.model, "model_params": dict(self.model_params),
                "base": self.base, "levels": self.levels,
                "x_range": list(self.x_range), "y_range": list(self.y_range),
                "eta": self.eta, **self.rule.params(), "halo": self.halo,
                "contrast": self.contrast, "verify": self.verify,
                "seed": self.seed, "fields": list(REFINED_FIELDS), **self.optimizer.params()}

    def classifier(self, executor: Executor, fields: Sequence[str] = REFINED_FIELDS
                   ) -> Callable:
        """``classify(ix, iy, level)`` running the grid kernel on lattice points.

        The points go to ``executor`` (:mod:`eosfast.executors`: threads, a
        dask cluster, a GPU); a point's result depends only on the point, so
        neither the executor nor its batching ever change it.
        """
        spec = self
        model = self.model_spec
        rule = self.rule
        opt = self.optimizer

        def classify(ix, iy, level):
            n = lattice_points(spec.base, level)
            x = lattice_coords(*spec.x_range, n, ix)
            y = lattice_coords(*spec.y_range, n, iy)
            out = executor.points(model, x, y, np.full(x.size, spec.eta), rule, opt)
            return {k: out[k] for k in fields}

        return classify


def make_refine_spec(model: str = defaults.MODEL, base: int = defaults.REFINE_BASE,
                     levels: int = defaults.REFINE_LEVELS, *,
                     x_range: Sequence[float] = defaults.X_RANGE,
                     y_range: Sequence[float] = defaults.Y_RANGE, eta: float = defaults.ETA,
                     steps: int = defaults.STEPS, tol: float = defaults.TOL,
                     escape: float = defaults.ESCAPE, halo: int = defaults.REFINE_HALO,
                     contrast: int | None = defaults.REFINE_CONTRAST,
                     verify: int = defaults.REFINE_VERIFY, seed: int = 0,
                     max_period: int = defaults.MAX_PERIOD,
                     period_tol: float = defaults.PERIOD_TOL,
                     model_params=None, rule: StopRule | None = None,
                     optimizer: str | Optimizer = "gd", beta: float | None = None,
                     eta_x: float | None = None, eta_y: float | None = None) -> RefineSpec:
    """Validate the parameters of :func:`refine`; raises :class:`EosfastError` on bad input."""
    from ..models import get_model

    m = get_model(model, model_params)
    base = validate.integer("base", base, lo=2, hi=1 << 16)
    levels = validate.integer("levels", levels, lo=0, hi=defaults.REFINE_MAX_LEVELS)
    finest = lattice_points(base, levels)
    if finest > 1 << 30:
        raise InvalidArgument(f"{{base}} {base} with {{levels}} {levels} gives a "
                              f"{finest}-point axis, more than 2^30", "base", "levels")
    xr = validate.pair("x_range", x_range)
    yr = validate.pair("y_range", y_range)
    if isinstance(eta, Iterable) and not isinstance(eta, str | bytes):
        eta = list(eta)
        if len(eta) != 1:
            raise InvalidArgument("{eta}: a refined file holds one step size, got "
                                  f"{len(eta)}", "eta")
        eta = eta[0]
    eta = validate.real("eta", eta, positive=True)
    rule = StopRule.given(rule, steps, tol, escape, max_period, period_tol)
    opt = Optimizer.checked(optimizer, beta, eta_x, eta_y)
    halo = validate.integer("halo", halo, lo=1, hi=defaults.REFINE_MAX_HALO)
    if contrast is not None:
        contrast = validate.integer("contrast", contrast, lo=1)
    verify = validate.integer("verify", verify, lo=0, hi=1 << 26)
    seed = validate.integer("seed", seed, lo=0)
    for name, r in (("x_range", xr), ("y_range", yr)):
        # every lattice must be strictly increasing in float64, down to the finest
        # (the ends of the axis: on an axis of 3 points they overlap, hence unique)
        ends = np.unique(np.array([0, 1, finest - 2, finest - 1]))
        axis = lattice_coords(r[0], r[1], finest, ends)
        if not (np.all(np.isfinite(axis)) and np.all(np.diff(axis) > 0)):
            raise InvalidArgument(f"{{{name}}} {r[0]!r} {r[1]!r} is too narrow for "
                                  f"{finest} points per axis in float64", name)
    return RefineSpec(model=m.spec.model, model_params=m.spec.params, base=base,
                      levels=levels, x_range=xr, y_range=yr, eta=eta, rule=rule, halo=halo,
                      contrast=contrast, verify=verify,
                      seed=seed, optimizer=opt)


#: Growth of a level's points per level the size estimate assumes: 2**D for
#: a boundary of box dimension D = 1.7 (measured: 2.9-3.3 a level on zhu4's
#: default window, base 129 to 1025, down to 131073^2 points).
ESTIMATE_GROWTH = 2 ** 1.7


#: Points of level 1 per boundary cell of the base grid with the default halo
#: of 2 (measured 14.5-15.1, base 129 to 1025; scaled by the halo's width).
ESTIMATE_POINTS_PER_CELL = 15.0


#: Peak bytes of memory per computed point: the store (13 bytes, with room
#: to grow), its hash table (8-16), and a level's sorted copy while written
#: (measured: 6.4 GB peak for 199 million points, base 1025 and 7 levels).
MEMORY_PER_POINT = 36


#: Bytes on disk per point of a level (ix, iy, status, steps; before compression).
DISK_PER_POINT = 13


def estimate(spec: RefineSpec, base_status: np.ndarray):
    """The run's peak memory and file size, from the base grid's boundary.

    The cells of the base grid whose corners' outcomes differ, scaled by the
    halo's width, give level 1; each level after it is taken
    :data:`ESTIMATE_GROWTH` times the last (the boundary's growth for a
    dimension of 1.8; a smoother boundary costs less).

    Parameters
    ----------
    base_status : ndarray, int8, shape (base, base)

    Returns
    -------
    eosfast.store.run.Estimate
    """
    from ..store.layouts import GRID_DTYPES
    from ..store.run import Estimate

    st = np.asarray(base_status)
    corners = np.stack([st[:-1, :-1], st[1:, :-1], st[:-1, 1:], st[1:, 1:]])
    cells = max(int((corners.min(axis=0) != corners.max(axis=0)).sum()), 1)
    first = ESTIMATE_POINTS_PER_CELL * cells * (2 * spec.halo + 1) / 5
    refined = sum(first * ESTIMATE_GROWTH ** (k - 1) for k in range(1, spec.levels + 1))
    # never more than the finest lattice's points
    refined = min(refined, float(spec.finest) ** 2)
    base = spec.base * spec.base
    per_base = sum(np.dtype(d).itemsize for d in GRID_DTYPES.values())
    memory = int(MEMORY_PER_POINT * (base + refined) + 2 * per_base * base)
    disk = int(per_base * base + DISK_PER_POINT * refined)
    return Estimate(memory, disk, f"{{levels}} {spec.levels} on a {spec.base}-point base means "
                    f"about {_count(base + refined)} points, which", ("levels", "base"),
                    int(base + refined))


def _count(n: float) -> str:
    """``3.1 million``, ``2.4e+14``: a point count in words a reader takes in at once."""
    if n < 1e6:
        return f"{n:,.0f}"
    if n < 1e12:
        for div, word in ((1e9, "billion"), (1e6, "million")):
            if n >= div:
                return f"{n / div:.3g} {word}"
    return f"{n:.2g}"
