"""The vector-case ensemble (issue 20): 10^6 samples at d = 1000, and against NumPy.

    python benchmarks/bench_ensemble.py                  # 10^6 samples, eta 0.05 and 0.1
    python benchmarks/bench_ensemble.py --samples 200000 # quicker

1. ``eosfast.ensemble(dim=1000, eta, samples)`` in memory on all threads,
   kernel loaded first: wall time, and GD iterations per second counted from
   the ``steps`` every sample ran.
2. In the same run, the same samples' first piece through a vectorised NumPy
   implementation of the same GD (all samples of the piece advanced together
   in plane coordinates, stopped ones masked): its iterations per second, and
   the ratio. And, as a reminder of what the plane reduction saves, the
   iterations per second of the d-dimensional NumPy iteration (d = 1000) on
   a few samples.
3. 1 thread against all threads on one ensemble, bit-identical results.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import eosfast
from eosfast import vector as V


def numpy_plane(spec: V.EnsembleSpec, index: int) -> tuple[np.ndarray, int, float]:
    """Final |x|^2 + |y|^2 of piece ``index`` by masked NumPy steps; iterations and seconds."""
    c = spec.cosines(index)
    n = c.size
    x1 = np.full(n, spec.delta_x)
    x2 = np.zeros(n)
    y1 = spec.delta_y * c
    y2 = spec.delta_y * np.sqrt(np.maximum(1 - c * c, 0))
    live = np.ones(n, bool)
    rule = spec.rule
    iterations = 0
    t0 = time.perf_counter()
    for t in range(rule.steps):
        if t == spec.kick_step:
            y1 = y1 * spec.kick_factor
            y2 = y2 * spec.kick_factor
        u = x1 * y1 + x2 * y2
        r = 1.0 - u * u
        if t > spec.kick_step:
            live &= np.abs(r) >= rule.tol
        if not live.any():
            break
        iterations += int(live.sum())
        cc = np.where(live, spec.eta * r * u, 0.0)
        x1, x2, y1, y2 = x1 + cc * y1, x2 + cc * y2, y1 + cc * x1, y2 + cc * x2
    return x1 * x1 + x2 * x2 + y1 * y1 + y2 * y2, iterations, time.perf_counter() - t0


def numpy_full(spec: V.EnsembleSpec, samples: int, steps: int) -> float:
    """Iterations per second of the d-dimensional NumPy iteration (no reduction)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, spec.dim))
    y = rng.normal(size=(samples, spec.dim))
    x *= spec.delta_x / np.linalg.norm(x, axis=1)[:, None]
    y *= spec.delta_y / np.linalg.norm(y, axis=1)[:, None]
    t0 = time.perf_counter()
    for _ in range(steps):
        u = np.einsum("ij,ij->i", x, y)
        c = (spec.eta * (1 - u * u) * u)[:, None]
        x, y = x + c * y, y + c * x
    return samples * steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=1000)
    ap.add_argument("--eta", type=float, nargs="+", default=[0.05, 0.1])
    args = ap.parse_args()
    eosfast.ensemble(args.dim, 0.1, 100)  # load the kernel
    out = {"samples": args.samples, "dim": args.dim, "threads": eosfast.validate.cores(),
           "runs": []}
    for eta in args.eta:
        t0 = time.perf_counter()
        r = eosfast.ensemble(args.dim, eta, args.samples)
        wall = time.perf_counter() - t0
        spec = V.make_ensemble_spec(args.dim, eta, args.samples)
        norm2, it_np, s_np = numpy_plane(spec, 0)
        first = r.norm2[: norm2.size]
        conv = r.status[: norm2.size] == 1
        out["runs"].append({
            "eta": eta, "seconds": round(wall, 2), "iterations": r.iterations,
            "it_per_s": float(f"{r.iterations / r.seconds:.3g}"),
            "share_in_band": r.share_in_band(),
            "mean_steps": float(r.steps.mean()),
            "numpy_plane_it_per_s": float(f"{it_np / s_np:.3g}"),
            "speedup_vs_numpy_plane": round(r.iterations / r.seconds / (it_np / s_np), 1),
            "numpy_plane_max_rel_diff": float(np.max(np.abs(norm2[conv] / first[conv] - 1))),
        })
    spec = V.make_ensemble_spec(args.dim, args.eta[0], 4)
    out["numpy_full_d_it_per_s"] = float(f"{numpy_full(spec, 64, 200):.3g}")
    n = min(args.samples, 200_000)
    times = {}
    results = {}
    for threads in (1, out["threads"]):
        t0 = time.perf_counter()
        results[threads] = eosfast.ensemble(args.dim, args.eta[0], n, threads=threads)
        times[threads] = time.perf_counter() - t0
    a, b = results[1], results[out["threads"]]
    out["thread_scaling"] = {"samples": n, "seconds_1": round(times[1], 2),
                             f"seconds_{out['threads']}": round(times[out["threads"]], 2),
                             "speedup": round(times[1] / times[out["threads"]], 2),
                             "bit_identical": all(np.array_equal(a.arrays[k], b.arrays[k],
                                                                 equal_nan=True)
                                                  for k in V.FIELDS)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
