"""Nested grids toward a point: zooming into a basin boundary.

Level ``k`` (``k = 0 .. levels - 1``) is a ``res x res`` grid on the square
window of side ``width / magnification**k`` centred at ``center``, computed
in memory with :func:`eosfast.grid` and measured with
:func:`eosfast.fractal.analyze`. A self-similar boundary gives the same
dimension at every level; a smooth one gives 1 and, once the window is small
enough, a straight line.

The floor of a zoom is float64 itself: the initial points are
``linspace(lo, hi, res)``, and where the pixel spacing is only a few units in
the last place (ulp, ``numpy.spacing``) of the coordinates the grid points are
no longer evenly spaced, and at 1 ulp neighbours coincide. Each level records
``ulps_per_pixel = min(dx / spacing(max|x|), dy / spacing(max|y|))``; under
:data:`WARN_ULPS` a :class:`ZoomPrecisionWarning` is issued, and a zoom that
would go under :data:`MIN_ULPS` is refused before anything is computed.
(GD itself rounds by about an ulp per step, and a chaotic transient amplifies
that, so structure can be numerical well above this floor: compare levels.)

File layout (HDF5, root attribute ``kind = "eosfast.zoom"``): root attributes
``model``, ``eta``, ``center``, ``width``, ``magnification``, ``levels``,
``res``, ``steps``, ``tol``, ``escape``, ``eosfast_version``, ``created``,
``params`` (JSON); one group ``level_00``, ``level_01``, ... per level with
dimension scales ``eta`` (1,), ``y0`` (res,), ``x0`` (res,), arrays ``status``
(int8) and ``steps`` (int32) shaped ``(eta, y0, x0)`` as in a grid file, and
attributes ``index``, ``x_range``, ``y_range``, ``center``, ``zoom`` (total
magnification), ``pixel``, ``ulps_per_pixel``, ``box_dimension``,
``box_dimension_err``, ``uncertainty_exponent``, ``basin_entropy``,
``boundary_basin_entropy``, ``fractality_test`` and ``fractal`` (JSON of
everything :func:`eosfast.fractal.analyze` measured).

Resume: a tile of a level is the unit of work (:mod:`eosfast.store.zoomfile`).
A level is written tile by tile under a temporary group name and renamed
``level_NN`` once whole; ``resume=True`` (``--resume``) reads the whole
levels back, checks every chunk against its checksum, keeps those that pass,
continues a level stopped half-way from its saved tiles and computes the
rest, which gives the file an uninterrupted run writes.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import defaults, interrupts, validate
from .errors import EosfastError
from .fractal import FractalResult, analyze
from .optimizer import GD, OPTIMIZER_KEYS, Optimizer
from .progress import notifier
from .result import GridResult, Result, magnification_text, shortest
from .status import Status
from .stoprule import StopRule
from .store import zoomfile as zf
from .store.atomic import check_output
from .store.h5 import open_file, read_params
from .store.layouts import ZOOM, ZOOM_LEVEL_PREFIX
from .store.run import Run

if TYPE_CHECKING:  # pragma: no cover
    from .executors import Executor
    from .models import Model

#: Warn when a level's pixel spacing is under this many ulps of its coordinates.
WARN_ULPS = 1024.0
#: Refuse levels whose pixel spacing is under this many ulps (grid points
#: would no longer be distinct and evenly spaced).
MIN_ULPS = 4.0


class ZoomPrecisionWarning(UserWarning):
    """A zoom level's pixels are within a few bits of float64 resolution."""


class ZoomBoundaryWarning(UserWarning):
    """A zoom level holds no boundary: it lies inside one basin."""


