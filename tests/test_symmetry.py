"""Symmetric grids compute one half and mirror it: the same arrays as computing both."""

import h5py
import numpy as np
import pytest

import eosfast
from eosfast.grid import make_spec
from eosfast.stoprule import StopRule
from eosfast.store.layouts import GRID_FIELDS
from eosfast.tiles import compute_points

SYMMETRIC = [name for name, m in eosfast.NETWORKS.items() if m.p == m.q]


def same(a, b):
    for name in GRID_FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


@pytest.mark.parametrize("model", ["zhu4", "deg2", "deg6"])
def test_the_kernel_commutes_with_the_swap_bit_for_bit(model):
    """Every field at (y, x) is that at (x, y), with the final x and y exchanged."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-3.0, 3.0, 4000)
    y = rng.uniform(-3.0, 3.0, 4000)
    eta = rng.choice([0.05, 0.2, 0.3, 0.6], 4000)
    a = compute_points(model, x, y, eta, StopRule(3000, 1e-12, 1e3))
    b = compute_points(model, y, x, eta, StopRule(3000, 1e-12, 1e3))
    for name in ("status", "steps", "period", "sharpness", "loss"):
        assert np.array_equal(a[name], b[name], equal_nan=True), name
    assert np.array_equal(a["x"], b["y"], equal_nan=True)
    assert np.array_equal(a["y"], b["x"], equal_nan=True)
    assert len(set(a["status"].tolist())) >= 3  # the draw covers several outcomes


@pytest.mark.parametrize("model", SYMMETRIC)
def test_mirrored_grid_equals_the_full_grid(model):
    # 150 points with 64-point tiles: partial tiles at the edges and on the diagonal
    kw = dict(res=150, x_range=(-0.5, 3.5), y_range=(-0.5, 3.5), eta=[0.2, 0.45],
              steps=2000, tile=64)
    half = eosfast.grid(model, **kw)
    full = eosfast.grid(model, **kw, symmetry=False)
    same(half, full)
    spec = make_spec(model, **kw)
    assert spec.mirror
    # 3 x 3 tiles per slice: 3 on the diagonal and 3 above it are computed
    assert len(spec.sources()) == 2 * (3 + 3)
    assert sorted(t for s in spec.sources() for t in spec.covered(s)) == list(range(18))


def test_asymmetric_grids_and_models_are_computed_whole():
    assert not make_spec("deg3", 64).mirror  # x y^2: no swap symmetry
    assert not make_spec("zhu4", 64, x_range=(0, 4), y_range=(0, 3)).mirror
    assert not make_spec("zhu4", 64, res_x=64, res_y=65).mirror
    assert not make_spec("zhu4", 64, tile=(16, 32)).mirror
    assert not make_spec("zhu4", 64, symmetry=False).mirror
    assert make_spec("zhu4", 64).mirror


def test_mirrored_file_equals_the_full_file(run_cli, tmp_path):
    args = ["grid", "--res", "200", "--tile", "48", "--steps", "2000", "--eta", "0.2",
            "--eta", "0.3", "-q"]
    a, b = tmp_path / "half.h5", tmp_path / "full.h5"
    assert run_cli(*args, "-o", a)[0] == 0
    assert run_cli(*args, "--no-symmetry", "-o", b)[0] == 0
    with h5py.File(a) as f, h5py.File(b) as g:
        for name in [*GRID_FIELDS, "eta", "y0", "x0", "resume/tile_done"]:
            assert np.array_equal(f[name][()], g[name][()], equal_nan=True), name
    assert eosfast.read_grid(a).iterations() == eosfast.read_grid(b).iterations()


def test_a_resume_computes_exactly_the_tiles_not_done():
    """Without mirroring a tile is its own job: a done tile is never computed again because
    its transpose is not done (a zoom resume once spent each run recomputing those, so
    runs stopped every few seconds made no progress); with mirroring, a job is left out
    only when both of its tiles are done."""
    spec = make_spec("zhu4", 64, tile=16, symmetry=False)  # 4 x 4 tiles
    assert not spec.mirror
    done = np.zeros(spec.ntiles, bool)
    done[[1, 2, 7]] = True  # their transposes 4, 8, 13 are not done
    assert spec.sources(done) == [i for i in range(16) if i not in (1, 2, 7)]
    half = make_spec("zhu4", 64, tile=16)
    assert half.mirror
    done = np.zeros(half.ntiles, bool)
    done[[1, 4, 2]] = True  # the job on tile 1 delivers tiles 1 and 4: both done
    assert 1 not in half.sources(done) and 2 in half.sources(done)
    assert sorted(t for s in half.sources(done) for t in half.covered(s)) == \
        [t for t in range(16) if t not in (1, 4)]
