"""Fractal analysis against outside truths: smooth curves, the Sierpinski carpet, entropies."""

import json
import math

import numpy as np
import pytest

import eosfast
from eosfast import fractal as F
from eosfast.errors import EosfastError

CARPET_D = math.log(8) / math.log(3)  # 1.8928 (Hausdorff = box dimension)


# ---------------------------------------------------------------------------
# synthetic rasters, defined in the continuum and point-sampled
# ---------------------------------------------------------------------------


def disc(n, radius=0.36, centre=(0.503, 0.471)):
    """Inside of a circle in the unit square, sampled at n x n pixel centres."""
    u = (np.arange(n) + 0.5) / n
    return (u[None, :] - centre[0]) ** 2 + (u[:, None] - centre[1]) ** 2 < radius**2


def half_plane(n, slope=0.37, offset=0.31):
    """Above a tilted straight line."""
    u = (np.arange(n) + 0.5) / n
    return u[:, None] > offset + slope * u[None, :]


def carpet(n, levels=None):
    """The Sierpinski carpet in the unit square at n x n pixel centres.

    A point is removed when, at one of the first ``levels`` ternary digits, both
    of its digits are 1; by default down to holes of one pixel or more. With
    ``n = 3**L`` the samples align with the construction; other ``n`` do not.
    """
    levels = levels or int(math.log(n) / math.log(3) + 1e-9)
    u = (np.arange(n) + 0.5) / n
    keep = np.ones((n, n), dtype=bool)
    for _ in range(levels):
        u = u * 3
        d = np.floor(u).astype(int)
        u = u - d
        keep &= ~((d[:, None] == 1) & (d[None, :] == 1))
    return keep


# ---------------------------------------------------------------------------
# plain references
# ---------------------------------------------------------------------------


def naive_box_counts(mask, s):
    """Closed boxes of side s holding both values, by looping over boxes."""
    ny, nx = mask.shape
    n = 0
    for i in range(0, ny - 1, s):
        for j in range(0, nx - 1, s):
            block = mask[i:i + s + 1, j:j + s + 1]
            n += bool(block.any() and not block.all())
    return n


def naive_uncertain(mask, eps, border):
    ny, nx = mask.shape
    hits = total = 0
    for i in range(border, ny - border):
        for j in range(border, nx - border):
            v = mask[i, j]
            nb = (mask[i - eps, j], mask[i + eps, j], mask[i, j - eps], mask[i, j + eps])
            hits += any(w != v for w in nb)
            total += 1
    return hits / total


def test_box_counts_match_plain_loops():
    rng = np.random.default_rng(3)
    for shape in [(37, 53), (64, 64), (33, 17)]:
        mask = rng.random(shape) < 0.08
        mask[5:20, 3:30] = True
        sizes, counts = F.box_counts(mask)
        assert sizes[0] == 1 and sizes[-1] >= max(shape) - 1
        for s, n in zip(sizes, counts, strict=True):
            assert n == naive_box_counts(mask, int(s)), (shape, s)


def test_uncertain_fraction_matches_plain_loops():
    rng = np.random.default_rng(4)
    mask = rng.random((41, 45)) < 0.3
    mask[:, 20:] = rng.random((41, 25)) < 0.9
    eps = np.array([1, 2, 4, 8])
    got = F.uncertain_fraction(mask, eps)
    want = [naive_uncertain(mask, e, border=8) for e in eps]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------
# dimensions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [disc, half_plane], ids=["disc", "line"])
def test_smooth_boundary_measures_one(make):
    res = F.analyze(make(512))
    assert abs(res.box_dimension - 1.0) < 0.03
    assert res.box_dimension_err < 0.05
    assert abs(res.uncertainty_exponent - 1.0) < 0.03
    assert abs(res.uncertainty_dimension - 1.0) < 0.03
    assert res.fractality_test == "smooth"
    assert not res.ln2_criterion


def test_smooth_boundary_local_slopes_are_one():
    res = F.analyze(disc(1024))
    lo, hi = res.box_fit
    inside = (res.box_sizes[:-1] >= lo) & (res.box_sizes[1:] <= hi)
    np.testing.assert_allclose(res.local_slopes[inside], 1.0, atol=0.04)


@pytest.mark.parametrize("n", [729, 1024])
def test_sierpinski_carpet_measures_log8_over_log3(n):
    res = F.analyze(carpet(n))
    assert abs(res.box_dimension - CARPET_D) < 0.03, res.box_dimension
    assert abs(res.uncertainty_dimension - CARPET_D) < 0.08
    assert res.fractality_test == "fractal"


