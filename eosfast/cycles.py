"""Periodic orbits of the GD map by Newton's method, and the period-doubling cascade.

:func:`periodic_orbit` finds a cycle and its monodromy matrix;
:func:`period_doublings` continues the cascade's cycles in eta to locate the
points where each loses stability, and the Feigenbaum ratios between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import defaults
from .bifurcation import Bifurcation, bifurcation
from .errors import EosfastError
from .models import get_model
from .result import Result

#: Feigenbaum's constant delta, the limit of the ratios.
FEIGENBAUM = 4.669201609102990


def periodic_orbit(model: str, x: float, y: float, eta: float, n: int, tol: float = 1e-13,
                   maxiter: int = 60) -> tuple[float, float, np.ndarray]:
    """A period-``n`` cycle of the GD map near ``(x, y)`` by Newton's method.

    Solves ``g^n(w) = w`` with the Jacobian ``M - I``, ``M = J(w_{n-1}) ... J(w_0)``
    (least squares, so a degenerate ``M - I`` still gives a step).

    Returns
    -------
    x, y : float
        A point of the cycle.
    M : ndarray, shape (2, 2), float64
        The cycle's monodromy matrix; its eigenvalues are the multipliers.
    """
    m = get_model(model)
    traj, jac = m.kernels.trajectory, m.kernels.jacobian
    xs, ys, ls, sh = (np.empty(n + 1) for _ in range(4))
    J = np.empty((n, 2, 2))
    w = np.array([x, y], dtype=np.float64)
    M = np.eye(2)
    for _ in range(maxiter):
        if traj(w[0], w[1], eta, eta, 0.0, 1e300, xs, ys, ls, sh) < n:
            raise EosfastError(f"the orbit from {tuple(w)} escapes at eta={eta}")
        jac(xs[:n], ys[:n], eta, J)
        M = np.eye(2)
        for t in range(n):
            M = J[t] @ M
        F = np.array([xs[n] - w[0], ys[n] - w[1]])
        dw = np.linalg.lstsq(M - np.eye(2), -F, rcond=None)[0]
        w = w + dw
        if np.abs(dw).sum() <= tol * (1.0 + np.abs(w).sum()):
            break
    return float(w[0]), float(w[1]), M


def _flip_gap(model: str, w: tuple[float, float], eta: float, n: int):
    """``min Re(multiplier) + 1`` of the period-``n`` cycle near ``w``, and a point of it."""
    x, y, M = periodic_orbit(model, w[0], w[1], eta, n)
    return float(np.linalg.eigvals(M).real.min() + 1.0), (x, y)


@dataclass(repr=False)
class PeriodDoublings(Result):
    """The period-doubling points of a cascade.

    Attributes
    ----------
    points : list of float
        ``eta_1, eta_2, ...`` where the period doubles.
    periods : list of int
        The period born at each point (2, 4, 8, ...).
    ratios : list of float
        ``delta_j = (eta_j - eta_{j-1}) / (eta_{j+1} - eta_j)``.
    feigenbaum : float
        Feigenbaum's delta, the ratios' limit.
    """

    points: list[float]
    periods: list[int]
    ratios: list[float] = field(default_factory=list)
    feigenbaum: float = FEIGENBAUM

    def summary(self) -> str:
        pts = ", ".join(f"{p:.7g}" for p in self.points)
        rat = ", ".join(f"{r:.3f}" for r in self.ratios)
        return f"doublings at eta = {pts}; ratios {rat} (-> {self.feigenbaum:.4f})"


def period_doublings(model: str = defaults.MODEL, x0: float = defaults.BIFURCATION_X0,
                     y0: float = defaults.BIFURCATION_Y0,
                     eta_range: Sequence[float] = defaults.BIFURCATION_ETA_RANGE,
                     levels: int = 6, coarse: Bifurcation | None = None,
                     bisections: int = 60) -> PeriodDoublings:
    """Locate the period-doubling points of the cascade and the Feigenbaum ratios.

    ``eta_1 = 1/2`` exactly (math.md s. 2: above it no minimum is stable; the
    balanced minimum's multiplier ``1 - 4 eta`` crosses -1 there). For
    ``j >= 2``, ``eta_j`` is where the attracting period-``2^(j-1)`` cycle
    loses stability: starting inside that cycle's band on a coarse sweep, the
    cycle is continued in eta by Newton (:func:`periodic_orbit`) until a
    multiplier passes -1, then the crossing is bisected to rounding level.
    ``delta_j = (eta_j - eta_{j-1}) / (eta_{j+1} - eta_j)`` tends to
    Feigenbaum's 4.6692 (the bands shrink by that factor, so the coarse sweep
    limits how many levels are found).

    Parameters
    ----------
    coarse : Bifurcation, optional
        A sweep over ``eta_range`` from ``(x0, y0)`` to take the bands from
        (computed with 4000 step sizes when omitted).

    Returns
    -------
    PeriodDoublings
    """
    if coarse is None:
        coarse = bifurcation(model, x0, y0, eta_range, 4000, burn=20000, record=1024,
                             observable="x")
    eta, per = coarse.eta, coarse.period
    points, periods = [0.5], [2]
    for j in range(2, levels + 1):
        n = 2 ** (j - 1)
        band = np.flatnonzero((per == n) & (eta > points[-1]))
        if band.size < 3:
            break
        # the band's first contiguous run
        stop = np.flatnonzero(np.diff(band) > 1)
        band = band[: stop[0] + 1] if stop.size else band
        i = band[band.size // 2]
        e = float(eta[i])
        step_e = float(eta[1] - eta[0]) if eta.size > 1 else 1e-3
        xs, ys, ls, sh = (np.empty(20001) for _ in range(4))
        get_model(model).kernels.trajectory(x0, y0, e, e, 0.0, defaults.ESCAPE, xs, ys, ls, sh)
        w = (xs[-1], ys[-1])
        try:
            g, w = _flip_gap(model, w, e, n)
            if g <= 0:
                break
            lo, hi, w_lo = e, None, w
            for _ in range(10_000):
                e2 = lo + step_e
                g2, w2 = _flip_gap(model, w_lo, e2, n)
                if g2 <= 0:
                    hi = e2
                    break
                lo, w_lo = e2, w2
            if hi is None:
                break
            for _ in range(bisections):
                mid = 0.5 * (lo + hi)
                if mid in (lo, hi):
                    break
                gm, wm = _flip_gap(model, w_lo, mid, n)
                if gm > 0:
                    lo, w_lo = mid, wm
                else:
                    hi = mid
        except (EosfastError, np.linalg.LinAlgError):
            break
        points.append(0.5 * (lo + hi))
        periods.append(2 * n)
    ratios = [(points[i] - points[i - 1]) / (points[i + 1] - points[i])
              for i in range(1, len(points) - 1)]
    return PeriodDoublings(points, periods, ratios)
