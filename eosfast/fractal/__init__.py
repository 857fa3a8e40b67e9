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

from .analyze import ENTROPY_POINTS, analyze, analyze_file, analyze_refined, load_slice
from .measures import (
    BasinEntropy,
    BoxDimension,
    FractalityTest,
    Uncertainty,
    ball_entropies,
    basin_entropy,
    boundary_mask,
    box_counts,
    box_dimension,
    class_labels,
    default_fit,
    default_max_scale,
    fit_with_error,
    fractality_test,
    local_slopes,
    uncertain_fraction,
    uncertainty_exponent,
)
from .result import (
    BIAS_COEF,
    BIAS_EXP,
    DISAGREE_FACTOR,
    DRIFT_TOL,
    EDGE_BLOCK,
    MIN_BOXES,
    SMOOTH_SBB_2D,
    FractalResult,
)

__all__ = [
    "BIAS_COEF", "BIAS_EXP", "DISAGREE_FACTOR", "DRIFT_TOL", "EDGE_BLOCK", "ENTROPY_POINTS",
    "MIN_BOXES", "SMOOTH_SBB_2D", "BasinEntropy", "BoxDimension", "FractalResult",
    "FractalityTest", "Uncertainty", "analyze", "analyze_file", "analyze_refined",
    "ball_entropies", "basin_entropy", "boundary_mask", "box_counts", "box_dimension",
    "class_labels", "default_fit", "default_max_scale", "fit_with_error", "fractality_test",
    "load_slice", "local_slopes", "uncertain_fraction", "uncertainty_exponent",
]
