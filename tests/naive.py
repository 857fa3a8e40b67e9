"""Slow, obvious references: plain Python floats and the full k-weight network.

Nothing here imports eosfast's kernels. ``reduced_step`` mirrors the operation
order of the compiled map so orbits can be compared bit for bit (Python floats
are IEEE doubles with no fused multiply-add); ``network_*`` work on the full
weight vector w (length k) straight from the definitions in math.md s. 1.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

# name -> (p, q, s, paper order of the weights)
MODELS = {
    "zhu4": (2, 2, 1.0, "xyxy"),
    "deg3": (1, 2, 1.0, "xyy"),
    "deg2": (1, 1, 2.0, "xy"),
    "deg6": (3, 3, 1.0, "xyxyxy"),
}


def ipow(x: float, n: int) -> float:
    r = 1.0
    for _ in range(n):
        r *= x
    return r


def reduced_step(x, y, eta, p, q, s):
    a = ipow(x, p - 1)
    b = ipow(y, q - 1)
    ax = a * x
    by = b * y
    g = (s * eta) * (1.0 - ax * by)
    return x + g * (a * by), y + g * (ax * b)


def residual(x, y, p, q):
    return 1.0 - (ipow(x, p - 1) * x) * (ipow(y, q - 1) * y)


def run_point(x0, y0, eta, model, cap, tol, R):
    """(status, steps, x, y) by the grid's stopping rules; status 0 = reached cap."""
    p, q, s, _ = MODELS[model]
    x, y = x0, y0
    for t in range(cap + 1):
        if not (abs(x) <= R and abs(y) <= R):
            return -1, t, math.nan, math.nan
        if abs(residual(x, y, p, q)) < tol:
            return 1, t, x, y
        if t == cap:
            return 0, t, x, y
        x, y = reduced_step(x, y, eta, p, q, s)
    raise AssertionError("unreachable")


def weights(model, x, y):
    order = MODELS[model][3]
    return [x if c == "x" else y for c in order]


def network_hessian(model, w, dps=None):
    """Dense Hessian of s/2 (1 - prod w)^2 over all weights (mpmath if dps)."""
    s = MODELS[model][2]
    k = len(w)
    num = (lambda v: mpmath.mpf(v)) if dps else float
    w = [num(v) for v in w]
    prod = lambda idx: math.prod(w[j] for j in idx) if not dps else mpmath.fprod(w[j] for j in idx)  # noqa: E731
    P = prod(range(k))
    r = 1 - P
    g = [prod([j for j in range(k) if j != i]) for i in range(k)]
    H = [[None] * k for _ in range(k)]
    for i in range(k):
        for j in range(k):
            if i == j:
                H[i][j] = s * g[i] * g[i]
            else:
                H[i][j] = s * (g[i] * g[j] - r * prod([m for m in range(k) if m not in (i, j)]))
    return H


def network_sharpness(model, x, y, dps=50):
    """Top Hessian eigenvalue over all network weights, in mpmath at ``dps`` digits."""
    with mpmath.workdps(dps):
        H = network_hessian(model, weights(model, x, y), dps=dps)
        ev = mpmath.eigsy(mpmath.matrix(H), eigvals_only=True)
        return float(max(ev[i] for i in range(len(H))))


def network_step(model, w, eta):
    """GD on the full weights: w_i <- w_i + s eta r prod_{j != i} w_j."""
    s = MODELS[model][2]
    P = math.prod(w)
    r = 1.0 - P
    return [wi + s * eta * r * math.prod(w[j] for j in range(len(w)) if j != i)
            for i, wi in enumerate(w)]


def network_loss(model, w):
    s = MODELS[model][2]
    return 0.5 * s * (1.0 - math.prod(w)) ** 2


def numpy_sharpness(model, x, y):
    return float(np.linalg.eigvalsh(np.array(network_hessian(model, weights(model, x, y))))[-1])


def numpy_sharpness_weights(model, w):
    """Top eigenvalue of the dense network Hessian at arbitrary weights w (NumPy)."""
    return float(np.linalg.eigvalsh(np.array(network_hessian(model, list(w))))[-1])


