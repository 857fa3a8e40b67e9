"""What a grid's dimensions span: initial points, step sizes, momentum.

A grid is three-dimensional, ``(slices, rows, columns)``. The usual grid of
initial points spans ``(eta, y0, x0)``; a *plane* spans any two of
:data:`PARAMETERS` (``columns`` first, as a picture's horizontal axis, then
``rows``) with the others fixed, each axis linear or log-spaced. The
slices are ``eta`` (the step sizes given, as for an initial-point grid)
unless ``eta`` is a plane axis or no layer uses it (both have step sizes
of their own); then they hold the one fixed initial ``x0`` (or ``y0``), so
that every file has three named dimensions and records the fixed value a
reader most needs.

A point's parameters (:meth:`Plane.inputs`): its coordinates on the axes,
the fixed values for the rest, and ``eta_x = eta_y = eta`` unless a layer's
step size is an axis or fixed (:class:`~eosfast.optimizer.Optimizer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import validate
from .errors import InvalidArgument
from .store.layouts import GRID_DIMS

#: What a grid's dimensions may span (their CF ``long_name``s:
#: :data:`eosfast.store.layouts.AXIS_LONG_NAMES`).
PARAMETERS = ("x0", "y0", "eta", "eta_x", "eta_y", "beta")

#: The initial-point grid's dimensions ``(slices, rows, columns)``.
DEFAULT_AXES = GRID_DIMS

#: An axis' range when none is given.
DEFAULT_RANGES = {"x0": (0.0, 4.0), "y0": (0.0, 4.0), "eta": (0.01, 1.0),
                  "eta_x": (0.01, 1.0), "eta_y": (0.01, 1.0), "beta": (0.0, 0.99)}

#: The fixed initial point of a plane over hyperparameters (the paper's, s. 3).
DEFAULT_INIT = (2.5, 0.35)


@dataclass(frozen=True)
class Plane:
    """The parameters a grid's dimensions span, and the fixed initial point.

    Attributes
    ----------
    axes : (str, str, str)
        Names of the ``(slices, rows, columns)`` dimensions.
    log : (bool, bool)
        Log spacing of the rows and the columns.
    x0, y0 : float
        The initial point where it is no axis.
    """

    axes: tuple[str, str, str] = DEFAULT_AXES
    log: tuple[bool, bool] = (False, False)
    x0: float = DEFAULT_INIT[0]
    y0: float = DEFAULT_INIT[1]

    @property
    def initial(self) -> bool:
        """A grid of initial points ``(eta, y0, x0)``, linear: what grids were before planes."""
        return self.axes == DEFAULT_AXES and self.log == (False, False)

    def params(self) -> dict:
        """JSON for a file's ``params`` (nothing for an initial-point grid)."""
        if self.initial:
            return {}
        out: dict = {"axes": list(self.axes), "log": [self.log[0], self.log[1]]}
        for name in ("x0", "y0"):
            if name not in self.axes:
                out[name] = getattr(self, name)
        return out

    @classmethod
    def from_params(cls, params) -> Plane:
        """The plane a file's ``params`` record (an initial-point grid when none)."""
        if "axes" not in params:
            return cls()
        axes = tuple(str(a) for a in params["axes"])
        log = tuple(bool(v) for v in params.get("log", (False, False)))
        return cls(axes, log, float(params.get("x0", DEFAULT_INIT[0])),
                   float(params.get("y0", DEFAULT_INIT[1])))

    def inputs(self, slice_value: float, rows: np.ndarray, cols: np.ndarray, optimizer
               ) -> tuple[np.ndarray, ...]:
        """The grid kernel's per-point inputs for one tile, row-major.

        Returns ``(x0, y0, eta, eta_y, beta)`` (float64, each ``rows.size *
        cols.size``): ``eta`` is the step size of the layers carrying ``x``
        (the kernel's first step size), as :meth:`Optimizer.kernel_inputs`.
        """
        ny, nx = rows.size, cols.size
        shape = (ny, nx)
        values: dict[str, np.ndarray] = {}
        s, r, c = self.axes
        values[s] = np.full(shape, float(slice_value))
        values[r] = np.broadcast_to(np.asarray(rows, np.float64)[:, None], shape)
        values[c] = np.broadcast_to(np.asarray(cols, np.float64)[None, :], shape)

        def get(name: str, default: float | None):
            if name in values:
                return values[name]
            return None if default is None else np.full(shape, float(default))

        x0 = get("x0", self.x0)
        y0 = get("y0", self.y0)
        eta = get("eta", None)
        ex = get("eta_x", optimizer.eta_x)
        ey = get("eta_y", optimizer.eta_y)
        beta = get("beta", optimizer.beta)
        if ex is None:
            ex = eta
        if ey is None:
            ey = eta
        flat = [np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
                for a in (x0, y0, ex, ey, beta)]
        return tuple(flat)

    def thresholds(self, slice_value: float, rows: np.ndarray, cols: np.ndarray, optimizer
                   ) -> np.ndarray:
        """Each point's threshold (:meth:`Optimizer.threshold`), shape ``(rows, cols)``.

        ``limit(beta) / min(eta_x, eta_y)``, the point's own ``beta`` and step
        sizes (``limit / eta`` with one step size).
        """
        _, _, ex, ey, beta = self.inputs(slice_value, rows, cols, optimizer)
        limit = optimizer.limit_at(beta)
        return (limit / np.minimum(ex, ey)).reshape(rows.size, cols.size)

    def scheme(self, optimizer) -> tuple[int, bool]:
        """The kernels' ``(optimizer code, layered)`` for this plane (:mod:`eosfast.kernels.optim`).

        An axis over ``beta`` needs the momentum kernel even where it is 0
        (which it runs as GD, bit for bit); one over ``eta_x`` or ``eta_y``
        needs a step size per layer.
        """
        from .kernels.optim import GD, MOMENTUM, NESTEROV

        layered = optimizer.layered or "eta_x" in self.axes or "eta_y" in self.axes
        if optimizer.method == "gd" or ("beta" not in self.axes and optimizer.beta == 0.0):
            return GD, layered
        return (MOMENTUM if optimizer.method == "momentum" else NESTEROV), layered


