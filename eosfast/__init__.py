"""eosfast: gradient-descent dynamics at large step sizes, compiled.

Implements and extends Zhu, Wang, Wang, Zhou, Ge, "Understanding
Edge-of-Stability Training Dynamics with a Minimalist Example" (ICLR 2023):
Numba kernels iterate the GD map of minimalist models over dense grids of
initial points and step sizes, results go to HDF5 files that h5py, xarray
and pandas read, and analysis modules measure basins, orbits and fractals.

Entry points (each loaded on first use, so ``import eosfast`` is instant):

- computing: :func:`grid`, :func:`trajectory`, :func:`bifurcation`,
  :func:`adaptivity`, :func:`zoom`, :func:`refine`, :func:`run_nets`,
  :func:`ensemble` (the vector case, :mod:`eosfast.vector`);
- reading: :func:`read_grid`, :func:`read_frame`, :func:`info`,
  :func:`read_trajectory`, :func:`read_bifurcation`, :func:`read_zoom`,
  :func:`read_refined`, :func:`read_nets`, :func:`read_ensemble`; writing other formats:
  :func:`export` (Parquet, netCDF-4);
- models and measures: :data:`MODELS`, :func:`get_model`,
  :meth:`Model.from_expression` (any loss ``L(x, y)``), :func:`sharpness`,
  :func:`loss`, :func:`eos_minimum`;
- analysis modules: :mod:`eosfast.fractal`, :mod:`eosfast.lyapunov`,
  :mod:`eosfast.cycles`, :mod:`eosfast.plots`, :mod:`eosfast.figures`.

Command line: ``eosfast --help``.
"""

from __future__ import annotations

import importlib
import os as _os
import sys as _sys
import types as _types
from typing import Any

# In a source checkout, kernels/ and cli/ sit beside eosfast/ (setup.cfg maps
# them to eosfast.kernels and eosfast.cli on install). When Python imports this
# folder directly (``python -c`` in the checkout shadows an installed copy),
# let the subpackages resolve there too.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "kernels")) and all(
        _os.path.isfile(_os.path.join(_root, d, "__init__.py")) for d in ("kernels", "cli")):
    __path__.append(_root)

from . import checks as _checks  # noqa: E402
from ._version import __version__  # noqa: E402
from .errors import EosfastError, Interrupted, InvalidArgument  # noqa: E402


def _model_of_attrs(model: Any, params: Any) -> object:
    """The store's check of a file's model attributes (:mod:`eosfast.checks`)."""
    from .models import model_of_attrs

    return model_of_attrs(model, params)


_checks.model_check = _model_of_attrs

#: Public name -> module that defines it (loaded on first access, PEP 562).
_EXPORTS: dict[str, str] = {
    "grid": "grid", "GridResult": "result", "GridRun": "result",
    "read_grid": "readers", "read_frame": "readers", "info": "info", "export": "export",
    "MODELS": "models", "Model": "models", "get_model": "models", "ModelSpec": "models",
    "NETWORKS": "models", "models_table": "models",
    "sharpness": "measures", "loss": "measures", "eos_minimum": "measures",
    "Status": "status", "StopRule": "stoprule", "Optimizer": "optimizer",
    "trajectory": "trajectory", "Trajectory": "trajectory", "read_trajectory": "trajectory",
    "bifurcation": "bifurcation", "Bifurcation": "bifurcation",
    "read_bifurcation": "bifurcation",
    "adaptivity": "adaptivity", "Adaptivity": "adaptivity",
    "lyapunov_exponents": "lyapunov", "lyapunov_spectrum": "lyapunov",
    "periodic_orbit": "cycles", "period_doublings": "cycles",
    "zoom": "zoom", "read_zoom": "zoom",
    "run_nets": "nets", "read_nets": "nets", "late_pca": "nets",
    "refine": "refine", "read_refined": "refine", "RefinedResult": "refine",
    "ensemble": "ensemble", "read_ensemble": "readers",
}

#: Submodules reachable as attributes (``eosfast.fractal.analyze``).
_SUBMODULES = ("fractal", "plots", "figures", "lyapunov", "cycles", "store", "validate",
               "kernels", "executors", "tiles", "models", "readers", "zoom", "nets",
               "trajectory", "bifurcation", "adaptivity", "defaults", "status", "measures",
               "result", "distributed", "bench", "frame", "progress", "expression", "registry",
               "mapcache", "refine", "stoprule", "vector", "ensemble")

__all__ = ["__version__", "EosfastError", "InvalidArgument", "Interrupted", *_EXPORTS]


class _Package(_types.ModuleType):
    """The package module: ``eosfast.grid`` stays the function once ``eosfast/grid.py`` loads.

    Importing a submodule sets it as an attribute of its package; for the
    submodules named after the function they export (grid, trajectory,
    bifurcation, adaptivity, zoom, info, ensemble) the function is kept instead.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, _types.ModuleType) and _EXPORTS.get(name) == name \
                and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'eosfast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})
