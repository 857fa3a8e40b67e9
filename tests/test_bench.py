"""The benchmark's NumPy implementation is the same computation as the kernel."""

import json

import numpy as np
import pytest

import eosfast
from eosfast.bench import numpy_grid
from eosfast.stoprule import StopRule
from eosfast.tiles import compute_tile


@pytest.mark.parametrize("model", list(eosfast.NETWORKS))
def test_numpy_implementation_matches_kernel(model):
    x0 = np.linspace(-0.3, 3.7, 41)
    y0 = np.linspace(0.0, 3.9, 37)
    tile = compute_tile(model, x0, y0, 0.2, StopRule(800, 1e-12, 1e3))
    xs, ys = np.meshgrid(x0, y0)
    status, steps = numpy_grid(xs.ravel(), ys.ravel(), 0.2, model, 800)
    expected = tile["status"].ravel().copy()
    expected[expected == 2] = 0  # NumPy version does no period search
    assert np.array_equal(status, expected)
    assert np.array_equal(steps, tile["steps"].ravel())


def test_bench_command_reports_rates(capsys):
    from eosfast.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["bench", "--res", "48", "--repeat", "1", "--json", "--steps", "300"])
    assert exc.value.code == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("eosfast_1", "eosfast_n", "lanes", "numpy", "speedup_numpy", "thread_scaling",
                "kernel_vs_lanes"):
        assert d[key] > 0
    assert d["points"] == d["numpy_points"] == 48 * 48
    # both sides count the steps actually run: same points, same iterations
    assert d["iterations"] == d["numpy_iterations"]


@pytest.mark.parametrize("model", ["zhu4", "deg3"])
def test_reference_loops_iterate_the_same_map(model):
    """The benchmark's reference loops run eosfast's map: the check-free lane loop ends
    where a trajectory ends after as many steps, and the straightforward loop stops
    where the grid kernel stops."""
    from eosfast.tiles import compute_points
    from eosfast.trajectory import trajectory

    kernels = eosfast.get_model(model).kernels
    rng = np.random.default_rng(2)
    x0 = rng.uniform(0.3, 1.6, 64)
    y0 = rng.uniform(0.3, 1.6, 64)
    eta = np.full(64, 0.05)
    xs, ys = np.empty(64), np.empty(64)
    kernels.reference_lanes(x0, y0, eta, 25, xs, ys)
    for i in (0, 17, 63):
        t = trajectory(model, x0[i], y0[i], 0.05, 25)
        assert (xs[i], ys[i]) == (t.x[-1], t.y[-1])
    x0 = rng.uniform(-0.5, 4.0, 500)
    y0 = rng.uniform(-0.5, 4.0, 500)
    eta = np.full(500, 0.2)
    status, steps = np.empty(500, np.int8), np.empty(500, np.int32)
    kernels.reference_straight(x0, y0, eta, 3000, 1e-12, 1e3, status, steps)
    ref = compute_points(model, x0, y0, eta, StopRule(3000, 1e-12, 1e3))
    assert np.array_equal(steps, ref["steps"])
    stopped = np.isin(ref["status"], (-1, 1))
    assert np.array_equal(status[stopped], ref["status"][stopped])
    assert stopped.sum() > 100 and (status[~stopped] == 0).all()


def test_breakdown_script_accounts_for_the_whole_time():
    # Each part is measured on its own (the per-point part on points that stop
    # at once), so their sum is a check of the model against the grid's own
    # time, not a tautology; the chunk-idle share must be the one computed from
    # the steps by hand.
    import re
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_breakdown.py"
    # 512^2 (a 0.1-second grid): at 256^2 the parts took 0.03 s each and a
    # busy machine's jitter alone broke the check
    p = subprocess.run([sys.executable, str(script), "--res", "512", "--cap", "1000",
                        "--repeat", "3"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    table = p.stdout.split("where the default grid's time goes:")[1]
    parts = [float(v) for v in re.findall(r"^  [+ ]?\s*[a-z].*?(\d+\.\d+) s", table, re.M)]
    m = re.search(r"^  = (\d+\.\d+) s measured in parts; the grid took (\d+\.\d+) s", table,
                  re.M)
    assert len(parts) == 4 and abs(sum(parts) - float(m.group(1))) <= 0.002 + 1e-9
    # the parts, measured apart, explain the grid's time to within half of it
    assert abs(float(m.group(1)) - float(m.group(2))) <= 0.5 * float(m.group(2)) + 0.003
    steps = eosfast.grid(res=512, symmetry=False).steps.astype(np.int64).ravel()
    assert f"{int(steps.sum()):.4g} steps" in p.stdout
    idle = ((steps + 8) // 8 * 8).sum() - steps.sum()
    share = float(re.search(r"\((\d+\.\d+)% of lane-steps", p.stdout).group(1))
    assert share == pytest.approx(100 * idle / ((steps + 8) // 8 * 8).sum(), abs=0.051)


def test_optimizer_benchmark_counts_the_steps_its_grids_ran():
    """``benchmarks/bench_optimizers.py``: its step counts are those of the grids it names."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_optimizers.py"
    p = subprocess.run([sys.executable, str(script), "--res", "48", "--rounds", "1", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    rows = out["grids"]["map"]
    want = eosfast.grid("zhu4", 48, eta=0.2, symmetry=False, optimizer="momentum", beta=0.5)
    assert rows["momentum beta=0.5"]["steps"] == int(want.steps.astype(np.int64).sum())
    assert rows["gd"]["vs_gd"] == 1.0
    capped = eosfast.grid("zhu4", 48, eta=0.1, x_range=(0.8, 1.2), y_range=(0.8, 1.2),
                          steps=1000, tol=1e-300, max_period=1, symmetry=False)
    assert out["grids"]["steps"]["gd"]["steps"] == int(capped.steps.astype(np.int64).sum())
    # the plane and the initial-point grid run every point to the cap
    assert {r["steps"] for r in out["grids"]["plane"].values()} == {48 * 48 * 1000}
