"""The vector case (Theorem 3.2): the objective's Hessian, the plane reduction, the
sampling law, the theorem's band at small scale, and the ensemble file and command.

References from outside the code under test: the Hessian by finite differences of
the loss, dense eigenvalues (numpy.linalg), the full d-dimensional GD iteration in
plain NumPy, direct sampling of vectors on spheres, zhu4's own grid kernel, the
closed forms at minima, and math.md's numbers.
"""

from __future__ import annotations

import math
import subprocess
import sys

import h5py
import numpy as np
import pytest

import eosfast
import naive
from eosfast import vector as V
from eosfast.status import Status
from eosfast.stoprule import StopRule


def _loss(x, y):
    u = float(np.dot(x, y))
    return 0.25 * (1.0 - u * u) ** 2


def _fd_hessian(x, y, h=1e-4):
    """Second central differences of the loss itself (no gradient formula)."""
    w = np.concatenate([x, y]).astype(float)
    d = x.size
    n = w.size

    def f(v):
        return _loss(v[:d], v[d:])

    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            e_i = np.zeros(n)
            e_j = np.zeros(n)
            e_i[i] = h
            e_j[j] = h
            H[i, j] = (f(w + e_i + e_j) - f(w + e_i - e_j) - f(w - e_i + e_j)
                       + f(w - e_i - e_j)) / (4 * h * h)
    return H


def test_the_hessian_is_that_of_the_loss():
    rng = np.random.default_rng(1)
    for d in (1, 2, 3):
        x = rng.normal(size=d)
        y = rng.normal(size=d)
        np.testing.assert_allclose(V.hessian(x, y), _fd_hessian(x, y), atol=2e-6 * (
            1 + np.abs(V.hessian(x, y)).max()))


@pytest.mark.parametrize("d", [1, 2, 3, 10])
def test_the_closed_form_sharpness_is_the_top_dense_eigenvalue(d):
    rng = np.random.default_rng(d)
    for _ in range(300):
        x = rng.normal(size=d) * rng.uniform(0.05, 3)
        y = rng.normal(size=d) * rng.uniform(0.05, 3)
        top = np.linalg.eigvalsh(V.hessian(x, y)).max()
        assert V.sharpness(x, y) == pytest.approx(top, rel=1e-10, abs=1e-12)


def test_at_a_minimum_the_sharpness_is_twice_the_squared_norms():
    rng = np.random.default_rng(5)
    for d in (1, 4, 50):
        x = rng.normal(size=d)
        y = rng.normal(size=d)
        y /= np.dot(x, y)  # x^T y = 1: a global minimum
        assert V.sharpness(x, y) == pytest.approx(2 * (x @ x + y @ y), rel=1e-12)


def test_at_d_1_the_sharpness_is_zhu4_s_reduced_hessian():
    # math.md s. 2: at (0.5, 0.1) the reduced 2 x 2 Hessian's top eigenvalue is 0.0262
    assert V.sharpness(np.array([0.5]), np.array([0.1])) == pytest.approx(0.0262, abs=5e-5)


def test_the_eos_minimum_and_the_band():
    # math.md s. 2: eta = 0.01 -> (9.99950, 0.100005); eta = 0.2 -> (2.18890, 0.456850)
    assert V.eos_minimum(0.01) == pytest.approx((9.99950, 0.100005), abs=1e-5)
    assert V.eos_minimum(0.2) == pytest.approx((2.18890, 0.456850), abs=1e-5)
    x, y = V.eos_minimum(0.05)
    assert 2 * (x * x + y * y) == pytest.approx(2 / 0.05, rel=1e-13)
    assert V.sharpness_band(0.06) == pytest.approx((2 / 0.06 - 20 * 0.06 / 3, 2 / 0.06))
    with pytest.raises(eosfast.InvalidArgument):
        V.eos_minimum(0.5)


def _full_gd(x, y, eta, tol, cap, kick_step, kick_factor):
    """The d-dimensional iteration in plain NumPy: no plane, no compiled code."""
    for t in range(cap):
        if t == kick_step:
            y = y * kick_factor
        u = x @ y
        r = 1.0 - u * u
        if abs(r) < tol and t >= kick_step:
            return t, x @ x + y @ y
        c = eta * r * u
        x, y = x + c * y, y + c * x
    return cap, x @ x + y @ y


