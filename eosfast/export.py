"""``eosfast export``: a grid file as Parquet (pandas, polars, DuckDB) or netCDF-4.

A refined map (``eosfast refine``) exports its computed points to Parquet,
one row each (:data:`REFINED_COLUMNS`), the base grid first and then level
by level: the rows of :meth:`eosfast.refine.RefinedResult.to_frame`.

``pd.read_hdf`` cannot read eosfast files (it reads only PyTables' own
layout); these are the formats other tools open directly:

* **Parquet** (``.parquet``, needs ``pip install "eosfast[export]"`` for
  pyarrow): the rows of :func:`eosfast.read_frame`, same columns, same order,
  same dtypes, one row group per band of rows; the file's parameters are in
  the schema metadata (key ``eosfast``, JSON) and each column carries its
  ``long_name`` / ``units``. Read it with ``pd.read_parquet``,
  ``polars.read_parquet`` or DuckDB's ``SELECT * FROM 'grid.parquet'``.
* **netCDF-4** (``.nc``, written with h5netcdf): the arrays over
  ``(eta, y0, x0)`` with their CF attributes and without the resume
  bookkeeping, for ``ncdump``, NCO, CDO, Panoply or ``xarray.open_dataset``.

Both are written one band of rows of one eta slice at a time (about 2^20
points), so memory does not grow with the file, and through
:class:`~eosfast.store.Output` (locked, written aside, renamed; an existing
output replaced only with ``force``, never the file read).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import frame, validate
from .errors import EosfastError, InvalidArgument
from .progress import notifier
from .readers import count_bands, iter_blocks
from .result import Result, model_label
from .store.atomic import Output
from .store.gridfile import axes_of, coords_of, eta_index, is_complete, open_grid
from .store.h5 import file_kind, read_params
from .store.layouts import ENSEMBLE, ENSEMBLE_FIELDS, GRID, GRID_FIELDS, REFINED, grid_layout

#: Formats and the file name endings that select them.
FORMATS = {"parquet": (".parquet", ".pq"), "netcdf": (".nc", ".nc4")}

#: Columns of a refined map's export: the level that computed the point (0 the
#: base grid), its exact lattice coordinates, and the fields a refined file keeps.
REFINED_COLUMNS = {"level": np.dtype(np.int8), "x0": np.dtype(np.float64),
                   "y0": np.dtype(np.float64), "status": np.dtype(np.int8),
                   "steps": np.dtype(np.int32)}

#: Compression of the Parquet columns (every Parquet reader decodes zstd).
PARQUET_COMPRESSION = "zstd"


@dataclass(repr=False)
class Export(Result):
    """What :func:`export` wrote.

    Attributes
    ----------
    path : Path
    format : str
        ``"parquet"`` or ``"netcdf"``.
    rows : int
        Grid points written (rows of the Parquet table).
    columns : list of str
    complete : bool
        False when the source is a partial run (its pending points have
        ``status == -128``, as :func:`eosfast.read_frame` shows them).
    seconds : float
    """

    path: Path
    format: str
    rows: int
    columns: list[str]
    complete: bool
    seconds: float
    axes: tuple[str, ...] = ("eta", "y0", "x0")

    def summary(self) -> str:
        partial = "" if self.complete else " (partial run: pending points have status -128)"
        if self.format == "netcdf":  # variables on dimensions, not a table
            what = (f"{len(self.columns)} variables ({', '.join(self.columns)}) on "
                    f"({', '.join(self.axes)}), {self.rows} grid points")
        else:
            what = f"{self.rows} rows x {len(self.columns)} columns ({', '.join(self.columns)})"
        return f"{self.path}: {self.format}, {what} in {self.seconds:.2f} s{partial}"


def output_format(out: Path, fmt: str | None) -> str:
    """The format to write: ``fmt``, or the one ``out``'s suffix names."""
    if fmt is not None:
        return validate.choice("format", fmt, FORMATS)
    suffix = out.suffix.lower()
    for name, endings in FORMATS.items():
        if suffix in endings:
            return name
    raise InvalidArgument(f"{{out}} {str(out)!r} ends in neither .parquet nor .nc; name the "
                          "format with {format}", "out", "format")


