"""Adaptive refinement: exact lattices, the rule on known classifiers, files, resume."""

import json
import os
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest

import eosfast
from eosfast.fractal import box_counts
from eosfast.refine import (
    PointStore,
    RefinedLattice,
    RepeatedPoint,
    gd_flag,
    lattice_coords,
    lattice_points,
    refine_lattice,
    wilson_interval,
)
from eosfast.status import Status

FRINGE = dict(x_range=(3.0, 3.4), y_range=(0.1, 0.5))
DIV, CONV = np.int8(Status.DIVERGED), np.int8(Status.CONVERGED)


# ---------------------------------------------------------------- lattices


@pytest.mark.parametrize("lo, hi", [(3.0, 3.4), (0.1, 0.5), (0.0, 4.0), (-2.7, 1e-3),
                                    (1e-300, 3e-300), (-1e300, 1e300)])
@pytest.mark.parametrize("base, level", [(33, 0), (33, 3), (1025, 2), (129, 5)])
def test_lattice_coordinates_are_numpys_linspace_bit_for_bit(lo, hi, base, level):
    n = lattice_points(base, level)
    assert n == (base - 1) * 2**level + 1
    dense = np.linspace(lo, hi, n)
    mine = lattice_coords(lo, hi, n, np.arange(n))
    assert np.array_equal(mine.view(np.int64), dense.view(np.int64))
    # a point of level l is the even point of level l + 1: the same float64
    finer = np.linspace(lo, hi, lattice_points(base, level + 1))
    assert np.array_equal(finer[::2].view(np.int64), dense.view(np.int64))
    # any index alone gives the same bits as the whole axis
    idx = np.array([n - 1, 0, n // 3, n - 2])
    assert np.array_equal(lattice_coords(lo, hi, n, idx), dense[idx])


# ---------------------------------------------------------------- synthetic classifiers


def _classifier(truth, base, levels):
    """classify(ix, iy, level) of a function truth(x, y) -> status on [0, 1]^2."""
    calls = []

    def classify(ix, iy, level):
        n = lattice_points(base, level) - 1
        calls.append((level, ix.size))
        st = truth(np.asarray(ix) / n, np.asarray(iy) / n).astype(np.int8)
        return {"status": st}

    classify.calls = calls
    return classify


def _dense_truth(truth, base, levels):
    n = lattice_points(base, levels)
    yy, xx = np.mgrid[0:n, 0:n] / (n - 1)
    return truth(xx, yy).astype(np.int8)


def disc(x, y):
    return np.where((x - 0.43) ** 2 + (y - 0.52) ** 2 < 0.31 ** 2, CONV, DIV)


def test_a_smooth_boundary_is_found_exactly_and_cheaply():
    base, levels = 33, 4
    classify = _classifier(disc, base, levels)
    lat = refine_lattice(classify, base, levels, halo=1)
    truth = _dense_truth(disc, base, levels)
    assert np.array_equal(lat.raster(), truth)
    # a curve: the points computed grow like 2**level, not 4**level
    assert lat.store.n < 0.15 * truth.size
    # every computed point was computed once
    assert sum(c[1] for c in classify.calls) == lat.store.n
    # coarser levels are the same rule on coarser lattices
    for level in range(levels + 1):
        s = 2 ** (levels - level)
        assert np.array_equal(lat.raster(level), truth[::s, ::s])


def _island(center, radius, background=CONV):
    def truth(x, y):
        inside = (x - center[0]) ** 2 + (y - center[1]) ** 2 < radius ** 2
        return np.where(inside, DIV, background)
    return truth


def test_an_island_inside_one_base_cell_is_missed_but_verify_reports_it():
    base, levels = 17, 3
    # base cell (7, 7) spans [7/16, 8/16]: an island of radius 0.4 cells at its centre
    truth = _island((7.5 / 16, 7.5 / 16), 0.4 / 16)
    lat = refine_lattice(_classifier(truth, base, levels), base, levels, halo=1)
    dense = _dense_truth(truth, base, levels)
    assert lat.store.n == base * base  # no corner sees it: nothing refined
    wrong = lat.raster() != dense
    assert wrong.sum() > 0
    from eosfast.refine import verify_lattice

    ver = verify_lattice(lat, _classifier(truth, base, levels), 2000, seed=1)
    true_rate = wrong.sum() / (dense.size - lat.store.n)
    lo, hi = ver.interval
    assert ver.mismatches > 0 and lo <= true_rate <= hi
    # the wrong points are the island's, and verification found only them
    bad = ver.status != ver.filled
    assert np.all(dense[ver.iy[bad], ver.ix[bad]] == DIV)
    assert np.all(ver.filled == CONV)


def test_an_island_within_the_halo_of_a_boundary_is_caught():
    base, levels = 17, 3

    def truth(x, y):  # a straight boundary at x = 0.3, an island one cell to its right
        out = np.where(x < 0.3, DIV, CONV)
        island = (x - (0.3 + 1.5 / 16)) ** 2 + (y - 0.5) ** 2 < (0.3 / 16) ** 2
        return np.where(island, DIV, out)

    lat = refine_lattice(_classifier(truth, base, levels), base, levels, halo=2)
    assert np.array_equal(lat.raster(), _dense_truth(truth, base, levels))


def test_a_thin_filament_across_uniform_cells_is_followed_back():
    """A line thinner than the base spacing that no base corner touches except one end."""
    base, levels = 17, 4
    h = 1 / 16

    def truth(x, y):  # a strip of width h/6 along y = 0.5 + h/2 (between base rows),
        # which reaches the base lattice only where it widens at x < 0.1
        w = np.where(x < 0.1, 0.6 * h, h / 6)
        return np.where(np.abs(y - (0.5 + h / 2)) < w, DIV, CONV)

    classify = _classifier(truth, base, levels)
    lat = refine_lattice(classify, base, levels, halo=1)
    assert np.array_equal(lat.raster(), _dense_truth(truth, base, levels))


def _invariants(lat: RefinedLattice):
    """The two rules of eosfast.refine hold, checked by brute force on dense arrays.

    Written from the module docstring's rules, not from the lattice's own
    methods: which lattice points are computed (a dense bool array per level,
    from the store's keys), which cells are complete (four corners computed),
    flagged (corners' outcomes differ), refined (five midpoints computed), and
    the halo as a dilation by every offset within ``halo`` cells.
    """
    keys = set(lat.store.keys.tolist())
    status = dict(zip(lat.store.keys.tolist(), lat.store.field("status").tolist(), strict=True))
    L, h = lat.levels, lat.halo
    nxf = lat.nxf

    def computed(level):
        ny, nx = lat.shape(level)
        s = L - level
        have = np.zeros((ny, nx), bool)
        st = np.zeros((ny, nx), np.int8)
        for iy in range(ny):
            for ix in range(nx):
                k = (iy << s) * nxf + (ix << s)
                if k in keys:
                    have[iy, ix] = True
                    st[iy, ix] = status[k]
        return have, st

    grids = [computed(level) for level in range(L + 1)]
    for level in range(L + 1):
        have, st = grids[level]
        c = [have[:-1, :-1], have[1:, :-1], have[:-1, 1:], have[1:, 1:]]
        complete = c[0] & c[1] & c[2] & c[3]
        s = [st[:-1, :-1], st[1:, :-1], st[:-1, 1:], st[1:, 1:]]
        differ = (s[0] != s[1]) | (s[0] != s[2]) | (s[0] != s[3])
        flagged = complete & differ
        ny, nx = flagged.shape
        halo = np.zeros_like(flagged)
        for dy in range(-h, h + 1):
            for dx in range(-h, h + 1):
                src = flagged[max(0, -dy):ny - max(0, dy), max(0, -dx):nx - max(0, dx)]
                halo[max(0, dy):ny - max(0, -dy), max(0, dx):nx - max(0, -dx)] |= src
        if level < L:
            fine, _ = grids[level + 1]
            mids = [fine[1::2, 1::2], fine[0:-1:2, 1::2], fine[1::2, 0:-1:2],
                    fine[2::2, 1::2], fine[1::2, 2::2]]
            refined = mids[0] & mids[1] & mids[2] & mids[3] & mids[4]
            assert refined[halo].all(), level
        else:
            assert complete[halo].all()
    return int(grids[L][0].sum())  # every computed point lies on the finest lattice


def test_the_rules_hold_and_the_result_does_not_depend_on_batching(monkeypatch):
    base, levels = 17, 4
    def wavy(x, y):
        return np.where(y < 0.5 + 0.2 * np.sin(9 * x) * np.cos(5 * y), DIV, CONV)

    a = refine_lattice(_classifier(wavy, base, levels), base, levels, halo=1)
    assert _invariants(a) == a.store.n
    import importlib

    # one tiny batch of flagged cells a round
    monkeypatch.setattr(importlib.import_module("eosfast.refine.lattice"), "ROUND_CELLS", 3)
    b = refine_lattice(_classifier(wavy, base, levels), base, levels, halo=1)
    assert np.array_equal(np.sort(a.store.keys), np.sort(b.store.keys))
    assert np.array_equal(a.raster(), b.raster())


def test_box_counts_from_the_levels_equal_box_counts_of_the_dense_raster():
    base, levels = 17, 4

    def wavy(x, y):
        return np.where(np.sin(7 * x + 3 * np.sin(11 * y)) > 0.2, DIV, CONV)

    lat = refine_lattice(_classifier(wavy, base, levels), base, levels, halo=1)
    side = lambda s: s == DIV  # noqa: E731
    sizes, counts = lat.box_counts(side)
    dsizes, dcounts = box_counts(side(lat.raster()))
    assert np.array_equal(sizes, dsizes) and np.array_equal(counts, dcounts)
    assert counts[0] > 0


# ---------------------------------------------------------------- GD against dense grids


@pytest.fixture(scope="module")
def fringe():
    """A refined fringe (base 33, 2 levels) and the dense grid of its finest lattice."""
    r = eosfast.refine(base=33, levels=2, steps=3000, verify=300, **FRINGE)
    g = eosfast.grid(res=129, steps=3000, **FRINGE)
    return r, g


def test_every_computed_point_is_the_dense_grids_point(fringe):
    r, g = fringe
    lat = r.lattice
    y, x = np.divmod(lat.store.keys, lat.nxf)
    assert np.array_equal(lat.store.field("status"), g.status[0][y, x])
    assert np.array_equal(lat.store.field("steps"), g.steps[0][y, x])
    # the base grid is eosfast grid --res 33, every field
    b = eosfast.grid(res=33, steps=3000, **FRINGE)
    for name in ("status", "steps", "period", "sharpness", "loss", "x", "y"):
        assert np.array_equal(getattr(r.base_grid, name), getattr(b, name), equal_nan=True)
    # the raster's axes are the dense grid's, bit for bit
    ras = r.raster()
    assert np.array_equal(ras.x0, g.x0) and np.array_equal(ras.y0, g.y0)
    assert (ras.status == g.status).mean() > 0.99
    assert r.points < 0.75 * g.status.size


def test_the_whole_window_agrees_with_the_dense_grid():
    r = eosfast.refine(base=65, levels=2, steps=2000, verify=0)
    g = eosfast.grid(res=257, steps=2000)
    ras = r.raster()
    assert (ras.status == g.status).mean() > 0.999
    y, x = np.divmod(r.lattice.store.keys, r.lattice.nxf)
    assert np.array_equal(r.lattice.store.field("steps"), g.steps[0][y, x])
    assert r.points < 0.3 * g.status.size


def test_rasters_of_windows_are_the_same_points_of_the_dense_grid(fringe):
    r, g = fringe
    full = r.raster()
    for level in (0, 1, 2):
        s = 2 ** (2 - level)
        window = ((3.1, 3.25), (0.2, 0.31))
        w = r.raster(level, window=window)
        x0, y0 = g.x0[::s], g.y0[::s]
        ix = np.flatnonzero((x0 >= 3.1) & (x0 <= 3.25))
        iy = np.flatnonzero((y0 >= 0.2) & (y0 <= 0.31))
        assert np.array_equal(w.x0, x0[ix]) and np.array_equal(w.y0, y0[iy])
        assert np.array_equal(w.status[0], full.status[0][::s, ::s][np.ix_(iy, ix)])
        dense = g.status[0][::s, ::s][np.ix_(iy, ix)]
        assert (w.status[0] == dense).mean() > 0.98
    base = r.raster(0)
    assert np.array_equal(base.status, r.base_grid.status)


def test_box_counts_and_uncertainty_from_levels_equal_the_dense_raster(fringe):
    r, _ = fringe
    lat = r.lattice
    side = lambda s: s == DIV  # noqa: E731
    raster = side(lat.raster())
    sizes, counts = lat.box_counts(side)
    dsizes, dcounts = box_counts(raster)
    assert np.array_equal(sizes, dsizes) and np.array_equal(counts, dcounts)
    n = raster.shape[0]
    for border in (0, 8):
        eps, frac = lat.uncertain_fractions(side, side(r.base_grid.status[0]), border)
        assert eps[0] == 1 and eps.size >= 6
        for e, f in zip(eps, frac, strict=True):
            sub = raster[::e, ::e]
            u = np.zeros(sub.shape, bool)
            d = sub[:, 1:] != sub[:, :-1]
            u[:, 1:] |= d
            u[:, :-1] |= d
            d = sub[1:] != sub[:-1]
            u[1:] |= d
            u[:-1] |= d
            inside = (np.arange(sub.shape[0]) * e >= border) & \
                (np.arange(sub.shape[0]) * e <= n - 1 - border)
            assert f == u[inside][:, inside].mean(), (e, border)
        if border == 0:  # eps = 1 scores every point, as the dense definition does
            full = eosfast.fractal.uncertain_fraction(raster, np.array([1]))
            assert frac[0] == pytest.approx(full[0], rel=0.02)
    res = eosfast.fractal.analyze_refined(r)
    assert res.box_sizes[-1] >= 128 and 1.0 < res.box_dimension < 2.0
    assert np.array_equal(res.box_counts, dcounts)


def test_verification_brackets_the_true_rate(fringe):
    r, g = fringe
    ver = r.verification
    assert ver.points == 300
    assert np.array_equal(ver.status, g.status[0][ver.iy, ver.ix])
    assert np.all(r.lattice.store.lookup(ver.iy * r.lattice.nxf + ver.ix) < 0)
    wrong = (r.raster().status != g.status).sum()
    rate = wrong / (g.status.size - r.points)
    lo, hi = ver.interval
    assert lo <= rate <= hi


def test_wilson_interval_matches_its_closed_form():
    lo, hi = wilson_interval(0, 100)
    assert lo == 0.0 and hi == pytest.approx(1.96 ** 2 / (100 + 1.96 ** 2), rel=1e-4)
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)


def test_threads_do_not_change_anything():
    a = eosfast.refine(base=33, levels=2, steps=2000, threads=1, verify=50, **FRINGE)
    b = eosfast.refine(base=33, levels=2, steps=2000, threads=3, verify=50, **FRINGE)
    assert np.array_equal(a.lattice.store.keys, b.lattice.store.keys)
    assert np.array_equal(a.lattice.store.field("steps"), b.lattice.store.field("steps"))
    assert np.array_equal(a.verification.iy, b.verification.iy)


def test_gd_flag_uses_escape_contrast_only_for_diverging_cells():
    st = np.array([[DIV, CONV, DIV], [DIV, CONV, DIV], [DIV, CONV, DIV], [DIV, CONV, CONV]])
    steps = np.array([[3, 1900, 3], [9, 1990, 4], [3, 1900, 3], [3, 1900, 3]])
    flagged = gd_flag(3)({"status": st, "steps": steps})
    assert flagged.tolist() == [True, False, True]
    assert gd_flag(None)({"status": st, "steps": steps}).tolist() == [False, False, True]


# ---------------------------------------------------------------- files


def _datasets(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[...]) if isinstance(o, h5py.Dataset)
                     else None)
    return out


