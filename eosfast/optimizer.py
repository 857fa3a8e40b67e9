"""How a point moves: plain GD, heavy-ball or Nesterov momentum, per-layer step sizes.

One small typed value (:class:`Optimizer`), like the stop rule: every command
that iterates a map takes it whole, the kernels are compiled for it
(:mod:`eosfast.kernels.optim` has the update rules and their sources), and a
file records it in its ``params``. The default, plain GD with one step size,
records nothing, so GD files are what they were before optimizers existed.

Linear stability (docs/optimizers.md derives it): on a quadratic with
curvature ``lam`` and step size ``eta``, GD is stable iff ``eta lam < 2``,
heavy-ball iff ``eta lam < 2 (1 + beta)``, Nesterov iff
``eta lam < 2 (1 + beta) / (1 + 2 beta)`` (for ``0 <= beta < 1``). With
per-layer step sizes ``P = diag(eta_x, eta_y)`` the condition is on the top
eigenvalue of ``P^(1/2) H P^(1/2)``; the loss's own sharpness at such a
minimum is then at most ``limit / min(eta_x, eta_y)`` (:meth:`Optimizer.threshold`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import validate
from .errors import InvalidArgument

#: The optimizers, as ``--optimizer`` spells them.
METHODS = ("gd", "momentum", "nesterov")

#: The keys of a file's ``params`` that record the optimizer (absent for plain GD).
OPTIMIZER_KEYS = ("optimizer", "beta", "eta_x", "eta_y")


@dataclass(frozen=True)
class Optimizer:
    """The optimizer of a run (see ``eosfast grid --help``).

    Attributes
    ----------
    method : str
        ``"gd"``, ``"momentum"`` (heavy-ball) or ``"nesterov"``.
    beta : float
        Momentum, ``0 <= beta < 1`` (0 for GD).
    eta_x, eta_y : float or None
        Step sizes of the layers carrying ``x`` and ``y``; None: the run's
        ``eta`` (per point, for a grid over eta).
    """

    method: str = "gd"
    beta: float = 0.0
    eta_x: float | None = None
    eta_y: float | None = None

    @classmethod
    def checked(cls, method: Any = "gd", beta: Any = None, eta_x: Any = None,
                eta_y: Any = None) -> Optimizer:
        """An optimizer from user input.

        Raises :class:`~eosfast.errors.InvalidArgument` naming the bad value.
        """
        if isinstance(method, Optimizer):
            if beta is not None or eta_x is not None or eta_y is not None:
                raise InvalidArgument("give {optimizer} as an Optimizer or as a name with "
                                      "{beta}, {eta_x}, {eta_y}, not both",
                                      "optimizer", "beta", "eta_x", "eta_y")
            method, beta, eta_x, eta_y = method.method, method.beta, method.eta_x, method.eta_y
        if method is None:
            method = "gd"
        if not isinstance(method, str) or method not in METHODS:
            raise InvalidArgument(f"{{optimizer}} must be one of {', '.join(METHODS)}, "
                                  f"got {method!r}", "optimizer")
        if beta is None:
            if method != "gd":
                raise InvalidArgument(f"{{optimizer}} {method} needs {{beta}} (its momentum, "
                                      "in [0, 1))", "optimizer", "beta")
            b = 0.0
        else:
            b = validate.real("beta", beta)
            if not 0.0 <= b < 1.0:
                raise InvalidArgument(f"{{beta}} must be in [0, 1), got {b:g}", "beta")
            if method == "gd" and b != 0.0:
                raise InvalidArgument("{beta} needs {optimizer} momentum or nesterov",
                                      "beta", "optimizer")
        ex = None if eta_x is None else validate.real("eta_x", eta_x, positive=True)
        ey = None if eta_y is None else validate.real("eta_y", eta_y, positive=True)
        return cls(method, b, ex, ey)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Optimizer:
        """The optimizer a file's ``params`` record (plain GD when they record none)."""
        return cls.checked(params.get("optimizer", "gd"), params.get("beta"),
                           params.get("eta_x"), params.get("eta_y"))

    @property
    def code(self) -> int:
        """The kernels' optimizer (:mod:`eosfast.kernels.optim`); ``beta = 0`` is GD."""
        # imported here: ``eosfast grid --help`` reads METHODS without loading Numba
        from .kernels.optim import GD, MOMENTUM, NESTEROV

        if self.beta == 0.0:
            return GD
        return MOMENTUM if self.method == "momentum" else NESTEROV

    @property
    def layered(self) -> bool:
        """Whether a layer has a step size of its own."""
        return self.eta_x is not None or self.eta_y is not None

    @property
    def plain(self) -> bool:
        """Plain GD with one step size (what files recorded before optimizers existed)."""
        return self.method == "gd" and not self.layered

    def rates(self, eta: Any) -> tuple[Any, Any]:
        """``(eta_x, eta_y)`` for a run at ``eta`` (a float or an array)."""
        ex = eta if self.eta_x is None else self.eta_x
        ey = eta if self.eta_y is None else self.eta_y
        return ex, ey

    def kernel_inputs(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The grid kernel's ``eta, eta_y, beta`` arrays for points at step sizes ``eta``.

        Float64 arrays shaped like ``eta`` (the same array where a value is not
        read: a GD kernel reads neither ``eta_y`` nor ``beta``).
        """
        eta = np.ascontiguousarray(eta, dtype=np.float64)
        ex = eta if self.eta_x is None else np.full(eta.shape, self.eta_x)
        ey = eta if self.eta_y is None else np.full(eta.shape, self.eta_y)
        beta = eta if self.beta == 0.0 else np.full(eta.shape, self.beta)
        if not self.layered:
            ey = ex
        return ex, ey, beta

    @property
    def limit(self) -> float:
        """Linear-stability limit of ``eta * lam`` on a quadratic (2 for GD)."""
        return float(self.limit_at(self.beta))

    def limit_at(self, beta: Any) -> Any:
        """The limit of this method at momentum ``beta`` (a float or an array: a plane's)."""
        b = np.asarray(beta, dtype=np.float64)
        if self.method == "momentum":
            return 2.0 * (1.0 + b)
        if self.method == "nesterov":
            return 2.0 * (1.0 + b) / (1.0 + 2.0 * b)
        return np.full(b.shape, 2.0)[()]

    def threshold(self, eta: Any) -> Any:
        """The largest loss sharpness a linearly stable minimum can have at ``eta``.

        ``limit / eta`` for one step size (``2 / eta`` for GD, ``2 (1 + beta) /
        eta`` for heavy-ball); with per-layer step sizes ``limit / min(eta_x,
        eta_y)``, a bound (tight when they are equal).
        """
        ex, ey = self.rates(eta)
        return self.limit / np.minimum(ex, ey) if self.layered else self.limit / np.asarray(
            eta, dtype=np.float64)[()]

    @property
    def threshold_label(self) -> str:
        """The threshold's formula, for plots (matplotlib mathtext)."""
        if self.layered:
            return f"{self.limit:.4g}/min($\\eta_x$, $\\eta_y$)"
        if self.method == "momentum" and self.beta:
            return "2(1+$\\beta$)/$\\eta$"
        if self.method == "nesterov" and self.beta:
            return "2(1+$\\beta$)/((1+2$\\beta$)$\\eta$)"
        return "2/$\\eta$"

    def params(self) -> dict[str, Any]:
        """JSON-serialisable, under the names files' ``params`` use; ``{}`` for plain GD."""
        if self.plain:
            return {}
        out: dict[str, Any] = {"optimizer": self.method, "beta": self.beta}
        if self.eta_x is not None:
            out["eta_x"] = self.eta_x
        if self.eta_y is not None:
            out["eta_y"] = self.eta_y
        return out

    def describe(self, beta: bool = True) -> str:
        """A few words for summaries: ``"momentum beta=0.5, eta_x=0.1"``; empty for plain GD.

        ``beta=False`` leaves the momentum out (a plane over it).
        """
        if self.plain:
            return ""
        parts = [self.method if self.method == "gd" or not beta
                 else f"{self.method} beta={self.beta:g}"]
        if self.eta_x is not None:
            parts.append(f"eta_x={self.eta_x:g}")
        if self.eta_y is not None:
            parts.append(f"eta_y={self.eta_y:g}")
        return ", ".join(parts)


#: Plain GD with one step size.
GD = Optimizer()
