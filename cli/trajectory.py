"""``eosfast trajectory``: one GD run, every step recorded."""

from __future__ import annotations

import click

from eosfast import defaults as D

from .common import model_options, optimizer_options


@click.command("trajectory")
@model_options
@click.option("--x0", type=float, default=D.TRAJECTORY_X0, show_default=True, help="Initial x.")
@click.option("--y0", type=float, default=D.TRAJECTORY_Y0, show_default=True, help="Initial y.")
@click.option("--eta", type=float, default=D.ETA, show_default=True, help="Step size.")
@click.option("--steps", type=int, default=D.STEPS, show_default=True,
              help="Steps T (stops early only on divergence).")
@click.option("--escape", type=float, default=D.ESCAPE, show_default=True,
              help="Diverged when |x| or |y| > escape or not finite.")
@optimizer_options
@click.option("-o", "--out", default="trajectory.h5", show_default=True,
              help="Output HDF5 file.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def trajectory(model, model_params, x0, y0, eta, steps, escape, optimizer, beta, eta_x, eta_y,
               out, force):
    """One GD run from (x0, y0): x, y, loss, sharpness and the paper's (a, b) per step.

    HDF5 arrays over `step` (0..T, the initial point included); a and b are
    the reparametrisation of Zhu et al. s. 3 (zhu4, deg2; NaN where undefined).
    """
    from eosfast.trajectory import trajectory as run

    t = run(model, x0, y0, eta, steps, out=out, force=force, escape=escape,
            model_params=model_params or None, optimizer=optimizer, beta=beta, eta_x=eta_x,
            eta_y=eta_y)
    click.echo(f"{out}: {t.summary()}")
