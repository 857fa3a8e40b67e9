"""Signals while a file is written (issue 18): a request honoured between tiles, never inside HDF5.

Three layers:

* :mod:`eosfast.interrupts` itself, in this process: a deferred signal
  raises only at a checkpoint, an allowed block raises at once, handlers come
  back, a handler left at the system default is not touched;
* a signal delivered *inside* HDF5's write callback (the case that ended in
  ``RuntimeError: Can't decrement id ref count``), deterministically, through
  the real command line;
* real signals from another process at random times over whole runs of
  ``eosfast grid``: at least 50 interruptions, SIGINT, SIGTERM and SIGHUP in
  turn, each ending with 128 + the signal, one line with the resume command
  and no trace; the printed resume command is then run, again and again, and
  what it finishes is bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import numpy as np
import pytest
from test_safety_cli import ENV, LAUNCH, _caught, child, one_line, same_grid

import eosfast
from eosfast import interrupts
from eosfast.errors import Signalled

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- the mechanism


def _python_handlers():
    """Give SIGTERM and SIGHUP Python handlers (as the command line does) for a test."""
    def raising(signum, frame):
        raise Signalled(signum)

    return {s: signal.signal(s, raising) for s in (signal.SIGTERM, signal.SIGHUP)}


@pytest.fixture
def handlers():
    old = _python_handlers()
    yield
    for s, h in old.items():
        signal.signal(s, h)


@pytest.mark.parametrize("sig, kind", [(signal.SIGINT, KeyboardInterrupt),
                                       (signal.SIGTERM, Signalled),
                                       (signal.SIGHUP, Signalled)])
def test_a_deferred_signal_raises_only_at_a_checkpoint(handlers, sig, kind):
    before = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    reached = False
    with pytest.raises(kind) as exc:
        with interrupts.deferred():
            os.kill(os.getpid(), sig)
            time.sleep(0.01)  # handlers run between bytecodes: give it many
            assert interrupts.pending() == sig
            reached = True
            interrupts.checkpoint()
            pytest.fail("the checkpoint did not raise")
    assert reached
    assert getattr(exc.value, "signum", signal.SIGINT) == sig
    assert {s: signal.getsignal(s) for s in interrupts.SIGNALS} == before
    assert interrupts.pending() is None


def test_a_signal_left_pending_raises_when_the_block_ends(handlers):
    done = []
    with pytest.raises(Signalled):
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
            done.append(1)
    assert done == [1]


def test_an_allowed_block_raises_at_once_and_deferral_resumes_after_it(handlers):
    with interrupts.deferred():
        with pytest.raises(Signalled):
            with interrupts.allowed():
                os.kill(os.getpid(), signal.SIGHUP)
                time.sleep(0.5)
                pytest.fail("the signal did not stop the allowed block")
        assert interrupts.pending() is None
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.01)
        assert interrupts.pending() == signal.SIGHUP
        with pytest.raises(Signalled):
            with interrupts.allowed():  # one received before the block raises on entry
                pytest.fail("entered with a signal pending")
        assert interrupts.pending() is None


def test_no_handler_is_installed_where_python_has_none():
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with interrupts.deferred():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGHUP, old)


def test_resumable_commands_are_those_with_resume():
    from eosfast.cli import RESUMABLE
    from eosfast.cli.main import COMMANDS, cli

    have = {name for name in COMMANDS
            if any(p.name == "resume" for p in cli.get_command(None, name).params)}
    assert have == RESUMABLE


# ---------------------------------------------------------------- inside HDF5

GRID_ARGS = ["grid", "--res", "128", "--tile", "32", "--steps", "2000", "--threads", "1", "-q"]


@pytest.fixture(scope="module")
def reference():
    return eosfast.grid("zhu4", res=128, tile=32, steps=2000)


# 16 writes a tile after 53 creating the file (counted): in the creation, in
# tiles 3 and 7, and in the last flush
@pytest.mark.parametrize("sig, call", [(signal.SIGTERM, 40), (signal.SIGHUP, 90),
                                       (signal.SIGINT, 150), (signal.SIGTERM, 311)])
def test_a_signal_inside_an_hdf5_write_waits_for_the_tile(tmp_path, reference, sig, call):
    """The signal arrives while HDF5 is inside its write callback (a Python method)."""
    args = [*GRID_ARGS, "-o", "g.h5"]
    code, _, err = child(f"eosfast.store.h5:GuardedFile.write|{call}|kill{int(sig)}|before",
                         *args, cwd=tmp_path)
    assert code == 128 + sig, err
    line = one_line(err)
    name = "Ctrl-C" if sig == signal.SIGINT else sig.name
    assert f"stopped by {name}" in line
    assert "tiles saved in g.h5.part" in line or "work is kept in g.h5.part" in line
    resume = re.search(r"run `([^`]*)`", line).group(1)
    assert resume.endswith("--resume")
    # every chunk the interrupted run left passes its checksum
    v = subprocess.run([sys.executable, "-m", "eosfast.cli.main", "info", "g.h5.part",
                        "--verify"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                       timeout=300)
    if v.returncode != 0:  # the only problem may be that it is unfinished: no damage
        problems = [ln for ln in v.stdout.splitlines() if "NOT complete" not in ln]
        assert "(eosfast grid; 1 problem)" in v.stdout, v.stdout
        assert len(problems) == 1 and "incomplete:" in problems[0], v.stdout
    else:
        assert "complete and intact" in v.stdout
    p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *shlex.split(resume)[1:]],
                       cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    same_grid(tmp_path / "g.h5", reference)


# ---------------------------------------------------------------- real signals, random times

#: 8 step sizes x 64 tiles of 64 x 64, every tile computed (no mirror): ~1 s of
#: computing and writing after ~1.5 s of start-up on the development VM.
RANDOM_ARGS = ["grid", "--res", "512", "--eta-range", "0.15", "0.25", "--eta-res", "8",
               "--tile", "64", "--steps", "400", "--threads", "1", "--no-symmetry", "-q",
               "-o", "r.h5"]
INTERRUPTIONS = 54


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    """``eosfast ARGS`` as a user's shell starts it (signals at their defaults)."""
    script = cwd / "bin" / "eosfast"
    if not script.exists():
        script.parent.mkdir(exist_ok=True)
        script.write_text("import sys\nfrom eosfast.cli.main import main\n"
                          "if __name__ == '__main__':\n    sys.exit(main())\n")
    return subprocess.Popen([sys.executable, "-c", LAUNCH, str(script), *args], cwd=cwd,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _phase(line: str) -> str:
    if "while starting" in line:
        return "start-up"
    if "nothing was written" in line:
        return "before the first piece"
    m = re.search(r"(\d+) of (\d+) (?:tiles|levels) saved", line)
    if m and m.group(1) == "0":
        return "before the first piece"
    if m and m.group(1) != m.group(2):
        return "computing and writing"
    return "finishing and renaming"


def _same_h5(path: Path, ref: Path) -> None:
    """Every dataset of ``path`` equals the one of ``ref`` bit for bit (NaN equal to NaN)."""
    with h5py.File(path) as a, h5py.File(ref) as b:
        names: list[str] = []
        b.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        seen: list[str] = []
        a.visititems(lambda n, o: seen.append(n) if isinstance(o, h5py.Dataset) else None)
        assert sorted(seen) == sorted(names)
        for n in names:
            x, y = a[n][()], b[n][()]
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), n
        assert a.attrs["complete"] == 1


