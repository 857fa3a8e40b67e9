"""What :func:`eosfast.fractal.analyze` reports: :class:`FractalResult` and its thresholds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..result import Result

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
