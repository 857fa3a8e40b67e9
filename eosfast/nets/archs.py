"""The architectures: initial weights and a JAX loss for mlp5, linear2 and scalar4."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..models import MODELS
from .backend import jax_module
from .data import digits_subset


@dataclass
class Problem:
    """An architecture instantiated: initial weights and a loss builder."""

    w0: np.ndarray                      # (n_params,) float64
    make_loss: Callable[[], Callable]   # () -> jax-traceable loss(w_flat) -> scalar
    info: dict


def _layers(sizes: Sequence[int]) -> list[tuple[int, int]]:
    return list(zip(sizes[:-1], sizes[1:], strict=True))


def _unflatten(w, sizes: Sequence[int], bias: bool):
    """Slice a flat weight vector into ``[(W, b), ...]`` (b is None without bias)."""
    out, k = [], 0
    for fan_in, fan_out in _layers(sizes):
        W = w[k:k + fan_in * fan_out].reshape(fan_in, fan_out)
        k += fan_in * fan_out
        b = None
        if bias:
            b = w[k:k + fan_out]
            k += fan_out
        out.append((W, b))
    return out


def _mse_loss(sizes, bias, act, x, y):
    """Loss builder for a fully connected network on data ``(x, y)``."""

    def make():
        jax = jax_module()
        jnp = jax.numpy
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        phi = {"relu": jax.nn.relu, "elu": jax.nn.elu, None: None}[act]

        def loss(w):
            h = xj
            layers = _unflatten(w, sizes, bias)
            for i, (W, b) in enumerate(layers):
                h = h @ W if b is None else h @ W + b
                if phi is not None and i < len(layers) - 1:
                    h = phi(h)
            return 0.5 * jnp.mean((h[:, 0] - yj) ** 2)

        return loss

    return make


def make_problem(arch: str, seed: int, activation: str, n_examples: int,
             classes: tuple[int, int], factor: tuple[float, float],
             init: tuple[float, float]) -> Problem:
    rng = np.random.default_rng(seed)
    if arch == "scalar4":
        model = MODELS["zhu4"]
        w0 = model.weights(*init)

        def make():
            jnp = jax_module().numpy
            return lambda w: 0.5 * model.scale * (1.0 - jnp.prod(w)) ** 2

        return Problem(w0, make, {"model": "zhu4", "init": list(init)})
    x, y = digits_subset(n_examples, classes)
    data = {"data": "sklearn load_digits", "classes": list(classes), "n_examples": n_examples,
            "preprocess": "pixels / 16 minus the subset's mean image; labels +1 / -1"}
    if arch == "mlp5":
        sizes = (x.shape[1], 50, 50, 50, 50, 1)
        parts = []
        for fan_in, fan_out in _layers(sizes):
            bound = 1.0 / math.sqrt(fan_in)
            parts.append(rng.uniform(-bound, bound, fan_in * fan_out))
            parts.append(rng.uniform(-bound, bound, fan_out))
        w0 = np.concatenate(parts)
        info = {**data, "sizes": list(sizes), "activation": activation,
                "init": "uniform(+-1/sqrt(fan_in)) weights and biases (PyTorch default)"}
        return Problem(w0, _mse_loss(sizes, True, activation, x, y), info)
    sizes = (x.shape[1], 10, 1)
    parts = [f * rng.standard_normal(fan_in * fan_out) / math.sqrt(fan_in)
             for f, (fan_in, fan_out) in zip(factor, _layers(sizes), strict=True)]
    info = {**data, "sizes": list(sizes), "factor": list(factor),
            "init": "layer l ~ factor[l] * N(0, 1/fan_in), no biases"}
    return Problem(np.concatenate(parts), _mse_loss(sizes, False, None, x, y), info)
