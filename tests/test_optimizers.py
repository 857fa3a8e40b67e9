"""Momentum, Nesterov and per-layer step sizes (issue 19), against outside truths.

- a plain-Python reference of each optimizer (``tests/naive.py``), bit for bit;
- linear stability on quadratic losses, in closed form: GD ``eta lam < 2``,
  heavy-ball ``eta lam < 2 (1 + beta)``, Nesterov ``eta lam < 2 (1 + beta) /
  (1 + 2 beta)``; per layer, each layer's own ``eta_i lam_i`` (a diagonal
  Hessian); and the Lyapunov exponent of the linear recursion, the log of
  its spectral radius;
- on zhu4, no converged point is sharper than its optimizer's threshold, and
  with per-layer step sizes the top eigenvalue of ``P^1/2 H P^1/2`` (the dense
  network Hessian, NumPy) stays below the limit;
- ``beta = 0`` is GD bit for bit, files included.
"""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest

import eosfast
import naive
from eosfast.errors import InvalidArgument
from eosfast.optimizer import Optimizer
from eosfast.status import Status

FIELDS = ("status", "steps", "period", "sharpness", "loss", "x", "y")


# ------------------------------------------------------------ the reference


@pytest.mark.parametrize("model", ["zhu4", "deg3"])
@pytest.mark.parametrize("method,beta,ex,ey", [
    ("momentum", 0.5, 0.2, 0.2), ("nesterov", 0.4, 0.2, 0.2),
    ("momentum", 0.3, 0.12, 0.25), ("nesterov", 0.6, 0.25, 0.1), ("gd", 0.0, 0.1, 0.3)])
def test_grid_is_the_plain_python_reference_bit_for_bit(model, method, beta, ex, ey):
    cap, tol, R = 400, 1e-12, 1e3
    how = dict(optimizer=method, beta=beta if method != "gd" else None, eta_x=ex, eta_y=ey)
    r = eosfast.grid(model, res=17, x_range=(-1.0, 3.0), y_range=(-1.0, 3.0), eta=0.2,
                     steps=cap, tol=tol, escape=R, **how)
    seen = set()
    for j, y0 in enumerate(r.y0):
        for i, x0 in enumerate(r.x0):
            st, t, x, y = naive.run_point_optimizer(float(x0), float(y0), ex, ey, beta, method,
                                                    model, cap, tol, R)
            got = int(r.status[0, j, i])
            seen.add(st)
            assert int(r.steps[0, j, i]) == t, (x0, y0)
            if st in (1, -1):
                assert got == st, (x0, y0)
            else:
                assert got not in (1, -1), (x0, y0)
            if st != -1:
                assert r.x[0, j, i] == x and r.y[0, j, i] == y, (x0, y0)
    assert {1, -1} <= seen


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_trajectory_is_the_reference_step_for_step(method):
    t = eosfast.trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=300, optimizer=method, beta=0.4)
    x, y, u, v = 2.5, 0.35, 2.5, 0.35
    p, q, s, _ = naive.MODELS["zhu4"]
    for k in range(1, 301):
        px, py = 0.4 * (x - u), 0.4 * (y - v)
        gx, gy = (x + px if px else x, y + py if py else y) if method == "nesterov" else (x, y)
        nx, ny = naive.layered_step(gx, gy, 0.2, 0.2, p, q, s)
        if method == "momentum":
            nx, ny = (nx + px if px else nx), (ny + py if py else ny)
        u, v, x, y = x, y, nx, ny
        assert (t.x[k], t.y[k]) == (x, y), k


# ------------------------------------------------------------ beta = 0 is GD


def test_beta_zero_is_gd_bit_for_bit_in_the_kernels():
    """The momentum kernels with beta = 0 per point: GD's arrays, -0.0 starts included."""
    from eosfast.stoprule import StopRule
    from eosfast.store.layouts import GRID_DTYPES
    from eosfast.tiles import compute_points

    rng = np.random.default_rng(3)
    n = 4000
    x0, y0 = rng.uniform(-4, 4, n), rng.uniform(-4, 4, n)
    x0[:7], y0[7:14] = -0.0, -0.0
    eta = np.full(n, 0.3)
    rule = StopRule(steps=3000)
    gd = compute_points("zhu4", x0, y0, eta, rule)
    for how in (Optimizer("momentum", 0.5), Optimizer("nesterov", 0.5)):
        k = eosfast.get_model("zhu4").kernels_for(how).grid
        out = {name: np.empty(n, dtype=dt) for name, dt in GRID_DTYPES.items()}
        k(x0, y0, eta, eta, np.zeros(n), *rule.args(), *out.values())
        for f in FIELDS:
            assert out[f].tobytes() == gd[f].tobytes(), (how.method, f)


