"""Result types: a grid held in memory and the summary of a run written to disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: The per-point arrays of a grid result, their dtypes and their meaning.
FIELDS: dict[str, tuple[type, str]] = {
    "status": (np.int8,
               "1 converged to a minimum; 2 periodic orbit; 0 bounded, neither; -1 diverged"),
    "steps": (np.int32, "step at which it converged or escaped; the cap otherwise"),
    "period": (np.int16, "period of the orbit for status 2, else 0"),
    "sharpness": (np.float64, "top eigenvalue of the network Hessian at the final iterate"),
    "loss": (np.float64, "objective at the final iterate"),
    "x": (np.float64, "final x"),
    "y": (np.float64, "final y"),
}

#: ``status`` codes.
CONVERGED, PERIODIC, BOUNDED, DIVERGED = 1, 2, 0, -1


@dataclass
class GridResult:
    """A computed grid over ``(eta, y0, x0)``.

    Attributes
    ----------
    model : str
        Model name (see :data:`eosfast.MODELS`).
    eta, y0, x0 : ndarray, float64, shapes (n_eta,), (ny,), (nx,)
        The axes; ``x0 = linspace(*x_range, nx)`` etc.
    status, steps, period, sharpness, loss, x, y : ndarray, shape (n_eta, ny, nx)
        Per-point outcomes, dtypes as in :data:`FIELDS`.
    params : dict
        Every parameter of the run (JSON-serialisable).
    """

    model: str
    eta: np.ndarray
    y0: np.ndarray
    x0: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    period: np.ndarray
    sharpness: np.ndarray
    loss: np.ndarray
    x: np.ndarray
    y: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_eta, ny, nx)``."""
        return self.status.shape

    def index(self, eta: float) -> int:
        """Index of the slice whose step size equals ``eta`` (to 1e-12 relative)."""
        hits = np.flatnonzero(np.isclose(self.eta, eta, rtol=1e-12, atol=0.0))
        if hits.size == 0:
            from .errors import EosfastError

            raise EosfastError(f"eta={eta!r} is not in this result (it has {list(self.eta)})")
        return int(hits[0])

    def iterations(self) -> int:
        """GD steps run in all (sum of ``steps``)."""
        return int(self.steps.sum(dtype=np.int64))

    def counts(self) -> dict[str, int]:
        """Number of points per outcome."""
        return outcome_counts(self.status)

    def to_frame(self):
        """A pandas DataFrame, one row a grid point (see :func:`eosfast.read_frame`)."""
        import pandas as pd

        ne, ny, nx = self.shape
        cols = {
            "eta": np.repeat(self.eta, ny * nx),
            "x0": np.tile(self.x0, ne * ny),
            "y0": np.tile(np.repeat(self.y0, nx), ne),
        }
        for name in FIELDS:
            cols[name] = getattr(self, name).reshape(-1)
        return pd.DataFrame(cols)

    def to_xarray(self):
        """An ``xarray.Dataset`` with dims ``(eta, y0, x0)`` (needs xarray)."""
        import xarray as xr

        data = {n: (("eta", "y0", "x0"), getattr(self, n)) for n in FIELDS}
        return xr.Dataset(data, coords={"eta": self.eta, "y0": self.y0, "x0": self.x0},
                          attrs={"model": self.model})


def outcome_counts(status: np.ndarray) -> dict[str, int]:
    """Points per outcome in an int8 ``status`` array of any shape."""
    codes = {"converged": CONVERGED, "periodic": PERIODIC, "bounded": BOUNDED,
             "diverged": DIVERGED}
    return {k: int(np.count_nonzero(status == v)) for k, v in codes.items()}


@dataclass
class GridRun:
    """Summary of a grid run written to a file (what ``grid(out=...)`` returns)."""

    path: Path
    shape: tuple[int, int, int]
    counts: dict[str, int]
    iterations: int
    seconds: float
    tiles_done: int
    tiles_total: int

    @property
    def rate(self) -> float:
        """GD iterations per second, counted from the steps run in this call."""
        return self.iterations / self.seconds if self.seconds > 0 else float("nan")

    def summary(self) -> str:
        """The one-line summary the command prints."""
        n = max(1, sum(self.counts.values()))
        frac = ", ".join(f"{k} {100 * v / n:.1f}%" for k, v in self.counts.items())
        ne, ny, nx = self.shape
        return (f"{self.path}: {ne}x{ny}x{nx} points ({frac}); {self.iterations:.3g} "
                f"iterations in {self.seconds:.2f} s ({self.rate:.3g} it/s)")
