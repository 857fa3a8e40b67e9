"""The paper's figures, each regenerated from scratch by one function.

:data:`FIGURES` maps a figure name to ``"module:function"``; the function has
the signature ``make(outdir: pathlib.Path, quick: bool = False) -> pathlib.Path``
and writes ``outdir / f"{name}.png"`` (``quick`` shrinks the computation for
tests while keeping every element of the picture).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..errors import EosfastError

FIGURES: dict[str, str] = {
    "fig1": "eosfast.figures.nets:fig1",
    **{name: f"eosfast.figures.paper:{name}"
       for name in ("fig1c", "fig2a", "fig2b", "fig3", "fig5", "fig6", "fig7a", "fig7b",
                    "fig7c", "cascade", "adaptivity")},
    "fig8": "eosfast.figures.nets:fig8",
}


def make_figure(name: str, outdir: str | Path, quick: bool = False) -> list[Path]:
    """Regenerate figure ``name`` (or ``"all"``) into ``outdir``; returns the PNG paths."""
    names = list(FIGURES) if name == "all" else [name]
    for n in names:
        if n not in FIGURES:
            raise EosfastError(f"unknown figure {n!r} (known: {', '.join(FIGURES)}, all)")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in names:
        module, func = FIGURES[n].split(":")
        paths.append(getattr(importlib.import_module(module), func)(outdir, quick=quick))
    return paths
