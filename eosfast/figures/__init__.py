"""The paper's figures, each regenerated from scratch by one function.

:data:`FIGURES` maps a figure name to ``"module:function"``; the function has
the signature ``make(outdir: pathlib.Path, quick: bool = False) -> pathlib.Path``
and writes ``outdir / f"{name}.png"`` (``quick`` shrinks the computation for
tests while keeping every element of the picture).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from ..errors import EosfastError
from ..validate import show

FIGURES: dict[str, str] = {
    "fig1": "eosfast.figures.nets:fig1",
    **{name: f"eosfast.figures.paper:{name}"
       for name in ("fig1c", "fig2a", "fig2b", "fig3", "fig5", "fig6", "fig7a", "fig7b",
                    "fig7c", "cascade", "adaptivity")},
    "fig8": "eosfast.figures.nets:fig8",
    "atlas": "eosfast.figures.atlas:atlas",
    "thm32": "eosfast.figures.vector:thm32",
}


def make_figure(name: str, outdir: str | Path, quick: bool = False, *, force: bool = False,
                progress: Callable[[int, int, str], None] | None = None) -> list[Path]:
    """Regenerate figure ``name`` (or ``"all"``) into ``outdir``; returns the PNG paths.

    Every output is checked before anything is computed: an existing
    ``outdir/NAME.png`` is replaced only with ``force``. ``progress`` is
    called as ``progress(k, n, name)`` before the k-th of n figures.
    """
    from ..store.atomic import check_output

    names = list(FIGURES) if name == "all" else [name]
    for n in names:
        if n not in FIGURES:
            raise EosfastError(f"unknown figure {show(n)} (known: {', '.join(FIGURES)}, all)")
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise EosfastError(f"{outdir} is not a folder")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EosfastError(f"cannot create the folder {outdir}: {exc.strerror or exc}") from None
    for n in names:
        check_output(outdir / f"{n}.png", force=force)
    paths = []
    for k, n in enumerate(names, 1):
        if progress:
            progress(k, len(names), n)
        module, func = FIGURES[n].split(":")
        paths.append(getattr(importlib.import_module(module), func)(outdir, quick=quick,
                                                                      force=force))
    return paths