def _chain(cwd: Path, base_args: list[str], out: str, quota: int, seed: int, span: float,
           same) -> tuple[list[str], int]:
    """Interrupt runs of ``eosfast BASE_ARGS`` (writing ``out``) at random times, resuming
    each time with the printed command, until ``quota`` interruptions; then finish
    the run and check it with ``same(path)``. The phases hit, and the runs made."""
    rng = random.Random(seed)
    sigs = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    phases: list[str] = []
    args, runs = list(base_args), 0
    final, part = cwd / out, cwd / (out + ".part")
    while len(phases) < quota:
        sig = sigs[len(phases) % 3]
        p = _start(args, cwd)
        # From the moment eosfast's guard is in place: before it, the interpreter
        # is still starting (site, .pth files) and the system's default applies.
        while not _caught(p.pid) & (1 << (signal.SIGTERM - 1)) and p.poll() is None:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, span))
        p.send_signal(sig)
        _, err = p.communicate(timeout=300)
        runs += 1
        if p.returncode in (0, -sig):
            # Finished before the signal (0), or during Python's own shutdown after
            # it, when the interpreter has put every handler back to the system's
            # default (-sig: the shell sees 128 + sig): either way the file is whole.
            assert err == "" or p.returncode == 0, err
            assert "Traceback" not in err, err
            assert not part.exists()
            same(final)
            final.unlink()
            args = list(base_args)
            continue
        assert p.returncode == 128 + sig, (sig, p.returncode, err)
        line = one_line(err)
        name = "Ctrl-C" if sig == signal.SIGINT else sig.name
        assert line.startswith(f"eosfast: stopped by {name}"), line
        if "(it is complete)" in line:  # after the rename: nothing left to resume
            phases.append("finishing and renaming")
            same(final)
            final.unlink()
            args = list(base_args)
            continue
        resume = re.search(r"run `([^`]*)`", line)
        assert resume, line  # every other stop says how to continue
        args = shlex.split(resume.group(1))[1:]
        assert args[-1] == "--resume"
        phases.append(_phase(line))
    p = _start(args, cwd)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    same(final)
    assert sorted(x.name for x in cwd.iterdir()) == ["bin", out]
    return phases, runs + 1


