"""The vector case's picture: final ``|x|^2 + |y|^2`` of an ensemble against Theorem 3.2's band."""

from __future__ import annotations

import numpy as np

from ..vector import norm_band

#: Histogram bins, in units of eta from 1/eta (the band is (-10/3, 0)): fixed, so that
#: a spike (every sample at one value) stays as visible as a spread.
EDGES = np.linspace(-3.8, 0.3, 206)


def norm_histogram(ax, norm2: np.ndarray, eta: float, *, legend: bool = True) -> None:
    """Histogram of the converged samples' final ``|x|^2 + |y|^2`` on ``ax``.

    Drawn as ``(|x|^2 + |y|^2 - 1/eta) / eta``, with the band
    ``(1/eta - 10/3 eta, 1/eta)`` shaded and the parabola's vertex
    ``1/eta - eta/4`` (sharpness ``2/eta - eta/2``) dotted; the range of the
    values is written in the corner. ``norm2``: float64, shape (n,).
    """
    lo, _ = norm_band(eta)
    units = (np.asarray(norm2, dtype=np.float64) - 1.0 / eta) / eta
    ax.axvspan((lo - 1.0 / eta) / eta, 0.0, color="#a1d99b", alpha=0.45, lw=0,
               label="Theorem 3.2's band")
    ax.axvline(-0.25, color="#636363", lw=0.8, ls=":",
               label=r"parabola's vertex, $1/\eta - \eta/4$")
    if units.size:
        ax.hist(units, bins=EDGES, color="#08519c")
        ax.text(0.03, 0.04, f"final: {units.min():.4f} to {units.max():.4f}",
                transform=ax.transAxes, fontsize=7.5)
        ax.set_yscale("log")
    ax.set_xlim(EDGES[0], EDGES[-1])
    ax.set_xlabel(r"$(|x|^2 + |y|^2 - 1/\eta)\,/\,\eta$ at the end")
    ax.set_ylabel("samples")
    if legend:
        ax.legend(fontsize=7, loc="upper left")
