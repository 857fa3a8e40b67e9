"""Loss and sharpness over arrays of coupled points (the analysis side of the maps)."""

from __future__ import annotations

import numba as nb

from .config import JIT
from .maps import loss, sharpness


def make_pointwise_kernels(p: int, q: int, s: float):
    """Return ``(sharpness_many, loss_many)`` for the model ``(p, q, s)``.

    Both have the signature ``f(x, y, out)`` with 1-D float64 arrays of one
    length; ``out`` is filled in place.
    """
    p = int(p)
    q = int(q)
    s = float(s)

    @nb.njit(**JIT)
    def sharpness_many(x, y, out):
        for i in range(x.size):
            out[i] = sharpness(x[i], y[i], p, q, s)

    @nb.njit(**JIT)
    def loss_many(x, y, out):
        for i in range(x.size):
            out[i] = loss(x[i], y[i], p, q, s)

    return sharpness_many, loss_many
