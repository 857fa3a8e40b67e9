"""The result file: h5py, xarray and pandas loading, atomic writes, resume."""

import json
import os
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest

import eosfast
from eosfast.store.layouts import GRID_DTYPES as FIELDS

KW = dict(res_x=40, res_y=30, x_range=(0.5, 3.5), y_range=(0.2, 3.0), eta=[0.2, 0.25],
          steps=1500)


def test_file_round_trip_equals_in_memory(tmp_path):
    path = tmp_path / "g.h5"
    run = eosfast.grid("zhu4", out=path, tile=16, **KW)
    mem = eosfast.grid("zhu4", **KW)
    assert path.exists() and not (tmp_path / "g.h5.part").exists()
    got = eosfast.read_grid(path)
    for name in FIELDS:
        assert np.array_equal(getattr(got, name), getattr(mem, name), equal_nan=True)
        assert getattr(got, name).dtype == FIELDS[name]
    assert run.counts == mem.counts() and run.iterations == mem.iterations()
    with h5py.File(path) as f:
        for name in FIELDS:
            d = f[name]
            assert d.shape == (2, 30, 40) and d.chunks == (1, 16, 16)
            assert d.compression is not None
            assert [d.dims[i][0].name.lstrip("/") for i in range(3)] == ["eta", "y0", "x0"]
        a = f.attrs
        assert a["model"] == "zhu4" and a["steps"] == 1500 and a["tol"] == 1e-12
        assert a["escape"] == 1e3 and a["eosfast_version"] == eosfast.__version__
        assert "T" in a["created"]
        params = json.loads(a["params"])
        assert params["eta"] == [0.2, 0.25] and params["res_x"] == 40


def test_xarray_and_pandas_load_the_file(tmp_path):
    xr = pytest.importorskip("xarray")
    path = tmp_path / "g.h5"
    eosfast.grid("deg3", out=path, **KW)
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert ds["status"].dims == ("eta", "y0", "x0")
    assert np.allclose(ds["x0"].values, np.linspace(0.5, 3.5, 40))
    assert ds.attrs["model"] == "deg3"
    mem = eosfast.grid("deg3", **KW)
    assert np.array_equal(ds["sharpness"].values, mem.sharpness, equal_nan=True)
    df = eosfast.read_frame(path)
    assert list(df.columns) == ["eta", "x0", "y0", "status", "steps", "period", "sharpness",
                                "loss", "x", "y"]
    assert len(df) == 2 * 30 * 40
    one = eosfast.read_frame(path, eta=0.25)
    assert len(one) == 1200 and (one["eta"] == 0.25).all()
    # a row is the point it claims to be
    row = one.iloc[5 * 40 + 7]
    assert row["x0"] == np.linspace(0.5, 3.5, 40)[7] and row["y0"] == np.linspace(0.2, 3.0, 30)[5]
    assert row["status"] == mem.status[1, 5, 7]
    with pytest.raises(eosfast.EosfastError):
        eosfast.read_frame(path, eta=0.3)


def test_existing_file_is_never_touched_without_force(tmp_path):
    path = tmp_path / "g.h5"
    path.write_bytes(b"precious")
    with pytest.raises(eosfast.EosfastError, match="exists"):
        eosfast.grid("zhu4", out=path, **KW)
    assert path.read_bytes() == b"precious"
    assert not (tmp_path / "g.h5.part").exists()
    eosfast.grid("zhu4", out=path, force=True, **KW)
    assert eosfast.read_grid(path).shape == (2, 30, 40)


