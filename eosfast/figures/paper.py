"""The scalar-network figures of Zhu et al. (ICLR 2023), each computed from scratch.

Every figure is two steps: ``data_<name>(quick)`` runs the computation and
returns a dict of the numbers behind the picture, ``draw_<name>(data)`` turns
it into a ``Figure``. :func:`build` does both (tests inspect its data), and the
registered functions ``<name>(outdir, quick=False)`` write
``outdir/<name>.png``. ``quick=True`` shrinks grids, sweeps and step counts
(for tests) but keeps every element of the picture.

Set-ups (math.md; paper s. 3-5):

- fig1c: zhu4 from (2.5, 0.35), eta = 1/4, 1/5, 1/6: sharpness and loss per step.
- fig2a: the same runs in the (x, y) plane over loss contours.
- fig2b: final-sharpness map at eta = 0.2, 50,000 steps, (x0, y0) in [0, 4]^2,
  the band (2/eta - 0.1, 2/eta) highlighted; its histogram beside it.
- fig3: the parabola family b^2 = a kappa / 2 + kappa^4 / 16 in (a, b), and real
  runs in the scaled plane (a / kappa^3, b / kappa^2) where the family is one
  curve: eta = 0.01 from (10.5, 0.1) (tight) and eta = 0.2 from (2.5, 0.35) (loose).
- fig5: deg2 at eta = 0.2 from inits near the EoS minimum: half-ellipse arcs
  b^2 = 4 (C - a^2) / kappa^2 in (a, b), against zhu4's parabola from the
  same inits; final against initial sharpness along a line of inits.
- fig6: deg3 at eta = 0.2: final-sharpness map and its distribution on the two
  branches of minima x y^2 = 1 (y < 1 and y > 1).
- fig7a: converge / diverge map of [3.0, 3.4] x [0.1, 0.5] at eta = 0.2.
- fig7b: eta = 0.01 from (12.5, 0.05): chaotic oscillation, then convergence
  next to the EoS minimum (about (10, 0.1)).
- fig7c: that run's (a, b) over the orbit diagram of the two-step cubic map
  b'' = b (1 + 8 a kappa - 16 b^2).
- cascade: zhu4 orbit diagram for eta in [0.45, 0.99] from (1.2, 0.9) with the
  Lyapunov exponent, the period-doubling points and the Feigenbaum ratios.
- adaptivity: final sharpness against eta from (2.5, 0.35) with 2/eta and the
  theorem's band (Corollary 3.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import plots
from ..adaptivity import adaptivity as _adaptivity
from ..bifurcation import bifurcation
from ..cycles import period_doublings
from ..grid import grid
from ..kernels.orbit import cubic_orbit_diagram
from ..measures import eos_minimum
from ..measures import sharpness as _sharpness
from ..status import Status
from ..stoprule import StopRule
from ..tiles import compute_points
from ..trajectory import trajectory

COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


# ---------------------------------------------------------------- fig1c, fig2a


def data_fig1c(quick: bool = False) -> dict:
    steps = 1500 if quick else 3000
    runs = [trajectory("zhu4", 2.5, 0.35, eta=e, steps=steps) for e in (1 / 4, 1 / 5, 1 / 6)]
    return {"runs": runs}


def draw_fig1c(d: dict):
    fig = plots.new_figure(11, 4)
    ax1, ax2 = fig.subplots(1, 2)
    for t, c in zip(d["runs"], COLORS, strict=False):
        plots.plot_sharpness(ax1, t, color=c, label=f"$\\eta$ = 1/{round(1 / t.eta)}")
        plots.plot_loss(ax2, t, color=c, label=f"$\\eta$ = 1/{round(1 / t.eta)}")
    ax1.set_title("zhu4 from (2.5, 0.35): sharpness (dashed: 2/$\\eta$)", fontsize=10)
    ax2.set_title("loss", fontsize=10)
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    plots.label_panels([ax1, ax2])
    return fig


def data_fig2a(quick: bool = False) -> dict:
    return data_fig1c(quick)


def draw_fig2a(d: dict):
    fig = plots.new_figure(7, 5.5)
    ax = fig.subplots()
    runs = d["runs"]
    xs = np.concatenate([t.x for t in runs])
    ys = np.concatenate([t.y for t in runs])
    xr = (xs.min() - 0.15, xs.max() + 0.15)
    yr = (max(ys.min() - 0.08, 1e-3), ys.max() + 0.08)
    plots.loss_contours(ax, "zhu4", xr, yr)
    for t, c in zip(runs, COLORS, strict=False):
        plots.plot_xy(ax, t, color=c, label=f"$\\eta$ = 1/{round(1 / t.eta)}")
        ax.plot(*eos_minimum(t.eta), "o", mfc="none", mec=c, ms=10, mew=1.5)
    ax.set_title("zhu4 from (2.5, 0.35) over loss contours (circles: $\\eta$-EoS minima)",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return fig


# ---------------------------------------------------------------- fig2b


def data_fig2b(quick: bool = False) -> dict:
    res, steps = (48, 5000) if quick else (512, 50000)
    r = grid(model="zhu4", res=res, x_range=(0.0, 4.0), y_range=(0.0, 4.0), eta=0.2,
              steps=steps)
    return {"grid": r}


def draw_fig2b(d: dict):
    fig = plots.new_figure(13, 5)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    plots.basin(ax1, d["grid"], "sharpness", band=0.1)
    plots.concentration(ax2, d["grid"])
    plots.label_panels([ax1, ax2])
    return fig


# ---------------------------------------------------------------- fig3


def parabola_residual(t, start_frac: float = 0.2, visible: float = 0.1) -> float:
    """Median of ``|B^2 - (A/2 + 1/16)| / max(B^2, 1/16)`` over steps after
    ``start_frac * n`` where ``|B| > visible`` (``A = a / kappa^3``, ``B = b / kappa^2``)."""
    k = t.kappa
    A = t.a / k**3
    B = t.b / k**2
    m = np.abs(B) > visible
    m[: int(start_frac * A.size)] = False
    if not m.any():
        return math.nan
    rel = np.abs(B[m] ** 2 - (A[m] / 2 + 1 / 16)) / np.maximum(B[m] ** 2, 1 / 16)
    return float(np.median(rel))


def data_fig3(quick: bool = False) -> dict:
    tight = trajectory("zhu4", 10.5, 0.1, eta=0.01, steps=150_000 if quick else 300_000)
    loose = trajectory("zhu4", 2.5, 0.35, eta=0.2, steps=3000)
    return {"tight": tight, "loose": loose, "family": (0.01, 0.02, 0.05, 0.1, 0.2),
            "residual": {"tight": parabola_residual(tight),
                         "loose": parabola_residual(loose, start_frac=0.0)}}


def draw_fig3(d: dict):
    fig = plots.new_figure(15, 4.6)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for e, c in zip(d["family"], COLORS, strict=False):
        k = math.sqrt(e)
        plots.ab_parabola(ax1, e, (-k**3 / 8, 0.02), color=c, label=f"$\\eta$ = {e:g}")
    ax1.set_xlabel("$a$")
    ax1.set_ylabel("$b$")
    ax1.set_title("$b^2 = a\\kappa/2 + \\kappa^4/16$, vertex $a = -\\kappa^3/8$", fontsize=10)
    ax1.legend(fontsize=8)
    for ax, key in ((ax2, "tight"), (ax3, "loose")):
        t = d[key]
        sc = plots.plot_ab(ax, t, scaled=True)
        fig.colorbar(sc, ax=ax).set_label("step")
        ax.set_title(f"$\\eta$ = {t.eta:g} from ({t.x0:g}, {t.y0:g}): median relative "
                     f"misfit {d['residual'][key]:.3f}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    ax1.xaxis.set_major_locator(MaxNLocator(5))
    # zoom the tight run to the part where it rides the parabola
    t = d["tight"]
    A = t.a / t.kappa**3
    lim = max(4.0, float(np.nanpercentile(A[t.a.size // 5:], 99)))
    ax2.set_xlim(-2.0, lim)
    B = np.sqrt(lim / 2 + 1 / 16) * 1.15
    ax2.set_ylim(-B, B)
    ax2.text(0.98, 0.02, f"zoom: the run starts at a/$\\kappa^3$ = {A[0]:.0f}", ha="right",
             va="bottom", transform=ax2.transAxes, fontsize=8)
    plots.label_panels([ax1, ax2, ax3])
    return fig


# ---------------------------------------------------------------- fig5


def _final_sharpness(model: str, x0: np.ndarray, y0: np.ndarray, eta: float,
                     steps: int) -> np.ndarray:
    """Final sharpness from each init (grid kernel on a list of points); NaN unless converged."""
    x0 = np.ascontiguousarray(x0, dtype=np.float64)
    out = compute_points(model, x0, np.ascontiguousarray(y0, dtype=np.float64),
                         np.full(x0.size, float(eta)), StopRule(steps=steps))
    return np.where(out["status"] == Status.CONVERGED, out["sharpness"], np.nan)


FIG5_X0 = (2.22, 2.25, 2.3)


def data_fig5(quick: bool = False) -> dict:
    eta, b0 = 0.2, 0.002
    deg2 = [trajectory("deg2", x0, (1 + b0) / x0, eta=eta, steps=400) for x0 in FIG5_X0]
    zhu4 = trajectory("zhu4", FIG5_X0[-1], (1 + b0) / FIG5_X0[-1], eta=eta, steps=3000)
    line = np.linspace(2.2, 3.0, 17 if quick else 81)
    y0 = (1 + 0.01) / line
    final = {name: _final_sharpness(name, line, y0, eta, 20000) for name in ("deg2", "zhu4")}
    initial = {name: np.asarray(_sharpness(name, np.column_stack([line, y0])))
               for name in ("deg2", "zhu4")}
    return {"eta": eta, "deg2": deg2, "zhu4": zhu4, "line_x0": line, "initial": initial,
            "final": final}


def draw_fig5(d: dict):
    fig = plots.new_figure(15, 4.6)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    eta = d["eta"]
    k = math.sqrt(eta)
    for t, c in zip(d["deg2"], COLORS, strict=False):
        ax1.plot(t.a, t.b, ".", color=c, ms=3, label=f"deg2 from x0 = {t.x0:g}")
        moving = np.abs(t.b) > 1e-6
        C = float(np.median(t.a[moving] ** 2 + k**2 * t.b[moving] ** 2 / 4))
        a = np.linspace(-math.sqrt(C), math.sqrt(C), 300)
        b = 2 * np.sqrt(np.maximum(C - a**2, 0)) / k
        ax1.plot(a, b, "--", color=c, lw=0.8)
        ax1.plot(a, -b, "--", color=c, lw=0.8)
    ax1.set_xlabel("$a$")
    ax1.set_ylabel("$b = xy - 1$")
    ax1.set_title("deg2, $\\eta$ = 0.2: ellipses $b^2 = 4(C - a^2)/\\kappa^2$ (dashed, C fitted)",
                  fontsize=10)
    ax1.legend(fontsize=7)
    sc = plots.plot_ab(ax2, d["zhu4"], size=4)
    fig.colorbar(sc, ax=ax2).set_label("step")
    ax2.set_title(f"zhu4 from x0 = {d['zhu4'].x0:g}: attracted to the parabola", fontsize=10)
    ax2.legend(fontsize=7, loc="lower left")
    for (name, c) in (("deg2", COLORS[1]), ("zhu4", COLORS[0])):
        ax3.plot(d["initial"][name], d["final"][name], "o-", color=c, ms=3, lw=0.8, label=name)
    ax3.axhline(2 / eta, **plots.THRESHOLD_STYLE, label="2/$\\eta$")
    ax3.set_xlabel("initial sharpness")
    ax3.set_ylabel("final sharpness")
    ax3.set_title("inits (x0, 1.01/x0), x0 in [2.2, 3]: deg2 ends flatter", fontsize=10)
    ax3.legend(fontsize=8)
    plots.label_panels([ax1, ax2, ax3])
    return fig


# ---------------------------------------------------------------- fig6


def data_fig6(quick: bool = False) -> dict:
    res, steps = (48, 4000) if quick else (400, 20000)
    r = grid(model="deg3", res=res, x_range=(0.05, 6.0), y_range=(0.05, 2.5), eta=0.2,
              steps=steps)
    return {"grid": r}


def draw_fig6(d: dict):
    r = d["grid"]
    eta = float(r.eta[0])
    fig = plots.new_figure(13, 5)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    plots.basin(ax1, r, "sharpness", band=0.1)
    conv = r.status[0] == Status.CONVERGED
    sh = r.sharpness[0][conv]
    fy = r.y[0][conv]
    bins = np.linspace(3.0, 2 / eta, 50)
    for mask, c, lab in ((fy < 1, COLORS[0], "branch y < 1 (x = 1/y^2 > 1)"),
                         (fy >= 1, COLORS[1], "branch y > 1")):
        ax2.hist(sh[mask], bins=bins, color=c, alpha=0.6, log=True,
                 label=f"{lab}: {mask.sum()} inits")
    ax2.axvspan(2 / eta - 20 * eta / 3, 2 / eta, color="#fdae61", alpha=0.3, zorder=0,
                label="(2/$\\eta$ - 20$\\eta$/3, 2/$\\eta$)")
    ax2.axvline(2 / eta, **plots.THRESHOLD_STYLE)
    ax2.set_xlabel("final sharpness")
    ax2.set_ylabel("converged inits")
    ax2.set_title("deg3, $\\eta$ = 0.2: final sharpness by branch of minima", fontsize=10)
    ax2.legend(fontsize=8, loc="upper left")
    plots.label_panels([ax1, ax2])
    return fig


# ---------------------------------------------------------------- fig7


def data_fig7a(quick: bool = False) -> dict:
    res, steps = (64, 3000) if quick else (1024, 10000)
    r = grid(model="zhu4", res=res, x_range=(3.0, 3.4), y_range=(0.1, 0.5), eta=0.2,
              steps=steps)
    return {"grid": r}


def draw_fig7a(d: dict):
    fig = plots.new_figure(7, 5.6)
    ax = fig.subplots()
    plots.basin(ax, d["grid"], "status")
    return fig


def data_fig7b(quick: bool = False) -> dict:
    t = trajectory("zhu4", 12.5, 0.05, eta=0.01, steps=250_000)
    return {"run": t, "eos": eos_minimum(0.01)}


def draw_fig7b(d: dict):
    t = d["run"]
    fig = plots.new_figure(15, 4.6)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    every = max(1, t.step.size // 50000)
    ax1.plot(t.step[::every], np.abs(t.b[::every]), lw=0.3, color="#2166ac")
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_ylabel("|b| = |xy - 1|")
    ax1.set_title("$\\eta$ = 0.01 from (12.5, 0.05): chaotic, then converging", fontsize=10)
    plots.plot_sharpness(ax2, t, color="#b2182b", label="sharpness")
    ax2.set_yscale("log")
    ax2.legend(fontsize=8)
    ax2.set_title("sharpness (dashed: 2/$\\eta$ = 200)", fontsize=10)
    sc = ax3.scatter(t.x[::every], t.y[::every], c=t.step[::every], s=0.5, lw=0,
                     cmap="viridis", rasterized=True)
    fig.colorbar(sc, ax=ax3).set_label("step")
    ex, ey = d["eos"]
    ax3.plot(ex, ey, "*", color="#d62728", ms=12, mec="k", label="EoS minimum")
    xm = np.linspace(t.x.min(), t.x.max(), 200)
    ax3.plot(xm, 1 / xm, color="#1a9850", lw=0.8, label="xy = 1")
    ax3.set_xlabel("$x$")
    ax3.set_ylabel("$y$")
    ax3.set_title(f"(x, y); end ({t.x[-1]:.4f}, {t.y[-1]:.5f})", fontsize=10)
    ax3.legend(fontsize=8)
    plots.label_panels([ax1, ax2, ax3])
    return fig


def data_fig7c(quick: bool = False) -> dict:
    t = trajectory("zhu4", 12.5, 0.05, eta=0.01, steps=250_000)
    k = t.kappa
    a_hi = float(np.nanmax(t.a)) * 1.02
    a = np.linspace(-0.4, a_hi, 400 if quick else 1600)
    out = np.empty((a.size, 200 if quick else 800))
    cubic_orbit_diagram(a, k, 0.05, 2000, out)
    # the map is odd: b -> -b maps orbits to orbits, so draw both signs
    return {"run": t, "a": a, "cubic": np.concatenate([out, -out], axis=1), "kappa": k}


def draw_fig7c(d: dict):
    t = d["run"]
    k = d["kappa"]
    fig = plots.new_figure(10, 6)
    ax = fig.subplots()
    fin = d["cubic"][np.isfinite(d["cubic"])]
    lim = max(float(np.abs(fin).max()), float(np.nanmax(np.abs(t.b)))) * 1.05
    im = plots.density_image(ax, d["a"], d["cubic"], bins=(800, 500), value_range=(-lim, lim),
                             cmap="Greys")
    fig.colorbar(im, ax=ax, pad=0.01).set_label("cubic map: visits per pixel")
    every = 3
    sc = ax.scatter(t.a[::every], t.b[::every], c=t.step[::every], s=0.6, lw=0,
                    cmap="viridis", alpha=0.7, rasterized=True)
    fig.colorbar(sc, ax=ax, pad=0.02).set_label("GD step")
    for val, lab in ((1 / (8 * k), "first doubling a = 1/(8$\\kappa$)"),
                     (0.0, "a = 0")):
        ax.axvline(val, color="#d62728", ls=":", lw=0.8)
        ax.text(val, lim * 0.95, " " + lab, color="#d62728", fontsize=8, va="top")
    ax.set_xlabel("$a$")
    ax.set_ylabel("$b$")
    ax.set_title("zhu4, $\\eta$ = 0.01 from (12.5, 0.05) in (a, b) over the orbit diagram "
                 "of $b \\to b(1 + 8a\\kappa - 16b^2)$", fontsize=10)
    return fig


# ---------------------------------------------------------------- cascade


def data_cascade(quick: bool = False) -> dict:
    res, burn, rec = (600, 5000, 256) if quick else (4000, 20000, 2048)
    full = bifurcation("zhu4", 1.2, 0.9, (0.45, 0.99), res, burn=burn, record=rec,
                       observable="x")
    zoom = bifurcation("zhu4", 1.2, 0.9, (0.615, 0.665), res // 2, burn=burn, record=rec,
                       observable="x")
    doubling = period_doublings("zhu4", 1.2, 0.9, coarse=full, levels=4 if quick else 6)
    return {"full": full, "zoom": zoom, "doubling": doubling}


def draw_cascade(d: dict):
    fig = plots.new_figure(15, 6.5)
    sub = fig.subfigures(1, 2, width_ratios=[1.35, 1])
    ax, axl = plots.plot_bifurcation(sub[0], d["full"])
    zx, zl = plots.plot_bifurcation(sub[1], d["zoom"])
    zx.set_title("zoom on the cascade", fontsize=9)
    dd = d["doubling"]
    for e in dd.points:
        for a in (ax, zx):
            lo, hi = a.get_xlim()
            if lo <= e <= hi:
                a.axvline(e, color="#2166ac", lw=0.5, ls=":")
    lines = [f"$\\eta_{j + 1}$ = {e:.7f} (period {p})"
             for j, (e, p) in enumerate(zip(dd.points, dd.periods, strict=True))]
    lines += [f"$\\delta_{j + 1}$ = {r:.4f}" for j, r in enumerate(dd.ratios)]
    lines.append(f"Feigenbaum $\\delta$ = {dd.feigenbaum:.4f}")
    ax.text(0.99, 0.02, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom",
            fontsize=8, family="monospace",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.6", "alpha": 0.9})
    return fig


# ---------------------------------------------------------------- adaptivity


def data_adaptivity(quick: bool = False) -> dict:
    n, steps = (24, 20000) if quick else (150, 200000)
    return {"run": _adaptivity("zhu4", 2.5, 0.35, eta=(0.05, 0.3), eta_res=n, steps=steps)}


def draw_adaptivity(d: dict):
    r = d["run"]
    fig = plots.new_figure(7, 5)
    ax = fig.subplots()
    plots.adaptivity(ax, r.eta, r.sharpness, r.status)
    ax.set_title(f"zhu4 from ({r.x0:g}, {r.y0:g}): final sharpness against $\\eta$",
                 fontsize=10)
    return fig


# ---------------------------------------------------------------- registry

_BUILDERS: dict[str, tuple[Callable[[bool], dict], Callable[[dict], object]]] = {
    name: (globals()[f"data_{name}"], globals()[f"draw_{name}"])
    for name in ("fig1c", "fig2a", "fig2b", "fig3", "fig5", "fig6", "fig7a", "fig7b",
                 "fig7c", "cascade", "adaptivity")
}

#: Figures of this module, in the paper's order.
NAMES = tuple(_BUILDERS)


def build(name: str, quick: bool = False):
    """Compute and draw figure ``name``; returns ``(Figure, data)``."""
    data_fn, draw_fn = _BUILDERS[name]
    data = data_fn(quick)
    return draw_fn(data), data


def make(name: str, outdir: str | Path, quick: bool = False, force: bool = False) -> Path:
    """Build figure ``name`` and write ``outdir/name.png``."""
    fig, _ = build(name, quick)
    return plots.save(fig, Path(outdir) / f"{name}.png", force=force)


def _maker(name: str):
    def figure(outdir: Path, quick: bool = False, force: bool = False) -> Path:
        return make(name, outdir, quick, force)

    figure.__name__ = name
    figure.__doc__ = f"Write ``outdir/{name}.png`` (see the module docstring for the set-up)."
    return figure


fig1c = _maker("fig1c")
fig2a = _maker("fig2a")
fig2b = _maker("fig2b")
fig3 = _maker("fig3")
fig5 = _maker("fig5")
fig6 = _maker("fig6")
fig7a = _maker("fig7a")
fig7b = _maker("fig7b")
fig7c = _maker("fig7c")
cascade = _maker("cascade")
adaptivity = _maker("adaptivity")
