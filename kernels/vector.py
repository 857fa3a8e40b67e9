"""The vector model's kernel: GD on ``L(x, y) = 1/4 (1 - (x^T y)^2)^2``, ``x, y`` in R^d.

Why the cost does not depend on ``d``: the gradient is ``(-r u y, -r u x)``
with ``u = x^T y`` and ``r = 1 - u^2``, so one step is

    x' = x + c y,   y' = y + c x,   c = eta r u,

a combination of ``x`` and ``y``: every iterate stays in the plane spanned by
``x0`` and ``y0``. In an orthonormal basis of that plane (``e1`` along
``x0``) the state is four numbers, ``x = (x1, x2)``, ``y = (y1, y2)``, with
``x0 = (|x0|, 0)`` and ``y0 = (|y0| cos, |y0| sin)``, ``cos`` the cosine of
the angle between ``x0`` and ``y0``; the loss, ``u`` and the norms are the
same in the plane as in R^d (docs/vector.md derives all of this).

Sharpness: the ``2d x 2d`` Hessian is ``A v v^T - m J`` with ``v = (y, x)``,
``A = 3u^2 - 1``, ``m = r u`` and ``J = [[0, I], [I, 0]]``. Its spectrum is
``+-m`` (multiplicity ``d - 1`` each) and the two roots of
``lambda^2 - A S lambda + 2 A m u - m^2 = 0``, ``S = |x|^2 + |y|^2``; at
``d = 1`` only the two roots. At a minimum (``r = 0``) the top one is ``2 S``.

Stopping rule, per sample (the grid's, on the full state): diverged when
``|x| > R`` or ``|y| > R`` (Euclidean norms, so the rule does not depend on
the basis; NaN fails the test too); converged when ``|1 - u^2| < tol``
(``u^2`` is the product ``P`` of the 4-layer network ``x^T y x^T y``), but
never before the perturbation; otherwise on at most ``cap`` steps. The
perturbation ``y <- kick_factor * y`` makes the state of step ``kick_step``
(the initial one for 0; ``kick_step < 0``: none): the stopping rule, and the
step from it, see the perturbed state.

Layout as in the grid kernel (:mod:`.grid`): ``LANES`` samples advance
together with no branches, a stopped lane frozen by a select, refilled
between chunks of ``STEPS_PER_CHECK`` steps; every sample's arithmetic is the
same whatever lane, range or thread computes it.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from eosfast.status import Status

from .config import INLINE, JIT, LANES, STEPS_PER_CHECK

CONVERGED, PERIODIC, BOUNDED, DIVERGED = (int(s) for s in (
    Status.CONVERGED, Status.PERIODIC, Status.BOUNDED, Status.DIVERGED))


@nb.njit(**INLINE)
def vec_sharpness(x1: float, x2: float, y1: float, y2: float, dim: int) -> float:
    """Top eigenvalue of the ``2d x 2d`` Hessian of the vector loss at a plane state."""
    u = x1 * y1 + x2 * y2
    r = 1.0 - u * u
    a = 3.0 * u * u - 1.0
    m = r * u
    s = (x1 * x1 + x2 * x2) + (y1 * y1 + y2 * y2)
    b = a * s
    q = 2.0 * a * m * u - m * m  # product of the two roots
    disc = b * b - 4.0 * q
    root = math.sqrt(disc) if disc > 0.0 else 0.0
    if b >= 0.0:
        top = 0.5 * (b + root)
    else:
        # the larger root from the product, without the cancellation in b + root
        low = 0.5 * (b - root)
        top = q / low if low != 0.0 else 0.0
    if dim >= 2 and abs(m) > top:
        top = abs(m)
    return top


@nb.njit(**INLINE)
def vec_loss(x1: float, x2: float, y1: float, y2: float) -> float:
    """``1/4 (1 - (x^T y)^2)^2`` at a plane state."""
    u = x1 * y1 + x2 * y2
    r = 1.0 - u * u
    return 0.25 * r * r


@nb.njit(**INLINE)
def vec_step(x1, x2, y1, y2, eta):
    """One GD step from a plane state, and ``|1 - u^2|`` at it."""
    u = x1 * y1 + x2 * y2
    r = 1.0 - u * u
    c = (eta * r) * u
    return x1 + c * y1, x2 + c * y2, y1 + c * x1, y2 + c * x2, abs(r)


@nb.njit(**INLINE)
def _inside(x1, x2, y1, y2, R2):
    return (x1 * x1 + x2 * x2 <= R2) & (y1 * y1 + y2 * y2 <= R2)


@nb.njit(**INLINE)
def _lane_step(x1, x2, y1, y2, t, eta, kstep, kfac, tol, R2, capf):
    # the state of step kstep is the perturbed one (y scaled as it is reached);
    # a frozen lane keeps its state, so stepping it again changes nothing
    n1, n2, m1, m2, meas = vec_step(x1, x2, y1, y2, eta)
    go = _inside(x1, x2, y1, y2, R2) & ((meas >= tol) | (t < kstep)) & (t < capf)
    f = kfac if t + 1.0 == kstep else 1.0
    if go:
        return n1, n2, m1 * f, m2 * f, t + 1.0, True
    return x1, x2, y1, y2, t, False


@nb.njit(**INLINE)
def _classify(x1, x2, y1, y2, eta, dim, tol, R2, max_period, period_tol):
    """``(status, period, sharpness, loss, |x|^2 + |y|^2, x^T y)`` of a stopped sample."""
    if not _inside(x1, x2, y1, y2, R2):
        return DIVERGED, 0, np.nan, np.nan, np.nan, np.nan
    sharp = vec_sharpness(x1, x2, y1, y2, dim)
    lss = vec_loss(x1, x2, y1, y2)
    norm2 = (x1 * x1 + x2 * x2) + (y1 * y1 + y2 * y2)
    u = x1 * y1 + x2 * y2
    if abs(1.0 - u * u) < tol:
        return CONVERGED, 1, sharp, lss, norm2, u
    # the grid's period search, on the four numbers of the state
    a1, a2, b1, b2 = x1, x2, y1, y2
    spread = 0.0
    for k in range(1, max_period + 1):
        a1, a2, b1, b2, _m = vec_step(a1, a2, b1, b2, eta)
        if not _inside(a1, a2, b1, b2, R2):
            break
        dist = abs(a1 - x1) + abs(a2 - x2) + abs(b1 - y1) + abs(b2 - y2)
        closed = dist == 0.0 if k == 1 else dist <= period_tol * spread
        if closed:
            return PERIODIC, k, sharp, lss, norm2, u
        spread = max(spread, dist)
    return BOUNDED, 0, sharp, lss, norm2, u


@nb.njit(**JIT)
def ensemble_kernel(x1s, x2s, y1s, y2s, eta, kstep, kfac, dim, cap, tol, R, max_period,
                    period_tol, status, steps, period, sharp, lss, norm2, inner):
    """Run GD from every sample's initial plane state; fill the outputs in place.

    Parameters
    ----------
    x1s, x2s, y1s, y2s : ndarray, shape (n,), float64
        Initial plane coordinates (see the module docstring).
    eta : float
        Step size.
    kstep : int
        Step whose state is the perturbed one (``y <- kfac * y`` as it is
        reached; 0: the initial state); negative: none.
    kfac : float
        The perturbation's factor.
    dim : int
        ``d`` (decides whether ``+-r u`` are eigenvalues of the Hessian).
    cap : int
        Step cap.
    tol, R : float
        Convergence tolerance on ``|1 - u^2|``; escape radius of ``|x|``, ``|y|``.
    max_period, period_tol : int, float
        Period search at the cap, as in the grid kernel.
    status : ndarray, shape (n,), int8
    steps : ndarray, shape (n,), int32
        The step at which the run stopped.
    period : ndarray, shape (n,), int16
    sharp, lss, norm2, inner : ndarray, shape (n,), float64
        Sharpness, loss, ``|x|^2 + |y|^2`` and ``x^T y`` at the final state
        (NaN if diverged).
    """
    n = x1s.size
    capf = float(cap)
    kst = float(kstep)
    R2 = R * R
    X1 = np.full(LANES, np.nan)
    X2 = np.full(LANES, np.nan)
    Y1 = np.full(LANES, np.nan)
    Y2 = np.full(LANES, np.nan)
    T = np.zeros(LANES)
    G = np.zeros(LANES)
    idx = np.full(LANES, -1, np.int64)
    nxt = 0
    while True:
        nlive = 0
        for ln in range(LANES):
            if G[ln] != 0.0:
                nlive += 1
                continue
            i = idx[ln]
            if i >= 0:
                st, per, sh, lo, nn, uu = _classify(X1[ln], X2[ln], Y1[ln], Y2[ln], eta, dim,
                                                    tol, R2, max_period, period_tol)
                status[i] = st
                steps[i] = np.int32(T[ln])
                period[i] = per
                sharp[i] = sh
                lss[i] = lo
                norm2[i] = nn
                inner[i] = uu
                idx[ln] = -1
            if nxt < n:
                f0 = kfac if kst == 0.0 else 1.0
                X1[ln] = x1s[nxt]
                X2[ln] = x2s[nxt]
                Y1[ln] = y1s[nxt] * f0
                Y2[ln] = y2s[nxt] * f0
                T[ln] = 0.0
                G[ln] = 1.0
                idx[ln] = nxt
                nxt += 1
                nlive += 1
            else:
                X1[ln] = np.nan
        if nlive == 0:
            break
        for _ in range(STEPS_PER_CHECK // 2):
            for ln in range(LANES):
                a1, a2, b1, b2, t, go = _lane_step(X1[ln], X2[ln], Y1[ln], Y2[ln], T[ln], eta,
                                                   kst, kfac, tol, R2, capf)
                a1, a2, b1, b2, t, go = _lane_step(a1, a2, b1, b2, t, eta, kst, kfac, tol,
                                                   R2, capf)
                X1[ln] = a1
                X2[ln] = a2
                Y1[ln] = b1
                Y2[ln] = b2
                T[ln] = t
                G[ln] = 1.0 if go else 0.0


@nb.njit(**JIT)
def plane_sharpness(x1, x2, y1, y2, dim, out):
    """``out[i]``: the sharpness at the plane states ``(x1[i], x2[i], y1[i], y2[i])``."""
    for i in range(x1.size):
        out[i] = vec_sharpness(x1[i], x2[i], y1[i], y2[i], dim)
