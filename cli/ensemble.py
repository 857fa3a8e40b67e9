"""``eosfast ensemble``: Theorem 3.2 (the vector case) on many random initialisations."""

from __future__ import annotations

import sys

import click

from eosfast import defaults as D

from .common import (
    backend_option,
    insist_option,
    output_options,
    progress_reporter,
    quiet_option,
    scheduler_option,
    stop_rule_options,
    threads_option,
)


@click.command("ensemble")
@click.option("--dim", type=int, default=D.ENSEMBLE_DIM, show_default=True,
              help="d: x and y are vectors in R^d (the cost does not depend on d).")
@click.option("--eta", type=float, default=D.ENSEMBLE_ETA, show_default=True,
              help="The step size.")
@click.option("--samples", type=int, default=D.ENSEMBLE_SAMPLES, show_default=True,
              help="Random initialisations.")
@click.option("--seed", type=int, default=D.ENSEMBLE_SEED, show_default=True,
              help="Seed of the draws (the same samples however the run is split).")
@click.option("--delta-x", type=float, default=None,
              help="Radius of x0's sphere (default: the middle of the theorem's interval "
                   "x_e + (1/80 .. 1/8) K^-2 eta^-1/2); delta_y = 1/(2 delta_x).")
@click.option("--kick", type=float, default=D.ENSEMBLE_K, show_default=True, metavar="K",
              help="The theorem's K: the perturbation multiplies y by 1 + 2/K.")
@click.option("--kick-step", type=int, default=D.ENSEMBLE_KICK_STEP, show_default=True,
              help="The step whose state is perturbed (0: the initial point).")
@click.option("--no-kick", is_flag=True, help="No perturbation.")
@stop_rule_options(steps=D.ENSEMBLE_STEPS, tol=D.ENSEMBLE_TOL)
@output_options("ensemble.h5")
@threads_option
@scheduler_option
@backend_option
@insist_option
@quiet_option
def ensemble(dim, eta, samples, seed, delta_x, kick, kick_step, no_kick, steps, tol, escape,
             max_period, period_tol, out, force, resume, threads, scheduler, backend,
             insist, quiet):
    """GD on L(x, y) = 1/4 (1 - (x^T y)^2)^2 over x, y in R^d (the paper's vector case,
    Theorem 3.2) from random x0 ~ delta_x Unif(S^{d-1}), y0 ~ delta_y Unif(S^{d-1}),
    delta_x delta_y = 1/2, with the perturbation y <- y (1 + 2/K) at --kick-step.

    Writes an HDF5 file with one row per sample: inner0 (initial x^T y),
    status, steps, period, norm2 (final |x|^2 + |y|^2), sharpness (top
    eigenvalue of the 2d x 2d Hessian), loss, inner (final x^T y); read it
    with eosfast.read_frame. The summary gives the share of converged samples
    inside the theorem's band (1/eta - 10/3 eta, 1/eta) of |x|^2 + |y|^2.
    The step cap and --tol default to 1e6 and 1e-8, not the grid's 1e4 and
    1e-12: near the edge of stability GD contracts by only 1 - eta^2 per two
    steps (eta = 0.01 takes about 3e5 steps), and at eta = 0.01 float64
    cannot bring |1 - (x^T y)^2| below about 1e-11.
    """
    import eosfast

    with progress_reporter("ensemble", quiet) as progress:
        run = eosfast.ensemble(dim, eta, samples, seed=seed, delta_x=delta_x, kick=kick,
                               kick_step=None if no_kick else kick_step, steps=steps, tol=tol,
                               escape=escape, max_period=max_period, period_tol=period_tol,
                               out=out, force=force, resume=resume, threads=threads,
                               scheduler=scheduler, backend=backend, insist=insist,
                               progress=progress)
    click.echo(run.summary())
    sys.stdout.flush()
