"""Grids over hyperparameter planes (issue 19): any two of x0, y0, eta, eta_x, eta_y, beta.

Outside truths: every point of a plane is the plain-Python reference run
(``tests/naive.py``) with that point's parameters, bit for bit; ``beta = 0``
on a momentum plane is GD bit for bit; the file's dimensions are named for
the axes (xarray, pandas, netCDF read them so); log axes are geometric.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import eosfast
import naive
from eosfast.status import Status

FIELDS = ("status", "steps", "period", "sharpness", "loss", "x", "y")


def _check_against_reference(r, params_of, method, model="zhu4", cap=400, tol=1e-12,
                             R=1e3):
    seen = set()
    for j in range(r.y0.size):
        for i in range(r.x0.size):
            x0, y0, ex, ey, beta = params_of(j, i)
            st, t, x, y = naive.run_point_optimizer(x0, y0, ex, ey, beta, method, model, cap,
                                                    tol, R)
            seen.add(st)
            assert int(r.steps[0, j, i]) == t, (j, i)
            got = int(r.status[0, j, i])
            assert got == st if st in (1, -1) else got not in (1, -1), (j, i)
            if st != -1:
                assert (r.x[0, j, i], r.y[0, j, i]) == (x, y), (j, i)
    assert {1, -1} <= seen


def test_layer_step_size_plane_is_the_reference_point_for_point():
    r = eosfast.grid("zhu4", res=13, axes=("eta_x", "eta_y"), log=True,
                     x_range=(0.02, 0.9), y_range=(0.02, 0.9), steps=400)
    assert r.axes == ("x0", "eta_y", "eta_x")
    _check_against_reference(r, lambda j, i: (2.5, 0.35, float(r.x0[i]), float(r.y0[j]), 0.0),
                             "gd")


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_step_size_momentum_plane_is_the_reference_point_for_point(method):
    r = eosfast.grid("zhu4", res=13, axes=("eta", "beta"), optimizer=method,
                     x_range=(0.05, 0.45), y_range=(0.0, 0.9), steps=400, x0=2.0, y0=0.6)
    assert r.axes == ("x0", "beta", "eta") and r.eta.tolist() == [2.0]
    assert r.y0[0] == 0.0  # the GD row is in it
    _check_against_reference(
        r, lambda j, i: (2.0, 0.6, float(r.x0[i]), float(r.x0[i]), float(r.y0[j])), method)


def test_beta_zero_row_of_a_momentum_plane_is_gd_bit_for_bit():
    kw = dict(res=24, x_range=(0.05, 0.45), steps=2000)
    mom = eosfast.grid(axes=("eta", "beta"), optimizer="momentum", y_range=(0.0, 0.5), **kw)
    gd = eosfast.grid(axes=("eta", "y0"), y_range=(0.35, 0.35 + 1e-9), **kw)
    for f in FIELDS:  # row 0: beta = 0 / y0 = 0.35; both from x0 = 2.5
        assert getattr(mom, f)[0, 0].tobytes() == getattr(gd, f)[0, 0].tobytes(), f


def test_initial_point_plane_with_a_fixed_eta_is_the_initial_point_grid():
    """--axes x0 y0 is today's grid, the same arrays."""
    a = eosfast.grid(res=32, eta=0.25, steps=800)
    b = eosfast.grid(res=32, eta=0.25, steps=800, axes=("x0", "y0"))
    assert b.axes == ("eta", "y0", "x0")
    for f in FIELDS:
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes()


def test_plane_file_is_named_for_its_axes(tmp_path):
    import pandas as pd
    import xarray as xr

    path = tmp_path / "p.h5"
    eosfast.grid(res_x=20, res_y=10, axes=("eta_x", "eta_y"), log=("eta_x",),
                 y_range=(0.05, 0.5), steps=500, out=path)
    with h5py.File(path) as f:
        assert f.attrs["axes"] == "x0 eta_y eta_x"
        assert f["eta_x"].attrs["long_name"] == "step size of the layers carrying x"
        ex, ey = f["eta_x"][:], f["eta_y"][:]
    assert np.allclose(ex[1:] / ex[:-1], ex[1] / ex[0], rtol=1e-12)  # log
    assert np.allclose(np.diff(ey), ey[1] - ey[0], rtol=1e-9)  # linear
    assert (ex[0], ex[-1]) == (0.01, 1.0)
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert ds["status"].dims == ("x0", "eta_y", "eta_x")
    assert ds["x0"].values.tolist() == [2.5]
    df = eosfast.read_frame(path)
    assert list(df.columns[:3]) == ["x0", "eta_x", "eta_y"] and len(df) == 200
    row = df.iloc[21]  # second row, second column
    assert (row["eta_x"], row["eta_y"]) == (ex[1], ey[1])
    assert isinstance(eosfast.read_frame(path, index=True).index, pd.MultiIndex)
    r = eosfast.read_grid(path)
    assert r.axes == ("x0", "eta_y", "eta_x")
    assert r.to_xarray()["status"].dims == ("x0", "eta_y", "eta_x")