def test_resume_refuses_other_parameters_and_foreign_files(tmp_path):
    path = tmp_path / "g.h5"
    eosfast.grid("zhu4", out=path, **KW)
    with pytest.raises(eosfast.EosfastError, match="other parameters"):
        eosfast.grid("zhu4", out=path, resume=True, **(KW | {"steps": 1600}))
    foreign = tmp_path / "f.h5"
    with h5py.File(foreign, "w") as f:
        f["a"] = 1
    with pytest.raises(eosfast.EosfastError, match="not an eosfast"):
        eosfast.grid("zhu4", out=foreign, resume=True, **KW)
    text = tmp_path / "t.h5"
    text.write_text("hello")
    with pytest.raises(eosfast.EosfastError, match="not a readable HDF5"):
        eosfast.grid("zhu4", out=text, resume=True, **KW)
    assert text.read_text() == "hello"


# The child runs the real command line, but sends itself the signal right after
# its third tile reached the disk, so the test does not depend on timing. It
# installs Python's Ctrl-C handler itself: a shell that starts jobs in the
# background (as CI may) passes SIGINT on as "ignored".
_CHILD = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from eosfast.store import gridfile as store
from eosfast.cli.main import main
write, count = store.write_tile, [0]
def write_then_signal(*a, **k):
    write(*a, **k)
    count[0] += 1
    if count[0] == 3:
        os.kill(os.getpid(), int(os.environ["SIG"]))
store.write_tile = write_then_signal
main(sys.argv[1:])
"""


def _grid_args(out, *extra):
    return ["grid", "--res", "640", "--tile", "64", "--steps", "10000", "-o", str(out), "-q",
            *extra]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_resume_after_killed_run_equals_uninterrupted(tmp_path, sig, run_cli):
    out = tmp_path / "k.h5"
    part = tmp_path / "k.h5.part"
    p = subprocess.run([sys.executable, "-c", _CHILD, *_grid_args(out)], capture_output=True,
                       text=True, timeout=300, env=os.environ | {"SIG": str(int(sig))})
    assert p.returncode == (-9 if sig == signal.SIGKILL else 130), p.stderr
    if sig == signal.SIGINT:
        assert "--resume" in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    assert not out.exists() and part.exists()
    with h5py.File(part, "r") as f:
        done_before = int(f["resume/tile_done"][:].sum())
        assert 3 <= done_before < f["resume/tile_done"].size
    code, stdout, err = run_cli(*_grid_args(out, "--resume"))
    assert code == 0, err
    assert out.exists() and not part.exists()
    ref = eosfast.grid("zhu4", 640, steps=10000, symmetry=False)
    got = eosfast.read_grid(out)
    for name in FIELDS:
        assert np.array_equal(getattr(got, name), getattr(ref, name), equal_nan=True), name
    with h5py.File(out) as f:
        assert f["resume/tile_done"][:].all() and f.attrs["complete"] == 1


def test_partial_file_without_resume_is_refused(tmp_path):
    out = tmp_path / "g.h5"
    part = tmp_path / "g.h5.part"
    part.write_bytes(b"partial")
    with pytest.raises(eosfast.EosfastError, match="--resume"):
        eosfast.grid("zhu4", out=out, **KW)
    assert part.read_bytes() == b"partial"


def test_memory_flat_in_the_number_of_eta(tmp_path):
    """A 3-D run streams tiles: peak memory with 16 eta is that with 1 (+ a margin)."""
    code = ("import resource, eosfast, sys; "
            "eosfast.grid('zhu4', 512, eta_range=(0.1, 0.3), eta_res=int(sys.argv[1]), "
            "steps=300, out=sys.argv[2], threads=2); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    peaks = []
    for n in (1, 16):
        r = subprocess.run([sys.executable, "-c", code, str(n), str(tmp_path / f"m{n}.h5")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        peaks.append(int(r.stdout.split()[-1]) * 1024)
    in_memory_16 = 16 * 512 * 512 * 39
    assert peaks[1] - peaks[0] < in_memory_16 / 4, peaks


def test_info_summarises(tmp_path):
    path = tmp_path / "g.h5"
    eosfast.grid("zhu4", out=path, **KW)
    text = eosfast.info(path)
    assert "complete" in text and "zhu4" in text and "0.25" in text
    assert os.path.basename(path) in text
