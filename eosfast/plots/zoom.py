"""Images of a zoom: every level side by side, and an animated zoom."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from ..errors import EosfastError
from ..store.atomic import Output
from .base import new_figure, save, status_style


def _fmt(v: float) -> str:
    import numpy as np

    return "nan" if not np.isfinite(v) else f"{v:.3f}"


def _is_deep(level) -> bool:
    """Whether absolute tick labels of the level's window would need an offset."""
    width = max(level.x_range[1] - level.x_range[0], level.y_range[1] - level.y_range[0])
    scale = max(abs(c) for c in (*level.x_range, *level.y_range))
    return width < 1e-2 * scale


def _centre_text(level) -> tuple[str, str]:
    """The level's centre with as many digits as its window needs (a thousandth of
    the window's width), so that ``centre + tick`` locates a pixel: a deep panel's
    title gives this text and its ticks measure from exactly the value printed."""
    import math

    width = max(level.x_range[1] - level.x_range[0], level.y_range[1] - level.y_range[0])
    out = []
    for c in level.center:
        digits = max(3, math.ceil(math.log10(max(abs(c), width) / width)) + 4)
        out.append(f"{c:.{min(digits, 17)}g}")
    return out[0], out[1]


def _show(ax, level, origin: tuple[float, float] = (0.0, 0.0)) -> Any:
    cmap, norm, _ = status_style()
    extent = (level.x_range[0] - origin[0], level.x_range[1] - origin[0],
              level.y_range[0] - origin[1], level.y_range[1] - origin[1])
    return ax.imshow(level.status, origin="lower", extent=extent, cmap=cmap, norm=norm,
                     interpolation="nearest", aspect="equal")


def draw_filmstrip(result, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write :func:`filmstrip_figure` of ``result`` to ``path`` (any format matplotlib writes)."""
    return save(filmstrip_figure(result), path, force=force)


def filmstrip_figure(result):
    """Every level side by side, each with the next level's window outlined.

    Each panel has its own axes in data units (``x0``, ``y0``; deep levels
    show an offset), the outcome colours are those of ``eosfast plot basin``
    (:data:`eosfast.status.COLORS`) with a legend, and each title gives the
    magnification, the diverged share of the level's points and the
    box-counting dimension.

    Parameters
    ----------
    result : ZoomResult

    Returns
    -------
    Figure
    """
    import numpy as np
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    from ..result import magnification_text, percent, shortest
    from ..status import Status
    from .base import status_legend_handles

    n = len(result.levels)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = new_figure(3.3 * cols, 3.3 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for level, ax in zip(result.levels, axes.flat, strict=False):
        # A deep window's ticks in absolute units need an offset and a scale
        # ("1e-5+3e-1"): such panels are drawn relative to their centre instead,
        # which the title gives in full.
        deep = _is_deep(level)
        shown = _centre_text(level) if deep else ("0", "0")
        origin = (float(shown[0]), float(shown[1]))  # ticks measure from the printed centre
        _show(ax, level, origin)
        f = level.fractal
        div = int(np.count_nonzero(level.status == Status.DIVERGED))
        where = f"\n$x_c, y_c$ = {shown[0]}, {shown[1]}" if deep else ""
        ax.set_title(f"level {level.index}: x{magnification_text(level.zoom)}{where}\n"
                     f"diverged {percent(div, level.status.size)} of its points, "
                     f"D = {_fmt(f.box_dimension)}", fontsize=8)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(3))
            fmt = ScalarFormatter(useOffset=False)
            fmt.set_powerlimits((-3, 4))
            axis.set_major_formatter(fmt)
        ax.tick_params(labelsize=7)
        ax.xaxis.get_offset_text().set_fontsize(7)
        ax.yaxis.get_offset_text().set_fontsize(7)
        ax.set_xlabel("$x_0 - x_c$" if deep else "$x_0$", fontsize=8)
        ax.set_ylabel("$y_0 - y_c$" if deep else "$y_0$", fontsize=8)
        if level.index + 1 < n:
            nxt = result.levels[level.index + 1]
            for colour, lw in (("white", 2.2), ("black", 0.9)):  # seen on any outcome
                ax.add_patch(Rectangle((nxt.x_range[0] - origin[0], nxt.y_range[0] - origin[1]),
                                       nxt.x_range[1] - nxt.x_range[0],
                                       nxt.y_range[1] - nxt.y_range[0],
                                       fill=False, edgecolor=colour, linewidth=lw))
    fig.legend(handles=status_legend_handles(), loc="outside lower center", ncol=4,
               fontsize=8, frameon=False)
    fig.suptitle(f"{result.model_label}, $\\eta$ = {shortest(result.eta)}: zoom "
                 f"x{magnification_text(result.magnification)} per level toward "
                 f"({shortest(result.center[0])}, {shortest(result.center[1])}); "
                 "outlined: the next level", fontsize=9)
    return fig


def draw_animation(result, path: str | os.PathLike, frames_per_level: int = 12,
                   fps: int = 12, *, force: bool = False) -> bool:
    """A continuous zoom: each level magnified step by step until the next takes over.

    Returns False (with a warning) when matplotlib has no writer for the
    file's format: Pillow for ``.gif``, ffmpeg for ``.mp4`` and the rest.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import animation as anim

    suffix = Path(path).suffix.lower()
    writer_name = "pillow" if suffix in (".gif", ".png", ".webp") else "ffmpeg"
    if not anim.writers.is_available(writer_name):
        warnings.warn(f"no {writer_name} writer available: animation {path} not written",
                      stacklevel=2)
        return False
    fig, ax = plt.subplots(figsize=(4.0, 4.0), layout="constrained")
    ax.set_xticks([])
    ax.set_yticks([])
    levels = result.levels
    m = result.magnification
    image = _show(ax, levels[0])
    title = ax.set_title("")
    last = len(levels) - 1
    total = last * frames_per_level + 1

    def frame(i: int):
        k, j = divmod(i, frames_per_level)
        if k > last:
            k, j = last, 0
        level = levels[k]
        image.set_data(level.status)
        image.set_extent((*level.x_range, *level.y_range))
        target = levels[k + 1] if k < last else level
        t = j / frames_per_level
        # geometric interpolation of the window from this level's to the next's
        half = (level.x_range[1] - level.x_range[0]) / 2 / m**t
        cx = level.center[0] + t * (target.center[0] - level.center[0])
        cy = level.center[1] + t * (target.center[1] - level.center[1])
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy - half, cy + half)
        title.set_text(f"x{level.zoom * m**t:.3g}   D = {_fmt(level.fractal.box_dimension)}")
        return image, title

    movie = anim.FuncAnimation(fig, frame, frames=total, blit=False)
    # the movie writers take the format from the file name, so render to a
    # temporary name with the right suffix and hand the bytes to the output
    with Output(path, force=force) as out:
        fd, tmp = tempfile.mkstemp(suffix=suffix, dir=out.path.parent, prefix=".eosfast-")
        os.close(fd)
        try:
            movie.save(tmp, writer=anim.writers[writer_name](fps=fps), dpi=100)
            shutil.copyfile(tmp, out.part)
        except (OSError, ValueError) as exc:
            raise EosfastError(f"cannot write {path}: {exc}") from None
        finally:
            plt.close(fig)
            Path(tmp).unlink(missing_ok=True)
    return True
