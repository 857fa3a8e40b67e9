"""The deep-network side (paper Fig. 1, Section 6): eosfast.nets, its CLI and figures.

References: dense Hessians from ``jax.hessian`` on networks small enough to
form them, the zhu4 closed forms (math.md s. 1-2, ``naive.network_sharpness``),
plain NumPy GD for zhu4, and synthetic trajectories with a known parabola.
"""

from __future__ import annotations

import math
import subprocess
import sys

import h5py
import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("sklearn")

import naive  # noqa: E402
from eosfast import EosfastError, nets  # noqa: E402
from eosfast.nets import archs, backend, engine, runner  # noqa: E402


def _jnp():
    return backend.jax_module().numpy


def _tiny_mse(act, seed=0):
    """A 4-5-5-1 network with biases (61 weights) through nets' own loss builder."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((7, 4))
    y = np.sign(rng.standard_normal(7))
    loss = archs._mse_loss((4, 5, 5, 1), True, act, x, y)()
    w = rng.standard_normal(4 * 5 + 5 + 5 * 5 + 5 + 5 + 1)
    return loss, w


# ------------------------------------------------------------------ sharpness


@pytest.mark.parametrize("act", ["elu", "relu", None])
@pytest.mark.parametrize("m", [61, 30])
def test_lanczos_matches_dense_hessian(act, m):
    jax = backend.jax_module()
    loss, w = _tiny_mse(act)
    dense = np.linalg.eigvalsh(np.asarray(jax.hessian(loss)(_jnp().asarray(w))))
    eng = engine.Engine(loss, w.size, m, seed=3)
    theta, u, res = (np.asarray(a) for a in jax.jit(eng.top_eig)(w, eng.Z[0], eng.Z))
    assert theta == pytest.approx(dense[-1], rel=1e-9, abs=1e-10)
    assert abs(np.linalg.norm(u) - 1.0) < 1e-10
    assert res < 1e-6 * abs(dense[-1])


def test_lanczos_breakdown_restarts():
    """A rank-1 Hessian exhausts the Krylov space after one step: no NaN, exact answer."""
    jax = backend.jax_module()
    jnp = _jnp()
    a = np.arange(1.0, 11.0)
    eng = engine.Engine(lambda w: 0.5 * jnp.dot(jnp.asarray(a), w) ** 2, 10, 10, seed=0)
    theta, u, res = jax.jit(eng.top_eig)(np.zeros(10), eng.Z[0], eng.Z)
    assert float(theta) == pytest.approx(a @ a, rel=1e-12)
    assert abs(abs(float(np.asarray(u) @ a)) / np.linalg.norm(a) - 1.0) < 1e-12
    eng0 = engine.Engine(lambda w: 0.0 * jnp.sum(w), 10, 10, seed=0)   # H = 0
    theta0, _, _ = jax.jit(eng0.top_eig)(np.zeros(10), eng0.Z[0], eng0.Z)
    assert float(theta0) == 0.0


@pytest.mark.parametrize("x", [1.0, 1.7, 2.1889, 3.0, 10.0])
def test_scalar4_sharpness_on_minima(x):
    """On x y = 1 the zhu4 network's sharpness is 2 (x^2 + y^2) (math.md s. 2)."""
    jax = backend.jax_module()
    prob = archs.make_problem("scalar4", 0, "elu", 50, (0, 1), (4, 0.1), (x, 1.0 / x))
    eng = engine.Engine(prob.make_loss(), 4, 20, seed=0)
    theta = float(jax.jit(eng.top_eig)(prob.w0, eng.Z[0], eng.Z)[0])
    assert theta == pytest.approx(2.0 * (x * x + 1.0 / (x * x)), rel=1e-11)


@pytest.mark.parametrize("xy", [(0.5, 0.1), (2.5, 0.35), (1.2, 0.9), (3.0, -0.4)])
def test_scalar4_sharpness_off_minima(xy):
    """Anywhere, against the closed-form 4x4 Hessian (math.md s. 1) in mpmath."""
    jax = backend.jax_module()
    x, y = xy
    prob = archs.make_problem("scalar4", 0, "elu", 50, (0, 1), (4, 0.1), (x, y))
    eng = engine.Engine(prob.make_loss(), 4, 20, seed=0)
    theta = float(jax.jit(eng.top_eig)(prob.w0, eng.Z[0], eng.Z)[0])
    assert theta == pytest.approx(naive.network_sharpness("zhu4", x, y), rel=1e-11)
    if xy == (0.5, 0.1):
        assert theta == pytest.approx(0.249375, rel=1e-12)   # math.md s. 2's example


# ---------------------------------------------------------------- runs, targets


