"""The CPU kernels of one model, each compiled (or loaded from Numba's cache) on first use.

A command compiles only what it calls: ``eosfast grid`` the grid kernel,
``eosfast trajectory`` the trajectory kernel, and so on. Each optimizer
(:mod:`.optim`) is its own set of kernels, compiled from the same templates.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .build import instantiate
from .config import JIT
from .grid import classify_template, grid_template
from .maps import SOURCE_DIGEST, Maps
from .optim import GD, namespace, scheme_key, state_step_template
from .orbit import (
    bifurcation_template,
    jacobian_template,
    pointwise_template,
    trajectory_template,
)


class ModelKernels:
    """Compiled entry points of one map bundle and optimizer (signatures: the templates').

    Parameters
    ----------
    maps : Maps
    opt : int
        The optimizer's code (:data:`.optim.GD`, ``MOMENTUM``, ``NESTEROV``).
    layered : bool
        Whether the layers carrying ``y`` take their own step size.

    Attributes
    ----------
    grid, trajectory, jacobian, pointwise, bifurcation : numba Dispatcher
        Built on first access.
    """

    def __init__(self, maps: Maps, opt: int = GD, layered: bool = False):
        self.maps = maps
        self.opt = int(opt)
        self.layered = bool(layered)
        self.key = f"{maps.key}{scheme_key(self.opt, self.layered)}|{SOURCE_DIGEST}"

    @cached_property
    def _namespace(self) -> dict:
        """The bundle's compiled functions, the optimizer's constants and its state step."""
        from .config import INLINE

        ns = vars(self.maps.cpu()).copy()
        ns.update(namespace(self.opt, self.layered))
        ns["ostep"] = instantiate(state_step_template, self.key, ns, **INLINE)
        return ns

    def _bind(self, template, extra: dict | None = None, **options: Any):
        ns = dict(self._namespace)
        ns.update(extra or {})
        return instantiate(template, self.key, ns, **{**JIT, **options})

    @cached_property
    def classify(self):
        from .config import INLINE

        return instantiate(classify_template, self.key, self._namespace, **INLINE)

    @cached_property
    def grid(self):
        from .config import INLINE
        from .grid import checked_step_template

        step = instantiate(checked_step_template, self.key, self._namespace, **INLINE)
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

        return CudaKernels(self.maps, self.key, self.opt, self.layered)
