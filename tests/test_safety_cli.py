"""Nothing lost, whatever runs beside it: file safety through the real command line.

Every test here runs ``eosfast`` in its own process (``python -m
eosfast.cli.main``, or a copy of the console script): concurrent writers,
real signals, a real full disk (a small tmpfs), real corrupted files. A
process that must stop at a known point runs the real command line under
:data:`CHILD`, which wraps one function of eosfast to pause, fill the disk or
signal itself when it is called, so that no test depends on timing.

Issue 10's classes: 1 concurrent writers, 2 another command's ``.part``,
3 plots and figures, 4 resume of damaged files and ``info --verify``,
5 disk full, 6 read-only folders, 7 output paths, 8 axes, 9 sizes,
10 wrong content, 11 partial files, 12 zoom, 13 signals, 14 the rest.
(``test_safety_api.py`` checks the same rules from Python, on many more cases.)
"""

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import eosfast
from eosfast.store.layouts import GRID_FIELDS

ROOT = Path(__file__).resolve().parents[1]
ENV = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                os.environ.get("PYTHONPATH")])),
                    "MPLBACKEND": "Agg"}

#: The real command line, with one function of eosfast wrapped: HOOK is
#: "module:function|n|action|when" (or "module:Class.method|..."): on the n-th
#: call (before or after it runs); SET="module:NAME=value;..." first sets constants
#: pause (touch READY, wait for GO), fill the disk holding FILL, or send
#: ourselves a signal ("kill15").
CHILD = r"""
import importlib, os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
for s in (signal.SIGTERM, signal.SIGHUP):  # not "ignored", even in a background job
    signal.signal(s, signal.SIG_DFL)
if os.environ.get("FSIZE"):  # a file size limit: writes past it fail with EFBIG
    import resource
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(os.environ["FSIZE"]), resource.RLIM_INFINITY))
for item in filter(None, os.environ.get("SET", "").split(";")):  # module constants
    where, value = item.split("=")
    mod, name = where.split(":")
    mod = importlib.import_module(mod)
    setattr(mod, name, type(getattr(mod, name))(value))
target, count, action, when = os.environ["HOOK"].split("|")
name, attr = target.split(":")
module = importlib.import_module(name)
*owners, attr = attr.split(".")  # "Class.method" wraps a method
for owner in owners:
    module = getattr(module, owner)
original = getattr(module, attr)
calls = [0]

def fill(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    for size in (1 << 16, 1 << 12, 1 << 9, 1):
        try:
            while True:
                os.write(fd, b"\0" * size)
        except OSError:
            pass
    os.close(fd)

def act():
    if action == "pause":
        open(os.environ["READY"], "w").close()
        while not os.path.exists(os.environ["GO"]):
            time.sleep(0.01)
    elif action == "fill":
        fill(os.environ["FILL"])
    elif action.startswith("kill"):
        os.kill(os.getpid(), int(action[4:]))

def hooked(*args, **kwargs):
    calls[0] += 1
    if when == "before" and calls[0] == int(count):
        act()
    result = original(*args, **kwargs)
    if when == "after" and calls[0] == int(count):
        act()
    return result

setattr(module, attr, hooked)
from eosfast.cli.main import main
main(sys.argv[1:])
"""

#: What pip writes as the ``eosfast`` console script.
CONSOLE_SCRIPT = """import re
import sys
from eosfast.cli.main import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


#: Starts a program with Ctrl-C, SIGTERM and SIGHUP at their defaults: a shell
#: that runs jobs in the background hands them on as "ignored", and a
#: program leaves ignored signals ignored.
LAUNCH = ("import os, signal, sys\n"
          "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
          "    signal.signal(s, signal.SIG_DFL)\n"
          "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n")


def eosfast_cli(*args, cwd, timeout=120):
    """Run ``eosfast ARGS`` in a new process: (exit status, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, timeout=timeout, env=ENV)
    return p.returncode, p.stdout, p.stderr