@dataclass(repr=False)
class ZoomLevel(Result):
    """One level of a zoom.

    Attributes
    ----------
    index : int
    x_range, y_range : (float, float)
        The window (both ends are grid points).
    center : (float, float)
    zoom : float
        Total magnification ``magnification**index``.
    x0, y0 : ndarray, float64, shapes (res,), (res,)
    status : ndarray, int8, shape (res, res)
        Codes as in a grid file (1 converged, 2 periodic, 0 bounded, -1 diverged).
    steps : ndarray, int32, shape (res, res)
    ulps_per_pixel : float
        Pixel spacing in units of the float64 spacing at the window's corners.
    fractal : FractalResult
    """

    index: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    center: tuple[float, float]
    zoom: float
    x0: np.ndarray
    y0: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    ulps_per_pixel: float
    fractal: FractalResult

    def summary(self) -> str:
        """One line: window, diverged fraction, dimension."""
        f = self.fractal
        xr, yr = self.x_range, self.y_range
        return (f"level {self.index}: x [{shortest(xr[0])}, {shortest(xr[1])}] "
                f"y [{shortest(yr[0])}, {shortest(yr[1])}] (x{magnification_text(self.zoom)}), "
                f"diverged {100 * f.fraction:.1f}%, D_box = {_fmt(f.box_dimension)}"
                f"{_err(f.box_dimension, f.box_dimension_err)}, "
                f"{self.ulps_per_pixel:.3g} ulp/pixel")


@dataclass(repr=False)
class ZoomResult(Result):
    """All levels of a zoom, and where they were written."""

    model: str
    eta: float
    center: tuple[float, float]
    width: float
    magnification: float
    res: int
    levels: list[ZoomLevel]
    params: dict = field(default_factory=dict)
    path: Path | None = None
    images: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        """The one-line summary the command prints."""
        dims = ", ".join(_fmt(lv.fractal.box_dimension) for lv in self.levels)
        where = f"{self.path}: " if self.path else ""
        return (f"{where}{len(self.levels)} levels of {self.res}^2 toward "
                f"({shortest(self.center[0])}, {shortest(self.center[1])}), "
                f"x{magnification_text(self.magnification)} per "
                f"level; D_box per level: {dims}")


def _fmt(v: float) -> str:
    return "nan" if not np.isfinite(v) else f"{v:.3f}"


def _err(value: float, err: float) -> str:
    """`` +- err``, or why there is none (too few scales in the fit to estimate one)."""
    if not np.isfinite(value):
        return ""
    return f" +- {err:.3f}" if np.isfinite(err) else " (no error estimate: too few scales)"


# ----------------------------------------------------------------------------
# windows and the float64 floor
# ----------------------------------------------------------------------------


def window(center: Sequence[float], width: float, res: int
           ) -> tuple[tuple[float, float], tuple[float, float], float]:
    """The square window of side ``width`` at ``center`` and its ulps per pixel.

    Returns
    -------
    x_range, y_range : (float, float)
    ulps_per_pixel : float
        ``min(dx / spacing(max|x|), dy / spacing(max|y|))`` with ``dx = dy =
        width / (res - 1)`` (float64 spacing, ``numpy.spacing``).
    """
    cx, cy = float(center[0]), float(center[1])
    h = width / 2.0
    xr, yr = (cx - h, cx + h), (cy - h, cy + h)
    pixel = width / (res - 1)
    ulp = max(float(np.spacing(max(abs(xr[0]), abs(xr[1])))),
              float(np.spacing(max(abs(yr[0]), abs(yr[1])))))
    return xr, yr, pixel / ulp


def levels_that_fit(center: Sequence[float], width: float, magnification: float, res: int,
                    floor: float = MIN_ULPS) -> int:
    """How many levels keep the pixel spacing at or above ``floor`` ulps."""
    k, w = 0, float(width)
    while k < 2000 and w > 0.0 and window(center, w, res)[2] >= floor:
        k += 1
        w /= magnification
    return k


# ----------------------------------------------------------------------------
# the zoom
# ----------------------------------------------------------------------------


