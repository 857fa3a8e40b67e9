"""Adaptive refinement: compute a basin map only where its outcome changes.

A dense base grid of ``N x N`` points, then, level after level, the midpoints
of the cells near the basin boundary, down to the lattice of a dense grid of
``(N - 1) * 2**L + 1`` points per axis at level ``L``. The boundary holds
``N(eps) ~ eps**-D`` cells of side ``eps`` (D about 1.2-1.8 here), so a
refined map costs a small fraction of the dense one at the same resolution.

Lattices and exactness
----------------------
Level ``l`` is the lattice of ``n_l = (n_0 - 1) * 2**l + 1`` points per axis
over the window's ranges, and its point of index ``i`` has *exactly* the
coordinate ``numpy.linspace(LO, HI, n_l)[i]`` (:func:`lattice_coords`), so a
point computed here is bit-identical to the same point of ``eosfast grid
--res n_l``. Point ``i`` of level ``l`` is point ``2 i`` of level ``l + 1``;
points are keyed by their row-major index on the finest lattice.

The refinement rule
-------------------
A *cell* of level ``l`` is a square of 2 x 2 neighbouring level-``l`` points.
Refining a cell computes its five level-``l + 1`` midpoints (centre and edge
midpoints), which splits it into four complete cells of level ``l + 1`` (a
cell is *complete* when its four corners are computed: every base cell, and
every child of a refined cell). A complete cell is *flagged* when ``flag`` on
its corners says so (by default: the corners' outcomes differ). The result is
the smallest refinement such that

1. every cell within ``halo`` cells (Chebyshev distance, at its own level) of
   a flagged cell of a level ``< L`` is refined, and
2. every cell within ``halo`` cells of a flagged cell of level ``L`` is
   complete.

A cell the rules want refined whose parent was not refined is reached by
refining its ancestors first: where a finer level finds the boundary leaving
the refined region (a filament that crosses uniform coarse cells), the
refinement follows it back into the coarse cells, at every level, until the
boundary closes. This rule (measured on dense 4097^2 grids, see
:func:`gd_flag`) is what brings the rasterised outcome to agree with dense
grids on more than 99.99% of points; the plain "corners differ, plus a halo"
rule leaves thin filaments out. The smallest refinement satisfying both rules
is unique, so it does not depend on the order of the work (threads, batches,
``--resume``).

The raster rule
---------------
A computed point has its own outcome. Every other lattice point takes the
outcome of the *deepest complete cell that holds it* (a cell holds the
points on its edges too): precisely, of that cell's corner with the
smallest indices (lowest y0, then lowest x0), and of the lower (then the
left) cell where two cells of that level hold the point. Rule 1 makes every
complete cell that is not refined uniform: its four corners agree (else it
would be flagged and refined), so the choice of corner does not matter;
and with ``halo >= 1`` every lattice point in such a cell, edges included,
gets that same outcome (a neighbour refined deeper that found another
outcome on the shared edge would have flagged cells whose halo reaches
into this one). Consequently the finest cells holding both sides of any
split of the outcomes are exactly the complete finest cells whose corners
differ, which is how :meth:`RefinedLattice.box_counts` counts boxes
without drawing the finest raster (the tests check it against the raster).
"""

from .lattice import (
    MAX_RASTER,
    REFINED_FIELDS,
    ROUND_CELLS,
    Flag,
    LevelState,
    LevelStats,
    RefinedLattice,
    base_store,
    gd_flag,
    lattice_coords,
    lattice_points,
    outcomes_differ,
    refine_lattice,
)
from .points import PointStore, RepeatedPoint
from .result import (
    RefinedResult,
    RefineRun,
    new_lattice,
    read_refined,
    spec_from_params,
    split_function,
)
from .run import PIECE_POINTS, PIECE_SECONDS, compute_base, level_progress, refine
from .spec import RefineSpec, estimate, make_refine_spec
from .verify import Z95, Verification, sample_uncomputed, verify_lattice, wilson_interval

__all__ = [
    "MAX_RASTER", "PIECE_POINTS", "PIECE_SECONDS", "REFINED_FIELDS", "ROUND_CELLS", "Z95",
    "Flag", "LevelState", "LevelStats", "PointStore", "RefineRun", "RefineSpec", "RefinedLattice",
    "RefinedResult", "RepeatedPoint", "Verification", "base_store", "compute_base", "estimate",
    "gd_flag",
    "lattice_coords", "lattice_points", "level_progress", "make_refine_spec", "new_lattice",
    "outcomes_differ", "read_refined", "refine", "refine_lattice", "sample_uncomputed",
    "spec_from_params", "split_function", "verify_lattice", "wilson_interval",
]
