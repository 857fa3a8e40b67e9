"""The deep-network figures of Zhu et al. (ICLR 2023): Fig. 1 and Section 6.

As in :mod:`eosfast.figures.paper`, each figure is ``data_<name>(quick)`` (the
numbers behind the picture, a dict that tests inspect), ``draw_<name>(data)``
(a ``Figure``) and the registered ``<name>(outdir, quick=False)`` writing
``outdir/<name>.png``. ``quick=True`` shortens the runs for tests but keeps
every element of the picture. Needs JAX (``pip install 'eosfast[nets]'``).

- fig1: three panels, one per network of :mod:`eosfast.nets` (mlp5, linear2,
  scalar4), trained by full-batch GD at the step sizes of
  :data:`eosfast.nets.FIG1` from one initialisation each: sharpness against
  step with a dashed ``2/eta`` line per step size (top row), loss (bottom row).
- fig8: the paper's Section 6 (it has no figure number there; "fig8" follows
  the last figure of the paper's appendix numbering used in this package).
  PCA of the last :data:`eosfast.nets.FIG8` ``window`` iterates of one mlp5
  run: variance share of the top principal directions, the iterates in the
  top-2 plane with the fitted parabola ``drift = c0 + c1 osc + c2 osc^2``, its
  residual against step, and the same analysis of a zhu4 (scalar4) run for
  comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..nets import FIG1, FIG8, NetsResult, PCAResult, late_pca, run_nets

COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")

#: The scalar comparison run of fig8: zhu4 from (2.5, 0.35) at eta = 0.2,
#: analysed over its converging phase, steps 200..600 (before step ~150 it is
#: still in its initial large oscillation). Its weights (x, y, x, y) span a
#: 2-D subspace, so its top-2 share is 1 by construction.
FIG8_SCALAR = {"eta": 0.2, "steps": 600, "window": 400, "every": 10}

_TITLES = {
    "mlp5": "mlp5: 5-layer FC (50 units, {act}), digits {c0} vs {c1}, n = {n}",
    "linear2": "linear2: 2-layer linear (10 units), init factor ({f0:g}, {f1:g})",
    "scalar4": "scalar4: zhu4 from ({x0:g}, {y0:g})",
}


# ---------------------------------------------------------------------- fig1


def data_fig1(quick: bool = False) -> dict:
    """Run the three Fig. 1 networks; ``quick`` keeps the step sizes, shortens the runs.

    Returns
    -------
    dict
        ``runs``: arch -> :class:`~eosfast.nets.NetsResult`; ``seconds``: total
        wall time.
    """
    runs = {}
    for arch, d in FIG1.items():
        steps = min(d["steps"], 600) if quick else d["steps"]
        runs[arch] = run_nets(arch, d["etas"], steps, d["every"])
    return {"runs": runs, "seconds": sum(r.seconds for r in runs.values())}


def _title(r: NetsResult) -> str:
    p = r.params
    if r.arch == "mlp5":
        c0, c1 = p["classes"]
        return _TITLES["mlp5"].format(act=p["activation"].upper(), c0=c0, c1=c1,
                                      n=p["n_examples"])
    if r.arch == "linear2":
        return _TITLES["linear2"].format(f0=p["factor"][0], f1=p["factor"][1])
    return _TITLES["scalar4"].format(x0=p["init"][0], y0=p["init"][1])


def _eta_labels(etas: np.ndarray) -> list[str]:
    """``1/k`` when every step size of a panel is such a fraction, else ``%g``."""
    inv = 1.0 / etas
    if np.all(np.abs(inv - np.round(inv)) < 1e-9):
        return [f"1/{round(v)}" for v in inv]
    return [f"{e:g}" for e in etas]


def draw_fig1(d: dict):
    """Sharpness (top) and loss (bottom) per step for the three networks."""
    runs = d["runs"]
    fig = plots.new_figure(15, 7.5)
    axes = fig.subplots(2, len(runs), sharex="col", height_ratios=(3, 2))
    for col, r in enumerate(runs.values()):
        top, bottom = axes[0, col], axes[1, col]
        labels = _eta_labels(r.eta)
        for i, (eta, c) in enumerate(zip(r.eta, COLORS, strict=False)):
            ratio = r.final_ratio[i]
            end = "diverged" if r.diverged[i] else f"ends at {ratio:.3f} x 2/$\\eta$"
            top.plot(r.step, r.sharpness[i], color=c, lw=1.2,
                     label=f"$\\eta$ = {labels[i]}: {end}")
            top.axhline(2.0 / eta, color=c, ls="--", lw=1.0)
            bottom.semilogy(r.step, r.loss[i], color=c, lw=1.0)
        finite = r.sharpness[np.isfinite(r.sharpness)]
        hi = max(float(finite.max()) if finite.size else 0.0, float(np.max(2.0 / r.eta)))
        top.set_ylim(0.0, 1.08 * hi)
        top.set_title(_title(r), fontsize=9.5)
        top.set_ylabel("sharpness (dashed: 2/$\\eta$)")
        top.legend(fontsize=8, loc="lower right")
        bottom.set_ylabel("loss")
        bottom.set_xlabel("GD step")
        bottom.set_xlim(0, int(r.step[-1]))
    plots.label_panels(list(axes[0]))
    return fig


def build_fig1(quick: bool = False):
    """``(figure, data)`` of fig1."""
    d = data_fig1(quick)
    return draw_fig1(d), d


def fig1(outdir: Path, quick: bool = False, force: bool = False) -> Path:
    """Paper Fig. 1: sharpness adaptivity of mlp5 and scalar4, not of linear2.

    Writes ``outdir/fig1.png`` and returns its path.
    """
    fig, _ = build_fig1(quick)
    return plots.save(fig, Path(outdir) / "fig1.png", force=force)


# ---------------------------------------------------------------------- fig8


def data_fig8(quick: bool = False) -> dict:
    """PCA of late mlp5 iterates and of a zhu4 run (paper s. 6).

    Returns
    -------
    dict
        ``mlp5`` and ``scalar4``: :class:`~eosfast.nets.PCAResult` (each with
        its ``run``); ``seconds``.
    """
    steps, window = FIG8["steps"], FIG8["window"]
    if quick:
        steps, window = 1500, 500
    mlp = late_pca("mlp5", FIG8["eta"], steps, window, FIG8["every"])
    s = FIG8_SCALAR
    scalar = late_pca("scalar4", s["eta"], s["steps"], s["window"], s["every"])
    return {"mlp5": mlp, "scalar4": scalar,
            "seconds": mlp.run.seconds + scalar.run.seconds}


def _parabola_panel(ax, p: PCAResult, title: str) -> None:
    """Iterates in the (oscillating, drift) plane, coloured by step, over the fitted parabola."""
    o, dr = p.proj[:, p.osc], p.proj[:, 1 - p.osc]
    grid = np.linspace(o.min(), o.max(), 400)
    fit = p.coef[0] + p.coef[1] * grid + p.coef[2] * grid**2
    # thin and underneath: where the iterates do not reach (around the
    # vertex) the curve is an extrapolation, and it must not hide the data
    ax.plot(grid, fit, color="k", ls="--", lw=0.8, zorder=1,
            label=f"fitted parabola, $R^2$ = {p.r2:.4f}")
    sc = ax.scatter(o, dr, c=p.step, s=7, cmap="viridis", lw=0, zorder=2)
    ax.set_xlabel(f"PC{p.osc + 1}: oscillating (|cos| with top Hessian eigenvector "
                  f"{p.cos_top:.3f})", fontsize=8.5)
    ax.set_ylabel(f"PC{2 - p.osc}: drift")
    ax.set_title(title, fontsize=9.5)
    ax.legend(fontsize=8, loc="best")
    ax.figure.colorbar(sc, ax=ax, label="GD step", pad=0.01)


def _residual(p: PCAResult) -> np.ndarray:
    o = p.proj[:, p.osc]
    return p.proj[:, 1 - p.osc] - (p.coef[0] + p.coef[1] * o + p.coef[2] * o**2)


def draw_fig8(d: dict):
    """Variance shares, the mlp5 parabola and its residual, and the zhu4 parabola."""
    mlp: PCAResult = d["mlp5"]
    sc: PCAResult = d["scalar4"]
    fig = plots.new_figure(12, 8.5)
    (a, b), (c, e) = fig.subplots(2, 2)
    k = np.arange(1, mlp.explained.size + 1)
    a.bar(k, mlp.explained, color="#7570b3")
    a.set_yscale("log")
    a.set_xticks(k)
    a.set_xlabel("principal direction")
    a.set_ylabel("share of variance")
    eta = mlp.run.eta[0]
    a.set_title(f"mlp5, $\\eta$ = {eta:g}, iterates of steps {mlp.step[0]}..{mlp.step[-1]}: "
                f"top-2 share {mlp.top2_share:.4f}", fontsize=9.5)
    _parabola_panel(b, mlp, f"mlp5 in the top-2 PCA plane (final sharpness "
                            f"{mlp.run.final_ratio[0]:.3f} x 2/$\\eta$)")
    # the iterates alternate between the two arms of the parabola; showing
    # the arms separately makes a systematic misfit visible
    o, res = mlp.proj[:, mlp.osc], _residual(mlp)
    for arm, colour, name in ((o > 0, "#1b9e77", "arm osc > 0"), (o <= 0, "#d95f02",
                                                                   "arm osc < 0")):
        c.plot(mlp.step[arm], res[arm], ".", ms=2, color=colour, label=name)
    c.axhline(0.0, color="k", lw=0.6)
    c.set_xlabel("GD step")
    c.set_ylabel("drift - parabola")
    c.set_title(f"mlp5 parabola residual: RMS {mlp.residual_rms:.3g} "
                f"= {mlp.residual_rel:.3f} of the drift's spread", fontsize=9.5)
    c.legend(fontsize=8, markerscale=4)
    s_eta = sc.run.eta[0]
    x0, y0 = sc.run.params["init"]
    _parabola_panel(e, sc, f"scalar4: zhu4 from ({x0:g}, {y0:g}), $\\eta$ = {s_eta:g}, "
                           f"steps {sc.step[0]}..{sc.step[-1]}")
    plots.label_panels([a, b, c, e])
    return fig


def build_fig8(quick: bool = False):
    """``(figure, data)`` of fig8."""
    d = data_fig8(quick)
    return draw_fig8(d), d


def fig8(outdir: Path, quick: bool = False, force: bool = False) -> Path:
    """Paper Section 6: late mlp5 iterates lie near a 2-D plane, on a parabola.

    Writes ``outdir/fig8.png`` and returns its path.
    """
    fig, _ = build_fig8(quick)
    return plots.save(fig, Path(outdir) / "fig8.png", force=force)
