"""The CUDA backend, tested without a GPU.

- numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``, which must be set
  before ``numba.cuda`` is first imported, hence a subprocess) runs the CUDA
  grid kernel and executor as plain Python; every point must match the CPU
  kernel exactly, for all four built-in models, on grids with points that
  converge, diverge, cycle and sit on the axes. The simulator evaluates the
  map with Python's float arithmetic, so it checks the kernel's logic
  (stopping rules, classification, batching, the writer path), not what the
  hardware rounds: that part is the PTX check.
- The PTX that NVVM makes of the kernel (libNVVM runs without a GPU) must
  have no fused multiply-add and an explicit ``.rn`` on every float64 add and
  multiply, so that no stage may fuse them; with NVVM's defaults it has FMAs
  (the control that shows the check can fail).
- Without a GPU (this suite's normal case) ``--backend cuda`` is one line
  naming what is missing, exit 2, nothing written.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import eosfast
from eosfast.errors import InvalidArgument

ROOT = Path(__file__).resolve().parents[1]


def _start(code: str, *args: str, env: dict | None = None, cwd=None) -> subprocess.Popen:
    """Start ``python -c code args`` from the checkout (the package from this tree)."""
    full = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]), **(env or {})}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full, cwd=cwd or ROOT)


def _finish(p: subprocess.Popen, timeout: int = 600) -> tuple[int, str, str]:
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    return p.returncode, out, err


def _python(code: str, *args: str, env: dict | None = None, cwd=None):
    """Run ``python -c code args`` from the checkout: (returncode, stdout, stderr)."""
    return _finish(_start(code, *args, env=env, cwd=cwd))


def _report(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, stdout
    return json.loads(lines[-1][len("REPORT "):])


# ------------------------------------------------------------------ simulator

#: Per model, step sizes whose 9 x 9 grid over [-1, 3]^2 (axes included)
#: holds converged, diverged, bounded and periodic points, cycles of period
#: >= 2 among them (2, 6, 2 and 3: checked below from the CPU's result).
SIM_CASES = {"zhu4": [0.2, 0.55], "deg3": [0.2, 0.9], "deg2": [0.2, 0.55], "deg6": [0.2, 0.5]}

_SIM = r"""
import json, os, sys, warnings
warnings.simplefilter("ignore")  # overflow of diverging orbits in numpy scalars
import h5py
import numpy as np
import eosfast
from eosfast.executors import CudaExecutor
from eosfast.kernels.cuda import device_name, missing
from eosfast.store.layouts import GRID_DTYPES

cases = json.loads(sys.argv[1])
out_dir = sys.argv[2]

def differ(a, b):
    a, b = np.asarray(a), np.asarray(b)
    same = a == b
    if a.dtype.kind == "f":
        same |= np.isnan(a) & np.isnan(b)
    return int(np.count_nonzero(~same))

report = {"missing": missing(), "device": device_name(), "models": {}}
for model, etas in cases.items():
    kw = dict(res=9, x_range=(-1, 3), y_range=(-1, 3), eta=etas, steps=120, tile=(5, 7))
    cpu = eosfast.grid(model, **kw)
    # 100-point batches: two tiles a launch, every slot reused several times
    gpu = eosfast.grid(model, executor=CudaExecutor(threads=2, batch_points=100), **kw)
    axis = cpu.x0 == 0.0
    report["models"][model] = {
        "differ": {n: differ(getattr(cpu, n), getattr(gpu, n)) for n in GRID_DTYPES},
        "status": sorted(set(cpu.status.ravel().tolist())),
        "periods": sorted(set(cpu.period.ravel().tolist())),
        "x_axis_status": sorted(set(cpu.status[:, :, axis].ravel().tolist())),
        "x_axis_period": sorted(set(cpu.period[:, :, axis].ravel().tolist())),
    }

# the same file, chunk for chunk, through the writer (tiles larger than a batch too)
kw = dict(res_x=23, res_y=19, x_range=(-1, 3), y_range=(-1, 3), eta=[0.2, 0.55], steps=300,
          tile=(8, 16))
paths = [os.path.join(out_dir, n) for n in ("cpu.h5", "cuda.h5")]
eosfast.grid("zhu4", out=paths[0], **kw)
run = eosfast.grid("zhu4", out=paths[1], backend="cuda", **kw)
chunks = same = 0
with h5py.File(paths[0]) as f, h5py.File(paths[1]) as g:
    for name in GRID_DTYPES:
        a, b = f[name].id, g[name].id
        for i in range(a.get_num_chunks()):
            offset = a.get_chunk_info(i).chunk_offset
            chunks += 1
            same += a.read_direct_chunk(offset) == b.read_direct_chunk(offset)
