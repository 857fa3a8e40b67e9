"""``eosfast bench``: throughput of the grid kernel, against plain NumPy, in one run.

Iterations are counted from the ``steps`` each point actually ran (its
convergence or escape step, or the cap), never from ``points x cap``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from . import defaults, validate
from .errors import EosfastError
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
    if m.kind != "network":
        raise EosfastError(f"the NumPy reference of eosfast bench implements the coupled "
                           f"networks only, not {m.name} (time expression models with "
                           "benchmarks/bench_expression.py)")
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
    """Iterations per second of each implementation, measured in one run.

    Attributes
    ----------
    eosfast_1, eosfast_n : float
        ``eosfast.grid`` in memory on 1 thread and on ``threads`` threads
        (both halves computed: no symmetry), GD steps per second counted from
        the steps each point ran.
    lanes : float
        The check-free SIMD lane loop of the same map on ``threads`` threads
        (:mod:`eosfast.kernels.reference`): lane-steps per second, the
        hardware's pace for this arithmetic.
    numpy : float
        The same map and stopping rules in vectorised NumPy.
    """

    model: str
    points: int
    numpy_points: int
    threads: int
    eosfast_1: float
    eosfast_n: float
    lanes: float
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

    @property
    def kernel_vs_lanes(self) -> float:
        """eosfast (all threads) over the check-free lane loop (all threads)."""
        return self.eosfast_n / self.lanes

    def to_dict(self) -> dict:
        d = asdict(self)
        d["speedup_numpy"] = self.speedup_numpy
        d["thread_scaling"] = self.thread_scaling
        d["kernel_vs_lanes"] = self.kernel_vs_lanes
        return d

    def summary(self) -> str:
        return (f"{self.model}: {self.eosfast_n:.3g} it/s on {self.threads} threads, "
                f"{self.kernel_vs_lanes:.2f} of the check-free lane loop, "
                f"{self.speedup_numpy:.1f}x NumPy, 1 -> {self.threads} threads "
                f"{self.thread_scaling:.2f}x")

    def report(self) -> str:
        rows = [("eosfast, 1 thread", self.eosfast_1),
                (f"eosfast, {self.threads} threads", self.eosfast_n),
                (f"check-free lanes, {self.threads} threads", self.lanes),
                (f"NumPy ({self.numpy_points} points)", self.numpy)]
        width = max(len(label) for label, _ in rows)  # one column, whatever the numbers
        return "\n".join([
            f"grid kernel, model {self.model_label}, {self.points} points "
            f"({self.iterations:.3g} GD iterations counted from steps run)",
            *(f"  {label:<{width}} : {rate:10.3g} it/s" for label, rate in rows),
            f"  eosfast / check-free lanes: {self.kernel_vs_lanes:.2f}; vs NumPy "
            f"{self.speedup_numpy:.1f}x; 1 -> {self.threads} threads: "
            f"{self.thread_scaling:.2f}x",
        ])


#: Steps of every lane in the check-free reference loop.
LANE_STEPS = 64


def bench(model: str = defaults.MODEL, res: int = defaults.RES, eta: float = defaults.ETA,
          steps: int = defaults.STEPS,
          threads: int | None = None, numpy_res: int | None = None,
          repeat: int = 3) -> BenchResult:
    """Time the grid kernel (1 and ``threads`` threads), its check-free lane loop and NumPy.

    Parameters
    ----------
    model, eta, steps
        The case, as in :func:`eosfast.grid` over ``[0, 4]^2``.
    res : int
        eosfast runs the ``res x res`` grid (both halves: symmetry off, so
        that every point is computed); the lane loop runs the same points.
    numpy_res : int, optional
        NumPy runs the ``numpy_res x numpy_res`` grid over the same window
        (default ``res``: the same points); each rate counts its own steps.
    repeat : int
        Best of ``repeat`` rounds; in each round every implementation runs
        once, one after the other (interleaved, so that a busy spell of the
        machine hits them alike).
    """
    from .kernels.build import numba_threads

    threads = validate.threads("threads", threads)
    repeat = validate.integer("repeat", repeat, hi=1000)
    res = validate.integer("res", res, hi=1 << 20)
    numpy_res = validate.integer("numpy_res", res if numpy_res is None else numpy_res)
    mem = validate.memory_available()
    budget = None if mem is None else (int(validate.MEMORY_SHARE * mem), "of memory available")
    # validate before timing anything; NumPy holds about 14 arrays of float64 per point
    spec = make_spec(model, res, eta=eta, steps=steps, budget=budget)
    validate.fits_in_memory(14 * 8 * numpy_res**2, f"the NumPy run on {numpy_res}^2 points",
                            "use a smaller --numpy-res")
    m = get_model(model)
    if m.kind != "network":
        numpy_grid(np.zeros(1), np.zeros(1), eta, model, 1)  # refuses, before any timing
    load_kernels(model)  # compile / load the cache outside the timing
    xs, ys = (a.ravel() for a in np.meshgrid(spec.x0, spec.y0))
    es = np.full(xs.size, float(spec.eta[0]))
    fx, fy = np.empty_like(xs), np.empty_like(ys)
    lanes_kernel = m.kernels.reference_lanes
    with numba_threads(threads):
        lanes_kernel(xs[:64], ys[:64], es[:64], 1, fx, fy)  # compile / load
    lane_steps = (xs.size // 32) * 32 * LANE_STEPS
    nsp = make_spec(model, numpy_res, eta=eta, steps=steps)
    nx, ny = (a.ravel() for a in np.meshgrid(nsp.x0, nsp.y0))

    def eosfast_time(n_threads):
        t0 = time.perf_counter()
        g = grid(model, res, eta=eta, steps=steps, threads=n_threads,
                 symmetry=False)
        return time.perf_counter() - t0, g.iterations()

    def lanes_time():
        with numba_threads(threads):
            t0 = time.perf_counter()
            lanes_kernel(xs, ys, es, LANE_STEPS, fx, fy)
            return time.perf_counter() - t0

    best = {"n": np.inf, "1": np.inf, "lanes": np.inf, "numpy": np.inf}
    its = nits = 0
    for k in range(repeat):
        dt, its = eosfast_time(threads)
        best["n"] = min(best["n"], dt)
        best["lanes"] = min(best["lanes"], lanes_time())
        dt, _ = eosfast_time(1)
        best["1"] = min(best["1"], dt)
        if k < max(1, repeat // 2):
            t0 = time.perf_counter()
            _, st = numpy_grid(nx, ny, eta, model, steps)
            best["numpy"] = min(best["numpy"], time.perf_counter() - t0)
            nits = int(st.sum(dtype=np.int64))
    return BenchResult(model, res * res, numpy_res * numpy_res, threads, its / best["1"],
                       its / best["n"], lane_steps / best["lanes"], nits / best["numpy"],
                       its, nits)