def child(hook, *args, cwd, extra_env=None, wait=True):
    """Run the command line under :data:`CHILD` with ``hook``."""
    env = ENV | {"HOOK": hook} | (extra_env or {})
    p = subprocess.Popen([sys.executable, "-c", CHILD, *map(str, args)], cwd=cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return p
    out, err = p.communicate(timeout=180)
    return p.returncode, out, err


def one_line(err):
    """The only line on stderr (no blank line, no trace)."""
    assert err.count("\n") == 1 and err.endswith("\n") and err.strip(), repr(err)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    return err.strip()


def wait_for(path, proc, timeout=120):
    t0 = time.monotonic()
    while not Path(path).exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.01)


def same_grid(path, ref):
    got = eosfast.read_grid(path)
    for name in ("eta", "y0", "x0", *GRID_FIELDS):
        assert np.array_equal(getattr(got, name), getattr(ref, name), equal_nan=True), name
    with h5py.File(path) as f:
        assert f.attrs["complete"] == 1 and f["resume/tile_done"][:].all()


def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


# a grid of 16 tiles (4 x 4 of 32 x 32), a second to compute
GRID = dict(res=128, tile=32, steps=2000)
GRID_ARGS = ["grid", "--res", "128", "--tile", "32", "--steps", "2000", "--threads", "1", "-q"]


@pytest.fixture(scope="module")
def reference():
    return eosfast.grid("zhu4", **GRID)


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A grid ``.part`` whose run was stopped by Ctrl-C after 5 of 16 tiles."""
    d = tmp_path_factory.mktemp("interrupted")
    code, _, err = child("eosfast.store.gridfile:write_tile|5|kill2|after", *GRID_ARGS, "-o",
                         "run.h5", cwd=d)
    assert code == 130, err
    line = one_line(err)
    assert "5 of 16 tiles saved in run.h5.part" in line
    assert "run `eosfast grid --res 128 --tile 32 --steps 2000 --threads 1 -q -o run.h5 " \
           "--resume`" in line
    assert listing(d) == ["run.h5.part"]
    return d / "run.h5.part"


@pytest.fixture(scope="module")
def gridfile(tmp_path_factory):
    d = tmp_path_factory.mktemp("input")
    path = d / "g.h5"
    eosfast.grid("zhu4", 64, steps=500, out=path)
    return path


# ---------------------------------------------------------------- 1. concurrent writers


def test_a_second_grid_on_the_same_output_leaves_the_first_alone(tmp_path, reference):
    ready, go = tmp_path / "ready", tmp_path / "go"
    first = child("eosfast.store.gridfile:write_tile|2|pause|after", *GRID_ARGS, "-o", "same.h5",
                  cwd=tmp_path, extra_env={"READY": str(ready), "GO": str(go)}, wait=False)
    try:
        wait_for(ready, first)
        part = tmp_path / "same.h5.part"
        before = part.read_bytes()
        for extra in ([], ["--force"], ["--resume"]):
            code, _, err = eosfast_cli(*GRID_ARGS, "-o", "same.h5", *extra, cwd=tmp_path)
            assert code == 2, err
            line = one_line(err)
            assert "being written by another eosfast process" in line
            assert f"pid {first.pid}" in line and "grid" in line and "left alone" in line
            assert part.read_bytes() == before
        go.touch()
        out, err = first.communicate(timeout=120)
    finally:
        go.touch()
        first.kill() if first.poll() is None else None
    assert first.returncode == 0, err
    assert listing(tmp_path) == ["go", "ready", "same.h5"]
    same_grid(tmp_path / "same.h5", reference)


def test_a_second_trajectory_on_the_same_output_fails_cleanly(tmp_path):
    ready, go = tmp_path / "ready", tmp_path / "go"
    args = ["trajectory", "--steps", "300", "-o", "t.h5"]
    first = child("eosfast.store.h5:new_file|1|pause|after", *args, cwd=tmp_path,
                  extra_env={"READY": str(ready), "GO": str(go)}, wait=False)
    try:
        wait_for(ready, first)
        code, _, err = eosfast_cli(*args, cwd=tmp_path)
        assert code == 2 and f"pid {first.pid}" in one_line(err)
        go.touch()
        _, err = first.communicate(timeout=120)
    finally:
        go.touch()
        first.kill() if first.poll() is None else None
    assert first.returncode == 0, err
    assert listing(tmp_path) == ["go", "ready", "t.h5"]
    t = eosfast.read_trajectory(tmp_path / "t.h5")
    assert len(t) == 301 and np.isfinite(t.x).all()


# ---------------------------------------------------------------- 2. another command's .part


def test_no_command_takes_over_an_interrupted_run(tmp_path, interrupted, gridfile, here):
    """A ``.part`` is somebody's work: refused by every command, with how to resume it."""
    work = interrupted.read_bytes()
    (tmp_path / "figs").mkdir()
    parts = {"run.h5": tmp_path / "run.h5.part", "img.png": tmp_path / "img.png.part",
             "fig3": tmp_path / "figs" / "fig3.png.part"}
    for p in parts.values():
        p.write_bytes(work)
    cases = [["trajectory", "--steps", "10", "-o", "run.h5"],
             ["bifurcation", "--eta-res", "3", "--burn", "10", "--record", "8", "-o", "run.h5"],
             ["zoom", "--res", "64", "--levels", "1", "--steps", "10", "--no-images", "-o",
              "run.h5"],
             ["plot", "basin", gridfile, "-o", "img.png"],
             ["figure", "fig3", "--quick", "-o", "figs"]]
    for k, args in enumerate(cases):
        code, _, err = (eosfast_cli if k == 0 else here)(*args, cwd=tmp_path)
        assert code == 2, (args, err)
        line = one_line(err)
        assert "interrupted `eosfast grid` run" in line and "--resume" in line, line
        assert "--force" in line
    for p in parts.values():
        assert p.read_bytes() == work
    assert listing(tmp_path) == ["figs", "img.png.part", "run.h5.part"]


