"""``eosfast bifurcation``: orbit diagram over a range of step sizes."""

from __future__ import annotations

import click

from eosfast import defaults as D

from .common import TOL_HELP, model_options, optimizer_options, progress_reporter, quiet_option

OBSERVABLES = D.OBSERVABLES


@click.command("bifurcation")
@model_options
@click.option("--x0", type=float, default=D.BIFURCATION_X0, show_default=True, help="Initial x.")
@click.option("--y0", type=float, default=D.BIFURCATION_Y0, show_default=True, help="Initial y.")
@click.option("--eta-range", nargs=2, type=float, default=D.BIFURCATION_ETA_RANGE,
              show_default=True,
              metavar="LO HI", help="Step sizes linspace(LO, HI, --eta-res), ends included.")
@click.option("--eta-res", type=int, default=D.BIFURCATION_ETA_RES, show_default=True,
              help="Number of step sizes.")
@click.option("--burn", type=int, default=D.BURN, show_default=True,
              help="Steps discarded before recording.")
@click.option("--record", type=int, default=D.RECORD, show_default=True, help="Steps recorded.")
@click.option("--observable", type=click.Choice(OBSERVABLES), default=None,
              help="What the orbit holds: P (product of the weights; default for the "
                   "networks), x (default for expressions), y, loss, sharpness, b = xy - 1.")
@click.option("--tol", type=float, default=D.TOL, show_default=True,
              help=TOL_HELP)
@click.option("--escape", type=float, default=D.ESCAPE, show_default=True,
              help="Diverged when |x| or |y| > escape or not finite.")
@click.option("--period-tol", type=float, default=D.PERIOD_TOL, show_default=True,
              help="Relative tolerance of the period test.")
@click.option("--max-period", type=int, default=D.BIFURCATION_MAX_PERIOD, show_default=True,
              help="Largest period searched.")
@optimizer_options
@click.option("-o", "--out", default="bifurcation.h5", show_default=True,
              help="Output HDF5 file.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--threads", type=int, default=None, help="Threads (default: all cores).")
@quiet_option
def bifurcation(model, model_params, x0, y0, eta_range, eta_res, burn, record, observable, tol,
                escape, period_tol, max_period, optimizer, beta, eta_x, eta_y, out, force,
                threads, quiet):
    """For each eta: B steps of burn-in, then R recorded steps of the observable.

    HDF5: coordinates eta and sample; orbit (eta, sample); period (eta): 1
    converged, p >= 2 periodic, 0 none found, -1 diverged; lyapunov (eta): the
    largest Lyapunov exponent of the recorded orbit (nats per step).
    """
    from eosfast.bifurcation import bifurcation as run

    with progress_reporter("bifurcation", quiet) as progress:
        r = run(model, x0, y0, eta_range, eta_res, burn=burn, record=record,
                                observable=observable, tol=tol, escape=escape,
                                period_tol=period_tol, max_period=max_period, out=out,
                                force=force, threads=threads, progress=progress,
                                model_params=model_params or None, optimizer=optimizer,
                                beta=beta, eta_x=eta_x, eta_y=eta_y)
    click.echo(f"{out}: {r.summary()}")
