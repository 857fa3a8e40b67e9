"""``eosfast plot``: draw a result file into an image."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..defaults import DPI, PLOT_KINDS
from ..errors import EosfastError
from ..status import Status
from ..store.atomic import check_output
from ..store.h5 import file_kind
from .base import new_figure, save

#: Plot kind -> the file kinds it draws.
SOURCES = {"basin": ("eosfast.grid", "eosfast.refined"), "concentration": ("eosfast.grid",),
           "bifurcation": ("eosfast.bifurcation",), "trajectory": ("eosfast.trajectory",),
           "adaptivity": ("eosfast.grid", "eosfast.bifurcation")}


def render_file(kind: str, path: str | os.PathLike, image: str | os.PathLike, *,
                field: str = "status", eta: float | None = None, band: float = 0.1,
                x0: float | None = None, y0: float | None = None, dpi: int = DPI,
                force: bool = False) -> Path:
    """Draw a result file and write ``image`` (what ``eosfast plot`` does).

    Parameters
    ----------
    kind : str
        ``basin`` (grid file, ``field`` in :data:`~eosfast.defaults.BASIN_FIELDS`;
        or a refined file, ``status`` only, drawn from the raster of its
        deepest level with at most :data:`REFINED_POINTS` points per axis),
        ``concentration`` (grid file), ``bifurcation``, ``trajectory``, or
        ``adaptivity`` (a grid file with several step sizes, using the init
        nearest ``(x0, y0)``, or a bifurcation file recorded with
        ``observable="sharpness"``).
    path : path-like
        The result file (never replaced by the image).
    eta : float, optional
        Step size of a multi-eta grid file (basin, concentration).
    force : bool
        Replace an existing image.

    Returns
    -------
    Path
        The image written.
    """
    from ..readers import read_grid
    from . import basins, orbits, trajectory

    if kind not in PLOT_KINDS:
        raise EosfastError(f"unknown plot kind {kind!r} (choose from {', '.join(PLOT_KINDS)})")
    found = file_kind(path)
    check_output(image, force=force, reads=[path])
    if found not in SOURCES[kind]:
        raise EosfastError(f"{path} is an {found} file; `plot {kind}` draws "
                           f"{' or '.join(SOURCES[kind])} files")
    if kind == "basin":
        fig = new_figure(7.5 if field != "steps" else 8.5, 6)
        if found == "eosfast.refined":
            r = _refined_raster(path, field, eta)
        else:
            r = read_grid(path, eta, fields=_basin_fields(field))
        _refuse_pending(r, path)
        basins.basin(fig.subplots(), r, field, eta=eta, band=band)
    elif kind == "concentration":
        fig = new_figure(7, 5)
        r = read_grid(path, eta, fields=["status", "sharpness"])
        _refuse_pending(r, path)
        basins.concentration(fig.subplots(), r, eta=eta)
    elif kind == "bifurcation":
        from ..bifurcation import read_bifurcation

        fig = new_figure(10, 6.5)
        orbits.plot_bifurcation(fig, read_bifurcation(path))
    elif kind == "trajectory":
        from ..trajectory import read_trajectory

        fig = new_figure(12, 4.6)
        trajectory.plot_trajectory(fig, read_trajectory(path))
    else:
        fig = new_figure(7, 5)
        ax = fig.subplots()
        if found == "eosfast.grid":
            r = read_grid(path, fields=["status", "sharpness"])
            if r.eta.size < 2:
                raise EosfastError(f"{path} holds one step size; adaptivity needs several")
            ix = int(np.abs(r.x0 - (r.x0.mean() if x0 is None else x0)).argmin())
            iy = int(np.abs(r.y0 - (r.y0.mean() if y0 is None else y0)).argmin())
            basins.adaptivity(ax, r.eta, r.sharpness[:, iy, ix], r.status[:, iy, ix])
            ax.set_title(f"{r.model} from ({r.x0[ix]:g}, {r.y0[iy]:g}): final sharpness",
                         fontsize=10)
        else:
            from ..bifurcation import read_bifurcation

            b = read_bifurcation(path)
            if b.observable != "sharpness":
                raise EosfastError(f"{path} records {b.observable!r}; adaptivity needs a "
                                   "bifurcation run with --observable sharpness")
            basins.adaptivity(ax, b.eta, b.orbit[:, -1],
                              np.where(b.period == 1, Status.CONVERGED, Status.BOUNDED))
            ax.set_title(f"{b.model} from ({b.x0:g}, {b.y0:g}): final sharpness", fontsize=10)
    return save(fig, image, dpi=dpi, force=force, reads=[path])


#: A refined file is drawn from its deepest level with at most this many points per axis
#: (the levels below it are not read).
REFINED_POINTS = 4097
REFINED_LEVELS_MAX = 32


def _refined_raster(path, field: str, eta: float | None):
    """The outcome raster of a refined file to draw (no point is recomputed)."""
    from ..refine import lattice_points, read_refined

    if field != "status":
        raise EosfastError(f"{path} is a refined map: it draws --field status only")
    head = read_refined(path, levels=0)
    if eta is not None and not np.isclose(eta, head.spec.eta, rtol=1e-12, atol=0.0):
        raise EosfastError(f"{path} holds eta={head.spec.eta:g}, not {eta:g}")
    level = max(k for k in range(REFINED_LEVELS_MAX)
                if k == 0 or lattice_points(head.spec.base, k) <= REFINED_POINTS)
    return read_refined(path, levels=level).raster()


def _basin_fields(field: str) -> list[str]:
    return ["status"] + ([field] if field != "status" else [])


def _refuse_pending(result, path) -> None:
    if np.all(result.status == Status.PENDING):
        raise EosfastError(f"{path}: this slice is not computed yet (resume the run first)")
