"""Theorem 3.2 (the vector case) checked on 10^5 random initialisations per panel.

For d = 10, 100, 1000 and eta = 0.01, 0.05, :func:`eosfast.ensemble` draws
``x0 ~ delta_x Unif(S^{d-1})``, ``y0 ~ delta_y Unif(S^{d-1})`` as the theorem
does (defaults of :func:`eosfast.ensemble`) and runs GD to convergence; each
panel is the histogram of the final ``|x|^2 + |y|^2``, measured from ``1/eta``
in units of ``eta``, against the theorem's band ``(-10/3, 0)`` in those
units, with the share of the converged samples inside it and the time the
ensemble took. ``eosfast figure thm32`` writes ``thm32.png``.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import plots
from ..ensemble import ensemble, in_band
from ..plots.ensemble import norm_histogram
from ..status import Status

DIMS = (10, 100, 1000)
ETAS = (0.01, 0.05)
SAMPLES = 100_000


def data_thm32(quick: bool = False) -> dict:
    """The six ensembles: per ``(eta, d)``, the final norms, counts and seconds."""
    etas, samples = ((0.05, 0.1), 2000) if quick else (ETAS, SAMPLES)
    out = {"etas": etas, "dims": DIMS, "samples": samples, "panels": {}}
    for eta in etas:
        for d in DIMS:
            t0 = time.perf_counter()
            r = ensemble(d, eta, samples)
            seconds = time.perf_counter() - t0
            conv, inside = in_band(r.status, r.norm2, eta)
            out["panels"][(eta, d)] = {
                "norm2": r.norm2[r.status == Status.CONVERGED], "converged": conv, "inside": inside,
                "seconds": seconds, "iterations": r.iterations, "params": r.params}
    return out


def draw_thm32(data: dict):
    etas, dims = data["etas"], data["dims"]
    fig = plots.new_figure(4.0 * len(dims), 3.0 * len(etas) + 0.9)
    axes = fig.subplots(len(etas), len(dims), squeeze=False)
    for i, eta in enumerate(etas):
        for j, d in enumerate(dims):
            ax = axes[i, j]
            p = data["panels"][(eta, d)]
            norm_histogram(ax, p["norm2"], eta, legend=(i, j) == (0, 0))
            share = p["inside"] / p["converged"] if p["converged"] else float("nan")
            ax.set_title(f"d = {d}, $\\eta$ = {eta:g}: {100 * share:.3f}% in band\n"
                         f"{p['converged']} of {data['samples']} converged; "
                         f"{p['seconds']:.1f} s ({p['iterations'] / p['seconds']:.2g} it/s)",
                         fontsize=8.5)
            if i < len(etas) - 1:
                ax.set_xlabel("")
            if j > 0:
                ax.set_ylabel("")
    fig.suptitle(r"Theorem 3.2: GD on $\frac{1}{4}(1 - (x^\top y)^2)^2$, $x, y \in R^d$, from "
                 r"$x_0 \sim \delta_x U(S^{d-1})$, $y_0 \sim \delta_y U(S^{d-1})$, "
                 r"$\delta_x\delta_y = 1/2$, $y \leftarrow y(1 + 2/K)$ at step 100 (K = 10)."
                 "\nThe final $|x|^2 + |y|^2$ (sharpness / 2) lands in "
                 r"$(1/\eta - 10\eta/3,\ 1/\eta)$ (green); titles: share of the converged "
                 "samples inside it, and the time the ensemble took on this machine.",
                 fontsize=9)
    return fig


def thm32(outdir: Path, quick: bool = False, force: bool = False) -> Path:
    """Write ``outdir/thm32.png`` (see the module docstring)."""
    fig = draw_thm32(data_thm32(quick))
    return plots.save(fig, Path(outdir) / "thm32.png", force=force)