def test_beta_zero_and_equal_layers_write_todays_gd_file(tmp_path):
    a = eosfast.grid(res=48, steps=500, out=tmp_path / "a.h5")
    b = eosfast.grid(res=48, steps=500, optimizer="momentum", beta=0.0, out=tmp_path / "b.h5")
    c = eosfast.grid(res=48, steps=500, eta=0.2, eta_x=0.2, eta_y=0.2, symmetry=False)
    with h5py.File(a.path) as f, h5py.File(b.path) as g:
        for name in FIELDS:
            assert f[name][:].tobytes() == g[name][:].tobytes()
        assert "optimizer" not in f.attrs["params"]
        assert '"optimizer": "momentum"' in g.attrs["params"]
        for name in FIELDS:
            assert f[name][:].tobytes() == getattr(c, name).tobytes()


# ------------------------------------------------------------ quadratics


def _quadratic(lx: float, ly: float) -> str:
    return f"{lx}*x**2/2 + {ly}*y**2/2"


@pytest.mark.parametrize("method,beta", [("gd", 0.0), ("momentum", 0.3), ("momentum", 0.8),
                                         ("nesterov", 0.3), ("nesterov", 0.8)])
def test_quadratic_converges_just_below_the_threshold_and_not_above(method, beta):
    lam = 10.0
    limit = {"gd": 2.0, "momentum": 2 * (1 + beta),
             "nesterov": 2 * (1 + beta) / (1 + 2 * beta)}[method]
    edge = limit / lam
    assert Optimizer.checked(method, beta if method != "gd" else None).threshold(edge) == \
        pytest.approx(lam, rel=1e-15)
    etas = [edge * 0.97, edge * 1.03]
    r = eosfast.grid(_quadratic(1.0, lam), res=3, x_range=(0.5, 1.0), y_range=(0.5, 1.0),
                     eta=etas, steps=200_000, tol=1e-10,
                     optimizer=method, beta=beta if method != "gd" else None)
    assert (r.status[0] == Status.CONVERGED).all()
    assert (r.status[1] == Status.DIVERGED).all()


@pytest.mark.parametrize("method,beta", [("gd", 0.0), ("momentum", 0.5), ("nesterov", 0.5)])
def test_each_layer_has_its_own_threshold(method, beta):
    """A diagonal Hessian: the y-layer's step alone decides (lam_y = 10, eta_x tiny)."""
    lam = 10.0
    limit = Optimizer.checked(method, beta if method != "gd" else None).limit
    r = eosfast.grid(_quadratic(1.0, lam), res=3, x_range=(0.5, 1.0), y_range=(0.5, 1.0),
                     eta=0.01, eta_y=limit / lam * 0.97, steps=200_000, tol=1e-10,
                     optimizer=method, beta=beta if method != "gd" else None)
    assert (r.status == Status.CONVERGED).all()
    r = eosfast.grid(_quadratic(1.0, lam), res=3, x_range=(0.5, 1.0), y_range=(0.5, 1.0),
                     eta=0.01, eta_y=limit / lam * 1.03, steps=200_000, tol=1e-10,
                     optimizer=method, beta=beta if method != "gd" else None)
    assert (r.status == Status.DIVERGED).all()


def _spectral_radius(method: str, beta: float, eta: float, lam: float) -> float:
    """Of the linear recursion on one coordinate of a quadratic (its companion matrix)."""
    a = 1.0 - eta * lam
    if method == "momentum":  # z^2 - (a + beta) z + beta
        c1, c0 = -(a + beta), beta
    else:  # Nesterov: z^2 - a (1 + beta) z + a beta
        c1, c0 = -a * (1 + beta), a * beta
    return float(max(abs(np.roots([1.0, c1, c0]))))


@pytest.mark.parametrize("method,beta,etas", [("momentum", 0.3, [0.1, 0.3, 0.45, 0.7]),
                                               ("nesterov", 0.6, [0.1, 0.3, 0.45])])
