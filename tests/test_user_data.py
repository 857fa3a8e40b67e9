"""The result file as users open it: xarray, pandas, netCDF tools, Parquet, old files.

Each test exercises the real library a user would use (xarray with
h5netcdf, pandas, pyarrow, ncdump / h5dump), not the package's own readers.
"""

import ast
import configparser
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import eosfast
from eosfast import Status
from eosfast.cli.main import main
from eosfast.store.layouts import GRID_FIELDS

ROOT = Path(__file__).resolve().parents[1]
KW = dict(res_x=40, res_y=30, x_range=(0.5, 3.5), y_range=(0.2, 3.0), eta=[0.2, 0.25],
          steps=1500)


def call(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(scope="module")
def two_eta(tmp_path_factory):
    path = tmp_path_factory.mktemp("two") / "g.h5"
    eosfast.grid("zhu4", out=path, tile=16, **KW)
    return path


# ---------------------------------------------------------------- 1. the dataset's dims


def test_root_dataset_is_the_grid_and_to_dataframe_has_one_row_per_point(tmp_path):
    xr = pytest.importorskip("xarray")
    path = tmp_path / "g.h5"
    eosfast.grid(res=512, tile=64, steps=50, out=path)
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert dict(ds.sizes) == {"eta": 1, "y0": 512, "x0": 512}
    assert set(ds.data_vars) == set(GRID_FIELDS)
    assert len(ds.to_dataframe()) == 512 * 512  # not crossed with 64 tiles
    # the bookkeeping is still there for --resume, in its group
    with h5py.File(path) as f:
        assert f["resume/tile_done"].shape == (64,) and f["resume/tile_done"][:].all()


# ---------------------------------------------------------------- 2. CF metadata


def _variables():
    return [*GRID_FIELDS, "eta", "y0", "x0"]


def test_cf_attributes_in_xarray(two_eta):
    xr = pytest.importorskip("xarray")
    ds = xr.open_dataset(two_eta, engine="h5netcdf")
    assert ds.attrs["Conventions"].startswith("CF-")
    for name in _variables():
        assert ds[name].attrs["long_name"], name
        if name != "status":
            assert "units" in ds[name].attrs, name
    assert ds["steps"].attrs["units"] == "steps"
    st = ds["status"]
    assert st.dtype == np.int8  # no _FillValue turns it into floats
    values = [int(v) for v in st.attrs["flag_values"]]
    meanings = st.attrs["flag_meanings"].split()
    assert dict(zip(values, meanings, strict=True)) == {
        int(Status.PENDING): "not_computed", int(Status.DIVERGED): "diverged",
        int(Status.BOUNDED): "bounded", int(Status.CONVERGED): "converged",
        int(Status.PERIODIC): "periodic"}


@pytest.mark.skipif(shutil.which("ncdump") is None or shutil.which("h5dump") is None,
                    reason="netCDF / HDF5 command-line tools not installed "
                           "(apt-get install netcdf-bin hdf5-tools)")
def test_ncdump_and_h5dump_show_the_cf_attributes(two_eta):
    head = subprocess.run(["ncdump", "-h", str(two_eta)], capture_output=True, text=True,
                          timeout=60)
    assert head.returncode == 0, head.stderr
    text = head.stdout
    for name in _variables():
        assert f"{name}:long_name = " in text, name
    for name in ("steps", "sharpness", "eta", "x0"):
        assert f"{name}:units = " in text, name
    assert re.search(r"status:flag_values = -128b, -1b, 0b, 1b, 2b ;", text)
    assert 'status:flag_meanings = "not_computed diverged bounded converged periodic"' in text
    assert re.search(r':Conventions = "CF-1\.\d+"', text)
    # dimensions of the root group: exactly the grid's
    dims = text.split("dimensions:")[1].split("variables:")[0]
    assert sorted(re.findall(r"(\w+) = \d+ ;", dims)) == ["eta", "x0", "y0"]
    attrs = subprocess.run(["h5dump", "-A", str(two_eta)], capture_output=True, text=True,
                           timeout=60)
    assert attrs.returncode == 0, attrs.stderr
    assert attrs.stdout.count('ATTRIBUTE "long_name"') == len(_variables())
    assert 'ATTRIBUTE "flag_meanings"' in attrs.stdout
    assert 'ATTRIBUTE "Conventions"' in attrs.stdout


# ---------------------------------------------------------------- 3. the eta axis


def test_eta_and_eta_range_merge_into_one_sorted_unique_axis(tmp_path, capsys):
    out = tmp_path / "m.h5"
    code, _, err = call(capsys, "grid", "--res", "8", "--steps", "5", "--eta-range", "0.05",
                        "0.5", "--eta-res", "10", "--eta", "0.3", "-o", out)
    assert code == 0, err
    with h5py.File(out) as f:
        eta = f["eta"][:]
    expected = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5])
    assert np.array_equal(eta, expected)  # exactly the decimals, sorted, 0.3 once


