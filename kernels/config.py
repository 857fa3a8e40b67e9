"""Numba settings shared by every kernel: the one place to change them.

``fastmath`` is deliberately off. Its ``nnan``/``ninf`` flags would let LLVM
delete the NaN/inf divergence checks, and even the harmless ``contract`` flag
(fused multiply-add) would make the compiled map differ in the last bit from
the plain-Python reference that the tests compare against step by step.
Without any flag the vectorised and scalar code paths round identically, so a
point's orbit is the same in every lane, tile and thread.
"""

from __future__ import annotations

#: Options for every ``numba.njit`` in :mod:`eosfast.kernels`.
JIT = {"nogil": True, "cache": True, "error_model": "numpy", "fastmath": False}

#: Options for small helpers that are always inlined into a kernel.
INLINE = {"inline": "always", "cache": True, "error_model": "numpy", "fastmath": False}

#: Number of grid points iterated together (SIMD lanes kept in one buffer).
LANES = 32

#: GD steps between two refills of the lane buffer.
CHUNK = 8
