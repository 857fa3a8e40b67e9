"""Momentum and Nesterov against plain GD, and per-layer step sizes (issue 19).

    python benchmarks/bench_optimizers.py               # 1024^2, 3 interleaved rounds
    python benchmarks/bench_optimizers.py --res 512     # quicker
    python benchmarks/bench_optimizers.py --json

Two grids, kernels loaded first, the optimizers' rounds interleaved in one
process, best of N each; a rate counts the steps each point ran (the
``steps`` the kernel reports), and the ratio is steps per second against
plain GD in the same run:

* ``map``: zhu4's default window at ``eta = 0.2``, default stop rule, every
  tile computed (``symmetry=False``). Under momentum most points stop
  sooner (43 steps a point on average at ``beta = 0.5``, GD 174), so each
  point's fixed cost (refill, classification) weighs more in its rate.
* ``steps``: every point runs the 1,000-step cap (``[0.8, 1.2]^2`` at
  ``eta = 0.1``, ``tol = 1e-300``, ``max_period = 1``): the kernels' speed
  per step.
* ``plane``: the same step-capped points, as a plane over ``(eta_x, eta_y)``
  in ``[0.09, 0.11]^2`` from ``(1.1, 0.85)`` against the initial-point grid of
  the ``steps`` case at ``eta = 0.1`` with one layer's own step size (the
  same kernel): a plane builds each point's parameters per tile, a grid of
  initial points its coordinates.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import eosfast
from eosfast.optimizer import Optimizer
from eosfast.tiles import load_kernels

CASES = {
    "gd": {},
    "momentum beta=0.5": {"optimizer": "momentum", "beta": 0.5},
    "nesterov beta=0.5": {"optimizer": "nesterov", "beta": 0.5},
    "gd eta_x=0.2 eta_y=0.1": {"eta_x": 0.2, "eta_y": 0.1},
}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--res", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="threads (default 1: the kernels' own speed)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    for kw in CASES.values():
        load_kernels("zhu4", Optimizer.checked(kw.get("optimizer", "gd"), kw.get("beta"),
                                               kw.get("eta_x"), kw.get("eta_y")))
    grids = {"map": dict(eta=0.2),
             "steps": dict(eta=0.1, x_range=(0.8, 1.2), y_range=(0.8, 1.2), steps=1000,
                           tol=1e-300, max_period=1)}
    out = {"res": a.res, "threads": a.threads, "rounds": a.rounds, "grids": {}}
    for gname, gkw in grids.items():
        best = {name: (np.inf, 0) for name in CASES}
        for _ in range(a.rounds):
            for name, kw in CASES.items():
                t0 = time.perf_counter()
                r = eosfast.grid("zhu4", a.res, symmetry=False, threads=a.threads, **gkw, **kw)
                dt = time.perf_counter() - t0
                steps = int(r.steps.astype(np.int64).sum())
                if dt < best[name][0]:
                    best[name] = (dt, steps)
        gd_rate = best["gd"][1] / best["gd"][0]
        out["grids"][gname] = {
            name: {"seconds": dt, "steps": steps, "steps_per_s": steps / dt,
                   "vs_gd": steps / dt / gd_rate} for name, (dt, steps) in best.items()}
    # planes: every point runs the cap; the same layered kernel both ways
    cap = dict(steps=1000, tol=1e-300, max_period=1, symmetry=False, threads=a.threads)
    runs = {"initial points, eta_x = 0.1": dict(eta=0.1, eta_x=0.1, x_range=(0.8, 1.2),
                                                y_range=(0.8, 1.2)),
            "plane (eta_x, eta_y)": dict(axes=("eta_x", "eta_y"), x_range=(0.09, 0.11),
                                         y_range=(0.09, 0.11), x0=1.1, y0=0.85)}
    for kw in runs.values():
        eosfast.grid("zhu4", 16, **cap, **kw)
    best = {name: (np.inf, 0) for name in runs}
    for _ in range(a.rounds):
        for name, kw in runs.items():
            t0 = time.perf_counter()
            r = eosfast.grid("zhu4", a.res, **cap, **kw)
            dt = time.perf_counter() - t0
            if dt < best[name][0]:
                best[name] = (dt, int(r.steps.astype(np.int64).sum()))
    base = best["initial points, eta_x = 0.1"]
    out["grids"]["plane"] = {
        name: {"seconds": dt, "steps": steps, "steps_per_s": steps / dt,
               "vs_gd": steps / dt / (base[1] / base[0])} for name, (dt, steps) in best.items()}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"zhu4 {a.res}^2, {a.threads} thread(s), best of {a.rounds}")
        for gname, rows in out["grids"].items():
            print(f" {gname}: {grids.get(gname, 'against the initial-point grid')}")
            against = "the initial-point grid" if gname == "plane" else "GD"
            for name, row in rows.items():
                print(f"  {name:28s} {row['steps']:.3e} steps in {row['seconds']:.2f} s = "
                      f"{row['steps_per_s']:.3g} steps/s ({row['vs_gd']:.2f}x {against})")
    return out


if __name__ == "__main__":
    main()
