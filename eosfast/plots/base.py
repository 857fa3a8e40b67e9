"""Figures and saving: a backend-free ``Figure`` and the one way to write an image.

Nothing in :mod:`eosfast.plots` calls ``pyplot``: :func:`new_figure` makes a
``Figure`` with the Agg canvas attached and :func:`save` writes it through
the store's :class:`~eosfast.store.Output` (locked, written aside, renamed;
an existing image is replaced only with ``force``), so plotting works in
threads and without a display.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..defaults import DPI, MAX_DPI
from ..errors import EosfastError, InvalidArgument
from ..status import COLORS, OUTCOMES, Status
from ..store.atomic import Output
from ..validate import show

#: The stability threshold ``2/eta``: a dashed black line.
THRESHOLD_STYLE = {"color": "k", "ls": "--", "lw": 1.0}

#: Largest image accepted, in pixels per side (figure inches x dpi).
MAX_PIXELS = 20000


def new_figure(width: float = 6.4, height: float = 4.8, **kwargs) -> Figure:
    """A ``Figure`` with the Agg canvas attached (no pyplot, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    kwargs.setdefault("layout", "constrained")
    fig = Figure(figsize=(width, height), **kwargs)
    FigureCanvasAgg(fig)
    return fig


def image_format(path: str | os.PathLike) -> str:
    """The format of an image path from its suffix (png without one), if matplotlib writes it."""
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix.lstrip(".").lower() or "png"
    known = FigureCanvasBase.get_supported_filetypes()
    if suffix not in known:
        raise EosfastError(f"cannot draw {path}: unknown image format {suffix!r} (use one of "
                           f"{', '.join(sorted(known))})")
    return suffix


def save(fig: Figure, path: str | os.PathLike, dpi: int = DPI, *, force: bool = False,
         reads: Sequence = ()) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix, png by default).

    Parameters
    ----------
    fig : Figure
    path : path-like
        The image; an existing file is replaced only with ``force``, never
        one of ``reads`` (the files the picture was drawn from).
    dpi : int
        Dots per inch, 1 to :data:`~eosfast.defaults.MAX_DPI`.
    """
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 1 <= dpi <= MAX_DPI:
        raise InvalidArgument(f"{{dpi}} must be an integer from 1 to {MAX_DPI}, got {show(dpi)}",
                              "dpi")
    w, h = fig.get_size_inches()
    if max(w, h) * dpi > MAX_PIXELS:
        raise EosfastError(f"a {w:g} x {h:g} inch figure at {dpi} dpi is over {MAX_PIXELS} "
                           "pixels a side; lower the dpi")
    suffix = image_format(path)
    with Output(path, force=force, reads=reads) as out:
        try:
            fig.savefig(out.part, dpi=dpi, format=suffix, bbox_inches="tight")
        except ValueError as exc:
            raise EosfastError(f"cannot write {out.path}: {exc}") from None
    return out.path


def status_style():
    """``(cmap, norm, codes)`` drawing the outcome codes in :data:`eosfast.status.COLORS`."""
    codes = sorted(OUTCOMES)
    cmap = mcolors.ListedColormap([COLORS[c] for c in codes])
    norm = mcolors.BoundaryNorm([c - 0.5 for c in codes] + [codes[-1] + 0.5], len(codes))
    return cmap, norm, codes


def status_legend_handles():
    """Legend patches of the outcomes, in the palette of every plot."""
    from matplotlib.patches import Patch

    return [Patch(color=COLORS[s], label=Status(s).label) for s in OUTCOMES]


def label_panels(axes: Sequence[Axes], start: str = "a") -> None:
    """Put (a), (b), ... in the top-left corner of each axes."""
    for k, ax in enumerate(axes):
        ax.text(-0.02, 1.01, f"({chr(ord(start) + k)})", transform=ax.transAxes, va="bottom",
                ha="right", fontsize=10, fontweight="bold")

