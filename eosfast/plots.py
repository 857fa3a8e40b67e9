"""Plotting functions: each draws on a matplotlib ``Axes`` it is given.

Every function returns the artist(s) it made, so the data behind a picture can
be checked (``image.get_array()``, ``line.get_ydata()``). Nothing here calls
``pyplot``: :func:`new_figure` makes a backend-free ``Figure`` and
:func:`save` writes it, so plotting works in threads and without a display.

Colour conventions: outcome classes use :data:`STATUS_COLORS`; the stability
threshold ``2/eta`` is a dashed black line; sharpness bands are shaded.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .errors import EosfastError

#: status code -> (label, colour).
STATUS_COLORS = {
    -1: ("diverged", "#b2182b"),
    0: ("bounded", "#bdbdbd"),
    1: ("converged", "#2166ac"),
    2: ("periodic", "#f4a582"),
}

#: Basin fields :func:`basin` draws.
BASIN_FIELDS = ("status", "steps", "sharpness", "loss")

THRESHOLD_STYLE = {"color": "k", "ls": "--", "lw": 1.0}


def new_figure(width: float = 6.4, height: float = 4.8, **kwargs) -> Figure:
    """A ``Figure`` with the Agg canvas attached (no pyplot, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    kwargs.setdefault("layout", "constrained")
    fig = Figure(figsize=(width, height), **kwargs)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix) via a temporary name."""
    path = Path(path)
    if not path.parent.is_dir():
        raise EosfastError(f"folder {path.parent} does not exist")
    suffix = path.suffix.lstrip(".").lower() or "png"
    tmp = path.with_name(f".{path.name}.part")
    try:
        fig.savefig(tmp, dpi=dpi, format=suffix, bbox_inches="tight")
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise EosfastError(f"cannot write {path}: {exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------- basins


def _slice(result, eta) -> tuple[int, float]:
    if eta is None:
        if result.eta.size != 1:
            raise EosfastError(f"the result holds {result.eta.size} step sizes; choose one "
                               f"with eta= (one of {list(result.eta)})")
        return 0, float(result.eta[0])
    i = result.index(eta)
    return i, float(result.eta[i])


def _extent(result) -> list[float]:
    def ends(v):
        d = (v[-1] - v[0]) / (v.size - 1) if v.size > 1 else 1.0
        return v[0] - d / 2, v[-1] + d / 2

    x0, x1 = ends(result.x0)
    y0, y1 = ends(result.y0)
    return [x0, x1, y0, y1]


def _title(result, eta: float, what: str) -> str:
    p = result.params or {}
    ny, nx = result.y0.size, result.x0.size
    steps = p.get("steps", "?")
    return f"{result.model}, $\\eta$ = {eta:g}, {nx}x{ny} inits, T = {steps}: {what}"


def _basin_axes(ax: Axes, result, eta: float, what: str) -> None:
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$y_0$")
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
        ``(2/eta - band, 2/eta)`` highlighted) or ``loss`` (final objective, log).
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
        raise EosfastError(f"unknown field {field!r} (choose from {', '.join(BASIN_FIELDS)})")
    i, e = _slice(result, eta)
    status = np.asarray(result.status[i])
    ext = _extent(result)
    kw = {"origin": "lower", "extent": ext, "aspect": "auto", "interpolation": "nearest"}
    fig = ax.figure
    images = []
    if field == "status":
        codes = sorted(STATUS_COLORS)
        cmap = mcolors.ListedColormap([STATUS_COLORS[c][1] for c in codes])
        norm = mcolors.BoundaryNorm(np.arange(len(codes) + 1) - 0.5, len(codes))
        idx = np.searchsorted(codes, status).astype(float)
        idx[~np.isin(status, codes)] = np.nan
        im = ax.imshow(idx, cmap=cmap, norm=norm, **kw)
        images.append(im)
        if colorbar:
            cb = fig.colorbar(im, ax=ax, ticks=range(len(codes)))
            cb.ax.set_yticklabels([STATUS_COLORS[c][0] for c in codes])
        _basin_axes(ax, result, e, "outcome")
    elif field == "steps":
        steps = np.asarray(result.steps[i], dtype=float)
        conv = np.where(status == 1, np.maximum(steps, 1.0), np.nan)
        esc = np.where(status == -1, np.maximum(steps, 1.0), np.nan)

        def lognorm(v):
            top = float(np.nanmax(v)) if np.isfinite(v).any() else 10.0
            return mcolors.LogNorm(vmin=1.0, vmax=max(top, 10.0))

        rest = np.where((status == 0) | (status == 2), 1.0, np.nan)
        ax.imshow(rest, cmap=mcolors.ListedColormap(["#d9d9d9"]), **kw)
        im1 = ax.imshow(conv, cmap="Blues", norm=lognorm(conv), **kw)
        im2 = ax.imshow(esc, cmap="Reds", norm=lognorm(esc), **kw)
        images += [im1, im2]
        if colorbar:
            fig.colorbar(im1, ax=ax, pad=0.01, fraction=0.05).set_label("steps to converge")
            fig.colorbar(im2, ax=ax, pad=0.02, fraction=0.05).set_label("steps to escape")
        _basin_axes(ax, result, e, "steps (grey: bounded at the cap)")
    elif field == "sharpness":
        sharp = np.where(status == 1, np.asarray(result.sharpness[i]), np.nan)
        thr = 2.0 / e
        finite = sharp[np.isfinite(sharp)]
        vmin = float(finite.min()) if finite.size else 0.0
        vmax = max(thr, float(finite.max()) if finite.size else thr)
        im = ax.imshow(sharp, cmap="viridis", vmin=vmin, vmax=vmax, **kw)
        in_band = np.where((sharp > thr - band) & (sharp < thr), 1.0, np.nan)
        im_b = ax.imshow(in_band, cmap=mcolors.ListedColormap(["#e41a1c"]), **kw)
        images += [im, im_b]
        if colorbar:
            fig.colorbar(im, ax=ax).set_label("final sharpness (converged inits)")
        frac = np.count_nonzero(np.isfinite(in_band)) / max(1, np.count_nonzero(status == 1))
        ax.legend(handles=[Patch(color="#e41a1c",
                                 label=f"({thr - band:g}, {thr:g}): {100 * frac:.1f}%")],
                  loc="upper right", fontsize=8, framealpha=0.9)
        _basin_axes(ax, result, e, "final sharpness (white: not converged)")
    else:
        lss = np.asarray(result.loss[i], dtype=float)
        pos = lss[np.isfinite(lss) & (lss > 0)]
        vmin = float(pos.min()) if pos.size else 1e-30
        vmax = float(pos.max()) if pos.size else 1.0
        norm = mcolors.LogNorm(vmin=vmin, vmax=max(vmax, vmin * 10))
        im = ax.imshow(np.where(lss > 0, lss, np.nan), cmap="magma", norm=norm, **kw)
        images.append(im)
        if colorbar:
            fig.colorbar(im, ax=ax).set_label("final loss")
        _basin_axes(ax, result, e, "final loss (white: diverged or exactly 0)")
    return images


def concentration(ax: Axes, result, eta: float | None = None, bins: int = 120):
    """Histogram of the final sharpness over all converged inits of a grid at one eta.

    Marks ``2/eta``, the theorem's band ``(2/eta - 20 eta / 3, 2/eta)``
    (Corollary 3.1, math.md s. 3) and the vertex prediction ``2/eta - eta/2``.

    Returns
    -------
    counts, edges : ndarray
        The histogram drawn.
    """
    i, e = _slice(result, eta)
    status = np.asarray(result.status[i])
    sharp = np.asarray(result.sharpness[i])[status == 1]
    sharp = sharp[np.isfinite(sharp)]
    thr = 2.0 / e
    lo_band = thr - 20.0 * e / 3.0
    if sharp.size == 0:
        raise EosfastError(f"no converged inits at eta={e:g}")
    lo = min(float(sharp.min()), lo_band)
    counts, edges, _ = ax.hist(sharp, bins=np.linspace(lo, thr, bins + 1), color="#2166ac",
                               log=True)
    ax.axvspan(lo_band, thr, color="#fdae61", alpha=0.35, zorder=0,
               label="theorem band (2/$\\eta$ - 20$\\eta$/3, 2/$\\eta$)")
    ax.axvline(thr, **THRESHOLD_STYLE, label="2/$\\eta$")
    ax.axvline(thr - e / 2, color="#1a9850", lw=1.0, ls=":", label="vertex: 2/$\\eta$ - $\\eta$/2")
    frac = np.count_nonzero((sharp > lo_band) & (sharp < thr)) / sharp.size
    ax.set_xlabel("final sharpness")
    ax.set_ylabel("converged inits")
    ax.set_title(f"{result.model}, $\\eta$ = {e:g}: {sharp.size} converged inits, "
                 f"{100 * frac:.1f}% in the band", fontsize=9)
    ax.legend(fontsize=8, loc="upper center")
    return counts, edges


# ---------------------------------------------------------------- trajectories


def plot_sharpness(ax: Axes, traj, color=None, label: str | None = None,
                   threshold: bool = True):
    """Sharpness against step, with the ``2/eta`` line.

    Returns
    -------
    Line2D
    """
    label = label if label is not None else f"$\\eta$ = {traj.eta:g}"
    (line,) = ax.plot(traj.step, traj.sharpness, color=color, lw=1.0, label=label)
    if threshold:
        ax.axhline(2.0 / traj.eta, color=line.get_color(), ls="--", lw=0.8, alpha=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("sharpness")
    return line


def plot_loss(ax: Axes, traj, color=None, label: str | None = None):
    """Loss (log scale) against step. Returns the Line2D."""
    label = label if label is not None else f"$\\eta$ = {traj.eta:g}"
    lss = np.where(traj.loss > 0, traj.loss, np.nan)
    (line,) = ax.plot(traj.step, lss, color=color, lw=1.0, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    return line


def ab_parabola(ax: Axes, eta: float, a_range: tuple[float, float] | None = None,
                scaled: bool = False, color: str = "#d62728", label: str | None = "parabola"):
    """Draw the attracting parabola ``b^2 = a kappa / 2 + kappa^4 / 16`` and its vertex.

    ``scaled=True`` draws it in ``(a / kappa^3, b / kappa^2)``, where every eta
    gives the same curve ``B^2 = A / 2 + 1/16`` (vertex ``A = -1/8``).

    Returns
    -------
    list of Line2D
    """
    k = math.sqrt(eta)
    va = -1.0 / 8.0 if scaled else -k**3 / 8.0
    if a_range is None:
        a_range = (va, va + (4.0 if scaled else 4.0 * k**3))
    hi = max(a_range[1], va)
    a = va + (hi - va) * np.linspace(0.0, 1.0, 2000) ** 2  # dense near the vertex
    if scaled:
        b = np.sqrt(np.maximum(a / 2.0 + 1.0 / 16.0, 0.0))
    else:
        b = np.sqrt(np.maximum(a * k / 2.0 + k**4 / 16.0, 0.0))
    lines = ax.plot(a, b, color=color, lw=1.2, label=label)
    lines += ax.plot(a, -b, color=color, lw=1.2)
    lines += ax.plot([va], [0.0], "o", color=color, ms=4)
    return lines


def plot_ab(ax: Axes, traj, scaled: bool = False, parabola: bool = True,
            start: int = 0, cmap: str = "viridis", band: bool = True,
            max_points: int = 60000, size: float = 1.0):
    """The trajectory in the paper's ``(a, b)`` plane, one dot per step coloured by step.

    ``b`` changes sign every step, so the dots fill both branches of the
    parabola; lines between consecutive steps would only draw the zig-zag.

    Parameters
    ----------
    traj : Trajectory
        zhu4 or deg2 (``a, b`` are NaN for other models).
    scaled : bool
        Plot ``(a / kappa^3, b / kappa^2)`` (the parabola family collapses to one curve).
    parabola : bool
        Overlay the attracting parabola and its vertex (:func:`ab_parabola`).
    start : int
        First step drawn.
    band : bool
        Shade the theorem's interval of final ``a``: ``(-5/3 kappa^3, -1/10 kappa^3)``.
    max_points : int
        Longer runs are thinned to every ``k``-th step (``k`` odd, so both signs of ``b`` stay).

    Returns
    -------
    PathCollection
        The dots (``get_offsets()`` holds the plotted ``(a, b)``, ``get_array()`` the steps).
    """
    k = traj.kappa
    a = traj.a[start:]
    b = traj.b[start:]
    if scaled:
        a = a / k**3
        b = b / k**2
    every = max(1, -(-a.size // max_points))
    every += 1 - every % 2
    steps = np.arange(start, start + a.size)[::every]
    a, b = a[::every], b[::every]
    ok = np.isfinite(a) & np.isfinite(b)
    sc = ax.scatter(a[ok], b[ok], c=steps[ok], cmap=cmap, s=size, lw=0, rasterized=True)
    if ok.any():
        ax.plot(a[ok][-1], b[ok][-1], "*", color="k", ms=9, label="last step", zorder=5)
        ax.plot(a[ok][0], b[ok][0], "s", color="#444444", ms=4, label="first step", zorder=5)
    if band:
        u = 1.0 if scaled else k**3
        ax.axvspan(-5.0 / 3.0 * u, -0.1 * u, color="#fdae61", alpha=0.35,
                   label="final a of the theorem: (-5/3, -1/10) $\\kappa^3$")
    if parabola and ok.any():
        lo = float(np.nanmin(a[ok]))
        hi = float(np.nanmax(a[ok]))
        ab_parabola(ax, traj.eta, (lo, hi), scaled=scaled)
    ax.set_xlabel("$a / \\kappa^3$" if scaled else "$a$")
    ax.set_ylabel("$b / \\kappa^2$" if scaled else "$b = xy - 1$")
    return sc


def loss_contours(ax: Axes, model: str, x_range: tuple[float, float],
                  y_range: tuple[float, float], levels: int = 14, res: int = 300):
    """Log-spaced contours of the model's objective over ``(x, y)`` and the minima ``xy = 1``.

    Returns
    -------
    QuadContourSet
    """
    from .models import get_model

    m = get_model(model)
    x = np.linspace(*x_range, res)
    y = np.linspace(*y_range, res)
    X, Y = np.meshgrid(x, y)
    L = 0.5 * m.scale * (1.0 - X**m.p * Y**m.q) ** 2
    lv = np.logspace(-4, math.log10(max(float(L.max()), 1e-3)), levels)
    cs = ax.contour(X, Y, np.maximum(L, 1e-30), levels=lv, cmap="Greys",
                    norm=mcolors.LogNorm(), linewidths=0.6)
    with np.errstate(divide="ignore"):
        xm = x[x > 0]
        ym = xm ** (-m.p / m.q)
        keep = (ym >= y_range[0]) & (ym <= y_range[1])
        ax.plot(xm[keep], ym[keep], color="#1a9850", lw=1.0, label="global minima P = 1")
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    return cs


def plot_xy(ax: Axes, traj, color=None, label: str | None = None, every: int = 1):
    """The trajectory in the ``(x, y)`` plane (one dot per step). Returns the Line2D."""
    label = label if label is not None else f"$\\eta$ = {traj.eta:g}"
    (line,) = ax.plot(traj.x[::every], traj.y[::every], ".-", color=color, ms=1.5, lw=0.3,
                      label=label)
    ax.plot(traj.x[-1], traj.y[-1], "*", color=line.get_color(), ms=9, mec="k", mew=0.5)
    return line


def plot_trajectory(fig: Figure, traj) -> list[Axes]:
    """Loss and sharpness against step, and the ``(a, b)`` plane (or ``(x, y)``).

    Returns the axes ``[loss/sharpness, (a, b) or (x, y)]``.
    """
    ax1, ax2 = fig.subplots(1, 2)
    plot_sharpness(ax1, traj, color="#2166ac", label="sharpness")
    ax1.set_ylabel("sharpness", color="#2166ac")
    axl = ax1.twinx()
    plot_loss(axl, traj, color="#b2182b", label="loss")
    axl.set_ylabel("loss (log)", color="#b2182b")
    ax1.set_title(f"{traj.model}, $\\eta$ = {traj.eta:g}, from ({traj.x0:g}, {traj.y0:g})"
                  + (", diverged" if traj.diverged else ""), fontsize=9)
    if np.isfinite(traj.a).any():
        sc = plot_ab(ax2, traj)
        fig.colorbar(sc, ax=ax2).set_label("step")
        ax2.legend(fontsize=7, loc="best")
        ax2.set_title("paper's (a, b); parabola $b^2 = a\\kappa/2 + \\kappa^4/16$", fontsize=9)
    else:
        plot_xy(ax2, traj)
        ax2.set_xlabel("$x$")
        ax2.set_ylabel("$y$")
        ax2.set_title("(x, y) path", fontsize=9)
    return [ax1, ax2]


# ---------------------------------------------------------------- orbit diagrams


def orbit_density(param: np.ndarray, orbit: np.ndarray, bins: tuple[int, int] = (1000, 600),
                  value_range: tuple[float, float] | None = None, chunk: int = 1 << 22):
    """Count visited values per pixel: the data of an orbit-diagram density image.

    Parameters
    ----------
    param : ndarray, shape (m,), float64
        Parameter of each row (increasing).
    orbit : ndarray, shape (m, n), float64
        Values visited (NaN ignored).
    bins : (int, int)
        Pixels along the parameter and along the value.
    value_range : (float, float), optional
        Value axis limits (default: the finite min and max).

    Returns
    -------
    counts : ndarray, shape (bins[1], bins[0]), int64
        Row = value bin (low to high), column = parameter bin.
    p_edges, v_edges : ndarray
        Bin edges.
    """
    param = np.asarray(param, dtype=np.float64)
    orbit = np.asarray(orbit, dtype=np.float64)
    nx, nv = int(bins[0]), int(bins[1])
    nx = min(nx, param.size)
    if value_range is None:
        fin = orbit[np.isfinite(orbit)]
        if fin.size == 0:
            raise EosfastError("the orbit has no finite values")
        lo, hi = float(fin.min()), float(fin.max())
    else:
        lo, hi = map(float, value_range)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 1e-9 * (hi - lo)
    p_edges = np.linspace(param.min(), param.max(), nx + 1) if param.size > 1 else \
        np.array([param[0] - 0.5, param[0] + 0.5])
    v_edges = np.linspace(lo - pad, hi + pad, nv + 1)
    col = np.clip(np.searchsorted(p_edges, param, side="right") - 1, 0, nx - 1)
    counts = np.zeros(nv * nx, dtype=np.int64)
    rows_per = max(1, chunk // max(1, orbit.shape[1]))
    scale = nv / (v_edges[-1] - v_edges[0])
    for r0 in range(0, orbit.shape[0], rows_per):
        block = orbit[r0:r0 + rows_per]
        vb = np.floor((block - v_edges[0]) * scale)
        ok = np.isfinite(vb) & (vb >= 0) & (vb < nv)
        vb[~ok] = 0.0
        flat = vb.astype(np.int64) * nx + col[r0:r0 + rows_per, None]
        counts += np.bincount(flat[ok], minlength=nv * nx)
    return counts.reshape(nv, nx), p_edges, v_edges


def density_image(ax: Axes, param, orbit, bins=(1000, 600), value_range=None,
                  cmap: str = "magma_r"):
    """Orbit diagram as an image of log counts per pixel (not a scatter of dots).

    Returns
    -------
    AxesImage
        ``get_array()`` holds the counts (zeros masked).
    """
    counts, pe, ve = orbit_density(param, orbit, bins, value_range)
    data = np.ma.masked_equal(counts, 0)
    vmax = max(int(counts.max()), 2)
    im = ax.imshow(data, origin="lower", aspect="auto", extent=[pe[0], pe[-1], ve[0], ve[-1]],
                   cmap=cmap, norm=mcolors.LogNorm(vmin=1, vmax=vmax), interpolation="nearest")
    return im


def lyapunov_strip(ax: Axes, eta, lyap):
    """The largest Lyapunov exponent against eta (positive: chaos, shaded).

    Returns
    -------
    Line2D
    """
    eta = np.asarray(eta)
    lyap = np.asarray(lyap, dtype=float)
    (line,) = ax.plot(eta, lyap, color="k", lw=0.5)
    ax.fill_between(eta, 0, lyap, where=lyap > 0, color="#d73027", alpha=0.6, lw=0,
                    interpolate=True)
    ax.axhline(0.0, color="#4575b4", lw=0.8)
    fin = lyap[np.isfinite(lyap)]
    if fin.size:
        top = max(float(fin.max()), 0.05) * 1.1
        lo = max(float(np.percentile(fin, 1)), -max(1.5 * top, 0.5))
        ax.set_ylim(min(lo, -0.05 * top), top)
    ax.set_ylabel("$\\lambda_{max}$")
    ax.set_xlabel("$\\eta$")
    return line


def plot_bifurcation(fig: Figure, bif, bins: tuple[int, int] = (1000, 600),
                     value_range=None) -> tuple[Axes, Axes]:
    """Orbit-diagram density image with the Lyapunov exponent as a strip below.

    Returns
    -------
    (Axes, Axes)
        The density axes and the Lyapunov axes (they share the eta axis).
    """
    gs = fig.add_gridspec(2, 2, height_ratios=[4, 1], width_ratios=[40, 1], hspace=0.06,
                          wspace=0.03)
    ax = fig.add_subplot(gs[0, 0])
    axl = fig.add_subplot(gs[1, 0], sharex=ax)
    cax = fig.add_subplot(gs[0, 1])
    im = density_image(ax, bif.eta, bif.orbit, bins, value_range)
    fig.colorbar(im, cax=cax).set_label("visits per pixel")
    ax.set_ylabel(bif.observable)
    ax.tick_params(labelbottom=False)
    ax.set_title(f"{bif.model} from ({bif.x0:g}, {bif.y0:g}): {bif.eta.size} step sizes, "
                 f"burn-in {bif.burn}, {bif.record} recorded", fontsize=9)
    lyapunov_strip(axl, bif.eta, bif.lyapunov)
    axl.set_xlim(bif.eta.min(), bif.eta.max())
    return ax, axl


# ---------------------------------------------------------------- adaptivity


def adaptivity(ax: Axes, eta, sharpness, status=None, label: str = "final sharpness"):
    """Final sharpness against eta, with ``2/eta`` and the band ``(2/eta - 20 eta/3, 2/eta)``.

    Parameters
    ----------
    eta, sharpness : array_like, shape (m,)
    status : array_like, shape (m,), optional
        Grid codes; only converged points (1) are drawn when given.

    Returns
    -------
    Line2D
        The measured curve.
    """
    eta = np.asarray(eta, dtype=float)
    sharp = np.asarray(sharpness, dtype=float)
    if status is not None:
        sharp = np.where(np.asarray(status) == 1, sharp, np.nan)
    fine = np.linspace(eta.min(), eta.max(), 400)
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


def label_panels(axes: Sequence[Axes], start: str = "a") -> None:
    """Put (a), (b), ... in the top-left corner of each axes."""
    for k, ax in enumerate(axes):
        ax.text(-0.02, 1.01, f"({chr(ord(start) + k)})", transform=ax.transAxes, va="bottom",
                ha="right", fontsize=10, fontweight="bold")


# ---------------------------------------------------------------- files


def _file_kind(path) -> str:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return str(f.attrs.get("kind", ""))
    except FileNotFoundError:
        raise EosfastError(f"{path}: no such file") from None
    except OSError as exc:
        raise EosfastError(f"{path} is not a readable HDF5 file ({exc})") from None


def render_file(kind: str, path: str | os.PathLike, image: str | os.PathLike, *,
                field: str = "status", eta: float | None = None, band: float = 0.1,
                x0: float | None = None, y0: float | None = None, dpi: int = 150) -> Path:
    """Draw a result file and write ``image`` (what ``eosfast plot`` does).

    Parameters
    ----------
    kind : str
        ``basin`` (grid file, ``field`` in :data:`BASIN_FIELDS`), ``concentration``
        (grid file), ``bifurcation``, ``trajectory``, or ``adaptivity`` (a grid
        file with several step sizes, using the init nearest ``(x0, y0)``, or a
        bifurcation file recorded with ``observable="sharpness"``).
    eta : float, optional
        Step size of a multi-eta grid file (basin, concentration).

    Returns
    -------
    Path
        The image written.
    """
    found = _file_kind(path)
    want = {"basin": "eosfast.grid", "concentration": "eosfast.grid",
            "bifurcation": "eosfast.bifurcation", "trajectory": "eosfast.trajectory"}
    if kind in want and found != want[kind]:
        raise EosfastError(f"{path} is not an {want[kind]} file (it is {found or 'unknown'})")
    if kind == "basin":
        from .store import read_grid

        fig = new_figure(7.5 if field != "steps" else 8.5, 6)
        basin(fig.subplots(), read_grid(path, eta), field, eta=eta, band=band)
    elif kind == "concentration":
        from .store import read_grid

        fig = new_figure(7, 5)
        concentration(fig.subplots(), read_grid(path, eta), eta=eta)
    elif kind == "bifurcation":
        from .bifurcation import read_bifurcation

        fig = new_figure(10, 6.5)
        plot_bifurcation(fig, read_bifurcation(path))
    elif kind == "trajectory":
        from .trajectory import read_trajectory

        fig = new_figure(12, 4.6)
        plot_trajectory(fig, read_trajectory(path))
    elif kind == "adaptivity":
        fig = new_figure(7, 5)
        ax = fig.subplots()
        if found == "eosfast.grid":
            from .store import read_grid

            r = read_grid(path)
            if r.eta.size < 2:
                raise EosfastError(f"{path} holds one step size; adaptivity needs several")
            ix = int(np.abs(r.x0 - (r.x0.mean() if x0 is None else x0)).argmin())
            iy = int(np.abs(r.y0 - (r.y0.mean() if y0 is None else y0)).argmin())
            adaptivity(ax, r.eta, r.sharpness[:, iy, ix], r.status[:, iy, ix])
            ax.set_title(f"{r.model} from ({r.x0[ix]:g}, {r.y0[iy]:g}): final sharpness",
                         fontsize=10)
        elif found == "eosfast.bifurcation":
            from .bifurcation import read_bifurcation

            b = read_bifurcation(path)
            if b.observable != "sharpness":
                raise EosfastError(f"{path} records {b.observable!r}; adaptivity needs a "
                                   "bifurcation run with --observable sharpness")
            adaptivity(ax, b.eta, b.orbit[:, -1], np.where(b.period == 1, 1, 0))
            ax.set_title(f"{b.model} from ({b.x0:g}, {b.y0:g}): final sharpness", fontsize=10)
        else:
            raise EosfastError(f"{path} is neither a grid nor a bifurcation file")
    else:
        raise EosfastError(f"unknown plot kind {kind!r}")
    return save(fig, image, dpi=dpi)
