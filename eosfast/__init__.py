"""eosfast: gradient-descent dynamics at large step sizes, compiled.

Implements and extends Zhu, Wang, Wang, Zhou, Ge, "Understanding
Edge-of-Stability Training Dynamics with a Minimalist Example" (ICLR 2023).
"""

from ._version import __version__
from .errors import EosfastError
from .models import MODELS, Model, get_model

__all__ = ["__version__", "EosfastError", "MODELS", "Model", "get_model"]
