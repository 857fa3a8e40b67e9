"""The registry of models: coupled scalar networks (paper s. 1, 4; math.md s. 1).

A model is fully described by the coupling pattern and the loss scale: ``p``
weights equal to ``x``, ``q`` equal to ``y``, depth ``k = p + q``, objective
``s/2 (1 - x^p y^q)^2``. Its GD map is a bundle of scalar functions
(:func:`eosfast.kernels.maps.coupled`) that every kernel template compiles
against; adding a model means adding one :class:`Model` line to :data:`MODELS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .errors import InvalidArgument
from .validate import show


@dataclass(frozen=True)
class Model:
    """A coupled scalar network.

    Attributes
    ----------
    name : str
        Registry key (``zhu4``, ``deg3``, ``deg2``, ...).
    p, q : int
        How many of the ``k = p + q`` weights are coupled to ``x`` and to ``y``.
        The initial weights are ``(x0,)*p + (y0,)*q`` (for zhu4 the paper's
        order ``(x0, y0, x0, y0)`` is a permutation of that: same dynamics).
    scale : float
        ``s`` in the objective ``s/2 (1 - P)^2``; 2 for the paper's ``(1 - xy)^2``.
    formula : str
        The objective as the paper writes it.
    """

    name: str
    p: int
    q: int
    scale: float
    formula: str
    pattern: tuple[str, ...] = field(default=())

    @property
    def depth(self) -> int:
        """Number of network weights ``k = p + q``."""
        return self.p + self.q

    def weights(self, x: float, y: float) -> np.ndarray:
        """Full network weights, shape (k,), float64, in the paper's order."""
        order = self.pattern or ("x",) * self.p + ("y",) * self.q
        return np.array([x if c == "x" else y for c in order], dtype=np.float64)

    @cached_property
    def maps(self):
        """The model's GD map as a bundle of scalar functions (:mod:`eosfast.kernels.maps`)."""
        from .kernels.maps import coupled

        return coupled(self.p, self.q, self.scale)

    @cached_property
    def kernels(self):
        """The compiled kernels of this model, each built on first use (then cached)."""
        from .kernels.cpu import ModelKernels

        return ModelKernels(self.maps)


MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model("zhu4", 2, 2, 1.0, "1/2 (1 - xyzw)^2 with z = x, w = y", ("x", "y", "x", "y")),
        Model("deg3", 1, 2, 1.0, "1/2 (1 - xyz)^2 with z = y", ("x", "y", "y")),
        Model("deg2", 1, 1, 2.0, "(1 - xy)^2", ("x", "y")),
        Model("deg6", 3, 3, 1.0, "1/2 (1 - x^3 y^3)^2, a 6-layer coupled network",
              ("x", "y", "x", "y", "x", "y")),
    )
}


def get_model(name: str | Model) -> Model:
    """Look a model up by name; raises :class:`EosfastError` for an unknown one."""
    if isinstance(name, Model):
        return name
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        known = ", ".join(MODELS)
        raise InvalidArgument(f"{{model}} must be one of {known}, got {show(name)}", "model") \
            from None
