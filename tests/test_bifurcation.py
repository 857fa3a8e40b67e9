"""eosfast.bifurcation: periods, Lyapunov exponents, the cascade and the file."""

import math

import h5py
import mpmath
import numpy as np
import pytest

import naive
from eosfast import get_model
from eosfast.bifurcation import bifurcation, read_bifurcation
from eosfast.cycles import period_doublings
from eosfast.errors import EosfastError
from eosfast.lyapunov import lyapunov_exponents, lyapunov_spectrum

X0, Y0 = 1.2, 0.9  # a generic init; for eta > 1/2 it settles on the balanced line


def balanced_cycle(eta, guess):
    """The 2-cycle of the balanced-line map w -> w + eta (1 - w^4) w^3, by mpmath."""
    g = naive.balanced_map
    with mpmath.workdps(30):
        w1, w2 = mpmath.findroot([lambda a, b: g(a, eta) - b, lambda a, b: g(b, eta) - a], guess)
        return float(w1), float(w2)


def test_orbit_equals_the_plain_python_orbit():
    r = bifurcation(eta=[0.3, 0.55, 0.8], burn=3000, record=256, observable="x")
    for i, e in enumerate(r.eta):
        k, states = naive.orbit_period("zhu4", X0, Y0, float(e), 3000, 256)
        assert np.array_equal(r.orbit[i], [s[0] for s in states])
        assert r.period[i] == k


@pytest.mark.parametrize("eta", [0.2, 0.35, 0.45, 0.49])
def test_below_one_half_converges(eta):
    """Minima of sharpness < 2/eta exist for eta < 1/2 (math.md s. 2): period 1."""
    r = bifurcation(eta=[eta], burn=20000, record=512)
    assert r.period[0] == 1
    assert np.allclose(r.orbit[0], 1.0, atol=1e-9)


@pytest.mark.parametrize("eta", [0.51, 0.55, 0.6])
def test_just_above_one_half_is_the_balanced_two_cycle(eta):
    """No minimum is stable above 1/2; the attractor is the 2-cycle of the balanced line,
    found here independently with mpmath."""
    w1, w2 = balanced_cycle(eta, (0.95, 1.03))
    r = bifurcation(eta=[eta], burn=20000, record=512, observable="x")
    assert r.period[0] == 2
    got = sorted(set(np.round(np.abs(r.orbit[0]), 9)))
    assert got == pytest.approx(sorted([abs(w1), abs(w2)]), abs=1e-8)
    assert r.lyapunov[0] < 0


def test_period_four_and_the_first_doublings():
    """eta_2 (2 -> 4) solved on the balanced line with mpmath: g(w1) = w2, g(w2) = w1,
    g'(w1) g'(w2) = -1; the kernel's periods change there and period_doublings finds it."""
    g = naive.balanced_map

    def dg(w, e):
        return 1 + e * (3 * w**2 - 7 * w**6)

    with mpmath.workdps(30):
        sol = mpmath.findroot([lambda a, b, e: g(a, e) - b, lambda a, b, e: g(b, e) - a,
                               lambda a, b, e: dg(a, e) * dg(b, e) + 1], (0.89, 1.05, 0.62))
    eta2 = float(sol[2])
    r = bifurcation(eta=[eta2 - 0.003, eta2 + 0.003], burn=40000, record=1024)
    assert r.period.tolist() == [2, 4]
    d = period_doublings(levels=4, coarse=bifurcation(eta_range=(0.45, 0.99), eta_res=800,
                                                      burn=5000, record=512, observable="x"))
    assert d.points[0] == 0.5 and d.periods[:3] == [2, 4, 8]
    assert d.points[1] == pytest.approx(eta2, abs=1e-10)
    assert len(d.ratios) >= 2
    assert d.ratios[1] == pytest.approx(4.6692, abs=0.1)


def test_lyapunov_sign_in_windows_and_chaos():
    etas = [0.55, 0.64, 0.75, 0.8, 0.9]
    r = bifurcation(eta=etas, burn=20000, record=8192)
    per, lam = dict(zip(etas, r.period, strict=True)), dict(zip(etas, r.lyapunov, strict=True))
    assert per[0.55] == 2 and per[0.64] == 4 and per[0.75] == 3  # period-3 window
    for e in (0.55, 0.64, 0.75):
        assert lam[e] < -1e-3
    for e in (0.8, 0.9):
        assert per[e] == 0 and lam[e] > 0.2


def test_kernel_exponent_equals_qr_on_the_same_orbit():
    """The kernel's renormalised tangent vector against the full QR method, on Jacobians
    evaluated along the same states (and these Jacobians against finite differences)."""
    m = get_model("zhu4")
    eta, burn, n = 0.8, 5000, 4000
    r = bifurcation(eta=[eta], burn=burn, record=n, observable="x")
    states = naive.trajectory("zhu4", X0, Y0, eta, burn + n)
    xs = np.array([s[0] for s in states[burn:burn + n]])
    ys = np.array([s[1] for s in states[burn:burn + n]])
    J = np.empty((n, 2, 2))
    m.kernels.jacobian(xs, ys, eta, J)
    assert J[17] == pytest.approx(np.array(naive.jacobian_fd("zhu4", xs[17], ys[17], eta)),
                                  rel=1e-6, abs=1e-8)
    # start QR's first column where the kernel's tangent vector starts, (0.6, 0.8)
    J[0] = J[0] @ np.array([[0.6, -0.8], [0.8, 0.6]])
    lam = lyapunov_spectrum(J)
    assert r.lyapunov[0] == pytest.approx(lam[0], rel=1e-9)
    assert lam[0] > 0.3


