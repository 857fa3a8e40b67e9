"""The compiled per-tile bookkeeping, against NumPy's own functions."""

import numpy as np
import pytest

from eosfast.kernels.tilework import status_histogram, tile_points
from eosfast.tiles import TileStats


@pytest.mark.parametrize("ny,nx", [(1, 1), (3, 5), (64, 17)])
def test_tile_points_are_numpys_meshgrid_in_row_major_order(ny, nx):
    rng = np.random.default_rng(ny * nx)
    x0, y0 = rng.normal(size=nx), rng.normal(size=ny)
    xs, ys, es = (np.empty(ny * nx) for _ in range(3))
    tile_points(x0, y0, 0.37, xs, ys, es)
    X, Y = np.meshgrid(x0, y0)
    assert np.array_equal(xs, X.ravel()) and np.array_equal(ys, Y.ravel())
    assert np.all(es == 0.37)


def test_status_histogram_is_bincount_and_steps_sum():
    rng = np.random.default_rng(1)
    status = rng.choice(np.array([-128, -1, 0, 1, 2, 127], np.int8), size=10_001)
    steps = rng.integers(0, 2**31 - 1, size=status.size).astype(np.int32)
    hist = np.full(256, -7, np.int64)  # stale content must not survive
    total = status_histogram(status, steps, hist)
    assert np.array_equal(hist, np.bincount(status.astype(np.int64) + 128, minlength=256))
    assert total == int(steps.astype(np.int64).sum())  # no int32 overflow


def test_tile_stats_of_a_two_dimensional_tile():
    status = np.array([[1, 1, -1], [2, 0, -1]], np.int8)
    steps = np.array([[5, 6, 7], [8, 9, 10]], np.int32)
    stats = TileStats.of({"status": status, "steps": steps})
    assert stats.iterations == 45
    assert stats.counts == (2, 1, 1, 2)  # converged, periodic, bounded, diverged


def test_thread_executor_places_each_tile_once_in_its_workers():
    import threading

    import eosfast
    from eosfast.executors import ThreadExecutor
    from eosfast.grid import make_spec

    spec = make_spec("zhu4", 40).with_tile((16, 16))
    seen, where = [], set()

    def place(index, payload):
        seen.append(index)
        where.add(threading.current_thread().name)
        assert all(isinstance(t, dict) and "status" in t for t in payload)

    out = list(ThreadExecutor(2).run(spec, spec.sources(), None, place))
    assert sorted(seen) == sorted(spec.sources()) == sorted(i for i, _, _ in out)
    assert all(payload == () for _, _, payload in out)
    assert "MainThread" not in where
    # and the grid assembled that way is the one computed tile by tile in order
    a = eosfast.grid(res=40, tile=16, threads=2)
    b = eosfast.grid(res=40, tile=16, threads=1, symmetry=False)
    for name in ("status", "steps", "period", "sharpness", "loss", "x", "y"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
