"""Fractality of basin boundaries: box counting, uncertainty exponent, basin entropy.

Pure array analysis of one 2-D slice of a grid (paper Section 5, Fig. 7a;
``math.md`` section 5). Everything is measured in *pixels* of the raster; the
pixel spacing only labels the axes of the plot and the fit range in the report.

Which outcomes are compared
---------------------------
A grid slice is an int8 ``status`` raster (1 converged, 2 periodic, 0 bounded,
-1 diverged). Two choices are made, and reported in the result:

* **The boundary** whose dimension is measured (box counting and uncertainty
  exponent) separates two sets. By default (``split="diverged"``) these are
  ``status == -1`` and ``status != -1``: the converge/diverge boundary of the
  paper's Fig. 7a, where every bounded outcome counts with "converged".
  ``split="converged"`` uses ``status == 1`` against everything else instead.
* **The classes** for the basin entropy and the fractality test are, by
  default (``classes="split"``), the same two sides: one boundary is
  measured by every method. ``classes="outcome"`` uses three classes instead,
  converged (1), bounded without converging (2 periodic and 0 unresolved,
  merged: which of the two a bounded orbit is reported as depends on the step
  cap and the period detector, not on the basin) and diverged (-1);
  ``classes="status"`` keeps every code apart. Two classes are the default
  because isolated non-converging points (the saddle at the origin and its
  stable manifold: 13 of 262144 pixels of a 512^2 deg2 grid) are not part of
  the converge/diverge boundary, yet with three classes they make the
  fractality test call deg2's smooth boundary fractal. With two classes the
  boundary entropy can never exceed ln 2, so the ln 2 criterion can only fire
  with ``classes="outcome"`` or ``"status"`` and three classes present.

A boolean raster is taken as the two sides of the boundary itself (``True``
on one side), for both the dimension and the entropy.

Methods
-------
Box counting
    The raster is a set of point samples, one per pixel. It is covered by
    closed square boxes of side ``s = 2**j`` pixel spacings (``j = 0, 1,
    ...``), aligned at pixel (0, 0), each holding the ``(s + 1)**2`` samples on
    and inside it (neighbours share their edge samples, so every crossing
    between two adjacent samples lies in a box; boxes cut by the far edges are
    kept). ``N(s)`` is the number of boxes holding samples of both sides. The
    dimension is the least-squares slope of ``ln N`` against ``ln(1/s)`` over
    the fit range: by default from ``s = 4`` (2 for rasters under 512 pixels)
    to the largest ``s`` that leaves at least 16 boxes along the shorter side;
    see :func:`default_fit` for why the pixel scale is left out. The error
    is the larger of the slope's standard error and half the spread of the
    slopes fitted on every run of ``max(3, ceil(n/2))`` consecutive scales
    inside the fit range (``n`` the number of fitted scales), so a curved
    log-log plot shows up as a large error. The local slopes between
    consecutive scales are reported too.
Uncertainty exponent (McDonald, Grebogi, Ott & Yorke 1985)
    A pixel is ``eps``-uncertain if one of the four pixels ``eps`` away along
    the axes lies on the other side (only pixels at least the largest ``eps``
    from every edge are scored, the same pixels for every ``eps``). The
    fraction ``f(eps) ~ eps**alpha``; ``alpha`` is the fitted slope of
    ``ln f`` against ``ln eps`` for ``eps = 1, 2, 4, ...`` up to the same
    largest scale as the box fit, and ``D = 2 - alpha``.
Basin entropy (Daza et al., Sci. Rep. 6, 31416, 2016)
    Boxes of ``box x box`` pixels tile the raster (partial boxes at the far
    edges dropped). In box ``i`` with class fractions ``p_ij``,
    ``S_i = -sum_j p_ij ln p_ij``; ``S_b`` is the mean of ``S_i`` over all
    boxes and ``S_bb`` the mean over the boxes holding more than one class.
    ``S_bb > ln 2`` is a sufficient condition for a fractal boundary.
Fractality test (Puy, Daza, Wagemakers & Sanjuan, CNSNS 95, 105588, 2021)
    ``S_bb`` is estimated from balls of radius ``r`` pixels centred at random
    (seeded) pixels, kept when they hold more than one class, until ``n``
    such balls are found. A smooth boundary gives, for a ball cut by a straight
    line at a uniform distance, ``S_bb = 0.4395093`` (exact for the continuum;
    a test checks it) plus a discretisation bias of at most
    ``0.224 r**-1.006``. The boundary is called fractal when the estimate lies
    outside ``[0.4395 - z sigma, 0.4395 + z sigma + bias]``, ``sigma`` the
    standard error of the mean; ``z = 1`` and the constants as in
    Attractors.jl's ``basins_fractal_test``, which implements the test.

Examples
--------
>>> import numpy as np
>>> from eosfast.fractal import analyze
>>> yy, xx = np.mgrid[0:512, 0:512]
>>> disc = (xx - 255.5) ** 2 + (yy - 255.5) ** 2 < 180.0 ** 2
>>> res = analyze(disc)
>>> round(res.box_dimension, 1)
1.0
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import validate
from .defaults import FRACTAL_CLASSES as CLASSES
from .defaults import FRACTAL_SPLITS as SPLITS
from .errors import EosfastError, InvalidArgument
from .result import Result
from .status import Status
from .validate import show

#: ``S_bb`` of a smooth boundary in 2-D, for balls (Puy et al. 2021).
SMOOTH_SBB_2D = 0.4395093
#: Coefficient and exponent of the discretisation bias of ``S_bb`` for a ball
#: of radius ``r`` pixels, ``0.224 r**-1.006`` (Puy et al. 2021).
BIAS_COEF, BIAS_EXP = 0.224, -1.006
#: Fewest boxes along the shorter side at the largest default fit scale.
MIN_BOXES = 16
#: Block side (pixels) of the fractality test's map of where the boundary is.
EDGE_BLOCK = 16
#: Local slopes inside the fit range that spread more than this are reported
#: as drifting (no single power law). A Sierpinski carpet sampled at 512 to
#: 4096 points per axis stays within 0.05 from box side 4 up, a disc within 0.02.
DRIFT_TOL = 0.15
#: Box counting and the uncertainty exponent are reported as disagreeing when
#: their dimensions differ by more than this many times the sum of their
#: errors: on a Sierpinski carpet sampled at 729 points per axis they give
#: 1.897 +- 0.021 and 1.841 +- 0.023 (exact 1.893 for both), 1.3 times the
#: sum apart; zhu4 at eta 0.25 on [3.0, 3.4] x [0.1, 0.5] (1024^2) gives
#: 1.649 +- 0.077 against 1.878 +- 0.017, 2.4 times.
DISAGREE_FACTOR = 2.0



# ----------------------------------------------------------------------------
# result type
# ----------------------------------------------------------------------------


@dataclass(repr=False)
class FractalResult(Result):
    """Everything :func:`analyze` measures on one raster.

    Attributes
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the raster.
    pixel : (float, float) or None
        ``(dx, dy)``: pixel spacing in data units, when the axes were given.
    split, classes : str
        Which boundary was measured and which classes the entropy uses (see
        the module docstring); ``"bool"`` for a boolean raster.
    fraction : float
        Fraction of pixels on the ``True`` side of the split (e.g. diverged).
    box_sizes, box_counts : ndarray, int64, shape (m,)
        Box sides ``s`` in pixels (1, 2, 4, ...) and ``N(s)``.
    local_slopes : ndarray, float64, shape (m - 1,)
        ``-(ln N(s_{k+1}) - ln N(s_k)) / ln(s_{k+1} / s_k)``; NaN where a count is 0.
    box_fit : (int, int)
        Smallest and largest box side (pixels) in the fit.
    box_dimension, box_dimension_err, box_dimension_stderr : float
        Fitted slope, its error (see module docstring), the regression's
        standard error alone.
    eps, uncertain_fraction : ndarray, shape (k,)
        ``eps`` in pixels (int64) and ``f(eps)`` (float64).
    uncertainty_fit : (int, int)
        Smallest and largest ``eps`` in the fit.
    uncertainty_exponent, uncertainty_exponent_err : float
        ``alpha`` and its error; ``uncertainty_dimension = 2 - alpha``.
    basin_entropy, boundary_basin_entropy : float
        ``S_b`` and ``S_bb`` for boxes of ``entropy_box`` pixels;
        ``boundary_boxes`` of ``entropy_boxes`` boxes hold more than one class.
    n_classes : int
        Classes present in the raster.
    ln2_criterion : bool
        ``S_bb > ln 2`` (sufficient for a fractal boundary).
    fractality_test : str
        ``"fractal"``, ``"smooth"`` or ``"undetermined"`` (too few boundary balls).
    fractality_sbb, fractality_sigma : float
        Ball estimate of ``S_bb`` and its standard error.
    fractality_radius, fractality_balls : int
        Ball radius (pixels) and boundary balls used.
    fractality_interval : (float, float)
        The interval of ``S_bb`` values counted as smooth.
    """

    shape: tuple[int, int]
    pixel: tuple[float, float] | None
    split: str
    classes: str
    fraction: float
    box_sizes: np.ndarray
    box_counts: np.ndarray
    local_slopes: np.ndarray
    box_fit: tuple[int, int]
    box_dimension: float
    box_dimension_err: float
    box_dimension_stderr: float
    eps: np.ndarray
    uncertain_fraction: np.ndarray
    uncertainty_fit: tuple[int, int]
    uncertainty_exponent: float
    uncertainty_exponent_err: float
    basin_entropy: float
    boundary_basin_entropy: float
    entropy_box: int
    boundary_boxes: int
    entropy_boxes: int
    n_classes: int
    fractality_test: str
    fractality_sbb: float
    fractality_sigma: float
    fractality_radius: int
    fractality_balls: int
    fractality_interval: tuple[float, float]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def uncertainty_dimension(self) -> float:
        """``D = 2 - alpha``, the boundary dimension implied by the uncertainty exponent."""
        return 2.0 - self.uncertainty_exponent

    @property
    def ln2_criterion(self) -> bool:
        """``S_bb > ln 2``: a sufficient (not necessary) condition for a fractal boundary."""
        return bool(self.boundary_basin_entropy > math.log(2.0))

    def fit_slopes(self) -> np.ndarray:
        """Local slopes between consecutive box sides that both lie in the fit range."""
        lo, hi = self.box_fit
        s = self.box_sizes
        inside = (s[:-1] >= lo) & (s[1:] <= hi)
        return self.local_slopes[inside]

    def warnings(self) -> list[str]:
        """Sentences saying where one number would mislead (empty when the fits are clean).

        * The box-counting dimension and ``2 - alpha`` of the uncertainty
          exponent differ by more than :data:`DISAGREE_FACTOR` times the sum
          of their errors: the two methods (which weigh the scales
          differently) see different dimensions, so neither is the
          boundary's dimension at these scales.
        * The local slopes inside the fit range spread by more than
          :data:`DRIFT_TOL`: ``ln N`` against ``ln(1/eps)`` is curved, not
          one power law, and the fitted slope is an average over scales.
        """
        out = []
        d1, e1 = self.box_dimension, self.box_dimension_err
        d2, e2 = self.uncertainty_dimension, self.uncertainty_exponent_err
        if np.isfinite(d1) and np.isfinite(d2):
            margin = (e1 if np.isfinite(e1) else 0.0) + (e2 if np.isfinite(e2) else 0.0)
            if abs(d1 - d2) > DISAGREE_FACTOR * margin:
                out.append(f"box counting gives D = {d1:.3f} +- {_fmt(e1)} but the uncertainty "
                           f"exponent gives D = {d2:.3f} +- {_fmt(e2)}: they disagree beyond "
                           "their errors, so the boundary does not follow one power law at "
                           "these scales (try --fit, a finer grid, or a zoom)")
        slopes = self.fit_slopes()
        slopes = slopes[np.isfinite(slopes)]
        if slopes.size >= 2 and slopes.max() - slopes.min() > DRIFT_TOL:
            out.append(f"the local slopes drift from {slopes[0]:.2f} to {slopes[-1]:.2f} "
                       f"across the fit range (boxes {self.box_fit[0]}..{self.box_fit[1]} px, "
                       f"spread {slopes.max() - slopes.min():.2f}): not one power law; "
                       f"D_box = {d1:.3f} is an average over these scales")
        return out

    @property
    def verdict(self) -> str:
        """The fractality test's answer, qualified where the :meth:`warnings` disagree.

        The test (Puy et al. 2021) looks at balls of one radius; the warnings
        look across scales. "fractal" with a warning that the boundary follows
        no single power law would read as a clean verdict, so it says both.
        """
        if self.fractality_test == "fractal" and self.warnings():
            return ("fractal at the test's scale, but not one power law across scales "
                    "(see the warnings)")
        return self.fractality_test

    def ln2_note(self) -> str:
        """The ``S_bb > ln 2`` criterion, with what its answer means here."""
        sbb = _fmt(self.boundary_basin_entropy)
        if self.ln2_criterion:
            return (f"S_bb = {sbb} > ln 2 = 0.693: fractal by the ln 2 criterion "
                    "(a sufficient condition)")
        if self.n_classes <= 2:
            return (f"S_bb = {sbb} <= ln 2: says nothing here, since with two classes S_bb "
                    "can never exceed ln 2 (the criterion is sufficient, not necessary; "
                    "--classes outcome or status uses more)")
        return (f"S_bb = {sbb} <= ln 2: inconclusive (the criterion is sufficient, not "
                "necessary)")

    def report(self) -> str:
        """The scales table, the entropy criteria and the warnings (``eosfast fractal``'s text)."""
        lines = [f"{'box px':>8} {'N(box)':>10} {'slope':>7}   {'eps px':>6} {'f(eps)':>10}"]
        slopes = list(self.local_slopes) + [float("nan")]
        rows = max(self.box_sizes.size, self.eps.size)
        lo, hi = self.box_fit
        for i in range(rows):
            left = (f"{self.box_sizes[i]:>8d} {self.box_counts[i]:>10d} {slopes[i]:>7.3f}"
                    + (" *" if lo <= self.box_sizes[i] <= hi else "  ")
                    if i < self.box_sizes.size else " " * 29)
            right = (f" {self.eps[i]:>6d} {self.uncertain_fraction[i]:>10.3g}"
                     if i < self.eps.size else "")
            lines.append((left + right).rstrip())
        lines.append("(* = in the fit; slope = local slope to the next box size)")
        lines += [f"warning: {w}" for w in self.warnings()]
        lines.append(f"fractality test (Puy et al. 2021, {self.n_classes} classes): "
                     f"{self.verdict}; S_bb = {_fmt(self.fractality_sbb)} +- "
                     f"{_fmt(self.fractality_sigma)} from {self.fractality_balls} balls of "
                     f"radius {self.fractality_radius} px (smooth: "
                     f"{_fmt(self.fractality_interval[0])}..{_fmt(self.fractality_interval[1])})")
        if self.ln2_criterion:  # below ln 2 it says nothing (it is only sufficient)
            lines.append(f"ln 2 criterion (boxes of {self.entropy_box} px): {self.ln2_note()}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes ``None``, arrays become lists)."""
        out: dict[str, Any] = {
            **self.meta,
            "shape": list(self.shape),
            "pixel": None if self.pixel is None else list(self.pixel),
            "split": self.split,
            "classes": self.classes,
            "fraction": self.fraction,
            "box_dimension": self.box_dimension,
            "box_dimension_err": self.box_dimension_err,
            "box_dimension_stderr": self.box_dimension_stderr,
            "box_fit": list(self.box_fit),
            "box_sizes": self.box_sizes.tolist(),
            "box_counts": self.box_counts.tolist(),
            "local_slopes": self.local_slopes.tolist(),
            "uncertainty_exponent": self.uncertainty_exponent,
            "uncertainty_exponent_err": self.uncertainty_exponent_err,
            "uncertainty_dimension": self.uncertainty_dimension,
            "uncertainty_fit": list(self.uncertainty_fit),
            "eps": self.eps.tolist(),
            "uncertain_fraction": self.uncertain_fraction.tolist(),
            "basin_entropy": self.basin_entropy,
            "boundary_basin_entropy": self.boundary_basin_entropy,
            "entropy_box": self.entropy_box,
            "boundary_boxes": self.boundary_boxes,
            "entropy_boxes": self.entropy_boxes,
            "n_classes": self.n_classes,
            "ln2_criterion": self.ln2_criterion,
            "fractality_test": self.fractality_test,
            "verdict": self.verdict,
            "fractality_sbb": self.fractality_sbb,
            "fractality_sigma": self.fractality_sigma,
            "fractality_radius": self.fractality_radius,
            "fractality_balls": self.fractality_balls,
            "fractality_interval": list(self.fractality_interval),
            "ln2_note": self.ln2_note(),
            "warnings": self.warnings(),
        }
        if self.pixel is not None:
            h = math.sqrt(self.pixel[0] * self.pixel[1])
            out["box_fit_data"] = [self.box_fit[0] * h, self.box_fit[1] * h]
        return _jsonable(out)

    def summary(self) -> str:
        """One line: dimension, uncertainty exponent, entropies, test verdict."""
        return (f"D_box = {_fmt(self.box_dimension)} +- {_fmt(self.box_dimension_err)} "
                f"(boxes {self.box_fit[0]}..{self.box_fit[1]} px), "
                f"alpha = {_fmt(self.uncertainty_exponent)} "
                f"(D = {_fmt(self.uncertainty_dimension)}), "
                f"S_b = {_fmt(self.basin_entropy)}, S_bb = {_fmt(self.boundary_basin_entropy)} "
                f"(box {self.entropy_box} px), fractality test: {self.verdict}")


def _fmt(v: float) -> str:
    return "nan" if not np.isfinite(v) else f"{v:.3f}"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ----------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------


def boundary_mask(raster: np.ndarray, split: str = "diverged") -> np.ndarray:
    """The two sides of the measured boundary.

    Parameters
    ----------
    raster : ndarray, shape (ny, nx), bool or integer
        A boolean raster is returned as is; an integer one holds status codes.
    split : {"diverged", "converged"}
        ``status == -1`` or ``status == 1`` is the ``True`` side.

    Returns
    -------
    ndarray, bool, shape (ny, nx)
    """
    raster = _as_raster(raster)
    if raster.dtype == np.bool_:
        return raster
    if split not in SPLITS:
        raise EosfastError(f"split must be one of {', '.join(SPLITS)}, not {show(split)}")
    return raster == (Status.DIVERGED if split == "diverged" else Status.CONVERGED)


def class_labels(raster: np.ndarray, classes: str = "split",
                 split: str = "diverged") -> tuple[np.ndarray, int]:
    """Class labels for the basin entropy.

    Parameters
    ----------
    raster : ndarray, shape (ny, nx), bool or integer status codes
    classes : {"split", "outcome", "status"}
        ``split``: the two sides of ``split``; ``outcome``: converged / bounded
        (periodic or unresolved) / diverged; ``status``: every code apart.
        Ignored for a boolean raster (two classes).

    Returns
    -------
    labels : ndarray, int8, shape (ny, nx)
        Values ``0 .. n - 1``.
    n : int
        Number of distinct labels that occur.
    """
    raster = _as_raster(raster)
    if raster.dtype == np.bool_ or classes == "split":
        mask = boundary_mask(raster, split)
        if mask.all() or not mask.any():
            return np.zeros(mask.shape, np.int8), 1
        return mask.view(np.int8), 2  # the two sides, already 0 and 1
    if classes == "outcome":
        lab = np.where(raster == Status.CONVERGED, 0,
                       np.where(raster == Status.DIVERGED, 2, 1)).astype(np.int8)
    elif classes == "status":
        lab = raster.astype(np.int64)
    else:
        raise EosfastError(f"classes must be one of {', '.join(CLASSES)}, not {show(classes)}")
    lo, hi = int(lab.min()), int(lab.max())
    if hi - lo < 1 << 16:  # a lookup table: O(n), where np.unique would sort
        flat = (lab.reshape(-1) - lo).astype(np.intp, copy=False)
        present = np.bincount(flat, minlength=hi - lo + 1) > 0
        lut = (np.cumsum(present) - 1).astype(np.int8)
        return lut[flat].reshape(raster.shape), int(present.sum())
    values, inverse = np.unique(lab, return_inverse=True)
    return inverse.reshape(raster.shape).astype(np.int8), int(values.size)


def _as_raster(raster: np.ndarray) -> np.ndarray:
    raster = np.asarray(raster)
    if raster.ndim == 3 and raster.shape[0] == 1:
        raster = raster[0]
    if raster.ndim != 2:
        raise EosfastError(f"need a 2-D raster (one eta slice), got shape {raster.shape}")
    if min(raster.shape) < 8:
        raise EosfastError(f"raster {raster.shape} is too small to measure (need >= 8 x 8)")
    if raster.dtype != np.bool_ and not np.issubdtype(raster.dtype, np.integer):
        raise EosfastError(f"need a boolean or integer (status) raster, got {raster.dtype}")
    return raster


# ----------------------------------------------------------------------------
# line fits
# ----------------------------------------------------------------------------


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y on x and its standard error (NaN if < 3 points)."""
    n = x.size
    if n < 2:
        return math.nan, math.nan
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum() / sxx)
    if n < 3:
        return slope, math.nan
    resid = y - ym - slope * (x - xm)
    return slope, math.sqrt(float((resid**2).sum()) / (n - 2) / sxx)


def fit_with_error(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope over all points, its error and its standard error.

    The error is ``max(stderr, (max - min) / 2)`` of the slopes fitted on every
    run of ``max(3, ceil(n / 2))`` consecutive points.

    Parameters
    ----------
    x, y : ndarray, float64, shape (n,)

    Returns
    -------
    slope, err, stderr : float
    """
    slope, stderr = _fit(x, y)
    n = x.size
    m = max(3, -(-n // 2))
    if n <= m:
        return slope, stderr, stderr
    subs = [_fit(x[i:i + m], y[i:i + m])[0] for i in range(n - m + 1)]
    spread = (max(subs) - min(subs)) / 2.0
    err = max(spread, stderr) if np.isfinite(stderr) else spread
    return slope, err, stderr


def default_fit(shape: tuple[int, int]) -> tuple[int, int]:
    """Default box-side range ``(lo, hi)`` in pixels of the dimension fit.

    ``hi`` is :func:`default_max_scale`; ``lo`` is 4 when that leaves at least
    four scales (``hi >= 32``), else 2. Boxes of 1 and 2 pixel spacings see a
    point-sampled fractal too coarsely: on a Sierpinski carpet sampled at
    512..4096 points per axis the local slopes there are 1.33-1.65 and
    1.78-1.83 against the true 1.893, while from 4 up they are within 0.05.
    """
    hi = default_max_scale(shape)
    return (4 if hi >= 32 else 2), hi


def default_max_scale(shape: tuple[int, int]) -> int:
    """Largest power of two ``s`` with at least :data:`MIN_BOXES` boxes along the shorter side."""
    return 1 << max(1, int(math.floor(math.log2(min(shape) / MIN_BOXES))))


# ----------------------------------------------------------------------------
# box counting
# ----------------------------------------------------------------------------


def box_counts(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed boxes of side ``2**j`` pixel spacings holding both sides of the boundary.

    The raster is a set of point samples. A box of side ``s`` (in sample
    spacings) is a closed square holding ``(s + 1) x (s + 1)`` samples;
    neighbouring boxes share the samples on their common edge, so every
    crossing of the boundary between two adjacent samples lies in some box.

    Parameters
    ----------
    mask : ndarray, bool, shape (ny, nx)

    Returns
    -------
    sizes : ndarray, int64, shape (m,)
        ``1, 2, 4, ...`` up to the first size covering the raster in one box.
    counts : ndarray, int64, shape (m,)
        ``N(s)``; boxes cut by the right and bottom edges count (their missing
        samples are neutral).

    Notes
    -----
    The unit boxes are the ``(ny - 1) x (nx - 1)`` squares of 2 x 2 samples;
    each larger size is a 2 x 2 OR / AND reduction of the one below, so the
    whole pyramid costs O(ny nx).
    """
    m = np.ascontiguousarray(mask, dtype=np.bool_)
    any_ = m[:-1, :-1] | m[1:, :-1] | m[:-1, 1:] | m[1:, 1:]
    all_ = m[:-1, :-1] & m[1:, :-1] & m[:-1, 1:] & m[1:, 1:]
    sizes, counts = [1], [int(np.count_nonzero(any_ & ~all_))]
    s, top = 1, max(any_.shape)
    while s < top:
        h, w = any_.shape
        if h % 2 or w % 2:  # pad with the neutral elements of OR and AND
            any_ = np.pad(any_, ((0, h % 2), (0, w % 2)), constant_values=False)
            all_ = np.pad(all_, ((0, h % 2), (0, w % 2)), constant_values=True)
        any_ = any_[0::2, 0::2] | any_[1::2, 0::2] | any_[0::2, 1::2] | any_[1::2, 1::2]
        all_ = all_[0::2, 0::2] & all_[1::2, 0::2] & all_[0::2, 1::2] & all_[1::2, 1::2]
        s *= 2
        sizes.append(s)
        counts.append(int(np.count_nonzero(any_ & ~all_)))
    return np.array(sizes, dtype=np.int64), np.array(counts, dtype=np.int64)


@dataclass(frozen=True)
class BoxDimension:
    """What :func:`box_dimension` measures (see it for the definitions)."""

    dimension: float
    err: float
    stderr: float
    fit: tuple[int, int]
    sizes: np.ndarray
    counts: np.ndarray


def box_dimension(mask: np.ndarray, fit: tuple[int, int] | None = None) -> BoxDimension:
    """Box-counting dimension of the boundary of ``mask``.

    Parameters
    ----------
    mask : ndarray, bool, shape (ny, nx)
    fit : (int, int), optional
        Smallest and largest box side in pixels to fit (powers of two);
        default :func:`default_fit`.

    Returns
    -------
    BoxDimension
        ``dimension, err, stderr``: slope of ``ln N`` against ``ln(1/s)``, its
        error, its standard error (NaN when fewer than 2 scales with ``N > 0``
        are in range); ``fit``: the range used; ``sizes, counts`` (int64):
        from :func:`box_counts`.
    """
    sizes, counts = box_counts(mask)
    lo, hi = fit if fit is not None else default_fit(mask.shape)
    _check_fit(lo, hi)
    sel = (sizes >= lo) & (sizes <= hi) & (counts > 0)
    d, err, se = fit_with_error(-np.log(sizes[sel].astype(float)), np.log(counts[sel]))
    return BoxDimension(d, err, se, (int(lo), int(hi)), sizes, counts)


def _int_pair(name: str, value: Any) -> tuple[int, int]:
    """Two integers (a fit range in pixels)."""
    lo, hi = validate.pair(name, value, ordered=False)
    return validate.integer(name, lo, lo=None), validate.integer(name, hi, lo=None)


def _check_fit(lo: int, hi: int, name: str = "fit") -> None:
    if not (1 <= lo < hi):
        raise InvalidArgument(f"{{{name}}} must satisfy 1 <= LO < HI pixels, got {lo} {hi}",
                              name)


def local_slopes(sizes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Slopes of ``ln N`` against ``ln(1/s)`` between consecutive scales, shape (m - 1,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = np.where(counts > 0, np.log(np.maximum(counts, 1)), np.nan)
        return -np.diff(ln) / np.diff(np.log(sizes.astype(float)))


# ----------------------------------------------------------------------------
# uncertainty exponent
# ----------------------------------------------------------------------------


def uncertain_fraction(mask: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Fraction of ``eps``-uncertain pixels.

    Parameters
    ----------
    mask : ndarray, bool, shape (ny, nx)
    eps : ndarray, int, shape (k,)
        Perturbations in pixels, each ``< min(ny, nx) / 2``.

    Returns
    -------
    ndarray, float64, shape (k,)
        For each ``eps``: the fraction of pixels whose value differs from one of
        its four neighbours ``eps`` away along the axes, counted over the same
        pixels for every ``eps`` (those at least ``max(eps)`` from every edge).
    """
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    ny, nx = mask.shape
    eps = np.asarray(eps, dtype=np.int64)
    b = int(eps.max())
    if eps.min() < 1 or 2 * b >= min(ny, nx):
        raise EosfastError(f"eps from 1 to {(min(ny, nx) - 1) // 2} px fit a {ny} x {nx} "
                           f"raster, got {eps.tolist()}")
    c = mask[b:ny - b, b:nx - b]
    out = np.empty(eps.size)
    for i, e in enumerate(eps.tolist()):
        u = c != mask[b - e:ny - b - e, b:nx - b]
        u |= c != mask[b + e:ny - b + e, b:nx - b]
        u |= c != mask[b:ny - b, b - e:nx - b - e]
        u |= c != mask[b:ny - b, b + e:nx - b + e]
        out[i] = np.count_nonzero(u) / u.size
    return out


@dataclass(frozen=True)
class Uncertainty:
    """What :func:`uncertainty_exponent` measures."""

    alpha: float
    err: float
    fit: tuple[int, int]
    eps: np.ndarray
    fraction: np.ndarray


def uncertainty_exponent(mask: np.ndarray, fit: tuple[int, int] | None = None) -> Uncertainty:
    """Uncertainty exponent ``alpha`` of the boundary of ``mask``.

    Parameters
    ----------
    mask : ndarray, bool, shape (ny, nx)
    fit : (int, int), optional
        Smallest and largest ``eps`` (pixels, powers of two); default
        ``(1, default_max_scale(shape))``.

    Returns
    -------
    Uncertainty
        ``alpha, err``: slope of ``ln f`` against ``ln eps`` and its error (see
        :func:`fit_with_error`; ``D = 2 - alpha``); ``fit``; ``eps`` (int64,
        (k,)) and ``fraction`` (float64, (k,)).
    """
    lo, hi = fit if fit is not None else (1, default_max_scale(mask.shape))
    _check_fit(lo, hi, "uncertainty_fit")
    top = min(hi, (min(mask.shape) - 1) // 2)
    eps = 1 << np.arange(0, max(1, int(math.floor(math.log2(max(top, 1)))) + 1))
    eps = eps[eps >= lo].astype(np.int64)
    f = uncertain_fraction(mask, eps)
    sel = f > 0
    alpha, err, _ = fit_with_error(np.log(eps[sel].astype(float)), np.log(f[sel]))
    return Uncertainty(alpha, err, (int(lo), int(hi)), eps, f)


# ----------------------------------------------------------------------------
# basin entropy
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BasinEntropy:
    """What :func:`basin_entropy` measures."""

    s_b: float
    s_bb: float
    boundary_boxes: int
    boxes: int


def basin_entropy(labels: np.ndarray, box: int = 5, n_classes: int | None = None
                  ) -> BasinEntropy:
    """Basin entropy and boundary basin entropy (Daza et al. 2016).

    Parameters
    ----------
    labels : ndarray, integer, shape (ny, nx)
        Class labels ``0 .. n_classes - 1`` (see :func:`class_labels`).
    box : int
        Box side in pixels; boxes cut by the far edges are dropped.

    Returns
    -------
    BasinEntropy
        ``s_b, s_bb``: mean entropy (natural log) over all boxes, and over the
        boxes holding more than one class (NaN if there are none);
        ``boundary_boxes`` of ``boxes``.
    """
    labels = np.asarray(labels)
    ny, nx = labels.shape
    if not 1 <= box <= min(ny, nx):
        raise InvalidArgument(f"{{box}} {box} px does not fit a {ny} x {nx} raster", "box")
    by, bx = ny // box, nx // box
    lab = labels[:by * box, :bx * box].reshape(by, box, bx, box)
    k = int(labels.max()) + 1 if n_classes is None else n_classes
    area = float(box * box)
    ent = np.zeros((by, bx))
    kinds = np.zeros((by, bx), dtype=np.int64)
    for c in range(k):  # a handful of classes, each one vectorised pass
        p = np.count_nonzero(lab == c, axis=(1, 3)) / area
        nz = p > 0
        ent[nz] -= p[nz] * np.log(p[nz])
        kinds += nz
    n_boxes = by * bx
    bnd = kinds > 1
    n_b = int(np.count_nonzero(bnd))
    s_b = float(ent.sum() / n_boxes)
    s_bb = float(ent[bnd].sum() / n_b) if n_b else math.nan
    return BasinEntropy(s_b, s_bb, n_b, n_boxes)


def ball_entropies(labels: np.ndarray, n_classes: int, cy: np.ndarray, cx: np.ndarray,
                   dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Entropy of the class histogram in the ball of offsets ``(dy, dx)`` at each centre.

    Parameters
    ----------
    labels : ndarray, int8, shape (ny, nx)
        Class labels ``0 .. n_classes - 1``.
    cy, cx : ndarray, int64, shape (m,)
        Ball centres (every ball lies inside the raster).
    dy, dx : ndarray, int64, shape (a,)
        Offsets of the ball's pixels.

    Returns
    -------
    ndarray, float64, shape (m,)
        ``-sum_k p_k ln p_k`` (nats) per ball.
    """
    # one gather of every ball's pixels, (m, a) int8: a few MB per batch, and
    # no compiled kernel (`eosfast fractal` then starts without Numba)
    ball = labels[cy[:, None] + dy[None, :], cx[:, None] + dx[None, :]]
    h = np.zeros(cy.size)
    for c in range(n_classes):
        p = np.count_nonzero(ball == c, axis=1) / dy.size
        nz = p > 0
        h[nz] -= p[nz] * np.log(p[nz])
    return h


@dataclass(frozen=True)
class FractalityTest:
    """What :func:`fractality_test` finds."""

    verdict: str
    sbb: float
    sigma: float
    balls: int
    interval: tuple[float, float]


def fractality_test(labels: np.ndarray, radius: int = 20, n: int = 1000, *, z: float = 1.0,
                    seed: int = 0, n_classes: int | None = None) -> FractalityTest:
    """The ``S_bb`` fractality test of Puy et al. (2021).

    Parameters
    ----------
    labels : ndarray, integer, shape (ny, nx)
        Class labels ``0 .. n_classes - 1``.
    radius : int
        Ball radius ``r`` in pixels (pixels with ``dx**2 + dy**2 <= r**2``).
    n : int
        Boundary balls to gather (centres drawn uniformly, balls fully inside).
    z : float
        Width of the smooth interval in standard errors.
    seed : int
        Seed of the centre sampler (the result is deterministic).

    Returns
    -------
    FractalityTest
        ``verdict``: ``"fractal"``, ``"smooth"``, or ``"undetermined"`` when
        fewer than 100 boundary balls were found in ``200 n`` draws; ``sbb``,
        ``sigma``: estimated ``S_bb`` and its standard error; ``balls`` used;
        ``interval``: the ``S_bb`` values counted as smooth.
    """
    labels = np.ascontiguousarray(labels, dtype=np.int8)
    ny, nx = labels.shape
    if radius < 1 or 2 * radius + 1 > min(ny, nx):
        raise InvalidArgument(f"{{radius}} {radius} px does not fit a {ny} x {nx} raster "
                              f"(1 to {(min(ny, nx) - 1) // 2})", "radius")
    k = int(labels.max()) + 1 if n_classes is None else n_classes
    oy, ox = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    inside = oy**2 + ox**2 <= radius**2
    dy, dx = oy[inside].astype(np.int64), ox[inside].astype(np.int64)
    rng = np.random.default_rng(seed)
    # A ball holding two classes holds two 4-neighbours of different classes,
    # so its bounding square holds an "edge" pixel (one that differs from its
    # right or lower neighbour). Only balls whose square meets a block of
    # EDGE_BLOCK^2 pixels with an edge need their pixels gathered; the rest
    # hold one class (entropy 0), whatever the gather would have said.
    edge = np.zeros(labels.shape, dtype=bool)
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
    s = EDGE_BLOCK
    by, bx = -(-ny // s), -(-nx // s)
    padded = np.zeros((by * s, bx * s), dtype=bool)
    padded[:ny, :nx] = edge
    blocks = padded.reshape(by, s, bx, s).any(axis=(1, 3))
    table = np.pad(blocks.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    found: list[np.ndarray] = []
    got, drawn, batch = 0, 0, max(4 * n, 4096)
    while got < n and drawn < 200 * n:
        cy = rng.integers(radius, ny - radius, batch)
        cx = rng.integers(radius, nx - radius, batch)
        y0, y1 = (cy - radius) // s, (cy + radius) // s + 1
        x0, x1 = (cx - radius) // s, (cx + radius) // s + 1
        mixed = (table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]) > 0
        h = np.zeros(batch)
        h[mixed] = ball_entropies(labels, k, cy[mixed], cx[mixed], dy, dx)
        h = h[h > 0]
        found.append(h)
        got += h.size
        drawn += batch
    h = np.concatenate(found)[:n] if found else np.empty(0)
    bias = BIAS_COEF * radius**BIAS_EXP
    if h.size < 2:
        return FractalityTest("undetermined", float(h.mean()) if h.size else math.nan,
                              math.nan, int(h.size), (math.nan, math.nan))
    sbb = float(h.mean())
    sigma = float(h.std(ddof=1) / math.sqrt(h.size))
    interval = (SMOOTH_SBB_2D - z * sigma, SMOOTH_SBB_2D + z * sigma + bias)
    if h.size < 100:
        verdict = "undetermined"
    else:
        verdict = "smooth" if interval[0] <= sbb <= interval[1] else "fractal"
    return FractalityTest(verdict, sbb, sigma, int(h.size), interval)


# ----------------------------------------------------------------------------
# the whole analysis
# ----------------------------------------------------------------------------


def analyze(data: Any, *, eta: float | None = None, split: str = "diverged",
            classes: str = "split", fit: tuple[int, int] | None = None,
            uncertainty_fit: tuple[int, int] | None = None, entropy_box: int = 5,
            radius: int | None = None, balls: int = 1000, seed: int = 0,
            pixel: tuple[float, float] | None = None) -> FractalResult:
    """Measure the fractality of a basin boundary.

    Parameters
    ----------
    data : ndarray or GridResult
        A 2-D raster, shape (ny, nx): boolean (the two sides) or int status
        codes; or a :class:`~eosfast.GridResult` (its ``status`` slice at
        ``eta``; the pixel spacing is taken from its axes).
    eta : float, optional
        Slice of a GridResult holding several step sizes.
    split : {"diverged", "converged"}
        The boundary measured (see the module docstring).
    classes : {"split", "outcome", "status"}
        The classes of the basin entropy and the fractality test.
    fit : (int, int), optional
        Box sides (pixels) of the dimension fit; default :func:`default_fit`.
    uncertainty_fit : (int, int), optional
        ``eps`` range (pixels); default ``1 .. s_max``.
    entropy_box : int
        Box side (pixels) of the basin entropy.
    radius : int, optional
        Ball radius (pixels) of the fractality test; default
        ``min(20, max(3, min(ny, nx) // 50))`` (Puy et al. use 20 and want the
        raster at least 50 radii wide).
    balls, seed : int
        Boundary balls to gather and the sampler's seed.
    pixel : (float, float), optional
        ``(dx, dy)`` in data units, for a raw array.

    Returns
    -------
    FractalResult
    """
    split = validate.choice("split", split, SPLITS)
    classes = validate.choice("classes", classes, CLASSES)
    fit = None if fit is None else _int_pair("fit", fit)
    uncertainty_fit = None if uncertainty_fit is None else _int_pair("uncertainty_fit",
                                                                     uncertainty_fit)
    entropy_box = validate.integer("entropy_box", entropy_box)
    radius = None if radius is None else validate.integer("radius", radius)
    balls = validate.integer("balls", balls)
    seed = validate.integer("seed", seed, lo=0)
    eta = None if eta is None else validate.real("eta", eta, positive=True)
    if pixel is not None:
        dx, dy = validate.pair("pixel", pixel, ordered=False)
        if not (dx > 0 and dy > 0):
            raise validate.InvalidArgument("{pixel} must be two positive spacings, got "
                                           f"{show(pixel)}", "pixel")
        pixel = (dx, dy)
    if data is None or isinstance(data, str | bytes | os.PathLike):
        raise validate.InvalidArgument("{data} must be a raster (array) or a GridResult, got "
                                       f"{show(data)} (read a file with load_slice)", "data")
    meta: dict[str, Any] = {}
    if hasattr(data, "status") and hasattr(data, "x0"):
        status = np.asarray(data.status)
        idx = 0
        if status.ndim == 3:
            if eta is not None:
                idx = data.index(eta)
            elif status.shape[0] != 1:
                shown = ", ".join(repr(float(e)) for e in data.eta)
                raise EosfastError(f"the result holds {status.shape[0]} step sizes ({shown}); "
                                   "choose one eta")
            status = status[idx]
        if np.any(status == Status.PENDING):
            raise EosfastError("this slice is not fully computed yet (resume the grid first)")
        x0, y0 = np.asarray(data.x0), np.asarray(data.y0)
        if pixel is None and x0.size > 1 and y0.size > 1:
            pixel = (float(abs(x0[1] - x0[0])), float(abs(y0[1] - y0[0])))
        meta = {"model": data.model, "eta": float(np.asarray(data.eta).reshape(-1)[idx]),
                "x_range": [float(x0[0]), float(x0[-1])],
                "y_range": [float(y0[0]), float(y0[-1])]}
        raster = status
    else:
        raster = data
    raster = _as_raster(raster)
    is_bool = raster.dtype == np.bool_
    mask = boundary_mask(raster, split)
    labels, n_classes = class_labels(raster, classes, split)
    shape = (int(raster.shape[0]), int(raster.shape[1]))

    r = radius if radius is not None else min(20, max(3, min(shape) // 50))
    if not 1 <= entropy_box <= min(shape):
        raise InvalidArgument(f"{{entropy_box}} {entropy_box} px does not fit a {shape[0]} x "
                              f"{shape[1]} raster", "entropy_box")
    if 2 * r + 1 > min(shape):
        raise InvalidArgument(f"{{radius}} {r} px does not fit a {shape[0]} x {shape[1]} "
                              f"raster (1 to {(min(shape) - 1) // 2})", "radius")
    bd = box_dimension(mask, fit)
    un = uncertainty_exponent(mask, uncertainty_fit)
    be = basin_entropy(labels, entropy_box, n_classes)
    ft = fractality_test(labels, r, balls, seed=seed, n_classes=n_classes)
    return FractalResult(
        shape=shape, pixel=pixel, split="bool" if is_bool else split,
        classes="bool" if is_bool else classes, fraction=float(mask.mean()),
        box_sizes=bd.sizes, box_counts=bd.counts,
        local_slopes=local_slopes(bd.sizes, bd.counts), box_fit=bd.fit,
        box_dimension=bd.dimension, box_dimension_err=bd.err, box_dimension_stderr=bd.stderr,
        eps=un.eps, uncertain_fraction=un.fraction, uncertainty_fit=un.fit,
        uncertainty_exponent=un.alpha, uncertainty_exponent_err=un.err,
        basin_entropy=be.s_b, boundary_basin_entropy=be.s_bb, entropy_box=int(entropy_box),
        boundary_boxes=be.boundary_boxes, entropy_boxes=be.boxes, n_classes=n_classes,
        fractality_test=ft.verdict, fractality_sbb=ft.sbb, fractality_sigma=ft.sigma,
        fractality_radius=int(r), fractality_balls=ft.balls, fractality_interval=ft.interval,
        meta=meta)


def load_slice(path: Any, eta: float | None = None) -> Any:
    """Read one eta slice of a grid file.

    Parameters
    ----------
    path : path-like
        A file written by :func:`eosfast.grid`.
    eta : float, optional
        The step size; may be omitted when the file holds only one.

    Returns
    -------
    GridResult
        With ``n_eta == 1``.
    """
    from .readers import read_grid
    from .store.gridfile import open_grid

    if eta is None:
        with open_grid(path) as f:
            etas = f["eta"][:]
        if etas.size != 1:
            raise InvalidArgument(f"{path} holds {etas.size} step sizes "
                                  f"({', '.join(repr(float(e)) for e in etas)}); choose one with "
                                  "{eta}", "eta")
        eta = float(etas[0])
    return read_grid(path, eta=eta, fields=["status"])


# ----------------------------------------------------------------------------
# refined maps
# ----------------------------------------------------------------------------

#: Entropies and the fractality test of a refined map are measured on the
#: raster of its deepest level with at most this many points per axis.
ENTROPY_POINTS = 4097


def analyze_refined(refined: Any, *, split: str = "diverged", classes: str = "split",
                    fit: tuple[int, int] | None = None,
                    uncertainty_fit: tuple[int, int] | None = None, entropy_box: int = 5,
                    radius: int | None = None, balls: int = 1000, seed: int = 0,
                    entropy_points: int = ENTROPY_POINTS) -> FractalResult:
    """Measure a refined basin map (:func:`eosfast.refine`) over every octave it resolves.

    Box counting and the uncertainty exponent come from the levels without
    drawing the finest raster (:meth:`eosfast.refine.RefinedLattice.box_counts`,
    :meth:`~eosfast.refine.RefinedLattice.uncertain_fractions`); sizes and
    ``eps`` are in spacings of the finest lattice, from one spacing up to the
    whole window, so a map refined from base 1025 by 4 levels gives the local
    slope of 14 octaves. ``box_counts`` equals :func:`box_counts` of the
    finest raster exactly. The uncertain fraction at ``eps = 2**j`` spacings
    scores the points of the lattice of that spacing (every ``2**j``-th
    point along each axis) that :func:`uncertainty_exponent` would score on
    the finest raster (those at least the largest fitted ``eps`` from every
    edge): a regular sample of the same fraction. Basin
    entropy, boundary basin entropy and the fractality test are measured on
    the raster of the deepest level with at most ``entropy_points`` points per
    axis (``meta["entropy_level"]``), as :func:`analyze` does on a grid.

    Parameters
    ----------
    refined : RefinedResult
        From :func:`eosfast.read_refined` or :func:`eosfast.refine`.
    split, classes, fit, uncertainty_fit, entropy_box, radius, balls, seed
        As for :func:`analyze`; ``fit`` and ``uncertainty_fit`` in finest spacings
        (default as :func:`analyze` would choose for the finest raster).

    Returns
    -------
    FractalResult
        ``shape`` and ``pixel`` those of the finest lattice.
    """
    from .refine import lattice_points, split_function

    if split not in SPLITS:
        raise EosfastError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if classes not in CLASSES:
        raise EosfastError(f"classes must be one of {', '.join(CLASSES)}, not {classes!r}")
    side = split_function(split)
    lat, spec = refined.lattice, refined.spec
    shape = lat.shape(lat.levels)
    mixed, finest = lat._level_boundary(lat.levels, side)  # one pass for both measures
    sizes, counts = lat.box_counts(side, mixed)
    lo, hi = fit if fit is not None else default_fit(shape)
    _check_fit(lo, hi)
    sel = (sizes >= lo) & (sizes <= hi) & (counts > 0)
    d, err, se = fit_with_error(-np.log(sizes[sel].astype(float)), np.log(counts[sel]))
    ulo, uhi = uncertainty_fit if uncertainty_fit is not None else \
        (1, default_max_scale(shape))
    _check_fit(ulo, uhi)
    # score the points :func:`uncertainty_exponent` scores: those at least the
    # largest fitted eps from every edge
    top = min(uhi, (min(shape) - 1) // 2)
    border = 1 << max(0, int(math.floor(math.log2(max(top, 1)))))
    eps, frac = lat.uncertain_fractions(side, side(np.asarray(refined.base_grid.status)[0]),
                                        border, finest)
    del mixed, finest
    usel = (eps >= ulo) & (eps <= uhi) & (frac > 0)
    alpha, alpha_err, _ = fit_with_error(np.log(eps[usel].astype(float)), np.log(frac[usel]))
    level = max([k for k in range(lat.levels + 1)
                 if lattice_points(spec.base, k) <= entropy_points] or [0])
    dense = analyze(refined.raster(level).status[0], split=split, classes=classes,
                    entropy_box=entropy_box, radius=radius, balls=balls, seed=seed)
    pixel = ((spec.x_range[1] - spec.x_range[0]) / (shape[1] - 1),
             (spec.y_range[1] - spec.y_range[0]) / (shape[0] - 1))
    meta = {"model": spec.model, "eta": spec.eta, "x_range": list(spec.x_range),
            "y_range": list(spec.y_range), "refined": True, "base": spec.base,
            "levels": lat.levels, "points": int(lat.store.n),
            "entropy_level": level, "entropy_shape": list(dense.shape)}
    return FractalResult(
        shape=shape, pixel=pixel, split=split, classes=classes, fraction=dense.fraction,
        box_sizes=sizes, box_counts=counts, local_slopes=local_slopes(sizes, counts),
        box_fit=(int(lo), int(hi)), box_dimension=d, box_dimension_err=err,
        box_dimension_stderr=se, eps=eps, uncertain_fraction=frac,
        uncertainty_fit=(int(ulo), int(uhi)), uncertainty_exponent=alpha,
        uncertainty_exponent_err=alpha_err, basin_entropy=dense.basin_entropy,
        boundary_basin_entropy=dense.boundary_basin_entropy, entropy_box=dense.entropy_box,
        boundary_boxes=dense.boundary_boxes, entropy_boxes=dense.entropy_boxes,
        n_classes=dense.n_classes, fractality_test=dense.fractality_test,
        fractality_sbb=dense.fractality_sbb, fractality_sigma=dense.fractality_sigma,
        fractality_radius=dense.fractality_radius, fractality_balls=dense.fractality_balls,
        fractality_interval=dense.fractality_interval, meta=meta)


def analyze_file(path: Any, eta: float | None = None, **options: Any) -> FractalResult:
    """:func:`analyze` one eta slice of a grid file, or :func:`analyze_refined` a refined file.

    ``options`` are those of :func:`analyze`; ``eta`` must match a refined
    file's step size when given.
    """
    from .store.h5 import file_kind

    if file_kind(path) == "eosfast.refined":
        from .refine import read_refined

        refined = read_refined(path)
        if eta is not None and not np.isclose(eta, refined.spec.eta, rtol=1e-12, atol=0.0):
            raise EosfastError(f"{path} holds eta={float(refined.spec.eta)!r}, not {float(eta)!r}")
        return analyze_refined(refined, **options)
    return analyze(load_slice(path, eta), **options)