def test_logistic_map_at_r4_has_exponent_ln2():
    lam = lyapunov_exponents(lambda x: 4 * x * (1 - x), lambda x: 4 - 8 * x, 0.1234, 200_000,
                             burn=100)
    assert lam.shape == (1,)
    assert lam[0] == pytest.approx(math.log(2), abs=0.01)


def test_henon_map_spectrum():
    """Henon (a, b) = (1.4, 0.3): lambda_1 = 0.419 (published), lambda_1 + lambda_2 = ln b."""
    a, b = 1.4, 0.3

    def f(v):
        return np.array([1 - a * v[0] ** 2 + v[1], b * v[0]])

    def jac(v):
        return np.array([[-2 * a * v[0], 1.0], [b, 0.0]])

    lam = lyapunov_exponents(f, jac, np.array([0.1, 0.1]), 100_000, burn=1000)
    assert lam[0] == pytest.approx(0.419, abs=0.01)
    assert lam.sum() == pytest.approx(math.log(b), abs=1e-9)
    assert lyapunov_spectrum(np.tile(np.diag([2.0, 0.5]), (10, 1, 1))) == \
        pytest.approx([math.log(2), -math.log(2)])


def test_divergence():
    r = bifurcation(eta=[0.2, 0.3], x0=5.0, y0=5.0, burn=100, record=16)
    assert r.period.tolist() == [-1, -1]
    assert np.isnan(r.orbit).all() and np.isnan(r.lyapunov).all()
    # escaping inside the recorded window keeps the samples before the escape
    r = bifurcation(eta=[1.3], burn=0, record=64, observable="x")
    assert r.period[0] == -1 and np.isfinite(r.orbit[0, 0]) and np.isnan(r.orbit[0, -1])


def test_threads_and_blocks_do_not_change_results():
    kw = {"eta_range": (0.45, 0.99), "eta_res": 333, "burn": 2000, "record": 300}
    a = bifurcation(**kw, threads=1)
    b = bifurcation(**kw, threads=2)
    # the same step sizes shifted by 5 against the kernel's blocks of lanes
    c = bifurcation(eta=a.eta[5:], burn=2000, record=300)
    assert np.array_equal(a.orbit, b.orbit, equal_nan=True)
    assert np.array_equal(a.lyapunov, b.lyapunov, equal_nan=True)
    assert np.array_equal(a.period, b.period)
    assert np.array_equal(a.orbit[5:], c.orbit, equal_nan=True)
    assert np.array_equal(a.lyapunov[5:], c.lyapunov, equal_nan=True)


@pytest.mark.parametrize("obs", ["P", "x", "y", "loss", "sharpness", "b"])
def test_observables(obs):
    r = bifurcation(eta=[0.3, 0.6], burn=5000, record=64, observable=obs)
    x = bifurcation(eta=[0.3, 0.6], burn=5000, record=64, observable="x").orbit
    y = bifurcation(eta=[0.3, 0.6], burn=5000, record=64, observable="y").orbit
    expect = {"P": x**2 * y**2, "x": x, "y": y, "loss": 0.5 * (1 - x**2 * y**2) ** 2,
              "b": x * y - 1}
    if obs == "sharpness":
        assert r.orbit[1, 5] == pytest.approx(naive.numpy_sharpness("zhu4", x[1, 5], y[1, 5]),
                                              rel=1e-9)
    else:
        assert np.allclose(r.orbit, expect[obs], rtol=1e-12, atol=1e-15)


def test_hdf5_file(tmp_path):
    path = tmp_path / "b.h5"
    r = bifurcation(eta_range=(0.45, 0.9), eta_res=40, burn=1000, record=128, out=path)
    with h5py.File(path) as f:
        assert f.attrs["kind"] == "eosfast.bifurcation"
        assert f["orbit"].shape == (40, 128) and f["orbit"].dtype == np.float64
        assert f["period"].dtype == np.int16 and f["lyapunov"].dtype == np.float64
        assert f["orbit"].dims[0][0].name == "/eta" and f["orbit"].dims[1][0].name == "/sample"
        assert f.attrs["observable"] == "P" and f.attrs["burn"] == 1000
    back = read_bifurcation(path)
    assert np.array_equal(back.orbit, r.orbit, equal_nan=True)
    assert np.array_equal(back.period, r.period)
    with pytest.raises(EosfastError, match="exists"):
        bifurcation(eta=[0.3], burn=1, record=2, out=path)
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["orbit"].dims == ("eta", "sample")


@pytest.mark.parametrize("kw", [{"observable": "z"}, {"record": 0}, {"eta": [-0.1]},
                                {"eta_res": None}, {"burn": -1}, {"threads": 0}])
def test_bad_input(kw):
    with pytest.raises(EosfastError):
        bifurcation(**({"eta_range": (0.4, 0.5), "eta_res": 3, "burn": 10, "record": 4} | kw))


def test_cli(tmp_path, capsys):
    from eosfast.cli.main import main

    out = tmp_path / "b.h5"
    with pytest.raises(SystemExit) as e:
        main(["bifurcation", "--eta-range", "0.45", "0.99", "--eta-res", "50", "--burn",
              "2000", "--record", "64", "--observable", "x", "-o", str(out)])
    assert e.value.code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "50 eta" in lines[0]
    assert read_bifurcation(out).observable == "x"
    with pytest.raises(SystemExit) as e:
        main(["bifurcation", "--observable", "nope", "-o", str(tmp_path / "c.h5")])
    assert e.value.code == 2
