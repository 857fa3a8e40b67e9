"""A stopped refinement's points, left beside its ``.part`` (issue 24: resumes at deep levels).

A resume used to rebuild every point of every level in memory before its
first round (22 s at level 7 of ``--base 1025 --levels 7``), so runs stopped
every few seconds never saved anything there. A stopped run now leaves its
points in ``NAME.part.points`` (:mod:`eosfast.store.pointcache`) and the
resume maps them back. These tests hold the cache to what it must be: a copy
that is used only while it matches the ``.part``, never a second truth.
"""

from __future__ import annotations

import json
import signal

import h5py
import numpy as np
import pytest
from test_interrupts import SMALL_PIECES, _saved
from test_safety_cli import child

import eosfast
from eosfast import interrupts
from eosfast.refine import run as refine_run
from eosfast.refine.points import PointStore
from eosfast.store import pointcache

DTYPES = {"status": np.int8, "steps": np.int32}


def _data_offset(raw: bytes, name: str) -> int:
    """Byte offset, in a cache file, of the middle of array ``name``'s data."""
    size = int.from_bytes(raw[8:16], "little")
    e = json.loads(raw[16:16 + size])["arrays"][name]
    return e["offset"] + e["length"] * np.dtype(e["dtype"]).itemsize // 2


def _store(keys: np.ndarray) -> PointStore:
    s = PointStore(DTYPES)
    s.add(keys, {"status": (keys % 7).astype(np.int8), "steps": (keys % 1000).astype(np.int32)},
          0)
    return s


