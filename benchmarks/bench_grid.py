"""End-to-end benchmark of the main job, against a straightforward Numba prange loop.

    python benchmarks/bench_grid.py                 # 4096^2: ratio, phases, cold vs warm
    python benchmarks/bench_grid.py --res 2048      # a smaller grid
    python benchmarks/bench_grid.py --eta16         # also the 16-eta memory check

What it measures, all on the same machine in one run:

1. ``straight``: the compute alone of the straightforward way to write the
   grid (:mod:`eosfast.kernels.reference`: one point per ``prange``
   iteration, a ``while`` loop with the grid's stopping rules, status and
   steps into memory, all cores), best of ``--repeat``.
2. ``end to end``: ``eosfast grid --res N -o FILE`` as a user runs it (a
   child process, JIT cache warm, the file written), best of ``--repeat``;
   the ratio ``end to end / straight`` is the issue's target (<= 0.18).
3. Phases of that run: start-up (importing the command line), kernel load,
   then, from one in-process run with timers around the unit of work, the
   CPU seconds of compute, encoding and writing (compute and encoding run
   on the worker threads, writing on the main thread) and the wall time.
4. Cold vs warm: the same command with an empty Numba cache (a fresh
   ``NUMBA_CACHE_DIR``) and with the cache filled.
5. Threads: ``eosfast.grid(out=FILE)`` with 1 and with 2 threads, in this
   process, kernels loaded, best of ``--repeat`` interleaved; the time is
   the run's own (``GridRun.seconds``: tiles computed, encoded, written).
   With one thread the writer (the main thread) still runs beside it.

Every rate counts the steps each point actually ran. Peak memory from getrusage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# the child reports its own peak resident memory when it exits
_CHILD = ("import atexit, resource, sys; atexit.register(lambda: print('peak-rss', "
          "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)); "
          "from eosfast.cli.main import main; main(sys.argv[1:])")


def run_cli(args: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes and stdout of ``eosfast ARGS`` in a child."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True,
                       check=True, env=env)
    wall = time.perf_counter() - t0
    peak = int(p.stderr.split("peak-rss")[-1].split()[0]) * 1024
    return wall, peak, p.stdout.strip()


def child_seconds(code: str, env: dict | None = None) -> float:
    """Wall seconds of ``python -c CODE``."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - t0


def straight_seconds(res: int, repeat: int) -> tuple[float, int]:
    """Best compute time of the straightforward prange loop on the default grid, and its steps."""
    import numpy as np

    import eosfast
    from eosfast.grid import make_spec

    spec = make_spec("zhu4", res)
    xs, ys = (a.ravel() for a in np.meshgrid(spec.x0, spec.y0))
    es = np.full(xs.size, float(spec.eta[0]))
    status, steps = np.empty(xs.size, np.int8), np.empty(xs.size, np.int32)
    kernel = eosfast.get_model("zhu4").kernels.reference_straight
    kernel(xs[:64], ys[:64], es[:64], 10, 1e-12, 1e3, status[:64], steps[:64])
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        kernel(xs, ys, es, spec.rule.steps, spec.rule.tol, spec.rule.escape, status, steps)
        best = min(best, time.perf_counter() - t0)
    return best, int(steps.sum(dtype=np.int64))


def phases(res: int, out: str) -> dict:
    """CPU seconds of compute, encoding and writing in one in-process run to a file (kernels
    already loaded), and its wall time."""
    import threading

    import eosfast
    import eosfast.store.gridfile as gf
    import eosfast.tiles as tiles

    lock = threading.Lock()
    spent = {"compute": 0.0, "encode": 0.0, "write": 0.0}

    def timed(name, f):
        def wrapper(*a, **k):
            t0 = time.thread_time()
            try:
                return f(*a, **k)
            finally:
                with lock:
                    spent[name] += time.thread_time() - t0
        return wrapper

    saved = tiles.compute_tile, gf.encode_tile, gf.write_tile
    tiles.compute_tile = timed("compute", saved[0])
    gf.encode_tile = timed("encode", saved[1])
    gf.write_tile = timed("write", saved[2])
    try:
        tiles.load_kernels("zhu4")
        t0 = time.perf_counter()
        run = eosfast.grid(res=res, out=out, force=True)
        spent["wall"] = time.perf_counter() - t0
        spent["iterations"] = run.iterations
    finally:
        tiles.compute_tile, gf.encode_tile, gf.write_tile = saved
    return spent


