"""Compiled loops of eosfast (installed as ``eosfast.kernels``).

Every kernel here takes only arrays and scalars and fills its outputs in place;
the public wrappers in :mod:`eosfast` validate input and allocate. Model
kernels are written once as templates against a model's map bundle
(:mod:`.maps`) and compiled per model (:mod:`.build`, :mod:`.cpu`).
"""

from eosfast import _numba_env  # noqa: F401  (must precede the first Numba import)
