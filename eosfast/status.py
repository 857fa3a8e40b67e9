"""Outcome codes of a grid point, the meaning of ``period``, and the outcome colours.

The one definition of the ``status`` codes stored in result files, used by the
kernels, the readers, the analysis and the plots.

Period
------
``period`` means one thing in every file: the length of the cycle the orbit
ends on. 1 is a fixed point (a converged run is a fixed point at a minimum;
status says which), ``k >= 2`` a cycle of ``k`` steps, 0 no cycle found
(still bounded and unresolved, or chaotic). Where a run diverged, a grid
stores period 0 with status -1; an orbit diagram (``bifurcation``), which has
no status array, stores -1 instead. :data:`PERIOD_MEANING` is the sentence
both files carry. Grids search cycles up to ``max_period`` steps long (``eosfast
grid --max-period``, default :data:`eosfast.defaults.MAX_PERIOD`) that close to
``period_tol`` of their extent (``--period-tol``).
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """What became of a GD run (the int8 ``status`` of a grid file).

    ``PENDING`` marks a point a partial file has not computed yet (the fill
    value of ``status``); the others are outcomes.
    """

    DIVERGED = -1
    BOUNDED = 0
    CONVERGED = 1
    PERIODIC = 2
    PENDING = -128

    @property
    def label(self) -> str:
        """Lower-case name, as in files and messages."""
        return self.name.lower()


#: What ``period`` holds, in every file kind.
PERIOD_MEANING = ("length of the cycle the orbit ends on: 1 a fixed point (converged, or a "
                  "fixed point that is not a minimum), k >= 2 a cycle of k steps, 0 none found")

#: The outcomes (``PENDING`` excluded), in the order summaries list them.
OUTCOMES = (Status.CONVERGED, Status.PERIODIC, Status.BOUNDED, Status.DIVERGED)

#: One sentence per code, stored with the ``status`` array.
MEANINGS = {
    Status.CONVERGED: "converged to a minimum",
    Status.PERIODIC: "periodic orbit (period 1: a fixed point that is not a minimum)",
    Status.BOUNDED: "bounded, neither (chaotic, or unresolved at the step cap)",
    Status.DIVERGED: "diverged",
    Status.PENDING: "not computed yet (partial file)",
}

#: The outcome palette of every plot: code -> colour. Blue converged, dark
#: red diverged, orange periodic, light grey bounded: every pair differs by a
#: CIELAB distance of at least 40 for normal vision and for simulated
#: protanopia, deuteranopia and tritanopia (Machado et al. 2009; a test checks
#: it), and periodic against diverged differs in lightness as well as hue.
COLORS = {
    Status.DIVERGED: "#a50026",
    Status.BOUNDED: "#d9d9d9",
    Status.CONVERGED: "#2166ac",
    Status.PERIODIC: "#e69f00",
}


def outcome_counts(status) -> dict[str, int]:
    """Points per outcome (``converged, periodic, bounded, diverged``) in a status array."""
    import numpy as np

    status = np.asarray(status)
    # one pass: a histogram of the int8 codes
    hist = np.bincount((status.reshape(-1).astype(np.int16) + 128), minlength=256)
    return {s.label: int(hist[int(s) + 128]) for s in OUTCOMES}


def stable_converged(status, sharpness, eta: float, threshold: float | None = None):
    """Masks of the converged points: ``(stable, unstable)``, boolean arrays like ``status``.

    ``threshold``: the optimizer's (:meth:`eosfast.optimizer.Optimizer.threshold`),
    or one a point (an array like ``status``, a plane's); default ``2/eta``, GD's.

    A run that converges to a minimum by iterating can only end where GD is
    stable, sharpness ``<= 2/eta`` (math.md s. 3). A converged point sharper
    than that started exactly on a minimum, or landed on one exactly in
    floating point (dyadic lattice points on ``xy = 1``, such as ``(4, 1/4)``,
    whose sharpness ``2(x^2 + y^2)`` is 32.125 at ``eta = 0.2``): GD stays
    there only because the gradient is exactly 0, and any perturbation leaves.
    Such points keep status 1 in files, but the converged-sharpness
    statistics (``eosfast info``, the concentration plot) count them apart.
    """
    import numpy as np

    status = np.asarray(status)
    sharpness = np.asarray(sharpness)
    conv = (status == Status.CONVERGED) & np.isfinite(sharpness)
    thr = 2.0 / float(eta) if threshold is None else np.asarray(threshold, dtype=float)
    unstable = conv & (sharpness > thr)
    return conv & ~unstable, unstable
