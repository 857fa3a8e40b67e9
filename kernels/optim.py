"""The optimizers every kernel template can be compiled with: GD, heavy-ball, Nesterov.

An optimizer is part of what a template is compiled against, next to the
model's map bundle (:mod:`.maps`): :func:`namespace` binds two compile-time
constants, ``OPT`` (:data:`GD`, :data:`MOMENTUM`, :data:`NESTEROV`) and
``LAYERED`` (whether the layers carrying ``y`` take their own step size), and
the state step :func:`state_step_template` built on the bundle's ``advance``.
Templates branch on the constants, which Numba and LLVM fold away: the plain
GD kernel is the same code as before optimizers existed, and a GD file is
bit-identical to one written then.

The state of a point is its position ``w = (x, y)`` and, for the momentum
methods, its previous position ``w_prev = (u, v)``, starting at rest
(``w_prev = w0``). With ``G(w) = advance(w)`` the plain GD step (each layer
with its step size: ``G(w) = w - P grad L(w)``, ``P = diag(eta_x, eta_y)``):

* heavy-ball (Polyak 1964; the form of Sutskever et al. 2013, eq. 1, with
  the velocity written as ``w - w_prev``):
  ``w' = G(w) + beta (w - w_prev)``;
* Nesterov (Nesterov 1983; Sutskever et al. 2013, eq. 3-4, in the same
  variables): ``w' = G(w + beta (w - w_prev))``, the gradient taken at the
  look-ahead point.

Convergence: at a minimum *and* at rest, ``max(m, beta |x - u|, beta |y -
v|) < tol``: ``m`` is the bundle's measure where the gradient is taken (the
position for heavy-ball, the look-ahead point for Nesterov, which differ by
the momentum push ``beta (w - w_prev)``), and the push itself is below
``tol``. A NaN measure stays NaN, so the point stops as it does under GD.

``beta = 0`` is GD bit for bit, in every step and in when a point stops:
the push is then exactly ``+0.0`` and is subtracted (see the code for why
not added), and the rest term is 0. So a grid over ``beta`` that includes 0
gives GD's values there, and a scalar ``beta = 0`` simply runs the GD
kernels.
"""

from __future__ import annotations

#: Codes of the optimizers (the compile-time constant ``OPT``; their names
#: are :data:`eosfast.optimizer.METHODS`, in this order).
GD, MOMENTUM, NESTEROV = 0, 1, 2


def state_step_template(key):
    """``ostep(x, y, u, v, cx, cy, beta) -> (x', y', u', v', m)``: one step of ``OPT``.

    ``(u, v)`` is the previous position (ignored by GD, which returns ``u' =
    x, v' = y`` too so that every optimizer has one signature); ``m`` is the
    convergence measure of the state (see the module docstring).
    """

    def ostep(x, y, u, v, cx, cy, beta):
        _ = key
        if OPT == GD:  # noqa: F821 (bound per scheme)
            xn, yn, m = advance(x, y, cx, cy)  # noqa: F821
            return xn, yn, x, y, m
        # the momentum push beta (w - w_prev), written so that beta = 0 adds
        # exactly nothing: q = -beta (w - w_prev) + 0.0 is +0.0 then, and
        # w - q is w bit for bit (also for w = -0.0, where w + 0.0 is not);
        # otherwise w - q is w + beta (w - w_prev), rounded the same.
        nb = -beta
        qx = nb * (x - u) + 0.0
        qy = nb * (y - v) + 0.0
        if OPT == NESTEROV:  # noqa: F821
            xn, yn, m = advance(x - qx, y - qy, cx, cy)  # noqa: F821
        else:
            gx, gy, m = advance(x, y, cx, cy)  # noqa: F821
            xn = gx - qx
            yn = gy - qy
        ax = abs(qx)
        ay = abs(qy)
        rest = ax if ax >= ay else ay
        return xn, yn, x, y, (rest if rest > m else m)

    return ostep


def namespace(opt: int, layered: bool) -> dict:
    """The constants a template is compiled with for one optimizer."""
    if opt not in (GD, MOMENTUM, NESTEROV):
        raise ValueError(f"unknown optimizer code {opt}")
    return {"OPT": int(opt), "LAYERED": bool(layered), "GD": GD, "MOMENTUM": MOMENTUM,
            "NESTEROV": NESTEROV}


def scheme_key(opt: int, layered: bool) -> str:
    """The part of a kernel's cache key that names its optimizer (empty for plain GD)."""
    if opt == GD and not layered:
        return ""
    return f"|opt{int(opt)}{'/layered' if layered else ''}"
