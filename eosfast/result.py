"""Result types: small dataclasses with a one-line ``summary()`` and a short ``repr``.

:class:`GridResult` is a grid held in memory, :class:`GridRun` the summary of
a grid written to a file. Every other result type of the package
(trajectories, orbit diagrams, fractal measures, ...) derives from
:class:`Result` too, so ``repr()`` of any of them is a line, not the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import EosfastError
from .status import outcome_counts
from .store.layouts import GRID_FIELDS


def shortest(v: float) -> str:
    """A float as the shortest text that reads back as the same float (``repr``): what
    every message and title prints where a user may paste the value back."""
    v = float(v)
    return repr(v) if v != int(v) or abs(v) >= 1e16 else repr(v).removesuffix(".0")


def magnification_text(m: float) -> str:
    """``1024`` for 2^10, ``16384``, ``1.5``: a whole magnification in full, else 4 digits."""
    return f"{m:.0f}" if float(m).is_integer() and m < 1e15 else f"{m:.4g}"


def model_label(model: str, model_params=None) -> str:
    """A model with its parameters, as every title and summary names it:
    ``(x*y - t)**2/2 [t=2]``; the name alone when it has none.

    ``model_params`` is a mapping (or a JSON object's text) of name -> value.
    """
    if isinstance(model_params, bytes):
        model_params = model_params.decode("utf-8", "replace")
    if isinstance(model_params, str):
        import json

        try:
            model_params = json.loads(model_params)
        except ValueError:
            model_params = None
    if not isinstance(model_params, dict) or not model_params:
        return str(model)
    pairs = ", ".join(f"{k}={shortest(v) if isinstance(v, (int, float)) else v}"
                      for k, v in sorted(model_params.items()))
    return f"{model} [{pairs}]"


class Result:
    """Base of the result types: ``repr`` is ``<Type: summary>``."""

    def summary(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def model_label(self) -> str:
        """The model with its parameters (:func:`model_label`), for titles and summaries."""
        params = getattr(self, "params", None)
        mp = params.get("model_params") if isinstance(params, dict) else None
        return model_label(getattr(self, "model", "?"), mp)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.summary()}>"


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage that never shows a non-zero count as 0.0%."""
    if whole <= 0:
        return "-"
    p = 100.0 * part / whole
    if part and p < 0.1:
        return f"{p:.2g}%"
    return f"{p:.1f}%"


def describe_counts(counts: dict[str, int]) -> str:
    """``converged 12.5%, periodic 0.0021%, ...`` of all points counted."""
    n = sum(counts.values())
    return ", ".join(f"{k} {percent(v, n)}" for k, v in counts.items())


@dataclass(repr=False)
class GridResult(Result):
    """A computed grid over ``(eta, y0, x0)``.

    Attributes
    ----------
    model : str
        Model name (see :data:`eosfast.MODELS`), or the expression of an
        expression model (its parameters are in ``params["model_params"]``).
    eta, y0, x0 : ndarray, float64, shapes (n_eta,), (ny,), (nx,)
        The axes; ``x0 = linspace(*x_range, nx)`` etc. On a plane
        (:mod:`eosfast.axes`) they are the coordinates of the slices, rows
        and columns, whose parameters ``axes`` names.
    status, steps, period, sharpness, loss, x, y : ndarray, shape (n_eta, ny, nx)
        Per-point outcomes, dtypes as in :data:`eosfast.store.layouts.GRID_FIELDS`
        (None for a field not read: :func:`eosfast.read_grid` ``fields=``).
    params : dict
        Every parameter of the run (JSON-serialisable).
    axes : (str, str, str)
        The parameters of the dimensions: ``("eta", "y0", "x0")`` for a grid of
        initial points, e.g. ``("eta", "eta_y", "eta_x")`` for a plane.
    """

    model: str
    eta: np.ndarray
    y0: np.ndarray
    x0: np.ndarray
    status: np.ndarray | None
    steps: np.ndarray | None
    period: np.ndarray | None
    sharpness: np.ndarray | None
    loss: np.ndarray | None
    x: np.ndarray | None
    y: np.ndarray | None
    params: dict = field(default_factory=dict)
    axes: tuple[str, str, str] = ("eta", "y0", "x0")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_eta, ny, nx)``."""
        return (self.eta.size, self.y0.size, self.x0.size)

    def index(self, eta: float) -> int:
        """Index of the slice whose step size is ``eta`` (the rule of
        :func:`eosfast.store.gridfile.eta_index`: exact, else the nearest within
        1e-5 relative, with a note)."""
        from .store.gridfile import eta_index

        return eta_index(self.eta, eta, "this result")

    def _need(self, name: str) -> np.ndarray:
        value = getattr(self, name)
        if value is None:
            raise EosfastError(f"this result was read without {name!r}")
        return value

    def iterations(self) -> int:
        """GD steps run in all (sum of ``steps``)."""
        return int(self._need("steps").sum(dtype=np.int64))

    def counts(self) -> dict[str, int]:
        """Number of points per outcome."""
        return outcome_counts(self._need("status"))

    def summary(self) -> str:
        ne, ny, nx = self.shape
        s, r, c = self.axes
        etas = f"{s} {self.eta[0]:g}" if ne == 1 else f"{ne} {s} in [{self.eta[0]:g}, " \
                                                       f"{self.eta[-1]:g}]"
        counts = f": {describe_counts(self.counts())}" if self.status is not None else ""
        plane = "" if tuple(self.axes) == ("eta", "y0", "x0") else \
            f" of ({c} [{self.x0[0]:g}, {self.x0[-1]:g}], {r} [{self.y0[0]:g}, {self.y0[-1]:g}])"
        return f"{self.model_label}, {etas}, {ny} x {nx} points{plane}{counts}"

    def to_frame(self, columns=None, index: bool = False):
        """A pandas DataFrame, one row a grid point (see :func:`eosfast.read_frame`).

        ``columns`` selects columns (default the axes and every field held).
        """
        from .frame import frame_from_arrays

        held = {n: getattr(self, n) for n in GRID_FIELDS if getattr(self, n) is not None}
        return frame_from_arrays(self.eta, self.y0, self.x0, held, columns, index,
                                 tuple(self.axes))

    def to_xarray(self):
        """An ``xarray.Dataset`` with dims ``(eta, y0, x0)`` (a plane's :attr:`axes`; needs xarray).

        The same variables, coordinates and CF attributes as the file.
        """
        import xarray as xr

        dims = tuple(self.axes)
        data = {n: (dims, getattr(self, n), GRID_FIELDS[n].cf_attrs())
                for n in GRID_FIELDS if getattr(self, n) is not None}
        return xr.Dataset(data, coords=dict(zip(dims, (self.eta, self.y0, self.x0),
                                                strict=True)),
                          attrs={"model": self.model})


@dataclass(repr=False)
class GridRun(Result):
    """Summary of a grid run written to a file (what ``grid(out=...)`` returns).

    Attributes
    ----------
    path : Path
    shape : (int, int, int)
        ``(n_eta, ny, nx)``.
    counts : dict of str -> int
        Points per outcome.
    iterations : int
        GD steps run in this call (not counting tiles done before a resume).
    seconds : float
        Wall time of the computation in this call.
    tiles_done, tiles_total : int
    """

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
        ne, ny, nx = self.shape
        speed = (f"{self.iterations:.3g} iterations in {self.seconds:.2f} s "
                 f"({self.rate:.3g} it/s)" if self.iterations else "nothing left to compute")
        return (f"{self.path}: {ne}x{ny}x{nx} points ({describe_counts(self.counts)} of "
                f"{ne * ny * nx} points); {speed}")