# ---------------------------------------------------------------- 3. plots and figures


def test_plot_and_figure_replace_only_regular_files_with_force(tmp_path, gridfile, here):
    data = gridfile.read_bytes()
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "null.png").symlink_to(os.devnull)
    (tmp_path / "old.png").write_bytes(b"old")
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "fig3.png").write_bytes(b"old figure")
    part_input = tmp_path / "p.h5.part"
    part_input.write_bytes(data)
    png_input = tmp_path / "g.png"  # a grid file under an image's name
    png_input.write_bytes(data)
    refused = [
        (["plot", "basin", gridfile, "-o", gridfile, "--force"], "being read"),
        (["plot", "basin", "g.png", "-o", "g.png", "--force"], "being read"),
        (["plot", "basin", part_input, "-o", tmp_path / "p.h5", "--force"], "being read"),
        (["plot", "basin", gridfile, "-o", "fifo.png", "--force"], "FIFO"),
        (["plot", "basin", gridfile, "-o", "null.png", "--force"], "device"),
        (["plot", "basin", gridfile, "-o", "figs", "--force"], "folder"),
        (["plot", "basin", gridfile, "-o", "old.png"], "--force"),
        (["figure", "fig3", "--quick", "-o", "figs"], "--force"),
        (["plot", "basin", gridfile, "-o", "new.png", "--dpi", "100000"], "--dpi"),
    ]
    for k, (args, why) in enumerate(refused):
        code, _, err = (eosfast_cli if k in (1, 3) else here)(*args, cwd=tmp_path)
        assert code == 2 and why in one_line(err), (args, err)
    assert gridfile.read_bytes() == data and part_input.read_bytes() == data
    assert png_input.read_bytes() == data
    assert stat.S_ISFIFO(os.stat(tmp_path / "fifo.png").st_mode)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert (tmp_path / "old.png").read_bytes() == b"old"
    assert (tmp_path / "figs" / "fig3.png").read_bytes() == b"old figure"
    code, out, err = here("plot", "basin", gridfile, "-o", "old.png", "--force", cwd=tmp_path)
    assert code == 0, err
    assert (tmp_path / "old.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert listing(tmp_path) == ["fifo.png", "figs", "g.png", "null.png", "old.png", "p.h5.part"]


# ---------------------------------------------------------------- 4. resume trusts nothing


def _tiles(part):
    with h5py.File(part, "r") as f:
        return f["resume/tile_done"][:].astype(bool)


def test_resume_recomputes_what_a_damaged_part_only_claims(tmp_path, interrupted, reference,
                                                           here):
    done = _tiles(interrupted)
    assert done.sum() == 5
    # (a) tile_done says 1 for tiles never written
    lying = tmp_path / "lying.h5.part"
    lying.write_bytes(interrupted.read_bytes())
    with h5py.File(lying, "r+") as f:
        f["resume/tile_done"][:] = 1
        f.attrs["complete"] = np.int8(1)
    # (b) random bytes in the middle of the data of a tile marked done
    noisy = tmp_path / "noisy.h5.part"
    noisy.write_bytes(interrupted.read_bytes())
    with h5py.File(noisy, "r") as f:
        tile = int(np.flatnonzero(done)[2])
        ty, tx = f["resume"].attrs["tile_shape"]
        iy, ix = divmod(tile, 128 // tx)
        info = f["sharpness"].id.get_chunk_info_by_coord((0, iy * ty, ix * tx))
    with open(noisy, "r+b") as raw:
        raw.seek(info.byte_offset + info.size // 2)
        raw.write(np.random.default_rng(0).bytes(64))
    # (c) a partial file renamed to the final name
    renamed = tmp_path / "renamed.h5"
    renamed.write_bytes(interrupted.read_bytes())

    checks = [(lying, "missing"), (noisy, "checksum mismatch"),
              (renamed, "incomplete: 5 of 16 tiles")]
    for path, why in checks:
        code, out, _ = here("info", "--verify", path, cwd=tmp_path)
        assert code == 1 and why in out and "NOT complete and intact" in out, out
    for path in (lying, noisy, renamed):
        out = path.name.removesuffix(".part")
        run = eosfast_cli if path is noisy else here
        code, stdout, err = run(*GRID_ARGS, "-o", out, "--resume", cwd=tmp_path)
        assert code == 0 and "nan" not in stdout, err
        assert listing(tmp_path).count(out) == 1 and not (tmp_path / (out + ".part")).exists()
        same_grid(tmp_path / out, reference)
        code, stdout, _ = here("info", "--verify", out, cwd=tmp_path)
        assert code == 0 and "complete and intact" in stdout


def test_info_verify(tmp_path, gridfile):
    code, out, _ = eosfast_cli("info", "--verify", gridfile, cwd=tmp_path)
    assert code == 0 and out.strip().splitlines()[-1].endswith("match their checksums)")
    text = tmp_path / "t.h5"
    text.write_text("not HDF5")
    code, out, err = eosfast_cli("info", "--verify", text, cwd=tmp_path)
    assert code == 1 and "not a readable HDF5 file" in out and err == ""
    os.mkfifo(tmp_path / "fifo.h5")
    for args in (["info", "fifo.h5"], ["info", "--verify", "fifo.h5"]):
        code, _, err = eosfast_cli(*args, cwd=tmp_path, timeout=60)  # must not hang
        assert code == 2 and "not a regular file" in one_line(err)


# ---------------------------------------------------------------- 5. disk full


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    """A real 8 MiB filesystem (tmpfs), which the tests fill up."""
    d = tmp_path_factory.mktemp("tmpfs")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(d)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    yield d
    subprocess.run(["umount", str(d)], check=False)


def test_disk_full_during_a_grid_keeps_the_part_which_resumes_identically(small_disk,
                                                                            reference):
    filler = small_disk / "filler"
    code, _, err = child("eosfast.store.gridfile:write_tile|3|fill|after", *GRID_ARGS, "-o",
                         "g.h5", cwd=small_disk, extra_env={"FILL": str(filler)})
    assert code == 2, err
    line = one_line(err)
    assert "no space left on the device" in line and "the file needs up to" in line
    assert "kept in g.h5.part" in line and "--resume`" in line and "free at least" in line
    assert listing(small_disk) == ["filler", "g.h5.part"]
    assert 3 <= _tiles(small_disk / "g.h5.part").sum() < 16
    filler.unlink()
    code, _, err = eosfast_cli(*GRID_ARGS, "-o", "g.h5", "--resume", cwd=small_disk)
    assert code == 0, err
    assert listing(small_disk) == ["g.h5"]
    same_grid(small_disk / "g.h5", reference)
    (small_disk / "g.h5").unlink()


def test_file_size_limit_stops_a_grid_between_tiles_and_it_resumes(tmp_path):
    """The same without a tmpfs, for everyone: ``ulimit -f`` makes writes fail (EFBIG)."""
    args = ["grid", "--res", "256", "--tile", "32", "--steps", "300", "--threads", "1", "-q",
            "-o", "g.h5"]
    code, _, err = child("eosfast.store.gridfile:write_tile|1|pause|never", *args,
                         cwd=tmp_path, extra_env={"FSIZE": "1200000"})
    assert code == 2, err
    line = one_line(err)
    assert "file size limit" in line and "kept in g.h5.part" in line and "--resume`" in line
    assert listing(tmp_path) == ["g.h5.part"]
    done = _tiles(tmp_path / "g.h5.part").sum()
    assert 0 < done < 64
    code, _, err = eosfast_cli(*args, "--resume", cwd=tmp_path)
    assert code == 0, err
    same_grid(tmp_path / "g.h5", eosfast.grid("zhu4", 256, steps=300))


@pytest.mark.parametrize("args", [
    ["trajectory", "--steps", "20000", "-o", "out.h5"],
    ["bifurcation", "--eta-res", "64", "--burn", "100", "--record", "4096", "-o", "out.h5"],
], ids=["trajectory", "bifurcation"])
def test_disk_full_writing_a_file_is_one_line_and_leaves_nothing(small_disk, args):
    filler = small_disk / "filler"
    code, _, err = child("eosfast.store.h5:new_file|1|fill|after", *args, cwd=small_disk,
                         extra_env={"FILL": str(filler)})
    assert code == 2, err
    line = one_line(err)
    assert "no space left on the device" in line and "nothing was written" in line
    assert listing(small_disk) == ["filler"]
    filler.unlink()


def _zoom_args(out):
    return ["zoom", "--res", "64", "--levels", "3", "--steps", "300", "--no-images", "-q",
            "--threads", "1", "-o", out]


def _same_zoom(a, b):
    with h5py.File(a) as f, h5py.File(b) as g:
        assert sorted(f) == sorted(g) == ["level_00", "level_01", "level_02"]
        assert {k: str(v) for k, v in f.attrs.items() if k != "created"} == \
            {k: str(v) for k, v in g.attrs.items() if k != "created"}
        for name in f:
            assert dict(f[name].attrs).keys() == dict(g[name].attrs).keys()
            for k in f[name].attrs:
                a, b = f[name].attrs[k], g[name].attrs[k]
                nan = np.asarray(a).dtype.kind == "f"
                assert np.array_equal(a, b, equal_nan=nan), (name, k)
            for d in ("eta", "x0", "y0", "status", "steps"):
                assert np.array_equal(f[name][d][()], g[name][d][()]), (name, d)


@pytest.fixture(scope="module")
def zoom_reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("zoomref")
    code, _, err = eosfast_cli(*_zoom_args("z.h5"), cwd=d)
    assert code == 0, err
    return d / "z.h5"


def test_disk_full_during_a_zoom_keeps_its_levels(small_disk, zoom_reference):
    filler = small_disk / "filler"
    code, _, err = child("eosfast.store.zoomfile:begin_level|2|fill|before", *_zoom_args("z.h5"),
                         cwd=small_disk, extra_env={"FILL": str(filler)})
    assert code == 2, err
    line = one_line(err)
    assert "no space left" in line and "kept in z.h5.part" in line and "--resume`" in line
    with h5py.File(small_disk / "z.h5.part") as f:
        assert [n for n in f if n.startswith("level_")] == ["level_00"]
    filler.unlink()
    code, _, err = eosfast_cli(*_zoom_args("z.h5"), "--resume", cwd=small_disk)
    assert code == 0, err
    _same_zoom(small_disk / "z.h5", zoom_reference)
    (small_disk / "z.h5").unlink()


# ---------------------------------------------------------------- 6, 7. output folders and paths


def test_read_only_folder_and_bad_output_paths_are_refused_before_any_work(tmp_path,
                                                                         gridfile, here):
    ro = tmp_path / "ro"
    ro.mkdir()
    (tmp_path / "d").mkdir()
    ro.chmod(0o555)
    # big enough that computing first would run into the timeout
    slow = {"grid": ["grid", "--res", "4096", "--steps", "100000"],
            "trajectory": ["trajectory", "--steps", "10000000"],
            "bifurcation": ["bifurcation", "--eta-res", "100000", "--burn", "100000",
                            "--record", "64"],
            "zoom": ["zoom", "--res", "4096", "--levels", "2", "--steps", "100000"]}
    try:
        cases = [(args + ["-o", out] + extra, why) for args in slow.values()
                 for out, extra, why in ((ro / "x.h5", [], "read-only"),
                                         ("d", ["--force"], "folder"),
                                         ("", [], "file path"), (".", ["--force"], "folder"))]
        cases += [(["plot", "basin", gridfile, "-o", ro / "x.png"], "read-only"),
                  (["figure", "fig3", "--quick", "-o", ro], "read-only")]
        for k, (args, why) in enumerate(cases):
            if k in (0, 1):  # grid into a read-only folder, a folder as output
                code, _, err = eosfast_cli(*args, cwd=tmp_path, timeout=60)
            else:
                code, _, err = here(*args, cwd=tmp_path)
            assert code == 2 and why in one_line(err), (args, err)
    finally:
        ro.chmod(0o755)
    assert listing(ro) == [] and listing(tmp_path / "d") == []


# ---------------------------------------------------------------- 8, 9. axes and sizes


def test_axes_and_sizes_are_checked_first(tmp_path, here):
    cases = [
        (["grid", "--y-range", "-1e308", "1e308", "-o", "x.h5"], "--y-range"),
        (["grid", "--res", "4096", "--x-range", "0", "1e-320", "-o", "x.h5"],
         "strictly increasing"),
        (["grid", "--res", str(10**10), "-o", "x.h5"], "--res"),
        (["grid", "--eta-range", "0.1", "0.2", "--eta-res", str(10**11), "-o", "x.h5"],
         "--eta-res"),
        (["grid", "--res", "4096", "--eta-range", "0.1", "0.2", "--eta-res", "1000000", "-o",
          "x.h5"], "GiB"),
        (["grid", "--threads", "1000", "-o", "x.h5"], "--threads"),
        (["bifurcation", "--eta-range", "-1e308", "1e308", "-o", "x.h5"], "--eta-range"),
        (["bifurcation", "--eta-res", "1000000", "--record", "100000", "-o", "x.h5"],
         "too large"),
        (["zoom", "--res", str(10**10), "-o", "x.h5"], "--res"),
        (["bench", "--repeat", "0"], "--repeat"),
        (["bench", "--numpy-res", "10000000"], "memory"),
    ]
    for k, (args, why) in enumerate(cases):
        code, _, err = (eosfast_cli if k == 0 else here)(*args, cwd=tmp_path)
        line = one_line(err)
        assert code == 2 and why in line and "MemoryError" not in line and "np." not in line, \
            (args, err)
    assert listing(tmp_path) == []


# ---------------------------------------------------------------- 10, 11. wrong content, partial


def test_files_with_the_right_names_but_wrong_content(tmp_path, gridfile, here):
    def damaged(name, edit):
        path = tmp_path / name
        path.write_bytes(gridfile.read_bytes())
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    def retype(f, name, dtype):
        data = f[name][()].astype(dtype)
        del f[name]
        f[name] = data

    files = [
        damaged("missing.h5", lambda f: f.__delitem__("sharpness")),
        damaged("params.h5", lambda f: f.attrs.__setitem__("params", "{not json")),
        damaged("dtype.h5", lambda f: retype(f, "status", np.float64)),
        damaged("shape.h5", lambda f: (f.__delitem__("x0"), f.__setitem__("x0", np.zeros(7)))),
        damaged("tiles.h5", lambda f: (f["resume"].__delitem__("tile_done"),
                                       f["resume"].create_dataset("tile_done", data=[1, 1]))),
        damaged("attr.h5", lambda f: f.attrs.__setitem__("model", np.arange(3))),
        damaged("axis.h5", lambda f: f["eta"].__setitem__(0, np.nan)),
    ]
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f.attrs["kind"] = "eosfast.grid"
        f["data"] = np.arange(3)
    files.append(foreign)
    for k, path in enumerate(files):
        for args in (["info", path], ["fractal", path], ["plot", "basin", path, "-o", "x.png"]):
            code, out, err = (eosfast_cli if k == 1 and args[0] == "info" else here)(
                *args, cwd=tmp_path)
            assert code == 2 and "damaged" in one_line(err), (args, err)
            assert "bounded" not in out
        with pytest.raises(eosfast.EosfastError, match="damaged"):
            eosfast.read_frame(path)
    assert not (tmp_path / "x.png").exists()
    # a partial file: the computed slices draw, the others are refused
    two = tmp_path / "two.h5.part"
    code, _, err = child("eosfast.store.gridfile:write_tile|4|kill2|after", "grid", "--res", "64",
                         "--tile", "32", "--eta", "0.2", "--eta", "0.3", "--steps", "200",
                         "--threads", "1", "--no-symmetry", "-q", "-o", "two.h5",
                         cwd=tmp_path)
    assert code == 130 and _tiles(two).tolist() == [True] * 4 + [False] * 4, err
    code, _, err = eosfast_cli("plot", "basin", two, "--eta", "0.3", "-o", "p3.png",
                               cwd=tmp_path)
    assert code == 2 and "not computed yet" in one_line(err)
    code, _, err = here("plot", "basin", two, "--eta", "0.2", "-o", "p2.png", cwd=tmp_path)
    assert code == 0, err
    assert not (tmp_path / "p3.png").exists() and (tmp_path / "p2.png").exists()


# ---------------------------------------------------------------- 12. zoom


def test_zoom_interrupted_resumes_to_the_uninterrupted_file(tmp_path, zoom_reference, here):
    for k, (args, why) in enumerate(((["--res", "32"], "--res must be at least 64"),
                                     (["--width", "1e308"], "--width"),
                                     (["--filmstrip", "z.xyz"], "unknown image format"),
                                     (["--filmstrip", ""], "--filmstrip"),
                                     (["--animation", "z.h5"], "another output"))):
        code, _, err = (eosfast_cli if k == 1 else here)("zoom", *args, "-o", "z.h5",
                                                         cwd=tmp_path)
        assert code == 2 and why in one_line(err), (args, err)
    assert listing(tmp_path) == []
    code, _, err = child("eosfast.store.zoomfile:finish_level|2|kill2|after", *_zoom_args("z.h5"),
                         cwd=tmp_path)
    assert code == 130, err
    line = one_line(err)
    assert "2 of 3 levels saved in z.h5.part" in line and "--resume`" in line
    assert listing(tmp_path) == ["z.h5.part"]
    code, _, err = here(*_zoom_args("z.h5"), cwd=tmp_path)  # not without --resume
    assert code == 2 and "--resume" in one_line(err)
    # damage level 1: it is recomputed, level 0 is kept
    with h5py.File(tmp_path / "z.h5.part", "r") as f:
        info = f["level_01/status"].id.get_chunk_info(0)
    with open(tmp_path / "z.h5.part", "r+b") as raw:
        raw.seek(info.byte_offset + info.size // 2)
        raw.write(b"\xff" * 16)
    code, out, err = eosfast_cli(*_zoom_args("z.h5"), "--resume", cwd=tmp_path)
    assert code == 0, err
    assert listing(tmp_path) == ["z.h5"]
    _same_zoom(tmp_path / "z.h5", zoom_reference)
    code, out, _ = here("info", "--verify", "z.h5", cwd=tmp_path)
    assert code == 0 and "complete and intact (eosfast zoom" in out


# ---------------------------------------------------------------- 13. signals


def _caught(pid):
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16)
    return 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_the_command_starts_is_one_line(tmp_path, sig):
    """A signal after the guard is in place, before any file: one line, 128 + signal.

    The command pauses at a known point of its start-up (it checks its
    arguments) and says so through a file; the signal is sent on that event.
    """
    ready, go = tmp_path / "ready", tmp_path / "go"
    p = child("eosfast.grid:make_spec|1|pause|before", "grid", "--res", "2048", "-o", "g.h5",
              cwd=tmp_path, extra_env={"READY": str(ready), "GO": str(go)}, wait=False)
    try:
        while not ready.exists() and p.poll() is None:
            time.sleep(0.01)
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
    finally:
        go.touch()
        if p.poll() is None:
            p.kill()
    assert p.returncode == 128 + sig, err
    line = one_line(err)
    assert line.startswith("eosfast: stopped by " + ("Ctrl-C" if sig == signal.SIGINT
                                                     else sig.name))
    assert "g.h5" not in listing(tmp_path)  # nothing under the requested name


def test_signals_at_every_stage_of_a_grid(tmp_path, reference):
    args = [*GRID_ARGS, "-o", "g.h5"]
    # while the kernels load: the .part is kept and the message says how to resume
    code, _, err = child("eosfast.grid:load_kernels|1|kill2|before", *args, cwd=tmp_path)
    assert code == 130
    assert "0 of 16 tiles saved in g.h5.part" in one_line(err) and "--resume`" in err
    # SIGTERM and SIGHUP as Ctrl-C: one line, resumable, exit 128 + signal
    for n, sig in ((3, signal.SIGTERM), (6, signal.SIGHUP)):
        code, _, err = child(f"eosfast.store.gridfile:write_tile|{n}|kill{int(sig)}|after",
                             *args, "--resume", cwd=tmp_path)
        assert code == 128 + sig, err
        line = one_line(err)
        assert f"stopped by {sig.name}" in line and "--resume`" in line
        assert _tiles(tmp_path / "g.h5.part").sum() >= n
    # after the final rename: the output is complete, and nothing but one line is printed
    code, _, err = child("eosfast.store.atomic:_move|1|kill2|after", *args, "--resume",
                         cwd=tmp_path)
    assert code == 130
    assert "after g.h5 was written (it is complete)" in one_line(err)
    assert listing(tmp_path) == ["g.h5"]
    same_grid(tmp_path / "g.h5", reference)


# ---------------------------------------------------------------- 14. the rest


def test_eosfast_alone_prints_the_usage(tmp_path):
    code, out, err = eosfast_cli(cwd=tmp_path)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith("Usage: eosfast") and len(lines) > 5
    assert any(line.split()[:1] == ["grid"] for line in lines)


def test_messages_never_show_numpy_reprs(tmp_path, gridfile, here):
    for args in (["fractal", gridfile, "--eta", "0.123"],
                 ["plot", "basin", gridfile, "--eta", "0.7", "-o", "x.png"],
                 ["grid", "--x-range", "1", "0.5", "-o", "x.h5"]):
        code, _, err = here(*args, cwd=tmp_path)
        line = one_line(err)
        assert code == 2 and "np." not in line and "float64(" not in line, line


def test_lock_file_holds_the_holder(tmp_path):
    """The lock's record is what a loser prints: pid, command and start time."""
    from eosfast.store.atomic import Output, lock_path

    with Output(tmp_path / "x.h5") as out:
        info = json.loads(lock_path(out.path).read_text())
        assert info["pid"] == os.getpid() and "since" in info
        out.abandon()
    assert listing(tmp_path) == []