@pytest.mark.parametrize("seed", range(4))
def test_truncating_a_point_store_forgets_exactly_the_rows_after(seed):
    """Backward-shift deletion against a dict: every kept key is found at its row, every
    dropped key is gone, wherever the probe runs wrap around the table."""
    rng = np.random.default_rng(seed)
    # keys crowded into few slots: long probe runs that wrap past the table's end
    keys = rng.choice(1 << 40, 3000, replace=False).astype(np.int64)
    s = PointStore(DTYPES, 16)
    for a in range(0, keys.size, 500):  # several levels
        part = keys[a:a + 500]
        s.add(part, {"status": np.zeros(part.size, np.int8),
                     "steps": np.zeros(part.size, np.int32)}, a // 500)
    for n in sorted(rng.choice(keys.size, 6, replace=False), reverse=True):
        s.truncate(int(n))
        truth = {int(k): r for r, k in enumerate(keys[:n])}
        rows = s.lookup(keys)
        assert [int(r) for r in rows[:n]] == [truth[int(k)] for k in keys[:n]]
        assert (rows[n:] == -1).all()
        assert s.n == n and s.keys.size == n
        assert sum(b - a for a, b in s._ranges.values()) == n
    # and the store takes points again as a fresh one would
    n = s.n
    s.add(keys[n:], {"status": np.zeros(keys.size - n, np.int8),
                     "steps": np.zeros(keys.size - n, np.int32)}, s._last)
    assert (s.lookup(keys) == np.arange(keys.size)).all()


def test_a_point_cache_round_trips_and_refuses_what_is_not_it(tmp_path):
    keys = np.random.default_rng(1).choice(1 << 40, 5000, replace=False).astype(np.int64)
    s = _store(keys)
    part = tmp_path / "r.h5.part"
    arrays, meta = s.export()
    path = pointcache.write(part, "t0k3n", arrays, {**meta, "levels_done": 3})
    assert path == tmp_path / "r.h5.part.points"
    got = pointcache.read(part, "t0k3n")
    assert got is not None
    m, a = got
    assert m["levels_done"] == 3 and m["lengths"]["keys"] == keys.size
    t = PointStore.restore(DTYPES, a, m)
    assert (t.lookup(keys) == np.arange(keys.size)).all()
    assert np.array_equal(t.field("steps"), s.field("steps"))
    # room to append in place, and the appended point is found
    t.add(np.array([1 << 41]), {"status": np.ones(1, np.int8), "steps": np.ones(1, np.int32)}, 0)
    assert t.lookup(np.array([1 << 41]))[0] == keys.size
    assert pointcache.read(part, "another") is None
    raw = bytearray(path.read_bytes())
    off = _data_offset(raw, "table")
    raw[off] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert pointcache.read(part, "t0k3n") is None
    raw[off] ^= 0xFF
    path.write_bytes(bytes(raw[: len(raw) // 3]))  # cut short
    assert pointcache.read(part, "t0k3n") is None
    path.write_bytes(b"not a cache at all")
    assert pointcache.read(part, "t0k3n") is None
    pointcache.remove(part)
    assert not path.exists()


def test_a_held_signal_waits_for_the_first_piece_then_stops_at_the_checkpoint():
    old = signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                interrupts.hold_first_piece()
                signal.raise_signal(signal.SIGTERM)
                with interrupts.allowed():  # waiting for the first piece: it does not raise
                    done = True
                assert done
                interrupts.saved()  # the piece is written
                with interrupts.allowed():  # the next wait raises at once
                    pytest.fail("allowed() did not raise")
    finally:
        signal.signal(signal.SIGTERM, old)
        interrupts.saved()


ARGS = ["refine", "--base", "65", "--levels", "4", "--steps", "2000", "--verify", "20",
        "--threads", "1", "-q", "-o", "r.h5"]
KW = dict(base=65, levels=4, steps=2000, verify=20, threads=1)


def _datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def _same(a, b):
    x, y = _datasets(a), _datasets(b)
    assert x.keys() == y.keys()
    for name in x:
        assert np.array_equal(x[name], y[name], equal_nan=True), name


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "r.h5"
    eosfast.refine(out=path, **KW)
    return path


#: Small rounds and pieces: :data:`ARGS` then saves about 12 pieces in levels 1-3
#: and 16 in level 4 (the rounds differ from the default's, the points do not).
BATCHED = ("eosfast.refine.run:PIECE_POINTS=2000;eosfast.refine.run:PIECE_SECONDS=1000;"
           "eosfast.refine.lattice:ROUND_CELLS=256")

#: A hook that never fires (the child of :func:`child` wants one).
NO_HOOK = "eosfast.store.refinefile:write_piece|1000000|kill15|after"


@pytest.fixture(scope="module")
def batched_reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("batched")
    code, _, err = child(NO_HOOK, *ARGS, cwd=d, extra_env={"SET": BATCHED})
    assert code == 0, err
    return d / "r.h5"


def _stopped(tmp_path, hook="eosfast.store.refinefile:write_piece|3|kill15|after",
             pieces=SMALL_PIECES):
    code, _, err = child(hook, *ARGS, cwd=tmp_path, extra_env={"SET": pieces})
    assert code == 128 + signal.SIGTERM, err
    part = tmp_path / "r.h5.part"
    return part


def test_a_resume_takes_its_points_from_the_cache_and_ends_bit_identical(tmp_path, reference,
                                                                         monkeypatch):
    part = _stopped(tmp_path)
    cache = pointcache.cache_path(part)
    assert cache.exists()
    with h5py.File(part, "r") as f:
        assert f.attrs[pointcache.TOKEN_ATTR]
    # the levels are not read back: the points come from the cache
    monkeypatch.setattr(refine_run, "_load_level", lambda *a: pytest.fail("levels were read"))
    eosfast.refine(out=tmp_path / "r.h5", resume=True, **KW)
    _same(tmp_path / "r.h5", reference)
    assert not cache.exists() and not part.exists()
    with h5py.File(tmp_path / "r.h5", "r") as f:
        assert pointcache.TOKEN_ATTR not in f.attrs


def test_a_cache_behind_the_file_is_caught_up_from_the_pieces(tmp_path, batched_reference):
    """Pieces saved after the cache (by a run that kept it, or was killed) are added from
    the file."""
    part = _stopped(tmp_path, "eosfast.store.refinefile:write_piece|16|kill15|after", BATCHED)
    before = _saved("refine", part)
    with h5py.File(part, "r") as f:
        token = f.attrs[pointcache.TOKEN_ATTR]
    # a run stopped after two more pieces keeps the cache (far fewer than CACHE_BEHIND
    # points behind), and one killed outright after one more cannot write any
    for hook in ("write_piece|2|kill15|after", "write_piece|1|kill9|after"):
        code, _, err = child(f"eosfast.store.refinefile:{hook}", *ARGS, "--resume",
                             cwd=tmp_path, extra_env={"SET": BATCHED})
        assert code in (128 + signal.SIGTERM, -signal.SIGKILL), err
    after = _saved("refine", part)
    assert after > before and after[0] == before[0]  # more pieces of the same level
    with h5py.File(part, "r") as f:
        assert f.attrs[pointcache.TOKEN_ATTR] == token
    # the last resume takes the cache and the pieces after it, never the levels
    code, _, err = child("eosfast.refine.run:_load_level|1|kill9|before", *ARGS, "--resume",
                         cwd=tmp_path, extra_env={"SET": BATCHED})
    assert code == 0, err
    _same(tmp_path / "r.h5", batched_reference)


@pytest.mark.parametrize("damage", ["flipped byte", "other token", "level written since"])
def test_a_cache_that_is_not_the_file_s_is_ignored(tmp_path, reference, monkeypatch, damage):
    part = _stopped(tmp_path)
    cache = pointcache.cache_path(part)
    if damage == "flipped byte":
        raw = bytearray(cache.read_bytes())
        raw[_data_offset(raw, "keys")] ^= 0x01
        cache.write_bytes(bytes(raw))
    elif damage == "other token":
        with h5py.File(part, "r+") as f:
            f.attrs[pointcache.TOKEN_ATTR] = "0" * 32
    else:  # the file moved on without its cache: writing a level unties them
        with h5py.File(part, "r+") as f:
            assert pointcache.TOKEN_ATTR in f.attrs
            from eosfast.store import refinefile

            refinefile.forget_cache(f)
    reads = []
    real = refine_run._load_level
    monkeypatch.setattr(refine_run, "_load_level", lambda *a: reads.append(a[2]) or real(*a))
    eosfast.refine(out=tmp_path / "r.h5", resume=True, **KW)
    assert reads  # rebuilt from the file
    _same(tmp_path / "r.h5", reference)
    assert not cache.exists()


def test_force_discards_the_cache_with_the_part(tmp_path, reference):
    part = _stopped(tmp_path)
    assert pointcache.cache_path(part).exists()
    eosfast.refine(out=tmp_path / "r.h5", force=True, **KW)
    assert not pointcache.cache_path(part).exists() and not part.exists()
    _same(tmp_path / "r.h5", reference)


def test_a_signal_in_a_run_s_first_round_waits_for_its_piece(tmp_path, reference):
    """A run stopped while computing its first round still saves that round: runs stopped
    a few seconds in, again and again, each save more (the round is seconds at most).
    (grid and zoom hold their first tile alike: store.run.Run holds for every command.)"""
    part = _stopped(tmp_path)
    saved = [_saved("refine", part)]
    args = [*ARGS, "--resume"]
    for _ in range(3):  # the signal lands in the kernel's work of the first round
        # (the first call is the kernels' warm-up, before the run has anything to save)
        code, _, err = child("eosfast.tiles:compute_points|2|kill15|after", *args,
                             cwd=tmp_path, extra_env={"SET": SMALL_PIECES})
        if code == 0:
            break
        assert code == 128 + signal.SIGTERM, err
        saved.append(_saved("refine", part))
        assert saved[-1] > saved[-2], saved
    eosfast.refine(out=tmp_path / "r.h5", resume=True, **KW)
    _same(tmp_path / "r.h5", reference)


def test_a_cache_that_cannot_be_written_leaves_the_stop_and_the_resume_as_they_were(
        tmp_path, reference):
    """A stop whose cache write fails (here the file size limit, as on a full disk) still
    ends with its one stop line, leaves no half-written cache, and its resume rebuilds from
    the file."""
    probe = tmp_path / "probe"
    probe.mkdir()
    part = _stopped(probe)
    limit = (part.stat().st_size + pointcache.cache_path(part).stat().st_blocks * 512) // 2
    assert part.stat().st_size < limit < pointcache.cache_path(part).stat().st_blocks * 512
    code, _, err = child("eosfast.store.refinefile:write_piece|3|kill15|after", *ARGS,
                         cwd=tmp_path, extra_env={"SET": SMALL_PIECES, "FSIZE": str(limit)})
    assert code == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1].startswith("eosfast: stopped by SIGTERM: "), err
    part = tmp_path / "r.h5.part"
    assert part.exists() and not list(tmp_path.glob("r.h5.part.points*"))
    eosfast.refine(out=tmp_path / "r.h5", resume=True, **KW)
    _same(tmp_path / "r.h5", reference)
