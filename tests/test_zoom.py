"""Nested zoom grids: windows, the float64 floor, the file, the images, the command."""

import json
import math
import warnings

import h5py
import numpy as np
import pytest

from eosfast.errors import EosfastError
from eosfast.zoom import (
    WARN_ULPS,
    ZoomBoundaryWarning,
    ZoomPrecisionWarning,
    levels_that_fit,
    read_zoom,
    window,
    zoom,
)

# a point of deg2's smooth converge/diverge boundary at eta = 0.2, found by tracking
DEG2 = dict(model="deg2", center=(3.0, 1.0), width=2.0, eta=0.2, steps=2000)


def test_window_and_ulps():
    xr, yr, ulps = window((3.2, 0.3), 0.4, 1025)
    assert xr == pytest.approx((3.0, 3.4)) and yr == pytest.approx((0.1, 0.5))
    # the coarser float64 spacing of the two axes decides: that of |x| ~ 3.4
    assert ulps == pytest.approx(0.4 / 1024 / np.spacing(3.4000000000000004))
    # at 1.5 ulps per pixel of 2.0, 101 points span 150 ulps
    w = 150 * np.spacing(2.0)
    assert window((2.0 + w, 0.0), w, 101)[2] == pytest.approx(1.5, rel=1e-6)


def test_levels_that_fit_counts_down_to_the_floor():
    # pixel 4/1023 at |x| ~ 4: 2**-52 * 4 spacing; magnification 2 halves it each level
    n = levels_that_fit((2.0, 2.0), 4.0, 2.0, 1024, floor=1.0)
    pixel = 4.0 / 1023
    want = math.floor(math.log2(pixel / np.spacing(4.0))) + 1
    assert abs(n - want) <= 1


def test_too_deep_a_zoom_is_refused_before_computing():
    with pytest.raises(EosfastError, match="ulps of float64"):
        zoom("zhu4", (3.2, 0.3), magnification=1e3, levels=6, res=64)


@pytest.mark.parametrize("kw", [dict(magnification=1.0), dict(levels=0), dict(res=8),
                                dict(center=(1.0,)), dict(width=-1.0)])
def test_bad_arguments(kw):
    args = dict(model="deg2", res=64, levels=1) | kw
    with pytest.raises(EosfastError):
        zoom(**args)


def test_precision_warning_near_float64_resolution():
    c = 3.0
    width = 300 * np.spacing(c) * 63  # 300 ulps per pixel
    with pytest.warns(ZoomPrecisionWarning, match="ulps of float64"):
        warnings.simplefilter("ignore", ZoomBoundaryWarning)
        res = zoom("deg2", (c, 1.0), width=width, levels=1, res=64, steps=200)
    assert res.levels[0].ulps_per_pixel < WARN_ULPS


def test_deg2_zoom_is_smooth_at_every_level(tmp_path):
    out = tmp_path / "z.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZoomBoundaryWarning)  # tracking keeps the boundary
        res = zoom(**DEG2, magnification=4.0, levels=3, res=256, track=True, out=out,
                   filmstrip=tmp_path / "z.png", animation=tmp_path / "z.gif")
    assert res.path == out and not (tmp_path / "z.h5.part").exists()
    for level in res.levels:
        assert abs(level.fractal.box_dimension - 1.0) < 0.06, level.summary()
    ws = [lv.x_range[1] - lv.x_range[0] for lv in res.levels]
    np.testing.assert_allclose(ws, [2.0, 0.5, 0.125])
    assert (tmp_path / "z.png").stat().st_size > 1000
    from PIL import Image  # Pillow comes with matplotlib: the GIF is always written

    with Image.open(tmp_path / "z.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 2 * 12 + 1
    assert res.images == [tmp_path / "z.png", tmp_path / "z.gif"]

    with h5py.File(out) as f:
        assert f.attrs["kind"] == "eosfast.zoom" and f.attrs["complete"] == 1
        assert sorted(f) == ["level_00", "level_01", "level_02"]
        g = f["level_01"]
        assert g["status"].shape == (1, 256, 256) and g["status"].dtype == np.int8
        assert g.attrs["zoom"] == 4.0
        np.testing.assert_allclose(g.attrs["x_range"], res.levels[1].x_range)
        d = json.loads(g.attrs["fractal"])
        assert d["box_dimension"] == pytest.approx(g.attrs["box_dimension"])
        assert json.loads(f.attrs["params"])["track"] is True

    back = read_zoom(out)
    assert len(back.levels) == 3
    for a, b in zip(back.levels, res.levels, strict=True):
        np.testing.assert_array_equal(a.status, b.status)
        assert a.fractal.box_dimension == pytest.approx(b.fractal.box_dimension)

    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    ds = xr.open_dataset(out, group="level_02", engine="h5netcdf")
    assert ds["status"].dims == ("eta", "y0", "x0")
    ds.close()

    with pytest.raises(EosfastError, match="exists"):
        zoom(**DEG2, levels=1, res=64, out=out)


def test_animation_without_a_writer_warns_and_writes_nothing(tmp_path, monkeypatch):
    from matplotlib import animation

    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    with pytest.warns(UserWarning, match="no ffmpeg writer"):
        res = zoom(**DEG2, levels=1, res=64, animation=tmp_path / "z.mp4")
    assert res.images == [] and not list(tmp_path.iterdir())


def test_off_boundary_levels_warn():
    with pytest.warns(ZoomBoundaryWarning):
        zoom("deg2", (1.0, 1.0), width=0.01, levels=1, res=64, steps=500)


def test_cli_zoom(run_cli, tmp_path):
    out = tmp_path / "cli.h5"
    rc, stdout, err = run_cli("zoom", "--model", "deg2", "--center", "3.0", "1.0", "--width", "2",
                              "--res", "64", "--levels", "2", "--steps", "1000", "--track",
                              "-o", out)
    assert rc == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("level 0: ") and lines[-1].startswith(f"{out}: 2 levels")
    assert out.exists() and out.with_suffix(".png").exists()
    rc, stdout, err = run_cli("zoom", "--model", "deg2", "-m", "0.5", "-o", tmp_path / "x.h5")
    assert rc == 2 and err.startswith("eosfast: error: ") and err.count("\n") == 1
