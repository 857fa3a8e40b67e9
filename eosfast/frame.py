"""Readers for people: a pandas DataFrame of a grid file and a text summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from . import store
from .result import CONVERGED, FIELDS, outcome_counts


def read_frame(path: str | os.PathLike, eta: float | None = None):
    """Load a grid result file as a pandas DataFrame.

    Parameters
    ----------
    path : path-like
        An eosfast grid file.
    eta : float, optional
        Only the slice with this step size.

    Returns
    -------
    pandas.DataFrame
        One row per grid point, columns ``eta, x0, y0, status, steps, period,
        sharpness, loss, x, y`` (dtypes as in the file; rows in (eta, y0, x0)
        order, x0 fastest).
    """
    return store.read_grid(path, eta=eta).to_frame()


def info(path: str | os.PathLike) -> str:
    """A human-readable summary of a grid file: parameters, outcomes, sharpness per eta."""
    path = Path(path)
    lines = []
    with store.open_existing(path) as f:
        params = store.read_params(f, path)
        done = store.done_tiles(f)
        etas = f["eta"][:]
        state = ("complete" if store.is_complete(f)
                 else f"partial: {done.sum()} of {done.size} tiles done")
        lines.append(f"{path}: eosfast grid ({state}), written by eosfast "
                     f"{f.attrs.get('eosfast_version')} on {f.attrs.get('created')}")
        shown = {k: v for k, v in params.items() if k != "eta"}
        lines.append("parameters: " + json.dumps(shown, sort_keys=True))
        lines.append(f"eta: {etas.size} value(s) from {etas.min():.6g} to {etas.max():.6g}; "
                     f"grid {f['y0'].size} x {f['x0'].size} (y0 x x0)")
        header = (f"{'eta':>10} {'converged':>10} {'periodic':>9} {'bounded':>8} "
                  f"{'diverged':>9} {'sharp min':>10} {'median':>10} {'max':>10} "
                  f"{'2/eta':>8} {'in band':>8}")
        lines.append(header)
        for k, e in enumerate(etas):
            status = f["status"][k]
            computed = status != store.FILL["status"]
            n = max(1, int(computed.sum()))
            c = outcome_counts(status)
            sharp = f["sharpness"][k][status == CONVERGED]
            if sharp.size:
                lo, med, hi = np.min(sharp), np.median(sharp), np.max(sharp)
                band = np.mean((sharp > 2 / e - 0.1) & (sharp < 2 / e))
                stats = f"{lo:10.5g} {med:10.5g} {hi:10.5g} {2 / e:8.4g} {100 * band:7.1f}%"
            else:
                stats = f"{'-':>10} {'-':>10} {'-':>10} {2 / e:8.4g} {'-':>8}"
            lines.append(f"{e:10.6g} " + " ".join(
                f"{100 * c[name] / n:{w}.1f}%" for name, w in
                (("converged", 9), ("periodic", 8), ("bounded", 7), ("diverged", 8))) + " " + stats)
    lines.append("fields: " + ", ".join(FIELDS) + "  ('in band': converged points with "
                 "sharpness in (2/eta - 0.1, 2/eta))")
    return "\n".join(lines)