def test_file_round_trip_layout_and_readers(tmp_path, run_cli):
    path = tmp_path / "r.h5"
    code, out, err = run_cli("refine", "--base", "33", "--levels", "2", "--steps", "3000",
                             "--x-range", "3.0", "3.4", "--y-range", "0.1", "0.5",
                             "--verify", "200", "-o", path, "-q")
    assert code == 0, err
    assert out.count("\n") == 1 and "verify:" in out and "points" in out
    mem = eosfast.refine(base=33, levels=2, steps=3000, verify=200, **FRINGE)
    r = eosfast.read_refined(path)
    assert np.array_equal(np.sort(r.lattice.store.keys), np.sort(mem.lattice.store.keys))
    assert np.array_equal(r.raster().status, mem.raster().status)
    assert r.verification.mismatches == mem.verification.mismatches
    with h5py.File(path) as f:
        assert f.attrs["kind"] == "eosfast.refined" and f.attrs["complete"] == 1
        assert f["status"].shape == (1, 33, 33)
        g = f["level_02"]
        assert g["ix"].dtype == np.int32 and g["status"].dtype == np.int8
        assert g["status"].fletcher32 and g["status"].compression == "gzip"
        assert g.attrs["nx"] == 129
        keys = g["iy"][:].astype(np.int64) * 129 + g["ix"][:]
        assert np.all(np.diff(keys) > 0)
        assert json.loads(f.attrs["params"])["halo"] == eosfast.defaults.REFINE_HALO
        assert f["verify"].attrs["points"] == 200
    # the root is the base grid: a grid reader sees it
    xr = pytest.importorskip("xarray")
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert ds["status"].dims == ("eta", "y0", "x0") and ds["status"].shape == (1, 33, 33)


