"""When GD stops: the step cap, the convergence and escape tests, the period search.

One small typed value (:class:`StopRule`) instead of five keywords passed
through every layer: the executors take it whole, and a worker process
receives it as one picklable tuple.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import defaults, validate
from .errors import InvalidArgument


@dataclass(frozen=True)
class StopRule:
    """How the iteration of one point ends (see ``eosfast grid --help``).

    Attributes
    ----------
    steps : int
        Step cap T (>= 1).
    tol : float
        Converged when the model's measure is below it (> 0).
    escape : float
        Diverged when ``|x|`` or ``|y|`` exceeds it or is not finite (> 0).
    max_period : int
        Longest cycle searched in orbits still bounded at the cap.
    period_tol : float
        A cycle of period k >= 2 must close to this fraction of its extent.
    """

    steps: int = defaults.STEPS
    tol: float = defaults.TOL
    escape: float = defaults.ESCAPE
    max_period: int = defaults.MAX_PERIOD
    period_tol: float = defaults.PERIOD_TOL

    @classmethod
    def checked(cls, steps: Any = defaults.STEPS, tol: Any = defaults.TOL,
                escape: Any = defaults.ESCAPE, max_period: Any = defaults.MAX_PERIOD,
                period_tol: Any = defaults.PERIOD_TOL) -> StopRule:
        """A rule from user input.

        Raises :class:`~eosfast.errors.InvalidArgument` naming the bad value.
        """
        return cls(steps=validate.integer("steps", steps, hi=np.iinfo(np.int32).max - 1),
                   tol=validate.real("tol", tol, positive=True),
                   escape=validate.real("escape", escape, positive=True),
                   max_period=validate.integer("max_period", max_period,
                                               hi=np.iinfo(np.int16).max),
                   period_tol=validate.real("period_tol", period_tol, positive=True))

    @classmethod
    def given(cls, rule: StopRule | None = None, steps: Any = defaults.STEPS,
              tol: Any = defaults.TOL, escape: Any = defaults.ESCAPE,
              max_period: Any = defaults.MAX_PERIOD,
              period_tol: Any = defaults.PERIOD_TOL) -> StopRule:
        """The rule of an API call that takes ``rule=`` or the five keywords.

        ``rule`` (checked) when given, else the keywords; both at once is an
        error naming ``rule`` unless the keywords are all at their defaults.
        """
        if rule is None:
            return cls.checked(steps, tol, escape, max_period, period_tol)
        if not isinstance(rule, StopRule):
            raise InvalidArgument(f"{{rule}} must be a StopRule, got {type(rule).__name__}",
                                  "rule")
        if (steps, tol, escape, max_period, period_tol) != cls().args():
            raise InvalidArgument("give the stop rule as {rule} or as {steps}, {tol}, "
                                  "{escape}, {max_period}, {period_tol}, not both",
                                  "rule", "steps", "tol", "escape", "max_period", "period_tol")
        return cls.checked(*rule.args())

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StopRule:
        """The rule a file's ``params`` record (files older than the period search get defaults)."""
        return cls.checked(params["steps"], params["tol"], params["escape"],
                           params.get("max_period", defaults.MAX_PERIOD),
                           params.get("period_tol", defaults.PERIOD_TOL))

    def args(self) -> tuple[int, float, float, int, float]:
        """``(steps, tol, escape, max_period, period_tol)``: the kernels' argument order."""
        return (self.steps, self.tol, self.escape, self.max_period, self.period_tol)

    def params(self) -> dict[str, Any]:
        """JSON-serialisable, under the names the files' ``params`` use."""
        return asdict(self)


#: The default rule (``StopRule()``), for signatures.
DEFAULT_RULE = StopRule()
