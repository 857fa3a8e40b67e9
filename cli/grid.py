"""``eosfast grid``: the main job."""

from __future__ import annotations

import sys

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


@click.command("grid")
@model_options
@click.option("--res", "res", type=int, default=D.RES, show_default=True,
              help="Points per axis (x and y).")
@click.option("--res-x", type=int, default=None,
              help="Points along x0, or the horizontal axis (overrides --res).")
@click.option("--res-y", type=int, default=None,
              help="Points along y0, or the vertical axis (overrides --res).")
@click.option("--x-range", nargs=2, type=float, default=None, metavar="LO HI",
              help="x0 = linspace(LO, HI, res_x), ends included (default 0 4); with --axes, "
                   "the horizontal axis' range (default 0 4 for x0, y0; 0.01 1 for step "
                   "sizes; 0 0.99 for beta).")
@click.option("--y-range", nargs=2, type=float, default=None, metavar="LO HI",
              help="y0 = linspace(LO, HI, res_y) (default 0 4); with --axes, the vertical "
                   "axis' range.")
@click.option("--axes", nargs=2, type=str, default=None, metavar="H V",
              help="A plane instead of initial points: the parameters of the horizontal and "
                   "vertical axes, two of x0, y0, eta, eta_x, eta_y, beta (the others fixed: "
                   "--x0, --y0, --eta, --beta, --eta-x, --eta-y). See docs/optimizers.md.")
@click.option("--log", is_flag=True, help="Log-spaced plane axes (with --axes).")
@click.option("--log-x", is_flag=True, help="Log spacing of the horizontal axis only.")
@click.option("--log-y", is_flag=True, help="Log spacing of the vertical axis only.")
@click.option("--x0", type=float, default=None,
              help="The fixed initial x of a plane over hyperparameters (default 2.5).")
@click.option("--y0", type=float, default=None,
              help="The fixed initial y of a plane over hyperparameters (default 0.35).")
@click.option("--eta", type=float, multiple=True, help="A step size; repeatable (default 0.2).")
@click.option("--eta-range", nargs=2, type=float, default=None, metavar="LO HI",
              help="Step sizes linspace(LO, HI, --eta-res).")
@click.option("--eta-res", type=int, default=None, help="Number of step sizes in --eta-range.")
@stop_rule_options
@optimizer_options
@output_options("grid.h5")
@click.option("--tile", type=int, default=None, help="Tile edge in points (default 256).")
@click.option("--no-symmetry", is_flag=True,
              help="Compute both halves of a symmetric grid (by default a model whose map "
              "commutes with swapping x and y computes one half and mirrors it, bit for bit).")
@compute_options
@quiet_option
def grid(model, model_params, res, res_x, res_y, x_range, y_range, axes, log, log_x, log_y,
         x0, y0, eta, eta_range, eta_res,
         steps, tol, escape, max_period, period_tol, optimizer, beta, eta_x, eta_y, out, force,
         resume, tile, no_symmetry, threads, scheduler, backend, quiet):
    """Iterate GD from every point of a grid of (x0, y0) and step sizes eta.

    Writes an HDF5 file with status, steps, period, sharpness, loss, x, y over
    (eta, y0, x0); see `eosfast info` and eosfast.read_frame. status: 1
    converged, 2 periodic, 0 bounded (unresolved at the cap), -1 diverged;
    period: length of the cycle the orbit ends on (1 a fixed point, 0 none
    found or diverged). --eta and --eta-range merge into one sorted axis.
    """
    import eosfast

    with progress_reporter("grid", quiet) as progress:
        run = eosfast.grid(model, res, model_params=model_params or None, res_x=res_x,
                           res_y=res_y, x_range=x_range, y_range=y_range,
                           eta=list(eta) or None, eta_range=eta_range,
                           eta_res=eta_res, steps=steps, tol=tol, escape=escape,
                           max_period=max_period, period_tol=period_tol, out=out,
                           force=force, resume=resume, threads=threads, tile=tile,
                           scheduler=scheduler, symmetry=not no_symmetry, backend=backend,
                           progress=progress, optimizer=optimizer, beta=beta, eta_x=eta_x,
                           eta_y=eta_y, axes=axes, log=_log(axes, log, log_x, log_y),
                           x0=x0, y0=y0)
    click.echo(run.summary())
    sys.stdout.flush()


def _log(axes, log: bool, log_x: bool, log_y: bool):
    """``--log`` (both plane axes), ``--log-x``, ``--log-y`` as the API's ``log``."""
    if log:
        return True
    names = [a for a, on in zip(axes or ("--log-x", "--log-y"), (log_x, log_y), strict=True)
             if on]
    return names or False
