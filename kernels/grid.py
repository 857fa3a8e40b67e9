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
the optimizer (:mod:`eosfast.kernels.optim`: GD, heavy-ball, Nesterov, one
step size or one per layer) wraps ``advance`` as ``ostep`` and is bound as
compile-time constants; :func:`eosfast.kernels.build.instantiate` binds them
per model and optimizer. Plain GD compiles to the loop it always was: its
lanes carry no previous position.
"""

from __future__ import annotations

import numpy as np

from eosfast.status import Status

from .config import LANES, STEPS_PER_CHECK
from .optim import GD

CONVERGED, PERIODIC, BOUNDED, DIVERGED = (int(s) for s in (
    Status.CONVERGED, Status.PERIODIC, Status.BOUNDED, Status.DIVERGED))

#: Rows of the grid kernel's lane buffer: the state (position, steps taken,
#: still running, previous position) and the point's parameters (``coef`` of
#: each layer's step size, the momentum). ``_G != 0``: the lane was still
#: running at the last step of the chunk.
_ROWS = ("x", "y", "t", "g", "cx", "cy", "u", "v", "b")
_X, _Y, _T, _G, _CX, _CY, _U, _V, _B = range(len(_ROWS))
_NROWS = len(_ROWS)


def classify_template(key):
    """``classify(x, y, u, v, cx, cy, beta, tol, R, max_period, period_tol)``: a stopped point.

    Returns ``(status, period, sharpness, loss, x, y)``; ``cx = coef(eta_x)``,
    ``cy = coef(eta_y)``, ``(u, v)`` the previous position (momentum methods;
    see :mod:`.optim`). Scalars only: passing the output arrays into a helper
    would cost reference-count updates per point.

    Period (the length of the cycle the orbit ends on): 1 for a fixed point,
    converged or not; ``k >= 2`` for a cycle found after the cap; 0 when
    none was found or the point diverged. A cycle is one of the whole state:
    for the momentum methods the previous position must come back too.
    """

    def classify(x, y, u, v, cx, cy, beta, tol, R, max_period, period_tol):
        _ = key
        if not ((abs(x) <= R) & (abs(y) <= R)):
            return DIVERGED, 0, np.nan, np.nan, np.nan, np.nan
        sharp = sharpness(x, y)  # noqa: F821 (bound per model)
        lss = loss(x, y)  # noqa: F821
        if OPT == GD:  # noqa: F821 (bound per optimizer)
            m0 = measure(x, y)  # noqa: F821
        else:
            _a, _b, _c, _d, m0 = ostep(x, y, u, v, cx, cy, beta)  # noqa: F821
        if m0 < tol:
            if is_minimum(x, y, tol):  # noqa: F821
                return CONVERGED, 1, sharp, lss, x, y
            return PERIODIC, 1, sharp, lss, x, y
        # Period search. A cycle of period k >= 2 must close to a tiny fraction
        # of its own extent: an orbit still converging to a minimum oscillates
        # with a slowly shrinking amplitude, so it returns close to where it
        # was but not to within period_tol of that amplitude, and stays
        # "bounded, unresolved".
        a, b, pa, pb = x, y, u, v
        spread = 0.0
        for k in range(1, max_period + 1):
            a, b, pa, pb, _m = ostep(a, b, pa, pb, cx, cy, beta)  # noqa: F821
            if not ((abs(a) <= R) & (abs(b) <= R)):
                break
            dist = abs(a - x) + abs(b - y)
            if OPT != GD:  # noqa: F821
                dist = dist + (abs(pa - u) + abs(pb - v))
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
    """``step(x, y, u, v, t, cx, cy, beta, tol, R, capf) -> (x, y, u, v, t, go)``.

    One step of the optimizer, taken only if allowed: ``go`` is the grid's
    stopping rule at the state after ``t`` steps (inside the escape square,
    not converged, under the cap). A stopped state is returned unchanged (a
    select, not a branch), so a lane can be stepped again and stays frozen.
    """

    def step(x, y, u, v, t, cx, cy, beta, tol, R, capf):
        _ = key
        xn, yn, un, vn, m = ostep(x, y, u, v, cx, cy, beta)  # noqa: F821 (bound per model)
        go = (abs(x) <= R) & (abs(y) <= R) & (m >= tol) & (t < capf)
        return ((xn if go else x), (yn if go else y), (un if go else u), (vn if go else v),
                (t + 1.0 if go else t), go)

    return step


def grid_template(key):
    """The grid kernel of one model and optimizer (see :func:`eosfast.kernels.build.instantiate`).

    Signature::

        run(x0, y0, eta, eta_y, beta, cap, tol, R, max_period, period_tol,
            status, steps, period, sharp, loss, x, y) -> None

    All arrays are 1-D and of one length ``n``: inputs ``x0, y0`` (the
    initial point), ``eta`` (the step size of the layers carrying ``x``, and of
    all layers unless the kernel is ``LAYERED``), ``eta_y`` (the step size of
    the layers carrying ``y``; read only when ``LAYERED``) and ``beta`` (the
    momentum; read only by the momentum methods), all float64; outputs
    ``status`` (int8), ``steps`` (int32), ``period`` (int16) and ``sharp,
    loss, x, y`` (float64), filled in place. ``cap`` is the step cap, ``tol``
    the convergence tolerance on the model's measure, ``R`` the escape radius.
    Orbits bounded at the cap are searched for a period ``1 <= k <=
    max_period``: the smallest ``k`` whose iterate returns to the state at
    the cap ``z_T``: exactly for ``k = 1`` (a critical point that is not a
    minimum, e.g. an axis) and within ``period_tol * max_{0<j<k} |z_{T+j} -
    z_T|_1`` (the cycle's own extent) for ``k >= 2``. Points are otherwise
    independent of lane, tile and thread.
    """

    def run(x0, y0, eta, eta_y, beta, cap, tol, R, max_period, period_tol,
            status, steps, period, sharp, lss, xs, ys):
        _ = key
        n = x0.size
        capf = float(cap)
        # One buffer holds every lane's state and parameters, a row each (see
        # _ROWS): rows of one array provably never overlap, so LLVM vectorises
        # the step loop without runtime alias checks, which it gives up on
        # past eight separate arrays (the momentum methods' lanes have nine).
        S = np.zeros((_NROWS, LANES))
        S[_X] = np.nan
        S[_Y] = np.nan
        idx = np.full(LANES, -1, np.int64)
        nxt = 0
        while True:
            nlive = 0
            for l in range(LANES):
                if S[_G, l] != 0.0:
                    nlive += 1
                    continue
                i = idx[l]
                if i >= 0:
                    st, per, sh, lo, xf, yf = classify(  # noqa: F821
                        S[_X, l], S[_Y, l], S[_U, l], S[_V, l], S[_CX, l],
                        S[_CY, l] if LAYERED else S[_CX, l],  # noqa: F821
                        S[_B, l], tol, R, max_period, period_tol)
                    status[i] = st
                    steps[i] = np.int32(S[_T, l])
                    period[i] = per
                    sharp[i] = sh
                    lss[i] = lo
                    xs[i] = xf
                    ys[i] = yf
                    idx[l] = -1
                # take the next point (one that stops at step 0 is frozen in
                # the first step of the chunk and handed back at the next refill)
                if nxt < n:
                    S[_X, l] = x0[nxt]
                    S[_Y, l] = y0[nxt]
                    S[_U, l] = x0[nxt]  # at rest
                    S[_V, l] = y0[nxt]
                    S[_CX, l] = coef(eta[nxt])  # noqa: F821
                    if LAYERED:  # noqa: F821
                        S[_CY, l] = coef(eta_y[nxt])  # noqa: F821
                    if OPT != GD:  # noqa: F821
                        S[_B, l] = beta[nxt]
                    S[_T, l] = 0.0
                    S[_G, l] = 1.0
                    idx[l] = nxt
                    nxt += 1
                    nlive += 1
                else:
                    S[_X, l] = np.nan
            if nlive == 0:
                break
            if OPT == GD:  # noqa: F821
                # Two steps per pass over the lanes: a lane's state stays in
                # registers between them, which halves the loads and stores per
                # step (measured: 0.56 -> 0.66 of the check-free lane loop).
                # GD keeps no previous position: its lanes hold (x, y) only.
                for _ in range(STEPS_PER_CHECK // 2):
                    for l in range(LANES):
                        cx = S[_CX, l]
                        cy = S[_CY, l] if LAYERED else cx  # noqa: F821
                        x, y, _u, _v, t, go = step(  # noqa: F821
                            S[_X, l], S[_Y, l], 0.0, 0.0, S[_T, l], cx, cy, 0.0, tol, R, capf)
                        x, y, _u, _v, t, go = step(  # noqa: F821
                            x, y, 0.0, 0.0, t, cx, cy, 0.0, tol, R, capf)
                        S[_X, l] = x
                        S[_Y, l] = y
                        S[_T, l] = t
                        S[_G, l] = 1.0 if go else 0.0
            else:
                # One step per pass: the two-step pass that helps GD makes the
                # momentum loop (twice the state, twice the selects) slower
                # (benchmarks/bench_optimizers.py, every point at the cap:
                # 0.55-0.67 of GD's steps per second with two, 0.65-0.81 with one).
                for _ in range(STEPS_PER_CHECK):
                    for l in range(LANES):
                        cx = S[_CX, l]
                        cy = S[_CY, l] if LAYERED else cx  # noqa: F821
                        x, y, u, v, t, go = step(  # noqa: F821
                            S[_X, l], S[_Y, l], S[_U, l], S[_V, l], S[_T, l], cx, cy,
                            S[_B, l], tol, R, capf)
                        S[_X, l] = x
                        S[_Y, l] = y
                        S[_U, l] = u
                        S[_V, l] = v
                        S[_T, l] = t
                        S[_G, l] = 1.0 if go else 0.0

    return run
