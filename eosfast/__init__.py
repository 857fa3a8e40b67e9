"""eosfast: gradient-descent dynamics at large step sizes, compiled.

Implements and extends Zhu, Wang, Wang, Zhou, Ge, "Understanding
Edge-of-Stability Training Dynamics with a Minimalist Example" (ICLR 2023).
"""

import os as _os

# In a source checkout, kernels/ and cli/ sit beside eosfast/ (setup.cfg maps
# them to eosfast.kernels and eosfast.cli on install). When Python imports this
# folder directly (``python -c`` in the checkout shadows an installed copy),
# let the subpackages resolve there too.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "kernels")) and all(
        _os.path.isfile(_os.path.join(_root, d, "__init__.py")) for d in ("kernels", "cli")):
    __path__.append(_root)

from . import _numba_env  # noqa: F401  (must precede any Numba import)
from ._version import __version__
from .bifurcation import (
    Bifurcation,
    bifurcation,
    lyapunov_exponents,
    lyapunov_spectrum,
    read_bifurcation,
)
from .errors import EosfastError
from .frame import info, read_frame
from .grid import grid
from .measures import eos_minimum, loss, sharpness
from .models import MODELS, Model, get_model
from .nets import late_pca, read_nets, run_nets
from .result import GridResult, GridRun
from .store import read_grid
from .trajectory import Trajectory, read_trajectory, trajectory

__all__ = ["__version__", "EosfastError", "MODELS", "Model", "get_model", "grid",
           "GridResult", "GridRun", "read_grid", "read_frame", "info",
           "sharpness", "loss", "eos_minimum", "trajectory", "Trajectory", "read_trajectory",
           "bifurcation", "Bifurcation", "read_bifurcation", "lyapunov_exponents",
           "lyapunov_spectrum", "run_nets", "read_nets", "late_pca"]
