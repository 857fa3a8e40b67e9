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

#: Options for every ``numba.cuda.jit`` (kernels and device functions) of :mod:`.cuda`.
#: No fast-math flags; ``opt`` is NVVM's -O3.
CUDA_JIT = {"fastmath": False, "opt": True}

#: Options of a CUDA kernel on a real device (the simulator takes none of them):
#: without link-time optimisation the kernel is linked as the PTX that
#: :data:`NVVM` produced, whose explicit ``.rn`` rounding no later stage may fuse.
CUDA_KERNEL = {"lto": False}

#: NVVM options of the CUDA kernels. libNVVM contracts ``a * b + c`` into one
#: fused multiply-add by default (``-fma=1``) even without fast-math flags,
#: which rounds once where the CPU kernel rounds twice; ``-fma=0`` makes it
#: emit ``mul.rn.f64`` / ``add.rn.f64``, which ``ptxas`` may not fuse either.
#: The others are NVVM's defaults, spelled out (they concern float32 only:
#: float64 division and square root are always IEEE round-to-nearest).
NVVM = {"fma": False, "prec_div": True, "prec_sqrt": True, "ftz": False}

#: CUDA threads per block of the grid kernel (each thread is one lane: it
#: takes a new point whenever its point stops).
CUDA_BLOCK = 128

#: Consecutive points a CUDA thread takes from the global counter at once: one
#: atomic add per 4 points instead of per point, and still fine-grained
#: enough to balance the threads' unequal work.
CUDA_GRAB = 4

#: Number of grid points iterated together (SIMD lanes kept in one buffer).
LANES = 32

#: GD steps between two refills of the lane buffer (even: the grid kernel
#: takes two steps per pass over its lanes).
STEPS_PER_CHECK = 8