def test_lyapunov_exponent_of_a_quadratic_is_its_spectral_radius(method, beta, etas):
    """The bifurcation kernel's 4-d tangent map against the closed-form multipliers."""
    lx, ly = 1.0, 3.0
    etas = np.array(etas)
    b = eosfast.bifurcation(_quadratic(lx, ly), 0.7, 0.4, eta=etas, burn=0, record=2000,
                            observable="x", optimizer=method, beta=beta)
    for e, lyap in zip(etas, b.lyapunov, strict=True):
        rho = max(_spectral_radius(method, beta, e, lx), _spectral_radius(method, beta, e, ly))
        assert lyap == pytest.approx(math.log(rho), abs=2e-3), e


# ------------------------------------------------------------ zhu4's edge


@pytest.mark.parametrize("how", [dict(optimizer="momentum", beta=0.3),
                                 dict(optimizer="momentum", beta=0.7),
                                 dict(optimizer="nesterov", beta=0.5),
                                 dict(eta_x=0.25, eta_y=0.1),
                                 dict(optimizer="momentum", beta=0.5, eta_x=0.08, eta_y=0.2)])
def test_no_converged_point_is_sharper_than_the_threshold(how):
    eta = 0.2
    r = eosfast.grid("zhu4", res=96, eta=eta, steps=20_000, **how)
    opt = Optimizer.checked(how.get("optimizer", "gd"), how.get("beta"), how.get("eta_x"),
                            how.get("eta_y"))
    conv = r.status[0] == Status.CONVERGED
    assert conv.sum() > 100
    sharp = r.sharpness[0][conv]
    assert sharp.max() <= opt.threshold(eta) * (1 + 1e-9)
    # at the edge: the sharpest converged points come close to it
    if not opt.layered:
        assert sharp.max() > 0.9 * opt.threshold(eta)
    else:
        # the precise condition: top eigenvalue of P^1/2 H P^1/2 below the limit, with
        # H the dense 4 x 4 network Hessian (weights x, y, x, y)
        ex, ey = opt.rates(eta)
        d = np.sqrt(np.array([ex, ey, ex, ey]))
        xs, ys = r.x[0][conv], r.y[0][conv]
        top = max(float(np.linalg.eigvalsh(
            d[:, None] * np.array(naive.network_hessian("zhu4", naive.weights("zhu4", x, y)))
            * d[None, :])[-1]) for x, y in zip(xs[::7], ys[::7], strict=True))
        assert top <= opt.limit * (1 + 1e-9)
        assert top > 0.9 * opt.limit


def test_nesterov_trajectory_ends_just_below_its_threshold():
    t = eosfast.trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=5000, optimizer="nesterov",
                           beta=0.3)
    edge = 2 * 1.3 / (0.2 * 1.6)
    assert t.threshold == pytest.approx(edge)
    assert 0.95 * edge < t.sharpness[-1] < edge
    assert t.loss[-1] < 1e-20


# ------------------------------------------------------------ files, resume, symmetry


def test_layered_grid_is_not_mirrored():
    """zhu4 commutes with swapping x and y, but not when their layers step differently."""
    kw = dict(res=40, steps=800, eta_x=0.1, eta_y=0.3, tile=8)
    a, b = eosfast.grid(**kw), eosfast.grid(symmetry=False, **kw)
    for f in FIELDS:
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes()
    assert not np.array_equal(a.status[0], a.status[0].T)


def test_momentum_file_refuses_a_gd_resume(tmp_path, here):
    out = tmp_path / "m.h5"
    rc, _, err = here("grid", "--res", "64", "--optimizer", "momentum", "--beta", "0.5", "-q",
                      "-o", out, cwd=tmp_path)
    assert rc == 0, err
    rc, _, err = here("grid", "--res", "64", "-q", "-o", out, "--resume", cwd=tmp_path)
    assert rc == 2
    assert "--optimizer momentum in the file, none asked for" in err
    assert "--beta 0.5 in the file" in err
    rc, _, err = here("grid", "--res", "64", "-q", "-o", out, "--resume", "--optimizer",
                      "momentum", "--beta", "0.5", cwd=tmp_path)
    assert rc == 0, err


@pytest.mark.parametrize("args,needle", [
    (["--optimizer", "momentum", "--beta", "1"], "--beta must be in [0, 1), got 1"),
    (["--eta-x", "-0.1"], "--eta-x must be positive"),
    (["--optimizer", "nesterov"], "--optimizer nesterov needs --beta"),
    (["--beta", "0.5"], "--beta needs --optimizer momentum or nesterov"),
    (["--optimizer", "adam"], "Invalid value for '--optimizer'"),
])
@pytest.mark.parametrize("command", ["grid", "trajectory", "refine"])
def test_bad_optimizer_input_is_one_line(here, tmp_path, command, args, needle):
    rc, _, err = here(command, *args, "-o", tmp_path / "x.h5", cwd=tmp_path)
    assert rc == 2
    assert needle in err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_every_map_command_takes_the_optimizer(run_cli):
    """The installed console script, as a user types it."""
    for cmd in ("grid", "trajectory", "bifurcation", "zoom", "refine"):
        rc, out, err = run_cli(cmd, "--help")
        assert rc == 0, err
        for flag in ("--optimizer", "--beta", "--eta-x", "--eta-y"):
            assert flag in out, (cmd, flag)


