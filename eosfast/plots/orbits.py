"""Orbit diagrams: the density of visited states against eta, with the Lyapunov strip."""

from __future__ import annotations

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import EosfastError


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
    ax.set_ylabel("$\\lambda_{max}$ (nats/step)")
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
    ax.set_title(f"{bif.model_label} from ({bif.x0:g}, {bif.y0:g}): {bif.eta.size} step sizes, "
                 f"burn-in {bif.burn}, {bif.record} recorded", fontsize=9)
    lyapunov_strip(axl, bif.eta, bif.lyapunov)
    axl.set_xlim(bif.eta.min(), bif.eta.max())
    return ax, axl

