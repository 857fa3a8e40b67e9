"""Sharpness, loss and the EoS minimum (math.md s. 1-2)."""

from __future__ import annotations

import math

import numpy as np

from .errors import EosfastError, InvalidArgument
from .models import Model, get_model


def _pointwise(model: Model, w, which: str) -> np.ndarray | float:
    try:
        w = np.asarray(w, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{{w}} must be an array of numbers, got {type(w).__name__}",
                              "w") from None
    if w.ndim == 0 or w.shape[-1] not in (2, model.depth):
        raise EosfastError(f"{model.name}: w must end in an axis of length 2 (x, y) or "
                           f"{model.depth} (all weights), got shape {w.shape}")
    if w.shape[-1] == 2:
        x = np.ascontiguousarray(w[..., 0]).reshape(-1)
        y = np.ascontiguousarray(w[..., 1]).reshape(-1)
        out = np.empty(x.size)
        model.kernels.pointwise(x, y, 0 if which == "sharpness" else 1, out)
        out = out.reshape(w.shape[:-1])
    else:
        flat = w.reshape(-1, model.depth)
        out = np.array([_dense(model, v, which) for v in flat]).reshape(w.shape[:-1])
    return float(out) if out.ndim == 0 else out


def _dense(model: Model, w: np.ndarray, which: str) -> float:
    """Loss or top Hessian eigenvalue at arbitrary (uncoupled) weights ``w``."""
    k = w.size
    r = 1.0 - np.prod(w)
    if which == "loss":
        return 0.5 * model.scale * r * r
    g = np.array([np.prod(np.delete(w, i)) for i in range(k)])
    H = np.outer(g, g)
    for i in range(k):
        for j in range(k):
            if i != j:
                H[i, j] -= r * np.prod(np.delete(w, [i, j]))
    return float(np.linalg.eigvalsh(model.scale * H)[-1])


def sharpness(model: str | Model, w) -> np.ndarray | float:
    """Top eigenvalue of the Hessian of the objective over all the network's weights.

    Parameters
    ----------
    model : str or Model
        A model of :data:`eosfast.MODELS`, or an expression ``L(x, y)`` (then
        ``w`` has the shape (..., 2) and this is the top eigenvalue of the 2 x 2
        Hessian of ``L``).
    w : array_like, float64, shape (..., 2) or (..., k)
        Coupled points ``(x, y)`` (closed form, compiled), or full weight
        vectors of the model's depth ``k`` (dense Hessian, any weights).

    Returns
    -------
    float or ndarray, shape (...)
        The sharpness; at a minimum of zhu4 it equals ``2 (x^2 + y^2)``.
    """
    return _pointwise(get_model(model), w, "sharpness")


def loss(model: str | Model, w) -> np.ndarray | float:
    """The objective ``s/2 (1 - P)^2`` at ``w`` (shapes as in :func:`sharpness`)."""
    return _pointwise(get_model(model), w, "loss")


def eos_minimum(eta: float) -> tuple[float, float]:
    """The zhu4 minimum whose sharpness is exactly ``2/eta``, ``0 < eta < 1/2``.

    ``x^2 + y^2 = 1/eta`` and ``xy = 1``: ``x^2 = (1/eta + sqrt(1/eta^2 - 4)) / 2``,
    ``y = 1/x`` (math.md s. 2). For eta = 0.2 it is (2.18890, 0.456850).
    """
    eta = float(eta)
    if not (0.0 < eta < 0.5):
        raise EosfastError(f"the EoS minimum exists only for 0 < eta < 1/2, got {eta}")
    x = math.sqrt((1.0 / eta + math.sqrt(1.0 / eta**2 - 4.0)) / 2.0)
    return x, 1.0 / x