def test_refine_and_zoom_record_and_use_the_optimizer(tmp_path):
    how = dict(optimizer="nesterov", beta=0.4)
    r = eosfast.refine("zhu4", 33, 2, verify=0, **how)
    assert r.spec.optimizer == Optimizer("nesterov", 0.4)
    g = eosfast.grid("zhu4", 129, **how)
    # refined points are the dense grid's, bit for bit
    n = r.lattice.store.n
    keys = r.lattice.store.keys[:n]
    iy, ix = np.divmod(keys, r.lattice.nxf)
    st = r.lattice.store.field("status")[:n]
    assert (g.status[0][iy, ix] == st).all()
    z = eosfast.zoom("zhu4", levels=1, res=64, eta=0.2, **how)
    assert z.params["optimizer"] == "nesterov" and z.params["beta"] == 0.4
    dense = eosfast.grid("zhu4", res=64, x_range=z.levels[0].x_range,
                         y_range=z.levels[0].y_range, **how)
    assert (z.levels[0].status == dense.status[0]).all()


def test_optimizer_values():
    assert Optimizer().plain and Optimizer().params() == {}
    o = Optimizer.checked("momentum", 0.5, eta_x=0.1)
    assert o.params() == {"optimizer": "momentum", "beta": 0.5, "eta_x": 0.1}
    assert Optimizer.from_params(o.params()) == o
    assert o.limit == 3.0 and o.threshold(0.3) == pytest.approx(30.0)
    assert Optimizer.checked("nesterov", 0.5).limit == pytest.approx(1.5)
    with pytest.raises(InvalidArgument):
        Optimizer.checked(o, 0.3)
    assert Optimizer.checked(o) == o


# ------------------------------------------------------------ what a user reads


def test_info_reports_the_optimizers_threshold(tmp_path):
    from eosfast.info import summarize

    g = eosfast.grid(res=64, eta=[0.2, 0.25], optimizer="momentum", beta=0.3, steps=3000,
                     out=tmp_path / "g.h5")
    s = summarize(g.path)
    assert s["optimizer"] == {"optimizer": "momentum", "beta": 0.3}
    assert [x["threshold"] for x in s["slices"]] == pytest.approx([2.6 / 0.2, 2.6 / 0.25])
    for x in s["slices"]:
        assert x["sharpness"]["max"] <= x["threshold"]
    r = eosfast.refine("zhu4", 33, 1, verify=0, optimizer="nesterov", beta=0.3,
                       out=tmp_path / "r.h5")
    s = summarize(r.path)
    assert s["threshold"] == pytest.approx(2 * 1.3 / (0.2 * 1.6))
    t = eosfast.trajectory("zhu4", 2.5, 0.35, 0.2, 100, optimizer="momentum", beta=0.5,
                           out=tmp_path / "t.h5")
    assert summarize(tmp_path / "t.h5")["threshold"] == pytest.approx(15.0)
    assert "threshold=15" in t.summary()


def test_plots_draw_the_optimizers_threshold(tmp_path):
    """Adaptivity over eta under momentum: the dashed curve is 2 (1 + beta)/eta."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from eosfast.adaptivity import from_grid
    from eosfast.plots import basins

    g = eosfast.grid(res=48, eta_range=(0.15, 0.3), eta_res=4, optimizer="momentum",
                     beta=0.3, steps=3000, out=tmp_path / "a.h5")
    a = from_grid(g.path)
    ax = Figure().subplots()
    basins.adaptivity(ax, a.eta, a.sharpness, a.status, optimizer=Optimizer.from_params(a.params))
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1
    x, y = dashed[0].get_data()
    assert np.allclose(y, 2.6 / np.asarray(x))
    r = eosfast.read_grid(g.path)
    ax = Figure().subplots()
    counts, edges = basins.concentration(ax, r, eta=0.2)
    assert edges[-1] == pytest.approx(2.6 / 0.2)
