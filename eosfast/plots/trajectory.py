"""Trajectories: sharpness and loss per step, the (a, b) plane, the (x, y) plane."""

from __future__ import annotations

import math

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_sharpness(ax: Axes, traj, color=None, label: str | None = None,
                   threshold: bool = True):
    """Sharpness against step, with the optimizer's threshold (``2/eta`` for GD).

    Returns
    -------
    Line2D
    """
    label = label if label is not None else f"$\\eta$ = {traj.eta:g}"
    (line,) = ax.plot(traj.step, traj.sharpness, color=color, lw=1.0, label=label)
    if threshold:
        ax.axhline(traj.threshold, color=line.get_color(), ls="--", lw=0.8, alpha=0.8)
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
    """Log-spaced contours of the model's objective over ``(x, y)`` (and a network's minima).

    For a network the global minima ``P = 1`` are drawn too; an expression
    model's loss is evaluated by its compiled ``loss``.

    Returns
    -------
    QuadContourSet
    """
    from ..models import get_model

    m = get_model(model)
    x = np.linspace(*x_range, res)
    y = np.linspace(*y_range, res)
    X, Y = np.meshgrid(x, y)
    if m.kind != "network":
        from ..measures import loss

        L = np.asarray(loss(m, np.stack([X, Y], axis=-1)))
        finite = L[np.isfinite(L)]
        # contours at quantiles of the loss: any scale, any sign
        lv = np.unique(np.quantile(finite, np.linspace(0.02, 0.98, levels))) \
            if finite.size else np.array([])
        cs = ax.contour(X, Y, np.where(np.isfinite(L), L, np.nan),
                        levels=lv if lv.size >= 2 else levels, cmap="Greys", linewidths=0.6)
        ax.set_xlim(*x_range)
        ax.set_ylim(*y_range)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        return cs
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
    ax1.set_title(f"{traj.model_label}, $\\eta$ = {traj.eta:g}, from ({traj.x0:g}, {traj.y0:g})"
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

