"""The compiled map, loss and sharpness of every model against independent references."""

import math

import mpmath
import numpy as np
import pytest

import eosfast
import naive
from eosfast.stoprule import StopRule
from eosfast.tiles import compute_tile

MODELS = list(eosfast.NETWORKS)


def test_registry_matches_reference():
    assert set(MODELS) == set(naive.MODELS)
    assert set(MODELS) <= set(eosfast.MODELS)
    for name, m in eosfast.NETWORKS.items():
        p, q, s, order = naive.MODELS[name]
        assert (m.p, m.q, m.scale) == (p, q, s)
        assert "".join(m.pattern) == order


@pytest.mark.parametrize("model", MODELS)
def test_kernel_matches_plain_python_on_random_points(model):
    """Same status, same step, bit-identical final point as plain-Python GD."""
    rng = np.random.default_rng(7)
    x0 = rng.uniform(-0.5, 4.0, 23)
    y0 = rng.uniform(-0.5, 4.0, 29)
    cap = 400
    out = compute_tile(model, x0, y0, 0.2, StopRule(cap, 1e-12, 1e3))
    for j, y in enumerate(y0):
        for i, x in enumerate(x0):
            st, t, xf, yf = naive.run_point(float(x), float(y), 0.2, model, cap, 1e-12, 1e3)
            got = int(out["status"][j, i])
            assert out["steps"][j, i] == t
            if st == 0:
                assert got in (0, 2)
            else:
                assert got == st
            if st >= 0:
                assert out["x"][j, i] == xf and out["y"][j, i] == yf
            else:
                assert math.isnan(out["x"][j, i]) and math.isnan(out["sharpness"][j, i])


@pytest.mark.parametrize("model", MODELS)
def test_reduced_map_equals_full_network_gd(model):
    """eosfast's 2-variable map is GD on all k weights with the coupling preserved."""
    m = eosfast.get_model(model)
    t = eosfast.trajectory(model, 1.3, 0.6, eta=0.05, steps=20)
    w = naive.weights(model, 1.3, 0.6)
    for k in range(1, 21):
        w = naive.network_step(model, w, 0.05)
        assert np.allclose(w, m.weights(t.x[k], t.y[k]), rtol=1e-13, atol=0)


@pytest.mark.parametrize("model", MODELS)
def test_sharpness_and_loss_against_mpmath(model):
    """Top eigenvalue of the full k x k network Hessian, to 1e-12 relative."""
    rng = np.random.default_rng(3)
    pts = rng.uniform(-2.5, 2.5, size=(40, 2))
    for x, y in pts:
        got = eosfast.sharpness(model, (x, y))
        with mpmath.workdps(40):
            H = mpmath.matrix(naive.network_hessian(model, naive.weights(model, x, y), dps=40))
            ev = mpmath.eigsy(H, eigvals_only=True)
            ref = float(max(ev[i] for i in range(H.rows)))
            scale = float(mpmath.mnorm(H, "F"))
        assert abs(got - ref) <= 1e-12 * max(abs(ref), 1e-3 * scale)
        w = naive.weights(model, x, y)
        assert eosfast.loss(model, (x, y)) == pytest.approx(naive.network_loss(model, w), rel=1e-13)


def test_sharpness_closed_form_at_minima():
    """zhu4 on xy = 1: sharpness 2(x^2 + y^2); deg2: 2(x^2 + y^2) too (math.md s. 1)."""
    for x in (0.3, 1.0, 2.1889, 7.5):
        y = 1.0 / x
        assert eosfast.sharpness("zhu4", (x, y)) == pytest.approx(2 * (x * x + y * y), rel=1e-12)
        assert eosfast.sharpness("deg2", (x, y)) == pytest.approx(2 * (x * x + y * y), rel=1e-12)
    # deg3 minimum: x y^2 = 1, sharpness = 1/x^2 + 2/y^2 = sum of 1/w_i^2
    x = 3.0
    y = 1 / math.sqrt(x)
    assert eosfast.sharpness("deg3", (x, y)) == pytest.approx(1 / x**2 + 2 / y**2, rel=1e-12)


def test_network_hessian_off_minimum_matches_math_md():
    """math.md s. 2: at (0.5, 0.1) the zhu4 network sharpness is 0.249375 = x^2 (1 - u^2)."""
    assert eosfast.sharpness("zhu4", (0.5, 0.1)) == pytest.approx(0.249375, rel=1e-13)
    # ... while the reduced 2 x 2 Hessian of f = 1/4 (1 - x^2 y^2)^2 tops at 0.0262
    x, y = 0.5, 0.1
    u = x * y
    red = np.array([[y * y * (3 * u * u - 1), 2 * u * (2 * u * u - 1)],
                    [2 * u * (2 * u * u - 1), x * x * (3 * u * u - 1)]])
    assert np.linalg.eigvalsh(red)[-1] == pytest.approx(0.0262, abs=5e-5)


def test_sharpness_accepts_full_weight_vectors():
    w = [0.7, 1.9, -0.4, 1.1]  # uncoupled zhu4 weights: dense Hessian route
    ref = naive.numpy_sharpness_weights("zhu4", w)
    assert eosfast.sharpness("zhu4", w) == pytest.approx(ref, rel=1e-12)


def test_eos_minimum_closed_form():
    for eta, (x, y) in {0.01: (9.99950, 0.100005), 0.2: (2.18890, 0.456850)}.items():
        xe, ye = eosfast.eos_minimum(eta)
        assert xe == pytest.approx(x, abs=5e-6) and ye == pytest.approx(y, abs=5e-6)
        assert eosfast.sharpness("zhu4", (xe, ye)) == pytest.approx(2 / eta, rel=1e-12)
    with pytest.raises(eosfast.EosfastError):
        eosfast.eos_minimum(0.6)


def _mp_step(expression: str, params: dict, x: float, y: float, eta: float):
    """One GD step on ``L(x, y)`` with mpmath's own derivatives, at 40 digits."""
    ns = {k: getattr(mpmath, k) for k in ("log", "cosh", "sinh", "tanh", "exp", "sqrt",
                                          "sin", "cos", "atan")}

    def loss(u, v):
        return eval(expression, {"__builtins__": {}}, {**ns, **params, "x": u, "y": v})

    with mpmath.workdps(40):
        gx = mpmath.diff(lambda u: loss(u, mpmath.mpf(y)), mpmath.mpf(x))
        gy = mpmath.diff(lambda v: loss(mpmath.mpf(x), v), mpmath.mpf(y))
        return float(x - eta * gx), float(y - eta * gy)


@pytest.mark.parametrize("name", list(eosfast.MODELS))
def test_every_registered_model_steps_as_its_independent_reference(name):
    """Every model of the registry, however it was added, against a reference of its own:
    the full network's GD in plain Python for the networks, GD on the registered loss
    with mpmath's derivatives for the expressions (first three steps, to 1e-12)."""
    m = eosfast.MODELS[name]
    x0, y0, eta = 1.3, 0.6, 0.05
    t = eosfast.trajectory(name, x0, y0, eta=eta, steps=3)
    if name in eosfast.NETWORKS:
        w = naive.weights(name, x0, y0)
        for k in range(1, 4):
            w = naive.network_step(name, w, eta)
            assert np.allclose(w, m.weights(t.x[k], t.y[k]), rtol=1e-13, atol=0)
        return
    x, y = x0, y0
    for k in range(1, 4):
        x, y = _mp_step(m.expression, dict(m.values), x, y, eta)
        assert t.x[k] == pytest.approx(x, rel=1e-12) and t.y[k] == pytest.approx(y, rel=1e-12)
