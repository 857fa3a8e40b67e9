"""Compiled kernels per model, built once per process and cached on disk by Numba."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .kernels.grid import make_grid_kernel
from .kernels.orbit import (
    make_bifurcation_kernel,
    make_jacobian_kernel,
    make_trajectory_kernel,
)
from .kernels.pointwise import make_pointwise_kernels


@dataclass(frozen=True)
class ModelKernels:
    """The compiled entry points of one model (see each factory for signatures)."""

    grid: Any
    sharpness: Any
    loss: Any
    trajectory: Any = None
    jacobian: Any = None
    bifurcation: Any = None


def for_model(model) -> ModelKernels:
    """Compile (or load from Numba's cache) the kernels of ``model``."""
    sharp, loss = make_pointwise_kernels(model.p, model.q, model.scale)
    p, q, s = model.p, model.q, model.scale
    return ModelKernels(grid=make_grid_kernel(p, q, s),
                        sharpness=sharp, loss=loss,
                        trajectory=make_trajectory_kernel(p, q, s),
                        jacobian=make_jacobian_kernel(p, q, s),
                        bifurcation=make_bifurcation_kernel(p, q, s))
