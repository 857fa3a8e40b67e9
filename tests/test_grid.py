"""The grid engine against the paper's theorems, closed forms and invariants."""

import math

import numpy as np
import pytest

import eosfast


@pytest.mark.parametrize("eta", [0.05, 0.1, 0.2, 0.25])
def test_sharpness_concentration_theorem(eta):
    """Theorem 3.1: inits just beyond the EoS minimum end in (2/eta - 20 eta/3, 2/eta)."""
    xe, _ = eosfast.eos_minimum(eta)
    res = []
    for fx in (1.01, 1.03, 1.05):
        x0 = xe * fx
        for b in (-0.02, -0.005, 0.005, 0.02):  # x0 y0 - 1, small and nonzero
            res.append(eosfast.grid("zhu4", res_x=1, res_y=1, x_range=(x0, x0 + 1),
                                    y_range=((1 + b) / x0, (1 + b) / x0 + 1), eta=eta,
                                    steps=60000))
    status = np.array([r.status.item() for r in res])
    sharp = np.array([r.sharpness.item() for r in res])
    assert (status == 1).all()
    assert (sharp > 2 / eta - 20 * eta / 3).all() and (sharp < 2 / eta).all()
    # and (math.md s. 3) close to the parabola's vertex 2/eta - eta/2
    assert np.median(sharp) == pytest.approx(2 / eta - eta / 2, abs=0.2 * eta)


def test_sharpness_adaptivity_from_one_init():
    """From (2.5, 0.35), eta = 1/4, 1/5, 1/6 end just below 8, 10, 12 (math.md s. 3)."""
    for eta in (1 / 4, 1 / 5, 1 / 6):
        r = eosfast.grid("zhu4", res_x=1, res_y=1, x_range=(2.5, 3), y_range=(0.35, 1),
                         eta=eta, steps=20000)
        assert r.status.item() == 1
        assert 2 / eta - 20 * eta / 3 < r.sharpness.item() < 2 / eta


@pytest.mark.parametrize("eta", [0.51, 0.6, 0.75, 0.95])
def test_nothing_converges_above_one_half(eta):
    """No minimum is stable for eta > 1/2: only points that start on xy = 1 converge."""
    r = eosfast.grid("zhu4", 48, x_range=(0.05, 3.0), y_range=(0.05, 3.0), eta=eta,
                     steps=3000)
    conv = r.status == 1
    assert not (conv & (r.steps > 0)).any()


def test_deg2_ends_well_below_threshold_while_zhu4_concentrates():
    """Paper s. 4: degree-2 models end far below 2/eta; zhu4 from the same inits does not."""
    eta = 0.2
    finals = {"deg2": [], "zhu4": []}
    for S in (13, 15, 17, 19):  # initial sharpness on the minimum manifold
        h = S / 2
        x = math.sqrt((h + math.sqrt(h * h - 4)) / 2)
        for b in (0.02, -0.02):
            for model in finals:
                r = eosfast.grid(model, res_x=1, res_y=1, x_range=(x, x + 1),
                                 y_range=((1 + b) / x, (1 + b) / x + 1), eta=eta, steps=20000)
                assert r.status.item() == 1
                finals[model].append(r.sharpness.item())
    deg2, zhu4 = np.array(finals["deg2"]), np.array(finals["zhu4"])
    assert (zhu4 > 2 / eta - 20 * eta / 3).all() and (zhu4 < 2 / eta).all()
    assert (deg2 < 2 / eta - 0.5).all() and np.mean(deg2) < 0.8 * 2 / eta


def test_converged_points_lie_on_minima_with_closed_form_sharpness():
    r = eosfast.grid("zhu4", 64, eta=0.2, steps=5000)
    conv = r.status[0] == 1
    x, y = r.x[0][conv], r.y[0][conv]
    assert conv.sum() > 100
    assert np.abs(1 - (x * y) ** 2).max() < 1e-12
    assert np.allclose(r.sharpness[0][conv], 2 * (x * x + y * y), rtol=1e-9)
    # stability: every converged point has sharpness < 2/eta (or started there)
    started = r.steps[0][conv] == 0
    assert (r.sharpness[0][conv][~started] < 2 / 0.2 + 1e-9).all()