report["file"] = {"chunks": chunks, "same": same, "summary": run.summary()}

# arbitrary points (what refine computes), in 64-point launches
from eosfast.models import ModelSpec
from eosfast.stoprule import StopRule
from eosfast.tiles import compute_points
rng = np.random.default_rng(5)
x, y = rng.uniform(-1, 3, 40), rng.uniform(-1, 3, 40)
e = np.full(40, 0.3)
rule = StopRule(steps=100)
pts = CudaExecutor(threads=2, batch_points=16).points(ModelSpec("zhu4"), x, y, e, rule)
ref = compute_points("zhu4", x, y, e, rule)
report["points"] = {n: differ(ref[n], pts[n]) for n in GRID_DTYPES}

# the vector case's kernel (eosfast ensemble --backend cuda): starts with every
# outcome, edge inputs, a kick at step 0, 5 or none; and a small ensemble
from eosfast import vector as V
starts = np.column_stack([rng.uniform(0.05, 4, 12), rng.normal(0, 0.3, 12),
                          rng.normal(0, 1, 12), rng.normal(0, 1, 12)])
edge = np.array([[np.nan, 0, 1, 0], [np.inf, 0, 1, 0], [0, 0, 0, 0], [2e3, 0, 0.1, 0],
                 [1, 0, 1, 0], [990.0, 0, 0.001, 0]])
starts = np.vstack([starts, edge])
vec = {"differ": {}, "status": set()}
for kick in (None, 0, 5):
    r = StopRule(steps=150, tol=1e-10)
    c = V.run_plane(*starts.T, 0.2, 7, r, kick_step=kick, kick_factor=1.3)
    g = V.run_plane(*starts.T, 0.2, 7, r, kick_step=kick, kick_factor=1.3, backend="cuda")
    vec["differ"][str(kick)] = {n: differ(c[n], g[n]) for n in c}
    vec["status"] |= set(c["status"].tolist())
vec["status"] = sorted(vec["status"])
a = eosfast.ensemble(10, 0.2, 8, seed=2, steps=120)
b = eosfast.ensemble(10, 0.2, 8, seed=2, steps=120, backend="cuda")
vec["ensemble"] = {n: differ(a.arrays[n], b.arrays[n]) for n in V.FIELDS}
report["vector"] = vec

# the optimizers (issue 19): heavy-ball, Nesterov, per-layer step sizes
opt = {}
for name, how in {"momentum": {"optimizer": "momentum", "beta": 0.5},
                  "nesterov": {"optimizer": "nesterov", "beta": 0.3},
                  "layered": {"eta_x": 0.15, "eta_y": 0.3}}.items():
    for model in ("zhu4", "deg3"):
        kw = dict(res=9, x_range=(-1, 3), y_range=(-1, 3), eta=[0.2, 0.4], steps=120,
                  tile=(5, 7), **how)
        cpu = eosfast.grid(model, **kw)
        gpu = eosfast.grid(model, executor=CudaExecutor(threads=2, batch_points=100), **kw)
        opt[f"{name} {model}"] = {
            "differ": {n: differ(getattr(cpu, n), getattr(gpu, n)) for n in GRID_DTYPES},
            "status": sorted(set(cpu.status.ravel().tolist()))}
# planes over hyperparameters: every point's own step sizes and momentum
for name, how in {"plane eta_x eta_y": {"axes": ("eta_x", "eta_y"), "log": True},
                  "plane eta beta": {"axes": ("eta", "beta"), "optimizer": "nesterov",
                                     "x_range": (0.05, 0.6)}}.items():
    kw = dict(res=11, steps=150, tile=(4, 6), **how)
    cpu = eosfast.grid("zhu4", **kw)
    gpu = eosfast.grid("zhu4", executor=CudaExecutor(threads=2, batch_points=50), **kw)
    opt[name] = {"differ": {n: differ(getattr(cpu, n), getattr(gpu, n)) for n in GRID_DTYPES},
                 "status": sorted(set(cpu.status.ravel().tolist()))}
