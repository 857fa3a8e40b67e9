"""Running GD on the networks: the driver, the result type, its file."""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import validate
from ..defaults import ACTIVATIONS, ARCHS
from ..result import Result
from ..store.atomic import check_output
from ..store.h5 import open_file, read_params, write_file
from ..store.layouts import NETS
from .archs import Problem
from .engine import Engine, engine_for

_MAX_STEPS = 10_000_000


#: The paper's Fig. 1 set-up, used by ``eosfast figure fig1`` and by
#: ``eosfast nets`` without ``--eta`` / ``--steps`` (seed 0, ELU, digits 0 vs 1,
#: n = 50). Step sizes are per architecture because the models' sharpness
#: scales differ. mlp5 trained with a small step ends at a sharpness of about 4,
#: so its edge-of-stability range is eta in [0.5, 0.8] (from 0.9 on, GD
#: diverges); measured final sharpness / (2/eta): 0.963, 1.013, 1.002, 0.982.
#: linear2 starts at sharpness ~10, so 2/eta is above it (eta = 0.1), at it
#: (0.2) and below it (0.25, 0.3); measured 0.618, 0.944, 0.862, 0.779: it does
#: not settle at a fixed fraction of 2/eta. zhu4 from (2.5, 0.35) is math.md
#: s. 3's case: 0.991, 0.993, 0.994.
FIG1: dict[str, dict] = {
    "mlp5": {"etas": (0.5, 0.6, 0.7, 0.8), "steps": 3000, "every": 20},
    "linear2": {"etas": (0.1, 0.2, 0.25, 0.3), "steps": 3000, "every": 20},
    "scalar4": {"etas": (1 / 4, 1 / 5, 1 / 6), "steps": 1000, "every": 10},
}


@dataclass(repr=False)
class NetsResult(Result):
    """Loss and sharpness of GD runs of one network at several step sizes.

    Attributes
    ----------
    arch : str
        ``mlp5``, ``linear2`` or ``scalar4``.
    eta : ndarray, shape (R,), float64
        Step size of each run (all runs start from the same weights).
    step : ndarray, shape (K,), int64
        Recorded steps: ``0, every, 2 every, ...`` and the last step.
    loss, sharpness, sharpness_residual : ndarray, shape (R, K), float64
        Loss, top Hessian eigenvalue and its Lanczos residual bound at each
        recorded step; NaN after a divergence.
    diverged : ndarray, shape (R,), bool
        Whether the loss became non-finite or exceeded ``escape``.
    params : dict
        Every option of the run, the data set and initialisation included.
    seconds : float
        Wall time of the computation (compilation included).
    """

    arch: str
    eta: np.ndarray
    step: np.ndarray
    loss: np.ndarray
    sharpness: np.ndarray
    sharpness_residual: np.ndarray
    diverged: np.ndarray
    params: dict = field(default_factory=dict)
    seconds: float = float("nan")

    @property
    def threshold(self) -> np.ndarray:
        """Stability thresholds ``2/eta``, shape (R,)."""
        return 2.0 / self.eta

    @property
    def final_ratio(self) -> np.ndarray:
        """Final sharpness over ``2/eta``, shape (R,) (NaN for a diverged run)."""
        return self.sharpness[:, -1] * self.eta / 2.0

    @property
    def loss_drop(self) -> np.ndarray:
        """Final loss over initial loss, shape (R,)."""
        return self.loss[:, -1] / self.loss[:, 0]

    def summary(self) -> str:
        """One line: architecture, runs, and final sharpness / (2/eta) per step size."""
        parts = ", ".join(f"eta={e:.4g}: S/(2/eta)={r:.3f} L/L0={d:.2g}"
                          for e, r, d in zip(self.eta, self.final_ratio, self.loss_drop,
                                             strict=True))
        return (f"{self.arch}: {self.eta.size} runs x {int(self.step[-1])} steps "
                f"in {self.seconds:.1f} s; {parts}")



@dataclass
class Runs:
    """What :func:`drive` records for R runs of an n-weight network.

    Attributes
    ----------
    step : ndarray, (K,) int64
    loss, sharp, res : ndarray, (R, K) float64
    diverged : ndarray, (R,) bool
    w_final, u_final : ndarray, (R, n) float64
        Final weights and top Hessian eigenvector (NaN for a diverged run).
    iterates : ndarray, (R, collect_last + 1, n) float64, or None
        The states at steps ``steps - collect_last .. steps``.
    """

    step: np.ndarray
    loss: np.ndarray
    sharp: np.ndarray
    res: np.ndarray
    diverged: np.ndarray
    w_final: np.ndarray
    u_final: np.ndarray
    iterates: np.ndarray | None


