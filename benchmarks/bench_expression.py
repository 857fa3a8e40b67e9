"""Expression models against the built-in map (issue 13: any minimalist model).

    python benchmarks/bench_expression.py              # default grid, 3 interleaved rounds
    python benchmarks/bench_expression.py --res 512    # quicker

1. Speed, warm: ``eosfast.grid`` on the default grid (1024^2, eta = 0.2,
   10,000 steps, all threads) with the built-in zhu4 and with the expression
   ``(1 - x**2*y**2)**2/4`` (the same map as plain GD in (x, y)), kernels
   loaded first, rounds interleaved, best of N each. Rates count the steps
   each point ran (the two stopping rules differ: ``|1 - P| < tol`` against
   ``max |grad L| < tol``), so the fair comparison is wall time per grid.
2. Compile time of a new expression: a fresh process with empty eosfast and
   Numba caches builds (sympy, code generation) and compiles the grid kernel
   for an expression never seen before, then every other kernel; a second
   fresh process with the same caches loads everything (compiles nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

EXPR = "(1 - x**2*y**2)**2/4"

_COMPILE = r"""
import json, sys, time
t0 = time.perf_counter()
import eosfast
from eosfast.models import get_model
from eosfast.tiles import load_kernels
t1 = time.perf_counter()
m = get_model(sys.argv[1])
load_kernels(m)
t2 = time.perf_counter()
k = m.kernels
for name in ("trajectory", "jacobian", "pointwise", "bifurcation"):
    getattr(k, name)
import numpy as np
xs = np.empty(3); ys = np.empty(3); ls = np.empty(3); sh = np.empty(3)
k.trajectory(0.5, 0.5, 0.1, 0.1, 0.0, 1e3, xs, ys, ls, sh)
J = np.empty((3, 2, 2)); k.jacobian(xs, ys, 0.1, J)
out = np.empty(3); k.pointwise(xs, ys, 0, out)
orb = np.empty((1, 4)); per = np.empty(1, np.int16); ly = np.empty(1)
e = np.array([0.1]); k.bifurcation(0.5, 0.5, e, e, 0.0, 2, 1e-12, 1e3, 1, 1e-8, 2, orb, per, ly)
t3 = time.perf_counter()
misses = sum(len(getattr(k, n).stats.cache_misses) for n in
             ("grid", "trajectory", "jacobian", "pointwise", "bifurcation"))
print(json.dumps({"import_s": t1 - t0, "grid_s": t2 - t1, "all_s": t3 - t1,
                  "cache_misses": misses, "sympy_imported": "sympy" in sys.modules}))
"""


def compile_times(expr: str) -> list[dict]:
    """Two fresh processes on empty caches: the first compiles, the second loads."""
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "EOSFAST_CACHE_DIR": os.path.join(d, "eosfast"),
               "NUMBA_CACHE_DIR": os.path.join(d, "numba")}
        runs = []
        for _ in range(2):
            p = subprocess.run([sys.executable, "-c", _COMPILE, expr], env=env,
                               capture_output=True, text=True, check=True)
            runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
        return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--res", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    import eosfast
    from eosfast.tiles import load_kernels

    for m in ("zhu4", EXPR):
        load_kernels(eosfast.get_model(m))
    walls: dict[str, list[float]] = {"zhu4": [], EXPR: []}
    steps: dict[str, int] = {}
    for _ in range(args.repeat):
        for m in ("zhu4", EXPR):
            t0 = time.perf_counter()
            r = eosfast.grid(m, args.res, threads=args.threads)
            walls[m].append(time.perf_counter() - t0)
            steps[m] = int(r.steps.sum(dtype="int64"))
    best = {m: min(v) for m, v in walls.items()}
    ratio = best[EXPR] / best["zhu4"]
    print(f"default grid {args.res}^2, eta 0.2, 10000 steps, best of {args.repeat}:")
    for m in walls:
        print(f"  {m:24s} {best[m]:7.3f} s  ({steps[m] / best[m]:.3g} steps/s; "
              f"runs {', '.join(f'{w:.3f}' for w in walls[m])})")
    print(f"  expression / built-in: {ratio:.3f}x")
    new = f"log(cosh(1 - x**2*y**2)) + {time.time_ns() % 997}e-9*x**2"
    c = compile_times(new)
    print(f"new expression {new!r}, empty caches:")
    print(f"  first process:  grid kernel {c[0]['grid_s']:.2f} s (sympy + codegen + compile), "
          f"all five kernels {c[0]['all_s']:.2f} s")
    print(f"  second process: grid kernel {c[1]['grid_s']:.2f} s, all {c[1]['all_s']:.2f} s, "
          f"cache misses {c[1]['cache_misses']}, sympy imported: {c[1]['sympy_imported']}")
    print(json.dumps({"best_s": best, "ratio": ratio, "compile": c}))


if __name__ == "__main__":
    main()
