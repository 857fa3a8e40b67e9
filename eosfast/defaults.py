"""Default parameters and fixed choices, named once for the API and the command line.

This module imports nothing heavy: the command line reads its defaults and
choices from here while showing ``--help`` (a test checks that both agree).
"""

from __future__ import annotations

# ---------------------------------------------------------------- grid

MODEL = "zhu4"
RES = 1024
X_RANGE = (0.0, 4.0)
Y_RANGE = (0.0, 4.0)
ETA = 0.2
STEPS = 10000
TOL = 1e-12
ESCAPE = 1e3

#: Tile edge in points: 256 x 256 tiles keep per-tile overhead (a kernel
#: call, an HDF5 chunk write) below 1% while leaving hundreds of tiles to
#: balance across threads on a 4096^2 grid.
TILE = 256

#: Where ``eosfast grid`` computes: ``cpu`` (threads, or dask with --scheduler) or
#: ``cuda`` (one NVIDIA GPU through numba-cuda; the extra ``eosfast[cuda]``).
BACKEND = "cpu"
BACKENDS = ("cpu", "cuda")

#: Points per CUDA kernel launch (several tiles each): 4M points keep every
#: thread of a large GPU busy with about 16 points (so unequal escape times
#: even out) in 2 x 4M x 63 bytes = 0.5 GB of device memory (two batches in flight).
CUDA_BATCH_POINTS = 1 << 22

#: Period search of the grid after the cap: periods up to MAX_PERIOD; a cycle
#: of period k >= 2 must close to PERIOD_TOL of its own extent. An orbit still
#: converging to a minimum at the EoS closes only to its contraction per cycle
#: (about eta^2 for zhu4), so it stays "bounded, unresolved" rather than periodic.
MAX_PERIOD = 64
PERIOD_TOL = 1e-8

# ---------------------------------------------------------------- one run

TRAJECTORY_X0 = 2.5
TRAJECTORY_Y0 = 0.35

# ---------------------------------------------------------------- orbit diagrams

BIFURCATION_X0 = 1.2
BIFURCATION_Y0 = 0.9
BIFURCATION_ETA_RANGE = (0.45, 0.99)
BIFURCATION_ETA_RES = 1000
BURN = 20000
RECORD = 2048
#: Period test of orbit diagrams: the whole recorded window must repeat to
#: PERIOD_TOL (1 + |x| + |y|); periods up to BIFURCATION_MAX_PERIOD.
BIFURCATION_MAX_PERIOD = 256
#: What an orbit diagram records (P: the product of the weights; b = xy - 1).
OBSERVABLES = ("P", "x", "y", "loss", "sharpness", "b")

# ---------------------------------------------------------------- zoom

ZOOM_CENTER = (3.2, 0.3)
#: zoom re-centres each level on the boundary (a fixed centre leaves it from x256 on)
ZOOM_TRACK = True
ZOOM_WIDTH = 0.4
ZOOM_MAGNIFICATION = 4.0
ZOOM_LEVELS = 6
ZOOM_RES = 1024
ZOOM_MIN_RES = 64

# ---------------------------------------------------------------- refine

#: Base grid points per axis and levels of ``eosfast refine`` (level L is the
#: lattice of (base - 1) * 2**L + 1 points per axis: 4097 with these).
REFINE_BASE = 1025
REFINE_LEVELS = 2
#: Cells around a flagged cell that are refined too (see eosfast.refine: with
#: 2 rather than 1 the raster missed 5x fewer points on dense 4097^2 checks).
REFINE_HALO = 2
#: Escape-step difference that flags a cell whose corners all diverge
#: (eosfast.refine.gd_flag); None turns it off.
REFINE_CONTRAST = 3
#: Uncomputed points recomputed to estimate how often the raster rule is wrong.
REFINE_VERIFY = 10000
REFINE_MAX_LEVELS = 24
REFINE_MAX_HALO = 16

# ---------------------------------------------------------------- plots, fractal

#: Fields ``eosfast plot basin`` draws.
BASIN_FIELDS = ("status", "steps", "sharpness", "loss")
#: Kinds of ``eosfast plot``.
PLOT_KINDS = ("basin", "bifurcation", "trajectory", "adaptivity", "concentration",
              "ensemble")
DPI = 150
MAX_DPI = 1200
#: Boundaries ``eosfast fractal`` measures, and the classes of its entropies.
FRACTAL_SPLITS = ("diverged", "converged")
FRACTAL_CLASSES = ("split", "outcome", "status")
ENTROPY_BOX = 5

# ---------------------------------------------------------------- networks

ARCHS = ("mlp5", "linear2", "scalar4")
ACTIVATIONS = ("relu", "elu")

# ---------------------------------------------------------------- ensemble (vector case)

#: ``eosfast ensemble``: d, the step size, the number of samples, the seed, the
#: theorem's K (perturbation y <- y (1 + 2/K)) and the step it is applied at.
#: eta = 0.1 converges in about 1300 steps a sample at the default tolerance; eta =
#: 0.01 needs about 3e5 (the contraction near the EoS minimum is 1 - eta^2 per two
#: steps); measured by benchmarks/bench_ensemble.py and the thm32 figure.
ENSEMBLE_DIM = 100
ENSEMBLE_ETA = 0.1
ENSEMBLE_SAMPLES = 100_000
ENSEMBLE_SEED = 0
ENSEMBLE_K = 10.0
ENSEMBLE_KICK_STEP = 100

#: The ensemble's own step cap and tolerance (the grid's are 1e4 and 1e-12). The
#: theorem is about small step sizes, where GD approaches the EoS minimum with
#: a contraction of only 1 - eta^2 per two steps: eta = 0.01 takes about 3e5
#: steps to reach |1 - (x^T y)^2| < 1e-8. And 1e-12 is below what float64
#: resolves there: each step moves x (about 1/sqrt(eta)) by eta |1 - (x^T y)^2| |y|,
#: which rounding swamps once |1 - (x^T y)^2| is near 1e-11 at eta = 0.01; the
#: orbit then settles on a 2-cycle of rounding. At 1e-8 the loss is below 3e-17, and
#: going on to 1e-10 moves the final |x|^2 + |y|^2 by at most 2e-10 relative
#: (measured at eta = 0.01, 0.05, 0.1), a hundred-millionth of the band's width.
ENSEMBLE_STEPS = 1_000_000
ENSEMBLE_TOL = 1e-8
