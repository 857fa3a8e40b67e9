"""Benchmark of the orbit-diagram kernel: the issue's sweep must take under 30 s.

16,000 step sizes x (20,000 burn-in + 8,192 recorded) steps of zhu4 from
(1.2, 0.9) over eta in [0.45, 0.99], observable P, periods and Lyapunov
exponents included (451 million GD steps, 131 million with a tangent vector).

Run: ``python benchmarks/bench_bifurcation.py [--eta-res N] [--threads T]``.
The first call compiles (or loads the cached machine code); the timed call
is the second. Prints one line.
"""

from __future__ import annotations

import argparse
import time

import numba

from eosfast.bifurcation import bifurcation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eta-res", type=int, default=16000)
    ap.add_argument("--burn", type=int, default=20000)
    ap.add_argument("--record", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    bifurcation(eta=[0.5, 0.7], burn=10, record=10)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    r = bifurcation("zhu4", 1.2, 0.9, (0.45, 0.99), a.eta_res, burn=a.burn, record=a.record,
                    threads=a.threads)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    steps = a.eta_res * (a.burn + a.record)
    threads = a.threads or numba.get_num_threads()
    print(f"bifurcation sweep: {a.eta_res} eta x ({a.burn} + {a.record}) steps = {steps:.3g} "
          f"GD steps in {wall:.2f} s wall ({cpu:.2f} s CPU, {threads} threads; "
          f"{steps / wall:.3g} steps/s; compile/load {compile_s:.1f} s); "
          f"{r.counts()}")


if __name__ == "__main__":
    main()