# The child runs the real command line and kills itself (SIGKILL: no clean-up at
# all) or interrupts itself (SIGINT) as soon as the second level's first points
# are computed, before that level is written.
_CHILD = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from eosfast.refine import PointStore
from eosfast.cli.main import main
add = PointStore.add
def add_then_signal(self, keys, values, origin):
    add(self, keys, values, origin)
    if origin == 2:
        os.kill(os.getpid(), int(os.environ["SIG"]))
PointStore.add = add_then_signal
main(sys.argv[1:])
"""


def _args(out, *extra):
    return ["refine", "--base", "33", "--levels", "3", "--steps", "3000", "--x-range", "3.0",
            "3.4", "--y-range", "0.1", "0.5", "--verify", "100", "-o", str(out), "-q", *extra]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_resume_after_a_kill_mid_level_is_bit_identical(tmp_path, run_cli, sig):
    ref = tmp_path / "ref.h5"
    code, _, err = run_cli(*_args(ref))
    assert code == 0, err
    out = tmp_path / "r.h5"
    p = subprocess.run([sys.executable, "-c", _CHILD, *_args(out)], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "SIG": str(int(sig))})
    part = tmp_path / "r.h5.part"
    assert not out.exists() and part.exists()
    if sig == signal.SIGKILL:
        assert p.returncode == -signal.SIGKILL
    else:
        assert p.returncode == 130 and "1 of 3 levels saved" in p.stderr
        assert p.stderr.count("\n") == 1
    with h5py.File(part) as f:
        assert f.attrs["levels_done"] == 1 and "level_01" in f
    partial = eosfast.read_refined(part)
    assert partial.levels == 1 and "interrupted" in partial.summary()
    code, _, err = run_cli(*_args(out))
    assert code == 2 and "--resume" in err
    code, stdout, err = run_cli(*_args(out, "--resume"))
    assert code == 0, err
    assert out.exists() and not part.exists()
    a, b = _datasets(ref), _datasets(out)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name
    code, stdout, err = run_cli(*_args(out, "--resume"))
    assert code == 0 and "nothing left to compute" in stdout


def test_resume_recomputes_a_damaged_level(tmp_path):
    kw = dict(base=17, levels=2, steps=3000, verify=20, **FRINGE)
    ref = tmp_path / "ref.h5"
    eosfast.refine(out=ref, **kw)
    part = tmp_path / "r.h5.part"
    part.write_bytes(ref.read_bytes())
    with h5py.File(part, "r+") as f:  # as if killed after level 2, before the verification
        del f["verify"]
        f.attrs["complete"] = np.int8(0)
        offset = f["level_02"]["steps"].id.get_chunk_info(0).byte_offset
    with open(part, "r+b") as fh:  # flip bytes inside level 2's first chunk
        fh.seek(offset + 8)
        fh.write(b"\xff\x00\xff\x00")
    run = eosfast.refine(out=tmp_path / "r.h5", resume=True, **kw)
    assert run.level_points == eosfast.read_refined(ref).level_points
    a, b = _datasets(ref), _datasets(tmp_path / "r.h5")
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


@pytest.mark.parametrize("where", ["itself", "a level above"])
def test_a_file_whose_level_repeats_a_point_is_refused(tmp_path, where):
    path = tmp_path / "r.h5"
    eosfast.refine(base=17, levels=2, steps=500, verify=0, out=path, **FRINGE)
    with h5py.File(path, "r+") as f:
        g = f["level_02"]
        ix, iy = g["ix"][()], g["iy"][()]
        if where == "itself":
            src = (ix[0], iy[0])
        else:  # a level-1 point, written with level-2 indices
            src = (2 * f["level_01"]["ix"][0], 2 * f["level_01"]["iy"][0])
        ix[-1], iy[-1] = src
        g["ix"][...], g["iy"][...] = ix, iy
    with pytest.raises(eosfast.EosfastError, match="level 2 repeats points"):
        eosfast.read_refined(path)


def test_a_point_store_refuses_a_repeated_point_and_stays_as_it_was():
    store = PointStore({"status": np.int8}, capacity=4)
    store.add(np.array([5, 9], np.int64), {"status": np.array([1, 2], np.int8)}, 0)
    for keys in ([11, 12, 13, 9], [20, 21, 20]):  # held already; repeated within
        with pytest.raises(RepeatedPoint):
            store.add(np.array(keys, np.int64),
                      {"status": np.zeros(len(keys), np.int8)}, 1)
        assert store.n == 2
        assert store.lookup(np.array([5, 9, 11, 20], np.int64)).tolist() == [0, 1, -1, -1]
    store.add(np.array([11, 20], np.int64), {"status": np.array([3, 4], np.int8)}, 1)
    assert store.lookup(np.array([5, 9, 11, 20], np.int64)).tolist() == [0, 1, 2, 3]


def test_reading_fewer_levels_gives_the_map_of_fewer_levels(tmp_path):
    kw = dict(steps=2000, verify=0, **FRINGE)
    path = tmp_path / "r.h5"
    eosfast.refine(base=17, levels=3, out=path, **kw)
    two = eosfast.read_refined(path, levels=2)
    fresh = eosfast.refine(base=17, levels=2, **kw)
    assert two.levels == 2 and "interrupted" not in two.summary()
    assert np.array_equal(np.sort(two.lattice.store.keys), np.sort(fresh.lattice.store.keys))
    assert np.array_equal(two.raster().status, fresh.raster().status)


def test_resume_refuses_other_parameters(tmp_path):
    path = tmp_path / "r.h5"
    eosfast.refine(base=17, levels=1, steps=500, verify=0, out=path)
    with pytest.raises(eosfast.EosfastError, match="other parameters"):
        eosfast.refine(base=17, levels=2, steps=500, verify=0, out=path, resume=True)
    with pytest.raises(eosfast.EosfastError, match="exists"):
        eosfast.refine(base=17, levels=1, steps=500, verify=0, out=path)


# ---------------------------------------------------------------- command line


@pytest.mark.parametrize("args, words", [
    (["--base", "1"], "--base"), (["--levels", "-1"], "--levels"),
    (["--halo", "0"], "--halo"), (["--eta", "0"], "--eta"),
    (["--x-range", "1", "0"], "--x-range"), (["--verify", "-3"], "--verify"),
    (["--base", "1025", "--levels", "24"], "2^30"), (["--model", "nosuch"], "nosuch"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, run_cli, args, words):
    code, out, err = run_cli("refine", *args, "-o", tmp_path / "x.h5", "-q")
    assert code == 2 and err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_plot_zoom_and_fractal_draw_from_the_file(tmp_path, run_cli):
    path = tmp_path / "r.h5"
    eosfast.refine(base=33, levels=2, steps=3000, verify=0, out=path, **FRINGE)
    code, out, err = run_cli("plot", "basin", path, "-o", tmp_path / "b.png")
    assert code == 0 and (tmp_path / "b.png").stat().st_size > 1000, err
    code, out, err = run_cli("plot", "basin", path, "-o", tmp_path / "c.png", "--field",
                             "steps")
    assert code == 2 and "exist only at the points it computed" in err
    code, out, err = run_cli("fractal", path, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["refined"] and d["box_sizes"][-1] >= 128 and len(d["local_slopes"]) >= 7
    for key in ("box_dimension", "box_dimension_err", "uncertainty_exponent",
                "basin_entropy", "boundary_basin_entropy"):
        assert key in d
    z = eosfast.zoom(source=path, center=(3.2, 0.3), width=0.4, magnification=2.0, levels=2,
                     res=64, out=tmp_path / "z.h5")
    assert z.model == "zhu4" and z.params["source"] == str(path)
    r = eosfast.read_refined(path)
    lv = z.levels[1]
    ras = r.raster(2, window=(lv.x_range, lv.y_range))
    assert np.array_equal(lv.status, ras.status[0]) and np.array_equal(lv.x0, ras.x0)
    with pytest.raises(eosfast.EosfastError, match="leaves"):
        eosfast.zoom(source=path, center=(3.5, 0.3), width=0.4, levels=1, res=64)


def test_info_summarises_a_refined_map(tmp_path, run_cli):
    # Each level's outcome counts must be those of a dense grid on that
    # level's lattice at the points the level computed (every computed point
    # is the dense grid's point), read back by h5py, not by the reader.
    path = tmp_path / "r.h5"
    code, _, err = run_cli("refine", "--base", "17", "--levels", "2", "--steps", "3000",
                           "--x-range", "3.0", "3.4", "--y-range", "0.1", "0.5",
                           "--verify", "50", "-o", path, "-q")
    assert code == 0, err
    code, text, err = run_cli("info", path)
    assert code == 0, err
    assert "eosfast refined map (complete)" in text and "level 2 (65^2 lattice)" in text
    assert "verify:" in text and "of 50 uncomputed" in text
    s = json.loads(run_cli("info", path, "--json")[1])
    assert s["kind"] == "refined" and s["complete"] and s["finest"] == [65, 65]
    assert [lv["nx"] for lv in s["levels"]] == [17, 33, 65]
    with h5py.File(path) as f:
        picks = [(slice(None), slice(None))] + [
            (f[f"level_0{k}"]["iy"][:], f[f"level_0{k}"]["ix"][:]) for k in (1, 2)]
        ver = dict(f["verify"].attrs)
    for lv, (iy, ix) in zip(s["levels"], picks, strict=True):
        dense = eosfast.grid(res=lv["nx"], steps=3000, x_range=(3.0, 3.4),
                             y_range=(0.1, 0.5), eta=0.2)
        status = dense.status[0][iy, ix]
        assert lv["points"] == status.size
        assert lv["counts"] == {st.label: int(np.count_nonzero(status == st))
                                for st in Status if st != Status.PENDING}
    assert s["points"] == sum(lv["points"] for lv in s["levels"])
    v = s["verification"]
    assert v["points"] == 50 and v["mismatches"] == ver["mismatches"]
    assert v["ci95"][0] <= v["rate"] == v["mismatches"] / 50 <= v["ci95"][1]
    # info --verify reads every chunk of every level against its checksum
    code, text, _ = run_cli("info", "--verify", path)
    assert code == 0 and "complete and intact" in text, text
    damaged = tmp_path / "d.h5"
    damaged.write_bytes(path.read_bytes())
    with h5py.File(damaged) as f:
        offset = f["level_02"]["steps"].id.get_chunk_info(0).byte_offset
    with open(damaged, "r+b") as fh:
        fh.seek(offset + 8)
        fh.write(b"\xff\x00\xff\x00")
    code, text, _ = run_cli("info", "--verify", damaged)
    assert code == 1 and "fails its checksum" in text and "level_02/steps" in text, text
    # a .part of an interrupted run says how far it got and how to finish
    part = tmp_path / "p.h5.part"
    part.write_bytes(path.read_bytes())
    with h5py.File(part, "r+") as f:
        del f["level_02"], f["verify"]
        f.attrs["levels_done"] = np.int64(1)
        f.attrs["complete"] = np.int8(0)
    code, text, err = run_cli("info", part)
    assert code == 0, err
    assert "partial: 1 of 2 levels written" in text and "--resume" in text


def test_export_and_to_frame_give_every_computed_point_as_the_dense_grid_has_it(tmp_path,
                                                                               run_cli):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "r.h5"
    kw = dict(base=17, levels=2, steps=3000, verify=0, **FRINGE)
    eosfast.refine(out=path, **kw)
    code, out, err = run_cli("export", path, "-o", tmp_path / "r.parquet", "-q")
    assert code == 0, err
    table = pd.read_parquet(tmp_path / "r.parquet")
    frame = eosfast.read_refined(path).to_frame()
    assert list(table.columns) == ["level", "x0", "y0", "status", "steps"]
    pd.testing.assert_frame_equal(table, frame)
    with h5py.File(path) as f:
        sizes = [f["status"].size] + [f[f"level_0{k}"]["ix"].size for k in (1, 2)]
    assert np.bincount(table["level"]).tolist() == sizes
    # each row is the point of a dense grid on its level's lattice: same
    # coordinates bit for bit, same outcome and step count
    for level, rows in table.groupby("level"):
        n = (17 - 1) * 2**level + 1
        dense = eosfast.grid(res=n, steps=3000, eta=0.2, **FRINGE)
        ix = np.searchsorted(dense.x0, rows["x0"].to_numpy())
        iy = np.searchsorted(dense.y0, rows["y0"].to_numpy())
        assert np.array_equal(dense.x0[ix], rows["x0"]) and np.array_equal(dense.y0[iy],
                                                                           rows["y0"])
        assert np.array_equal(dense.status[0][iy, ix], rows["status"])
        assert np.array_equal(dense.steps[0][iy, ix], rows["steps"])
    # a subset of columns, and what a refined map cannot export, in one line
    code, _, err = run_cli("export", path, "-o", tmp_path / "s.parquet", "--columns",
                           "x0,y0,status", "-q")
    assert code == 0, err
    assert list(pd.read_parquet(tmp_path / "s.parquet").columns) == ["x0", "y0", "status"]
    for args, words in [(["-o", tmp_path / "r.nc"], "Parquet"),
                        (["-o", tmp_path / "e.parquet", "--eta", "0.2"], "one step size"),
                        (["-o", tmp_path / "c.parquet", "--columns", "sharpness"], "sharpness")]:
        code, _, err = run_cli("export", path, *args, "-q")
        assert code == 2 and words in err and err.count("\n") == 1, err
        assert not (tmp_path / "r.nc").exists()


# ---------------------------------------------------------------- issue 24: size, models, options


def test_a_refinement_too_large_for_the_machine_is_refused_naming_levels(tmp_path, run_cli):
    """`refine --base 257 --levels 20` (a typo for 2) stops before its first level."""
    code, out, err = run_cli("refine", "--base", "257", "--levels", "20", "-o",
                             tmp_path / "r.h5")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "--levels 20" in err and "GiB of memory" in err and "--insist" in err
    assert os.listdir(tmp_path) == []  # nothing half-written, no .part


@pytest.mark.parametrize("base, levels", [(65, 4), (129, 3)])
def test_the_size_estimate_is_near_what_a_run_computes(base, levels):
    """The estimate, made from the base grid alone, against the points actually computed."""
    from eosfast.refine import estimate

    r = eosfast.refine(base=base, levels=levels, verify=0)
    est = estimate(r.spec, r.base_grid.status[0])
    assert 0.5 * r.points <= est.points <= 4 * r.points, (est.points, r.points)
    assert est.memory >= 13 * r.points  # at least the store's own arrays


def test_an_expression_with_a_parameter_refines_as_its_registry_twin():
    """zhu4's network map is GD on a (1 - x^2 y^2)^2 / 4 with a = 1 (registry.py)."""
    kw = dict(base=65, levels=2, steps=3000, verify=0)
    e = eosfast.refine("a*(1 - x**2*y**2)**2/4", model_params={"a": 1.0}, **kw)
    z = eosfast.refine("zhu4", **kw)
    assert np.array_equal(e.lattice.store.keys, z.lattice.store.keys)
    se, sz = e.lattice.store.field("status"), z.lattice.store.field("status")
    # the one point where they may differ is the saddle at the origin: a critical
    # point where the expression's gradient test says "converged" and the network
    # "period 1"; every basin and every refined point agree
    differ = np.flatnonzero(se != sz)
    assert all(e.lattice.store.keys[i] == 0 for i in differ)
    assert e.spec.model_params == (("a", 1.0),)


def test_refine_takes_param_and_the_period_search_on_the_command_line(tmp_path, run_cli):
    out = tmp_path / "e.h5"
    code, stdout, err = run_cli("refine", "--model", "a*(1 - x**2*y**2)**2/4", "--param",
                                "a=1", "--base", "33", "--levels", "1", "--max-period", "8",
                                "--period-tol", "1e-6", "--verify", "0", "-o", out)
    assert code == 0, err
    r = eosfast.read_refined(out)
    assert r.spec.model_params == (("a", 1.0),)
    assert (r.spec.rule.max_period, r.spec.rule.period_tol) == (8, 1e-6)
    # a resume with another parameter value names it
    code, _, err = run_cli("refine", "--model", "a*(1 - x**2*y**2)**2/4", "--param", "a=2",
                           "--base", "33", "--levels", "1", "--max-period", "8",
                           "--period-tol", "1e-6", "--verify", "0", "-o", out, "--resume")
    assert code == 2 and "--param" in err and "in the file" in err, err
