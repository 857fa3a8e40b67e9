"""Plotting functions: each draws on a matplotlib ``Axes`` (or ``Figure``) it is given.

Every function returns the artist(s) it made, so the data behind a picture can
be checked (``image.get_array()``, ``line.get_ydata()``). Nothing here calls
``pyplot``: :func:`new_figure` makes a backend-free ``Figure`` and
:func:`save` writes it through the store (locked, written aside, renamed).

Colour conventions: outcome classes use :data:`eosfast.status.COLORS` in
every picture; the stability threshold ``2/eta`` is a dashed black line;
sharpness bands are shaded.

Modules: :mod:`.base` (figures, saving, the palette), :mod:`.basins` (grid
maps, sharpness histograms, adaptivity), :mod:`.trajectory`,
:mod:`.orbits` (orbit diagrams), :mod:`.fractal` (box counts), :mod:`.zoom`
(filmstrip, animation), :mod:`.render` (``eosfast plot``).
"""

from .base import THRESHOLD_STYLE, label_panels, new_figure, save, status_style
from .basins import adaptivity, basin, concentration
from .fractal import plot_box_counts
from .orbits import density_image, lyapunov_strip, orbit_density, plot_bifurcation
from .render import render_file
from .trajectory import (
    ab_parabola,
    loss_contours,
    plot_ab,
    plot_loss,
    plot_sharpness,
    plot_trajectory,
    plot_xy,
)

__all__ = ["THRESHOLD_STYLE", "label_panels", "new_figure", "save", "status_style",
           "adaptivity", "basin", "concentration", "plot_box_counts", "density_image",
           "lyapunov_strip", "orbit_density", "plot_bifurcation", "render_file",
           "ab_parabola", "loss_contours", "plot_ab", "plot_loss", "plot_sharpness",
           "plot_trajectory", "plot_xy"]
