"""Plots and the paper's figures: every picture is checked through the data behind it."""

import math

import numpy as np
import pytest
from matplotlib import colors as mcolors
from matplotlib.image import imread

import eosfast
from eosfast import plots
from eosfast.bifurcation import bifurcation
from eosfast.errors import EosfastError
from eosfast.figures import FIGURES, make_figure, paper
from eosfast.trajectory import trajectory


def non_blank(path):
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    return float(img[..., :3].std()) > 0.02


@pytest.fixture(scope="module")
def small_grid():
    return eosfast.grid("zhu4", 40, x_range=(0.0, 4.0), y_range=(0.0, 4.0), eta=0.2, steps=4000)


# ---------------------------------------------------------------- plotting functions


def test_basin_fields_show_the_grid(small_grid):
    r = small_grid
    fig = plots.new_figure()
    (im,) = plots.basin(fig.subplots(), r, "status")
    # the image holds the status codes themselves, coloured by the one palette
    assert np.array_equal(np.ma.filled(im.get_array(), -128).astype(int), r.status[0])
    from eosfast.status import COLORS
    for code, colour in COLORS.items():
        assert mcolors.to_hex(im.cmap(im.norm(int(code)))) == colour
    fig = plots.new_figure()
    conv, esc = plots.basin(fig.subplots(), r, "steps")
    c = np.ma.filled(conv.get_array().astype(float), np.nan)
    assert np.array_equal(np.isfinite(c), r.status[0] == 1)
    e = np.ma.filled(esc.get_array().astype(float), np.nan)
    assert np.array_equal(np.isfinite(e), r.status[0] == -1)
    assert conv.norm.vmax == r.steps[0][r.status[0] == 1].max()
    fig = plots.new_figure()
    im, band = plots.basin(fig.subplots(), r, "sharpness", band=0.1)
    b = np.ma.filled(band.get_array().astype(float), np.nan)
    s = r.sharpness[0]
    assert np.array_equal(np.isfinite(b), (r.status[0] == 1) & (s > 9.9) & (s < 10))
    assert np.isfinite(b).any()
    fig = plots.new_figure()
    (im,) = plots.basin(fig.subplots(), r, "loss")
    assert np.ma.count(im.get_array()) > 0
    with pytest.raises(EosfastError):
        plots.basin(fig.subplots(), r, "nope")


def test_concentration_counts_every_converged_init(small_grid):
    fig = plots.new_figure()
    counts, edges = plots.concentration(fig.subplots(), small_grid)
    assert counts.sum() == (small_grid.status == 1).sum()
    assert edges[-1] == pytest.approx(10.0)


def test_orbit_density_counts_visits():
    rng = np.random.default_rng(0)
    orbit = rng.random((50, 200))
    orbit[3, 5] = np.nan
    counts, pe, ve = plots.orbit_density(np.linspace(0, 1, 50), orbit, bins=(25, 10),
                                         value_range=(0, 1))
    assert counts.shape == (10, 25) and counts.sum() == 50 * 200 - 1
    assert counts[:, 0].sum() == 400 and counts[:, 1].sum() == 399  # two rows per column
    # a constant row puts all its visits in one pixel
    counts, _, _ = plots.orbit_density([0.0, 1.0], np.array([[0.6] * 8, [0.3] * 8]), (2, 4),
                                       (0.0, 1.0))
    assert counts[2, 0] == 8 and counts[1, 1] == 8


def test_bifurcation_plot_is_a_density_image_with_a_lyapunov_strip():
    b = bifurcation(eta_range=(0.45, 0.99), eta_res=200, burn=3000, record=256)
    fig = plots.new_figure(8, 6)
    ax, axl = plots.plot_bifurcation(fig, b, bins=(100, 80))
    (im,) = ax.images
    assert np.ma.sum(im.get_array()) == np.isfinite(b.orbit).sum()
    (line,) = axl.lines[:1]
    assert np.array_equal(line.get_ydata(), b.lyapunov, equal_nan=True)


def test_trajectory_plots():
    t = trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=2000)
    fig = plots.new_figure(10, 4)
    ax1, ax2 = plots.plot_trajectory(fig, t)
    assert np.array_equal(ax1.lines[0].get_ydata(), t.sharpness)
    assert any(np.allclose(line.get_ydata(), 10.0) for line in ax1.lines)  # 2/eta line
    dots = ax2.collections[0].get_offsets()
    assert np.allclose(dots[:, 0], t.a) and np.allclose(dots[:, 1], t.b)


def test_adaptivity_plot():
    eta = np.array([0.2, 0.25])
    fig = plots.new_figure()
    line = plots.adaptivity(fig.subplots(), eta, [9.9, 7.0], status=[1, -1])
    y = line.get_ydata()
    assert y[0] == 9.9 and np.isnan(y[1])


