"""Orbit kernels: one recorded trajectory, eta sweeps (orbit diagrams), Lyapunov exponents.

The map is the model's ``advance`` (:mod:`eosfast.kernels.maps`), the one the
grid kernel iterates (same operation order, no fast-math), so a trajectory
passes through exactly the states the grid kernel visits from the same
initial point. The ``*_template`` factories are compiled per model by
:func:`eosfast.kernels.build.instantiate`.

Escape rule (as in the grid kernel): a state is diverged when
``not (|x| <= R and |y| <= R)``, which also catches NaN and inf.

Period detection (:func:`detect_period`): after burn-in, the recorded states
``w_t = (x_t, y_t)``, ``t = 0..n-1``, have period ``k`` when

    |x_t - x_{t-k}| + |y_t - y_{t-k}| <= period_tol * (1 + |x_{n-1}| + |y_{n-1}|)

for *every* ``t`` in ``k..n-1`` (the whole recorded window, not just its end;
checked from the start, where a transient fails fastest),
and ``k`` is the smallest such number in ``1..min(max_period, n // 2)``.
Orbits still relaxing inside the window (close to a bifurcation the approach
is slow: critical slowing down) therefore report 0, "none found".

Largest Lyapunov exponent: the renormalised tangent-vector method (the QR
method with one column; Benettin et al. 1980, Eckmann & Ruelle 1985):
``v <- J(w_t) v``, ``lambda = (1/n) sum_t ln |v|`` with ``|v|`` reset to 1
after each step, ``J`` the bundle's ``jacobian``, natural
log, per GD step. :func:`lyapunov_qr` is the general ``d``-dimensional QR
version, for any sequence of Jacobians.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .config import JIT, LANES, STEPS_PER_CHECK

#: Observables of the orbit diagram, by code (the kernel's ``obs`` argument).
OBSERVABLES = ("P", "x", "y", "loss", "sharpness", "b")

#: ``period`` codes of the orbit diagram besides ``p >= 2``.
CONVERGED, NONE, DIVERGED = 1, 0, -1

#: Tangent vector the Lyapunov iteration starts from (generic: not an eigenvector).
_V0 = (0.6, 0.8)


@nb.njit(**JIT)
def detect_period(xs, ys, n, period_tol, max_period):
    """Smallest period ``k`` of the recorded states ``xs[:n], ys[:n]``, or 0.

    Parameters
    ----------
    xs, ys : ndarray, shape (>= n,), float64
        Recorded states.
    n : int
        Number of valid states.
    period_tol : float
        Relative tolerance, see the module docstring.
    max_period : int
        Largest period tried; periods above ``n // 2`` are never reported.

    Returns
    -------
    int
        ``k >= 1`` or 0 when no period was found.
    """
    if n < 2:
        return 0
    bound = period_tol * (1.0 + abs(xs[n - 1]) + abs(ys[n - 1]))
    kmax = min(max_period, n // 2)
    for k in range(1, kmax + 1):
        ok = True
        for t in range(k, n):
            if abs(xs[t] - xs[t - k]) + abs(ys[t] - ys[t - k]) > bound:
                ok = False
                break
        if ok:
            return k
    return 0


@nb.njit(**JIT)
def lyapunov_qr(jacs):
    """Lyapunov spectrum of a sequence of Jacobians by repeated QR (Gram-Schmidt).

    ``Q_0 = I``; ``J_t Q_{t} = Q_{t+1} R_{t+1}``; ``lambda_j = (1/n) sum_t ln |R_t[j, j]|``.
    Eckmann & Ruelle, Rev. Mod. Phys. 57 (1985), s. III.C.

    Parameters
    ----------
    jacs : ndarray, shape (n, d, d), float64
        ``jacs[t]`` is the Jacobian of the map at the orbit's t-th point.

    Returns
    -------
    ndarray, shape (d,), float64
        Exponents in nats per step, in the order of the QR columns (the first
        is the largest for a generic start; the list is not sorted).
    """
    n, d, _ = jacs.shape
    Q = np.eye(d)
    A = np.empty((d, d))
    sums = np.zeros(d)
    for t in range(n):
        J = jacs[t]
        for i in range(d):
            for j in range(d):
                acc = 0.0
                for k in range(d):
                    acc += J[i, k] * Q[k, j]
                A[i, j] = acc
        # modified Gram-Schmidt on the columns of A
        for j in range(d):
            for i in range(j):
                dot = 0.0
                for k in range(d):
                    dot += Q[k, i] * A[k, j]
                for k in range(d):
                    A[k, j] -= dot * Q[k, i]
            nrm = 0.0
            for k in range(d):
                nrm += A[k, j] * A[k, j]
            nrm = math.sqrt(nrm)
            sums[j] += math.log(nrm)
            for k in range(d):
                Q[k, j] = A[k, j] / nrm
    return sums / max(n, 1)


@nb.njit(**JIT)
def cubic_orbit_diagram(a, kappa, b0, burn, out):
    """Orbit diagram of the paper's two-step cubic map ``b <- b (1 + 8 a kappa - 16 b^2)``.

    math.md s. 5 (paper s. 5, Fig. 7c); ``a`` is the parameter.

    Parameters
    ----------
    a : ndarray, shape (m,), float64
        Parameter values.
    kappa : float
        ``sqrt(eta)``.
    b0 : float
        Initial ``b`` (the same for every ``a``).
    burn : int
        Steps discarded first.
    out : ndarray, shape (m, n), float64
        Filled with the next ``n`` iterates; NaN after an escape (``|b| > 1e3``).
    """
    m, n = out.shape
    for i in range(m):
        g = 1.0 + 8.0 * a[i] * kappa
        b = b0
        for _ in range(burn):
            b = b * (g - 16.0 * b * b)
            if not abs(b) <= 1e3:
                break
        for t in range(n):
            b = b * (g - 16.0 * b * b)
            out[i, t] = b if abs(b) <= 1e3 else np.nan


def trajectory_template(key):
    """The trajectory kernel of one model and optimizer.

    Signature::

        run(x0, y0, eta, eta_y, beta, R, xs, ys, loss, sharp) -> n

    Fills ``xs, ys, loss, sharp`` (float64, shape (T + 1,)) with the
    positions ``w_0 .. w_n`` and the objective and sharpness at each
    (``eta_y`` is read only by a ``LAYERED`` kernel, ``beta`` only by the
    momentum methods; the orbit starts at rest). It stops early only on
    divergence: ``n = T`` for a bounded run, otherwise the first step whose
    state escapes (that state is recorded, entries after it are left
    untouched).
    """

    def run(x0, y0, eta, eta_y, beta, R, xs, ys, lss, sharp):
        _ = key
        T = xs.size - 1
        cx = coef(eta)  # noqa: F821 (bound per model)
        cy = coef(eta_y) if LAYERED else cx  # noqa: F821
        x = x0
        y = y0
        u = x0
        v = y0
        for t in range(T + 1):
            xs[t] = x
            ys[t] = y
            lss[t] = loss(x, y)  # noqa: F821
            sharp[t] = sharpness(x, y)  # noqa: F821
            if not ((abs(x) <= R) & (abs(y) <= R)):
                return t
            if t < T:
                x, y, u, v, _m = ostep(x, y, u, v, cx, cy, beta)  # noqa: F821
        return T

    return run


def jacobian_template(key):
    """``run(xs, ys, eta, out)``: Jacobians of the GD map along an orbit.

    ``xs, ys`` shape (n,) float64; ``out`` shape (n, 2, 2) float64, filled with
    ``[[dx'/dx, dx'/dy], [dy'/dx, dy'/dy]]`` at each state (one step size).
    """

    def run(xs, ys, eta, out):
        _ = key
        c = coef(eta)  # noqa: F821
        for t in range(xs.size):
            a, b, cc, d = jacobian(xs[t], ys[t], c, c)  # noqa: F821
            out[t, 0, 0] = a
            out[t, 0, 1] = b
            out[t, 1, 0] = cc
            out[t, 1, 1] = d

    return run


def pointwise_template(key):
    """``run(x, y, which, out)``: sharpness (``which`` 0) or loss (1) at each point.

    ``out[i]`` is the measure at ``(x[i], y[i])``; all arrays 1-D float64 of one length.
    """

    def run(x, y, which, out):
        _ = key
        for i in range(x.size):
            out[i] = sharpness(x[i], y[i]) if which == 0 else loss(x[i], y[i])  # noqa: F821

    return run


def bifurcation_template(key):
    """The orbit-diagram kernel of one model and optimizer, parallel over eta.

    Signature::

        run(x0, y0, etas, etas_y, beta, burn, tol, R, obs, period_tol, max_period,
            orbit, period, lyap) -> None

    For every ``etas[i]`` (float64, shape (m,); the step size of the layers
    carrying ``x``, and of those carrying ``y`` unless ``LAYERED``, which
    reads ``etas_y[i]``) it runs ``burn`` steps of the optimizer (momentum
    ``beta``, from rest) from ``(x0, y0)``, then ``n = orbit.shape[1]``
    recorded steps, writing the observable ``OBSERVABLES[obs]`` of the
    positions after each step into ``orbit[i]`` (float64, (m, n)), the period
    code into ``period[i]`` (int16, (m,): 1 converged, ``k >= 2`` periodic, 0
    none, -1 diverged) and the largest Lyapunov exponent of the recorded
    steps into ``lyap[i]`` (float64, nats per step; NaN if diverged; of the
    whole state, four-dimensional for the momentum methods). Converged means
    the optimizer's measure is below ``tol`` at the end, or period 1 by
    :func:`detect_period` (a cycle of the positions is one of the whole
    state, whose previous position is the last position).
    From an escape on, the row is NaN.

    Layout: ``LANES`` step sizes are iterated together in small buffers (their
    chains are independent, so the CPU overlaps them); an escaped lane is
    frozen by a select. Blocks of lanes are spread over threads with
    ``prange``; each eta's arithmetic is the same whatever the thread count or
    block, so results are bit-identical. The tangent vector is renormalised
    every ``STEPS_PER_CHECK`` steps by its largest component (the logs of the factors
    are summed), which changes the exponent by rounding only.
    """
    v0x, v0y = _V0
    L = LANES

    def run(x0, y0, etas, etas_y, beta, burn, tol, R, obs, period_tol, max_period,
            orbit, period, lyap):
        _ = key
        m, n = orbit.shape
        nblocks = (m + L - 1) // L
        for blk in nb.prange(nblocks):
            i0 = blk * L
            nl = min(L, m - i0)
            X = np.full(L, x0)
            Y = np.full(L, y0)
            U = np.full(L, x0)
            V = np.full(L, y0)
            CX = np.zeros(L)
            CY = np.zeros(L)
            A = np.zeros(L, np.bool_)
            for l in range(nl):
                CX[l] = coef(etas[i0 + l])  # noqa: F821
                CY[l] = coef(etas_y[i0 + l]) if LAYERED else CX[l]  # noqa: F821
                A[l] = (abs(x0) <= R) & (abs(y0) <= R)
            for _ in range(burn):
                for l in range(L):
                    x = X[l]
                    y = Y[l]
                    u = U[l]
                    v = V[l]
                    xn, yn, un, vn, _m = ostep(x, y, u, v, CX[l], CY[l], beta)  # noqa: F821
                    go = A[l]
                    X[l] = xn if go else x
                    Y[l] = yn if go else y
                    U[l] = un if go else u
                    V[l] = vn if go else v
                    A[l] = go & (abs(xn) <= R) & (abs(yn) <= R)
            xs = np.empty((L, n))
            ys = np.empty((L, n))
            bx = np.empty((STEPS_PER_CHECK, L))
            by = np.empty((STEPS_PER_CHECK, L))
            VX = np.full(L, v0x)
            VY = np.full(L, v0y)
            # the tangent's previous-position part (momentum methods): the
            # start is generic in the whole state space
            VU = np.full(L, v0y)
            VV = np.full(L, v0x)
            LS = np.zeros(L)
            for t0 in range(0, n, STEPS_PER_CHECK):
                t1 = min(n, t0 + STEPS_PER_CHECK)
                for t in range(t1 - t0):
                    for l in range(L):
                        x = X[l]
                        y = Y[l]
                        u = U[l]
                        v = V[l]
                        cx = CX[l]
                        cy = CY[l]
                        go = (abs(x) <= R) & (abs(y) <= R)
                        vx = VX[l]
                        vy = VY[l]
                        if OPT == GD:  # noqa: F821
                            a, b, cc, d = jacobian(x, y, cx, cy)  # noqa: F821
                            VX[l] = a * vx + b * vy
                            VY[l] = cc * vx + d * vy
                        elif OPT == MOMENTUM:  # noqa: F821
                            # w' = G(w) + beta (w - w_prev): J = [[J_G + beta, -beta], [1, 0]]
                            a, b, cc, d = jacobian(x, y, cx, cy)  # noqa: F821
                            vu = VU[l]
                            vv = VV[l]
                            VX[l] = a * vx + b * vy + beta * (vx - vu)
                            VY[l] = cc * vx + d * vy + beta * (vy - vv)
                            VU[l] = vx
                            VV[l] = vy
                        else:
                            # w' = G(w + beta (w - w_prev)), J_G at the look-ahead point
                            a, b, cc, d = jacobian(x + beta * (x - u),  # noqa: F821
                                                   y + beta * (y - v), cx, cy)
                            lx = vx + beta * (vx - VU[l])
                            ly = vy + beta * (vy - VV[l])
                            VX[l] = a * lx + b * ly
                            VY[l] = cc * lx + d * ly
                            VU[l] = vx
                            VV[l] = vy
                        xn, yn, un, vn, _m = ostep(x, y, u, v, cx, cy, beta)  # noqa: F821
                        xn = xn if go else x
                        yn = yn if go else y
                        X[l] = xn
                        Y[l] = yn
                        U[l] = un if go else u
                        V[l] = vn if go else v
                        bx[t, l] = xn
                        by[t, l] = yn
                for l in range(L):
                    for t in range(t1 - t0):
                        xs[l, t0 + t] = bx[t, l]
                        ys[l, t0 + t] = by[t, l]
                    big = max(abs(VX[l]), abs(VY[l]))
                    if OPT != GD:  # noqa: F821
                        big = max(big, max(abs(VU[l]), abs(VV[l])))
                    if big > 0.0 and big < np.inf:
                        LS[l] += math.log(big)
                        VX[l] /= big
                        VY[l] /= big
                        if OPT != GD:  # noqa: F821
                            VU[l] /= big
                            VV[l] /= big
            K = np.full(L, n)
            for l in range(nl):
                if not A[l]:
                    K[l] = 0
                    continue
                for t in range(n):
                    if not ((abs(xs[l, t]) <= R) & (abs(ys[l, t]) <= R)):
                        K[l] = t
                        A[l] = False
                        break
            for l in range(nl):
                i = i0 + l
                k = K[l]
                for t in range(n):
                    if t < k:
                        xv = xs[l, t]
                        yv = ys[l, t]
                        if obs == 0:
                            val = product(xv, yv)  # noqa: F821
                        elif obs == 1:
                            val = xv
                        elif obs == 2:
                            val = yv
                        elif obs == 3:
                            val = loss(xv, yv)  # noqa: F821
                        elif obs == 4:
                            val = sharpness(xv, yv)  # noqa: F821
                        else:
                            val = xv * yv - 1.0
                        orbit[i, t] = val
                    else:
                        orbit[i, t] = np.nan
                if not A[l]:
                    period[i] = DIVERGED
                    lyap[i] = np.nan
                    continue
                vx = VX[l]
                vy = VY[l]
                norm2 = vx * vx + vy * vy
                if OPT != GD:  # noqa: F821
                    norm2 = norm2 + (VU[l] * VU[l] + VV[l] * VV[l])
                lyap[i] = (LS[l] + math.log(math.sqrt(norm2))) / n
                per = detect_period(xs[l], ys[l], n, period_tol, max_period)
                if OPT == GD:  # noqa: F821
                    mend = measure(X[l], Y[l])  # noqa: F821
                else:
                    _a, _b, _c, _d, mend = ostep(X[l], Y[l], U[l], V[l], CX[l],  # noqa: F821
                                                 CY[l], beta)
                if mend < tol:
                    per = CONVERGED
                period[i] = per

    return run
