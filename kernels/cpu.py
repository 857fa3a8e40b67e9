"""The CPU kernels of one model, each compiled (or loaded from Numba's cache) on first use.

A command compiles only what it calls: ``eosfast grid`` the grid kernel,
``eosfast trajectory`` the trajectory kernel, and so on.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .build import instantiate
from .config import JIT
from .grid import classify_template, grid_template
from .maps import SOURCE_DIGEST, Maps
from .orbit import (
    bifurcation_template,
    jacobian_template,
    pointwise_template,
    trajectory_template,
)


class ModelKernels:
    """Compiled entry points of one map bundle (signatures: each template's docstring).

    Attributes
    ----------
    grid, trajectory, jacobian, pointwise, bifurcation : numba Dispatcher
        Built on first access.
    """

    def __init__(self, maps: Maps):
        self.maps = maps
        self.key = f"{maps.key}|{SOURCE_DIGEST}"

    def _bind(self, template, extra: dict | None = None, **options: Any):
        namespace = vars(self.maps.cpu()).copy()
        namespace.update(extra or {})
        return instantiate(template, self.key, namespace, **{**JIT, **options})

    @cached_property
    def classify(self):
        from .config import INLINE

        return instantiate(classify_template, self.key, vars(self.maps.cpu()), **INLINE)

    @cached_property
    def grid(self):
        from .config import INLINE
        from .grid import checked_step_template

        step = instantiate(checked_step_template, self.key, vars(self.maps.cpu()), **INLINE)
        return self._bind(grid_template, {"classify": self.classify, "step": step})

    @cached_property
    def trajectory(self):
        return self._bind(trajectory_template)

    @cached_property
    def jacobian(self):
        return self._bind(jacobian_template)

    @cached_property
    def pointwise(self):
        return self._bind(pointwise_template)

    @cached_property
    def bifurcation(self):
        return self._bind(bifurcation_template, parallel=True)

    @cached_property
    def reference_lanes(self):
        """The check-free lane loop of the benchmarks (:mod:`.reference`), all threads."""
        from .reference import lanes_template

        return self._bind(lanes_template, parallel=True)

    @cached_property
    def reference_straight(self):
        """The straightforward prange loop of the benchmarks (:mod:`.reference`)."""
        from .reference import straight_template

        return self._bind(straight_template, parallel=True)

    @cached_property
    def cuda(self):
        """The CUDA grid kernel (:class:`.cuda.CudaKernels`; needs numba-cuda)."""
        from .cuda import CudaKernels

        return CudaKernels(self.maps, self.key)