def _reference_run(args: list[str], cwd: Path) -> float:
    """Run ``eosfast ARGS`` to the end in ``cwd``: its seconds from eosfast's guard on."""
    cwd.mkdir()
    p = _start(args, cwd)
    while not _caught(p.pid) & (1 << (signal.SIGTERM - 1)) and p.poll() is None:
        time.sleep(0.001)
    t0 = time.monotonic()
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    return time.monotonic() - t0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_fifty_real_signals_at_random_times_each_resume_to_the_same_file(tmp_path):
    span = _reference_run(RANDOM_ARGS, tmp_path / "ref")  # signals land anywhere in a run
    ref = eosfast.read_grid(tmp_path / "ref" / "r.h5")

    def same(path):
        same_grid(path, ref)

    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        d.mkdir()
    # two chains side by side (two cores): each resumes its own file over and over
    with ThreadPoolExecutor(2) as pool:
        chains = list(pool.map(_chain, dirs, [RANDOM_ARGS] * 2, ["r.h5"] * 2,
                               [INTERRUPTIONS // 2] * 2, [1, 2], [span] * 2, [same] * 2))
    phases = [ph for ch, _ in chains for ph in ch]
    counts = {ph: phases.count(ph) for ph in sorted(set(phases))}
    print(f"\n{len(phases)} interruptions in {sum(r for _, r in chains)} runs "
          f"(a whole run {span:.2f} s after start-up): {counts}")
    assert len(phases) >= 50
    assert counts.get("start-up", 0) and counts.get("computing and writing", 0), counts


#: zoom and refine write levels from the main thread too (a signal mid-level
#: once left a level that its own resume refused: issue 24)
LEVEL_RUNS = {
    "zoom": ["zoom", "--levels", "4", "--res", "256", "--steps", "2000", "--no-images",
             "--threads", "1", "-q", "-o", "z.h5"],
    "refine": ["refine", "--base", "129", "--levels", "4", "--steps", "2000", "--verify",
               "0", "--threads", "1", "-q", "-o", "z.h5"],
}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("command", sorted(LEVEL_RUNS))
def test_real_signals_stop_zoom_and_refine_between_levels(tmp_path, command):
    args = LEVEL_RUNS[command]
    span = _reference_run(args, tmp_path / "ref")
    work = tmp_path / "work"
    work.mkdir()
    phases, runs = _chain(work, args, "z.h5", 4, 3, span,
                          lambda path: _same_h5(path, tmp_path / "ref" / "z.h5"))
    print(f"\n{command}: {len(phases)} interruptions in {runs} runs: {phases}")


# 60 writes create the file, levels 1-3 take writes 61-92, 93-123 and 124-159, the
# finish 160-181 (counted): in the middle of levels 1 and 3, and in the finish
@pytest.mark.parametrize("call", [75, 140, 170])
def test_a_signal_inside_a_refine_level_write_keeps_every_level_resumable(tmp_path, call):
    """Issue 24's report: a SIGTERM mid-level left a level its own resume refused."""
    args = ["refine", "--base", "65", "--levels", "3", "--steps", "2000", "--verify", "0",
            "--threads", "1", "-q"]
    ref = tmp_path / "ref"
    ref.mkdir()
    p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *args, "-o", "r.h5"],
                       cwd=ref, env=ENV, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    code, _, err = child(f"eosfast.store.h5:GuardedFile.write|{call}|kill15|before", *args,
                         "-o", "r.h5", cwd=tmp_path)
    assert code == 128 + signal.SIGTERM, err
    resume = re.search(r"run `([^`]*)`", one_line(err)).group(1)
    p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *shlex.split(resume)[1:]],
                       cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr  # the resume accepts what the stop left
    _same_h5(tmp_path / "r.h5", ref / "r.h5")


# ---------------------------------------------------------------- pieces smaller than a level

#: A run of each is stopped right after it saves a piece (a refine level's
#: points, a zoom tile), by SIGTERM, SIGHUP and SIGINT in turn.
PIECE_RUNS = {
    "refine": (["refine", "--base", "65", "--levels", "5", "--steps", "2000", "--verify", "0",
                "--threads", "1", "-q"], "eosfast.store.refinefile:write_piece|2|kill{}|after"),
    "zoom": (["zoom", "--levels", "2", "--res", "512", "--steps", "2000", "--no-images",
              "--threads", "1", "-q"], "eosfast.store.zoomfile:write_tile|2|kill{}|after"),
    "ensemble": (["ensemble", "--dim", "30", "--eta", "0.05", "--samples", "20000",
                  "--threads", "1", "-q"],
                 "eosfast.store.ensemblefile:write_piece|2|kill{}|after"),
}

#: Pieces of a few rounds (a level of this small refine is then several pieces).
SMALL_PIECES = "eosfast.refine.run:PIECE_POINTS=20000;eosfast.refine.run:PIECE_SECONDS=1000"


def _saved(command: str, part: Path) -> tuple[int, int]:
    """(whole levels, points or tiles of the next level) a ``.part`` holds."""
    with h5py.File(part, "r") as f:
        if command == "ensemble":
            return 0, int(f["resume/piece_done"][()].sum())
        if command == "refine":
            p = f.get("pending")
            pieces = 0 if p is None or "state" not in p else sum(
                p[f"piece_{k:06d}"]["ix"].shape[0]
                for k in range(int(p["state"].attrs["pieces"])))
            return int(f.attrs["levels_done"]), pieces
        levels = sum(1 for n in f if n.startswith("level_"))
        pending = [f[n]["tile_done"][()] for n in f if n.startswith("pending_")]
        return levels, int(pending[0].sum()) if pending else 0


@pytest.mark.parametrize("command", sorted(PIECE_RUNS))
def test_a_run_stopped_after_every_other_piece_progresses_each_time(tmp_path, command):
    """Issue 24: a level is saved in pieces, so runs that are stopped, again and again,
    each save more and together finish the file an uninterrupted run writes."""
    args, hook = PIECE_RUNS[command]
    ref = tmp_path / "ref"
    ref.mkdir()
    p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *args, "-o", "r.h5"],
                       cwd=ref, env=ENV, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    sigs = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]
    run_args, saved, runs = [*args, "-o", "r.h5"], [], 0
    while True:
        sig = sigs[runs % 3]
        code, _, err = child(hook.format(int(sig)), *run_args, cwd=tmp_path,
                             extra_env={"SET": SMALL_PIECES})
        runs += 1
        if code == 0:
            break
        assert code == 128 + sig, err
        line = one_line(err)
        name = "Ctrl-C" if sig == signal.SIGINT else sig.name
        assert line.startswith(f"eosfast: stopped by {name}: "), line
        now = _saved(command, tmp_path / "r.h5.part")
        assert not saved or now > saved[-1], (saved, now)  # every run saved more
        saved.append(now)
        assert runs < 40, saved
        run_args = shlex.split(re.search(r"run `([^`]*)`", line).group(1))[1:]
    assert any(part for _, part in saved), saved  # stopped inside levels, not between
    _same_h5(tmp_path / "r.h5", ref / "r.h5")


