"""``eosfast info``: what a result file holds."""

from __future__ import annotations

import click


@click.command("info")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def info(path, as_json):
    """What PATH holds: any eosfast file (grid, trajectory, bifurcation, zoom, nets).

    For a grid: parameters, outcome shares and sharpness statistics per eta,
    and how many points reached the step cap unresolved.
    """
    import eosfast

    click.echo(eosfast.info(path, as_json=as_json))
