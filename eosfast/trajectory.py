"""One GD run with every step recorded, and the paper's ``(a, b)`` coordinates.

:func:`trajectory` iterates the same compiled map as the grid (so its state at
step ``t`` is bit-identical to what the grid kernel reaches after ``t`` steps
from the same point) and records, for ``t = 0..T``: ``x, y``, the objective,
the network sharpness and the reparametrised ``(a, b)`` of Zhu et al. (ICLR
2023) s. 3 (math.md s. 3):

    c = sqrt(x^2 - y^2),  a = c - (eta^-2 - 4)^(1/4),  b = x y - 1,  kappa = sqrt(eta).

File layout (HDF5, :data:`eosfast.store.layouts.TRAJECTORY`): coordinate
``step`` (int64, 0..n) and arrays ``x, y, loss, sharpness, a, b`` (float64)
over it; root attributes ``model``, ``eta``, ``x0``, ``y0``, ``steps``
(requested), ``escape``, ``diverged`` and the common ones.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import defaults, validate
from .models import Model, get_model
from .optimizer import Optimizer
from .result import Result
from .store.atomic import check_output
from .store.h5 import open_file, read_params, write_file
from .store.layouts import TRAJECTORY

#: Models whose EoS minimum is ``x^2 + y^2 = 1/eta, xy = 1`` (sharpness 2(x^2 + y^2)
#: at the minima), so that the paper's ``(a, b)`` are defined for them.
AB_MODELS = ("zhu4", "deg2")

#: Longest run :func:`trajectory` accepts (six float64 arrays of ``steps + 1``).
MAX_STEPS = 100_000_000

@dataclass(repr=False)
class Trajectory(Result):
    """A recorded GD run.

    Attributes
    ----------
    model : str
        Model name, or its expression (canonical form).
    eta : float
        Step size.
    x0, y0 : float
        Initial point.
    steps : int
        Steps requested ``T``; the arrays have ``n + 1`` entries, ``n = T``
        unless the run diverged (then ``n`` is the first escaped step).
    x, y, loss, sharpness, a, b : ndarray, shape (n + 1,), float64
        Per step, the initial point included (see the module docstring).
    diverged : bool
        Whether the run escaped (``|x| > R`` or ``|y| > R`` or not finite).
    params : dict
        Every parameter of the run.
    """

    model: str
    eta: float
    x0: float
    y0: float
    steps: int
    x: np.ndarray
    y: np.ndarray
    loss: np.ndarray
    sharpness: np.ndarray
    a: np.ndarray
    b: np.ndarray
    diverged: bool
    params: dict = field(default_factory=dict)

    @property
    def step(self) -> np.ndarray:
        """Step numbers ``0..n``, int64."""
        return np.arange(self.x.size, dtype=np.int64)

    @property
    def kappa(self) -> float:
        """``sqrt(eta)``, the paper's small parameter."""
        return math.sqrt(self.eta)

    @property
    def optimizer(self) -> Optimizer:
        """The run's optimizer (plain GD unless its ``params`` record another)."""
        return Optimizer.from_params(self.params)

    @property
    def threshold(self) -> float:
        """The optimizer's stability threshold: ``2 / eta`` for GD (:meth:`Optimizer.threshold`)."""
        return float(self.optimizer.threshold(self.eta))

    def __len__(self) -> int:
        return int(self.x.size)

    def summary(self) -> str:
        n = len(self) - 1
        end = (f"diverged at step {n}" if self.diverged else
               f"x={self.x[-1]:.6g}, y={self.y[-1]:.6g}, loss={self.loss[-1]:.3g}, "
               f"sharpness={self.sharpness[-1]:.6g} ({self._edge_label}={self.threshold:.6g})")
        how = self.optimizer.describe()
        return (f"{self.model_label}, eta={self.eta:g}{', ' + how if how else ''} from "
                f"({self.x0:g}, {self.y0:g}), {n} steps; {end}")

    @property
    def _edge_label(self) -> str:
        return "2/eta" if self.optimizer.plain else "threshold"


