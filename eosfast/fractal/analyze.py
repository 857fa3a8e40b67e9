"""Measuring a grid slice, a refined map or a file: every measure, one result."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .. import validate
from ..defaults import FRACTAL_CLASSES as CLASSES
from ..defaults import FRACTAL_SPLITS as SPLITS
from ..errors import EosfastError, InvalidArgument
from ..status import Status
from ..validate import show
from .measures import (
    _as_raster,
    _check_fit,
    _int_pair,
    basin_entropy,
    boundary_mask,
    box_dimension,
    class_labels,
    default_fit,
    default_max_scale,
    fit_with_error,
    fractality_test,
    local_slopes,
    uncertainty_exponent,
)
from .result import (
    FractalResult,
)


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
    from ..readers import read_grid
    from ..store.gridfile import coords_of, open_grid

    if eta is None:
        with open_grid(path) as f:
            etas = coords_of(f)[0]
        if etas.size != 1:
            raise InvalidArgument(f"{path} holds {etas.size} step sizes "
                                  f"({', '.join(repr(float(e)) for e in etas)}); choose one with "
                                  "{eta}", "eta")
        eta = float(etas[0])
    return read_grid(path, eta=eta, fields=["status"])


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
    from ..refine import lattice_points, split_function

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
    from ..store.h5 import file_kind

    if file_kind(path) == "eosfast.refined":
        from ..refine import read_refined

        refined = read_refined(path)
        if eta is not None and not np.isclose(eta, refined.spec.eta, rtol=1e-12, atol=0.0):
            raise EosfastError(f"{path} holds eta={float(refined.spec.eta)!r}, not {float(eta)!r}")
        return analyze_refined(refined, **options)
    return analyze(load_slice(path, eta), **options)
