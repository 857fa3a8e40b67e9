"""``eosfast bench``: throughput of the grid kernel, against plain NumPy, in one run.

Iterations are counted from the ``steps`` each point actually ran (its
convergence or escape step, or the cap), never from ``points x cap``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from . import defaults, validate
from .grid import grid, make_spec
from .models import get_model
from .result import Result
from .tiles import load_kernels


def _ipow(x: np.ndarray, n: int) -> np.ndarray:
    # repeated products, as the kernel: x**n may round differently for n > 2
    out = np.ones_like(x)
    for _ in range(n):
        out = out * x
    return out


def numpy_grid(x0: np.ndarray, y0: np.ndarray, eta: float, model: str = defaults.MODEL,
               steps: int = defaults.STEPS, tol: float = defaults.TOL,
               escape: float = defaults.ESCAPE
               ) -> tuple[np.ndarray, np.ndarray]:
    """The same map and stopping rules as the grid kernel, in vectorised NumPy.

    Parameters
    ----------
    x0, y0 : ndarray, float64, shape (n,)
        Initial points.
    eta, model, steps, tol, escape
        As in :func:`eosfast.grid`.

    Returns
    -------
    status : ndarray, int8, shape (n,)
        1 converged, -1 diverged, 0 still running at the cap (no period search).
    steps : ndarray, int32, shape (n,)
        Step at which each point stopped.
    """
    m = get_model(model)
    p, q, c = m.p, m.q, m.scale * eta
    x = np.array(x0, dtype=np.float64)
    y = np.array(y0, dtype=np.float64)
    idx = np.arange(x.size)
    status = np.zeros(x.size, np.int8)
    nsteps = np.full(x.size, steps, np.int32)
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            a = _ipow(x, p - 1)
            b = _ipow(y, q - 1)
            ax = a * x
            by = b * y
            r = 1.0 - ax * by
            esc = ~((np.abs(x) <= escape) & (np.abs(y) <= escape))
            conv = ~esc & (np.abs(r) < tol)
            stop = esc | conv
            if stop.any():
                status[idx[esc]] = -1
                status[idx[conv]] = 1
                nsteps[idx[stop]] = t
                keep = ~stop
                x, y, idx, a, b, ax, by, r = (v[keep] for v in (x, y, idx, a, b, ax, by, r))
            if t == steps or x.size == 0:
                break
            g = c * r
            x, y = x + g * (a * by), y + g * (ax * b)
    return status, nsteps


@dataclass(repr=False)
class BenchResult(Result):
    """Iterations per second of each implementation, measured in one run."""

    model: str
    points: int
    numpy_points: int
    threads: int
    eosfast_1: float
    eosfast_n: float
    numpy: float
    iterations: int
    numpy_iterations: int

    @property
    def speedup_numpy(self) -> float:
        """eosfast (all threads) over NumPy."""
        return self.eosfast_n / self.numpy

    @property
    def thread_scaling(self) -> float:
        """eosfast with all threads over eosfast with one."""
        return self.eosfast_n / self.eosfast_1

    def to_dict(self) -> dict:
        d = asdict(self)
        d["speedup_numpy"] = self.speedup_numpy
        d["thread_scaling"] = self.thread_scaling
        return d

    def summary(self) -> str:
        return (f"{self.model}: {self.eosfast_n:.3g} it/s on {self.threads} threads, "
                f"{self.speedup_numpy:.1f}x NumPy, 1 -> {self.threads} threads "
                f"{self.thread_scaling:.2f}x")

    def report(self) -> str:
        return "\n".join([
            f"grid kernel, model {self.model}, {self.points} points "
            f"({self.iterations:.3g} GD iterations counted from steps run)",
            f"  eosfast, 1 thread   : {self.eosfast_1:10.3g} it/s",
            f"  eosfast, {self.threads} threads  : {self.eosfast_n:10.3g} it/s",
            f"  NumPy ({self.numpy_points} points): {self.numpy:10.3g} it/s",
            f"  speed-up vs NumPy: {self.speedup_numpy:.1f}x; "
            f"1 -> {self.threads} threads: {self.thread_scaling:.2f}x",
        ])


def bench(model: str = defaults.MODEL, res: int = defaults.RES, eta: float = defaults.ETA,
          steps: int = defaults.STEPS,
          threads: int | None = None, numpy_res: int | None = None,
          repeat: int = 3) -> BenchResult:
    """Time the grid kernel (1 and ``threads`` threads) and NumPy on the default case.

    Parameters
    ----------
    model, eta, steps
        The case, as in :func:`eosfast.grid` over ``[0, 4]^2``.
    res : int
        eosfast runs the ``res x res`` grid.
    numpy_res : int, optional
        NumPy runs the ``numpy_res x numpy_res`` grid over the same window
        (default ``res``: the same points); each rate counts its own steps.
    repeat : int
        Best of ``repeat`` timings for each implementation.
    """
    threads = validate.threads("threads", threads)
    repeat = validate.integer("repeat", repeat, hi=1000)
    res = validate.integer("res", res, hi=1 << 20)
    numpy_res = validate.integer("numpy_res", res if numpy_res is None else numpy_res)
    mem = validate.memory_available()
    budget = None if mem is None else (int(validate.MEMORY_SHARE * mem), "of memory available")
    # validate before timing anything; NumPy holds about 14 arrays of float64 per point
    make_spec(model, res, eta=eta, steps=steps, budget=budget)
    validate.fits_in_memory(14 * 8 * numpy_res**2, f"the NumPy run on {numpy_res}^2 points",
                            "use a smaller --numpy-res")
    load_kernels(model)  # compile / load the cache outside the timing

    def rate(n_threads):
        best, its = np.inf, 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            g = grid(model, res, eta=eta, steps=steps, threads=n_threads, tile=128)
            best = min(best, time.perf_counter() - t0)
            its = g.iterations()
        return its / best, its

    r1, its = rate(1)
    rn, _ = rate(threads)
    sp = make_spec(model, numpy_res, eta=eta, steps=steps)
    xs, ys = np.meshgrid(sp.x0, sp.y0)
    best = np.inf
    for _ in range(max(1, repeat // 2)):
        t0 = time.perf_counter()
        _, st = numpy_grid(xs.ravel(), ys.ravel(), eta, model, steps)
        best = min(best, time.perf_counter() - t0)
    nits = int(st.sum(dtype=np.int64))
    return BenchResult(model, res * res, numpy_res * numpy_res, threads, r1, rn,
                       nits / best, its, nits)