def test_dimension_is_stable_under_refinement():
    """The same window sampled 2x finer, boxes of the same physical size."""
    for make, want in [(carpet, CARPET_D), (disc, 1.0)]:
        coarse = F.analyze(make(1024), fit=(4, 64))
        fine = F.analyze(make(2048), fit=(8, 128))
        assert abs(coarse.box_dimension - fine.box_dimension) < 0.02
        assert abs(fine.box_dimension - want) < 0.03
        assert abs(coarse.uncertainty_exponent - fine.uncertainty_exponent) < 0.05


def test_no_boundary_gives_nan_not_an_error():
    res = F.analyze(np.zeros((64, 64), dtype=bool))
    assert math.isnan(res.box_dimension) and math.isnan(res.uncertainty_exponent)
    assert res.basin_entropy == 0.0 and math.isnan(res.boundary_basin_entropy)
    d = res.to_dict()
    assert d["box_dimension"] is None
    json.dumps(d, allow_nan=False)


# ---------------------------------------------------------------------------
# basin entropy and the fractality test
# ---------------------------------------------------------------------------


def test_basin_entropy_known_cases():
    yy, xx = np.mgrid[0:60, 0:60]
    # a one-pixel checkerboard: every 2x2 box is half and half
    e = F.basin_entropy(((xx + yy) % 2).astype(np.int8), box=2)
    sb, sbb, nb, n = e.s_b, e.s_bb, e.boundary_boxes, e.boxes
    assert (nb, n) == (900, 900)
    assert sb == pytest.approx(math.log(2)) and sbb == pytest.approx(math.log(2))
    # three vertical stripes of one pixel: every 3x3 box holds a third of each
    stripes = (xx % 3).astype(np.int8)
    e = F.basin_entropy(stripes, box=3)
    sb, sbb = e.s_b, e.s_bb
    assert sb == pytest.approx(math.log(3)) and sbb == pytest.approx(math.log(3))
    # a vertical cut through the middle of one column of 4x4 boxes
    cut = (xx >= 22).astype(np.int8)  # boxes span columns 20..23
    e = F.basin_entropy(cut, box=4)
    sb, sbb, nb, n = e.s_b, e.s_bb, e.boundary_boxes, e.boxes
    assert (nb, n) == (15, 225)
    assert sbb == pytest.approx(math.log(2)) and sb == pytest.approx(math.log(2) / 15)
    # the same cut on a box edge: no boundary box at all
    e = F.basin_entropy((xx >= 20).astype(np.int8), box=4)
    sb, sbb, nb = e.s_b, e.s_bb, e.boundary_boxes
    assert sb == 0.0 and nb == 0 and math.isnan(sbb)


def test_ln2_criterion_needs_three_classes():
    yy, xx = np.mgrid[0:240, 0:240]
    status = np.choose(xx % 3, [1, 2, -1]).astype(np.int8)  # converged/periodic/diverged
    two = F.analyze(status, entropy_box=3)  # default: diverged against the rest
    assert two.n_classes == 2 and two.boundary_basin_entropy <= math.log(2) + 1e-12
    assert not two.ln2_criterion
    three = F.analyze(status, classes="outcome", entropy_box=3)
    assert three.n_classes == 3
    assert three.boundary_basin_entropy == pytest.approx(math.log(3))
    assert three.ln2_criterion


def test_smooth_sbb_constant():
    """Mean entropy of a disc cut by a line at a uniform distance (Puy et al. 2021)."""
    u = (np.arange(200000) + 0.5) / 200000
    p = (np.arccos(u) - u * np.sqrt(1 - u * u)) / np.pi
    h = -p * np.log(p) - (1 - p) * np.log(1 - p)
    assert h.mean() == pytest.approx(F.SMOOTH_SBB_2D, abs=2e-6)


def test_fractality_test_is_deterministic_and_seeded():
    lab = carpet(729).astype(np.int8)
    a = F.fractality_test(lab, radius=10, n=500, seed=1)
    b = F.fractality_test(lab, radius=10, n=500, seed=1)
    assert a == b and a.verdict == "fractal" and a.balls == 500


# ---------------------------------------------------------------------------
# inputs, status codes, grid results
# ---------------------------------------------------------------------------


def test_status_codes_split():
    status = np.ones((64, 64), dtype=np.int8)
    status[:, 40:] = -1
    status[10, 10] = 2  # an isolated bounded point: not on the converge/diverge boundary
    assert F.boundary_mask(status).sum() == 64 * 24
    assert F.boundary_mask(status, "converged").sum() == 64 * 40 - 1
    lab, n = F.class_labels(status, "status")
    assert n == 3 and lab.dtype == np.int8 and set(np.unique(lab)) == {0, 1, 2}
    res = F.analyze(status)
    assert res.fraction == pytest.approx(24 / 64)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), bool), np.zeros((3, 30, 30), np.int8),
                                 np.zeros((30, 30))])
