"""Outcome codes of a grid point, and how every picture colours them.

The one definition of the ``status`` codes stored in result files, used by the
kernels, the readers, the analysis and the plots.
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

#: The outcome palette of every plot: code -> colour. Diverged and periodic
#: sit far apart (dark red against light orange), bounded is neutral grey.
COLORS = {
    Status.DIVERGED: "#b2182b",
    Status.BOUNDED: "#bdbdbd",
    Status.CONVERGED: "#2166ac",
    Status.PERIODIC: "#f4a582",
}


def outcome_counts(status) -> dict[str, int]:
    """Points per outcome (``converged, periodic, bounded, diverged``) in a status array."""
    import numpy as np

    status = np.asarray(status)
    # one pass: a histogram of the int8 codes
    hist = np.bincount((status.reshape(-1).astype(np.int16) + 128), minlength=256)
    return {s.label: int(hist[int(s) + 128]) for s in OUTCOMES}
