"""Orbit diagrams over eta, periods, Lyapunov exponents and sharpness adaptivity.

:func:`bifurcation` runs, for every step size of a sweep and in parallel, ``burn``
GD steps from one initial point, then records ``record`` more steps of an
observable (kernel: :func:`eosfast.kernels.orbit.make_bifurcation_kernel`).
Per step size it reports the period of the recorded orbit and its largest
Lyapunov exponent.

Period codes: 1 converged (``|1 - P| < tol`` at the end, or the recorded
states are constant), ``k >= 2`` periodic, 0 none found (chaotic, or still
relaxing: near a bifurcation the approach is slow), -1 diverged. Period
``k`` means ``|x_t - x_{t-k}| + |y_t - y_{t-k}| <= period_tol (1 + |x| + |y|)``
over the whole recorded window, ``k`` the smallest such in
``1..min(max_period, record // 2)``.

Lyapunov exponent: nats per GD step, from the Jacobian of the GD map along the
recorded orbit, by the renormalised tangent vector (the QR method with one
column); :func:`lyapunov_spectrum` is the full QR method for any sequence of
Jacobians and :func:`lyapunov_exponents` applies it to a user-supplied map.

File layout (HDF5, DESIGN.md): coordinates ``eta`` (float64) and ``sample``
(int64, 0..record-1), both dimension scales; ``orbit`` (eta, sample) float64,
``period`` (eta) int16, ``lyapunov`` (eta) float64; root attributes ``kind =
"eosfast.bifurcation"``, ``model``, ``x0``, ``y0``, ``burn``, ``record``,
``observable``, ``tol``, ``escape``, ``period_tol``, ``max_period``,
``eosfast_version``, ``created``, ``params`` (JSON).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from .errors import EosfastError
from .kernels.orbit import OBSERVABLES, lyapunov_qr
from .models import get_model
from .trajectory import _check_number, _check_steps, check_out, open_h5, write_h5

#: Root attribute marking an eosfast bifurcation file.
KIND = "eosfast.bifurcation"

#: Default relative tolerance of the period test (see the module docstring).
PERIOD_TOL = 1e-8

#: Default largest period searched.
MAX_PERIOD = 256

#: Step sizes handed to the kernel per call (progress is reported between calls).
BLOCK = 2048

#: Largest orbit array :func:`bifurcation` allocates (elements of float64).
MAX_ELEMENTS = 1 << 31

_DOC = {
    "P": "product of the weights P = x^p y^q",
    "x": "x",
    "y": "y",
    "loss": "objective GD runs on",
    "sharpness": "top eigenvalue of the network Hessian",
    "b": "x y - 1 (paper s. 3)",
}


@dataclass
class Bifurcation:
    """An orbit diagram.

    Attributes
    ----------
    model : str
        Model name.
    x0, y0 : float
        Initial point (the same for every eta).
    eta : ndarray, shape (m,), float64
        Step sizes.
    orbit : ndarray, shape (m, record), float64
        The observable after each recorded step; NaN from an escape on.
    period : ndarray, shape (m,), int16
        1 converged, ``k >= 2`` periodic, 0 none found, -1 diverged.
    lyapunov : ndarray, shape (m,), float64
        Largest Lyapunov exponent of the recorded steps (nats per step); NaN if diverged.
    observable : str
        One of :data:`eosfast.kernels.orbit.OBSERVABLES`.
    burn, record : int
        Steps discarded, steps recorded.
    params : dict
        Every parameter of the run.
    """

    model: str
    x0: float
    y0: float
    eta: np.ndarray
    orbit: np.ndarray
    period: np.ndarray
    lyapunov: np.ndarray
    observable: str
    burn: int
    record: int
    params: dict = field(default_factory=dict)

    @property
    def sample(self) -> np.ndarray:
        """Recorded step numbers after burn-in, ``0..record-1`` (int64)."""
        return np.arange(self.orbit.shape[1], dtype=np.int64)

    def counts(self) -> dict[str, int]:
        """Number of step sizes per outcome: converged, periodic, none, diverged."""
        p = self.period
        return {"converged": int((p == 1).sum()), "periodic": int((p >= 2).sum()),
                "none": int((p == 0).sum()), "diverged": int((p == -1).sum())}

    def summary(self) -> str:
        """One line: sizes and outcome counts."""
        c = self.counts()
        return (f"{self.model} bifurcation: {self.eta.size} eta in [{self.eta.min():g}, "
                f"{self.eta.max():g}] x {self.record} samples ({self.observable}); "
                f"converged {c['converged']}, periodic {c['periodic']}, none {c['none']}, "
                f"diverged {c['diverged']}")


def _eta_values(eta, eta_range, eta_res) -> np.ndarray:
    if eta is not None:
        vals = np.atleast_1d(np.asarray(eta, dtype=np.float64))
    elif eta_range is not None:
        if eta_res is None:
            raise EosfastError("eta_range needs eta_res (the number of step sizes)")
        lo, hi = (_check_number("eta_range", v, positive=True) for v in eta_range)
        n = _check_steps("eta_res", eta_res, 10**8)
        if n < 1:
            raise EosfastError("eta_res must be at least 1")
        vals = np.linspace(lo, hi, n)
    else:
        raise EosfastError("give eta or eta_range with eta_res")
    if vals.ndim != 1 or vals.size == 0 or not np.all(np.isfinite(vals) & (vals > 0)):
        raise EosfastError("step sizes must be positive finite numbers")
    return vals


def bifurcation(model: str = "zhu4", x0: float = 1.2, y0: float = 0.9,
                eta_range: Sequence[float] | None = (0.45, 0.99), eta_res: int | None = 1000,
                *, eta: float | Sequence[float] | np.ndarray | None = None,
                burn: int = 20000, record: int = 2048, observable: str = "P",
                tol: float = 1e-12, escape: float = 1e3, period_tol: float = PERIOD_TOL,
                max_period: int = MAX_PERIOD, out: str | os.PathLike | None = None,
                force: bool = False, threads: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> Bifurcation:
    """Orbit diagram: for each eta, ``burn`` GD steps then ``record`` recorded steps.

    Parameters
    ----------
    model : str
        A key of :data:`eosfast.MODELS`.
    x0, y0 : float
        Initial point, the same for every eta. The default (1.2, 0.9) is a
        generic point whose orbits for eta > 1/2 settle on the balanced line
        ``|x| = |y|`` and show the period-doubling cascade (math.md s. 5).
    eta_range, eta_res : (float, float), int
        ``eta = linspace(*eta_range, eta_res)``, ends included.
    eta : array_like, optional
        Explicit step sizes (overrides ``eta_range``).
    burn, record : int
        Steps discarded, steps recorded (``record >= 1``).
    observable : str
        What ``orbit`` holds: ``P`` (product of the weights, default), ``x``,
        ``y``, ``loss``, ``sharpness`` or ``b`` (``xy - 1``).
    tol : float
        Converged when ``|1 - P| < tol`` at the last step.
    escape : float
        Diverged once ``|x| > escape`` or ``|y| > escape`` or not finite.
    period_tol, max_period : float, int
        Period test (module docstring).
    out : path-like, optional
        Also write the HDF5 file (module docstring); never overwrites without ``force``.
    threads : int, optional
        Threads (default: Numba's, all cores). Results do not depend on it.
    progress : callable, optional
        Called as ``progress(done, total)`` (step sizes) after each block.

    Returns
    -------
    Bifurcation

    Examples
    --------
    >>> from eosfast.bifurcation import bifurcation
    >>> r = bifurcation(eta=[0.4, 0.55], burn=5000, record=64)
    >>> r.period.tolist()
    [1, 2]
    """
    m = get_model(model)
    if observable not in OBSERVABLES:
        raise EosfastError(f"unknown observable {observable!r} (choose from "
                           f"{', '.join(OBSERVABLES)})")
    etas = _eta_values(eta, eta_range, eta_res)
    x0 = _check_number("x0", x0)
    y0 = _check_number("y0", y0)
    burn = _check_steps("burn", burn, 10**10)
    record = _check_steps("record", record, 10**8)
    if record < 1:
        raise EosfastError("record must be at least 1")
    tol = _check_number("tol", tol, positive=True)
    escape = _check_number("escape", escape, positive=True)
    period_tol = _check_number("period_tol", period_tol, positive=True)
    max_period = _check_steps("max_period", max_period, 10**6)
    if etas.size * record > MAX_ELEMENTS:
        raise EosfastError(f"{etas.size} step sizes x {record} samples is too large an orbit "
                           f"array (limit {MAX_ELEMENTS} values)")
    if out is not None:
        check_out(out, force)
    kernel = m.kernels.bifurcation
    orbit = np.empty((etas.size, record))
    period = np.empty(etas.size, dtype=np.int16)
    lyap = np.empty(etas.size)
    old = numba.get_num_threads()
    if threads is not None:
        if isinstance(threads, bool) or int(threads) != threads or threads < 1:
            raise EosfastError(f"threads must be a positive integer (got {threads!r})")
        numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
    try:
        for lo in range(0, etas.size, BLOCK):
            hi = min(etas.size, lo + BLOCK)
            kernel(x0, y0, etas[lo:hi], burn, tol, escape, OBSERVABLES.index(observable),
                   period_tol, max_period, orbit[lo:hi], period[lo:hi], lyap[lo:hi])
            if progress:
                progress(hi, etas.size)
    finally:
        numba.set_num_threads(old)
    params = {"model": m.name, "x0": x0, "y0": y0, "eta": etas.tolist()
              if eta is not None else None,
              "eta_range": list(map(float, eta_range)) if eta is None else None,
              "eta_res": int(etas.size), "burn": burn, "record": record,
              "observable": observable, "tol": tol, "escape": escape,
              "period_tol": period_tol, "max_period": max_period}
    res = Bifurcation(m.name, x0, y0, etas, orbit, period, lyap, observable, burn, record,
                      params)
    if out is not None:
        write_bifurcation(res, out, force=force)
    return res


def write_bifurcation(res: Bifurcation, path: str | os.PathLike, force: bool = False) -> Path:
    """Write ``res`` to ``path`` (HDF5, layout in the module docstring)."""
    arrays = {
        "orbit": (res.orbit, ("eta", "sample"),
                  f"observable {res.observable}: {_DOC[res.observable]}, after each recorded step"),
        "period": (res.period, ("eta",),
                   "1 converged, k >= 2 periodic, 0 none found, -1 diverged"),
        "lyapunov": (res.lyapunov, ("eta",),
                     "largest Lyapunov exponent of the recorded orbit, nats per step"),
    }
    p = res.params
    attrs = {"model": res.model, "x0": res.x0, "y0": res.y0, "burn": res.burn,
             "record": res.record, "observable": res.observable, "tol": p.get("tol", np.nan),
             "escape": p.get("escape", np.nan), "period_tol": p.get("period_tol", np.nan),
             "max_period": p.get("max_period", -1), "params": p}
    return write_h5(path, KIND, {"eta": res.eta, "sample": res.sample}, arrays, attrs,
                    force=force)


def read_bifurcation(path: str | os.PathLike) -> Bifurcation:
    """Load a file written by :func:`bifurcation` (or ``eosfast bifurcation``)."""
    import json

    with open_h5(path, KIND) as f:
        at = f.attrs
        return Bifurcation(str(at["model"]), float(at["x0"]), float(at["y0"]), f["eta"][:],
                           f["orbit"][:], f["period"][:], f["lyapunov"][:],
                           str(at["observable"]), int(at["burn"]), int(at["record"]),
                           json.loads(at["params"]))


def lyapunov_spectrum(jacobians: np.ndarray) -> np.ndarray:
    """Lyapunov exponents from the Jacobians along an orbit, by repeated QR.

    Parameters
    ----------
    jacobians : array_like, shape (n, d, d) or (n,) for a 1-D map, float64
        ``jacobians[t]`` is ``Df`` at the orbit's t-th point.

    Returns
    -------
    ndarray, shape (d,), float64
        Exponents in nats per step, largest first (Eckmann & Ruelle 1985, s. III.C).

    Examples
    --------
    >>> import numpy as np
    >>> lyapunov_spectrum(np.full(10, 2.0))  # x -> 2x
    array([0.69314718])
    """
    J = np.asarray(jacobians, dtype=np.float64)
    if J.ndim == 1:
        J = J[:, None, None]
    if J.ndim != 3 or J.shape[1] != J.shape[2] or J.shape[0] == 0:
        raise EosfastError("jacobians must have shape (n, d, d) or (n,) with n >= 1")
    return np.sort(lyapunov_qr(np.ascontiguousarray(J)))[::-1]


def lyapunov_exponents(f: Callable, jac: Callable, x0, steps: int, burn: int = 0) -> np.ndarray:
    """Lyapunov spectrum of a user-supplied map ``x -> f(x)`` (1-D or d-D).

    Parameters
    ----------
    f : callable
        The map: state -> next state (float for 1-D maps, array (d,) otherwise).
    jac : callable
        Its Jacobian: state -> float (1-D) or array (d, d).
    x0 : float or array_like (d,)
        Initial state.
    steps : int
        Steps averaged over, after ``burn`` discarded steps.

    Returns
    -------
    ndarray, shape (d,), float64
        Exponents, nats per step, largest first.

    Examples
    --------
    >>> lam = lyapunov_exponents(lambda x: 4 * x * (1 - x), lambda x: 4 - 8 * x, 0.3, 20000)
    >>> bool(abs(lam[0] - np.log(2)) < 0.02)
    True
    """
    x = x0
    for _ in range(int(burn)):
        x = f(x)
    jacs = []
    for _ in range(int(steps)):
        jacs.append(np.atleast_2d(np.asarray(jac(x), dtype=np.float64)))
        x = f(x)
    return lyapunov_spectrum(np.stack(jacs))


@dataclass
class Adaptivity:
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


def adaptivity(model: str = "zhu4", x0: float = 2.5, y0: float = 0.35,
               eta: Sequence[float] | np.ndarray = (0.1, 0.25), eta_res: int = 50,
               steps: int = 50000, tol: float = 1e-12, escape: float = 1e3) -> Adaptivity:
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
    m = get_model(model)
    e = np.asarray(eta, dtype=np.float64)
    etas = np.linspace(e[0], e[1], int(eta_res)) if e.size == 2 else np.atleast_1d(e)
    etas = _eta_values(etas, None, None)
    steps = _check_steps("steps", steps, 2**31 - 1)
    n = etas.size
    xs = np.full(n, _check_number("x0", x0))
    ys = np.full(n, _check_number("y0", y0))
    out = {"status": np.empty(n, np.int8), "steps": np.empty(n, np.int32),
           "period": np.empty(n, np.int16), "sharp": np.empty(n), "loss": np.empty(n),
           "x": np.empty(n), "y": np.empty(n)}
    m.kernels.grid(xs, ys, etas, steps, tol, escape, 64, 1e-8, out["status"], out["steps"],
                   out["period"], out["sharp"], out["loss"], out["x"], out["y"])
    return Adaptivity(m.name, float(x0), float(y0), etas, out["sharp"], out["status"],
                      out["steps"])


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
        if traj(w[0], w[1], eta, 1e300, xs, ys, ls, sh) < n:
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


def period_doublings(model: str = "zhu4", x0: float = 1.2, y0: float = 0.9,
                     eta_range: Sequence[float] = (0.45, 0.99), levels: int = 6,
                     coarse: Bifurcation | None = None, bisections: int = 60) -> dict:
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
    dict
        ``points`` (eta_1, eta_2, ...), ``periods`` (2, 4, ...: the period born
        at each point), ``ratios`` (delta_1, ...), ``feigenbaum`` (4.6692...).
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
        get_model(model).kernels.trajectory(x0, y0, e, 1e3, xs, ys, ls, sh)
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
    return {"points": points, "periods": periods, "ratios": ratios,
            "feigenbaum": 4.669201609102990}
