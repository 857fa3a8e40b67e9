"""The CUDA backend on a real GPU: speed against the CPU and PyTorch, and bit-identity (issue 15).

One run, meant for one call on a machine with an NVIDIA GPU (under 8 minutes
on an H100 with the defaults)::

    PYTHONPATH=. python benchmarks/bench_cuda.py            # from the checkout
    PYTHONPATH=. python benchmarks/bench_cuda.py --quick    # small sizes, seconds

It prints the device and every figure as it goes, then one JSON line (and
writes it to ``$OUT/bench_cuda.json`` when ``OUT`` is set, or ``--json PATH``).
Each part runs on its own: one that fails is reported and the rest still run.
Without a usable GPU it prints the one line that ``eosfast grid --backend
cuda`` would and exits with status 2.

Parts (zhu4, the paper's defaults: ``[0,4]^2``, eta 0.2, 10,000-step cap):

``ptx``
    The kernel's PTX for this device: float64 instructions that a multiply
    and an add could be fused into (must be none).
``identity``
    A 1024^2 grid on the GPU and on the CPU kernel (all cores), in memory:
    points that differ, per field, and the largest difference in ulps.
``default``
    The 4096^2 grid: GPU in memory (kernel, transfers, tiles), GPU to an
    HDF5 file (the whole ``eosfast grid`` path: encoding and the writer),
    the CPU kernel on all cores (in memory and to a file), and a
    straightforward PyTorch implementation of the same map on the GPU (what
    public reproductions of these basins ran: every point stepped in lock
    step with masks, float64, until the cap or until every point stopped;
    JAX if PyTorch is missing). Points/s and GD iterations/s (the steps the
    points ran, the period search after the cap not counted).
``lattice``
    The dense 65537^2 lattice of ``[0,4]^2`` (4.3e9 points). Its file would
    hold about 150 GB (the float fields do not compress), more than such a
    machine's disk, so two measurements: (1) the GPU computes the whole
    lattice, tile by tile through the executor, results counted and dropped,
    in random tile order, stopped at ``--lattice-seconds`` (the rates then
    estimate the whole); (2) ``eosfast.grid(res=65537, backend="cuda",
    out=...)``, the real streamed file, stopped (as by Ctrl-C, the partial
    file kept for ``--resume``) at ``--stream-seconds`` or ``--stream-gb``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback

import numpy as np

FIELDS = ("status", "steps", "period", "sharpness", "loss", "x", "y")


def log(*a) -> None:
    print(*a, flush=True)


def part(report: dict, name: str, fn, *args) -> None:
    """Run one part; record its result or its error, never stop the benchmark."""
    t0 = time.perf_counter()
    log(f"== {name}")
    try:
        report[name] = fn(*args)
    except Exception as e:  # a part that fails is reported; the others still run
        traceback.print_exc()
        report[name] = {"error": f"{type(e).__name__}: {e}"}
    log(f"   ({time.perf_counter() - t0:.1f} s)")


def host_info() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "python": sys.version.split()[0]}
    for pkg in ("numba", "numba-cuda", "numpy", "torch", "jax"):
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            info[pkg] = None
    return info


def device_info() -> dict:
    from numba import cuda

    from eosfast.kernels.cuda import device_name, simulated

    info = {"name": device_name()}
    if simulated():
        return info
    dev = cuda.get_current_device()
    info.update(cc=list(dev.compute_capability), sms=dev.MULTIPROCESSOR_COUNT)
    try:
        free, total = cuda.current_context().get_memory_info()
        info.update(memory_gib=round(total / 2**30, 1))
    except Exception:
        pass
    try:
        info["driver"] = ".".join(map(str, cuda.cudadrv.driver.driver.get_version()))
        info["runtime"] = ".".join(map(str, cuda.runtime.get_version()))
    except Exception:
        pass
    return info


def ptx_part() -> dict:
    import re

    from numba import cuda

    from eosfast.kernels.cuda import grid_ptx, simulated, unsafe_instructions
    from eosfast.models import get_model

    if simulated():
        return {"skipped": "simulator"}
    cc = cuda.get_current_device().compute_capability
    m = get_model("zhu4")
    ptx = grid_ptx(m.maps, m.kernels.key, cc=tuple(cc))
    unsafe = unsafe_instructions(ptx)
    rn = len(re.findall(r"\b(?:add|sub|mul)\.rn\.f64\b", ptx))
    log(f"   PTX for sm_{cc[0]}{cc[1]}: {rn} rounded float64 add/sub/mul, "
        f"{len(unsafe)} fusable or fused")
    return {"cc": list(cc), "rounded_ops": rn, "unsafe": unsafe[:20]}


def ulps(a: np.ndarray, b: np.ndarray) -> int:
    """Largest distance in units in the last place between finite float64s."""
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return 0
    ia = a[ok].view(np.int64)
    ib = b[ok].view(np.int64)
    # map the sign-magnitude bit patterns to a monotonic integer line
    ia = np.where(ia < 0, np.int64(-(2**63)) - ia, ia)
    ib = np.where(ib < 0, np.int64(-(2**63)) - ib, ib)
    return int(np.abs(ia - ib).max())


def identity_part(res: int, steps: int) -> dict:
    import eosfast

    gpu = eosfast.grid(res=res, steps=steps, backend="cuda")
    cpu = eosfast.grid(res=res, steps=steps)
    out = {"res": res, "points": res * res, "differ": {}, "max_ulps": {}}
    for name in FIELDS:
        a, b = getattr(gpu, name), getattr(cpu, name)
        same = a == b
        if a.dtype.kind == "f":
            same |= np.isnan(a) & np.isnan(b)
            out["max_ulps"][name] = ulps(a, b)
        out["differ"][name] = int(np.count_nonzero(~same))
    out["identical"] = not any(out["differ"].values())
    log(f"   {res}^2: points that differ {out['differ']}; max ulps {out['max_ulps']}")
    return out


def rate(points: int, iterations: int, seconds: float) -> dict:
    return {"points": points, "iterations": iterations, "seconds": round(seconds, 4),
            "points_per_s": points / seconds, "iterations_per_s": iterations / seconds}


def show(label: str, r: dict) -> None:
    log(f"   {label:<28} {r['seconds']:9.3f} s  {r['points_per_s']:10.3e} points/s  "
        f"{r['iterations_per_s']:10.3e} it/s")


def grid_memory(res: int, steps: int, backend: str, repeat: int) -> dict:
    import eosfast

    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = eosfast.grid(res=res, steps=steps, backend=backend)
        dt = time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, int(r.steps.sum(dtype=np.int64)))
    return rate(res * res, best[1], best[0])


def grid_file(res: int, steps: int, backend: str, workdir: str) -> dict:
    import eosfast

    d = tempfile.mkdtemp(dir=workdir, prefix=".bench_cuda_")
    try:
        path = os.path.join(d, "grid.h5")
        t0 = time.perf_counter()
        run = eosfast.grid(res=res, steps=steps, backend=backend, out=path)
        wall = time.perf_counter() - t0
        r = rate(res * res, int(run.iterations), wall)
        r.update(kernel_loop_seconds=round(run.seconds, 4), file_bytes=os.path.getsize(path))
        return r
    finally:
        shutil.rmtree(d, ignore_errors=True)


def reference_step_loop(res: int, steps: int, eta: float) -> dict:
    """A straightforward GPU implementation (PyTorch, else JAX): every point in lock step."""
    from eosfast import defaults
    from eosfast.models import get_model

    m = get_model("zhu4")
    p, q, c = m.p, m.q, m.scale * eta
    tol, R = defaults.TOL, defaults.ESCAPE
    axis = np.linspace(0.0, 4.0, res)
    try:
        import torch

        if not torch.cuda.is_available():
            raise ImportError("PyTorch sees no GPU")
    except ImportError as e:
        torch = None
        why_not_torch = str(e)
    if torch is not None:
        dev = torch.device("cuda")
        g = torch.from_numpy(axis).to(dev)
        y, x = torch.meshgrid(g, g, indexing="ij")
        x, y = x.reshape(-1).clone(), y.reshape(-1).clone()
        t = torch.zeros_like(x, dtype=torch.int32)
        go = torch.ones_like(x, dtype=torch.bool)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for k in range(steps):  # the operations of kernels.maps.coupled's advance
            a, b = x ** (p - 1), y ** (q - 1)
            ax, by = a * x, b * y
            r = 1.0 - ax * by
            go = go & (x.abs() <= R) & (y.abs() <= R) & (r.abs() >= tol)
            gr = c * r
            x, y = torch.where(go, x + gr * (a * by), x), torch.where(go, y + gr * (ax * b), y)
            t += go
            if k % 256 == 255 and not bool(go.any()):
                break
        torch.cuda.synchronize()
        wall = time.perf_counter() - t0
        out = rate(res * res, int(t.sum(dtype=torch.int64).item()), wall)
        out.update(framework=f"torch {torch.__version__}", steps=t.cpu().numpy())
        return out
    import jax
    import jax.numpy as jnp

    if not any(d.platform == "gpu" for d in jax.devices()):
        raise RuntimeError(f"no PyTorch ({why_not_torch}) and JAX sees no GPU")
    jax.config.update("jax_enable_x64", True)
    yy, xx = np.meshgrid(axis, axis, indexing="ij")

    @jax.jit
    def loop(x, y):
        def body(_, s):
            x, y, t, go = s
            a, b = x ** (p - 1), y ** (q - 1)
            ax, by = a * x, b * y
            r = 1.0 - ax * by
            go = go & (jnp.abs(x) <= R) & (jnp.abs(y) <= R) & (jnp.abs(r) >= tol)
            gr = c * r
            return (jnp.where(go, x + gr * (a * by), x), jnp.where(go, y + gr * (ax * b), y),
                    t + go, go)
        return jax.lax.fori_loop(0, steps, body, (x, y, jnp.zeros(x.shape, jnp.int32),
                                                  jnp.ones(x.shape, bool)))[2]

    x0, y0 = jnp.asarray(xx.ravel()), jnp.asarray(yy.ravel())
    loop(x0[:4], y0[:4]).block_until_ready()  # compile (shapes differ: compiles again)
    t0 = time.perf_counter()
    t = np.asarray(loop(x0, y0).block_until_ready())
    wall = time.perf_counter() - t0
    out = rate(res * res, int(t.sum(dtype=np.int64)), wall)
    out.update(framework=f"jax {jax.__version__}", steps=t)
    return out


def default_part(res: int, steps: int, repeat: int, workdir: str, skip_cpu: bool,
                 skip_reference: bool) -> dict:
    import eosfast

    eosfast.grid(res=64, steps=steps, backend="cuda")  # compile the GPU kernel
    eosfast.grid(res=64, steps=steps)  # and load the CPU kernel
    out: dict = {"res": res, "steps": steps}
    rows = [("cuda_memory", lambda: grid_memory(res, steps, "cuda", repeat)),
            ("cuda_file", lambda: grid_file(res, steps, "cuda", workdir))]
    if not skip_cpu:
        rows += [("cpu_memory", lambda: grid_memory(res, steps, "cpu", 1)),
                 ("cpu_file", lambda: grid_file(res, steps, "cpu", workdir))]
    for label, fn in rows:
        try:
            out[label] = fn()
            show(label, out[label])
        except Exception as e:
            traceback.print_exc()
            out[label] = {"error": f"{type(e).__name__}: {e}"}
    if skip_reference:
        return out
    try:
        ref = reference_step_loop(res, steps, eosfast.defaults.ETA)
        ours = eosfast.grid(res=res, steps=steps, backend="cuda").steps[0].ravel()
        theirs = ref.pop("steps").reshape(-1)
        ref["same_steps_fraction"] = float(np.mean(ours == theirs))
        out["reference"] = ref
        show(f"reference ({ref['framework']})", ref)
        log(f"   reference: stopping step equal to eosfast's at "
            f"{100 * ref['same_steps_fraction']:.3f}% of points")
    except Exception as e:
        traceback.print_exc()
        out["reference"] = {"error": f"{type(e).__name__}: {e}"}
    if "cuda_memory" in out and "points_per_s" in out.get("cpu_memory", {}):
        out["speedup_vs_cpu"] = (out["cuda_memory"]["points_per_s"]
                                 / out["cpu_memory"]["points_per_s"])
    if "points_per_s" in out.get("reference", {}) and "points_per_s" in out["cuda_memory"]:
        out["speedup_vs_reference"] = (out["cuda_memory"]["points_per_s"]
                                       / out["reference"]["points_per_s"])
    return out


def lattice_compute(res: int, steps: int, seconds: float) -> dict:
    """The whole lattice through the GPU executor, results counted and dropped."""
    from eosfast.executors import CudaExecutor
    from eosfast.grid import make_spec

    spec = make_spec(res=res, steps=steps)
    ex = CudaExecutor()
    ex.prepare(spec)
    order = np.random.default_rng(0).permutation(spec.ntiles)  # a fair sample if stopped
    counts = np.zeros(4, np.int64)  # diverged, bounded, converged, periodic
    points = its = tiles = 0
    t0 = time.perf_counter()
    gen = ex.run(spec, order.tolist(), None)
    try:
        for _, it, arrays in gen:
            s = arrays["status"].ravel()
            counts += np.bincount(s.astype(np.int64) + 1, minlength=4)[:4]
            points += s.size
            its += it
            tiles += 1
            if time.perf_counter() - t0 > seconds:
                break
    finally:
        gen.close()
    wall = time.perf_counter() - t0
    out = rate(points, its, wall)
    total = res * res
    out.update(res=res, tiles=tiles, of_tiles=spec.ntiles, complete=tiles == spec.ntiles,
               fractions=dict(zip(("diverged", "bounded", "converged", "periodic"),
                                  (counts / max(points, 1)).round(5).tolist(), strict=True)),
               projected_seconds_whole=total / out["points_per_s"])
    show(f"{res}^2 compute ({tiles}/{spec.ntiles} tiles)", out)
    return out


def lattice_file(res: int, steps: int, seconds: float, max_gb: float, workdir: str) -> dict:
    """``eosfast.grid(res=65537, backend="cuda", out=...)``, stopped at a time or size budget."""
    import h5py

    import eosfast
    from eosfast.errors import Interrupted
    from eosfast.grid import make_spec
    from eosfast.store import gridfile

    d = tempfile.mkdtemp(dir=workdir, prefix=".bench_cuda_")
    path = os.path.join(d, "lattice.h5")
    part_path = os.path.join(d, "lattice.h5.part")
    state = {"t0": None, "total": 0}

    def progress(done: int, total: int) -> None:
        if state["t0"] is None:  # first called once the kernel is compiled
            state["t0"] = time.perf_counter()
        state["total"] = total
        big = os.path.exists(part_path) and os.path.getsize(part_path) > max_gb * 2**30
        low = shutil.disk_usage(d).free < 4 * 2**30
        if time.perf_counter() - state["t0"] > seconds or big or low:
            raise KeyboardInterrupt  # what Ctrl-C does: the tiles so far stay in the .part

    try:
        finished = True
        try:
            eosfast.grid(res=res, steps=steps, backend="cuda", out=path, progress=progress)
        except Interrupted:
            finished = False
        wall = time.perf_counter() - state["t0"]
        f = path if finished else part_path
        size = os.path.getsize(f)
        spec = make_spec(res=res, steps=steps)
        points = its = 0
        with h5py.File(f, "r") as h:  # the tiles the writer marked done, exactly
            done = np.flatnonzero(gridfile.done_tiles(h))
            for index in done:
                e, ys, xs = spec.tile_slices(int(index))
                block = h["steps"][e, ys, xs]
                points += block.size
                its += int(block.sum(dtype=np.int64))
        tiles = int(done.size)
        out = rate(max(points, 1), its, wall)
        out.update(res=res, tiles=tiles, of_tiles=state["total"], complete=finished,
                   file_bytes=size, bytes_per_point=size / max(points, 1),
                   projected_file_gb_whole=size / max(points, 1) * res * res / 1e9,
                   projected_seconds_whole=res * res / out["points_per_s"])
        show(f"{res}^2 to file ({tiles}/{state['total']} tiles)", out)
        log(f"   {size / 1e9:.2f} GB written, {size / max(points, 1):.1f} bytes/point: "
            f"the whole lattice would be {out['projected_file_gb_whole']:.0f} GB")
        return out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--sizes", type=int, nargs=3, metavar=("IDENTITY", "GRID", "LATTICE"),
                    default=None, help="points per axis of the three parts")
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--lattice-seconds", type=float, default=150.0)
    ap.add_argument("--stream-seconds", type=float, default=45.0)
    ap.add_argument("--stream-gb", type=float, default=20.0)
    ap.add_argument("--skip-cpu", action="store_true")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--workdir", default=".", help="where the temporary HDF5 files go")
    ap.add_argument("--json", default=None, help="also write the JSON summary here")
    args = ap.parse_args()
    ident, res, lattice = (64, 256, 1025) if args.quick else (1024, 4096, 65537)
    if args.sizes:
        ident, res, lattice = args.sizes
    if args.quick:
        args.lattice_seconds = min(args.lattice_seconds, 20.0)
        args.stream_seconds = min(args.stream_seconds, 10.0)

    report: dict = {"argv": sys.argv[1:], "host": host_info()}
    from eosfast.kernels.cuda import missing

    why = missing()
    if why is not None:
        print(f"bench_cuda: no usable GPU: {why}", file=sys.stderr)
        report["error"] = why
        write(report, args.json)
        return 2
    report["device"] = device_info()
    log(f"device: {report['device']}")
    log(f"host: {report['host']}")
    part(report, "ptx", ptx_part)
    part(report, "identity", identity_part, ident, args.steps)
    part(report, "default", default_part, res, args.steps, args.repeat, args.workdir,
         args.skip_cpu, args.skip_reference)
    part(report, "lattice_compute", lattice_compute, lattice, args.steps, args.lattice_seconds)
    part(report, "lattice_file", lattice_file, lattice, args.steps, args.stream_seconds,
         args.stream_gb, args.workdir)
    write(report, args.json)
    return 0


def write(report: dict, path: str | None) -> None:
    text = json.dumps(report, default=float)
    print(text, flush=True)
    targets = [path] if path else []
    if os.environ.get("OUT"):
        targets.append(os.path.join(os.environ["OUT"], "bench_cuda.json"))
    for t in targets:
        with open(t, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
