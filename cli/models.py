"""``eosfast models``: every model with its formula and source."""

from __future__ import annotations

import json

import click


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
def models(as_json):
    """Every model of the registry: formula, source, and the fact the tests check.

    Besides these names, --model takes any loss L(x, y) written as an
    expression (see `eosfast grid --help`).
    """
    from eosfast.models import describe_models, models_table

    click.echo(json.dumps(models_table(), indent=2) if as_json else describe_models())