def _flagged_cells_brute_force(part: Path, level: int, contrast: int = 3) -> set[int]:
    """Keys of the cells of ``level`` with four computed corners that the GD flag marks,
    from a dense raster of that level's lattice (no lattice code)."""
    from eosfast.status import Status

    with h5py.File(part, "r") as f:
        base = f["status"][0]
        nb = base.shape[0]
        n = (nb - 1) * (1 << level) + 1
        status = np.zeros((n, n), dtype=np.int64)
        steps = np.zeros((n, n), dtype=np.int64)
        known = np.zeros((n, n), dtype=bool)
        s = 1 << level
        status[::s, ::s], steps[::s, ::s], known[::s, ::s] = base, f["steps"][0], True
        for k in range(1, level + 1):
            g = f[f"level_{k:02d}"]
            up = 1 << (level - k)
            status[g["iy"][()] * up, g["ix"][()] * up] = g["status"][()]
            steps[g["iy"][()] * up, g["ix"][()] * up] = g["steps"][()]
            known[g["iy"][()] * up, g["ix"][()] * up] = True
    c = [status[:-1, :-1], status[:-1, 1:], status[1:, :-1], status[1:, 1:]]
    t = [steps[:-1, :-1], steps[:-1, 1:], steps[1:, :-1], steps[1:, 1:]]
    complete = known[:-1, :-1] & known[:-1, 1:] & known[1:, :-1] & known[1:, 1:]
    differ = np.any([a != c[0] for a in c[1:]], axis=0)
    diverged = np.all([a == Status.DIVERGED for a in c], axis=0)
    wide = np.max(t, axis=0) - np.min(t, axis=0) >= contrast
    cy, cx = np.nonzero(complete & (differ | (diverged & wide)))
    return set((cy * (n - 1) + cx).tolist())


