"""``eosfast bench``: grid-kernel throughput against NumPy, with thread scaling."""

from __future__ import annotations

import json

import click


@click.command("bench")
@click.option("--model", default="zhu4", show_default=True)
@click.option("--res", type=int, default=1024, show_default=True, help="eosfast grid edge.")
@click.option("--numpy-res", type=int, default=None,
              help="NumPy grid edge (default: res, the same points).")
@click.option("--eta", type=float, default=0.2, show_default=True)
@click.option("--steps", type=int, default=10000, show_default=True)
@click.option("--threads", type=int, default=None, help="Threads for the parallel run.")
@click.option("--repeat", type=int, default=3, show_default=True, help="Best of N.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def bench(model, res, numpy_res, eta, steps, threads, repeat, as_json):
    """Iterations per second of the grid kernel (1 and all threads) and of NumPy."""
    from eosfast.bench import bench as run
    from eosfast.grid import make_spec

    make_spec(model, res, eta=eta, steps=steps)  # validate before timing anything
    r = run(model, res, eta, steps, threads, numpy_res, repeat)
    click.echo(json.dumps(r.to_dict()) if as_json else r.report())
