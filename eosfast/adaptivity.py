"""Sharpness adaptivity: final sharpness against eta from one initial point (Corollary 3.2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import defaults, validate
from .models import Model, get_model
from .result import Result
from .status import Status
from .tiles import compute_points


@dataclass(repr=False)
class Adaptivity(Result):
    """Final sharpness against eta from one initial point (Corollary 3.2).

    Attributes
    ----------
    model : str
    x0, y0 : float
    eta : ndarray, shape (m,), float64
    sharpness : ndarray, shape (m,), float64
        Network sharpness at the final iterate (NaN if diverged).
    status : ndarray, shape (m,), int8
        The grid's codes: 1 converged, 2 periodic, 0 bounded, -1 diverged.
    steps : ndarray, shape (m,), int32
        Step at which the run stopped.
    """

    model: str
    x0: float
    y0: float
    eta: np.ndarray
    sharpness: np.ndarray
    status: np.ndarray
    steps: np.ndarray

    def summary(self) -> str:
        conv = self.status == Status.CONVERGED
        return (f"{self.model} from ({self.x0:g}, {self.y0:g}): {self.eta.size} eta in "
                f"[{self.eta.min():g}, {self.eta.max():g}], {int(conv.sum())} converged")


def adaptivity(model: str | Model = defaults.MODEL, x0: float = defaults.TRAJECTORY_X0,
               y0: float = defaults.TRAJECTORY_Y0,
               eta: Sequence[float] | np.ndarray = (0.1, 0.25), eta_res: int = 50,
               steps: int = 50000, tol: float = defaults.TOL,
               escape: float = defaults.ESCAPE,
               model_params: Mapping[str, float] | Iterable[str] | None = None) -> Adaptivity:
    """Final sharpness from ``(x0, y0)`` for a range of step sizes (grid kernel).

    Parameters
    ----------
    eta : array_like
        Two numbers ``(lo, hi)`` for ``linspace(lo, hi, eta_res)``, or an explicit
        array of more (or fewer) than two step sizes.
    steps, tol, escape : int, float, float
        The grid's step cap, convergence tolerance and escape radius.

    Returns
    -------
    Adaptivity
    """
    m = get_model(model, model_params)
    e = np.asarray(eta, dtype=np.float64)
    if e.size == 2:
        etas = validate.step_sizes(None, tuple(e), eta_res)
    else:
        etas = validate.step_sizes(e.tolist(), None, None)
    steps = validate.integer("steps", steps, hi=2**31 - 2)
    tol = validate.real("tol", tol, positive=True)
    escape = validate.real("escape", escape, positive=True)
    n = etas.size
    xs = np.full(n, validate.real("x0", x0))
    ys = np.full(n, validate.real("y0", y0))
    out = compute_points(m, xs, ys, etas, steps, tol, escape)
    return Adaptivity(m.spec.model, float(x0), float(y0), etas, out["sharpness"], out["status"],
                      out["steps"])
