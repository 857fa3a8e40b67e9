"""The atlas: one sweep over every registry model, side by side.

For each model of :data:`eosfast.MODELS` (the paper's networks and the
literature's losses) the same grid of initial points ``(x0, y0)`` in
``[0.05, 4]^2`` is run at the same step sizes, and two things are kept per
step size: the fraction of initial points that converge, and the final
sharpness, in units of the stability threshold ``S / (2/eta) = eta S / 2``
(median and 10-90% range), of the converged runs that *started* sharper
than ``2/eta``. A model that trains at the edge of stability ends those runs
with ``eta S / 2`` just below 1; one that ends far below it (the paper's
degree-2 contrast, s. 4.1) does not.

``data_atlas(quick)`` computes the numbers, ``draw_atlas(data)`` the picture,
``atlas(outdir)`` writes ``outdir/atlas.png`` (``eosfast figure atlas``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..grid import grid
from ..models import MODELS
from ..result import model_label
from ..status import Status

#: The common sweep: window of initial points, step sizes, step cap.
WINDOW = (0.05, 4.0)
ETAS = tuple(np.round(np.linspace(0.02, 0.5, 25), 6))
STEPS = 20000


def data_atlas(quick: bool = False) -> dict:
    """For every registry model and step size: fraction converged, quantiles of eta S / 2.

    Returns
    -------
    dict
        ``eta`` (n_eta,), ``models`` (names), and per model ``converged``
        (n_eta,) fractions, ``unstable`` (n_eta,) the fraction of starts with
        ``eta S0 / 2 > 1``, and ``ratio`` (n_eta, 3): the 10%, 50% and 90%
        quantiles of ``eta S / 2`` over the converged runs among those starts
        (NaN where none).
    """
    from ..measures import sharpness

    res, etas, steps = (20, ETAS[::6], 4000) if quick else (96, ETAS, STEPS)
    out = {"eta": np.asarray(etas, dtype=np.float64), "models": list(MODELS), "res": res,
           "steps": steps, "window": WINDOW, "converged": {}, "unstable": {}, "ratio": {},
           "formula": {}}
    for name, m in MODELS.items():
        r = grid(name, res, x_range=WINDOW, y_range=WINDOW, eta=list(etas), steps=steps)
        X, Y = np.meshgrid(r.x0, r.y0)
        s0 = sharpness(m, np.stack([X, Y], axis=-1))  # at the initial points
        conv = r.status == Status.CONVERGED
        frac = conv.reshape(conv.shape[0], -1).mean(axis=1)
        q = np.full((len(etas), 3), np.nan)
        unstable = np.zeros(len(etas))
        for k, e in enumerate(r.eta):
            sharp_start = e * s0 / 2.0 > 1.0
            unstable[k] = sharp_start.mean()
            s = r.sharpness[k][conv[k] & sharp_start]
            if s.size:
                q[k] = np.quantile(e * s / 2.0, [0.1, 0.5, 0.9])
        out["converged"][name] = frac
        out["unstable"][name] = unstable
        out["ratio"][name] = q
        out["formula"][name] = getattr(m, "reduced", "") or getattr(m, "expression", "") \
            or m.formula
        out.setdefault("params", {})[name] = dict(getattr(m, "params", None) or {})
    return out


def draw_atlas(d: dict):
    names = d["models"]
    ncol = 4
    nrow = -(-len(names) // ncol)
    fig = plots.new_figure(3.4 * ncol, 2.9 * nrow + 0.6)
    axes = fig.subplots(nrow, ncol, sharex=True, sharey=True, squeeze=False)
    eta = d["eta"]
    for ax, name in zip(axes.flat, names, strict=False):
        q = d["ratio"][name]
        frac = d["converged"][name]
        ax.axhline(1.0, **plots.THRESHOLD_STYLE)
        ax.fill_between(eta, q[:, 0], q[:, 2], color="#6baed6", alpha=0.35, lw=0,
                        label=r"final $\eta S/2$, 10-90%")
        ax.plot(eta, q[:, 1], "o-", color="#08519c", ms=3, lw=1.2,
                label=r"final $\eta S/2$, median")
        ax.plot(eta, frac, "s--", color="#d95f02", ms=2.5, lw=1.0, label="fraction converged")
        formula = d["formula"][name]
        if len(formula) > 34:
            formula = formula[:31] + "..."
        # the parameters it ran with, as everywhere a model is named
        label = model_label(name, d.get("params", {}).get(name))
        ax.set_title(f"{label}\n{formula}", fontsize=8.5)
        ax.set_ylim(0.0, 1.1)
        ax.grid(alpha=0.25, lw=0.5)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(r"step size $\eta$")
    for ax in axes[:, 0]:
        ax.set_ylabel(r"$\eta S / 2$;  fraction")
    axes.flat[0].legend(fontsize=7, loc="lower left")
    lo, hi = d["window"]
    fig.suptitle(f"Atlas: every registry model, GD from a {d['res']}x{d['res']} grid of "
                 f"(x0, y0) in [{lo:g}, {hi:g}]$^2$, {d['steps']} steps.\nBlue: final "
                 r"sharpness S in units of $2/\eta$ of the converged runs that started sharper "
                 r"than $2/\eta$ (dashed: the edge of stability).  Orange: fraction of all "
                 "starts that converge.", fontsize=9.5)
    return fig


def build_atlas(quick: bool = False):
    """Compute and draw the atlas; returns ``(Figure, data)``."""
    data = data_atlas(quick)
    return draw_atlas(data), data


def atlas(outdir: Path, quick: bool = False, force: bool = False) -> Path:
    """Write ``outdir/atlas.png`` (see the module docstring)."""
    fig, _ = build_atlas(quick)
    return plots.save(fig, Path(outdir) / "atlas.png", force=force)
