"""``eosfast info``: what a result file holds, and whether it is complete and intact."""

from __future__ import annotations

import click


@click.command("info")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--verify", is_flag=True,
              help="Check every chunk against its checksum and that the file is complete: "
                   "one line per problem, exit status 1 unless complete and intact.")
def info(path, as_json, verify):
    """What PATH holds: any eosfast file (grid, trajectory, bifurcation, zoom, nets).

    For a grid: parameters, outcome shares and sharpness statistics per eta,
    and how many points reached the step cap unresolved. With --verify: whether
    PATH is complete and intact, one line per problem found; exit status 0 if
    it is, 1 if not, 2 if PATH is not a regular file.
    """
    if verify:
        from eosfast.store.integrity import verify as check

        report = check(path)
        for line in report.lines():
            click.echo(line)
        return 0 if report.ok else 1
    import eosfast

    click.echo(eosfast.info(path, as_json=as_json))
    return 0
