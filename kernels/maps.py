"""The GD map of a coupled scalar network and the quantities measured on it.

A model is a depth-``k`` scalar network ``P = w_1 ... w_k`` whose ``p`` weights
equal ``x`` and ``q = k - p`` weights equal ``y`` (the coupling GD preserves),
with objective ``L = s/2 (1 - P)^2`` (``s = 1`` for zhu4 and deg3, ``s = 2`` for
the paper's deg2 objective ``(1 - xy)^2``). See ``shared/paper/math.md`` s. 1-2.

Every function takes ``p, q`` (ints) and ``s`` (float) as arguments; the kernel
factories pass closure constants, so after inlining LLVM unrolls the powers.
The operation order here is the contract the plain-Python reference in
``tests/naive.py`` mirrors: both round identically, step for step.
"""

from __future__ import annotations

import math

import numba as nb

from .config import INLINE


@nb.njit(**INLINE)
def ipow(x: float, n: int) -> float:
    """``x**n`` for a small non-negative integer ``n`` by repeated multiplication."""
    r = 1.0
    for _ in range(n):
        r *= x
    return r


@nb.njit(**INLINE)
def product(x, y, p, q):
    """``P = x**p * y**q``, the product of all the network's weights (float64)."""
    return (ipow(x, p - 1) * x) * (ipow(y, q - 1) * y)


@nb.njit(**INLINE)
def residual(x, y, p, q):
    """``r = 1 - x**p * y**q`` (float64)."""
    return 1.0 - product(x, y, p, q)


@nb.njit(**INLINE)
def step(x, y, c, p, q):
    """One GD step; ``c = s * eta``. Returns ``(x', y')``.

    ``x' = x + s eta r x^(p-1) y^q``, ``y' = y + s eta r x^p y^(q-1)``.
    """
    a = ipow(x, p - 1)
    b = ipow(y, q - 1)
    ax = a * x
    by = b * y
    g = c * (1.0 - ax * by)
    return x + g * (a * by), y + g * (ax * b)


@nb.njit(**INLINE)
def jacobian(x, y, c, p, q):
    """Jacobian of :func:`step` at ``(x, y)``: ``(dx'/dx, dx'/dy, dy'/dx, dy'/dy)``."""
    # F = x + c r gx, G = y + c r gy with r = 1 - P, P = x^p y^q.
    P = ipow(x, p) * ipow(y, q)
    r = 1.0 - P
    gx = ipow(x, p - 1) * ipow(y, q)
    gy = ipow(x, p) * ipow(y, q - 1)
    gxx = (p - 1) * ipow(x, p - 2) * ipow(y, q) if p >= 2 else 0.0
    gyy = (q - 1) * ipow(x, p) * ipow(y, q - 2) if q >= 2 else 0.0
    gxy = q * ipow(x, p - 1) * ipow(y, q - 1)  # d gx / dy
    gyx = p * ipow(x, p - 1) * ipow(y, q - 1)  # d gy / dx
    # dP/dx = p gx and dP/dy = q gy
    fxx = 1.0 + c * (r * gxx - p * gx * gx)
    fxy = c * (r * gxy - q * gy * gx)
    fyx = c * (r * gyx - p * gx * gy)
    fyy = 1.0 + c * (r * gyy - q * gy * gy)
    return fxx, fxy, fyx, fyy


@nb.njit(**INLINE)
def loss(x, y, p, q, s):
    """Objective ``s/2 (1 - P)^2`` at the coupled point."""
    r = residual(x, y, p, q)
    return 0.5 * s * r * r


@nb.njit(**INLINE)
def sharpness(x, y, p, q, s):
    """Top eigenvalue of the full ``k x k`` network Hessian at the coupled point.

    The Hessian ``H_ij = g_i g_j - r prod_{l != i,j} w_l`` (``H_ii = g_i^2``),
    times ``s``, commutes with permutations inside the x- and y-groups. Its
    spectrum is therefore that of the 2 x 2 block on the group-symmetric
    vectors plus ``r x^(p-2) y^q`` (multiplicity ``p - 1``) and
    ``r x^p y^(q-2)`` (multiplicity ``q - 1``) on the group-antisymmetric ones.
    At a minimum (r = 0) it reduces to ``s (p / x^2 + q / y^2)``.
    """
    r = residual(x, y, p, q)
    gx = ipow(x, p - 1) * ipow(y, q)
    gy = ipow(x, p) * ipow(y, q - 1)
    hxy = r * ipow(x, p - 1) * ipow(y, q - 1)
    hx = r * ipow(x, p - 2) * ipow(y, q) if p >= 2 else 0.0
    hy = r * ipow(x, p) * ipow(y, q - 2) if q >= 2 else 0.0
    a = p * gx * gx - (p - 1) * hx
    d = q * gy * gy - (q - 1) * hy
    b = math.sqrt(p * q) * (gx * gy - hxy)
    m = 0.5 * (a + d)
    h = math.hypot(0.5 * (a - d), b)
    if m >= 0.0:
        top = m + h
    else:
        # avoid cancellation in m + h when the block's trace is negative
        low = m - h
        top = (a * d - b * b) / low if low != 0.0 else 0.0
    if p >= 2 and hx > top:
        top = hx
    if q >= 2 and hy > top:
        top = hy
    return s * top
