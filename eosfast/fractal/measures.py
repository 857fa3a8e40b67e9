"""The measures, on a raster: box counting, uncertainty exponent, basin entropy, fractality test."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import validate
from ..defaults import FRACTAL_CLASSES as CLASSES
from ..defaults import FRACTAL_SPLITS as SPLITS
from ..errors import EosfastError, InvalidArgument
from ..status import Status
from ..validate import show
from .result import (
    BIAS_COEF,
    BIAS_EXP,
    EDGE_BLOCK,
    MIN_BOXES,
    SMOOTH_SBB_2D,
)


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