def zoom(model: str | Model = defaults.MODEL, center: Sequence[float] = defaults.ZOOM_CENTER, *,
         width: float = defaults.ZOOM_WIDTH,
         magnification: float = defaults.ZOOM_MAGNIFICATION,
         levels: int = defaults.ZOOM_LEVELS, res: int = defaults.ZOOM_RES,
         eta: float = defaults.ETA, steps: int = defaults.STEPS, tol: float = defaults.TOL,
         escape: float = defaults.ESCAPE,
         out: str | os.PathLike | None = None, force: bool = False, resume: bool = False,
         filmstrip: str | os.PathLike | None = None,
         animation: str | os.PathLike | None = None, track: bool = defaults.ZOOM_TRACK,
         threads: int | None = None, source: str | os.PathLike | None = None,
         progress: Callable[[int, int], None] | None = None,
         model_params: Mapping[str, float] | Iterable[str] | None = None,
         scheduler: str | None = None, backend: str = defaults.BACKEND,
         executor: Executor | None = None, max_period: int = defaults.MAX_PERIOD,
         period_tol: float = defaults.PERIOD_TOL, rule: StopRule | None = None,
         optimizer: str | Optimizer = "gd", beta: float | None = None,
         eta_x: float | None = None, eta_y: float | None = None) -> ZoomResult:
    """Compute nested grids toward a point, each measured for fractality.

    Parameters
    ----------
    model : str or Model
        Model name (:data:`eosfast.MODELS`) or an expression ``L(x, y)``.
    center : (float, float)
        The point ``(x0, y0)`` zoomed into. The default with ``width=0.4`` makes
        level 0 the paper's Fig. 7a window [3.0, 3.4] x [0.1, 0.5].
    width : float
        Side of the level-0 window.
    magnification : float
        Zoom factor from one level to the next (> 1).
    levels : int
        Number of levels.
    res : int
        Points per axis of every level (>= 64).
    eta, steps, tol, escape, max_period, period_tol, rule
        As for :func:`eosfast.grid` (the stop rule as keywords or one ``rule``).
    optimizer, beta, eta_x, eta_y
        The optimizer, as for :func:`eosfast.grid` (:mod:`eosfast.optimizer`).
    out : path-like, optional
        HDF5 file to write (see the module docstring); written as
        ``out + ".part"`` and renamed when every level is done. An existing
        file is replaced only with ``force``.
    resume : bool
        Continue the interrupted zoom ``out + ".part"`` of the same
        parameters: its levels are verified against their checksums and
        kept, the others computed.
    filmstrip, animation : path-like, optional
        Images to draw: every level side by side (png, pdf, ...) and an
        animated zoom (``.gif`` through Pillow, ``.mp4`` through ffmpeg; skipped
        with a warning when matplotlib has no writer for it).
    track : bool
        Re-centre each level on the boundary point of the previous level
        nearest to its centre, so that a zoom follows the boundary even from a
        centre slightly off it (default True: without it the default centre
        lies inside one basin from x256 on, and those levels have no boundary).
    threads, scheduler, backend, executor
        Where each level's tiles are computed, as for :func:`eosfast.grid`.
    source : path-like, optional
        A refined file (:func:`eosfast.refine`): draw every level from it
        instead of computing grids (its model, eta, steps, tol and escape
        replace the arguments). Level ``k`` is the raster of the window at the
        coarsest of the file's lattices with at least ``res`` points across
        it (the finest, with a :class:`ZoomPrecisionWarning`, when none has);
        the window must lie inside the file's.
    progress : callable, optional
        Called as ``progress(done, total)``: each level and each image is
        1000 units (``info["what"]`` says which, :mod:`eosfast.progress`), so
        the bar reaches its end only when the images are written too.
    model_params : mapping of str -> float, or strings ``"NAME=VALUE"``, optional
        Parameters of an expression model.

    Returns
    -------
    ZoomResult

    Warns
    -----
    ZoomPrecisionWarning
        For each level with fewer than :data:`WARN_ULPS` ulps per pixel.
    ZoomBoundaryWarning
        For each level without any boundary.
    """
    from .executors import make_executor
    from .models import get_model

    refined = None
    if source is not None:
        from .refine import read_refined

        refined = read_refined(validate.path("source", source))
        s = refined.spec
        model, eta, model_params = s.model, s.eta, dict(s.model_params) or None
        steps, tol, escape, max_period, period_tol = s.rule.args()
        rule = None
        if not Optimizer.checked(optimizer, beta, eta_x, eta_y).plain:
            raise validate.InvalidArgument("{source} brings the refined file's optimizer; "
                                           "give no {optimizer}", "source", "optimizer")
        optimizer, beta, eta_x, eta_y = s.optimizer, None, None, None
    m = get_model(model, model_params)
    model, model_params = m.spec.model, m.spec.param_dict()
    center = validate.pair("center", center, ordered=False)
    width = validate.real("width", width, positive=True)
    magnification = validate.real("magnification", magnification, positive=True)
    if magnification <= 1.0:
        raise validate.InvalidArgument(f"{{magnification}} must be > 1, got {magnification:g}",
                                       "magnification")
    levels = validate.integer("levels", levels, hi=2000)
    res = validate.integer("res", res, lo=defaults.ZOOM_MIN_RES, hi=1 << 15)
    eta = validate.real("eta", eta, positive=True)
    rule = StopRule.given(rule, steps, tol, escape, max_period, period_tol)
    steps, tol, escape = rule.steps, rule.tol, rule.escape
    opt = Optimizer.checked(optimizer, beta, eta_x, eta_y)
    force = validate.flag("force", force)
    resume = validate.flag("resume", resume)
    track = validate.flag("track", track)
    threads = None if threads is None else validate.threads("threads", threads)
    if executor is None and refined is None:
        executor = make_executor(scheduler, threads, backend)
    progress = notifier(validate.callback("progress", progress))
    xr, yr, _ = window(center, width, res)
    reach = max(abs(v) for v in (*xr, *yr))
    if not np.isfinite(reach) or reach > escape:
        raise validate.InvalidArgument(
            f"{{width}} {width:g} around ({center[0]:g}, {center[1]:g}) reaches |{reach:.3g}|, "
            f"beyond {{escape}} {escape:g}: every point out there diverges at step 0",
            "width", "escape")
    for bounds in (xr, yr):
        validate.axis("width", bounds, res)
    fit = levels_that_fit(center, width, magnification, res)
    if fit < levels:
        _, _, u = window(center, width / magnification ** (levels - 1), res)
        raise EosfastError(
            f"level {levels - 1} would have {u:.2g} ulps of float64 per pixel at "
            f"({shortest(center[0])}, {shortest(center[1])}): at most {fit} levels of "
            f"x{magnification_text(magnification)} "
            f"keep {MIN_ULPS:g} ulps per pixel")
    images = [(n, validate.path(n, p)) for n, p in (("filmstrip", filmstrip),
                                                    ("animation", animation)) if p is not None]
    path = None if out is None else validate.path("out", out)
    _check_outputs(path, images, force, resume)

    params = {"model": model, "model_params": model_params, "center": list(center), "width": width,
              "magnification": magnification, "levels": levels, "res": res, "eta": eta,
              "steps": steps, "tol": tol, "escape": escape, "track": bool(track),
              "max_period": rule.max_period, "period_tol": rule.period_tol, **opt.params()}
    if refined is not None:
        params["source"] = str(source)
    result = ZoomResult(model=model, eta=float(eta), center=center, width=width,
                        magnification=magnification, res=res, levels=[], params=params)

    def stored(p: Path) -> dict:
        with open_file(p, ZOOM.kind) as g:
            return read_params(g)

    def complete(p: Path) -> bool:
        with open_file(p, ZOOM.kind) as g:
            return bool(g.attrs.get("complete", 0))

    with ExitStack() as stack:
        f, kept, run = None, {}, None
        if path is not None:
            need = levels * (res * res * 5 + 2 * res * 8 + 4096)
            run = stack.enter_context(Run(path, force=force, resume=resume, need=need))
            # the optimizer's keys too: a GD request must not continue a momentum file
            keys = list(dict.fromkeys([*params, *OPTIMIZER_KEYS]))
            if run.resume_existing(stored, params, complete, keys=keys,
                                   defaults=ZOOM_DEFAULTS):
                # nothing to compute: read it back, draw what is missing
                result = read_zoom(path)
                stack.close()
                _draw(result, filmstrip, animation, force)
                return result
            if run.resuming:
                f = zf.open_for_resume(run.part, lambda stored: run.check_params(
                    run.part, stored, params, keys, defaults=ZOOM_DEFAULTS))
                run.started(f, lambda: _saved(f, levels))
                kept = {k: _level(str(f.attrs["model"]), float(f.attrs["eta"]), *raw)
                        for k, raw in zf.intact_levels(f).items()}
            else:
                f = run.started(zf.create(run.part, params), lambda: _saved(f, levels))
        if executor is not None:
            stack.enter_context(executor)
        c = center
        # a signal stops the zoom between tiles (store.run.Run says what was saved)
        for k in range(levels):
            w = width / magnification**k
            xr, yr, ulps = window(c, w, res)
            if ulps < MIN_ULPS:  # only reachable when tracking moved the centre
                raise EosfastError(f"level {k}: {ulps:.2g} ulps per pixel, below float64's "
                                   "floor")
            if ulps < WARN_ULPS:
                warnings.warn(f"zoom level {k}: pixel spacing {w / (res - 1):.3g} is only "
                              f"{ulps:.3g} ulps of float64 at "
                              f"({shortest(c[0])}, {shortest(c[1])}); "
                              "grid points are rounded, finer structure is not resolvable",
                              ZoomPrecisionWarning, stacklevel=2)
            tick = _level_progress(progress, k, levels, levels + len(images))
            level = kept.get(k)
            if level is None or level.x_range != xr or level.y_range != yr \
                    or level.center != c:
                window_ = {"x_range": xr, "y_range": yr, "center": c}
                if refined is not None:
                    g = _refined_level(refined, xr, yr, res, k)
                    if f is not None:
                        _save_whole(f, k, float(eta), g, window_)
                else:
                    g = _compute_level(f, k, m, res, float(eta), rule, window_,
                                       executor, tick, opt)
                level = ZoomLevel(index=k, x_range=xr, y_range=yr, center=c,
                                  zoom=magnification**k, x0=g.x0, y0=g.y0,
                                  status=g.status[0], steps=g.steps[0], ulps_per_pixel=ulps,
                                  fractal=analyze(g))
                if f is not None:
                    zf.finish_level(f, k, _level_attrs(level))
                    interrupts.saved()
                    interrupts.checkpoint()
            elif tick:
                tick(1, 1)
            if level.fractal.box_counts[0] == 0:
                warnings.warn(f"zoom level {k} holds no converge/diverge boundary: the "
                              "centre lies inside one basin at this scale (choose a centre "
                              "on the boundary, or track it)", ZoomBoundaryWarning,
                              stacklevel=2)
            result.levels.append(level)
            if track:
                c = nearest_boundary_point(level, c)
        if f is not None:
            zf.finish(f)
            result.path = path
    _draw(result, filmstrip, animation, force, progress, levels)
    return result