def export(path: str | os.PathLike, out: str | os.PathLike, *, format: str | None = None,
           eta: float | None = None, columns: Iterable[str] | None = None,
           force: bool = False, progress: Callable[[int, int], None] | None = None) -> Export:
    """Write the grid file ``path`` as Parquet or netCDF-4, streaming.

    Parameters
    ----------
    path : path-like
        An eosfast grid file (complete or a partial run), a refined map
        (Parquet only: one row per computed point, columns
        :data:`REFINED_COLUMNS`), or an ensemble (Parquet only: one row a
        sample, columns :data:`ENSEMBLE_COLUMNS`).
    out : path-like
        The output; ``.parquet`` / ``.pq`` for Parquet, ``.nc`` / ``.nc4`` for
        netCDF-4 (or say so with ``format``).
    format : {"parquet", "netcdf"}, optional
    eta : float, optional
        Only the slice with this step size.
    columns : iterable of str, optional
        Parquet: the columns, of ``eta, x0, y0, status, steps, period,
        sharpness, loss, x, y`` (default all, in that order). netCDF: the
        data variables (the coordinates are always written).
    force : bool
        Replace an existing ``out``.
    progress : callable, optional
        ``progress(bands_done, bands_total)`` (:mod:`eosfast.progress`).

    Returns
    -------
    Export
    """
    out = validate.path("out", out)
    fmt = output_format(out, format)
    force = validate.flag("force", force)
    notify = notifier(validate.callback("progress", progress))
    kind = file_kind(path)
    if kind == ENSEMBLE.kind:
        return _export_ensemble(path, out, fmt, eta, columns, force, notify)
    refined = kind == REFINED.kind
    if refined:
        cols = validate.names("columns", columns, REFINED_COLUMNS)
    else:
        with open_grid(path) as f:
            axes = axes_of(f)
        cols = frame.columns(columns, axes=axes)
    if refined and fmt != "parquet":
        raise EosfastError(f"{path} is a refined map: its computed points export to Parquet "
                           "(an output ending in .parquet), not to netCDF")
    if refined and eta is not None:
        raise InvalidArgument("{eta}: a refined map has one step size; leave it out", "eta")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise EosfastError("Parquet needs pyarrow: pip install 'eosfast[export]' (or "
                               "write netCDF-4: an output ending in .nc)") from None
    t0 = time.perf_counter()
    if refined:
        return _export_refined(path, out, cols, force, notify, t0)
    with open_grid(path) as f:
        etas, ys, xs = coords_of(f)
        which = list(range(etas.size)) if eta is None else [eta_index(etas, eta, path)]
        ny, nx = ys.size, xs.size
        rows = len(which) * ny * nx
        complete = is_complete(f)
        write = _parquet if fmt == "parquet" else _netcdf
        with Output(out, force=force, reads=[path], need=frame.frame_bytes(rows, cols)) as o:
            write(f, o.part, which, cols, notify)
    return Export(o.path, fmt, rows, cols if fmt == "parquet" else
                  [c for c in cols if c in GRID_FIELDS], complete, time.perf_counter() - t0,
                  axes)


def _provenance(f) -> dict:
    keep = ("model", "steps", "tol", "escape", "eosfast_version", "created", "complete")
    attrs = {k: f.attrs[k] for k in keep if k in f.attrs}
    attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in attrs.items()}
    params = read_params(f)
    mp = params.get("model_params") if isinstance(params, dict) else None
    mp = mp if isinstance(mp, dict) else {}
    return {**attrs, "complete": bool(attrs.get("complete", 0)), "params": params,
            "model_params": mp, "model_label": model_label(attrs.get("model", "?"), mp)}


