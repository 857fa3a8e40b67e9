"""The layout of every eosfast file kind, described once.

A :class:`Layout` lists a kind's coordinates (1-D dimension scales), its data
arrays with their dimensions, dtypes and CF metadata (``long_name``,
``units``, flags), and the root attributes a reader relies on. Writers create
datasets from it (:mod:`eosfast.store.h5`) and readers check a file against it
when opening (:meth:`Layout.check`): a file with the right names but missing
arrays, wrong shapes or dtypes, or unreadable attributes is refused with one
line instead of crashing later or, worse, being summarised as if valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import EosfastError
from ..status import MEANINGS, PERIOD_MEANING, Status


@dataclass(frozen=True)
class Var:
    """One coordinate or data array of a file.

    Attributes
    ----------
    dtype : str
        NumPy dtype string (``"f8"``, ``"i1"``, ...).
    dims : tuple of str
        Dimension names (each a coordinate of the same layout).
    long_name : str
        CF ``long_name``.
    units : str or None
        CF ``units`` (``"1"`` for dimensionless); None where there is none.
    fill : number or None
        The value of points not written yet (partial files).
    attrs : dict
        Further CF attributes (``flag_values``, ``flag_meanings``).
    axis : bool
        A grid axis: its values must be finite and strictly increasing
        (checked when a file is opened).
    """

    dtype: str
    dims: tuple[str, ...]
    long_name: str
    units: str | None = None
    fill: Any = None
    attrs: dict = field(default_factory=dict)
    axis: bool = False

    def cf_attrs(self) -> dict[str, Any]:
        """The attributes to store with the dataset."""
        out: dict[str, Any] = {"long_name": self.long_name}
        if self.units is not None:
            out["units"] = self.units
        out.update(self.attrs)
        return out


@dataclass(frozen=True)
class Layout:
    """A file kind: its ``kind`` attribute, coordinates, arrays and root attributes.

    Attributes
    ----------
    kind : str
        Value of the root attribute ``kind``.
    coords, data : dict of str -> Var
    attrs : dict of str -> str
        Root attributes every file of the kind has, and what each must be:
        ``"str"``, ``"int"``, ``"real"`` (finite or not), ``"reals"`` (a 1-D
        array of them), ``"json"`` (a JSON object, the ``params``).
    groups : (str, Layout) or None
        For kinds made of groups (zoom levels): the groups' name prefix and layout.
    """

    kind: str
    coords: dict[str, Var]
    data: dict[str, Var]
    attrs: dict[str, str] = field(default_factory=dict)
    groups: tuple[str, Layout] | None = None

    def check(self, g, path, where: str = "") -> None:
        """Refuse ``g`` (an open h5py File or Group) unless it has this layout.

        Raises
        ------
        EosfastError
            One line naming the first problem found.
        """
        label = f"{path}{where}"
        for name, kind in self.attrs.items():
            if name not in g.attrs:
                raise EosfastError(f"{label} is damaged: attribute {name!r} is missing")
            try:
                value = g.attrs[name]
            except (OSError, TypeError, ValueError) as exc:
                raise EosfastError(f"{label} is damaged: attribute {name!r} is unreadable "
                                   f"({exc})") from None
            if not _attr_ok(value, kind):
                raise EosfastError(f"{label} is damaged: attribute {name!r} is not "
                                   f"{_KINDS[kind]}")
        sizes: dict[str, int] = {}
        for name, var in {**self.coords, **self.data}.items():
            d = g.get(name)
            if d is None or not hasattr(d, "shape"):
                raise EosfastError(f"{label} is damaged: array {name!r} is missing")
            if np.dtype(d.dtype) != np.dtype(var.dtype):
                raise EosfastError(f"{label} is damaged: {name!r} has dtype {d.dtype}, "
                                   f"expected {np.dtype(var.dtype)}")
            if len(d.shape) != len(var.dims):
                raise EosfastError(f"{label} is damaged: {name!r} has {len(d.shape)} "
                                   f"dimensions, expected {len(var.dims)}")
            for dim, n in zip(var.dims, d.shape, strict=True):
                if sizes.setdefault(dim, n) != n:
                    raise EosfastError(f"{label} is damaged: {name!r} has {n} along {dim}, "
                                       f"other arrays {sizes[dim]}")
            if var.axis:
                try:
                    values = d[()]
                except (OSError, ValueError, RuntimeError) as exc:
                    raise EosfastError(f"{label} is damaged: axis {name!r} is unreadable "
                                       f"({' '.join(str(exc).split())[:120]})") from None
                if not (np.all(np.isfinite(values)) and np.all(np.diff(values) > 0)):
                    raise EosfastError(f"{label} is damaged: axis {name!r} is not finite and "
                                       "strictly increasing")
        if self.groups is not None:
            prefix, sub = self.groups
            for name in g:
                if name.startswith(prefix):
                    sub.check(g[name], path, f" (group {name})")


_KINDS = {"str": "a string", "int": "an integer", "real": "a number",
          "reals": "a list of numbers", "json": "a JSON object"}


def _attr_ok(value: Any, kind: str) -> bool:
    """Whether an HDF5 attribute value is of ``kind`` (see :class:`Layout`)."""
    if kind == "str":
        return isinstance(value, str | bytes)
    if kind == "json":
        try:
            return isinstance(json.loads(value), dict)
        except (TypeError, ValueError):
            return False
    a = np.asarray(value)
    if kind == "reals":
        return a.ndim == 1 and a.dtype.kind in "iuf"
    if a.size != 1 or a.ndim > 1:  # a scalar, or a netCDF-style vector of one
        return False
    return a.dtype.kind in ("iu" if kind == "int" else "iuf")


def _status_var(dims: tuple[str, ...]) -> Var:
    codes = [Status.PENDING, Status.DIVERGED, Status.BOUNDED, Status.CONVERGED,
             Status.PERIODIC]
    return Var("i1", dims, "outcome of the GD run: " + "; ".join(
        f"{int(c)} {MEANINGS[c]}" for c in codes[1:]), None, int(Status.PENDING),
        {"flag_values": np.array([int(c) for c in codes], dtype=np.int8),
         "flag_meanings": " ".join("not_computed" if c is Status.PENDING else c.label
                                   for c in codes)})


GRID_DIMS = ("eta", "y0", "x0")


def tile_grid(shape: tuple[int, int, int], tile: tuple[int, int]) -> tuple[int, int, int]:
    """Tiles (a grid file's chunks) along ``(eta, y0, x0)`` for tiles of ``(ty, tx)``."""
    ne, ny, nx = shape
    ty, tx = tile
    return ne, -(-ny // ty), -(-nx // tx)


#: Per-point arrays of a grid, in file order.
GRID_FIELDS: dict[str, Var] = {
    "status": _status_var(GRID_DIMS),
    "steps": Var("i4", GRID_DIMS, "GD step at which the run converged or escaped; the step "
                 "cap otherwise", "steps", -1),
    "period": Var("i2", GRID_DIMS, PERIOD_MEANING + " or diverged", "1", -1),
    "sharpness": Var("f8", GRID_DIMS, "top eigenvalue of the Hessian of the objective at the "
                     "final iterate (NaN if diverged)", "1", np.nan),
    "loss": Var("f8", GRID_DIMS, "objective at the final iterate (NaN if diverged)", "1",
                np.nan),
    "x": Var("f8", GRID_DIMS, "final x (NaN if diverged)", "1", np.nan),
    "y": Var("f8", GRID_DIMS, "final y (NaN if diverged)", "1", np.nan),
}

#: Every grid field's dtype (what the kernels fill).
GRID_DTYPES = {name: np.dtype(v.dtype) for name, v in GRID_FIELDS.items()}

_ETA = Var("f8", ("eta",), "GD step size", "1", axis=True)

GRID = Layout(
    kind="eosfast.grid",
    coords={"eta": _ETA,
            "y0": Var("f8", ("y0",), "initial y", "1", axis=True),
            "x0": Var("f8", ("x0",), "initial x", "1", axis=True)},
    data=GRID_FIELDS,
    attrs={"model": "str", "steps": "int", "tol": "real", "escape": "real", "params": "json",
           "complete": "int"},
)

TRAJECTORY = Layout(
    kind="eosfast.trajectory",
    coords={"step": Var("i8", ("step",), "GD step (0: the initial point)", "steps")},
    data={
        "x": Var("f8", ("step",), "x after each step", "1"),
        "y": Var("f8", ("step",), "y after each step", "1"),
        "loss": Var("f8", ("step",), "objective GD runs on, at each step", "1"),
        "sharpness": Var("f8", ("step",), "top eigenvalue of the Hessian of the objective, "
                         "at each step", "1"),
        "a": Var("f8", ("step",), "paper s. 3: a = sqrt(x^2 - y^2) - (eta^-2 - 4)^(1/4); "
                 "NaN where undefined", "1"),
        "b": Var("f8", ("step",), "paper s. 3: b = x y - 1; NaN where undefined", "1"),
    },
    attrs={"model": "str", "eta": "real", "x0": "real", "y0": "real", "steps": "int",
           "escape": "real", "diverged": "int", "params": "json"},
)

BIFURCATION = Layout(
    kind="eosfast.bifurcation",
    coords={"eta": _ETA,
            "sample": Var("i8", ("sample",), "recorded step after the burn-in", "steps")},
    data={
        "orbit": Var("f8", ("eta", "sample"), "the observable after each recorded step "
                     "(NaN from an escape on)", "1"),
        "period": Var("i2", ("eta",), PERIOD_MEANING + ", -1 diverged", "1",
                      attrs={"flag_values": np.array([-1, 0, 1], dtype=np.int16),
                             "flag_meanings": "diverged none_found fixed_point"}),
        "lyapunov": Var("f8", ("eta",), "largest Lyapunov exponent of the recorded orbit",
                        "nats per step"),
    },
    attrs={"model": "str", "x0": "real", "y0": "real", "burn": "int", "record": "int",
           "observable": "str", "params": "json"},
)

NETS = Layout(
    kind="eosfast.nets",
    coords={"run": Var("i8", ("run",), "run index", "1"),
            "step": Var("i8", ("step",), "recorded GD step", "steps")},
    data={
        "eta": Var("f8", ("run",), "step size of each run", "1"),
        "loss": Var("f8", ("run", "step"), "1/(2n) sum (f - y)^2 at the recorded step (NaN "
                    "after divergence)", "1"),
        "sharpness": Var("f8", ("run", "step"), "top Hessian eigenvalue over all weights "
                         "(Lanczos on exact Hessian-vector products)", "1"),
        "sharpness_residual": Var("f8", ("run", "step"), "||H u - theta u|| of the top Ritz "
                                  "pair: an error bound on the sharpness", "1"),
        "diverged": Var("i1", ("run",), "1 if the run's loss became non-finite or exceeded "
                        "the escape value", "1"),
    },
    attrs={"arch": "str", "steps": "int", "every": "int", "seed": "int", "params": "json"},
)

ZOOM_LEVEL = Layout(
    kind="eosfast.zoom.level",
    coords={"eta": _ETA, "y0": GRID.coords["y0"], "x0": GRID.coords["x0"]},
    data={"status": GRID_FIELDS["status"], "steps": GRID_FIELDS["steps"]},
    attrs={"index": "int", "x_range": "reals", "y_range": "reals", "center": "reals",
           "zoom": "real", "pixel": "reals", "ulps_per_pixel": "real"},
)

#: Zoom level groups are ``level_00``, ``level_01``, ...; a level being written
#: is ``pending_level_NN`` until it is whole.
ZOOM_LEVEL_PREFIX = "level_"
ZOOM_PENDING_PREFIX = "pending_"

ZOOM = Layout(
    kind="eosfast.zoom",
    coords={}, data={},
    attrs={"model": "str", "eta": "real", "levels": "int", "res": "int", "params": "json",
           "complete": "int"},
    groups=(ZOOM_LEVEL_PREFIX, ZOOM_LEVEL),
)

_POINT = ("point",)

#: The points one level of a refined map computed (:mod:`eosfast.refine`), in
#: key order; ``ix, iy`` index that level's lattice (most are points of it that
#: are not points of the level above; where the boundary was followed back into
#: coarse cells, some lie on coarser lattices, whose points are points of this
#: one too). Attributes: ``level``, ``nx``, ``ny`` (the lattice's points per
#: axis), ``rounds``, ``seconds``.
REFINED_LEVEL = Layout(
    kind="eosfast.refined.level",
    coords={"point": Var("i8", _POINT, "computed point (row)", "1")},
    data={"ix": Var("i4", _POINT, "x0 index on this level's lattice: x0 = "
                    "numpy.linspace(x_lo, x_hi, nx)[ix]", "1"),
          "iy": Var("i4", _POINT, "y0 index on this level's lattice: y0 = "
                    "numpy.linspace(y_lo, y_hi, ny)[iy]", "1"),
          "status": _status_var(_POINT),
          "steps": Var("i4", _POINT, GRID_FIELDS["steps"].long_name, "steps", -1)},
    attrs={"level": "int", "nx": "int", "ny": "int"},
)

#: Uncomputed points of the finest lattice recomputed by ``--verify`` (group
#: ``verify``): indices on the finest lattice, the computed outcome and the
#: outcome the raster rule gave. Attributes: ``points``, ``mismatches``,
#: ``rate``, ``ci_low``, ``ci_high`` (95% Wilson interval), ``uncomputed``, ``seed``.
REFINED_VERIFY = Layout(
    kind="eosfast.refined.verify",
    coords={"point": Var("i8", _POINT, "sampled point", "1")},
    data={"ix": Var("i4", _POINT, "x0 index on the finest lattice", "1"),
          "iy": Var("i4", _POINT, "y0 index on the finest lattice", "1"),
          "status": _status_var(_POINT),
          "filled": replace(_status_var(_POINT), long_name="outcome the raster rule gives "
                            "the point (the codes of status)")},
    attrs={"points": "int", "mismatches": "int", "rate": "real", "ci_low": "real",
           "ci_high": "real", "uncomputed": "int", "seed": "int"},
)

#: A refined basin map: the base grid exactly as a grid file holds it (root
#: coordinates and arrays, one step size), then one group ``level_01``,
#: ``level_02``, ... per level of refinement. ``levels_done`` counts the levels
#: written (resume bookkeeping); ``complete`` is set after the last level and
#: the verification.
REFINED = Layout(
    kind="eosfast.refined",
    coords=GRID.coords,
    data=GRID_FIELDS,
    attrs={**GRID.attrs, "base": "int", "levels": "int", "levels_done": "int"},
    groups=("level_", REFINED_LEVEL),
)

_SAMPLE = ("sample",)

#: Per-sample arrays of a vector-case ensemble (:mod:`eosfast.ensemble`), in file order.
ENSEMBLE_FIELDS: dict[str, Var] = {
    "inner0": Var("f8", _SAMPLE, "initial x^T y (x0, y0 drawn on spheres of radii delta_x, "
                  "delta_y)", "1", np.nan),
    "status": _status_var(_SAMPLE),
    "steps": Var("i4", _SAMPLE, GRID_FIELDS["steps"].long_name, "steps", -1),
    "period": Var("i2", _SAMPLE, PERIOD_MEANING + " or diverged", "1", -1),
    "norm2": Var("f8", _SAMPLE, "|x|^2 + |y|^2 at the final iterate (NaN if diverged)", "1",
                 np.nan),
    "sharpness": Var("f8", _SAMPLE, "top eigenvalue of the 2d x 2d Hessian of the objective "
                     "at the final iterate (NaN if diverged)", "1", np.nan),
    "loss": Var("f8", _SAMPLE, "1/4 (1 - (x^T y)^2)^2 at the final iterate (NaN if "
                "diverged)", "1", np.nan),
    "inner": Var("f8", _SAMPLE, "x^T y at the final iterate (NaN if diverged)", "1", np.nan),
}

#: A vector-case ensemble (Theorem 3.2): one row per random initialisation.
#: ``resume/piece_done`` (int8, one flag per piece of samples) is set once a
#: piece's chunks are written; ``complete`` once every piece is.
ENSEMBLE = Layout(
    kind="eosfast.ensemble",
    coords={"sample": Var("i8", _SAMPLE, "sample index", "1", axis=True)},
    data=ENSEMBLE_FIELDS,
    attrs={"objective": "str", "dim": "int", "eta": "real", "delta_x": "real",
           "delta_y": "real", "samples": "int", "seed": "int", "steps": "int", "tol": "real",
           "escape": "real", "params": "json", "complete": "int"},
)

#: What a grid's dimensions may be named for (:mod:`eosfast.axes`), with each
#: coordinate's CF ``long_name``.
AXIS_LONG_NAMES = {"eta": "GD step size", "x0": "initial x", "y0": "initial y",
                   "eta_x": "step size of the layers carrying x",
                   "eta_y": "step size of the layers carrying y", "beta": "momentum"}


def grid_layout(axes: tuple[str, str, str] = GRID_DIMS) -> Layout:
    """The grid layout with dimensions named ``axes`` (a plane's; :mod:`eosfast.axes`)."""
    axes = tuple(axes)
    if axes == GRID_DIMS:
        return GRID
    coords = {a: Var("f8", (a,), AXIS_LONG_NAMES[a], "1", axis=True) for a in axes}
    data = {n: replace(v, dims=axes) for n, v in GRID_FIELDS.items()}
    return replace(GRID, coords=coords, data=data)


def file_axes(g, path="") -> tuple[str, str, str]:
    """The dimensions of a grid file: its root attribute ``axes``, else ``(eta, y0, x0)``."""
    raw = g.attrs.get("axes")
    if raw is None:
        return GRID_DIMS
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    names = tuple(text.split())
    if len(names) != 3 or len(set(names)) != 3 or not set(names) <= set(AXIS_LONG_NAMES):
        raise EosfastError(f"{path} is damaged: attribute 'axes' is {text!r}, not three "
                           f"distinct names of {', '.join(AXIS_LONG_NAMES)}")
    return names  # type: ignore[return-value]


def layout_of(kind: str, g, path="") -> Layout:
    """The layout a file of ``kind`` must have (a grid's depends on its axes)."""
    if kind == GRID.kind:
        return grid_layout(file_axes(g, path))
    return LAYOUTS[kind]


#: kind -> layout, for the opener.
LAYOUTS: dict[str, Layout] = {lay.kind: lay for lay in (GRID, TRAJECTORY, BIFURCATION, NETS,
                                                         ZOOM, REFINED, ENSEMBLE)}