def _check_outputs(path: Path | None, images, force: bool, resume: bool) -> None:
    """Every output checked before any work: writable, distinct, images of a known format."""
    from .plots.base import image_format

    if path is not None:
        check_output(path, force=force or resume)
    seen = [path] if path is not None else []
    for name, p in images:
        check_output(p, force=force)
        if name == "filmstrip":
            image_format(p)
        for q in seen:
            if os.path.abspath(p) == os.path.abspath(q):
                raise validate.InvalidArgument(f"{{{name}}} {p} is also another output of this "
                                               "zoom: give each its own name", name)
        seen.append(p)


def _draw(result: ZoomResult, filmstrip, animation, force: bool, progress=None,
          levels: int = 0) -> None:
    """Draw the images; ``progress`` counts 1000 units per level and per image."""
    from .plots.zoom import draw_animation, draw_filmstrip

    images = sum(p is not None for p in (filmstrip, animation))
    units = 1000 * (levels + images)
    step = 1000 * levels
    if filmstrip is not None:
        if progress:
            progress(step, units, info={"what": "filmstrip"})
        draw_filmstrip(result, filmstrip, force=force)
        result.images.append(Path(filmstrip))
        step += 1000
    if animation is not None:
        if progress:
            progress(step, units, info={"what": "animation"})
        if draw_animation(result, animation, force=force):
            result.images.append(Path(animation))
        step += 1000
    if progress and (filmstrip is not None or animation is not None):
        progress(units, units, info={"what": "images written"})