def test_plane_file_exports_info_plot_and_fractal(tmp_path, here):
    path = tmp_path / "p.h5"
    rc, out, err = here("grid", "--axes", "eta_x", "eta_y", "--log", "--res", "96", "-q",
                        "-o", path, cwd=tmp_path)
    assert rc == 0, err
    rc, out, err = here("info", path, cwd=tmp_path)
    assert rc == 0 and "points on eta_x [0.01, 1] x eta_y [0.01, 1] (log)" in out, err
    rc, out, err = here("plot", "basin", path, "-o", tmp_path / "b.png", cwd=tmp_path)
    assert rc == 0, err
    rc, out, err = here("fractal", path, "--json", cwd=tmp_path)
    assert rc == 0, err
    rc, out, err = here("export", path, "-o", tmp_path / "p.nc", cwd=tmp_path)
    assert rc == 0 and "on (x0, eta_y, eta_x)" in out, err
    rc, out, err = here("info", tmp_path / "p.nc", cwd=tmp_path)
    assert rc == 0 and "eta_x" in out, err
    rc, out, err = here("plot", "concentration", path, "-o", tmp_path / "c.png", cwd=tmp_path)
    assert rc == 2 and "plane over eta_x and eta_y" in err


def test_resume_compares_the_axes(tmp_path, here):
    path = tmp_path / "p.h5"
    rc, _, err = here("grid", "--axes", "eta_x", "eta_y", "--res", "32", "-q", "-o", path,
                      cwd=tmp_path)
    assert rc == 0, err
    rc, _, err = here("grid", "--axes", "eta_y", "eta_x", "--res", "32", "-q", "-o", path,
                      "--resume", cwd=tmp_path)
    assert rc == 2 and "--axes" in err


def test_the_edge_moves_with_momentum_on_an_eta_beta_plane():
    """Converged points are never sharper than their own threshold 2 (1 + beta)/eta."""
    r = eosfast.grid(res=64, axes=("eta", "beta"), optimizer="momentum",
                     x_range=(0.05, 0.4), y_range=(0.0, 0.9), steps=5000)
    conv = r.status[0] == Status.CONVERGED
    thr = 2 * (1 + r.y0[:, None]) / r.x0[None, :]
    assert conv.sum() > 500
    assert (r.sharpness[0][conv] <= thr[conv] * (1 + 1e-9)).all()
    near = conv & (r.sharpness[0] > 0.95 * thr)
    assert near.any()


@pytest.mark.parametrize("args,needle", [
    (["--axes", "eta", "eta"], "--axes names eta twice"),
    (["--axes", "eta", "gamma"], "unknown parameter 'gamma'"),
    (["--axes", "eta", "beta"], "an axis over beta needs --optimizer momentum or nesterov"),
    (["--axes", "beta", "eta", "--optimizer", "momentum", "--log"], "--log on beta"),
    (["--axes", "x0", "eta", "--x0", "1"], "--x0 fixes x0, which is an axis here"),
    (["--axes", "eta_x", "eta_y", "--eta", "0.3"], "--eta is used by no layer"),
    (["--axes", "eta", "y0", "--x-range", "-1", "1"], "step sizes must be positive"),
    (["--log"], "--log needs --axes"),
    (["--x0", "1"], "--x0 fixes the initial point of a plane"),
])
def test_bad_plane_input_is_one_line(here, tmp_path, args, needle):
    rc, _, err = here("grid", *args, "-o", tmp_path / "x.h5", cwd=tmp_path)
    assert rc == 2, err
    assert needle in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())
