"""``eosfast.info``: what a result file holds, for people."""

from __future__ import annotations

import json
import os

import numpy as np

from .result import percent
from .status import Status, outcome_counts
from .store.gridfile import done_tiles, is_complete, open_grid, read_array
from .store.h5 import read_params, regular_file
from .store.layouts import GRID_FIELDS


def info(path: str | os.PathLike) -> str:
    """A human-readable summary of a grid file: parameters, outcomes, sharpness per eta."""
    path = regular_file(path)
    lines = []
    with open_grid(path) as f:
        params = read_params(f)
        done = done_tiles(f)
        etas = f["eta"][:]
        state = ("complete" if is_complete(f)
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
            status = read_array(f, "status", k)
            n = int(np.count_nonzero(status != Status.PENDING))
            c = outcome_counts(status)
            sharp = read_array(f, "sharpness", k)[status == Status.CONVERGED]
            if sharp.size:
                lo, med, hi = np.min(sharp), np.median(sharp), np.max(sharp)
                band = np.mean((sharp > 2 / e - 0.1) & (sharp < 2 / e))
                stats = f"{lo:10.5g} {med:10.5g} {hi:10.5g} {2 / e:8.4g} {100 * band:7.1f}%"
            else:
                stats = f"{'-':>10} {'-':>10} {'-':>10} {2 / e:8.4g} {'-':>8}"
            lines.append(f"{e:10.6g} " + " ".join(
                f"{percent(c[name], n):>{w}}" for name, w in
                (("converged", 10), ("periodic", 9), ("bounded", 8), ("diverged", 9)))
                + " " + stats)
    lines.append("fields: " + ", ".join(GRID_FIELDS) + "  ('in band': converged points with "
                 "sharpness in (2/eta - 0.1, 2/eta))")
    return "\n".join(lines)
