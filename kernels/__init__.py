"""Compiled loops of eosfast (installed as ``eosfast.kernels``).

Every kernel here takes only arrays and scalars and fills its outputs in place;
the public wrappers in :mod:`eosfast` validate input and allocate. Kernels are
built per model by small factories that close over the model's integer
exponents ``(p, q)`` and loss scale ``s`` only, so Numba treats them as
compile-time constants (unrolled powers) and can still cache the machine code.
"""
