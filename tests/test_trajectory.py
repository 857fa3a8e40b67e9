"""eosfast.trajectory: the recorded run, the paper's (a, b) and the parabola law."""

import math
import sys

import h5py
import numpy as np
import pytest

import naive
from eosfast.errors import EosfastError
from eosfast.measures import eos_minimum
from eosfast.stoprule import StopRule
from eosfast.tiles import compute_points
from eosfast.trajectory import parabola_b, read_trajectory, reparametrise, trajectory


def grid_point(model, x0, y0, eta, cap, tol=1e-12, R=1e3):
    """The grid kernel on one point: (status, steps, x, y)."""
    out = compute_points(model, np.array([x0]), np.array([y0]), np.array([eta]),
                         StopRule(cap, tol, R))
    return int(out["status"][0]), int(out["steps"][0]), float(out["x"][0]), float(out["y"][0])


@pytest.mark.parametrize("model", ["zhu4", "deg3", "deg2", "deg6"])
def test_states_match_the_plain_python_map_bit_for_bit(model):
    t = trajectory(model, 1.3, 0.6, eta=0.11, steps=300)
    ref = naive.trajectory(model, 1.3, 0.6, 0.11, 300)
    assert len(t) == len(ref)
    assert np.array_equal(t.x, [p[0] for p in ref])
    assert np.array_equal(t.y, [p[1] for p in ref])
    for k in (0, 1, 7, 300):
        w = naive.weights(model, t.x[k], t.y[k])
        assert t.loss[k] == pytest.approx(naive.network_loss(model, w), rel=1e-9, abs=1e-28)
        assert t.sharpness[k] == pytest.approx(naive.numpy_sharpness(model, t.x[k], t.y[k]),
                                               rel=1e-9)


@pytest.mark.parametrize("model,x0,y0,eta", [
    ("zhu4", 2.5, 0.35, 0.2),      # edge of stability, converges
    ("zhu4", 3.25, 0.3, 0.2),      # fractal region of Fig. 7a
    ("zhu4", 3.5, 0.5, 0.2),       # diverges
    ("deg2", 2.3, 0.44, 0.2),
    ("deg3", 1.5, 0.9, 0.15),
])
def test_trajectory_reaches_the_grid_kernels_final_state(model, x0, y0, eta):
    """The same map: after the grid's stopping step the trajectory holds the grid's state."""
    status, steps, gx, gy = grid_point(model, x0, y0, eta, 20000)
    t = trajectory(model, x0, y0, eta=eta, steps=max(steps, 1))
    if status == -1:
        assert t.diverged and len(t) == steps + 1
        assert not (abs(t.x[-1]) <= 1e3 and abs(t.y[-1]) <= 1e3)
        assert np.isnan(gx)
    else:
        assert not t.diverged
        assert t.x[steps] == gx and t.y[steps] == gy


def test_divergence_stops_early_and_only_then():
    t = trajectory("zhu4", 3.5, 0.5, eta=0.2, steps=1000)
    assert t.diverged and len(t) < 1001
    assert np.all(np.abs(t.x[:-1]) <= 1e3) and np.all(np.abs(t.y[:-1]) <= 1e3)
    # converged runs keep stepping to T
    c = trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=5000)
    assert not c.diverged and len(c) == 5001
    # an escaped start stops at step 0
    n = trajectory("zhu4", 2e3, 0.5, eta=0.2, steps=10)
    assert n.diverged and len(n) == 1


def test_reparametrisation():
    eta = 0.2
    x, y = eos_minimum(eta)  # (2.18890, 0.456850), math.md s. 2
    a, b = reparametrise(x, y, eta)
    assert abs(a) < 1e-12 and abs(b) < 1e-12
    a, b = reparametrise([0.4, 2.0], [0.5, 0.5], eta)  # x < y: undefined
    assert np.isnan(a[0]) and np.isnan(b[0]) and np.isfinite(a[1])
    assert b[1] == 0.0
    a, b = reparametrise(2.0, 0.5, 0.6)  # no EoS minimum for eta >= 1/2
    assert np.isnan(a) and np.isnan(b)
    assert np.isnan(trajectory("deg3", 2, 0.5, eta=0.2, steps=3).a).all()
    # parabola vertex
    k = math.sqrt(0.01)
    assert parabola_b(-k**3 / 8, 0.01) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(parabola_b(-k**3, 0.01))