def test_render_file_kinds(tmp_path, small_grid, capsys):
    from eosfast.cli.main import main

    t = tmp_path / "t.h5"
    trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=500, out=t)
    b = tmp_path / "b.h5"
    bifurcation(eta_range=(0.1, 0.3), eta_res=20, x0=2.5, y0=0.35, burn=3000, record=8,
                observable="sharpness", out=b)
    g = tmp_path / "g.h5"
    eosfast.grid("zhu4", 16, x_range=(2.4, 2.6), y_range=(0.3, 0.4), eta_range=(0.15, 0.3),
                 eta_res=4, steps=3000, out=g)
    jobs = [("trajectory", t, []), ("bifurcation", b, []), ("adaptivity", b, []),
            ("adaptivity", g, []), ("basin", g, ["--eta", "0.2", "--field", "sharpness"]),
            ("concentration", g, ["--eta", "0.2"])]
    for kind, path, extra in jobs:
        img = tmp_path / f"{kind}-{path.stem}.png"
        with pytest.raises(SystemExit) as e:
            main(["plot", kind, str(path), "-o", str(img), *extra])
        assert e.value.code == 0, capsys.readouterr().err
        assert non_blank(img)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == len(jobs)
    with pytest.raises(SystemExit) as e:  # a multi-eta grid needs --eta
        main(["plot", "basin", str(g), "-o", str(tmp_path / "x.png")])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:  # wrong file kind
        main(["plot", "bifurcation", str(t), "-o", str(tmp_path / "x.png")])
    assert e.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


# ---------------------------------------------------------------- figures


def check_fig1c(d):
    for t in d["runs"]:
        assert 2 / t.eta - 20 * t.eta / 3 < t.sharpness[-1] < 2 / t.eta


def check_fig2a(d):
    check_fig1c(d)


def check_fig2b(d):
    r = d["grid"]
    s = r.sharpness[0][r.status[0] == 1]
    assert (s < 10).all() and ((s > 9.9) & (s < 10)).sum() > 20
    assert (r.status == -1).any()


def check_fig3(d):
    assert d["residual"]["tight"] < 0.05 < 0.1 < d["residual"]["loose"]
    t = d["tight"]
    assert -5 / 3 < t.a[-1] / t.kappa**3 < -1 / 10


def check_fig5(d):
    # deg2 from sharper inits ends flatter; zhu4 ends just below 2/eta
    fd = d["final"]["deg2"][:5]
    assert np.all(np.diff(fd) < 0)
    fz = d["final"]["zhu4"]
    fz = fz[np.isfinite(fz)]
    assert np.all((fz > 10 - 20 * 0.2 / 3) & (fz < 10))
    for t in d["deg2"]:  # the deg2 arc goes from a0 to about -a0
        assert t.a[-1] < 0 < t.a[0]


def check_fig6(d):
    r = d["grid"]
    conv = r.status[0] == 1
    assert (r.y[0][conv] < 1).any() and (r.y[0][conv] > 1).any()


def check_fig7a(d):
    c = d["grid"].counts()
    assert c["converged"] > 0 and c["diverged"] > 0


def check_fig7b(d):
    t = d["run"]
    assert abs(t.x[-1] - d["eos"][0]) < 0.01 and abs(t.y[-1] - d["eos"][1]) < 1e-3
    assert np.abs(t.b[:10000]).max() > 0.3


def check_fig7c(d):
    k, a, cub = d["kappa"], d["a"], d["cubic"]
    i = np.argmin(np.abs(a + 0.2))  # b = 0 stable for a in (-1/(4 kappa), 0)
    assert np.abs(cub[i]).max() < 1e-6
    j = np.argmin(np.abs(a - 0.5))  # fixed point b*^2 = a kappa / 2 for 0 < a < 1/(8 kappa)
    assert np.abs(cub[j]).max() == pytest.approx(math.sqrt(a[j] * k / 2), rel=1e-6)


def check_cascade(d):
    dd = d["doubling"]
    assert dd.points[:2] == pytest.approx([0.5, 0.6235846362], abs=1e-9)
    assert len(dd.ratios) >= 1 and 4.0 < dd.ratios[-1] < 5.0
    full = d["full"]
    assert (full.period == 2).any() and (full.period == 0).any()
    assert np.nanmax(full.lyapunov) > 0.2


def check_adaptivity(d):
    r = d["run"]
    big = (r.eta > 0.2) & (r.status == 1)
    assert big.any()
    s, e = r.sharpness[big], r.eta[big]
    assert np.all((s > 2 / e - 20 * e / 3) & (s < 2 / e))


@pytest.mark.parametrize("name", paper.NAMES)
def test_figure(name, tmp_path):
    fig, data = paper.build(name, quick=True)
    globals()[f"check_{name}"](data)
    assert fig.axes and all(ax.has_data() for ax in fig.axes if ax.get_label() != "<colorbar>")
    path = plots.save(fig, tmp_path / f"{name}.png", dpi=60)
    assert non_blank(path)


def test_every_paper_figure_is_registered():
    for name in paper.NAMES:
        assert FIGURES[name] == f"eosfast.figures.paper:{name}"
    assert "fig1" in FIGURES and "fig8" in FIGURES


def test_figure_command(tmp_path, capsys):
    from eosfast.cli.main import main

    with pytest.raises(SystemExit) as e:
        main(["figure", "fig7a", "-o", str(tmp_path / "out"), "--quick"])
    assert e.value.code == 0
    assert non_blank(tmp_path / "out" / "fig7a.png")
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as e:
        main(["figure", "fig99", "-o", str(tmp_path)])
    assert e.value.code == 2
    with pytest.raises(EosfastError):
        make_figure("fig99", tmp_path)