def make_plane(axes: Sequence[str] | None, log=False, x0: float | None = None,
               y0: float | None = None, optimizer=None) -> Plane:
    """Validate a plane: ``axes = (columns, rows)`` names, ``log`` True, False or names.

    Raises :class:`~eosfast.errors.InvalidArgument` naming the flag.
    """
    if axes is None:
        if log not in (False, None, (), []):
            raise InvalidArgument("{log} needs {axes} (the initial-point grid is linear)",
                                  "log", "axes")
        for name, v in (("x0", x0), ("y0", y0)):
            if v is not None:
                raise InvalidArgument(f"{{{name}}} fixes the initial point of a plane over "
                                      "hyperparameters; this grid's axes are x0 and y0 "
                                      "(give --axes)", name, "axes")
        return Plane()
    if isinstance(axes, str) or len(axes) != 2:
        raise InvalidArgument(f"{{axes}} takes two names (horizontal, vertical), got "
                              f"{validate.show(axes)}", "axes")
    cols, rows = (str(a) for a in axes)
    for a in (cols, rows):
        if a not in PARAMETERS:
            raise InvalidArgument(f"{{axes}}: unknown parameter {a!r}; choose from "
                                  f"{', '.join(PARAMETERS)}", "axes")
    if cols == rows:
        raise InvalidArgument(f"{{axes}} names {cols} twice", "axes")
    if "beta" in (cols, rows) and (optimizer is None or optimizer.method == "gd"):
        raise InvalidArgument("an axis over beta needs {optimizer} momentum or nesterov",
                              "axes", "optimizer")
    for name, v in (("x0", x0), ("y0", y0)):
        if v is not None and name in (cols, rows):
            raise InvalidArgument(f"{{{name}}} fixes {name}, which is an axis here", name,
                                  "axes")
    for name in ("eta_x", "eta_y", "beta"):
        fixed = None if optimizer is None else getattr(optimizer, name)
        if name in (cols, rows) and fixed not in (None, 0.0):
            raise InvalidArgument(f"{{{name}}} fixes {name}, which is an axis here", name,
                                  "axes")
    own = [name in (cols, rows) or (optimizer is not None and getattr(optimizer, name)
                                    is not None) for name in ("eta_x", "eta_y")]
    eta_used = "eta" not in (cols, rows) and not all(own)
    if eta_used or {"x0", "y0"} <= {cols, rows}:
        slices = "eta"
    else:  # eta is an axis, or no layer uses it: the slices hold the fixed initial x0 (or y0)
        slices = "x0" if "x0" not in (cols, rows) else "y0"
    if log is True:
        logs = (True, True)
    elif not log:
        logs = (False, False)
    else:
        names = [log] if isinstance(log, str) else list(log)
        for n in names:
            if n not in (cols, rows):
                raise InvalidArgument(f"{{log}} {n!r} is not an axis of this grid "
                                      f"({cols}, {rows})", "log")
        logs = (rows in names, cols in names)
    fx = DEFAULT_INIT[0] if x0 is None else validate.real("x0", x0)
    fy = DEFAULT_INIT[1] if y0 is None else validate.real("y0", y0)
    return Plane((slices, rows, cols), logs, fx, fy)


def axis_values(name: str, flag: str, bounds: Sequence[float] | None, n: int,
                log: bool) -> np.ndarray:
    """The values of a plane axis over ``bounds`` (default :data:`DEFAULT_RANGES`).

    ``flag`` names the range option in errors. Step sizes must be positive,
    ``beta`` in ``[0, 1)``; a log axis must not reach zero.
    """
    lo, hi = DEFAULT_RANGES[name] if bounds is None else validate.pair(flag, bounds)
    if name.startswith("eta") and lo <= 0:
        raise InvalidArgument(f"{{{flag}}}: step sizes must be positive, got {lo:g}", flag)
    if name == "beta" and not (0 <= lo and hi < 1):
        raise InvalidArgument(f"{{{flag}}}: beta must be in [0, 1), got {lo:g} {hi:g}", flag)
    if log:
        if lo <= 0:
            raise InvalidArgument(f"{{log}} on {name}: its range {lo:g} {hi:g} reaches zero "
                                  "or below", "log", flag)
        values = np.geomspace(lo, hi, n)
        values[0], values[-1] = lo, hi
        if not np.all(np.isfinite(values)) or (n > 1 and not np.all(np.diff(values) > 0)):
            raise InvalidArgument(f"{{{flag}}} {lo:g} {hi:g} with {n} points is not strictly "
                                  "increasing in float64", flag)
        return values
    return validate.axis(flag, (lo, hi), n)