def test_gd_stays_in_the_plane_of_x0_y0_and_the_reduction_matches_d_1000():
    """Issue 20: the full d = 1000 iteration and the reduced one side by side: final
    norms agree to 1e-12 relative."""
    rng = np.random.default_rng(7)
    eta, d, n = 0.05, 1000, 6
    spec = V.make_ensemble_spec(dim=d, eta=eta, samples=n)
    u = rng.normal(size=(n, d))
    w = rng.normal(size=(n, d))
    x0 = spec.delta_x * u / np.linalg.norm(u, axis=1)[:, None]
    y0 = spec.delta_y * w / np.linalg.norm(w, axis=1)[:, None]
    fast = V.run_vectors(x0, y0, eta, spec.rule, kick_step=spec.kick_step,
                         kick_factor=spec.kick_factor)
    assert (fast["status"] == Status.CONVERGED).all()
    for i in range(n):
        t, norm2 = _full_gd(x0[i], y0[i], eta, spec.rule.tol, spec.rule.steps,
                            spec.kick_step, spec.kick_factor)
        assert t < spec.rule.steps
        assert fast["norm2"][i] == pytest.approx(norm2, rel=1e-12, abs=0)
        assert abs(int(fast["steps"][i]) - t) <= max(10, t // 100)


def test_the_kernel_is_the_plain_python_reference_bit_for_bit():
    """tests/naive.py's plane iteration, in plain floats: same outcome, same step, the same
    final state to the last bit, for random starts and edge inputs (NaN, inf, zero
    vectors, starts outside the escape radius, a kick at step 0, the cap)."""
    rng = np.random.default_rng(21)
    n = 300
    starts = np.column_stack([rng.uniform(0.05, 4, n), rng.normal(0, 0.3, n),
                              rng.normal(0, 1, n), rng.normal(0, 1, n)])
    edge = np.array([[np.nan, 0, 1, 0], [np.inf, 0, 1, 0], [0, 0, 0, 0], [1, 0, 0, 0],
                     [2e3, 0, 0.1, 0], [1, 0, 1, 0], [3.1, 0.2, 0.3, 0.01],
                     [990.0, 0, 0.001, 0]])
    starts = np.vstack([starts, edge])
    for eta, kick_step, factor, cap in ((0.1, 5, 1.2, 3000), (0.2, 0, 1.5, 400),
                                        (0.05, -1, 1.0, 50), (0.3, 7, 0.9, 2000)):
        rule = StopRule(steps=cap, tol=1e-10, escape=1e3)
        got = V.run_plane(*starts.T, eta, 7, rule, kick_step=None if kick_step < 0 else
                          kick_step, kick_factor=factor)
        for i, (a1, a2, b1, b2) in enumerate(starts):
            st, t, x1, x2, y1, y2 = naive.vec_run(float(a1), float(a2), float(b1), float(b2),
                                                  eta, cap, 1e-10, 1e3, kick_step, factor)
            assert got["steps"][i] == t, (i, starts[i])
            if st == -1:
                assert got["status"][i] == Status.DIVERGED and np.isnan(got["norm2"][i])
                continue
            assert (got["status"][i] == Status.CONVERGED) == (st == 1), (i, starts[i])
            norm2 = (x1 * x1 + x2 * x2) + (y1 * y1 + y2 * y2)
            u = x1 * y1 + x2 * y2
            r = 1.0 - u * u
            assert got["norm2"][i] == norm2 and got["inner"][i] == u
            assert got["loss"][i] == 0.25 * r * r


def test_d_1_reproduces_zhu4_point_for_point():
    """zhu4 is GD on 1/4 (1 - x^2 y^2)^2: on a grid that crosses the fractal boundary the
    vector kernel at d = 1 gives zhu4's grid kernel's outcome at every point, the same
    minimum, its sharpness and half its network loss 1/2 (1 - P)^2."""
    for eta in (0.1, 0.2):
        r = eosfast.grid("zhu4", 96, x_range=(0.05, 4), y_range=(0.05, 4), eta=eta)
        X, Y = np.meshgrid(r.x0, r.y0)
        z = np.zeros(X.size)
        v = V.run_plane(X.ravel(), z, Y.ravel(), z, eta, 1, StopRule())
        status = r.status[0].ravel()
        assert np.array_equal(v["status"], status)
        assert {-1, 1} <= set(np.unique(status).tolist())
        c = status == Status.CONVERGED
        xf, yf = r.x[0].ravel()[c], r.y[0].ravel()[c]
        np.testing.assert_allclose(v["norm2"][c], xf * xf + yf * yf, rtol=1e-12)
        # |x^T y| = 1 on both; its sign may differ where an orbit passes within
        # rounding of an axis (the map commutes with x -> -x: the rest is a mirror image)
        np.testing.assert_allclose(np.abs(v["inner"][c]), np.abs(xf * yf), rtol=1e-12)
        assert np.mean(np.sign(v["inner"][c]) == np.sign(xf * yf)) > 0.99
        np.testing.assert_allclose(v["sharpness"][c], r.sharpness[0].ravel()[c], rtol=1e-10)
        np.testing.assert_allclose(2 * v["loss"][c], r.loss[0].ravel()[c], atol=1e-24)
        assert np.mean(v["steps"] == r.steps[0].ravel()) > 0.95


@pytest.mark.parametrize("d", [1, 2, 3, 10, 1000])
def test_the_cosines_have_the_law_of_directions_drawn_on_the_sphere(d):
    n = 20000
    got = V.draw_cosines(d, n, np.random.default_rng(11))
    if d == 1:
        assert set(np.unique(got).tolist()) == {-1.0, 1.0}
        assert abs(got.mean()) < 4 / math.sqrt(n)
        return
    rng = np.random.default_rng(12)
    a = rng.normal(size=(n, d))
    b = rng.normal(size=(n, d))
    direct = np.einsum("ij,ij->i", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    # E[t^2] = 1/d for the cosine of two independent uniform directions
    assert np.mean(got ** 2) == pytest.approx(1 / d, rel=6 / math.sqrt(n))
    # two-sample Kolmogorov-Smirnov at the 0.1% level
    grid = np.sort(np.concatenate([got, direct]))
    ks = np.abs(np.searchsorted(np.sort(got), grid, "right")
                - np.searchsorted(np.sort(direct), grid, "right")).max() / n
    assert ks < 1.95 * math.sqrt(2 / n)


@pytest.mark.parametrize("d", [10, 100])
@pytest.mark.parametrize("eta", [0.02, 0.05])
def test_theorem_3_2_the_final_norms_land_in_the_band(d, eta):
    """The claim at small scale: converged samples end with |x|^2 + |y|^2 in
    (1/eta - 10/3 eta, 1/eta), loss below the tolerance's, sharpness 2 (|x|^2 + |y|^2)
    in (2/eta - 20/3 eta, 2/eta)."""
    r = eosfast.ensemble(d, eta, 4096, seed=3)
    conv = r.status == Status.CONVERGED
    assert conv.mean() > 0.99
    lo, hi = 1 / eta - 10 / 3 * eta, 1 / eta
    inside = (r.norm2[conv] > lo) & (r.norm2[conv] < hi)
    assert inside.mean() > 0.99 and r.share_in_band() == inside.mean()
    assert (r.loss[conv] < (1e-8) ** 2 / 4).all()
    np.testing.assert_allclose(r.sharpness[conv], 2 * r.norm2[conv], rtol=1e-7)
    assert np.all(np.abs(np.abs(r.inner[conv]) - 1) < 1e-8)


@pytest.mark.parametrize("d, eta", [(10, 0.05), (100, 0.02)])
def test_the_band_holds_without_the_perturbation_too(d, eta):
    """docs/vector.md: with the default delta_x, the band does not need the kick."""
    r = eosfast.ensemble(d, eta, 4096, seed=5, kick_step=None)
    conv = r.status == Status.CONVERGED
    assert conv.mean() > 0.99
    lo, hi = 1 / eta - 10 / 3 * eta, 1 / eta
    assert np.mean((r.norm2[conv] > lo) & (r.norm2[conv] < hi)) > 0.99


def test_no_sample_converges_above_eta_one_half():
    """Every minimum has sharpness 2 (|x|^2 + |y|^2) >= 4 |x^T y| = 4: none is stable
    for eta > 1/2."""
    r = eosfast.ensemble(10, 0.6, 2000, delta_x=1.5, kick_step=None, steps=20000)
    assert not (r.status == Status.CONVERGED).any()


def test_the_ensemble_does_not_depend_on_threads_or_pieces(tmp_path):
    a = eosfast.ensemble(30, 0.1, 10000, seed=9, threads=1)
    b = eosfast.ensemble(30, 0.1, 10000, seed=9, threads=2)
    run = eosfast.ensemble(30, 0.1, 10000, seed=9, threads=2, out=tmp_path / "e.h5")
    df = eosfast.read_frame(tmp_path / "e.h5")
    for name in V.FIELDS:
        assert np.array_equal(a.arrays[name], b.arrays[name], equal_nan=True), name
        assert np.array_equal(a.arrays[name], df[name].to_numpy(), equal_nan=True), name
    assert len(df) == 10000 and run.converged == int((a.status == 1).sum())
    c = eosfast.ensemble(30, 0.1, 10000, seed=10)
    assert not np.array_equal(a.inner0, c.inner0)
    # the initial inner products are delta_x delta_y cos = cos / 2
    assert np.all(np.abs(a.inner0) <= 0.5)


def test_the_file_opens_in_xarray_and_verifies(tmp_path):
    xr = pytest.importorskip("xarray")
    out = tmp_path / "e.h5"
    eosfast.ensemble(20, 0.1, 5000, out=out)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert dict(ds.sizes) == {"sample": 5000}
        assert set(V.FIELDS) <= set(ds.data_vars)
        assert ds["status"].attrs["flag_meanings"]
        assert int((ds["status"] == 1).sum()) > 4900
    from eosfast.store import verify

    assert verify(out).ok
    with h5py.File(out, "r+") as f:  # a flipped byte in a stored chunk is found
        d = f["norm2"]
        mask, data = d.id.read_direct_chunk((4096,))
        data = bytearray(data)
        data[10] ^= 0xFF
        d.id.write_direct_chunk((4096,), bytes(data), mask)
    report = verify(out)
    assert not report.ok and "piece 1" in " ".join(report.problems)


def test_a_resume_recomputes_a_damaged_piece_and_ends_identical(tmp_path):
    ref = eosfast.ensemble(20, 0.1, 9000, out=tmp_path / "ref.h5")
    part = tmp_path / "e.h5.part"
    import shutil

    shutil.copy(tmp_path / "ref.h5", part)
    with h5py.File(part, "r+") as f:
        f.attrs["complete"] = np.int8(0)
        f["resume/piece_done"][2] = 0  # never written
        d = f["loss"]
        mask, data = d.id.read_direct_chunk((0,))
        data = bytearray(data)
        data[5] ^= 0xFF  # written, then damaged
        d.id.write_direct_chunk((0,), bytes(data), mask)
    run = eosfast.ensemble(20, 0.1, 9000, out=tmp_path / "e.h5", resume=True)
    assert run.iterations > 0
    a = eosfast.read_frame(tmp_path / "e.h5")
    b = eosfast.read_frame(tmp_path / "ref.h5")
    assert a.equals(b) and ref.converged == run.converged


def test_a_resume_with_other_parameters_names_them(tmp_path):
    eosfast.ensemble(20, 0.1, 5000, out=tmp_path / "e.h5")
    with pytest.raises(eosfast.InvalidArgument, match="dim"):
        eosfast.ensemble(21, 0.1, 5000, out=tmp_path / "e.h5", resume=True)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "eosfast.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_command_writes_a_file_info_summarises(tmp_path):
    p = _cli("ensemble", "--dim", "1000", "--eta", "0.05", "--samples", "5000", "-o", "e.h5",
             cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "100.0% of the converged inside the band (19.833333, 20)" in p.stdout
    p = _cli("info", "e.h5", cwd=tmp_path)
    assert p.returncode == 0 and "inside Theorem 3.2's band" in p.stdout
    p = _cli("info", "--verify", "e.h5", cwd=tmp_path)
    assert p.returncode == 0 and "complete and intact" in p.stdout


@pytest.mark.parametrize("args, flag", [
    (["--dim", "0"], "--dim"),
    (["--eta", "0.6"], "--eta"),
    (["--kick-step", "50", "--steps", "50"], "--kick-step"),
    (["--samples", "-3"], "--samples"),
    (["--tol", "0"], "--tol"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, flag):
    p = _cli("ensemble", *args, "-o", "e.h5", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in p.stderr
    assert not list(tmp_path.iterdir())


def test_plot_and_export_read_the_file(tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd

    eosfast.ensemble(30, 0.05, 6000, out=tmp_path / "e.h5")
    p = _cli("plot", "ensemble", "e.h5", "-o", "e.png", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "e.png").stat().st_size > 10_000
    p = _cli("export", "e.h5", "-o", "e.parquet", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    df = pd.read_parquet(tmp_path / "e.parquet")
    assert df.equals(eosfast.read_frame(tmp_path / "e.h5"))
    p = _cli("plot", "basin", "e.h5", "-o", "b.png", cwd=tmp_path)
    assert p.returncode == 2 and "ensemble" in p.stderr


def test_models_lists_the_vector_family():
    from eosfast.models import describe_models, models_table

    assert "1/4 (1 - (x^T y)^2)^2" in describe_models()
    assert any(row["name"] == "vec" for row in models_table())
