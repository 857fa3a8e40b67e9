"""``eosfast nets``: full-batch GD on small networks (paper Fig. 1)."""

from __future__ import annotations

import sys

import click

from eosfast import defaults as D

from .common import progress_reporter, quiet_option


@click.command("nets")
@click.option("--arch", type=click.Choice(D.ARCHS), required=True,
              help="Network: mlp5, linear2 or scalar4 (zhu4).")
@click.option("--eta", type=float, multiple=True,
              help="A step size; repeatable (default: fig1's step sizes for ARCH).")
@click.option("--steps", type=int, default=None, help="GD steps per run (default: fig1's).")
@click.option("--every", type=int, default=None,
              help="Record loss and sharpness every N steps (default: fig1's).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the initial weights and the Lanczos start vectors.")
@click.option("--activation", type=click.Choice(D.ACTIVATIONS), default="elu",
              show_default=True, help="Hidden activation of mlp5.")
@click.option("-o", "--out", default="nets.h5", show_default=True, help="Output HDF5 file.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@quiet_option
def nets(arch, eta, steps, every, seed, activation, out, force, quiet):
    """Full-batch GD on a small network at several step sizes from one init.

    Records loss and sharpness (top Hessian eigenvalue, Lanczos on exact
    Hessian-vector products) every --every steps, over (run, step) with eta
    per run. Without --eta and --steps it uses `eosfast figure fig1`'s set-up.
    Needs JAX: pip install 'eosfast[nets]'.
    """
    from eosfast.nets import run_nets

    with progress_reporter(f"nets {arch}", quiet) as progress:
        result = run_nets(arch, list(eta) or None, steps, every, seed, activation=activation,
                          out=out, force=force, progress=progress)
    click.echo(f"{out}: {result.summary()}")
    sys.stdout.flush()
