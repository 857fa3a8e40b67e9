"""The grid kernel: GD from many initial points at once, SIMD-friendly.

Design: ``LANES`` points live in a small lane buffer. The hot loop advances
every lane ``STEPS_PER_CHECK`` steps (two per pass over the lanes) with no exits and
no branches: a lane whose point
has converged, escaped or hit the cap is frozen by a select (its state stops
changing, so the stopping test keeps returning "stop" on it). Between chunks,
frozen lanes hand their point to the output and take the next one. The loop
over lanes therefore vectorises, and escape times that vary 1000x across a
grid cost at most ``STEPS_PER_CHECK - 1`` idle steps per point.

The map is the model's bundle (:mod:`eosfast.kernels.maps`): ``advance``
steps, ``measure``/``is_minimum`` classify, ``sharpness``/``loss`` measure;
:func:`eosfast.kernels.build.instantiate` binds them per model.
"""

from __future__ import annotations

import numpy as np

from eosfast.status import Status

from .config import LANES, STEPS_PER_CHECK

CONVERGED, PERIODIC, BOUNDED, DIVERGED = (int(s) for s in (
    Status.CONVERGED, Status.PERIODIC, Status.BOUNDED, Status.DIVERGED))


def classify_template(key):
    """``classify(x, y, c, tol, R, max_period, period_tol)``: outcome of a stopped point.

    Returns ``(status, period, sharpness, loss, x, y)``; ``c = coef(eta)``.
    Scalars only: passing the output arrays into a helper would cost
    reference-count updates per point.

    Period (the length of the cycle the orbit ends on): 1 for a fixed point,
    converged or not; ``k >= 2`` for a cycle found after the cap; 0 when
    none was found or the point diverged.
    """

    def classify(x, y, c, tol, R, max_period, period_tol):
        _ = key
        if not ((abs(x) <= R) & (abs(y) <= R)):
            return DIVERGED, 0, np.nan, np.nan, np.nan, np.nan
        sharp = sharpness(x, y)  # noqa: F821 (bound per model)
        lss = loss(x, y)  # noqa: F821
        if measure(x, y) < tol:  # noqa: F821
            if is_minimum(x, y, tol):  # noqa: F821
                return CONVERGED, 1, sharp, lss, x, y
            return PERIODIC, 1, sharp, lss, x, y
        # Period search. A cycle of period k >= 2 must close to a tiny fraction
        # of its own extent: an orbit still converging to a minimum oscillates
        # with a slowly shrinking amplitude, so it returns close to where it
        # was but not to within period_tol of that amplitude, and stays
        # "bounded, unresolved".
        u, v = x, y
        spread = 0.0
        for k in range(1, max_period + 1):
            u, v, _m = advance(u, v, c)  # noqa: F821
            if not ((abs(u) <= R) & (abs(v) <= R)):
                break
            dist = abs(u - x) + abs(v - y)
            if k == 1:
                # the only fixed points that are not minima are critical
                # points such as the axes, where the step is exactly zero
                closed = dist == 0.0
            else:
                closed = dist <= period_tol * spread
            if closed:
                return PERIODIC, k, sharp, lss, x, y
            spread = max(spread, dist)
        return BOUNDED, 0, sharp, lss, x, y

    return classify


def checked_step_template(key):
    """``step(x, y, t, c, tol, R, capf) -> (x, y, t, go)``: one step, taken only if allowed.

    ``go`` is the grid's stopping rule at ``(x, y)`` after ``t`` steps: inside
    the escape square, not converged, under the cap. A stopped point is
    returned unchanged (a select, not a branch), so a lane can be stepped
    again and stays frozen.
    """

    def step(x, y, t, c, tol, R, capf):
        _ = key
        xn, yn, m = advance(x, y, c)  # noqa: F821 (bound per model)
        go = (abs(x) <= R) & (abs(y) <= R) & (m >= tol) & (t < capf)
        return (xn if go else x), (yn if go else y), (t + 1.0 if go else t), go

    return step


def grid_template(key):
    """The grid kernel of one model (see :func:`eosfast.kernels.build.instantiate`).

    Signature::

        run(x0, y0, eta, cap, tol, R, max_period, period_tol,
            status, steps, period, sharp, loss, x, y) -> None

    All arrays are 1-D and of one length ``n``: inputs ``x0, y0, eta``
    (float64), outputs ``status`` (int8), ``steps`` (int32), ``period``
    (int16) and ``sharp, loss, x, y`` (float64), filled in place. ``cap`` is
    the step cap, ``tol`` the convergence tolerance on the model's measure,
    ``R`` the escape radius. Orbits bounded at the cap are searched for a
    period ``1 <= k <= max_period``: the smallest ``k`` whose iterate returns
    to the state at the cap ``z_T``: exactly for ``k = 1`` (a critical point
    that is not a minimum, e.g. an axis) and within
    ``period_tol * max_{0<j<k} |z_{T+j} - z_T|_1`` (the cycle's own extent)
    for ``k >= 2``. Points are otherwise independent of lane, tile and thread.
    """

    def run(x0, y0, eta, cap, tol, R, max_period, period_tol,
            status, steps, period, sharp, lss, xs, ys):
        _ = key
        n = x0.size
        capf = float(cap)
        X = np.full(LANES, np.nan)
        Y = np.full(LANES, np.nan)
        C = np.zeros(LANES)
        T = np.zeros(LANES)
        # G[l] != 0: lane l was still running at the last step of the chunk
        G = np.zeros(LANES)
        idx = np.full(LANES, -1, np.int64)
        nxt = 0
        while True:
            nlive = 0
            for l in range(LANES):
                if G[l] != 0.0:
                    nlive += 1
                    continue
                i = idx[l]
                if i >= 0:
                    st, per, sh, lo, xf, yf = classify(  # noqa: F821
                        X[l], Y[l], C[l], tol, R, max_period, period_tol)
                    status[i] = st
                    steps[i] = np.int32(T[l])
                    period[i] = per
                    sharp[i] = sh
                    lss[i] = lo
                    xs[i] = xf
                    ys[i] = yf
                    idx[l] = -1
                # take the next point (one that stops at step 0 is frozen in
                # the first step of the chunk and handed back at the next refill)
                if nxt < n:
                    X[l] = x0[nxt]
                    Y[l] = y0[nxt]
                    C[l] = coef(eta[nxt])  # noqa: F821
                    T[l] = 0.0
                    G[l] = 1.0
                    idx[l] = nxt
                    nxt += 1
                    nlive += 1
                else:
                    X[l] = np.nan
            if nlive == 0:
                break
            # Two steps per pass over the lanes: a lane's state stays in
            # registers between them, which halves the loads and stores per
            # step (measured: 0.56 -> 0.66 of the check-free lane loop).
            for _ in range(STEPS_PER_CHECK // 2):
                for l in range(LANES):
                    c = C[l]
                    x, y, t, go = step(X[l], Y[l], T[l], c, tol, R, capf)  # noqa: F821
                    x, y, t, go = step(x, y, t, c, tol, R, capf)  # noqa: F821
                    X[l] = x
                    Y[l] = y
                    T[l] = t
                    G[l] = 1.0 if go else 0.0

    return run
