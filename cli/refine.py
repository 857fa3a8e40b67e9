"""``eosfast refine``: a basin map refined where the outcome changes."""

from __future__ import annotations

import sys

import click

from eosfast import defaults as D

from .common import (
    compute_options,
    insist_option,
    model_options,
    optimizer_options,
    output_options,
    progress_reporter,
    quiet_option,
    stop_rule_options,
)


@click.command("refine")
@model_options
@click.option("--base", type=int, default=D.REFINE_BASE, show_default=True,
              help="Points per axis of the dense base grid.")
@click.option("--levels", type=int, default=D.REFINE_LEVELS, show_default=True,
              help="Levels of refinement: level L is the lattice of (base - 1) * 2^L + 1 "
                   "points per axis.")
@click.option("--x-range", nargs=2, type=float, default=D.X_RANGE, show_default=True,
              metavar="LO HI", help="x0 range, ends included.")
@click.option("--y-range", nargs=2, type=float, default=D.Y_RANGE, show_default=True,
              metavar="LO HI", help="y0 range, ends included.")
@click.option("--eta", type=float, default=D.ETA, show_default=True,
              help="The step size (one per refined file).")
@stop_rule_options
@optimizer_options
@click.option("--halo", type=int, default=D.REFINE_HALO, show_default=True,
              help="Cells around a flagged cell refined too (>= 1).")
@click.option("--contrast", type=int, default=D.REFINE_CONTRAST, show_default=True,
              help="Flag cells whose four corners diverge with escape steps differing by "
                   "this much (0: outcomes only).")
@click.option("--verify", type=int, default=D.REFINE_VERIFY, show_default=True,
              metavar="K", help="Recompute K random uncomputed points and report how often "
                                "the raster was wrong (0: skip).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the --verify sample.")
@output_options("refined.h5")
@compute_options
@insist_option
@quiet_option
def refine(model, model_params, base, levels, x_range, y_range, eta, steps, tol, escape,
           max_period, period_tol, optimizer, beta, eta_x, eta_y, halo, contrast, verify,
           seed, out, force, resume, threads, scheduler, backend, insist, quiet):
    """A dense base grid, then the midpoints of the cells near the basin boundary,
    level by level, down to the lattice of a dense grid of (BASE - 1) * 2^LEVELS + 1
    points per axis (every computed point bit-identical to that grid's).

    Writes one HDF5 file (the base grid as in a grid file, then each level's
    points), saved piece by piece: a stopped run continues with --resume.
    Read it with eosfast.read_refined, draw it with `eosfast plot basin`,
    measure it with `eosfast fractal`. A run whose estimated memory or file
    size exceeds what is free is refused before any level is computed.
    """
    import eosfast

    with progress_reporter("refine", quiet) as progress:
        run = eosfast.refine(model, base, levels, model_params=model_params or None,
                             x_range=x_range, y_range=y_range, eta=eta,
                             steps=steps, tol=tol, escape=escape, max_period=max_period,
                             period_tol=period_tol, halo=halo,
                             contrast=None if contrast == 0 else contrast, verify=verify,
                             seed=seed, out=out, force=force, resume=resume, threads=threads,
                             scheduler=scheduler, backend=backend, insist=insist,
                             progress=progress, optimizer=optimizer, beta=beta,
                             eta_x=eta_x, eta_y=eta_y)
    click.echo(run.summary())
    sys.stdout.flush()
