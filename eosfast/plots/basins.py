"""Basin maps of grid results: outcome, steps, sharpness, loss; sharpness histograms."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from ..defaults import BASIN_FIELDS
from ..errors import EosfastError, InvalidArgument
from ..result import percent
from ..status import Status, stable_converged
from ..validate import show
from .base import THRESHOLD_STYLE, status_style


def loss_range(loss: np.ndarray, q: tuple[float, float] = (1.0, 99.0)) -> tuple[float, float]:
    """Colour range of a loss map: the ``q`` percentiles of its positive finite values.

    Converged runs stop below the tolerance (losses near 1e-25) while the few
    points bounded at the cap keep losses near 1, so a min-to-max log scale
    spends its colours on 25 decades that hold a handful of points; the
    percentiles show the structure where the points are. Returns ``(vmin,
    vmax)`` with ``vmax >= 10 vmin``.
    """
    pos = loss[np.isfinite(loss) & (loss > 0)]
    if not pos.size:
        return 1e-30, 1.0
    lo, hi = np.percentile(np.log10(pos), q)
    lo, hi = 10.0 ** float(lo), 10.0 ** float(hi)
    return lo, max(hi, 10.0 * lo)


def _slice(result, eta) -> tuple[int, float]:
    if eta is None:
        if result.eta.size != 1:
            shown = ", ".join(repr(float(e)) for e in result.eta[:20])
            raise InvalidArgument(f"the result holds {result.eta.size} step sizes ({shown}"
                                  f"{', ...' if result.eta.size > 20 else ''}); choose one "
                                  "with {eta}", "eta")
        return 0, float(result.eta[0])
    i = result.index(eta)
    return i, float(result.eta[i])


def _logs(result) -> tuple[bool, bool]:
    """Whether the columns and the rows are log-spaced (a plane's: :mod:`eosfast.axes`)."""
    log = (result.params or {}).get("log", (False, False))
    return bool(log[1]), bool(log[0])


def _extent(result) -> list[float]:
    """The image's extent; a log-spaced axis is drawn in ``log10`` of its values."""
    def ends(v, log):
        v = np.log10(v) if log else np.asarray(v, dtype=float)
        d = (v[-1] - v[0]) / (v.size - 1) if v.size > 1 else 1.0
        return v[0] - d / 2, v[-1] + d / 2

    lx, ly = _logs(result)
    x0, x1 = ends(result.x0, lx)
    y0, y1 = ends(result.y0, ly)
    return [x0, x1, y0, y1]


def _sampled(result) -> bool:
    """Whether the result holds every k-th point of its grid (read with a stride)."""
    p = result.params or {}
    return (result.y0.size, result.x0.size) != (p.get("res_y", result.y0.size),
                                                 p.get("res_x", result.x0.size))


#: How a plane's axes are labelled (matplotlib mathtext).
_LABELS = {"x0": "$x_0$", "y0": "$y_0$", "eta": "$\\eta$", "eta_x": "$\\eta_x$",
           "eta_y": "$\\eta_y$", "beta": "$\\beta$"}


def _title(result, eta: float, what: str) -> str:
    p = result.params or {}
    ny, nx = result.y0.size, result.x0.size
    axes = tuple(getattr(result, "axes", ("eta", "y0", "x0")))
    if axes != ("eta", "y0", "x0"):  # a plane
        how = []
        if p.get("optimizer") not in (None, "gd"):
            how.append(p["optimizer"] + (f" $\\beta$ = {p['beta']:g}" if "beta" not in axes
                                         else ""))
        how.append(f"{_LABELS[axes[0]]} = {eta:g}")
        for k in ("x0", "y0"):
            if k in p and k not in axes:
                how.append(f"{_LABELS[k]} = {p[k]:g}") if k != axes[0] else None
        full = (p.get("res_y", ny), p.get("res_x", nx))
        drawn = (f"{nx}x{ny} of {full[1]}x{full[0]} points drawn" if (ny, nx) != tuple(full)
                 else f"{nx}x{ny} points")
        return (f"{result.model_label}, {', '.join(how)}, {drawn}, "
                f"T = {p.get('steps', '?')}: {what}")
    full = (p.get("res_y", ny), p.get("res_x", nx))
    steps = p.get("steps", "?")
    if "base" in p and "levels" in p:  # a raster of a refined map (eosfast refine)
        finest = (int(p["base"]) - 1) * 2 ** int(p["levels"]) + 1
        drawn = (f"a {finest}x{finest} refined map drawn at {nx}x{ny}" if finest != nx
                 else f"a {finest}x{finest} refined map")
    elif (ny, nx) != tuple(full):
        drawn = f"{nx}x{ny} of {full[1]}x{full[0]} inits drawn"
    else:
        drawn = f"{nx}x{ny} inits"
    return f"{result.model_label}, $\\eta$ = {eta:g}, {drawn}, T = {steps}: {what}"


def _basin_axes(ax: Axes, result, eta: float, what: str) -> None:
    _, rows, cols = tuple(getattr(result, "axes", ("eta", "y0", "x0")))
    lx, ly = _logs(result)
    ax.set_xlabel(_LABELS[cols] + (" (log scale)" if lx else ""))
    ax.set_ylabel(_LABELS[rows] + (" (log scale)" if ly else ""))
    for log, axis in ((lx, ax.xaxis), (ly, ax.yaxis)):
        if log:  # drawn in log10 of the values: label the ticks with the values
            from matplotlib.ticker import FuncFormatter

            axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{10 ** v:.3g}"))
    ax.set_title(_title(result, eta, what), fontsize=9)


def basin(ax: Axes, result, field: str = "status", eta: float | None = None,
          band: float = 0.1, colorbar: bool = True):
    """Draw one field of a grid result over the initial points ``(x0, y0)``.

    Parameters
    ----------
    ax : Axes
    result : GridResult
        Arrays shaped (n_eta, ny, nx) (:func:`eosfast.read_grid`, :func:`eosfast.grid`).
    field : str
        ``status`` (converged / periodic / bounded / diverged), ``steps`` (log
        scale; steps to converge and steps to escape on separate colour
        ramps), ``sharpness`` (of the limit, converged points, with the band
        ``(2/eta - band, 2/eta)`` highlighted: the optimizer's threshold for
        another optimizer) or ``loss`` (final objective, log).
    eta : float, optional
        Which slice (needed when the result holds several).
    band : float
        Width of the highlighted sharpness band below ``2/eta`` (paper Fig. 2b: 0.1).

    Returns
    -------
    list of AxesImage
        The images drawn (``get_array()`` holds the plotted values).
    """
    if field not in BASIN_FIELDS:
        raise InvalidArgument(f"{{field}} must be one of {', '.join(BASIN_FIELDS)}, got "
                              f"{show(field)}", "field")
    i, e = _slice(result, eta)
    status = np.asarray(result.status[i])
    ext = _extent(result)
    kw = {"origin": "lower", "extent": ext, "aspect": "auto", "interpolation": "nearest"}
    fig = ax.figure
    images = []
    if field == "status":
        cmap, norm, codes = status_style()
        shown = np.where(np.isin(status, codes), status, np.nan)
        im = ax.imshow(shown, cmap=cmap, norm=norm, **kw)
        images.append(im)
        if colorbar:
            cb = fig.colorbar(im, ax=ax, ticks=codes)
            cb.ax.set_yticklabels([Status(c).label for c in codes])
        _basin_axes(ax, result, e, "outcome")
    elif field == "steps":
        steps = np.asarray(result.steps[i], dtype=float)
        conv = np.where(status == Status.CONVERGED, np.maximum(steps, 1.0), np.nan)
        esc = np.where(status == Status.DIVERGED, np.maximum(steps, 1.0), np.nan)

        def lognorm(v):
            top = float(np.nanmax(v)) if np.isfinite(v).any() else 10.0
            return mcolors.LogNorm(vmin=1.0, vmax=max(top, 10.0))

        rest = np.where((status == Status.BOUNDED) | (status == Status.PERIODIC), 1.0, np.nan)
        ax.imshow(rest, cmap=mcolors.ListedColormap(["#d9d9d9"]), **kw)
        im1 = ax.imshow(conv, cmap="Blues", norm=lognorm(conv), **kw)
        im2 = ax.imshow(esc, cmap="Reds", norm=lognorm(esc), **kw)
        images += [im1, im2]
        if colorbar:
            fig.colorbar(im1, ax=ax, pad=0.01, fraction=0.05).set_label("steps to converge")
            fig.colorbar(im2, ax=ax, pad=0.02, fraction=0.05).set_label("steps to escape")
        _basin_axes(ax, result, e, "steps (grey: periodic, or bounded at the cap)")
    elif field == "sharpness":
        from ..axes import Plane
        from ..optimizer import Optimizer

        params = getattr(result, "params", None) or {}
        sharp = np.where(status == Status.CONVERGED, np.asarray(result.sharpness[i]), np.nan)
        opt, plane = Optimizer.from_params(params), Plane.from_params(params)
        if plane.initial:
            thr: Any = float(opt.threshold(e))
        else:  # a plane: each point's own threshold
            thr = plane.thresholds(e, result.y0, result.x0, opt)
        finite = sharp[np.isfinite(sharp)]
        if not finite.size:  # an empty picture with a made-up colour bar says nothing
            raise EosfastError(f"no point converged at eta={e!r}: there is no final sharpness "
                               "to draw (--field status shows what became of the runs)")
        vmin = float(finite.min()) if finite.size else 0.0
        vmax = max(float(np.max(thr)) if plane.initial else 0.0, float(finite.max()))
        im = ax.imshow(sharp, cmap="viridis", vmin=vmin, vmax=vmax, **kw)
        in_band = np.where((sharp > thr - band) & (sharp < thr), 1.0, np.nan)
        im_b = ax.imshow(in_band, cmap=mcolors.ListedColormap(["#e41a1c"]), **kw)
        images += [im, im_b]
        if colorbar:
            fig.colorbar(im, ax=ax).set_label("final sharpness (converged inits)")
        converged = int(np.count_nonzero(status == Status.CONVERGED))
        n_band = int(np.count_nonzero(np.isfinite(in_band)))
        where = (f"in ({thr - band:g}, {thr:g})" if plane.initial else
                 f"within {band:g} below each point's threshold")
        ax.legend(handles=[Patch(color="#e41a1c",
                                 label=f"{where}: {percent(n_band, converged)}"
                                       f" of the {converged} converged "
                                       f"{'inits' if plane.initial else 'points'}"
                                       f"{' drawn' if _sampled(result) else ''}")],
                  loc="upper right", fontsize=8, framealpha=0.9)
        _basin_axes(ax, result, e, "final sharpness (white: not converged)")
    else:
        lss = np.asarray(result.loss[i], dtype=float)
        vmin, vmax = loss_range(lss)
        norm = mcolors.LogNorm(vmin=vmin, vmax=vmax)
        # plasma ends in a saturated yellow, not near-white: the white of the
        # diverged points stays apart
        im = ax.imshow(np.where(lss > 0, lss, np.nan), cmap="plasma", norm=norm, **kw)
        images.append(im)
        if colorbar:
            fig.colorbar(im, ax=ax, extend="both").set_label(
                "final loss (log scale, 1st to 99th percentile)")
        _basin_axes(ax, result, e, "final loss (white: diverged or exactly 0)")
    return images


def concentration(ax: Axes, result, eta: float | None = None, bins: int = 120):
    """Histogram of the final sharpness over all converged inits of a grid at one eta.

    Marks the optimizer's threshold (:meth:`eosfast.optimizer.Optimizer.threshold`).
    For plain GD, also the theorem's band ``(2/eta - 20 eta / 3, 2/eta)``
    (Corollary 3.1, math.md s. 3) and the vertex prediction ``2/eta - eta/2``;
    for the others (no theorem), the share of converged inits within 5% of it.

    Returns
    -------
    counts, edges : ndarray
        The histogram drawn.
    """
    from ..optimizer import Optimizer

    if tuple(getattr(result, "axes", ("eta", "y0", "x0"))) != ("eta", "y0", "x0"):
        raise EosfastError(f"this grid is a plane over {result.axes[2]} and "
                           f"{result.axes[1]}, a threshold a point: the concentration "
                           "histogram needs a grid of initial points at one step size (draw "
                           "the plane with plot basin --field sharpness)")
    i, e = _slice(result, eta)
    opt = Optimizer.from_params(getattr(result, "params", None) or {})
    thr = float(opt.threshold(e))
    stable, unstable = stable_converged(result.status[i], result.sharpness[i], e, thr)
    sharp = np.asarray(result.sharpness[i])[stable]
    n_unstable = int(np.count_nonzero(unstable))
    if opt.plain:
        lo_band = thr - 20.0 * e / 3.0
        band_label = "theorem band (2/$\\eta$ - 20$\\eta$/3, 2/$\\eta$)"
    else:
        lo_band = 0.95 * thr
        band_label = f"within 5% of {opt.threshold_label}"
    if sharp.size == 0:
        raise EosfastError(f"no converged inits at eta={e!r}")
    lo = min(float(sharp.min()), lo_band)
    counts, edges, _ = ax.hist(sharp, bins=np.linspace(lo, thr, bins + 1), color="#2166ac",
                               log=True)
    ax.axvspan(lo_band, thr, color="#fdae61", alpha=0.35, zorder=0, label=band_label)
    ax.axvline(thr, **THRESHOLD_STYLE, label=opt.threshold_label)
    if opt.plain:
        ax.axvline(thr - e / 2, color="#1a9850", lw=1.0, ls=":",
                   label="vertex: 2/$\\eta$ - $\\eta$/2")
    n_band = int(np.count_nonzero((sharp > lo_band) & (sharp < thr)))
    ax.set_xlabel("final sharpness")
    ax.set_ylabel("converged inits")
    apart = (f"\n({n_unstable} more sit exactly on a minimum sharper than the threshold: "
             "left out)") if n_unstable else ""
    how = opt.describe()
    ax.set_title(f"{result.model_label}, $\\eta$ = {e:g}{', ' + how if how else ''}: "
                 f"{sharp.size} converged inits, {percent(n_band, sharp.size)} of them in the "
                 f"{'band' if opt.plain else 'top 5%'}{apart}", fontsize=9)
    ax.legend(fontsize=8, loc="upper center")
    return counts, edges


def adaptivity(ax: Axes, eta, sharpness, status=None, label: str = "final sharpness",
               optimizer=None):
    """Final sharpness against eta, with ``2/eta`` and the band ``(2/eta - 20 eta/3, 2/eta)``.

    Parameters
    ----------
    eta, sharpness : array_like, shape (m,)
    status : array_like, shape (m,), optional
        Grid codes; only converged points (1) are drawn when given.
    optimizer : Optimizer, optional
        Other than plain GD: its threshold against eta instead (no theorem
        band: the theorem is GD's).

    Returns
    -------
    Line2D
        The measured curve.
    """
    eta = np.asarray(eta, dtype=float)
    sharp = np.asarray(sharpness, dtype=float)
    if status is not None:
        sharp = np.where(np.asarray(status) == Status.CONVERGED, sharp, np.nan)
    fine = np.linspace(eta.min(), eta.max(), 400)
    if optimizer is not None and not optimizer.plain:
        ax.plot(fine, optimizer.threshold(fine), **THRESHOLD_STYLE,
                label=optimizer.threshold_label)
    else:
        ax.fill_between(fine, 2 / fine - 20 * fine / 3, 2 / fine, color="#fdae61", alpha=0.4,
                        lw=0, label="theorem band (2/$\\eta$ - 20$\\eta$/3, 2/$\\eta$)")
        ax.plot(fine, 2 / fine, **THRESHOLD_STYLE, label="2/$\\eta$")
        ax.plot(fine, 2 / fine - fine / 2, color="#1a9850", lw=0.8, ls=":",
                label="vertex: 2/$\\eta$ - $\\eta$/2")
    (line,) = ax.plot(eta, sharp, "o", color="#2166ac", ms=2.5, label=label)
    ax.set_xlabel("$\\eta$")
    ax.set_ylabel("sharpness")
    ax.legend(fontsize=8)
    return line