def test_scalar4_run_matches_numpy_gd_and_collects_iterates():
    """The runner's GD and its late-iterate bookkeeping against plain NumPy GD."""
    eta, steps, window, every = 0.2, 57, 23, 10
    s = runner.setup("scalar4", [eta], steps, every, 0, "elu", 50, (0, 1), (4.0, 0.1),
                     (2.5, 0.35), 20, 1e6)
    r = runner.drive(s.engine, s.problem.w0, s.eta, s.steps, s.every, 1e6,
                     collect_last=window)
    step, loss, div, wf, its = r.step, r.loss, r.diverged, r.w_final, r.iterates
    w = [2.5, 0.35, 2.5, 0.35]
    ref = [list(w)]
    for _ in range(steps):
        w = naive.network_step("zhu4", w, eta)
        ref.append(list(w))
    ref = np.array(ref)
    assert step.tolist() == [0, 10, 20, 30, 40, 50, 57]
    np.testing.assert_allclose(its[0], ref[steps - window:], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(wf[0], ref[-1], rtol=1e-12)
    np.testing.assert_allclose(loss[0], [naive.network_loss("zhu4", ref[t]) for t in step],
                               rtol=1e-10, atol=1e-300)
    assert not div[0]


def test_scalar4_adaptivity():
    """zhu4 from (2.5, 0.35): final sharpness in the band (2/eta - 20 eta/3, 2/eta)."""
    r = nets.run_nets("scalar4", [1 / 4, 1 / 5, 1 / 6], steps=600, every=50)
    thr = 2.0 / r.eta
    assert np.all(r.sharpness[:, -1] < thr)
    assert np.all(r.sharpness[:, -1] > thr - 20.0 * r.eta / 3.0)
    # first-order prediction of the parabola's vertex: 2/eta - eta/2
    np.testing.assert_allclose(r.sharpness[:, -1], thr - r.eta / 2, atol=0.06)


def test_mlp5_edge_of_stability_reduced():
    """Reduced Fig. 1a: one step size, 1000 steps (the full run is in the report)."""
    r = nets.run_nets("mlp5", [0.8], steps=1000, every=50)
    assert r.params["n_params"] == 64 * 50 + 50 + 3 * (50 * 50 + 50) + 51
    assert 0.9 <= r.final_ratio[0] <= 1.02
    assert r.loss_drop[0] < 0.1
    assert np.nanmax(r.sharpness_residual / r.sharpness) < 1e-4


def test_linear2_below_threshold_and_divergence():
    """Reduced Fig. 1b, plus a step size that diverges without spoiling the others."""
    r = nets.run_nets("linear2", [0.1, 1.0], steps=600, every=50)
    assert r.final_ratio[0] < 0.8
    assert r.loss_drop[0] < 0.1
    assert r.diverged.tolist() == [False, True]
    assert np.isnan(r.sharpness[1, -1]) and np.isnan(r.loss[1, -1])
    # deterministic: same seed, same numbers (the diverged run's lane included)
    r2 = nets.run_nets("linear2", [0.1], steps=600, every=50)
    np.testing.assert_array_equal(r2.sharpness[0], r.sharpness[0])


def test_linear2_init_factor():
    prob = archs.make_problem("linear2", 5, "elu", 50, (0, 1), (4.0, 0.1), (2.5, 0.35))
    W, v = prob.w0[:640], prob.w0[640:]
    assert prob.w0.size == 650
    assert np.std(W) == pytest.approx(4.0 / 8.0, rel=0.1)          # 4 / sqrt(64)
    assert np.std(v) == pytest.approx(0.1 / math.sqrt(10), rel=0.5)


def test_digits_subset():
    x, y = nets.digits_subset(50, (3, 8))
    assert x.shape == (50, 64) and x.dtype == np.float64
    assert y.tolist() == [1.0] * 25 + [-1.0] * 25
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
    with pytest.raises(EosfastError):
        nets.digits_subset(50, (3, 3))
    with pytest.raises(EosfastError):
        nets.digits_subset(1000, (0, 1))


@pytest.mark.parametrize("kwargs", [
    {"arch": "resnet"}, {"arch": "mlp5", "activation": "tanh"},
    {"arch": "scalar4", "etas": [0.1, -0.2]}, {"arch": "scalar4", "etas": []},
    {"arch": "scalar4", "etas": [float("nan")]}, {"arch": "scalar4", "steps": 0},
    {"arch": "scalar4", "steps": 2.5}, {"arch": "scalar4", "every": -1},
    {"arch": "scalar4", "init": (1.0,)},
])
def test_bad_input(kwargs):
    with pytest.raises(EosfastError):
        nets.run_nets(**kwargs)


def test_import_is_lazy_and_missing_jax_is_a_user_error():
    code = ("import sys, eosfast, eosfast.nets, eosfast.figures; "
            "assert 'jax' not in sys.modules; sys.modules['jax'] = None\n"
            "try:\n    eosfast.nets.run_nets('scalar4', [0.2], 5)\n"
            "except eosfast.EosfastError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install 'eosfast[nets]'" in out


# ------------------------------------------------------------------------ HDF5


def test_hdf5_round_trip(tmp_path):
    path = tmp_path / "n.h5"
    r = nets.run_nets("scalar4", [0.2, 0.25], steps=45, every=10, out=path)
    back = nets.read_nets(path)
    for name in ("eta", "step", "loss", "sharpness", "sharpness_residual", "diverged"):
        np.testing.assert_array_equal(getattr(back, name), getattr(r, name))
    assert back.arch == "scalar4" and back.params == r.params
    assert back.step.tolist() == [0, 10, 20, 30, 40, 45]
    with h5py.File(path, "r") as f:
        assert f["loss"].shape == (2, 6) and f["loss"].dtype == np.float64
        # one attached dimension scale per axis (what xarray/h5netcdf need)
        assert [d[0].name for d in f["sharpness"].dims] == ["/run", "/step"]
        assert f["eta"].dims[0][0].name == "/run"
        assert f.attrs["kind"] == "eosfast.nets" and int(f.attrs["steps"]) == 45
        assert int(f.attrs["every"]) == 10 and f.attrs["arch"] == "scalar4"
    assert list(tmp_path.iterdir()) == [path]          # no .part file left behind
    with pytest.raises(EosfastError, match="exists"):
        nets.run_nets("scalar4", [0.2], steps=5, out=path)
    nets.run_nets("scalar4", [0.2], steps=5, out=path, force=True)
    assert nets.read_nets(path).eta.tolist() == [0.2]
    with pytest.raises(EosfastError):
        nets.read_nets(tmp_path / "missing.h5")


# ------------------------------------------------------------------------- CLI


def test_cli_run_and_errors(run_cli, tmp_path):
    out = tmp_path / "c.h5"
    rc, stdout, stderr = run_cli("nets", "--arch", "scalar4", "--eta", "0.2", "--eta", "0.25",
                                 "--steps", "30", "--every", "10", "-o", out)
    assert rc == 0, stderr
    assert len(stdout.strip().splitlines()) == 1 and "scalar4" in stdout
    assert nets.read_nets(out).eta.tolist() == [0.2, 0.25]
    for args in (["--arch", "bogus"], ["--arch", "scalar4", "--eta", "-1", "-o", tmp_path / "x"],
                 ["--arch", "scalar4", "--steps", "5", "-o", out],        # exists, no --force
                 ["--arch", "scalar4", "--steps", "0", "-o", tmp_path / "y"]):
        rc, stdout, stderr = run_cli("nets", *args)
        assert rc == 2, (args, stderr)
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


# ------------------------------------------------------------------- Section 6


def test_pca_parabola_on_a_known_parabola():
    """A period-2 orbit on drift = 3 osc^2 hidden in 500 dimensions."""
    rng = np.random.default_rng(1)
    t = np.arange(400)
    amp = 0.5 * np.exp(-t / 300.0)
    osc = (-1.0) ** t * amp
    drift = 3.0 * amp**2
    basis, _ = np.linalg.qr(rng.standard_normal((500, 3)))
    X = np.outer(osc, basis[:, 0]) + np.outer(drift, basis[:, 1])
    X += 1e-6 * np.outer(rng.standard_normal(400), basis[:, 2])
    p = nets.pca_parabola(X, top_vector=basis[:, 0])
    assert p.top2_share > 1 - 1e-9
    assert p.r2 > 0.999 and p.residual_rel < 0.02
    assert p.coef[2] == pytest.approx(3.0, rel=0.02)
    assert p.cos_top > 0.999 and p.proj[0, p.osc] > 0
    with pytest.raises(EosfastError):
        nets.pca_parabola(X[:3])


# --------------------------------------------------------------------- figures


def test_figures_quick(tmp_path, monkeypatch):
    """fig1 and fig8 in quick mode: the data behind them, and a PNG each."""
    from eosfast.figures import nets as fn

    seen = {}
    for name in ("data_fig1", "data_fig8"):
        orig = getattr(fn, name)
        monkeypatch.setattr(fn, name, lambda quick, _o=orig, _n=name:
                            seen.setdefault(_n, _o(quick)))
    path = fn.fig1(tmp_path, quick=True)
    d = seen["data_fig1"]
    assert set(d["runs"]) == {"mlp5", "linear2", "scalar4"}
    for arch, r in d["runs"].items():
        assert r.eta.tolist() == list(nets.FIG1[arch]["etas"])
        assert np.all(np.isfinite(r.sharpness)) and np.all(np.isfinite(r.loss))
        assert np.all(r.loss_drop < 0.1)
    fig = fn.draw_fig1(d)
    dashed = [ln.get_ydata()[0] for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "--"]
    np.testing.assert_allclose(sorted(dashed), sorted(2 / np.array(nets.FIG1["mlp5"]["etas"])))
    assert path == tmp_path / "fig1.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000

    path8 = fn.fig8(tmp_path, quick=True)
    p, s = seen["data_fig8"]["mlp5"], seen["data_fig8"]["scalar4"]
    # reduced Section 6: mlp5 at eta = 0.5, iterates of steps 1000..1500
    assert p.step.tolist() == list(range(1000, 1501)) and p.proj.shape == (501, 2)
    assert p.top2_share > 0.99
    assert p.r2 > 0.95 and p.coef[2] > 0
    assert p.cos_top > 0.99
    assert s.top2_share == pytest.approx(1.0, abs=1e-12) and s.r2 > 0.99
    assert path8.stat().st_size > 20_000
