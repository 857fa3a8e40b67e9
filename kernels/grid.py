"""The grid kernel: GD from many initial points at once, SIMD-friendly.

Design: ``LANES`` points live in a small lane buffer. The hot loop advances
every lane ``CHUNK`` steps with no exits and no branches: a lane whose point
has converged, escaped or hit the cap is frozen by a select (its state stops
changing, so the stopping test keeps returning "stop" on it). Between chunks,
frozen lanes hand their point to the output and take the next one. The loop
over lanes therefore vectorises, and escape times that vary 1000x across a
grid cost at most ``CHUNK - 1`` idle steps per point.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .config import CHUNK, INLINE, JIT, LANES
from .maps import loss, residual, sharpness, step

#: ``status`` codes, as in the result file.
CONVERGED, PERIODIC, BOUNDED, DIVERGED = 1, 2, 0, -1


@nb.njit(**INLINE)
def _live(x, y, t, cap, tol, R, p, q):
    r = residual(x, y, p, q)
    return (abs(x) <= R) & (abs(y) <= R) & (abs(r) >= tol) & (t < cap)

@nb.njit(**JIT)
def _finish(i, x, y, t, eta, cap, tol, R, max_period, period_tol,
            status, steps, period, sharp, lss, xs, ys, p, q, s):
    """Classify the stopped point ``i`` and write its outputs."""
    steps[i] = np.int32(t)
    period[i] = 0
    if not ((abs(x) <= R) & (abs(y) <= R)):
        status[i] = DIVERGED
        sharp[i] = np.nan
        lss[i] = np.nan
        xs[i] = np.nan
        ys[i] = np.nan
        return
    xs[i] = x
    ys[i] = y
    sharp[i] = sharpness(x, y, p, q, s)
    lss[i] = loss(x, y, p, q, s)
    if abs(residual(x, y, p, q)) < tol:
        status[i] = CONVERGED
        return
    status[i] = BOUNDED
    c = s * eta
    u, v = x, y
    bound = period_tol * (1.0 + abs(x) + abs(y))
    for k in range(1, max_period + 1):
        u, v = step(u, v, c, p, q)
        if not ((abs(u) <= R) & (abs(v) <= R)):
            return
        if abs(u - x) + abs(v - y) <= bound:
            status[i] = PERIODIC
            period[i] = k
            return


def make_grid_kernel(p: int, q: int, s: float):
    """Build the grid kernel of the model with exponents ``(p, q)`` and scale ``s``.

    The returned function has the signature::

        run(x0, y0, eta, cap, tol, escape, max_period, period_tol,
            status, steps, period, sharp, loss, x, y) -> None

    All arrays are 1-D and of one length ``n``: inputs ``x0, y0, eta``
    (float64), outputs ``status`` (int8), ``steps`` (int32), ``period``
    (int16) and ``sharp, loss, x, y`` (float64), filled in place.
    ``cap`` is the step cap, ``tol`` the convergence tolerance on
    ``|1 - P|``, ``escape`` the radius R. Orbits bounded at the cap are
    searched for a period ``1 <= p <= max_period``: the smallest ``p`` whose
    iterate returns within ``period_tol * (1 + |x_T| + |y_T|)`` (1-norm)
    of the state at the cap.
    """
    p = int(p)
    q = int(q)
    s = float(s)

    @nb.njit(**JIT)
    def run(x0, y0, eta, cap, tol, R, max_period, period_tol,
            status, steps, period, sharp, lss, xs, ys):
        n = x0.size
        capf = float(cap)
        X = np.full(LANES, np.nan)
        Y = np.full(LANES, np.nan)
        C = np.zeros(LANES)
        T = np.zeros(LANES)
        idx = np.full(LANES, -1, np.int64)
        nxt = 0
        while True:
            nlive = 0
            for l in range(LANES):
                if _live(X[l], Y[l], T[l], capf, tol, R, p, q):
                    nlive += 1
                    continue
                i = idx[l]
                if i >= 0:
                    _finish(i, X[l], Y[l], T[l], eta[i], cap, tol, R, max_period,
                            period_tol, status, steps, period, sharp, lss, xs, ys, p, q, s)
                    idx[l] = -1
                # take the next point; points that stop at step 0 finish here
                while nxt < n:
                    i = nxt
                    nxt += 1
                    if _live(x0[i], y0[i], 0.0, capf, tol, R, p, q):
                        X[l] = x0[i]
                        Y[l] = y0[i]
                        C[l] = s * eta[i]
                        T[l] = 0.0
                        idx[l] = i
                        nlive += 1
                        break
                    _finish(i, x0[i], y0[i], 0.0, eta[i], cap, tol, R, max_period,
                            period_tol, status, steps, period, sharp, lss, xs, ys, p, q, s)
                else:
                    X[l] = np.nan
            if nlive == 0:
                break
            for _ in range(CHUNK):
                for l in range(LANES):
                    x = X[l]
                    y = Y[l]
                    t = T[l]
                    r = residual(x, y, p, q)
                    go = (abs(x) <= R) & (abs(y) <= R) & (abs(r) >= tol) & (t < capf)
                    xn, yn = step(x, y, C[l], p, q)
                    X[l] = xn if go else x
                    Y[l] = yn if go else y
                    T[l] = t + 1.0 if go else t

    return run