# ---------------------------------------------------------------- orbits (issue 3)


def trajectory(model, x0, y0, eta, steps, R=1e3):
    """Plain-Python run: list of (x, y) for steps 0..n, stopping after the first escape."""
    p, q, s, _ = MODELS[model]
    x, y = x0, y0
    out = [(x, y)]
    for _ in range(steps):
        if not (abs(x) <= R and abs(y) <= R):
            break
        x, y = reduced_step(x, y, eta, p, q, s)
        out.append((x, y))
    return out


def jacobian_fd(model, x, y, eta, h=1e-6):
    """Central-difference Jacobian of one GD step, [[dx'/dx, dx'/dy], [dy'/dx, dy'/dy]]."""
    p, q, s, _ = MODELS[model]
    J = [[0.0, 0.0], [0.0, 0.0]]
    for j, (dx, dy) in enumerate(((h, 0.0), (0.0, h))):
        a = reduced_step(x + dx, y + dy, eta, p, q, s)
        b = reduced_step(x - dx, y - dy, eta, p, q, s)
        J[0][j] = (a[0] - b[0]) / (2 * h)
        J[1][j] = (a[1] - b[1]) / (2 * h)
    return J


def orbit_period(model, x0, y0, eta, burn, record, rel_tol=1e-8, max_period=64, R=1e3):
    """Period of the orbit after ``burn`` steps: smallest k with every recorded state
    returning within rel_tol * (1 + |x| + |y|) after k steps; 0 if none; -1 if escaped."""
    p, q, s, _ = MODELS[model]
    x, y = x0, y0
    states = []
    for t in range(burn + record):
        x, y = reduced_step(x, y, eta, p, q, s)
        if not (abs(x) <= R and abs(y) <= R):
            return -1, states
        if t >= burn:
            states.append((x, y))
    xl, yl = states[-1]
    bound = rel_tol * (1 + abs(xl) + abs(yl))
    for k in range(1, min(max_period, len(states) // 2) + 1):
        if all(abs(states[t][0] - states[t - k][0]) + abs(states[t][1] - states[t - k][1])
               <= bound for t in range(k, len(states))):
            return k, states
    return 0, states


def balanced_map(w, eta):
    """zhu4 on the balanced line x = y = w: w' = w + eta (1 - w^4) w^3 (math.md s. 2)."""
    return w + eta * (1 - w**4) * w**3


# ---------------------------------------------------------------- expression models (issue 13)


def mp_gradient(loss, x, y):
    """(dL/dx, dL/dy) of ``loss(x, y)`` (mpmath functions) by mpmath's numerical
    differentiation at the working precision."""
    return (mpmath.diff(loss, (x, y), (1, 0)), mpmath.diff(loss, (x, y), (0, 1)))


def mp_hessian(loss, x, y):
    """[[Lxx, Lxy], [Lxy, Lyy]] of ``loss`` by mpmath's numerical differentiation."""
    a = mpmath.diff(loss, (x, y), (2, 0))
    b = mpmath.diff(loss, (x, y), (1, 1))
    d = mpmath.diff(loss, (x, y), (0, 2))
    return [[a, b], [b, d]]


def mp_gd(loss, x0, y0, eta, cap, tol, R=1e3, dps=40):
    """Plain GD on ``loss`` in mpmath: (status, steps, x, y) by the grid's rules for
    expression models (converged when max |grad| < tol at a point whose Hessian has
    no eigenvalue below -tol; status 0 at the cap; -1 escaped)."""
    with mpmath.workdps(dps):
        x, y = mpmath.mpf(x0), mpmath.mpf(y0)
        eta = mpmath.mpf(eta)
        for t in range(cap + 1):
            if not (abs(x) <= R and abs(y) <= R):
                return -1, t, math.nan, math.nan
            gx, gy = mp_gradient(loss, x, y)
            if max(abs(gx), abs(gy)) < tol:
                H = mpmath.matrix(mp_hessian(loss, x, y))
                low = min(mpmath.eigsy(H, eigvals_only=True))
                return (1 if low >= -tol else 2), t, float(x), float(y)
            if t == cap:
                return 0, t, float(x), float(y)
            x, y = x - eta * gx, y - eta * gy
    raise AssertionError("unreachable")


def fletcher32(data: bytes) -> int:
    """HDF5's Fletcher-32 (H5checksum.c) word by word, in plain Python."""
    sum1 = sum2 = 0
    words, i = len(data) // 2, 0
    while words:
        tlen = min(words, 360)
        words -= tlen
        for _ in range(tlen):
            sum1 += (data[i] << 8) | data[i + 1]
            i += 2
            sum2 += sum1
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    if len(data) % 2:
        sum1 += data[i] << 8
        sum2 += sum1
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
    sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    return (sum2 << 16) | sum1


def vec_run(x1, x2, y1, y2, eta, cap, tol, R, kick_step=-1, kick_factor=1.0):
    """The vector case in its plane, plain Python floats, in the kernel's operation order.

    ``(status, steps, x1, x2, y1, y2)`` by the ensemble's rules (docs/vector.md):
    the state of step ``kick_step`` has ``y`` scaled by ``kick_factor``;
    diverged (-1) when ``|x| > R`` or ``|y| > R`` (Euclidean, NaN included);
    converged (1) when ``|1 - u^2| < tol`` from the perturbed state on; 0 at
    the cap (the kernel then searches a period, which this does not).
    """
    if kick_step == 0:
        y1, y2 = y1 * kick_factor, y2 * kick_factor
    R2 = R * R
    for t in range(cap + 1):
        if not (x1 * x1 + x2 * x2 <= R2 and y1 * y1 + y2 * y2 <= R2):
            return -1, t, x1, x2, y1, y2
        u = x1 * y1 + x2 * y2
        r = 1.0 - u * u
        if abs(r) < tol and t >= kick_step:
            return 1, t, x1, x2, y1, y2
        if t == cap:
            return 0, t, x1, x2, y1, y2
        c = (eta * r) * u
        x1, x2, y1, y2 = x1 + c * y1, x2 + c * y2, y1 + c * x1, y2 + c * x2
        if t + 1 == kick_step:
            y1, y2 = y1 * kick_factor, y2 * kick_factor
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- optimizers (issue 19)


def layered_step(x, y, eta_x, eta_y, p, q, s):
    """GD with a step size per layer: the x-carrying weights take eta_x, the others eta_y."""
    a = ipow(x, p - 1)
    b = ipow(y, q - 1)
    ax = a * x
    by = b * y
    r = 1.0 - ax * by
    return x + ((s * eta_x) * r) * (a * by), y + ((s * eta_y) * r) * (ax * b)


def run_point_optimizer(x0, y0, eta_x, eta_y, beta, method, model, cap, tol, R):
    """(status, steps, x, y) of heavy-ball or Nesterov from rest, by the grid's stopping rules.

    Written from the definitions (docs/optimizers.md): the push is
    ``beta (w - w_prev)`` and adds nothing when it is zero; heavy-ball
    steps from ``w``, Nesterov from ``w + push``; a state has stopped when
    ``|1 - P|`` where the gradient is taken, and both components of the
    push, are below ``tol``. status 0 = reached the cap.
    """
    p, q, s, _ = MODELS[model]
    x, y = x0, y0
    u, v = x0, y0
    for t in range(cap + 1):
        if not (abs(x) <= R and abs(y) <= R):
            return -1, t, math.nan, math.nan
        px, py = beta * (x - u), beta * (y - v)
        gx, gy = x, y
        if method == "nesterov":
            gx = x + px if px != 0 else x
            gy = y + py if py != 0 else y
        m = abs(residual(gx, gy, p, q))
        if max(m, abs(px), abs(py)) < tol:
            return 1, t, x, y
        if t == cap:
            return 0, t, x, y
        nx, ny = layered_step(gx, gy, eta_x, eta_y, p, q, s)
        if method == "momentum":
            nx = nx + px if px != 0 else nx
            ny = ny + py if py != 0 else ny
        u, v = x, y
        x, y = nx, ny
    raise AssertionError("unreachable")
