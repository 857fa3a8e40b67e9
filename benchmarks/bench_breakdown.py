"""Where the grid kernel's time goes, against the check-free lane loop, on one thread.

    python benchmarks/bench_breakdown.py             # default case, 2048^2
    python benchmarks/bench_breakdown.py --res 1024

The grid kernel does three things the check-free lane loop
(:mod:`eosfast.kernels.reference`) does not: it tests the stopping rules
at every step and freezes stopped lanes by selects; it waits for the end of
an 8-step chunk before a stopped lane takes its next point; and it refills
lanes and classifies every stopped point (status, period search, sharpness,
loss). Each is measured here, on one thread, best of ``--repeat``:

1. ``lanes``: the check-free loop's pace (steps per second).
2. ``checked``: the grid kernel's pace where no point stops: a window of
   bounded orbits at eta = 0.6 (no point converges for eta > 1/2), a
   ``--cap``-step cap, no period search; per-point costs are spread over
   ``--cap`` steps there. ``checked / lanes`` is the price of the tests and
   selects.
3. ``chunk idle``: lane-steps spent by stopped lanes waiting for the end of
   their chunk, counted from the default grid's own ``steps`` (exact).
4. ``per point``: refill and classification, measured on its own: a grid
   of points that all stop at step 0 (beyond the escape radius), in
   nanoseconds per point.

The four are measured separately; what they leave of the default grid's
time is printed as ``unaccounted`` (a check of the model, not a fifth part).
Rates count the steps each point actually ran.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import eosfast
from eosfast.kernels.build import numba_threads
from eosfast.kernels.config import STEPS_PER_CHECK
from eosfast.tiles import load_kernels


def best_of(repeat, f):
    """Best wall time of ``repeat`` calls, and the last call's value.

    Only one result is alive at a time: keeping them all would make every
    call fault in fresh pages for its arrays (about 0.4 s for a 2048^2
    grid's 160 MB on the development VM), which is not the kernel's time.
    """
    best, value = float("inf"), None
    for _ in range(repeat):
        value = None
        t0 = time.perf_counter()
        value = f()
        best = min(best, time.perf_counter() - t0)
    return best, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--res", type=int, default=2048)
    ap.add_argument("--cap", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    load_kernels("zhu4")
    m = eosfast.get_model("zhu4")

    # 3 and 4: the default grid, one thread, every point computed
    dt_grid, g = best_of(args.repeat, lambda: eosfast.grid(res=args.res, threads=1,
                                                            symmetry=False))
    steps = g.steps.astype(np.int64).ravel()
    its = int(steps.sum())
    # a point stopped at step s is detected in the chunk holding step s and
    # its lane idles to the chunk's end: ceil((s + 1) / STEPS_PER_CHECK) chunks in all
    slots = int((((steps + STEPS_PER_CHECK) // STEPS_PER_CHECK) * STEPS_PER_CHECK).sum())

    # 1: the check-free loop on the same points
    xs, ys = (a.ravel() for a in np.meshgrid(g.x0, g.y0))
    es = np.full(xs.size, 0.2)
    fx, fy = np.empty_like(xs), np.empty_like(ys)
    lane_steps = 64
    with numba_threads(1):
        m.kernels.reference_lanes(xs[:64], ys[:64], es[:64], 1, fx, fy)
        dt_lanes, _ = best_of(args.repeat, lambda: m.kernels.reference_lanes(
            xs, ys, es, lane_steps, fx, fy))
    lanes = (xs.size // 32) * 32 * lane_steps / dt_lanes

    # 2: the grid kernel where no point stops before the cap
    def bounded():
        return eosfast.grid(res=256, x_range=(1.15, 1.25), y_range=(0.85, 0.95), eta=0.6,
                            steps=args.cap, threads=1, symmetry=False, max_period=1)

    dt_b, b = best_of(args.repeat, bounded)
    at_cap = float(np.mean(b.steps == args.cap))
    checked = float(b.steps.astype(np.int64).sum()) / dt_b

    # 4: refill and classification alone: every point stops at step 0
    def stopped():
        return eosfast.grid(res=args.res, x_range=(2e3, 3e3), y_range=(2e3, 3e3),
                            threads=1, symmetry=False)

    dt_s, sgrid = best_of(args.repeat, stopped)
    assert int(sgrid.steps.max()) == 0
    per_point = dt_s / sgrid.steps.size

    t_idle = (slots - its) / checked
    t_point = per_point * steps.size
    parts = its / lanes + (its / checked - its / lanes) + t_idle + t_point
    print(f"default grid {args.res}^2 on 1 thread: {dt_grid:.3f} s, {its:.4g} steps "
          f"({its / dt_grid:.3g} it/s = {its / dt_grid / lanes:.2f} of the check-free loop)")
    print(f"  check-free lane loop   : {lanes:.3g} it/s")
    print(f"  checked stepping       : {checked:.3g} it/s = {checked / lanes:.2f} of it "
          f"({100 * at_cap:.1f}% of that window's points ran to the {args.cap}-step cap)")
    print("where the default grid's time goes:")
    print(f"  stepping at the check-free pace   {its / lanes:.3f} s")
    print(f"  + stopping tests and selects      {its / checked - its / lanes:.3f} s")
    print(f"  + idle lanes to the chunk's end   {t_idle:.3f} s "
          f"({100 * (slots - its) / slots:.1f}% of lane-steps; {STEPS_PER_CHECK} steps a check)")
    print(f"  + refill and classification       {t_point:.3f} s "
          f"({1e9 * per_point:.1f} ns a point on points that stop at once, {steps.size} "
          f"points, median {np.median(steps):.0f} steps a point)")
    print(f"  = {parts:.3f} s measured in parts; the grid took {dt_grid:.3f} s "
          f"(unaccounted {dt_grid - parts:+.3f} s = {100 * (dt_grid - parts) / dt_grid:+.0f}%)")


if __name__ == "__main__":
    main()
