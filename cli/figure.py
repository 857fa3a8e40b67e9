"""``eosfast figure``: regenerate a figure of the paper from scratch."""

from __future__ import annotations

import time

import click

from .common import progress_reporter, quiet_option


def _names() -> list[str]:
    from eosfast.figures import FIGURES

    return [*FIGURES, "all"]


@click.command("figure")
@click.argument("name", metavar="NAME")
@click.option("-o", "--outdir", "--out", "outdir", default=".", show_default=True,
              help="Folder for NAME.png (created if missing).")
@click.option("--force", is_flag=True, help="Replace existing images.")
@click.option("--quick", is_flag=True,
              help="Smaller grids and sweeps (seconds; same picture elements).")
@quiet_option
def figure(name, outdir, force, quick, quiet):
    """Regenerate figure NAME of the paper as DIR/NAME.png (`all` for every one).

    Names: fig1, fig1c, fig2a, fig2b, fig3, fig5, fig6, fig7a, fig7b, fig7c,
    cascade, adaptivity, fig8, atlas (every registry model side by side), all.
    """
    from eosfast.figures import make_figure

    t0 = time.perf_counter()
    with progress_reporter("figure", quiet, interval=0.0) as bar:
        def progress(k: int, n: int, which: str) -> None:
            # called before the k-th of n figures: k - 1 are done
            if bar:
                bar(k - 1, n, info={"what": f"{which} ({k}/{n})"})

        paths = make_figure(name, outdir, quick=quick, force=force, progress=progress)
        if bar and paths:
            bar(len(paths), len(paths), info={"what": f"done ({len(paths)}/{len(paths)})"})
    listed = ", ".join(str(p) for p in paths)
    click.echo(f"wrote {len(paths)} figure(s) in {time.perf_counter() - t0:.1f} s: {listed}")
