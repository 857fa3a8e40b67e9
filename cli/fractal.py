"""``eosfast fractal``: fractality of a basin boundary in one eta slice of a grid file."""

from __future__ import annotations

import json
import sys

import click

from eosfast import defaults as D


@click.command("fractal")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--eta", type=float, default=None,
              help="Step size of the slice (needed when the file holds several).")
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              metavar="IMAGE", help="Also draw ln N against ln(1/eps) to IMAGE (png, pdf, ...).")
@click.option("--split", type=click.Choice(D.FRACTAL_SPLITS), default="diverged",
              show_default=True,
              help="Boundary measured: status -1 (or 1) against all the rest.")
@click.option("--classes", type=click.Choice(D.FRACTAL_CLASSES),
              default="split", show_default=True,
              help="Classes of the basin entropy and fractality test: the two sides of "
                   "--split; converged / bounded / diverged; or every status code.")
@click.option("--fit", nargs=2, type=int, default=None, metavar="LO HI",
              help="Box sides in pixels for the dimension fit (default: 4 to the largest "
                   "power of two <= size/16).")
@click.option("--entropy-box", type=int, default=D.ENTROPY_BOX, show_default=True,
              help="Box side in pixels of the basin entropy.")
@click.option("--radius", type=int, default=None,
              help="Ball radius in pixels of the fractality test (default min(20, size/50)).")
def fractal(path, eta, as_json, plot_path, split, classes, fit, entropy_box, radius):
    """Box-counting dimension, uncertainty exponent and basin entropy of PATH.

    Measures the converge/diverge boundary of one eta slice of a grid file
    (status -1 against the rest; see eosfast.fractal for every definition),
    or of a refined file over every octave from its base grid to its finest
    level (box sizes in finest spacings). Says when box counting and the
    uncertainty exponent disagree, or when the local slopes drift across the
    fit range (no single power law).
    """
    from eosfast.fractal import analyze_file

    result = analyze_file(path, eta, split=split, classes=classes,
                          fit=tuple(fit) if fit else None, entropy_box=entropy_box,
                          radius=radius)
    if plot_path:
        _plot(result, plot_path, path)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(result.report())
        click.echo(f"{path}: " + result.summary())
    sys.stdout.flush()


def _plot(result, path, source) -> None:
    from eosfast.plots import new_figure, save
    from eosfast.plots.fractal import plot_box_counts

    fig = new_figure(5.0, 4.0)
    plot_box_counts(result, fig.subplots())
    save(fig, path, reads=[source])