report["optimizers"] = opt
print("REPORT", json.dumps(report))
"""


@pytest.fixture(scope="module")
def children(tmp_path_factory):
    """The simulator run and the PTX compilation, started together (each takes seconds)."""
    procs = {"sim": _start(_SIM, json.dumps(SIM_CASES), str(tmp_path_factory.mktemp("sim")),
                           env={"NUMBA_ENABLE_CUDASIM": "1"}),
             "ptx": _start(_PTX)}
    return {name: _finish(p) for name, p in procs.items()}


@pytest.fixture(scope="module")
def simulated(children):
    pytest.importorskip("numba_cuda", reason="numba-cuda (extra [cuda]/[test]) not installed")
    rc, out, err = children["sim"]
    assert rc == 0, err[-3000:]
    return _report(out)


def test_simulator_runs_the_backend(simulated):
    assert simulated["missing"] is None
    assert simulated["device"] == "simulator"


@pytest.mark.parametrize("model", sorted(SIM_CASES))
def test_simulated_kernel_matches_cpu_point_for_point(simulated, model):
    r = simulated["models"][model]
    assert r["differ"] == dict.fromkeys(r["differ"], 0)
    # the grid exercised every outcome and a true cycle
    assert {-1, 1, 2} <= set(r["status"])
    assert max(r["periods"]) >= 2
    assert 0 in r["periods"] and 1 in r["periods"]


def test_simulated_points_are_the_cpus(simulated):
    """refine's arbitrary points on the GPU executor: the CPU's, field for field."""
    assert simulated["points"] == {n: 0 for n in simulated["points"]} and simulated["points"]


def test_simulated_optimizers_match_cpu_point_for_point(simulated):
    """Heavy-ball, Nesterov and per-layer step sizes on the GPU: the CPU's, bit for bit."""
    opt = simulated["optimizers"]
    assert len(opt) == 8
    for case, r in opt.items():
        assert r["differ"] == dict.fromkeys(r["differ"], 0), case
        assert {-1, 1} <= set(r["status"]), case


def test_simulated_axes_are_fixed_points(simulated):
    """On x = 0 the zhu4 and deg6 steps vanish: period-1 critical points, not minima."""
    for model in ("zhu4", "deg6"):
        r = simulated["models"][model]
        assert r["x_axis_status"] == [2] and r["x_axis_period"] == [1]


def test_simulated_file_is_the_cpu_file_chunk_for_chunk(simulated):
    f = simulated["file"]
    assert f["chunks"] == 7 * 2 * 3 * 2  # fields x eta x tile rows x tile columns
    assert f["same"] == f["chunks"]
    assert "2x19x23 points" in f["summary"]


# ------------------------------------------------------------------ PTX

_PTX = r"""
import importlib.util, json, re, sys
if importlib.util.find_spec("numba_cuda") is None:
    print("SKIP numba-cuda is not installed"); sys.exit()
from numba.cuda.cudadrv import nvvm
if not nvvm.is_available():
    print("SKIP libNVVM (the CUDA toolkit's compiler) is not installed"); sys.exit()
from eosfast.models import get_model
from eosfast.kernels.cuda import grid_ptx, unsafe_instructions

def ops(ptx):
    return sorted(set(re.findall(r"\b[a-z]+(?:\.[a-z0-9]+)*\.f64\b", ptx)))

report = {}
for name in ("zhu4", "deg3", "deg2", "deg6"):
    m = get_model(name)
    ptx = grid_ptx(m.maps, m.kernels.key)
    report[name] = {"unsafe": unsafe_instructions(ptx), "ops": ops(ptx)}
from eosfast.kernels.cuda_vector import ensemble_ptx
vec = ensemble_ptx()
report["ensemble"] = {"unsafe": unsafe_instructions(vec), "ops": ops(vec)}
m = get_model("zhu4")
from eosfast.optimizer import Optimizer
for how in (Optimizer("momentum", 0.5), Optimizer("nesterov", 0.5), Optimizer(eta_x=0.1)):
    ptx = grid_ptx(m.maps, m.kernels_for(how).key, opt=how.code, layered=how.layered)
    report[f"zhu4 {how.method} {how.layered}"] = {"unsafe": unsafe_instructions(ptx),
                                                  "ops": ops(ptx)}
control = grid_ptx(m.maps, m.kernels.key, contract=True)
report["control"] = {"unsafe": unsafe_instructions(control), "ops": ops(control)}
print("REPORT", json.dumps(report))
"""


@pytest.fixture(scope="module")
def ptx(children):
    rc, out, err = children["ptx"]
    assert rc == 0, err[-3000:]
    skip = [line for line in out.splitlines() if line.startswith("SKIP ")]
    if skip:
        pytest.skip(skip[0][5:])
    return _report(out)


