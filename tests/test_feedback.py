"""What the terminal and the pictures tell a user: progress, info, errors, fractal
caveats, period, adaptivity defaults, plots and their palette."""

import fcntl
import io
import itertools
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import h5py
import numpy as np
import pytest

import eosfast
from eosfast import Status
from eosfast.cli import common
from eosfast.cli.main import main
from eosfast.result import percent


def call(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


# ---------------------------------------------------------------- 7. progress


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_bar_rates_and_time_left_count_only_this_runs_work():
    """A resumed run starts at 50 of 100 tiles: its pace is measured from there."""
    clock, out = Clock(), io.StringIO()
    bar = common.ProgressBar("grid", out, width=120, clock=clock, interval=0.0)
    bar(50, 100, info={"eta": 0.2, "points": 0, "iterations": 0})
    clock.t = 2.0
    bar(60, 100, info={"eta": 0.25, "points": 1000, "iterations": 500_000})
    line = out.getvalue().split("\r")[-1]
    assert "ETA 00:08" in line  # 40 tiles left at 5 tiles/s, not at 30 tiles/s
    assert "500 pts/s" in line and "250k it/s" in line and "eta 0.25" in line
    assert " 60%" in line
    clock.t = 10.0
    bar(100, 100, info={"eta": 0.25, "points": 5000, "iterations": 2_500_000})
    assert "100%" in out.getvalue().split("\r")[-1] and "in 00:10" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\n")


@pytest.mark.parametrize("width", [30, 50, 80, 200])
def test_bar_fits_the_terminal(width):
    clock = Clock()
    bar = common.ProgressBar("grid", io.StringIO(), clock=clock)
    bar.start = (0.0, 0, {"points": 0, "iterations": 0})
    line = bar.render(37, 100, {"eta": 0.123456, "points": 10**6, "iterations": 10**9,
                                "what": "level 2/6"}, 3.0, width)
    assert len(line) <= width - 1 and "37%" in line


def test_plain_and_info_callbacks_of_grid(tmp_path):
    plain, rich = [], []
    eosfast.grid(res=48, tile=16, eta=[0.2, 0.3], steps=300,
                 progress=lambda done, total: plain.append((done, total)))
    assert plain[0] == (0, 18) and plain[-1] == (18, 18)

    def with_info(done, total, info=None):
        rich.append((done, total, dict(info)))

    run = eosfast.grid(res=48, tile=16, eta=[0.2, 0.3], steps=300, out=tmp_path / "g.h5",
                       progress=with_info)
    assert rich[-1][2]["points"] == 2 * 48 * 48
    assert rich[-1][2]["iterations"] == run.iterations
    assert {r[2]["eta"] for r in rich} == {0.2, 0.3}


def test_resumed_run_reports_only_its_own_points(tmp_path):
    out = tmp_path / "g.h5"
    kw = dict(res=48, tile=16, steps=300, out=out)

    def stop(done, total):
        if done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(eosfast.Interrupted):
        eosfast.grid(progress=stop, **kw)
    calls = []
    eosfast.grid(resume=True, progress=lambda d, t, info: calls.append((d, info)), **kw)
    first_done, first_info = calls[0]
    assert first_done >= 4 and first_info["points"] == 0
    assert calls[-1][1]["points"] == (9 - first_done) * 16 * 16


def _run_in_terminal(args, columns, cwd):
    """Run ``eosfast ARGS`` with stderr on a pseudo-terminal ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen([sys.executable, "-m", "eosfast.cli.main", *map(str, args)],
                         stdin=slave, stdout=subprocess.PIPE, stderr=slave, cwd=cwd)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = p.stdout.read().decode()
    p.wait(timeout=120)
    return p.returncode, stdout, b"".join(chunks).decode()


def test_grid_bar_in_a_real_terminal(tmp_path):
    code, stdout, term = _run_in_terminal(
        ["grid", "--res", "256", "--tile", "32", "--eta", "0.2", "--eta", "0.25",
         "--steps", "2000", "-o", "g.h5"], 72, tmp_path)
    assert code == 0 and "2x256x256" in stdout
    lines = [seg for seg in re.split(r"[\r\n]+", term) if seg.strip()]
    assert lines and all(len(seg) <= 71 for seg in lines), lines
    last = lines[-1]
    for piece in ("grid", "100%", "eta 0.25", "pts/s", "it/s"):
        assert piece in last, last


def test_figure_all_says_which_figure(tmp_path, capsys, monkeypatch):
    import eosfast.figures as figures

    monkeypatch.setattr(common, "_is_terminal", lambda stream: True)
    names = ["figA", "figB", "figC"]
    monkeypatch.setattr(figures, "FIGURES", {n: f"{__name__}:fake_figure" for n in names})
    code, stdout, err = call(capsys, "figure", "all", "-o", tmp_path)
    assert code == 0 and "wrote 3 figure(s)" in stdout
    shown = err.split("\r")
    for k, n in enumerate(names, 1):
        assert any(f"{n} ({k}/3)" in s for s in shown), err
    assert "100%" in shown[-1]
    code, _, err = call(capsys, "figure", "all", "-o", tmp_path, "--force", "--quiet")
    assert code == 0 and err == ""


def fake_figure(outdir, quick=False, force=False):
    path = Path(outdir) / "fake.png"
    path.write_bytes(b"png")
    return path


def test_zoom_bar_ends_only_after_the_images(tmp_path):
    seen = []
    eosfast.zoom(levels=2, res=64, steps=500, out=tmp_path / "z.h5",
                 filmstrip=tmp_path / "z.png", animation=None,
                 progress=lambda d, t, info=None: seen.append((d, t, (info or {}).get("what"))))
    total = seen[0][1]
    dones = [d for d, _, _ in seen]
    assert dones == sorted(dones)
    at_film = [d for d, _, what in seen if what == "filmstrip"]
    assert at_film and at_film[0] < total
    assert all(d < total for d, _, what in seen if what != "images written")
    assert seen[-1] == (total, total, "images written")


# ---------------------------------------------------------------- 8. info


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    """zhu4 at eta 0.49 on [0, 4]^2 with a low cap: many runs are still unresolved."""
    path = tmp_path_factory.mktemp("cap") / "g.h5"
    eosfast.grid(res=96, eta=[0.2, 0.49], steps=300, out=path)
    return path


def test_info_reports_points_at_the_cap(capped, capsys):
    r = eosfast.read_grid(capped)
    bounded = int(np.count_nonzero(r.status == Status.BOUNDED))
    assert bounded > 0
    code, stdout, _ = call(capsys, "info", capped)
    assert code == 0
    assert f"{bounded} of {r.status.size} points" in stdout
    assert "300-step cap" in stdout and "raise --steps" in stdout
    s = json.loads(call(capsys, "info", capped, "--json")[1])
    assert s["kind"] == "grid" and s["reached_cap"] == bounded
    for k, sl in enumerate(s["slices"]):
        counts = {st.label: int(np.count_nonzero(r.status[k] == st))
                  for st in (Status.CONVERGED, Status.PERIODIC, Status.BOUNDED,
                             Status.DIVERGED)}
        assert sl["counts"] == counts and sl["eta"] == r.eta[k]
        row = next(line for line in stdout.splitlines()
                   if line.split() and line.split()[0] == f"{r.eta[k]:g}")
        assert row.split()[1:5] == [percent(counts[n], r.status[k].size)
                                    for n in ("converged", "periodic", "bounded", "diverged")]


def test_percent_never_rounds_a_count_to_zero():
    assert percent(1, 10**6) == "0.0001%" and percent(0, 10) == "0.0%"
    assert percent(3, 4) == "75.0%" and percent(1, 0) == "-"


def test_info_summarises_every_file_kind(tmp_path, capsys):
    from eosfast.nets.runner import NetsResult, write_nets

    paths = {"trajectory": tmp_path / "t.h5", "bifurcation": tmp_path / "b.h5",
             "zoom": tmp_path / "z.h5", "nets": tmp_path / "n.h5"}
    eosfast.trajectory(x0=2.5, y0=0.35, eta=0.2, steps=200, out=paths["trajectory"])
    eosfast.bifurcation(x0=1.2, y0=0.9, eta_range=(0.5, 0.7), eta_res=5, burn=2000,
                        record=64, out=paths["bifurcation"])
    eosfast.zoom(levels=1, res=64, steps=300, out=paths["zoom"])
    eta = np.array([0.5, 0.6])
    step = np.array([0, 10, 20])
    curve = np.array([[1.0, 0.5, 0.1], [1.0, 0.6, np.nan]])
    write_nets(NetsResult("scalar4", eta, step, curve, curve * 3, curve * 0,
                          np.array([False, True]),
                          {"steps": 20, "every": 10, "seed": 0, "n_params": 4}),
               paths["nets"])
    expect = {"trajectory": ["eta 0.2", "from (2.5, 0.35)", "sharpness="],
              "bifurcation": ["5 eta", "periods found"],
              "zoom": ["level 0", "diverged", "D_box"],
              "nets": ["scalar4", "eta 0.6: diverged", "x 2/eta"]}
    for kind, path in paths.items():
        code, stdout, err = call(capsys, "info", path)
        assert code == 0, err
        assert f"eosfast {kind}" in stdout
        for piece in expect[kind]:
            assert piece in stdout, (kind, piece, stdout)
        s = json.loads(call(capsys, "info", path, "--json")[1])
        assert s["kind"] == kind and s["params"]
    b = eosfast.read_bifurcation(paths["bifurcation"])
    s = json.loads(eosfast.info(paths["bifurcation"], as_json=True))
    assert sum(s["counts"].values()) == b.eta.size
    assert s["counts"]["converged"] == int(np.count_nonzero(b.period == 1))


# ---------------------------------------------------------------- 9. errors name flags


FLAG_ERRORS = [
    (["grid", "--eta-range", "0.1", "0.2"], "--eta-range needs --eta-res", "eta_res"),
    (["grid", "--eta-res", "3"], "--eta-res needs --eta-range", "eta_range"),
    (["grid", "--tile", "0"], "--tile must be at least 1", None),
    (["grid", "--max-period", "0"], "--max-period must be at least 1", "max_period"),
    (["grid", "--period-tol", "0"], "--period-tol must be positive", "period_tol"),
    (["bench", "--res", "0"], "--res must be at least 1", "numpy"),
    (["zoom", "--width", "-1"], "--width must be positive", None),
    (["bifurcation", "--eta-res", "0"], "--eta-res must be at least 1", "eta_res"),
]


@pytest.mark.parametrize("args,flag,python_name", FLAG_ERRORS,
                         ids=[" ".join(a) for a, _, _ in FLAG_ERRORS])
def test_errors_name_the_flags_typed(tmp_path, capsys, args, flag, python_name):
    code, _, err = call(capsys, *args, "-o", tmp_path / "x.h5") if args[0] != "bench" else \
        call(capsys, *args)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert flag in err
    if python_name:
        assert python_name not in err


def test_file_command_errors_name_the_flags(tmp_path, capsys):
    path = tmp_path / "g.h5"
    eosfast.grid(res=64, eta=[0.2, 0.3], steps=200, out=path)
    for args, flag in ((["fractal", path], "--eta"),
                       (["fractal", path, "--eta", "0.2", "--radius", "40"], "--radius"),
                       (["fractal", path, "--eta", "0.2", "--entropy-box", "0"],
                        "--entropy-box"),
                       (["fractal", path, "--eta", "0.2", "--fit", "8", "4"], "--fit"),
                       (["plot", "basin", path, "-o", tmp_path / "b.png"], "--eta")):
        code, _, err = call(capsys, *args)
        assert code == 2 and flag in err and len(err.strip().splitlines()) == 1, (args, err)
        assert "np.float64" not in err


# ---------------------------------------------------------------- 10. period


def test_period_is_the_cycle_length_in_grid_and_bifurcation(tmp_path, capsys):
    etas = [0.45, 0.524, 0.636, 0.655, 0.748]
    g = eosfast.grid(res=1, x_range=(1.2, 2.0), y_range=(0.9, 1.0), eta=etas, steps=20000)
    periods = []
    for e in etas:
        b = eosfast.bifurcation(x0=1.2, y0=0.9, eta_range=(e, e * (1 + 1e-12)), eta_res=2,
                                burn=20000, record=256)
        periods.append(int(b.period[0]))
    assert periods == [1, 2, 4, 8, 3]  # the period-doubling cascade, then the 3-window
    assert g.period.ravel().tolist() == periods
    assert g.status.ravel()[0] == Status.CONVERGED
    assert (g.status.ravel()[1:] == Status.PERIODIC).all()
    # on a whole grid: converged runs are fixed points, diverged and unresolved runs have none
    r = eosfast.grid(res=64, steps=2000)
    assert (r.period[r.status == Status.CONVERGED] == 1).all()
    assert (r.period[r.status == Status.DIVERGED] == 0).all()
    assert (r.period[r.status == Status.BOUNDED] == 0).all()
    assert (r.period[r.status == Status.PERIODIC] >= 1).all()
    # --max-period and --period-tol reach the search
    out = tmp_path / "p.h5"
    code, _, err = call(capsys, "grid", "--res", "1", "--x-range", "1.2", "2", "--y-range",
                        "0.9", "1", *itertools.chain(*(["--eta", e] for e in etas)),
                        "--steps", "20000", "--max-period", "2", "--period-tol", "1e-7",
                        "-o", out)
    assert code == 0, err
    got = eosfast.read_grid(out)
    assert got.params["max_period"] == 2 and got.params["period_tol"] == 1e-7
    assert got.period.ravel().tolist() == [1, 2, 0, 0, 0]
    assert got.status.ravel()[2] == Status.BOUNDED


# ---------------------------------------------------------------- 11. adaptivity default


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sweep.h5"
    eosfast.grid(res=65, eta_range=(0.05, 0.5), eta_res=10, steps=3000, out=path)
    return path


def test_adaptivity_default_init_converges(sweep, tmp_path, capsys):
    from eosfast.adaptivity import THEOREM_INIT, from_grid

    r = eosfast.read_grid(sweep, fields=["status"])
    centre = r.status[:, 32, 32]
    assert (centre == Status.DIVERGED).all()  # the old default drew nothing
    count = (r.status == Status.CONVERGED).sum(axis=0)
    a = from_grid(sweep)
    ix, iy = int(np.flatnonzero(r.x0 == a.x0)[0]), int(np.flatnonzero(r.y0 == a.y0)[0])
    ty = int(np.abs(r.y0 - THEOREM_INIT[1]).argmin())
    tx = int(np.abs(r.x0 - THEOREM_INIT[0]).argmin())
    if count[ty, tx] >= 2:
        assert (iy, ix) == (ty, tx)
    else:
        assert count[iy, ix] == count.max()
    conv = a.status == Status.CONVERGED
    assert conv.sum() >= 2 and np.isfinite(a.sharpness[conv]).all()
    code, stdout, err = call(capsys, "plot", "adaptivity", sweep, "-o", tmp_path / "a.png")
    assert code == 0, err


def test_adaptivity_says_what_is_wrong(sweep, tmp_path, capsys):
    code, _, err = call(capsys, "plot", "adaptivity", sweep, "-o", tmp_path / "a.png",
                        "--x0", "2", "--y0", "2")
    assert code == 2 and "converges at none" in err and "converges at" in err
    dead = tmp_path / "dead.h5"
    eosfast.grid(res=16, x_range=(3.9, 4.0), y_range=(3.9, 4.0), eta=[0.3, 0.4], steps=100,
                 out=dead)
    code, _, err = call(capsys, "plot", "adaptivity", dead, "-o", tmp_path / "d.png")
    assert code == 2 and "no init" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "d.png").exists()


# ---------------------------------------------------------------- 12. fractal caveats


def _stripes(n=1024, seed=1):
    """Vertical stripes 24..40 px wide: lines below the stripe width, area-filling above."""
    widths = np.random.default_rng(seed).integers(24, 41, size=n)
    side = (np.searchsorted(np.cumsum(widths), np.arange(n), side="right") % 2).astype(bool)
    return np.broadcast_to(side, (n, n)).copy()


def _carpet(level):
    a = np.ones((1, 1), bool)
    for _ in range(level):
        z = np.zeros_like(a)
        a = np.block([[a, a, a], [a, z, a], [a, a, a]])
    return a


def test_clean_power_laws_give_no_warning():
    from eosfast.fractal import analyze

    yy, xx = np.mgrid[0:512, 0:512]
    disc = analyze((xx - 255.5) ** 2 + (yy - 255.5) ** 2 < 180.0**2)
    assert abs(disc.box_dimension - 1) < 0.02 and disc.warnings() == []
    carpet = analyze(_carpet(6))
    assert abs(carpet.box_dimension - np.log(8) / np.log(3)) < 0.03
    assert carpet.warnings() == []


def test_drifting_slopes_are_reported():
    """Stripes: slope 1 (lines) below the stripe width, 2 (every box cut) above."""
    from eosfast.fractal import analyze

    r = analyze(_stripes())
    slopes = r.fit_slopes()
    assert slopes[0] == pytest.approx(1.0, abs=0.05) and slopes[-1] > 1.7
    assert any("drift" in w and "not one power law" in w for w in r.warnings())
    assert r.to_dict()["warnings"] == r.warnings()


def test_disagreeing_estimates_are_reported():
    """Box counting over the line scales, the uncertainty exponent over the area scales."""
    from eosfast.fractal import analyze

    r = analyze(_stripes(), fit=(2, 8), uncertainty_fit=(64, 256))
    assert r.box_dimension == pytest.approx(1.0, abs=0.01)
    assert r.uncertainty_dimension > 1.8
    assert any("disagree" in w for w in r.warnings())


def test_ln2_line_explains_itself(tmp_path, capsys):
    from eosfast.fractal import analyze

    two = analyze(_stripes(256))
    assert two.n_classes == 2 and not two.ln2_criterion
    assert "two classes S_bb can never exceed ln 2" in two.ln2_note()
    rng = np.random.default_rng(0)
    three = analyze(rng.integers(-1, 2, size=(256, 256)).astype(np.int8), classes="status")
    assert three.n_classes == 3 and three.ln2_criterion and "sufficient" in three.ln2_note()
    path = tmp_path / "f.h5"
    eosfast.grid(res=256, x_range=(3.0, 3.4), y_range=(0.1, 0.5), eta=0.25, steps=3000,
                 out=path)
    code, stdout, _ = call(capsys, "fractal", path)
    # two classes: the criterion cannot fire, so the text leaves it out (issue 25);
    # --json keeps the note
    assert code == 0 and "ln 2" not in stdout
    code, stdout, _ = call(capsys, "fractal", path, "--json")
    assert "can never exceed ln 2" in json.loads(stdout)["ln2_note"]


# ---------------------------------------------------------------- 13. plots

#: Machado, Oliveira & Fernandes (2009) colour-vision-deficiency matrices, severity 1,
#: on linear RGB.
CVD = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _lab(hex_colour, matrix):
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lin = np.clip(matrix @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", sorted(CVD))
def test_outcome_palette_is_distinct_for_colour_blind_readers(vision):
    from eosfast.status import COLORS

    lab = {s: _lab(c, CVD[vision]) for s, c in COLORS.items()}
    for a, b in itertools.combinations(lab, 2):
        assert np.linalg.norm(lab[a] - lab[b]) > 40, (vision, a.label, b.label)


def test_filmstrip_has_axes_legend_and_the_basin_palette(tmp_path):
    from eosfast.plots.base import status_style
    from eosfast.plots.zoom import filmstrip_figure

    z = eosfast.zoom(levels=2, res=64, steps=300)
    fig = filmstrip_figure(z)
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 2
    cmap, norm, _ = status_style()
    for ax, level in zip(axes, z.levels, strict=True):
        assert ax.get_xlabel() and ax.get_ylabel() and len(ax.get_xticks()) >= 2
        im = ax.images[0]
        assert im.cmap.colors == cmap.colors
        assert np.array_equal(im.get_array(), level.status)
        lo, hi = sorted(ax.get_xlim())
        assert lo <= level.x_range[0] and hi >= level.x_range[1]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        s.label for s in (Status.CONVERGED, Status.PERIODIC, Status.BOUNDED, Status.DIVERGED)]


def test_loss_range_shows_the_bulk_not_the_outliers():
    from eosfast.plots.base import new_figure
    from eosfast.plots.basins import basin, loss_range

    rng = np.random.default_rng(0)
    loss = 10.0 ** rng.uniform(-26, -24, size=(100, 100))
    loss.flat[:50] = 1e-2  # 0.5% of points bounded at the cap
    lo, hi = loss_range(loss)
    assert 1e-26 <= lo < 1e-25 and 1e-25 < hi <= 1e-24
    r = eosfast.grid(res=64, steps=2000)
    (im,) = basin(new_figure().subplots(), r, "loss")
    want = loss_range(r.loss[0])
    assert (im.norm.vmin, im.norm.vmax) == pytest.approx(want)


def test_percentages_say_of_what(tmp_path):
    from eosfast.plots.base import new_figure
    from eosfast.plots.basins import basin, concentration

    r = eosfast.grid(res=128, steps=3000)
    ax = new_figure().subplots()
    basin(ax, r, "sharpness")
    conv = int(np.count_nonzero(r.status == Status.CONVERGED))
    (text,) = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"of the {conv} converged inits" in text
    ax = new_figure().subplots()
    concentration(ax, r)
    assert "of them in the band" in ax.get_title()


def test_large_grid_is_drawn_at_the_images_resolution(tmp_path, monkeypatch):
    import eosfast.readers as readers
    from eosfast.plots import render_file

    path = tmp_path / "g.h5"
    eosfast.grid(res=512, steps=200, out=path)
    sels = []
    real = readers.read_array

    def spy(f, name, sel=slice(None)):
        sels.append((name, sel))
        return real(f, name, sel)

    monkeypatch.setattr(readers, "read_array", spy)
    import matplotlib.axes

    drawn = []
    real_imshow = matplotlib.axes.Axes.imshow

    def imshow(self, data, *a, **k):
        drawn.append(np.asarray(data))
        return real_imshow(self, data, *a, **k)

    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", imshow)
    render_file("basin", path, tmp_path / "b.png", field="steps", dpi=10)  # 85 px wide
    assert {name for name, _ in sels} == {"status", "steps"}
    assert all(sel[1].step == 6 and sel[2].step == 6 for _, sel in sels)  # 512 // 85
    assert all(d.shape == (86, 86) for d in drawn)
    full = eosfast.read_grid(path, fields=["status"]).status[0]
    assert np.array_equal(eosfast.read_grid(path, fields=["status"], stride=6).status[0],
                          full[::6, ::6])
    with h5py.File(path) as f:
        assert f["status"].shape == (1, 512, 512)