#: What zooms written before zoom took the period search used.
ZOOM_DEFAULTS = {"max_period": defaults.MAX_PERIOD, "period_tol": defaults.PERIOD_TOL}


def _saved(f, levels: int) -> tuple[int, int, str]:
    """What a stopped zoom's file holds, for the stop line."""
    saved = sum(1 for n in f if n.startswith(ZOOM_LEVEL_PREFIX))
    tiles, total = zf.done_tiles(f)
    return saved, levels, "levels" + (f" (and {tiles} of {total} tiles of level {saved})"
                                      if tiles else "")


def _compute_level(f, k: int, model, res: int, eta: float, rule: StopRule, window_: dict,
                   executor: Executor, progress, optimizer: Optimizer = GD) -> GridResult:
    """Level ``k``'s grid, tile by tile; with a file ``f``, each tile saved as it comes.

    A pending level of the same window left by a stopped run is continued
    from its saved tiles. The axes are those of :func:`eosfast.grid` over the
    window, and a point's result depends only on the point, so the level is
    the same whatever was computed before.
    """
    from .grid import make_spec

    spec = make_spec(model, res, x_range=window_["x_range"], y_range=window_["y_range"],
                     eta=eta, rule=rule, optimizer=optimizer)
    ny, nx = spec.y0.size, spec.x0.size
    status = np.empty((ny, nx), np.int8)
    nsteps = np.empty((ny, nx), np.int32)
    tiles = [(t, *spec.tile_slices(t)[1:]) for t in range(spec.ntiles)]
    done = np.zeros(spec.ntiles, bool)
    g = None
    if f is not None:
        g = zf.begin_level(f, k, eta, spec.x0, spec.y0, spec.tile, spec.ntiles, window_)
        done = zf.read_tiles(g, tiles, status, nsteps)
    if progress:
        progress(int(done.sum()), spec.ntiles)
    for index, _, payload in executor.run(spec, spec.sources(done), None):
        for t, arrays in zip(spec.covered(index), payload, strict=True):
            _, ys, xs = spec.tile_slices(t)
            status[ys, xs] = arrays["status"]
            nsteps[ys, xs] = arrays["steps"]
            if g is not None:
                zf.write_tile(g, t, ys, xs, arrays["status"], arrays["steps"])
                interrupts.saved()
                interrupts.checkpoint()
            done[t] = True
        if progress:
            progress(int(done.sum()), spec.ntiles)
    return GridResult(model=spec.model, eta=spec.eta, y0=spec.y0, x0=spec.x0,
                      status=status[None], steps=nsteps[None], period=None, sharpness=None,
                      loss=None, x=None, y=None)