@pytest.mark.parametrize("model", ["zhu4", "deg3", "deg2", "deg6"])
def test_kernel_ptx_has_no_fused_multiply_add(ptx, model):
    r = ptx[model]
    assert r["unsafe"] == []
    # every float64 add, subtract and multiply rounds on its own
    assert {"add.rn.f64", "sub.rn.f64", "mul.rn.f64"} <= set(r["ops"])
    assert not [op for op in r["ops"] if op.startswith(("fma", "mad"))]


@pytest.mark.parametrize("case", ["zhu4 momentum False", "zhu4 nesterov False",
                                  "zhu4 gd True"])
def test_optimizer_kernel_ptx_has_no_fused_multiply_add(ptx, case):
    r = ptx[case]
    assert r["unsafe"] == []
    assert {"add.rn.f64", "sub.rn.f64", "mul.rn.f64"} <= set(r["ops"])


def test_ensemble_kernel_ptx_has_no_fused_multiply_add(ptx):
    r = ptx["ensemble"]
    assert r["unsafe"] == []
    assert {"add.rn.f64", "mul.rn.f64", "sqrt.rn.f64"} <= set(r["ops"])
    assert not [op for op in r["ops"] if op.startswith(("fma", "mad"))]


def test_simulated_ensemble_kernel_is_the_cpus_bit_for_bit(simulated):
    v = simulated["vector"]
    for kick, differ in v["differ"].items():
        assert not any(differ.values()), (kick, differ)
    assert v["status"] == [-1, 0, 1, 2]  # every outcome was compared
    assert not any(v["ensemble"].values()), v["ensemble"]


def test_nvvm_defaults_would_fuse(ptx):
    """The control: NVVM's defaults contract multiply-adds (so the check above can fail)."""
    c = ptx["control"]
    assert any(i.startswith("fma.rn.f64") for i in c["unsafe"])
    assert any(i.startswith(("mul.f64", "add.f64", "sub.f64")) for i in c["unsafe"])


def test_unsafe_instructions_and_the_guard():
    from eosfast.kernels.cuda import check_ptx, unsafe_instructions

    ptx = ("\tmul.rn.f64 \t%fd3, %fd1, %fd2;\n\tfma.rn.f64 \t%fd5, %fd3, %fd4, %fd1;\n"
           "\tadd.f64 \t%fd6, %fd5, %fd1;\n\tadd.s64 \t%rd4, %rd1, %rd2;\n"
           "\tsub.rn.f64 \t%fd7, %fd6, %fd1;\n\tmul.lo.s32 \t%r1, %r2, %r3;\n")
    assert unsafe_instructions(ptx) == ["fma.rn.f64 \t%fd5, %fd3, %fd4, %fd1;",
                                        "add.f64 \t%fd6, %fd5, %fd1;"]
    safe = "\tmul.rn.f64 \t%fd3, %fd1, %fd2;\n\tfma.rn.f64 \t%fd5, %fd3, %fd4, %fd1;\n"
    check_ptx(safe, applied=True)  # a deliberate FMA (libdevice's) is allowed
    with pytest.raises(InvalidArgument, match="-fma=0"):
        check_ptx(safe, applied=False)
    with pytest.raises(InvalidArgument, match="-fma=0"):
        check_ptx(ptx, applied=True)


# ------------------------------------------------------------------ no GPU: one line, exit 2

def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_cli_backend_cuda_without_a_gpu_is_one_line(run_cli, tmp_path):
    """The real command: on a machine without a GPU, one line naming what is missing."""
    out = tmp_path / "g.h5"
    rc, stdout, err = run_cli("grid", "--backend", "cuda", "--res", "16", "--steps", "300",
                              "-o", out, cwd=tmp_path)
    if rc == 0:  # a machine with a GPU: the file is the CPU's
        ref = tmp_path / "cpu.h5"
        assert run_cli("grid", "--res", "16", "--steps", "300", "-o", ref)[0] == 0
        a, b = eosfast.read_grid(out), eosfast.read_grid(ref)
        for name in ("status", "steps", "period", "sharpness", "loss", "x", "y"):
            assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True)
        return
    assert rc == 2
    line = _one_error_line(err)
    assert line.startswith("eosfast: error: --backend cuda: ")
    assert any(what in line for what in ("numba-cuda", "driver", "device", "libNVVM")), line
    assert sorted(os.listdir(tmp_path)) == []  # nothing written, not even a lock


