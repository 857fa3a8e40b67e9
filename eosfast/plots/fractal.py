"""Box counts of a basin boundary: ln N against ln(1/eps) with the fitted line."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import new_figure

if TYPE_CHECKING:  # pragma: no cover
    from ..fractal import FractalResult


def plot_box_counts(result: FractalResult, ax: Any = None) -> Any:
    """Plot ``ln N`` against ``ln(1/eps)`` with the fitted line.

    Parameters
    ----------
    result : FractalResult
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.

    Returns
    -------
    matplotlib Axes
        ``eps`` is in data units when the pixel spacing is known, else in pixels.
    """
    if ax is None:
        ax = new_figure(5.0, 4.0).subplots()
    unit = math.sqrt(result.pixel[0] * result.pixel[1]) if result.pixel else 1.0
    ok = result.box_counts > 0
    x = np.log(1.0 / (result.box_sizes[ok] * unit))
    y = np.log(result.box_counts[ok].astype(float))
    lo, hi = result.box_fit
    infit = (result.box_sizes[ok] >= lo) & (result.box_sizes[ok] <= hi)
    ax.plot(x[~infit], y[~infit], "o", mfc="none", color="0.5", label="outside fit")
    ax.plot(x[infit], y[infit], "o", color="C0", label="box counts")
    if infit.sum() >= 2 and np.isfinite(result.box_dimension):
        xf = x[infit]
        c = float(np.mean(y[infit] - result.box_dimension * xf))
        ax.plot(xf, c + result.box_dimension * xf, "-", color="C1",
                label=f"D = {result.box_dimension:.3f} ± {result.box_dimension_err:.3f}")
    ax.set_xlabel("ln(1/ε)" + ("" if result.pixel else "  (ε in pixels)"))
    ax.set_ylabel("ln N(ε)")
    ax.legend(loc="upper left", frameon=False)
    title = result.meta.get("model")
    if title:
        ax.set_title(f"{title}, eta = {result.meta.get('eta'):g}")
    return ax
