"""``eosfast bench``: grid-kernel throughput against NumPy, with thread scaling."""

from __future__ import annotations

import json

import click

from eosfast import defaults as D

from .common import MODEL_HELP


@click.command("bench")
@click.option("--model", default=D.MODEL, show_default=True, help=MODEL_HELP)
@click.option("--res", type=int, default=D.RES, show_default=True, help="eosfast grid edge.")
@click.option("--numpy-res", type=int, default=None,
              help="NumPy grid edge (default: res, the same points).")
@click.option("--eta", type=float, default=D.ETA, show_default=True)
@click.option("--steps", type=int, default=D.STEPS, show_default=True)
@click.option("--threads", type=int, default=None, help="Threads for the parallel run.")
@click.option("--repeat", type=int, default=3, show_default=True, help="Best of N.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def bench(model, res, numpy_res, eta, steps, threads, repeat, as_json):
    """Iterations per second of the grid kernel (1 and all threads) and of NumPy."""
    from eosfast.bench import bench as run

    r = run(model, res, eta, steps, threads, numpy_res, repeat)
    click.echo(json.dumps(r.to_dict()) if as_json else r.report())
