"""Compiled loop of the fractality test (:func:`eosfast.fractal.fractality_test`)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .config import JIT


@nb.njit(**JIT)
def ball_entropies(labels, n_classes, cy, cx, dy, dx, out):
    """Entropy of the class histogram in the ball of offsets ``(dy, dx)`` at each centre.

    Parameters
    ----------
    labels : ndarray, int8, shape (ny, nx)
        Class labels ``0 .. n_classes - 1``.
    cy, cx : ndarray, int64, shape (m,)
        Ball centres (every ball lies inside the raster).
    dy, dx : ndarray, int64, shape (a,)
        Offsets of the ball's pixels.
    out : ndarray, float64, shape (m,)
        Filled with ``-sum_k p_k ln p_k`` (nats) per ball.
    """
    counts = np.zeros(n_classes, dtype=np.int64)
    area = dy.size
    for c in range(cy.size):
        counts[:] = 0
        for o in range(area):
            counts[labels[cy[c] + dy[o], cx[c] + dx[o]]] += 1
        h = 0.0
        for k in range(n_classes):
            if counts[k] > 0:
                p = counts[k] / area
                h -= p * math.log(p)
        out[c] = h
