"""Each literature model of the registry against one fact of its source (eosfast.registry).

The facts and where they come from: shared/paper/models.md and the
registry's own ``checked`` notes. Closed forms are derived here, in the
test, from the formulas (not from eosfast's output).
"""

import math

import numpy as np
import pytest

import eosfast
from eosfast.models import ExpressionModel
from eosfast.registry import LITERATURE
from eosfast.status import Status

LIT = [e.name for e in LITERATURE]


def test_registry_has_the_literature_with_sources():
    assert len(LIT) >= 4
    for e in LITERATURE:
        m = eosfast.MODELS[e.name]
        assert isinstance(m, ExpressionModel) and m.registered
        assert "arXiv" in m.source and any(str(y) in m.source for y in range(2019, 2026))
        assert m.fact and m.checked
        assert eosfast.get_model(m.expression, m.params).maps.key == m.maps.key


# ---------------------------------------------------------------- Chen & Bruna 2023


def _two_cycle(mu, eta):
    """The period-2 orbit of x <- x - eta x (x^2 - mu) around sqrt(mu), born at eta = 1/mu.

    g(g(x)) - x factors (sympy) into x (x^2 - mu) (eta x^2 - eta mu - 2) times
    eta^2 x^4 - (eta^2 mu + eta) x^2 + 1: its positive roots are the orbit.
    """
    s = eta * mu + 1.0
    disc = math.sqrt(s * s - 4.0)
    return sorted([math.sqrt((s + disc) / (2 * eta)), math.sqrt((s - disc) / (2 * eta))])


def test_chen_bruna_sharpness_and_period_two_orbit():
    # f''(sqrt(mu)) = 2 mu: the sharpness at the minimum (sqrt(mu), sqrt(mu))
    for mu in (1.0, 2.0, 0.3):
        r = math.sqrt(mu)
        assert eosfast.sharpness(eosfast.get_model("chen_bruna", {"mu": mu}), (r, r)) == \
            pytest.approx(2 * mu, rel=1e-14)
    # (one value of mu: each compiles its own kernels, parameters being constants)
    mu = 2.0
    r = math.sqrt(mu)
    Ks = (0.9, 1.05, 1.1)
    b = eosfast.bifurcation("chen_bruna", 1.1 * r, 0.95 * r, eta=[K / mu for K in Ks],
                            burn=20000, record=64, observable="x", model_params={"mu": mu})
    # below K = 1 the minimum is stable; for 1 < K <= 1.121 a period-2 orbit (their s. 4)
    assert b.period.tolist() == [1, 2, 2]
    assert np.allclose(b.orbit[0], r, rtol=1e-12)
    for k, K in enumerate(Ks[1:], 1):
        pts = _two_cycle(mu, K / mu)
        seen = np.sort(np.unique(np.round(b.orbit[k], 9)))
        assert np.allclose(seen, pts, rtol=1e-9), (K, seen, pts)


# ---------------------------------------------------------------- the catapult


@pytest.mark.parametrize("eta", [0.5, 0.2])
def test_catapult_basin_is_the_circle_of_radius_two_over_root_eta(eta):
    """Converges from (almost) every start with u^2 + v^2 < 4/eta, never from outside."""
    rr = 1.2 * 2.0 / math.sqrt(eta)
    # ends chosen so that no grid point lies on an axis or a diagonal (the axes are
    # minima; on the diagonals the approach to the degenerate origin is algebraic)
    g = eosfast.grid("catapult", res_x=100, res_y=99, x_range=(-0.99 * rr, rr),
                     y_range=(-rr, 0.98 * rr), eta=eta, steps=50000)
    X, Y = np.meshgrid(g.x0, g.y0)
    r2 = X**2 + Y**2
    st = g.status[0]
    inside, outside = r2 < 0.98 * 4 / eta, r2 > 1.02 * 4 / eta
    assert (st[outside] == Status.DIVERGED).all()
    assert not (st[inside] == Status.DIVERGED).any()
    assert np.mean(st[inside] == Status.CONVERGED) > 0.995
    conv = st == Status.CONVERGED
    # minima are the axes; the sharpness there is u^2 (+ v^2 = 0), below 2/eta
    assert np.abs(g.x[0][conv] * g.y[0][conv]).max() < 1e-9
    assert np.allclose(g.sharpness[0][conv], g.x[0][conv]**2 + g.y[0][conv]**2, rtol=1e-8)
    assert g.sharpness[0][conv].max() < 2 / eta


