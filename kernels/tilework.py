"""The per-tile bookkeeping around the grid kernel, compiled so that it runs without the GIL.

A tile's input points and its statistics are cheap, but written with NumPy
(``np.tile``, ``np.repeat``, ``np.bincount``) they hold the GIL, and every
worker thread waits for it in turn: measured on the default 4096^2 grid, the
workers held the GIL for tens of milliseconds per run doing these (py-spy
``--gil``). As ``nogil`` kernels they run in parallel with the grid kernel of
the other threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .config import JIT


@nb.njit(**JIT)
def tile_points(x0, y0, eta, xs, ys, es):
    """The points of ``x0 (nx,) x y0 (ny,)`` in row-major order, at one step size.

    Fills ``xs, ys, es`` (float64, shape (ny * nx,)): point ``i * nx + j`` is
    ``(x0[j], y0[i])`` at ``eta``.
    """
    nx = x0.size
    for i in range(y0.size):
        y = y0[i]
        for j in range(nx):
            xs[i * nx + j] = x0[j]
            ys[i * nx + j] = y
            es[i * nx + j] = eta


@nb.njit(**JIT)
def status_histogram(status, steps, hist):
    """Count the int8 ``status`` codes into ``hist`` (int64, (256,), index code + 128).

    Returns the sum of ``steps`` (int32, the same length) as int64: the GD
    steps the points ran.
    """
    for k in range(256):
        hist[k] = 0
    total = np.int64(0)
    for i in range(status.size):
        hist[np.int64(status[i]) + 128] += 1
        total += np.int64(steps[i])
    return total
