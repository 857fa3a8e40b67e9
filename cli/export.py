"""``eosfast export``: a grid file as Parquet or netCDF-4, a refined map as Parquet, streamed."""

from __future__ import annotations

import sys

import click

from .common import progress_reporter, quiet_option


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("-o", "--out", required=True,
              help="Output: .parquet (pandas, polars, DuckDB; needs eosfast[export]) or .nc "
                   "(netCDF-4).")
@click.option("--format", "format", type=click.Choice(["parquet", "netcdf"]), default=None,
              help="Format, when OUT's suffix does not say.")
@click.option("--eta", type=float, default=None, help="Only the slice with this step size.")
@click.option("--columns", default=None, metavar="A,B,...",
              help="Comma-separated columns of eta, x0, y0, status, steps, period, sharpness, "
                   "loss, x, y (a refined map: level, x0, y0, status, steps; default all).")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@quiet_option
def export(path, out, format, eta, columns, force, quiet):
    """Write the rows of a grid file (as eosfast.read_frame gives them) to OUT.

    One row per grid point, columns eta, x0, y0, status, steps, period,
    sharpness, loss, x, y; streamed one eta slice (band of rows) at a time,
    so memory stays flat however large the file. pd.read_hdf cannot read
    eosfast files: export to Parquet for pandas, polars and DuckDB.

    A refined map (eosfast refine) exports to Parquet one row per computed
    point: level, x0, y0, status, steps.
    """
    import eosfast

    cols = [c.strip() for c in columns.split(",")] if columns is not None else None
    with progress_reporter("export", quiet) as progress:
        result = eosfast.export(path, out, format=format, eta=eta, columns=cols, force=force,
                                progress=progress)
    click.echo(result.summary())
    sys.stdout.flush()
