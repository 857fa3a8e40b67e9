"""``eosfast zoom``: nested grids toward a point, one HDF5 group per level."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from eosfast import defaults as D

from .common import (
    compute_options,
    model_options,
    optimizer_options,
    output_options,
    progress_reporter,
    quiet_option,
    stop_rule_options,
)


@click.command("zoom")
@model_options
@click.option("--center", nargs=2, type=float, default=D.ZOOM_CENTER, show_default=True,
              metavar="X Y", help="The point (x0, y0) to zoom into.")
@click.option("--width", type=float, default=D.ZOOM_WIDTH, show_default=True,
              help="Side of the level-0 window (default: the paper's Fig. 7a window).")
@click.option("--magnification", "-m", type=float, default=D.ZOOM_MAGNIFICATION, show_default=True,
              help="Zoom factor from one level to the next.")
@click.option("--levels", type=int, default=D.ZOOM_LEVELS, show_default=True,
              help="Number of levels.")
@click.option("--res", type=int, default=D.ZOOM_RES, show_default=True,
              help="Points per axis per level.")
@click.option("--eta", type=float, default=D.ETA, show_default=True, help="Step size.")
@stop_rule_options
@optimizer_options
@click.option("--track/--no-track", default=D.ZOOM_TRACK, show_default=True,
              help="Re-centre each level on the boundary point nearest the previous centre "
                   "(without it, a centre inside one basin shows that basin only, D = nan).")
@output_options("zoom.h5", resume_help="Continue an interrupted zoom of the same parameters "
                                       "(its finished levels and tiles are verified and kept).",
                force_help="Replace existing output files.")
@click.option("--filmstrip", default=None, metavar="IMAGE",
              help="Filmstrip of every level [default: OUT with .png].")
@click.option("--animation", default=None, metavar="MOVIE",
              help="Animated zoom, .gif (Pillow) or .mp4 (ffmpeg) [default: OUT with .gif].")
@click.option("--no-images", is_flag=True, help="Write only the HDF5 file.")
@compute_options
@click.option("--from", "source", default=None, metavar="REFINED",
              help="Draw every level from a refined file (eosfast refine) instead of "
                   "computing grids; its model, eta and stopping rules apply.")
@quiet_option
def zoom(model, model_params, center, width, magnification, levels, res, eta, steps, tol, escape,
         max_period, period_tol, optimizer, beta, eta_x, eta_y,
         track, out, filmstrip, animation, no_images, force, resume, threads, scheduler, backend,
         source, quiet):
    """Nested grids toward a point, each measured for fractality.

    Level k is a RES x RES grid on the square of side WIDTH / MAGNIFICATION^k
    around the centre; OUT holds one group per level (window, status, steps,
    box dimension, entropies). Warns when the pixel spacing gets within 1024
    ulps of float64 at the centre, and refuses levels under 4 ulps.
    """
    from eosfast.zoom import zoom as run_zoom

    if not no_images:
        filmstrip = _beside(out, ".png") if filmstrip is None else filmstrip
        animation = _beside(out, ".gif") if animation is None else animation
    with warnings.catch_warnings(record=True) as caught, \
            progress_reporter("zoom", quiet) as progress:
        warnings.simplefilter("always", UserWarning)
        result = run_zoom(model, center, width=width, magnification=magnification,
                          levels=levels, res=res, eta=eta, steps=steps, tol=tol, escape=escape,
                          max_period=max_period, period_tol=period_tol,
                          out=out, force=force, resume=resume,
                          filmstrip=None if no_images else filmstrip,
                          animation=None if no_images else animation, track=track,
                          threads=threads, scheduler=scheduler, backend=backend,
                          source=source, progress=progress,
                          model_params=model_params or None, optimizer=optimizer,
                          beta=beta, eta_x=eta_x, eta_y=eta_y)
    for w in caught:
        click.echo(f"eosfast: warning: {w.message}", err=True)
    for level in result.levels:
        click.echo(level.summary())
    if result.images:
        click.echo("images: " + ", ".join(str(p) for p in result.images))
    click.echo(result.summary())
    sys.stdout.flush()


def _beside(out: str, suffix: str) -> str | None:
    """OUT with another suffix (None when OUT names no file: the API refuses OUT itself)."""
    try:
        return str(Path(out).with_suffix(suffix))
    except ValueError:
        return None