def _parquet(f, part: Path, which: list[int], cols: list[str], notify) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cf = {**grid_layout(axes_of(f)).coords, **GRID_FIELDS}
    schema = pa.schema(
        [pa.field(c, pa.from_numpy_dtype(frame.DTYPES.get(c, np.dtype(np.float64))),
                  nullable=False,
                  metadata={k: str(v) for k, v in cf[c].cf_attrs().items()
                            if k in ("long_name", "units", "flag_meanings")})
         for c in cols],
        metadata={"eosfast": json.dumps(_provenance(f), sort_keys=True)})
    fields = [c for c in cols if c in GRID_FIELDS]
    total, done, points = count_bands(f, len(which)), 0, 0
    with pq.ParquetWriter(part, schema, compression=PARQUET_COMPRESSION) as w:
        for block in iter_blocks(f, fields, which):
            data = block.frame_columns(cols)
            w.write_table(pa.Table.from_arrays([data[c] for c in cols], schema=schema))
            done += 1
            points += block.y0.size * block.x0.size
            if notify:
                notify(done, total, info={"eta": block.eta, "points": points})


def _netcdf(f, part: Path, which: list[int], cols: list[str], notify) -> None:
    import h5netcdf

    fields = [c for c in GRID_FIELDS if c in cols]
    chunks = f["status"].chunks
    with h5netcdf.File(part, "w") as nc:
        for key, value in f.attrs.items():
            # a netCDF export of every field is itself a readable eosfast grid
            # file; one of some fields is not (it lacks arrays the layout needs)
            if key != "kind" or len(fields) == len(GRID_FIELDS):
                nc.attrs[key] = value
        axes = axes_of(f)
        sa, ra, ca = axes
        nc.dimensions = {sa: len(which), ra: f[ra].shape[0], ca: f[ca].shape[0]}
        for name, var in grid_layout(axes).coords.items():
            values = f[name][:] if name != sa else f[sa][:][which]
            v = nc.create_variable(name, (name,), var.dtype, data=values)
            v.attrs.update(var.cf_attrs())
        for name in fields:
            var = GRID_FIELDS[name]
            # no _FillValue: every point is written, and one would make xarray
            # decode the int8 status as float
            v = nc.create_variable(name, axes, var.dtype, chunks=chunks,
                                   compression="gzip", compression_opts=1, shuffle=True,
                                   fletcher32=True)
            v.attrs.update(var.cf_attrs())
        total, done, points = count_bands(f, len(which)), 0, 0
        position = {e: k for k, e in enumerate(which)}
        for block in iter_blocks(f, fields, which):
            k = position[block.index]
            for name in fields:
                nc.variables[name][k, block.rows, :] = block.arrays[name][0]
            done += 1
            points += block.y0.size * block.x0.size
            if notify:
                notify(done, total, info={"eta": block.eta, "points": points})


#: Columns of an ensemble's export: the sample index, then the file's fields.
ENSEMBLE_COLUMNS = ("sample", *ENSEMBLE_FIELDS)

#: Samples an ensemble's export reads and writes at once.
ENSEMBLE_BLOCK = 1 << 20