def test_step_sizes_are_decimal_clean_and_selectable(tmp_path):
    xr = pytest.importorskip("xarray")
    assert np.linspace(0.01, 0.5, 50)[5] == 0.060000000000000005  # a plain linspace
    path = tmp_path / "s.h5"
    eosfast.grid(res=16, steps=200, eta_range=(0.01, 0.5), eta_res=50, out=path)
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert ds["eta"].values.tolist() == [round(0.01 * k, 2) for k in range(1, 51)]
    assert ds.sel(eta=0.06)["status"].shape == (16, 16)  # exact label, no method=
    assert len(eosfast.read_frame(path, eta=0.06)) == 256


def test_the_kernel_runs_the_stored_step_size(tmp_path):
    """The slice labelled 0.15 is the run at eta = 0.15, not at linspace's 0.15000000000000002."""
    path = tmp_path / "k.h5"
    kw = dict(res=24, x_range=(0.5, 3.5), y_range=(0.2, 3.0), steps=3000)
    eosfast.grid(eta_range=(0.05, 0.5), eta_res=10, out=path, **kw)
    stored = eosfast.read_grid(path, eta=0.15)
    assert stored.eta[0] == 0.15
    off_value = float(np.linspace(0.05, 0.5, 10)[2])
    assert off_value != 0.15
    exact = eosfast.grid(eta=0.15, **kw)
    off = eosfast.grid(eta=off_value, **kw)
    for name in GRID_FIELDS:
        assert np.array_equal(getattr(stored, name), getattr(exact, name), equal_nan=True)
    # the two step sizes are distinguishable, so the comparison above can fail
    assert not np.array_equal(off.x, exact.x, equal_nan=True)


# ---------------------------------------------------------------- 5. read_frame


def test_read_frame_reads_only_the_asked_columns_and_slice(two_eta, monkeypatch):
    import eosfast.readers as readers

    full = eosfast.read_frame(two_eta)
    seen = []
    real = readers.read_array

    def spy(f, name, sel=slice(None)):
        seen.append((name, sel))
        return real(f, name, sel)

    monkeypatch.setattr(readers, "read_array", spy)
    df = eosfast.read_frame(two_eta, eta=0.25, columns=["x0", "status"])
    assert [name for name, _ in seen] == ["status"]
    assert seen[0][1][0] == slice(1, 2)  # only the eta = 0.25 slice
    assert list(df.columns) == ["x0", "status"] and len(df) == 30 * 40
    want = full.loc[full["eta"] == 0.25, ["x0", "status"]].reset_index(drop=True)
    assert df.equals(want)


def test_read_frame_multiindex(two_eta):
    df = eosfast.read_frame(two_eta, columns=["status", "steps"], index=True)
    assert df.index.names == ["eta", "y0", "x0"] and list(df.columns) == ["status", "steps"]
    r = eosfast.read_grid(two_eta)
    assert df.loc[(0.25, r.y0[5], r.x0[7]), "steps"] == r.steps[1, 5, 7]
    assert df.index.is_unique and len(df) == r.status.size