def _scaled(t):
    k = t.kappa
    return t.a / k**3, t.b / k**2


@pytest.mark.parametrize("x0,y0", [(10.5, 0.1), (11.0, 0.095)])
def test_small_eta_run_follows_the_parabola_and_ends_in_the_theorems_interval(x0, y0):
    """Paper s. 3: at eta = 0.01 the run rides b^2 = a kappa/2 + kappa^4/16 while b is
    visible, and its final a lies in (-5/3 kappa^3, -1/10 kappa^3)."""
    eta = 0.01
    t = trajectory("zhu4", x0, y0, eta=eta, steps=300_000)
    A, B = _scaled(t)
    visible = np.abs(B) > 0.1
    visible[: 60_000] = False  # after the first approach to the curve
    assert visible.sum() > 10_000
    rel = np.abs(B[visible] ** 2 - (A[visible] / 2 + 1 / 16)) / B[visible] ** 2
    assert np.median(rel) < 0.03
    assert np.percentile(rel, 90) < 0.1
    assert -5 / 3 < A[-1] < -1 / 10
    assert A[-1] == pytest.approx(-1 / 8, abs=0.01)  # the vertex
    assert 2 / eta - 20 * eta / 3 < t.sharpness[-1] < 2 / eta


def test_parabola_is_a_small_eta_law():
    """At eta = 0.2 the same law is loose (kappa = 0.45 is not small)."""
    t = trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=3000)
    A, B = _scaled(t)
    vis = np.abs(B) > 0.1
    rel = np.abs(B[vis] ** 2 - (A[vis] / 2 + 1 / 16)) / B[vis] ** 2
    assert np.median(rel) > 0.1
    assert -5 / 3 < A[-1] < -1 / 10


def test_chaotic_start_then_convergence_near_the_eos_minimum():
    """Fig. 7b: eta = 0.01 from (12.5, 0.05) oscillates chaotically, then converges next to
    the EoS minimum (9.9995, 0.100005)."""
    t = trajectory("zhu4", 12.5, 0.05, eta=0.01, steps=250_000)
    assert np.abs(t.b[:10_000]).max() > 0.3
    assert t.x[-1] == pytest.approx(9.9995, abs=0.01)
    assert t.y[-1] == pytest.approx(0.100005, abs=1e-3)
    assert -5 / 3 < t.a[-1] / t.kappa**3 < -1 / 10


def test_hdf5_file(tmp_path):
    path = tmp_path / "t.h5"
    t = trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=500, out=path)
    with h5py.File(path) as f:
        assert f.attrs["kind"] == "eosfast.trajectory"
        assert f["step"][:].tolist() == list(range(501))
        for name in ("x", "y", "loss", "sharpness", "a", "b"):
            assert f[name].dtype == np.float64 and f[name].shape == (501,)
            assert f[name].dims[0][0].name == "/step"
        assert f.attrs["model"] == "zhu4" and f.attrs["eta"] == 0.2
    r = read_trajectory(path)
    assert np.array_equal(r.x, t.x) and np.array_equal(r.b, t.b, equal_nan=True)
    with pytest.raises(EosfastError, match="exists"):
        trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=5, out=path)
    trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=5, out=path, force=True)
    assert len(read_trajectory(path)) == 6
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_hdf5_file_opens_in_xarray(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    path = tmp_path / "t.h5"
    trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=50, out=path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["sharpness"].dims == ("step",) and ds.sizes["step"] == 51


@pytest.mark.parametrize("kw", [{"eta": -1}, {"eta": math.nan}, {"steps": -3}, {"x0": math.inf},
                                {"steps": 2.5}, {"x0": "a"}, {"model": "nope"}])
def test_bad_input(kw):
    args = {"model": "zhu4", "x0": 2.5, "y0": 0.35, "eta": 0.2, "steps": 10} | kw
    with pytest.raises(EosfastError):
        trajectory(**args)


def test_cli(tmp_path, capsys):
    from eosfast.cli.main import main

    out = tmp_path / "t.h5"
    argv = ["trajectory", "--x0", "2.5", "--y0", "0.35", "--eta", "0.2", "--steps", "800",
            "-o", str(out)]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "sharpness=" in lines[0]
    assert len(read_trajectory(out)) == 801
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists" in err[0]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
