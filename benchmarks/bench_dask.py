"""Local threads vs a dask LocalCluster (``--scheduler local:N``) on the same grid.

Default case: zhu4, eta = 0.2, [0, 4]^2 at 2048 x 2048, 10,000-step cap, the
default tiling, all cores (threads) vs ``local:2`` (2 worker processes, the
cores split between them). Two measurements, each interleaved A B B A ... so
that a change in the machine's load hits both executors alike:

``cli``
    the whole command in a fresh process, ``eosfast grid ... --quiet``, as a
    user runs it: interpreter start, imports (dask's only for local:N),
    cluster start and stop, computing and writing the file.
``api``
    ``eosfast.grid(..., out=...)`` called in this process after a warm-up,
    the steady state of a script that runs many grids: no imports, but the
    cluster is still started and stopped by every call.

Iterations per second count the GD steps each point actually ran (the
file's ``steps`` summed). The "others" column is the average number of cores
that processes other than the benchmark kept busy during the run (from
/proc/stat), so a loaded machine shows as such. The two result files are
compared at the end (they must be identical).

Run: ``python benchmarks/bench_dask.py [--res 2048] [--rounds 6] [--workers 2]``
(``--eta-range LO HI --eta-res M`` for a sweep of step sizes, ``--mode cli`` or
``api`` for one of the two measurements).
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _busy_cpu_s() -> float:
    """CPU seconds all cores have spent not idle since boot (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [float(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu(p) -> float:
    t = p.cpu_times()
    return t.user + t.system


class Meter:
    """Wall time, CPU time of this process tree, and the other processes' busy cores.

    The tree's CPU is sampled (psutil, every 20 ms) rather than taken from
    ``getrusage``: the workers of ``local:N`` are children of multiprocessing's
    fork server, not of a process that waits for them.
    """

    def __enter__(self):
        import psutil

        self.me = psutil.Process()
        self.base = self._sample()
        self.seen = dict(self.base)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.load = os.getloadavg()[0]
        self.busy0, self.self0, self.t0 = _busy_cpu_s(), _cpu(self.me), time.perf_counter()
        self.thread.start()
        return self

    def _sample(self) -> dict[int, float]:
        import psutil

        out = {}
        for p in self.me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                out[p.pid] = _cpu(p)
        return out

    def _watch(self) -> None:
        while not self.stop.wait(0.02):
            self.seen.update(self._sample())

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.stop.set()
        self.thread.join()
        self.seen.update(self._sample())
        children = sum(v - self.base.get(pid, 0.0) for pid, v in self.seen.items())
        self.cpu = (_cpu(self.me) - self.self0) + children
        self.others = max(0.0, ((_busy_cpu_s() - self.busy0) - self.cpu) / self.wall)


SUMMARY = re.compile(r"([0-9.e+]+) iterations in ([0-9.]+) s")


def run_cli(args, out: Path, scheduler: str | None) -> dict:
    cmd = [sys.executable, "-m", "eosfast.cli.main", "grid", *args, "-o", str(out), "--force",
           "--quiet"] + (["--scheduler", scheduler] if scheduler else [])
    with Meter() as m:
        p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    its, _ = SUMMARY.search(p.stdout).groups()
    return {"wall": m.wall, "cpu": m.cpu, "others": m.others, "load": m.load,
            "iterations": float(its)}


def run_api(kw: dict, out: Path, scheduler: str | None) -> dict:
    import eosfast

    with Meter() as m:
        r = eosfast.grid(**kw, out=out, force=True, scheduler=scheduler)
    return {"wall": m.wall, "cpu": m.cpu, "others": m.others, "load": m.load,
            "iterations": float(r.iterations)}


def same_files(a: Path, b: Path) -> bool:
    import h5py
    import numpy as np

    with h5py.File(a) as f, h5py.File(b) as g:
        return sorted(f) == sorted(g) and all(
            np.array_equal(f[k][()], g[k][()], equal_nan=f[k].dtype.kind == "f") for k in f)


def table(title: str, rows: dict[str, list[dict]], base: str) -> str:
    """Markdown: best / median / spread of wall time, it/s, CPU, others' load; overhead."""
    lines = [f"**{title}**", "",
             "| executor | runs | best wall (s) | median wall (s) | spread (s) | it/s (best) "
             "| CPU s, all processes (median) | others' busy cores (median) "
             "| overhead, best vs best | overhead, median of pairs |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    best_base = min(r["wall"] for r in rows[base])
    for name, runs in rows.items():
        walls = [r["wall"] for r in runs]
        best = min(walls)
        pairs = [r["wall"] / b["wall"] - 1 for r, b in zip(runs, rows[base], strict=True)]
        over_best = "" if name == base else f"{100 * (best / best_base - 1):+.0f}%"
        over_pair = "" if name == base else f"{100 * statistics.median(pairs):+.0f}%"
        lines.append(
            f"| {name} | {len(runs)} | {best:.2f} | {statistics.median(walls):.2f} | "
            f"{min(walls):.2f}-{max(walls):.2f} | {runs[0]['iterations'] / best:.3g} | "
            f"{statistics.median(r['cpu'] for r in runs):.2f} | "
            f"{statistics.median(r['others'] for r in runs):.1f} | {over_best} | {over_pair} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--res", type=int, default=2048)
    ap.add_argument("--eta", type=float, default=0.2)
    ap.add_argument("--eta-range", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                    help="Sweep --eta-res step sizes instead of one --eta.")
    ap.add_argument("--eta-res", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--tile", type=int, default=None, help="Tile edge (default: eosfast's).")
    ap.add_argument("--workers", type=int, default=2, help="N of local:N.")
    ap.add_argument("--rounds", type=int, default=6, help="Runs of each executor, per mode.")
    ap.add_argument("--mode", choices=["cli", "api", "both"], default="both")
    a = ap.parse_args()
    scheduler = f"local:{a.workers}"
    args = ["--res", str(a.res), "--steps", str(a.steps)]
    kw = {"res": a.res, "steps": a.steps}
    if a.eta_range:
        args += ["--eta-range", *map(str, a.eta_range), "--eta-res", str(a.eta_res)]
        kw.update(eta_range=a.eta_range, eta_res=a.eta_res)
        etas = f"--eta-range {a.eta_range[0]} {a.eta_range[1]} --eta-res {a.eta_res}"
    else:
        args += ["--eta", str(a.eta)]
        kw["eta"] = a.eta
        etas = f"--eta {a.eta}"
    if a.tile:
        args += ["--tile", str(a.tile)]
        kw["tile"] = a.tile
    names = {"threads": None, scheduler: scheduler}
    cores = len(os.sched_getaffinity(0))
    print(f"eosfast grid --res {a.res} {etas} --steps {a.steps}"
          f"{' --tile ' + str(a.tile) if a.tile else ''}: threads (all {cores} cores) vs "
          f"--scheduler {scheduler}; {a.rounds} interleaved runs each; "
          f"load average at start {os.getloadavg()[0]:.1f}\n")
    with tempfile.TemporaryDirectory() as tmp:
        outs = {n: Path(tmp) / f"{n.replace(':', '')}.h5" for n in names}
        modes = ["cli", "api"] if a.mode == "both" else [a.mode]
        for mode in modes:
            rows: dict[str, list[dict]] = {n: [] for n in names}
            if mode == "api":  # imports, kernels and dask loaded once, untimed
                for n, s in names.items():
                    run_api(kw, outs[n], s)
            else:  # Numba's on-disk cache filled, untimed
                run_cli(args, outs["threads"], None)
            for i in range(a.rounds):
                order = list(names.items())
                if i % 2:
                    order.reverse()
                for n, s in order:
                    r = run_cli(args, outs[n], s) if mode == "cli" else run_api(kw, outs[n], s)
                    rows[n].append(r)
            title = ("whole command, fresh process (`eosfast grid ... --quiet`)" if mode == "cli"
                     else "`eosfast.grid(..., out=...)` in a warm process")
            print(table(title, rows, "threads"), "\n")
        ok = same_files(*outs.values())
    print(f"result files identical: {ok}; load average at end {os.getloadavg()[0]:.1f}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