def test_a_resume_takes_a_level_s_seeds_from_the_file(tmp_path):
    """Issue 24: a level's seeds (the flagged cells of the level above) are saved with its
    first piece, as a dense raster finds them; a resume takes them from the file instead
    of finding them again (seconds on a deep level), so it finishes the level before it
    first looks for a level's complete cells."""
    args = ["refine", "--base", "65", "--levels", "4", "--steps", "2000", "--verify", "0",
            "--threads", "1", "-q", "-o", "r.h5"]
    code, _, err = child("eosfast.store.refinefile:write_piece|3|kill15|after", *args,
                         cwd=tmp_path, extra_env={"SET": SMALL_PIECES})
    assert code == 128 + signal.SIGTERM, err
    part = tmp_path / "r.h5.part"
    with h5py.File(part, "r") as f:
        done = int(f.attrs["levels_done"])
        p = f["pending"]
        level = int(p.attrs["level"])
        cells, counts = p["seeds/cells"][()], p["seeds/counts"][()]
    assert level == done + 1 and 1 <= done
    assert counts.sum() == cells.size and cells.size == np.unique(cells).size
    assert set(cells.tolist()) == _flagged_cells_brute_force(part, done)
    code, _, err = child("eosfast.refine.lattice:RefinedLattice.complete_cells|1|kill15|before",
                         *args, "--resume", cwd=tmp_path)
    with h5py.File(part if code else tmp_path / "r.h5", "r") as f:
        assert int(f.attrs["levels_done"]) > done, err  # the level was finished first


# ---------------------------------------------------------------- commands x signals x moments

#: Small runs of the resumable commands (each writes ``r.h5``).
COMMANDS = {
    "grid": ["grid", "--res", "256", "--tile", "64", "--steps", "2000", "--threads", "1", "-q"],
    "zoom": ["zoom", "--levels", "2", "--res", "256", "--steps", "2000", "--no-images",
             "--threads", "1", "-q"],
    "refine": ["refine", "--base", "65", "--levels", "3", "--steps", "2000", "--verify", "20",
               "--threads", "1", "-q"],
    "ensemble": ["ensemble", "--dim", "50", "--eta", "0.1", "--samples", "20000",
                 "--threads", "1", "-q"],
}

#: Where the signal lands: a function of the run and the hook that sends it.
#: start-up: while the arguments are checked, before any file; computing: in
#: the kernel's work (a worker thread sends it); writing: while a piece is
#: written (sent as the writer starts it: honoured once the piece is whole);
#: renaming: just after the finished file took its name.
MOMENTS = {
    "start-up": {c: "eosfast.validate:path|1|kill{}|before" for c in COMMANDS},
    "computing": {**{c: "eosfast.tiles:compute_points|2|kill{}|after" for c in COMMANDS},
                  "ensemble": "eosfast.vector:EnsembleSpec.compute|2|kill{}|after"},
    "writing": {"grid": "eosfast.store.gridfile:write_tile|2|kill{}|before",
                "zoom": "eosfast.store.zoomfile:write_tile|1|kill{}|before",
                "refine": "eosfast.store.refinefile:write_level|2|kill{}|before",
                "ensemble": "eosfast.store.ensemblefile:write_piece|2|kill{}|before"},
    "renaming": {c: "eosfast.store.atomic:_move|1|kill{}|after" for c in COMMANDS},
}


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    out = {}
    for command, args in COMMANDS.items():
        d = tmp_path_factory.mktemp(f"ref-{command}")
        p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *args, "-o", "r.h5"],
                           cwd=d, env=ENV, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        out[command] = d / "r.h5"
    return out