def test_read_frame_warns_above_the_limit_and_not_below(two_eta, monkeypatch):
    import eosfast.readers as readers

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eosfast.read_frame(two_eta)
    # the whole frame: 2 x 30 x 40 rows of 63 bytes, what pandas says it holds
    df = eosfast.read_frame(two_eta)
    assert df.memory_usage(index=False).sum() == 2400 * 63
    monkeypatch.setattr(readers, "LARGE_FRAME", 2400 * 63 - 1)
    with pytest.warns(ResourceWarning, match=r"GiB .*2400 rows x 63 bytes"):
        eosfast.read_frame(two_eta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eosfast.read_frame(two_eta, columns=["status"])  # 1 byte a row: below


def test_large_frame_warning_is_shown_by_default(two_eta):
    """Python ignores ResourceWarning by default; this one reaches the user's terminal."""
    code = ("import sys, eosfast, eosfast.readers as r; r.LARGE_FRAME = 1000; "
            "eosfast.read_frame(sys.argv[1])")
    r = subprocess.run([sys.executable, "-c", code, str(two_eta)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "LargeFrameWarning" in r.stderr and "GiB" in r.stderr


def test_unknown_columns_name_the_argument(two_eta, capsys):
    with pytest.raises(eosfast.InvalidArgument, match="columns: unknown 'bogus'"):
        eosfast.read_frame(two_eta, columns=["bogus"])
    with pytest.raises(eosfast.InvalidArgument, match="fields"):
        eosfast.read_grid(two_eta, fields=["bogus"])


def test_in_memory_result_to_frame_matches_the_file(two_eta):
    mem = eosfast.grid("zhu4", **KW)
    assert mem.to_frame().equals(eosfast.read_frame(two_eta))
    assert list(mem.to_frame(columns=["eta", "loss"]).columns) == ["eta", "loss"]


# ---------------------------------------------------------------- 4. the README snippet


def _readme_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quickstart", 1)[1]
    return re.search(r"```python\n(.*?)```", quick, re.S).group(1)


def _install_requires() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    reqs = cfg["options"]["install_requires"].split()
    return {re.split(r"[<>=\[;! ]", r, maxsplit=1)[0].lower() for r in reqs if r}


def test_readme_snippet_needs_only_core_dependencies():
    """The first Quickstart line installs everything the Python snippet imports."""
    tree = ast.parse(_readme_snippet())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
               for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module}
    engines = {kw.value.value for n in ast.walk(tree) if isinstance(n, ast.Call)
               for kw in n.keywords if kw.arg == "engine"}
    needed = (modules - {"eosfast"}) | engines | {"pandas"}  # read_frame returns pandas
    assert "xarray" in needed and "h5netcdf" in engines
    assert needed <= _install_requires(), needed - _install_requires()


def test_readme_snippet_runs(tmp_path, run_cli):
    code, _, err = run_cli("grid", "--res", "32", "--steps", "300", cwd=tmp_path)
    assert code == 0, err
    r = subprocess.run([sys.executable, "-c", _readme_snippet()], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------- 6. export


def test_export_parquet_has_the_rows_of_read_frame(two_eta, tmp_path):
    pd = pytest.importorskip("pandas")
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "g.parquet"
    res = eosfast.export(two_eta, out)
    assert res.rows == 2400 and res.path == out and "2400 rows" in repr(res)
    got = pd.read_parquet(out)
    want = eosfast.read_frame(two_eta)
    assert got.dtypes.to_dict() == want.dtypes.to_dict()
    assert got.equals(want)
    meta = json.loads(pq.read_schema(out).metadata[b"eosfast"])
    assert meta["params"]["eta"] == [0.2, 0.25] and meta["model"] == "zhu4"
    # a selection: the same as read_frame's
    sub = tmp_path / "s.parquet"
    eosfast.export(two_eta, sub, eta=0.25, columns=["x0", "y0", "sharpness"])
    assert pd.read_parquet(sub).equals(
        eosfast.read_frame(two_eta, eta=0.25, columns=["x0", "y0", "sharpness"]))


def test_export_netcdf_is_the_same_dataset(two_eta, tmp_path):
    xr = pytest.importorskip("xarray")
    out = tmp_path / "g.nc"
    eosfast.export(two_eta, out)
    a = xr.open_dataset(out, engine="h5netcdf")
    b = xr.open_dataset(two_eta, engine="h5netcdf")
    assert a.identical(b)
    assert a["status"].dtype == np.int8
    # and eosfast reads it back as a grid file
    r = eosfast.read_grid(out)
    assert np.array_equal(r.sharpness, eosfast.read_grid(two_eta).sharpness, equal_nan=True)
    if shutil.which("ncdump"):
        head = subprocess.run(["ncdump", "-h", str(out)], capture_output=True, text=True)
        assert head.returncode == 0 and "status:flag_meanings" in head.stdout


def test_export_refuses_what_it_must_and_leaves_nothing(two_eta, tmp_path, capsys):
    out = tmp_path / "g.parquet"
    out.write_text("keep")
    code, _, err = call(capsys, "export", two_eta, "-o", out)
    assert code == 2 and "--force" in err and out.read_text() == "keep"
    code, _, err = call(capsys, "export", two_eta, "-o", tmp_path / "x.csv")
    assert code == 2 and "--out" in err and "--format" in err
    code, _, err = call(capsys, "export", two_eta, "-o", tmp_path / "c.parquet", "--columns",
                        "eta,bogus")
    assert code == 2 and "--columns" in err and len(err.strip().splitlines()) == 1
    code, _, err = call(capsys, "export", two_eta, "-o", two_eta, "--format", "netcdf",
                        "--force")
    assert code == 2 and "being read" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.parquet"]
    code, stdout, err = call(capsys, "export", two_eta, "-o", out, "--force")
    assert code == 0 and "2400 rows" in stdout and err == ""


def test_export_without_pyarrow_says_how_to_get_it(two_eta, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(eosfast.EosfastError, match=r"eosfast\[export\]"):
        eosfast.export(two_eta, tmp_path / "g.parquet")
    assert not list(tmp_path.iterdir())


def test_export_memory_is_flat_in_the_number_of_eta(tmp_path):
    """Streaming: exporting 16 slices peaks where exporting 1 does (+ a margin)."""
    pytest.importorskip("pyarrow")
    code = ("import resource, sys, eosfast; eosfast.export(sys.argv[1], sys.argv[2]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    peaks = []
    for n in (1, 16):
        src = tmp_path / f"g{n}.h5"
        eosfast.grid(res=512, eta_range=(0.1, 0.3), eta_res=n, steps=5, out=src)
        r = subprocess.run([sys.executable, "-c", code, str(src), str(tmp_path / f"g{n}.pq")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        peaks.append(int(r.stdout.split()[-1]) * 1024)
    whole_frame_16 = 16 * 512 * 512 * 63
    assert peaks[1] - peaks[0] < whole_frame_16 / 4, peaks


# ---------------------------------------------------------------- 14. the package


def test_repr_is_a_summary(two_eta):
    r = eosfast.read_grid(two_eta)
    text = repr(r)
    assert len(text) < 300 and "\n" not in text and "converged" in text
    assert "array(" not in repr(eosfast.grid(res=64, steps=100))


def test_modules_are_attributes_and_help_lists_entry_points():
    code = ("import pydoc, eosfast; "
            "print(eosfast.fractal.analyze.__name__, eosfast.lyapunov.__name__, "
            "eosfast.plots.__name__, eosfast.export.__name__, eosfast.grid.__name__); "
            "print(pydoc.render_doc(eosfast, renderer=pydoc.plaintext)[:4000])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    first, doc = r.stdout.split("\n", 1)
    assert first.split() == ["analyze", "eosfast.lyapunov", "eosfast.plots", "export", "grid"]
    assert "Entry points" in doc
    for name in ("grid", "read_frame", "export", "trajectory", "fractal"):
        assert name in doc, name


# ---------------------------------------------------------------- old files


def _old_layout_file(path: Path, params: dict, done: int) -> None:
    """A partial grid file as eosfast 0.1.0 before the ``resume`` group wrote it.

    Root ``tile`` / ``tile_done`` (a dimension of the dataset), ``tile_shape``
    as a root attribute, chunks without checksums; ``done`` tiles written.
    """
    x0 = np.linspace(*params["x_range"], params["res_x"])
    y0 = np.linspace(*params["y_range"], params["res_y"])
    eta = np.asarray(params["eta"], dtype=np.float64)
    shape, tile = (eta.size, y0.size, x0.size), tuple(params["tile"])
    ref = eosfast.grid(params["model"], res_x=params["res_x"], res_y=params["res_y"],
                       x_range=params["x_range"], y_range=params["y_range"],
                       eta=params["eta"], steps=params["steps"])
    with h5py.File(path, "w") as f:
        for name, axis in (("eta", eta), ("y0", y0), ("x0", x0)):
            f.create_dataset(name, data=axis).make_scale(name)
        for name, var in GRID_FIELDS.items():
            d = f.create_dataset(name, shape=shape, dtype=var.dtype, chunks=(1, *tile),
                                 fillvalue=var.fill, compression="gzip", shuffle=True)
            for axis, dim in enumerate(("eta", "y0", "x0")):
                d.dims[axis].attach_scale(f[dim])
        ntiles = shape[0] * -(-shape[1] // tile[0]) * -(-shape[2] // tile[1])
        t = f.create_dataset("tile", data=np.arange(ntiles))
        t.make_scale("tile")
        flags = f.create_dataset("tile_done", shape=(ntiles,), dtype=np.int8, fillvalue=0)
        flags.dims[0].attach_scale(t)
        nty, ntx = -(-shape[1] // tile[0]), -(-shape[2] // tile[1])
        for k in range(done):  # tiles in their order: eta-major, then y0, then x0
            e, rest = divmod(k, nty * ntx)
            iy, ix = divmod(rest, ntx)
            ys = slice(iy * tile[0], (iy + 1) * tile[0])
            xs = slice(ix * tile[1], (ix + 1) * tile[1])
            for name in GRID_FIELDS:
                f[name][e, ys, xs] = getattr(ref, name)[e, ys, xs]
            flags[k] = 1
        f.attrs.update(kind="eosfast.grid", model=params["model"], steps=params["steps"],
                       tol=params["tol"], escape=params["escape"], eosfast_version="0.1.0",
                       created="2026-11-27T12:00:00+00:00", params=json.dumps(params),
                       tile_shape=np.asarray(tile), complete=np.int8(0))


OLD = dict(model="zhu4", x_range=[0.0, 4.0], y_range=[0.0, 4.0], res_x=32, res_y=32,
           eta=[0.2], steps=400, tol=1e-12, escape=1000.0, max_period=64, period_tol=1e-8,
           tile=[16, 16])
OLD_ARGS = ["grid", "--res", "32", "--steps", "400", "--tile", "16"]


def test_old_layout_partial_run_is_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "g.h5"
    part = tmp_path / "g.h5.part"
    _old_layout_file(part, OLD, done=2)
    before = part.read_bytes()
    code, _, err = call(capsys, *OLD_ARGS, "-o", out, "--resume")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "layout of eosfast 0.1.0" in err and "cannot resume" in err and "--force" in err
    assert part.read_bytes() == before and not out.exists()
    # --force starts over and gives the same result as a fresh run
    code, _, err = call(capsys, *OLD_ARGS, "-o", out, "--force")
    assert code == 0, err
    ref = eosfast.grid(res=32, steps=400)
    assert np.array_equal(eosfast.read_grid(out).status, ref.status)


def test_old_layout_unfinished_file_keeps_its_name(tmp_path, capsys):
    out = tmp_path / "g.h5"
    _old_layout_file(out, OLD, done=1)
    before = out.read_bytes()
    code, _, err = call(capsys, *OLD_ARGS, "-o", out, "--resume")
    assert code == 2 and "cannot resume" in err
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["g.h5"]


def test_old_layout_complete_file_is_still_read(tmp_path):
    out = tmp_path / "g.h5"
    _old_layout_file(out, OLD, done=4)  # 32 / 16 = 2 x 2 tiles, all written
    with h5py.File(out, "a") as f:
        f.attrs["complete"] = np.int8(1)
    ref = eosfast.grid(res=32, steps=400)
    assert np.array_equal(eosfast.read_grid(out).status, ref.status)
    assert "complete" in eosfast.info(out)
    assert len(eosfast.read_frame(out)) == 32 * 32