def _save_whole(f, k: int, eta: float, g, window_: dict) -> None:
    """Save a level drawn from a refined file (nothing to compute: one piece)."""
    ny, nx = g.status.shape[1:]
    tile = (min(256, ny), min(256, nx))
    group = zf.begin_level(f, k, eta, g.x0, g.y0, tile, 1, window_)
    zf.write_tile(group, 0, slice(None), slice(None), g.status[0], g.steps[0])


def _level_attrs(level: ZoomLevel) -> dict:
    """A level's window and fractal measures, as its group's attributes."""
    fr = level.fractal
    a = {"index": level.index, "x_range": np.asarray(level.x_range),
         "y_range": np.asarray(level.y_range), "center": np.asarray(level.center),
         "zoom": level.zoom, "pixel": np.asarray(fr.pixel, dtype=np.float64),
         "ulps_per_pixel": level.ulps_per_pixel}
    for key in ("box_dimension", "box_dimension_err", "uncertainty_exponent",
                "basin_entropy", "boundary_basin_entropy"):
        a[key] = float(getattr(fr, key))
    a["fractality_test"] = fr.fractality_test
    a["fractal"] = json.dumps(fr.to_dict(), sort_keys=True)
    return a


def _level(model: str, eta: float, head: dict, x0, y0, status, steps) -> ZoomLevel:
    """A level measured as :func:`zoom` measures it (from the grid's axes and status)."""
    gr = GridResult(model=model, eta=np.array([eta]), y0=y0, x0=x0, status=status[None],
                    steps=steps[None], period=None, sharpness=None, loss=None, x=None, y=None)
    return ZoomLevel(x0=x0, y0=y0, status=status, steps=steps, fractal=analyze(gr), **head)


