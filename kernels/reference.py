"""Reference loops for the benchmarks: the pace the grid kernel is measured against.

Neither is used to compute results; both iterate a model's own ``advance``
(the same arithmetic as the grid kernel) and are compiled per model like
every kernel (:mod:`.build`):

``lanes_template``
    The hardware's pace for this arithmetic: a check-free SIMD lane loop.
    Blocks of ``LANES`` points step ``steps`` times with no stopping test, no
    select and no bookkeeping; blocks are spread over all threads. What the
    grid kernel adds to it (stopping tests, frozen lanes, refills,
    classification) is its overhead.
``straight_template``
    The straightforward way to write the grid: one point per ``prange``
    iteration, a ``while`` loop with the grid's stopping rules, status and
    step count out. Correct and parallel, but each point's steps form one
    long dependency chain, so the core waits on every multiply.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .config import LANES


def lanes_template(key):
    """``run(x0, y0, eta, steps, xs, ys)``: every full block of ``LANES`` points, ``steps`` steps.

    ``x0, y0, eta`` float64 (n,); the final states go to ``xs, ys`` (float64,
    (n,); entries past the last full block are left alone). Lane-steps run:
    ``(n // LANES) * LANES * steps``.
    """

    def run(x0, y0, eta, steps, xs, ys):
        _ = key
        nblocks = x0.size // LANES
        for b in nb.prange(nblocks):
            X = np.empty(LANES)
            Y = np.empty(LANES)
            C = np.empty(LANES)
            for l in range(LANES):
                X[l] = x0[b * LANES + l]
                Y[l] = y0[b * LANES + l]
                C[l] = coef(eta[b * LANES + l])  # noqa: F821 (bound per model)
            for _ in range(steps):
                for l in range(LANES):
                    xn, yn, m = advance(X[l], Y[l], C[l], C[l])  # noqa: F821
                    X[l] = xn
                    Y[l] = yn
            for l in range(LANES):
                xs[b * LANES + l] = X[l]
                ys[b * LANES + l] = Y[l]

    return run


def straight_template(key):
    """``run(x0, y0, eta, cap, tol, R, status, steps)``: one point per iteration of a prange.

    Status 1 converged, -1 diverged, 0 at the cap (no classification beyond
    that); ``steps`` the step it stopped at. Same stopping rules as the grid
    kernel.
    """

    def run(x0, y0, eta, cap, tol, R, status, steps):
        _ = key
        for i in nb.prange(x0.size):
            x = x0[i]
            y = y0[i]
            c = coef(eta[i])  # noqa: F821
            t = 0
            st = 0
            while True:
                xn, yn, m = advance(x, y, c, c)  # noqa: F821
                if not ((abs(x) <= R) & (abs(y) <= R)):
                    st = -1
                    break
                if m < tol:
                    st = 1
                    break
                if t >= cap:
                    break
                x = xn
                y = yn
                t += 1
            status[i] = st
            steps[i] = t

    return run