# ---------------------------------------------------------------- Kreisler et al. 2023


@pytest.mark.parametrize("x0, y0, eta", [(3.0, 0.2, 0.25), (2.5, 0.1, 0.3), (0.2, 3.5, 0.2)])
def test_kreisler_gfs_sharpness_decreases_monotonically(x0, y0, eta):
    """Gradient flow conserves x^2 - y^2 and ends on xy = 1, at sharpness x^2 + y^2 =
    sqrt((x^2 - y^2)^2 + 4): GD never increases it (while eta |xy - 1| <= sqrt(2))."""
    t = eosfast.trajectory("kreisler", x0, y0, eta=eta, steps=3000)
    assert not t.diverged
    assert (eta * np.abs(t.x * t.y - 1) <= math.sqrt(2)).all()
    gfs = np.sqrt((t.x**2 - t.y**2) ** 2 + 4)
    assert np.diff(gfs).max() <= 1e-13 * gfs[0]
    assert gfs[-1] < gfs[0] - 0.5
    # at the end GD sits on a minimum: the GFS sharpness is the sharpness
    assert t.sharpness[-1] == pytest.approx(gfs[-1], rel=1e-9)


# ---------------------------------------------------------------- Song & Yun 2023


def test_song_yun_trajectories_align_just_below_two_over_eta():
    """log(cosh(xy)) at eta = 2/16: from their window every run converges on xy = 0 at one
    and the same sharpness, just below 2/eta = 16 (the edge of stability)."""
    eta = 2 / 16
    g = eosfast.grid("song_yun", res_x=6, res_y=9, x_range=(0.5, 1.0), y_range=(5.0, 7.0),
                     eta=eta, steps=20000)
    assert (g.status == Status.CONVERGED).all()
    assert np.abs(g.x * g.y).max() < 1e-10
    s = g.sharpness.ravel()
    assert s.max() - s.min() <= 1e-6 * s.max()
    assert 0.97 * 2 / eta < s.min() and s.max() < 2 / eta


def test_catapult_boundary_is_smooth_under_zoom(tmp_path):
    """The circle is a null model for the fractal measures: box dimension 1 at every level."""
    c = 2 * math.sqrt(2)  # the boundary's radius at eta = 0.5
    r = eosfast.zoom("catapult", center=(c * math.cos(0.5), c * math.sin(0.5)), width=0.5,
                     levels=2, res=128, eta=0.5, steps=20000, out=tmp_path / "z.h5")
    for level in r.levels:
        assert abs(level.fractal.box_dimension - 1.0) < 0.05
    back = eosfast.read_zoom(tmp_path / "z.h5")
    assert back.model == "catapult" and back.params["model_params"] == {}


def test_atlas_separates_edge_of_stability_from_far_below(tmp_path):
    """The atlas (quick): zhu4 ends its sharp starts at the edge of stability, the
    degree-2 losses far below; chen_bruna's isolated minima have eta S / 2 = eta mu."""
    from matplotlib.image import imread

    from eosfast.figures import make_figure
    from eosfast.figures.atlas import data_atlas, draw_atlas

    d = data_atlas(quick=True)
    assert d["models"] == list(eosfast.MODELS)
    k = int(np.argmin(np.abs(d["eta"] - 0.38)))
    assert d["ratio"]["zhu4"][k, 1] > 0.95
    for name in ("deg2", "kreisler", "catapult"):
        assert d["ratio"][name][k, 1] < 0.8, name
    q = d["ratio"]["chen_bruna"]
    ok = np.isfinite(q[:, 1])
    assert ok.sum() >= 3 and np.allclose(q[ok], d["eta"][ok, None], rtol=1e-9)
    for name in d["models"]:
        assert ((d["converged"][name] >= 0) & (d["converged"][name] <= 1)).all()
    assert len(draw_atlas(d).axes) >= len(d["models"])
    (png,) = make_figure("atlas", tmp_path, quick=True)
    img = imread(png)
    assert img.shape[1] > 1000 and float(img[..., :3].std()) > 0.02