def test_basin_symmetric_under_x_y_swap():
    """zhu4 is symmetric in x and y: the basin over a square is its own transpose."""
    r = eosfast.grid("zhu4", 96, x_range=(0.1, 3.9), y_range=(0.1, 3.9), eta=0.2, steps=3000)
    for name in ("status", "steps", "period"):
        a = getattr(r, name)[0]
        assert np.array_equal(a, a.T)
    for name in ("sharpness", "loss"):
        a = getattr(r, name)[0]
        assert np.array_equal(a, a.T, equal_nan=True)
    assert np.array_equal(r.x[0], r.y[0].T, equal_nan=True)


def test_bit_identical_across_threads_and_tiles():
    kw = dict(res_x=77, res_y=53, eta=[0.2, 0.3], steps=2000)
    a = eosfast.grid("zhu4", threads=1, tile=256, **kw)
    b = eosfast.grid("zhu4", threads=2, tile=(9, 31), **kw)
    c = eosfast.grid("zhu4", threads=2, tile=1, **kw)
    for name in ("status", "steps", "period", "sharpness", "loss", "x", "y"):
        for other in (b, c):
            assert np.array_equal(getattr(a, name), getattr(other, name), equal_nan=True), name


def test_axes_and_periods():
    """Axes are exact fixed points (period 1); just above eta = 1/2, period 2 on x = y."""
    r = eosfast.grid("zhu4", 9, x_range=(0, 2), y_range=(0, 2), eta=0.2, steps=500)
    assert (r.status[0, 0, :] == 2).all() and (r.period[0, 0, :] == 1).all()
    p = eosfast.grid("zhu4", res_x=1, res_y=1, x_range=(1.2, 2), y_range=(1.2, 2), eta=0.55,
                     steps=10000)
    assert p.status.item() == 2 and p.period.item() == 2
    # the period-2 orbit on the balanced line: x' = y' and P oscillates around 1
    x = p.x.item()
    assert p.y.item() == x and x != 1.0


def test_slow_convergence_is_not_called_periodic():
    """At eta = 0.01 convergence takes ~1e5+ steps: at a 20,000 cap it is unresolved (0)."""
    xe, _ = eosfast.eos_minimum(0.01)
    r = eosfast.grid("zhu4", res_x=1, res_y=1, x_range=(1.03 * xe, 2 * xe),
                     y_range=(1.01 / (1.03 * xe), 1), eta=0.01, steps=20000)
    assert r.status.item() == 0 and r.steps.item() == 20000


def test_grid_axes_and_eta_range():
    r = eosfast.grid("deg3", res_x=5, res_y=3, x_range=(-1, 1), y_range=(0, 2),
                     eta_range=(0.1, 0.3), eta_res=3, steps=10)
    assert r.shape == (3, 3, 5)
    assert np.array_equal(r.x0, np.linspace(-1, 1, 5))
    assert np.array_equal(r.y0, np.linspace(0, 2, 3))
    assert np.allclose(r.eta, [0.1, 0.2, 0.3])
    assert r.status.dtype == np.int8 and r.steps.dtype == np.int32
    assert r.period.dtype == np.int16 and r.sharpness.dtype == np.float64


@pytest.mark.parametrize("kwargs, msg", [
    (dict(res=0), "res"),
    (dict(eta=0.0), "eta"),
    (dict(eta=-0.1), "eta"),
    (dict(eta=float("nan")), "eta"),
    (dict(eta=float("inf")), "eta"),
    (dict(x_range=(1, 1)), "x_range"),
    (dict(y_range=(2, 1)), "y_range"),
    (dict(x_range=(0, float("inf"))), "x_range"),
    (dict(steps=0), "steps"),
    (dict(tol=0.0), "tol"),
    (dict(tol=-1.0), "tol"),
    (dict(model="nope"), "model"),
    (dict(res=200_000), "memory"),
])
def test_bad_parameters_raise_clear_errors(kwargs, msg):
    kw = dict(res=8, steps=10) | kwargs
    with pytest.raises(eosfast.EosfastError, match=msg):
        eosfast.grid(**kw)