def test_bad_rasters_raise_user_errors(bad):
    with pytest.raises(EosfastError):
        F.analyze(bad)


def test_bad_options_raise_user_errors():
    with pytest.raises(EosfastError):
        F.analyze(disc(64), fit=(8, 4))
    with pytest.raises(EosfastError):
        F.analyze(disc(64), split="sideways")
    with pytest.raises(EosfastError):
        F.analyze(disc(64), radius=40)


def test_deg2_grid_boundary_is_smooth():
    """deg2's converge/diverge boundary is a smooth curve (math.md section 5)."""
    g = eosfast.grid("deg2", 512, steps=2000, eta=0.2)
    res = F.analyze(g)
    assert abs(res.box_dimension - 1.0) < 0.05
    assert abs(res.uncertainty_dimension - 1.0) < 0.05
    assert res.fractality_test == "smooth"
    assert res.meta["model"] == "deg2" and res.meta["eta"] == 0.2
    assert res.pixel == pytest.approx((4 / 511, 4 / 511))
    # the three-outcome classes see deg2's isolated non-converging points
    assert F.analyze(g, classes="outcome").n_classes == 3


def test_grid_result_with_several_etas_needs_one():
    g = eosfast.grid("deg2", 64, steps=500, eta=[0.1, 0.2])
    with pytest.raises(EosfastError, match="choose one eta"):
        F.analyze(g)
    assert F.analyze(g, eta=0.1).meta["eta"] == 0.1


def test_plot_box_counts():
    from eosfast.plots import plot_box_counts

    ax = plot_box_counts(F.analyze(carpet(243)))
    assert ax.get_xlabel().startswith("ln(1/")
    assert len(ax.lines) == 3


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deg2_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fractal") / "deg2.h5"
    eosfast.grid("deg2", 256, steps=1000, eta=[0.1, 0.2], out=path)
    return path


def test_cli_json(run_cli, deg2_file, tmp_path):
    png = tmp_path / "n.png"
    rc, out, err = run_cli("fractal", deg2_file, "--eta", "0.2", "--json", "--plot", png)
    assert rc == 0, err
    d = json.loads(out)
    for key in ["box_dimension", "box_dimension_err", "uncertainty_exponent",
                "basin_entropy", "boundary_basin_entropy", "box_fit", "local_slopes",
                "fractality_test", "entropy_box"]:
        assert key in d
    assert abs(d["box_dimension"] - 1.0) < 0.1
    assert d["eta"] == 0.2 and d["model"] == "deg2"
    assert png.stat().st_size > 1000


def test_cli_text_and_missing_file(run_cli, deg2_file, tmp_path):
    rc, out, err = run_cli("fractal", deg2_file, "--eta", "0.1")
    assert rc == 0, err
    assert out.strip().splitlines()[-1].startswith(f"{deg2_file}: D_box = ")
    rc, out, err = run_cli("fractal", tmp_path / "missing.h5")
    assert rc == 2 and err.count("\n") == 1 and "no such file" in err


@pytest.mark.parametrize("extra", [(), ("--eta", "0.3"), ("--eta", "0.2", "--fit", "8", "2"),
                                   ("--eta", "0.2", "--radius", "500")],
                         ids=["no-eta", "eta-absent", "bad-fit", "bad-radius"])
def test_cli_user_errors_exit_2(deg2_file, capsys, extra):
    from eosfast.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["fractal", str(deg2_file), *extra])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("eosfast: error: ") and err.count("\n") == 1


def test_fractality_test_equals_a_brute_force_draw():
    """Skipping one-class balls changes nothing: every drawn ball, entropy by hand."""
    rng = np.random.default_rng(5)
    lab = (rng.random((120, 150)) < 0.02).astype(np.int8)  # specks: most balls pure
    lab[60:, 70:] = 2
    radius, n, seed = 4, 60, 3
    got = F.fractality_test(lab, radius=radius, n=n, seed=seed, n_classes=3)
    draw = np.random.default_rng(seed)
    oy, ox = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    inside = oy**2 + ox**2 <= radius**2
    kept, drawn, batch = [], 0, max(4 * n, 4096)
    while len(kept) < n and drawn < 200 * n:
        cy = draw.integers(radius, 120 - radius, batch)
        cx = draw.integers(radius, 150 - radius, batch)
        for y, x in zip(cy, cx, strict=True):
            ball = lab[y - radius:y + radius + 1, x - radius:x + radius + 1][inside]
            p = np.bincount(ball, minlength=3) / ball.size
            h = -sum(v * math.log(v) for v in p if v > 0)
            if h > 0:
                kept.append(h)
        drawn += batch
    kept = np.array(kept[:n])
    assert got.balls == n
    assert got.sbb == pytest.approx(kept.mean(), rel=1e-12)