def _export_ensemble(path, out: Path, fmt: str, eta, columns, force: bool, notify) -> Export:
    """An ensemble's rows to Parquet, one block of samples at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .store.ensemblefile import is_complete, open_ensemble

    t0 = time.perf_counter()
    cols = validate.names("columns", columns, list(ENSEMBLE_COLUMNS))
    if fmt != "parquet":
        raise EosfastError(f"{path} is an ensemble: its rows export to Parquet (an output "
                           "ending in .parquet); it is netCDF-4 already (xarray reads it)")
    if eta is not None:
        raise InvalidArgument("{eta}: an ensemble has one step size; leave it out", "eta")
    with open_ensemble(path) as f:
        n = f["sample"].shape[0]
        cf = {**ENSEMBLE.coords, **ENSEMBLE_FIELDS}
        dtypes = {c: np.dtype(cf[c].dtype) for c in cols}
        keep = ("objective", "dim", "eta", "delta_x", "delta_y", "samples", "seed", "steps",
                "tol", "escape", "eosfast_version", "created", "complete")
        meta = {k: (f.attrs[k].item() if isinstance(f.attrs[k], np.generic) else f.attrs[k])
                for k in keep if k in f.attrs}
        meta["params"] = read_params(f)
        schema = pa.schema(
            [pa.field(c, pa.from_numpy_dtype(dtypes[c]), nullable=False,
                      metadata={k: str(v) for k, v in cf[c].cf_attrs().items()
                                if k in ("long_name", "units", "flag_meanings")})
             for c in cols],
            metadata={"eosfast": json.dumps(meta, sort_keys=True, default=str)})
        complete = is_complete(f)
        need = n * sum(dtypes[c].itemsize for c in cols)
        total = -(-n // ENSEMBLE_BLOCK)
        with Output(out, force=force, reads=[path], need=need) as o, \
                pq.ParquetWriter(o.part, schema, compression=PARQUET_COMPRESSION) as w:
            for k, a in enumerate(range(0, n, ENSEMBLE_BLOCK)):
                b = min(n, a + ENSEMBLE_BLOCK)
                w.write_table(pa.Table.from_arrays(
                    [np.ascontiguousarray(f[c][a:b], dtypes[c]) for c in cols],
                    schema=schema))
                if notify:
                    notify(k + 1, total, info={"points": b})
    return Export(o.path, "parquet", n, cols, complete, time.perf_counter() - t0)


def _export_refined(path, out: Path, cols: list[str], force: bool, notify, t0: float
                    ) -> Export:
    """A refined map's computed points to Parquet: the base grid, then level by level."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .refine import lattice_coords, lattice_points, spec_from_params
    from .refine.result import read_params_checked
    from .store import refinefile as rf

    with rf.open_refined(path) as f:
        spec = spec_from_params(read_params_checked(f, path), path)
        done = rf.levels_done(f)
        rows = spec.base ** 2 + sum(rf.level_size(f, k) for k in range(1, done + 1))
        cf = {"level": "level of refinement that computed the point (0: the base grid)",
              "x0": GRID.coords["x0"].long_name, "y0": GRID.coords["y0"].long_name,
              "status": GRID_FIELDS["status"].long_name,
              "steps": GRID_FIELDS["steps"].long_name}
        schema = pa.schema(
            [pa.field(c, pa.from_numpy_dtype(REFINED_COLUMNS[c]), nullable=False,
                      metadata={"long_name": cf[c]}) for c in cols],
            metadata={"eosfast": json.dumps({**_provenance(f), "levels_done": done},
                                            sort_keys=True)})
        need = rows * sum(REFINED_COLUMNS[c].itemsize for c in cols)
        with Output(out, force=force, reads=[path], need=need) as o, \
                pq.ParquetWriter(o.part, schema, compression=PARQUET_COMPRESSION) as w:

            def write(level: int, iy, ix, data) -> None:
                n = lattice_points(spec.base, level)
                column = {"level": np.full(iy.size, level, np.int8),
                          "x0": lattice_coords(*spec.x_range, n, ix),
                          "y0": lattice_coords(*spec.y_range, n, iy),
                          "status": data["status"], "steps": data["steps"]}
                w.write_table(pa.Table.from_arrays(
                    [np.ascontiguousarray(column[c], REFINED_COLUMNS[c]) for c in cols],
                    schema=schema))

            base = rf.read_base(f, ("status", "steps"))
            iy, ix = (a.ravel() for a in np.indices(base["status"].shape[1:]))
            write(0, iy, ix, {k: base[k][0].ravel() for k in ("status", "steps")})
            if notify:
                notify(1, done + 1, info={"points": iy.size})
            points = iy.size
            for level in range(1, done + 1):
                for piece in rf.read_level(f, level):
                    write(level, piece["iy"], piece["ix"], piece)
                    points += piece["ix"].size
                if notify:
                    notify(level + 1, done + 1, info={"points": points})
        complete = rf.is_complete(f)
    return Export(o.path, "parquet", rows, cols, complete, time.perf_counter() - t0)