@pytest.mark.parametrize("moment", sorted(MOMENTS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_stops_on_every_signal_at_every_moment(tmp_path, references, command,
                                                             sig, moment):
    """Issue 24: 128 + the signal, one line naming it and the command that resumes, and the
    resumed file bit-identical to an uninterrupted run's."""
    hook = MOMENTS[moment][command].format(int(sig))
    code, out, err = child(hook, *COMMANDS[command], "-o", "r.h5", cwd=tmp_path)
    assert code == 128 + sig, err
    line = one_line(err)
    name = "Ctrl-C" if sig == signal.SIGINT else sig.name
    assert line.startswith(f"eosfast: stopped by {name}"), line
    if moment == "renaming":  # the work was done: nothing to resume
        assert "it is complete" in line and not (tmp_path / "r.h5.part").exists()
    else:
        resume = re.search(r"run `([^`]*)`", line)
        assert resume, line  # the command that continues it, in the same line
        p = subprocess.run([sys.executable, "-m", "eosfast.cli.main",
                            *shlex.split(resume.group(1))[1:]], cwd=tmp_path, env=ENV,
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
    _same_h5(tmp_path / "r.h5", references[command])


def test_a_signal_python_drops_is_raised_at_the_next_checkpoint(handlers):
    """A handler's exception raised inside a callback from C is dropped by Python
    (sys.unraisablehook); handed to interrupts.dropped, it is raised again."""
    assert interrupts.dropped(ValueError("not a signal")) is False
    assert interrupts.dropped(Signalled(signal.SIGHUP)) is True
    with pytest.raises(Signalled) as exc, interrupts.deferred():
        pass  # raised on entry: nothing after it runs
    assert exc.value.signum == signal.SIGHUP
    with interrupts.deferred():  # raised once only
        interrupts.checkpoint()
    assert interrupts.lost() is None


#: Sends SIGTERM from inside a weakref callback while grid starts: Python drops
#: the handler's exception there ("Exception ignored in ..."), as it does inside
#: the import system's callbacks and Numba's ctypes callbacks.
_DROPPED = r"""
import importlib, os, signal, sys, weakref
g = importlib.import_module("eosfast.grid")
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
original = g.make_spec

def hooked(*args, **kwargs):
    class Obj:
        pass
    o = Obj()
    r = weakref.ref(o, lambda _: (os.kill(os.getpid(), signal.SIGTERM), sum(range(10000))))
    del o
    return original(*args, **kwargs)

g.make_spec = hooked
from eosfast.cli.main import main
main(sys.argv[1:])
"""


def test_a_signal_dropped_inside_a_callback_still_stops_the_command(tmp_path):
    p = subprocess.run([sys.executable, "-c", _DROPPED, "grid", "--res", "64", "--steps", "100",
                        "-o", "g.h5"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 128 + signal.SIGTERM, p.stderr
    line = one_line(p.stderr)  # one line: no "Exception ignored", no traceback
    assert line.startswith("eosfast: stopped by SIGTERM"), line
    assert not (tmp_path / "g.h5").exists()


def test_a_signal_after_the_output_is_in_place_says_so(tmp_path):
    """Between the rename and the summary, a stop is reported as coming after the output."""
    code, _, err = child("eosfast.zoom:_draw|1|kill1|before", "zoom", "--levels", "1", "--res",
                         "64", "--steps", "500", "--no-images", "-q", "-o", "z.h5",
                         cwd=tmp_path)
    assert code == 128 + signal.SIGHUP, err
    line = one_line(err)
    assert line == "eosfast: stopped by SIGHUP after z.h5 was written (it is complete)", line
    assert eosfast.read_zoom(tmp_path / "z.h5").levels
