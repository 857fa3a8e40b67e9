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


def _show(ax, level) -> Any:
    cmap, norm, _ = status_style()
    extent = (*level.x_range, *level.y_range)
    return ax.imshow(level.status, origin="lower", extent=extent, cmap=cmap, norm=norm,
                     interpolation="nearest", aspect="equal")


def draw_filmstrip(result, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Every level side by side, each with the next level's window outlined.

    Parameters
    ----------
    result : ZoomResult
    path : path-like
        Image file (any format matplotlib writes).
    """
    from matplotlib.patches import Rectangle

    n = len(result.levels)
    cols = min(n, 6)
    rows = -(-n // cols)
    fig = new_figure(2.6 * cols, 2.9 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for level, ax in zip(result.levels, axes.flat, strict=False):
        _show(ax, level)
        f = level.fractal
        ax.set_title(f"x{level.zoom:.3g}  D = {_fmt(f.box_dimension)}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"({level.center[0]:.6g}, {level.center[1]:.6g})", fontsize=7)
        if level.index + 1 < n:
            nxt = result.levels[level.index + 1]
            ax.add_patch(Rectangle((nxt.x_range[0], nxt.y_range[0]),
                                   nxt.x_range[1] - nxt.x_range[0],
                                   nxt.y_range[1] - nxt.y_range[0],
                                   fill=False, edgecolor="white", linewidth=0.8))
    fig.suptitle(f"{result.model}, eta = {result.eta:g}: zoom x{result.magnification:g} per level",
                 fontsize=10)
    return save(fig, path, force=force)


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
