"""Compiled kernels per model, built once per process and cached on disk by Numba."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .kernels.grid import make_grid_kernel


@dataclass(frozen=True)
class ModelKernels:
    """The compiled entry points of one model."""

    grid: Any


def for_model(model) -> ModelKernels:
    """Compile (or load from Numba's cache) the kernels of ``model``."""
    return ModelKernels(grid=make_grid_kernel(model.p, model.q, model.scale))
