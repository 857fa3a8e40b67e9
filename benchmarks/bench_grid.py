"""End-to-end and kernel benchmarks of the grid engine (issue: the grid engine).

    python benchmarks/bench_grid.py            # kernel vs NumPy, thread scaling, 4096^2 end to end
    python benchmarks/bench_grid.py --eta16    # also the 16-eta memory check (about a minute)

Every rate counts the steps each point actually ran. End-to-end runs are the
real command line in a subprocess (JIT cache warmed first), timed by wall
clock, with peak resident memory from getrusage.
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


def run_cli(args: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes and stdout of ``eosfast ARGS`` in a child."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True,
                       check=True)
    wall = time.perf_counter() - t0
    peak = int(p.stderr.split("peak-rss")[-1].split()[0]) * 1024
    return wall, peak, p.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--res", type=int, default=4096)
    ap.add_argument("--eta16", action="store_true", help="also run 16 step sizes")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    from eosfast.bench import bench

    r = bench(res=1024, repeat=3)
    print(r.report())
    report = {"kernel": r.to_dict()}
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "grid.h5")
        run_cli(["grid", "--res", "64", "-o", out, "--force", "-q"])  # warm the JIT cache
        walls = []
        for _ in range(args.repeat):
            wall, peak, line = run_cli(["grid", "--res", str(args.res), "-o", out, "--force",
                                        "-q"])
            walls.append(wall)
            print(f"eosfast grid --res {args.res}: {wall:.2f} s wall, peak RSS "
                  f"{peak / 2**30:.2f} GiB\n  {line}")
        report["end_to_end"] = {"res": args.res, "wall_s": walls, "peak_rss_bytes": peak,
                                "file_bytes": os.path.getsize(out)}
        if args.eta16:
            wall, peak16, line = run_cli(["grid", "--res", str(args.res), "--eta-range", "0.1",
                                          "0.25", "--eta-res", "16", "-o", out, "--force", "-q"])
            print(f"16 eta: {wall:.1f} s wall, peak RSS {peak16 / 2**30:.2f} GiB\n  {line}")
            report["eta16"] = {"wall_s": wall, "peak_rss_bytes": peak16}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