def _refined_level(refined, xr, yr, res: int, k: int):
    """Zoom level ``k`` drawn from a refined map (its raster; nothing is recomputed)."""
    (xa, xb), (ya, yb) = refined.spec.x_range, refined.spec.y_range
    # a window is centre -+ width/2, rounded: allow it to pass the ends by a
    # fraction of the finest spacing (only lattice points inside are drawn)
    tol = 0.25 * max(xb - xa, yb - ya) / (refined.spec.finest - 1)
    if xr[0] < xa - tol or xr[1] > xb + tol or yr[0] < ya - tol or yr[1] > yb + tol:
        raise EosfastError(f"zoom level {k}'s window x [{shortest(xr[0])}, {shortest(xr[1])}] y "
                           f"[{shortest(yr[0])}, {shortest(yr[1])}] leaves the refined file's "
                           f"[{xa:g}, {xb:g}] x [{ya:g}, {yb:g}]")
    # lattice points across the window's narrower side, per level
    spacing = max((xb - xa), (yb - ya)) / (refined.spec.base - 1)
    width = min(xr[1] - xr[0], yr[1] - yr[0])
    level = next((lv for lv in range(refined.levels + 1) if width / (spacing / 2**lv) >= res),
                 None)
    if level is None:
        level = refined.levels
        across = int(width / (spacing / 2**level)) + 1
        if across < defaults.ZOOM_MIN_RES:
            raise EosfastError(f"zoom level {k}: the refined file's finest lattice has only "
                               f"{across} points across the window (at least "
                               f"{defaults.ZOOM_MIN_RES} needed); use fewer levels or a "
                               "file with more")
        warnings.warn(f"zoom level {k}: the refined file's finest lattice has only {across} "
                      f"points across the window, fewer than {res}", ZoomPrecisionWarning,
                      stacklevel=3)
    return refined.raster(level, window=(xr, yr), steps=True)


def _level_progress(progress, k: int, levels: int, parts: int):
    """The progress of level ``k``'s grid as a part of the whole (levels, then images)."""
    if progress is None:
        return None

    def tick(done: int, total: int) -> None:
        progress(1000 * k + (1000 * done) // max(total, 1), 1000 * parts,
                 info={"what": f"level {k + 1}/{levels}"})

    return tick


def nearest_boundary_point(level: ZoomLevel, point: Sequence[float]) -> tuple[float, float]:
    """The grid point next to the converge/diverge boundary nearest to ``point``.

    Returns ``point`` unchanged when the level holds no boundary.
    """
    s = level.status == Status.DIVERGED
    edge = np.zeros_like(s)
    edge[:, :-1] |= s[:, :-1] != s[:, 1:]
    edge[:-1, :] |= s[:-1, :] != s[1:, :]
    iy, ix = np.nonzero(edge)
    if iy.size == 0:
        return float(point[0]), float(point[1])
    dx = level.x0[ix] - point[0]
    dy = level.y0[iy] - point[1]
    i = int(np.argmin(dx * dx + dy * dy))
    return float(level.x0[ix[i]]), float(level.y0[iy[i]])


# ----------------------------------------------------------------------------
# file
# ----------------------------------------------------------------------------


def read_zoom(path: str | os.PathLike) -> ZoomResult:
    """Load a zoom file written by :func:`zoom` (the fractal numbers are re-measured)."""
    path = Path(path)
    with open_file(path, ZOOM.kind) as f:
        params = read_params(f)
        model, eta = str(f.attrs["model"]), float(f.attrs["eta"])
        raw = zf.read_levels(f)
        head = (params["model"], float(params["eta"]), tuple(params["center"]),
                float(params["width"]), float(params["magnification"]), int(params["res"]))
    levels = [_level(model, eta, *r) for r in raw]
    return ZoomResult(model=head[0], eta=head[1], center=head[2], width=head[3],
                      magnification=head[4], res=head[5], levels=levels, params=params,
                      path=path)