def reparametrise(x, y, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """The paper's ``(a, b)`` of states ``(x, y)`` at step size ``eta`` (paper s. 3).

    ``c = sqrt(x^2 - y^2)``, ``a = c - (eta^-2 - 4)^(1/4)``, ``b = x y - 1``.

    Parameters
    ----------
    x, y : array_like, float64, one shape
        States.
    eta : float
        Step size; ``(a, b)`` need ``eta < 1/2``.

    Returns
    -------
    a, b : ndarray, float64, the shape of ``x``
        NaN where undefined: ``x^2 < y^2``, a non-finite state, or ``eta >= 1/2``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not 0.0 < eta < 0.5:
        nan = np.full(np.broadcast(x, y).shape, np.nan)
        return nan, nan.copy()
    c2 = x * x - y * y
    ok = np.isfinite(c2) & (c2 >= 0.0)
    with np.errstate(invalid="ignore"):
        c = np.sqrt(np.where(ok, c2, np.nan))
        a = c - (eta**-2 - 4.0) ** 0.25
        b = np.where(ok, x * y - 1.0, np.nan)
    return a, b


def parabola_b(a, eta: float) -> np.ndarray:
    """Upper branch of the attracting parabola ``b^2 = a kappa / 2 + kappa^4 / 16`` (math.md s. 3).

    Parameters
    ----------
    a : array_like, float64
    eta : float
        Step size, ``kappa = sqrt(eta)``.

    Returns
    -------
    ndarray, float64
        ``+sqrt(a kappa / 2 + kappa^4 / 16)``, NaN left of the vertex ``a = -kappa^3 / 8``.
    """
    k = math.sqrt(eta)
    rhs = 0.5 * np.asarray(a, dtype=np.float64) * k + k**4 / 16.0
    eps = 1e-12 * k**4  # the vertex itself, up to rounding
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.where(rhs >= -eps, np.maximum(rhs, 0.0), np.nan))


def trajectory(model: str | Model = defaults.MODEL, x0: float = defaults.TRAJECTORY_X0,
               y0: float = defaults.TRAJECTORY_Y0, eta: float = defaults.ETA,
               steps: int = defaults.STEPS, out: str | os.PathLike | None = None, *,
               escape: float = defaults.ESCAPE, force: bool = False,
               model_params: Mapping[str, float] | Iterable[str] | None = None,
               optimizer: str | Optimizer = "gd", beta: float | None = None,
               eta_x: float | None = None, eta_y: float | None = None) -> Trajectory:
    """Run GD (or a momentum method) from ``(x0, y0)`` for ``steps`` steps, recording every state.

    Parameters
    ----------
    model : str or Model
        A key of :data:`eosfast.MODELS`, or an expression ``L(x, y)``
        (:mod:`eosfast.expression`).
    x0, y0 : float
        Initial point (the weights are ``model.weights(x0, y0)``).
    eta : float
        Step size (> 0).
    steps : int
        Number of steps ``T``; the run stops early only on divergence.
    out : path-like, optional
        Also write the HDF5 file described in the module docstring.
    escape : float
        Escape radius ``R``: diverged once ``|x| > R`` or ``|y| > R`` or a value
        is not finite (the grid's rule).
    force : bool
        Overwrite an existing ``out``.
    model_params : mapping of str -> float, or strings ``"NAME=VALUE"``, optional
        Parameters of an expression model.
    optimizer, beta, eta_x, eta_y :
        The optimizer, as for :func:`eosfast.grid` (:mod:`eosfast.optimizer`);
        the momentum methods start at rest.

    Returns
    -------
    Trajectory
        Arrays over steps ``0..n`` (``n = T`` unless diverged).

    Examples
    --------
    >>> from eosfast.trajectory import trajectory
    >>> t = trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=3000)
    >>> bool(9.9 < t.sharpness[-1] < 10.0)
    True
    """
    m = get_model(model, model_params)
    x0 = validate.real("x0", x0)
    y0 = validate.real("y0", y0)
    eta = validate.real("eta", eta, positive=True)
    escape = validate.real("escape", escape, positive=True)
    steps = validate.integer("steps", steps, lo=0, hi=MAX_STEPS)
    force = validate.flag("force", force)
    opt = Optimizer.checked(optimizer, beta, eta_x, eta_y)
    validate.fits_in_memory(8 * 7 * (steps + 1), f"a trajectory of {steps} steps",
                            "use fewer steps")
    if out is not None:
        check_output(validate.path("out", out), force=force)
    xs = np.empty(steps + 1)
    ys = np.empty(steps + 1)
    lss = np.empty(steps + 1)
    sharp = np.empty(steps + 1)
    ex, ey = opt.rates(eta)
    n = int(m.kernels_for(opt).trajectory(x0, y0, ex, ey, opt.beta, escape, xs, ys, lss, sharp))
    xs, ys, lss, sharp = (v[: n + 1] for v in (xs, ys, lss, sharp))
    diverged = not (abs(xs[-1]) <= escape and abs(ys[-1]) <= escape)
    if m.name in AB_MODELS:
        a, b = reparametrise(xs, ys, eta)
    else:
        a = np.full(n + 1, np.nan)
        b = np.full(n + 1, np.nan)
    params = {"model": m.spec.model, "model_params": m.spec.param_dict(), "x0": x0, "y0": y0,
              "eta": eta, "steps": steps, "escape": escape, **opt.params()}
    traj = Trajectory(m.spec.model, eta, x0, y0, steps, xs, ys, lss, sharp, a, b, diverged, params)
    if out is not None:
        write_trajectory(traj, out, force=force)
    return traj


def write_trajectory(traj: Trajectory, path: str | os.PathLike, force: bool = False) -> Path:
    """Write ``traj`` to ``path`` (HDF5, layout :data:`eosfast.store.layouts.TRAJECTORY`)."""
    data = {name: getattr(traj, name) for name in TRAJECTORY.data}
    attrs = {"model": traj.model,
             "model_params": json.dumps(traj.params.get("model_params", {}), sort_keys=True),
             "eta": traj.eta, "x0": traj.x0, "y0": traj.y0,
             "steps": traj.steps, "escape": traj.params.get("escape", np.nan),
             "diverged": np.int8(traj.diverged)}
    return write_file(path, TRAJECTORY, {"step": traj.step}, data, traj.params, attrs,
                      force=force)


def read_trajectory(path: str | os.PathLike) -> Trajectory:
    """Load a file written by :func:`trajectory` (or ``eosfast trajectory``)."""
    with open_file(path, TRAJECTORY.kind) as f:
        arr = {name: f[name][:] for name in TRAJECTORY.data}
        at = f.attrs
        return Trajectory(str(at["model"]), float(at["eta"]), float(at["x0"]),
                          float(at["y0"]), int(at["steps"]), arr["x"], arr["y"],
                          arr["loss"], arr["sharpness"], arr["a"], arr["b"],
                          bool(at["diverged"]), read_params(f))