def test_cli_ensemble_backend_cuda_without_a_gpu_is_one_line(run_cli, tmp_path):
    """The ensemble takes --backend too: on a GPU the CPU's file, else one line."""
    args = ["ensemble", "--dim", "20", "--samples", "5000"]
    rc, stdout, err = run_cli(*args, "--backend", "cuda", "-o", tmp_path / "e.h5",
                              cwd=tmp_path)
    if rc == 0:
        assert run_cli(*args, "-o", tmp_path / "cpu.h5")[0] == 0
        assert eosfast.read_frame(tmp_path / "e.h5").equals(
            eosfast.read_frame(tmp_path / "cpu.h5"))
        return
    assert rc == 2
    line = _one_error_line(err)
    assert line.startswith("eosfast: error: --backend cuda: "), line
    assert sorted(os.listdir(tmp_path)) == []


def test_cli_backend_cuda_without_numba_cuda(tmp_path):
    """Without the extra: the pip line (numba-cuda hidden from the import system)."""
    code = ("import sys; sys.modules['numba_cuda'] = None\n"
            "from eosfast.cli.main import main; main(sys.argv[1:])")
    rc, _, err = _python(code, "grid", "--backend", "cuda", "--res", "8", "-o", "g.h5",
                         cwd=tmp_path)
    assert rc == 2
    line = _one_error_line(err)
    assert line == ('eosfast: error: --backend cuda: numba-cuda is not installed '
                    '(pip install "eosfast[cuda]")')
    assert os.listdir(tmp_path) == []


def test_backend_argument_errors():
    from eosfast.executors import make_executor

    with pytest.raises(InvalidArgument, match="backend must be one of cpu, cuda") as e:
        eosfast.grid(res=4, backend="gpu")
    assert e.value.name == "backend"
    with pytest.raises(InvalidArgument, match="cannot be combined with scheduler") as e:
        make_executor("local:2", None, "cuda")
    assert e.value.names == ("backend", "scheduler")


# ------------------------------------------------------------------ the portable hypot

def test_hypot_is_the_same_compiled_and_in_python():
    """The CPU kernel (compiled) and the simulator (Python) round hypot alike."""
    from eosfast.kernels.maps import hypot

    rng = np.random.default_rng(7)
    a = rng.standard_normal(2000) * 10.0 ** rng.uniform(-300, 300, 2000)
    b = a * 10.0 ** rng.uniform(-20, 2, 2000) * rng.choice([-1, 1], 2000)
    for u, v in zip(a, b, strict=True):
        assert hypot(u, v) == hypot.py_func(float(u), float(v))


def test_hypot_accuracy_and_edges():
    mpmath = pytest.importorskip("mpmath")
    from eosfast.kernels.maps import hypot

    rng = np.random.default_rng(3)
    mpmath.mp.prec = 200
    worst = 0.0
    for _ in range(3000):
        u = float(rng.standard_normal() * 10.0 ** rng.uniform(-320, 305))
        v = float(u * 10.0 ** rng.uniform(-18, 1))
        exact = mpmath.sqrt(mpmath.mpf(u) ** 2 + mpmath.mpf(v) ** 2)
        if exact == 0:
            continue
        ulp = math.ulp(float(exact))
        worst = max(worst, float(abs(mpmath.mpf(hypot(u, v)) - exact) / ulp))
    assert worst <= 1.1  # one rounding in the sum, halved by the root, plus the root's
    assert hypot(3.0, -4.0) == 5.0 and hypot(0.0, 0.0) == 0.0
    assert hypot(-1e308, 1e308) == pytest.approx(math.sqrt(2) * 1e308, rel=1e-15)
    assert hypot(3e-320, 4e-320) == pytest.approx(5e-320, rel=1e-3)  # subnormal
    assert hypot(math.inf, math.nan) == math.inf and hypot(math.nan, -math.inf) == math.inf
    assert math.isnan(hypot(math.nan, 1.0))


def test_kernel_outputs_are_the_grid_files_fields():
    """The GPU kernel writes what a grid file stores, name for name, dtype for dtype."""
    from eosfast.kernels.cuda import OUTPUTS
    from eosfast.store.layouts import GRID_DTYPES

    assert list(OUTPUTS) == list(GRID_DTYPES)
    assert {k: np.dtype(v) for k, v in OUTPUTS.items()} == dict(GRID_DTYPES)
