"""``eosfast plot``: draw a result file."""

from __future__ import annotations

import click

from eosfast import defaults as D

KINDS = D.PLOT_KINDS


@click.command("plot")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "image", required=True, help="Image file (.png, .pdf, .svg).")
@click.option("--field", type=click.Choice(D.BASIN_FIELDS),
              default="status", show_default=True, help="basin: which array to draw.")
@click.option("--eta", type=float, default=None,
              help="basin, concentration: which step size of a multi-eta grid file.")
@click.option("--band", type=float, default=0.1, show_default=True,
              help="basin --field sharpness: width of the band below 2/eta.")
@click.option("--x0", type=float, default=None,
              help="adaptivity from a grid file: the init nearest (x0, y0) (default: (2.5, "
                   "0.35) if its runs converge, else the init converging at the most eta).")
@click.option("--y0", type=float, default=None, help="See --x0.")
@click.option("--dpi", type=click.IntRange(1, D.MAX_DPI), default=D.DPI, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing image (never the file read).")
def plot(kind, path, image, field, eta, band, x0, y0, dpi, force):
    """Plot a result file: KIND is basin, concentration (grid files), bifurcation,
    trajectory, adaptivity (a grid file with several eta, or a bifurcation
    file recorded with --observable sharpness), or ensemble (an ensemble file:
    final |x|^2 + |y|^2 against Theorem 3.2's band).
    """
    from eosfast.plots import render_file

    out = render_file(kind, path, image, field=field, eta=eta, band=band, x0=x0, y0=y0,
                      dpi=dpi, force=force)
    click.echo(f"wrote {out} ({kind}{' ' + field if kind == 'basin' else ''} of {path})")