def thread_scaling(res: int, out: str, repeat: int) -> dict:
    """Best ``GridRun.seconds`` of a run to a file with 1 and 2 threads (interleaved)."""
    import eosfast
    import eosfast.tiles as tiles

    tiles.load_kernels("zhu4")
    best = {1: float("inf"), 2: float("inf")}
    for _ in range(repeat):
        for n in best:
            run = eosfast.grid(res=res, out=out, force=True, threads=n)
            best[n] = min(best[n], run.seconds)
    return {"one_s": best[1], "two_s": best[2], "ratio": best[1] / best[2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--res", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--eta16", action="store_true", help="also run 16 step sizes")
    args = ap.parse_args()
    report: dict = {"res": args.res}
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "grid.h5")
        grid_args = ["grid", "--res", str(args.res), "-o", out, "--force", "-q"]
        # cold: an empty Numba cache; then warm
        cache = os.path.join(d, "numba-cache")
        env = os.environ | {"NUMBA_CACHE_DIR": cache}
        cold, _, _ = run_cli(grid_args, env)
        warm, _, _ = run_cli(grid_args, env)
        report["cold_s"], report["warm_s"] = cold, warm
        print(f"first run (empty Numba cache): {cold:.2f} s; second run: {warm:.2f} s")

        run_cli(["grid", "--res", "64", "-o", out, "--force", "-q"])  # warm the default cache
        # the end-to-end runs first: a child's peak RSS on Linux starts from
        # this process's at the fork, which the reference loop's arrays raise
        walls, line, peak = [], "", 0
        for _ in range(args.repeat):
            wall, peak, line = run_cli(grid_args)
            walls.append(wall)
        straight, straight_its = straight_seconds(args.res, args.repeat)
        best = min(walls)
        report["straight_s"], report["straight_iterations"] = straight, straight_its
        report["end_to_end_s"], report["peak_rss_bytes"] = walls, peak
        report["file_bytes"] = os.path.getsize(out)
        report["ratio"] = best / straight
        print(f"straightforward prange loop, compute alone: {straight:.2f} s "
              f"({straight_its / straight:.3g} it/s)")
        print(f"eosfast grid --res {args.res}, end to end: best {best:.2f} s of "
              f"{', '.join(f'{w:.2f}' for w in walls)}; peak RSS {peak / 2**20:.0f} MiB; "
              f"file {report['file_bytes'] / 2**20:.0f} MiB")
        print(f"  end to end / straightforward compute: {report['ratio']:.3f}")
        print(f"  {line}")

        # start-up: the interpreter and the modules a grid run imports; kernel
        # load: Numba loading the cached kernel, in a fresh process
        start = min(child_seconds("import eosfast.cli.grid, eosfast.grid, eosfast.tiles, "
                                  "eosfast.store.gridfile, eosfast.kernels.cpu")
                    for _ in range(3))
        load = min(float(subprocess.run(
            [sys.executable, "-c", "import time, eosfast.tiles as t; t0 = time.perf_counter(); "
             "t.load_kernels('zhu4'); print(time.perf_counter() - t0)"],
            capture_output=True, text=True, check=True).stdout) for _ in range(3))
        spent = phases(args.res, out)
        spent["load"] = load
        report["phases"] = {"startup_s": start, **spent}
        print(f"phases: start-up {start:.2f} s, kernel load {spent['load']:.2f} s, wall "
              f"{spent['wall']:.2f} s; CPU seconds: compute {spent['compute']:.2f}, "
              f"encode {spent['encode']:.2f} (worker threads), write "
              f"{spent['write']:.2f} (main thread)")
        th = thread_scaling(args.res, out, args.repeat)
        report["threads"] = th
        print(f"threads, to a file: 1 thread {th['one_s']:.2f} s, 2 threads {th['two_s']:.2f} s:"
              f" 1 -> 2 threads {th['ratio']:.2f}x")
        if args.eta16:
            wall, peak16, line = run_cli(["grid", "--res", str(args.res), "--eta-range", "0.1",
                                          "0.25", "--eta-res", "16", "-o", out, "--force", "-q"])
            print(f"16 eta: {wall:.1f} s wall, peak RSS {peak16 / 2**30:.2f} GiB\n  {line}")
            report["eta16"] = {"wall_s": wall, "peak_rss_bytes": peak16}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
