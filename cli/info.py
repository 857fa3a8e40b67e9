"""``eosfast info``: what a result file holds."""

from __future__ import annotations

import click


@click.command("info")
@click.argument("path", type=click.Path(dir_okay=False))
def info(path):
    """Parameters, outcome fractions and sharpness statistics per eta of PATH."""
    import eosfast

    click.echo(eosfast.info(path))