def drive(engine: Engine, w0: np.ndarray, eta: np.ndarray, steps: int, every: int,
          escape: float, collect_last: int = 0, progress=None) -> Runs:
    """Drive the engine: record every ``every`` steps; optionally collect late iterates."""
    jnp = engine.jnp
    R, n = eta.size, w0.size
    lengths = [every] * (steps // every) + ([steps % every] if steps % every else [])
    step = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    K = step.size
    loss = np.full((R, K), np.nan)
    sharp = np.full((R, K), np.nan)
    res = np.full((R, K), np.nan)
    diverged = np.zeros(R, dtype=bool)
    w_final = np.full((R, n), np.nan)
    u_final = np.full((R, n), np.nan)
    iterates = np.full((R, collect_last + 1, n), np.nan) if collect_last else None
    start = steps - collect_last
    w0j = jnp.asarray(w0)
    # the initial point is shared by every run: measure it once
    zero = engine.jnp.float64(0.0)
    _, l0, s0, r0, u0 = (np.asarray(a) for a in engine.advance(w0j, zero, engine.Z[0],
                                                               engine.Z, 0))
    loss[:, 0], sharp[:, 0], res[:, 0] = l0, s0, r0
    for i in range(R):
        w, v, e = w0j, jnp.asarray(u0), jnp.float64(eta[i])
        for k, length in enumerate(lengths, start=1):
            collect = bool(collect_last) and step[k] > start
            if collect and step[k - 1] >= start:
                iterates[i, step[k - 1] - start] = np.asarray(w)
            if collect:
                out = engine.collect(length)(w, e, v, engine.Z)
            else:
                out = engine.advance(w, e, v, engine.Z, length)
            w, lk, sk, rk, v = out[:5]
            lk = float(lk)
            if collect:
                ws = np.asarray(out[5])
                first = max(start, int(step[k - 1]) + 1)
                iterates[i, first - start:step[k] - start + 1] = ws[first - step[k - 1] - 1:]
            if not (math.isfinite(lk) and lk <= escape):
                diverged[i] = True
                break
            loss[i, k], sharp[i, k], res[i, k] = lk, float(sk), float(rk)
            if progress is not None:
                progress(i * steps + int(step[k]), R * steps)
        else:
            w_final[i], u_final[i] = np.asarray(w), np.asarray(v)
    return Runs(step, loss, sharp, res, diverged, w_final, u_final, iterates)


@dataclass
class Setup:
    """A validated set-up: the problem, its engine, and every parameter."""

    problem: Problem
    engine: Engine
    eta: np.ndarray
    steps: int
    every: int
    params: dict


def setup(arch, etas, steps, every, seed, activation, n_examples, classes, factor, init,
          lanczos_iters, escape) -> Setup:
    """Validate a run's options and build (or reuse) its compiled engine."""
    arch = validate.choice("arch", arch, ARCHS)
    activation = validate.choice("activation", activation, ACTIVATIONS)
    d = FIG1[arch]
    eta = np.asarray([validate.real("eta", e, positive=True)
                      for e in np.atleast_1d(d["etas"] if etas is None else etas).tolist()])
    if eta.size == 0:
        raise validate.InvalidArgument("{eta} is empty: give at least one step size", "eta")
    steps = validate.integer("steps", d["steps"] if steps is None else steps, hi=_MAX_STEPS)
    every = validate.integer("every", d["every"] if every is None else every, hi=_MAX_STEPS)
    seed = validate.integer("seed", seed, lo=0, hi=2**63 - 1)
    n_examples = validate.integer("n_examples", n_examples, lo=2, hi=10_000)
    lanczos_iters = validate.integer("lanczos_iters", lanczos_iters, hi=1000)
    factor = validate.pair("factor", factor, ordered=False)
    init = validate.pair("init", init, ordered=False)
    classes = tuple(validate.integer("classes", c, lo=0, hi=9)
                    for c in validate.pair("classes", classes, ordered=False))
    escape = validate.real("escape", escape, positive=True)
    prob, engine = engine_for(arch, seed, activation, n_examples, classes, factor, init,
                              lanczos_iters)
    params = {"arch": arch, "eta": eta.tolist(), "steps": steps, "every": every,
              "seed": seed, "activation": activation if arch == "mlp5" else None,
              "lanczos_iters": lanczos_iters, "escape": escape,
              "n_params": int(prob.w0.size), **copy.deepcopy(prob.info)}
    return Setup(prob, engine, eta, steps, every, params)


def run_nets(arch: str, etas: Sequence[float] | None = None, steps: int | None = None,
             every: int | None = None, seed: int = 0, *, activation: str = "elu",
             n_examples: int = 50, classes: tuple[int, int] = (0, 1),
             factor: tuple[float, float] = (4.0, 0.1), init: tuple[float, float] = (2.5, 0.35),
             lanczos_iters: int = 20, escape: float = 1e6,
             out: str | os.PathLike | None = None, force: bool = False,
             progress: Callable[[int, int], None] | None = None) -> NetsResult:
    """Full-batch GD on a small network at several step sizes from one initialisation.

    Parameters
    ----------
    arch : str
        ``mlp5``, ``linear2`` or ``scalar4`` (see the module docstring).
    etas : sequence of float, optional
        Step sizes; default ``FIG1[arch]["etas"]`` (the paper's Fig. 1 set-up).
    steps : int, optional
        GD steps per run; default ``FIG1[arch]["steps"]``.
    every : int, optional
        Record loss and sharpness every this many steps (and at 0 and at the
        last step); default ``FIG1[arch]["every"]``.
    seed : int
        Seeds the initial weights (mlp5, linear2) and the Lanczos start vectors.
    activation : {"relu", "elu"}
        Hidden activation of mlp5 (the paper's submission used ReLU, its final
        version ELU).
    n_examples, classes :
        The data: :func:`digits_subset` ``(n_examples, classes)``.
    factor : (float, float)
        linear2's initialisation factors of the first and second layer.
    init : (float, float)
        scalar4's ``(x0, y0)``: weights ``(x0, y0, x0, y0)``.
    lanczos_iters : int
        Lanczos steps (Hessian-vector products) per sharpness measurement.
    escape : float
        A run diverged once its loss exceeds this or is not finite.
    out : path-like, optional
        Also write the HDF5 file of the module docstring (via a temporary file
        and a rename); an existing file is refused unless ``force``.
    progress : callable, optional
        Called as ``progress(steps_done, steps)`` after each recorded step.

    Returns
    -------
    NetsResult

    Examples
    --------
    >>> r = run_nets("scalar4", etas=[0.2], steps=2000)
    >>> bool(0.99 < r.final_ratio[0] < 1.0)
    True
    """
    force = validate.flag("force", force)
    progress = validate.callback("progress", progress)
    if out is not None:
        check_output(validate.path("out", out), force=force)
    t0 = time.perf_counter()
    s = setup(arch, etas, steps, every, seed, activation, n_examples, classes, factor, init,
              lanczos_iters, escape)
    runs = drive(s.engine, s.problem.w0, s.eta, s.steps, s.every, s.params["escape"],
                 progress=progress)
    result = NetsResult(s.params["arch"], s.eta, runs.step, runs.loss, runs.sharp, runs.res,
                        runs.diverged, s.params, time.perf_counter() - t0)
    if out is not None:
        write_nets(result, out, force=force)
    return result


def write_nets(result: NetsResult, path: str | os.PathLike, force: bool = False) -> Path:
    """Write ``result`` to ``path`` (HDF5, :data:`eosfast.store.layouts.NETS`)."""
    data = {"eta": result.eta, "loss": result.loss, "sharpness": result.sharpness,
            "sharpness_residual": result.sharpness_residual,
            "diverged": result.diverged.astype(np.int8)}
    p = result.params
    attrs = {"arch": result.arch, "activation": str(p.get("activation") or ""),
             "steps": int(p["steps"]), "every": int(p["every"]), "seed": int(p["seed"]),
             "n_params": int(p["n_params"]), "seconds": float(result.seconds)}
    coords = {"run": np.arange(result.eta.size, dtype=np.int64),
              "step": result.step.astype(np.int64)}
    return write_file(path, NETS, coords, data, p, attrs, force=force)


def read_nets(path: str | os.PathLike) -> NetsResult:
    """Load a file written by :func:`run_nets` (or ``eosfast nets``)."""
    with open_file(path, NETS.kind) as f:
        a = f.attrs
        return NetsResult(str(a["arch"]), f["eta"][:], f["step"][:], f["loss"][:],
                          f["sharpness"][:], f["sharpness_residual"][:],
                          f["diverged"][:].astype(bool), read_params(f),
                          float(a.get("seconds", np.nan)))
