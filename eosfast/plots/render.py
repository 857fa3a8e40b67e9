"""``eosfast plot``: draw a result file into an image."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import validate
from ..defaults import BASIN_FIELDS, DPI, PLOT_KINDS
from ..errors import EosfastError
from ..status import Status
from ..store.atomic import check_output
from ..store.h5 import file_kind
from ..validate import show
from .base import image_format, new_figure, save

#: Plot kind -> the file kinds it draws.
SOURCES = {"basin": ("eosfast.grid", "eosfast.refined"), "concentration": ("eosfast.grid",),
           "bifurcation": ("eosfast.bifurcation",), "trajectory": ("eosfast.trajectory",),
           "adaptivity": ("eosfast.grid", "eosfast.bifurcation"),
           "ensemble": ("eosfast.ensemble",)}


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
        nearest ``(x0, y0)``, by default one whose runs converge:
        :func:`eosfast.adaptivity.from_grid`; or a bifurcation file recorded
        with ``observable="sharpness"``), ``ensemble`` (an ensemble file: the
        final ``|x|^2 + |y|^2`` of its converged samples against Theorem 3.2's band).
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
        raise EosfastError(f"unknown plot kind {show(kind)} (choose from {', '.join(PLOT_KINDS)})")
    force = validate.flag("force", force)
    field = validate.choice("field", field, BASIN_FIELDS)
    band = validate.real("band", band, positive=True)
    eta = None if eta is None else validate.real("eta", eta, positive=True)
    x0 = None if x0 is None else validate.real("x0", x0)
    y0 = None if y0 is None else validate.real("y0", y0)
    image = validate.path("image", image)
    found = file_kind(path)
    check_output(image, force=force, reads=[path])
    image_format(image)
    if found not in SOURCES[kind]:
        raise EosfastError(f"{path} is an {found} file; `plot {kind}` draws "
                           f"{' or '.join(SOURCES[kind])} files")
    if kind == "basin":
        width = 7.5 if field != "steps" else 8.5
        fig = new_figure(width, 6)
        if found == "eosfast.refined":
            r = _refined_raster(path, field, eta)
        else:
            # no more points than the image has pixels: a 4096^2 file is read
            # strided (chunk by chunk inside HDF5), never whole
            r = read_grid(path, eta, fields=_basin_fields(field),
                          stride=_picture_stride(path, int(width * dpi)))
        _refuse_pending(r, path)
        # r holds the slice read for eta (the reader matched it, and said so if near)
        basins.basin(fig.subplots(), r, field, eta=None, band=band)
    elif kind == "concentration":
        fig = new_figure(7, 5)
        r = read_grid(path, eta, fields=["status", "sharpness"])
        _refuse_pending(r, path)
        basins.concentration(fig.subplots(), r, eta=None)
    elif kind == "ensemble":
        from ..ensemble import in_band
        from ..readers import read_ensemble
        from .ensemble import norm_histogram

        df = read_ensemble(path, ["status", "norm2"])
        p = df.attrs
        status, norm2 = df["status"].to_numpy(), df["norm2"].to_numpy()
        conv, inside = in_band(status, norm2, p["eta"])
        fig = new_figure(7, 4.6)
        ax = fig.subplots()
        norm_histogram(ax, norm2[status == Status.CONVERGED], p["eta"])
        share = f"{100 * inside / conv:.3f}%" if conv else "none converged"
        ax.set_title(f"d = {p['dim']}, $\\eta$ = {p['eta']:g}: {conv} of {len(df)} "
                     f"samples converged; {share} inside the band", fontsize=10)
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
            from ..adaptivity import from_grid
            from ..optimizer import Optimizer

            a = from_grid(path, x0, y0)
            basins.adaptivity(ax, a.eta, a.sharpness, a.status,
                              optimizer=Optimizer.from_params(a.params))
            conv = int(np.count_nonzero(a.status == Status.CONVERGED))
            how = Optimizer.from_params(a.params).describe()
            ax.set_title(f"{a.model_label}{', ' + how if how else ''} from ({a.x0:g}, "
                         f"{a.y0:g}): final sharpness (converged at {conv} of {a.eta.size} "
                         "step sizes)", fontsize=10)
        else:
            from ..bifurcation import read_bifurcation

            b = read_bifurcation(path)
            if b.observable != "sharpness":
                raise EosfastError(f"{path} records {b.observable!r}; adaptivity needs a "
                                   "bifurcation run with --observable sharpness")
            from ..optimizer import Optimizer

            basins.adaptivity(ax, b.eta, b.orbit[:, -1],
                              np.where(b.period == 1, Status.CONVERGED, Status.BOUNDED),
                              optimizer=Optimizer.from_params(b.params))
            ax.set_title(f"{b.model_label} from ({b.x0:g}, {b.y0:g}): final sharpness", fontsize=10)
    return save(fig, image, dpi=dpi, force=force, reads=[path])


def _picture_stride(path, pixels: int) -> tuple[int, int]:
    from ..readers import picture_stride
    from ..store.gridfile import open_grid

    with open_grid(path) as f:
        return picture_stride(f["status"].shape[1:], pixels)


#: A refined file is drawn from its deepest level with at most this many points per axis
#: (the levels below it are not read).
REFINED_POINTS = 4097
REFINED_LEVELS_MAX = 32


def _refined_raster(path, field: str, eta: float | None):
    """The outcome raster of a refined file to draw (no point is recomputed)."""
    from ..refine import lattice_points, read_refined

    if field != "status":
        raise EosfastError(f"{path} is a refined map: its {field} values exist only at the "
                           "points it computed (near the boundary), not over a whole raster, "
                           "so `plot "
                           "basin` draws its status; `eosfast export "
                           f"{path} -o points.parquet` gives every computed point with its "
                           "steps")
    head = read_refined(path, levels=0)
    if eta is not None and not np.isclose(eta, head.spec.eta, rtol=1e-12, atol=0.0):
        raise EosfastError(f"{path} holds eta={float(head.spec.eta)!r}, not {float(eta)!r}")
    level = max(k for k in range(REFINED_LEVELS_MAX)
                if k == 0 or lattice_points(head.spec.base, k) <= REFINED_POINTS)
    return read_refined(path, levels=level).raster()


def _basin_fields(field: str) -> list[str]:
    return ["status"] + ([field] if field != "status" else [])


def _refuse_pending(result, path) -> None:
    if np.all(result.status == Status.PENDING):
        raise EosfastError(f"{path}: this slice is not computed yet (resume the run first)")
