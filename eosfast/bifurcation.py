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

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import defaults, validate
from .defaults import OBSERVABLES
from .errors import EosfastError, InvalidArgument
from .models import Model, get_model
from .optimizer import Optimizer
from .result import Result
from .store.atomic import check_output
from .store.h5 import open_file, read_params, write_file
from .store.layouts import BIFURCATION

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


@dataclass(repr=False)
class Bifurcation(Result):
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
        return (f"{self.model_label} bifurcation: {self.eta.size} eta in [{self.eta.min():g}, "
                f"{self.eta.max():g}] x {self.record} samples ({self.observable}); "
                f"converged {c['converged']}, periodic {c['periodic']}, none {c['none']}, "
                f"diverged {c['diverged']}")


def bifurcation(model: str | Model = defaults.MODEL, x0: float = defaults.BIFURCATION_X0,
                y0: float = defaults.BIFURCATION_Y0,
                eta_range: Sequence[float] | None = defaults.BIFURCATION_ETA_RANGE,
                eta_res: int | None = defaults.BIFURCATION_ETA_RES,
                *, eta: float | Sequence[float] | np.ndarray | None = None,
                burn: int = defaults.BURN, record: int = defaults.RECORD,
                observable: str | None = None, tol: float = defaults.TOL,
                escape: float = defaults.ESCAPE, period_tol: float = defaults.PERIOD_TOL,
                max_period: int = defaults.BIFURCATION_MAX_PERIOD,
                out: str | os.PathLike | None = None,
                force: bool = False, threads: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                model_params: Mapping[str, float] | Iterable[str] | None = None,
                optimizer: str | Optimizer = "gd", beta: float | None = None,
                eta_x: float | None = None, eta_y: float | None = None) -> Bifurcation:
    """Orbit diagram: for each eta, ``burn`` GD steps then ``record`` recorded steps.

    Parameters
    ----------
    model : str or Model
        A key of :data:`eosfast.MODELS`, or an expression ``L(x, y)``
        (:mod:`eosfast.expression`).
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
    observable : str, optional
        What ``orbit`` holds: ``P`` (product of the weights; the default for
        the networks), ``x`` (the default for expression models, which have
        no ``P``), ``y``, ``loss``, ``sharpness`` or ``b`` (``xy - 1``).
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
    model_params : mapping of str -> float, or strings ``"NAME=VALUE"``, optional
        Parameters of an expression model.
    optimizer, beta, eta_x, eta_y :
        The optimizer, as for :func:`eosfast.grid` (:mod:`eosfast.optimizer`).
        A layer given a step size of its own keeps it while the others
        sweep ``eta``; the Lyapunov exponent is then of the whole state
        (position and previous position, for the momentum methods).

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
    m = get_model(model, model_params)
    if observable is None:
        observable = "P" if m.has_product else "x"
    observable = validate.choice("observable", observable, OBSERVABLES)
    if observable == "P" and not m.has_product:
        raise InvalidArgument(f"{{observable}} P is the product of a network's weights; "
                              f"{m.name} is a loss L(x, y) without one: choose x, y, loss, "
                              "sharpness or b", "observable")
    record = validate.integer("record", record, lo=1, hi=10**8)
    if eta is None and eta_res is not None:  # refuse before building a huge eta axis
        _check_size(validate.integer("eta_res", eta_res, hi=1 << 20), record)
    if eta is not None:
        if eta_range is not None:  # checked even when eta overrides it
            validate.pair("eta_range", eta_range)
        if eta_res is not None:
            validate.integer("eta_res", eta_res, hi=1 << 20)
        etas = validate.step_sizes(eta.tolist() if isinstance(eta, np.ndarray) else eta)
    else:
        if eta_range is None:
            raise EosfastError("give eta or eta_range with eta_res")
        etas = validate.step_sizes(None, eta_range, eta_res)
    x0 = validate.real("x0", x0)
    y0 = validate.real("y0", y0)
    burn = validate.integer("burn", burn, lo=0, hi=10**10)
    tol = validate.real("tol", tol, positive=True)
    escape = validate.real("escape", escape, positive=True)
    period_tol = validate.real("period_tol", period_tol, positive=True)
    max_period = validate.integer("max_period", max_period, lo=1, hi=10**6)
    threads = None if threads is None else validate.threads("threads", threads)
    progress = validate.callback("progress", progress)
    force = validate.flag("force", force)
    opt = Optimizer.checked(optimizer, beta, eta_x, eta_y)
    _check_size(etas.size, record)
    if out is not None:
        check_output(validate.path("out", out), force=force)
    from .kernels.build import numba_threads

    kernel = m.kernels_for(opt).bifurcation
    ex, ey, _ = opt.kernel_inputs(etas)
    orbit = np.empty((etas.size, record))
    period = np.empty(etas.size, dtype=np.int16)
    lyap = np.empty(etas.size)
    with numba_threads(threads):
        for lo in range(0, etas.size, BLOCK):
            hi = min(etas.size, lo + BLOCK)
            kernel(x0, y0, ex[lo:hi], ey[lo:hi], opt.beta, burn, tol, escape,
                   OBSERVABLES.index(observable),
                   period_tol, max_period, orbit[lo:hi], period[lo:hi], lyap[lo:hi])
            if progress:
                progress(hi, etas.size)
    params = {"model": m.spec.model, "model_params": m.spec.param_dict(), "x0": x0, "y0": y0,
              "eta": etas.tolist() if eta is not None else None,
              "eta_range": list(map(float, eta_range)) if eta is None else None,
              "eta_res": int(etas.size), "burn": burn, "record": record,
              "observable": observable, "tol": tol, "escape": escape,
              "period_tol": period_tol, "max_period": max_period, **opt.params()}
    res = Bifurcation(m.spec.model, x0, y0, etas, orbit, period, lyap, observable, burn, record,
                      params)
    if out is not None:
        write_bifurcation(res, out, force=force)
    return res


def _check_size(n_eta: int, record: int) -> None:
    """Refuse an orbit array too large for the limit or for the memory available."""
    if n_eta * record > MAX_ELEMENTS:
        raise EosfastError(f"{n_eta} step sizes x {record} samples is too large an orbit "
                           f"array (limit {MAX_ELEMENTS} values)")
    validate.fits_in_memory(2 * 8 * n_eta * record, f"an orbit diagram of {n_eta} step "
                            f"sizes x {record} samples", "use fewer step sizes or samples")


def write_bifurcation(res: Bifurcation, path: str | os.PathLike, force: bool = False) -> Path:
    """Write ``res`` to ``path`` (HDF5, :data:`eosfast.store.layouts.BIFURCATION`)."""
    data = {"orbit": res.orbit, "period": res.period, "lyapunov": res.lyapunov}
    p = res.params
    attrs = {"model": res.model,
             "model_params": json.dumps(p.get("model_params", {}), sort_keys=True),
             "x0": res.x0, "y0": res.y0, "burn": res.burn,
             "record": res.record, "observable": res.observable,
             "observable_long_name": _DOC[res.observable], "tol": p.get("tol", np.nan),
             "escape": p.get("escape", np.nan), "period_tol": p.get("period_tol", np.nan),
             "max_period": p.get("max_period", -1)}
    return write_file(path, BIFURCATION, {"eta": res.eta, "sample": res.sample}, data, p,
                      attrs, force=force)


def read_bifurcation(path: str | os.PathLike) -> Bifurcation:
    """Load a file written by :func:`bifurcation` (or ``eosfast bifurcation``)."""
    with open_file(path, BIFURCATION.kind) as f:
        at = f.attrs
        return Bifurcation(str(at["model"]), float(at["x0"]), float(at["y0"]), f["eta"][:],
                           f["orbit"][:], f["period"][:], f["lyapunov"][:],
                           str(at["observable"]), int(at["burn"]), int(at["record"]),
                           read_params(f))
