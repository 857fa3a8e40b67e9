"""Let LLVM use full 512-bit vectors where the CPU has AVX-512.

LLVM's tuning for recent Intel server cores includes ``prefer-256-bit``, so
Numba's auto-vectorised loops use half the width of the registers. On this
project's AVX-512 development VM the grid kernel ran about 1.0e9 GD steps/s
per core with 256-bit and 1.2-1.3e9 with 512-bit vectors (same kernel, same
1024^2 grid, CPU time, interleaved runs), with bit-identical results (no
fused multiply-add either way). This must run before Numba is imported, so
it is the first thing :mod:`eosfast` does; it never overrides a user's own
``NUMBA_CPU_FEATURES`` and is skipped with ``EOSFAST_PREFER_512=0``.
"""

from __future__ import annotations

import os
import sys


def prefer_512_bit_vectors() -> bool:
    """Set ``NUMBA_CPU_FEATURES`` to the host's features minus ``prefer-256-bit``.

    Returns whether it did (only if Numba is not imported yet, the variable is
    unset, the host has AVX-512F, and ``EOSFAST_PREFER_512`` is not ``0``).
    """
    if ("numba" in sys.modules or "NUMBA_CPU_FEATURES" in os.environ
            or os.environ.get("EOSFAST_PREFER_512", "1") == "0"):
        return False
    try:
        import llvmlite.binding as llvm

        features = llvm.get_host_cpu_features().flatten()
    except Exception:  # pragma: no cover - exotic llvmlite builds
        return False
    if "+avx512f" not in features.split(","):
        return False
    os.environ["NUMBA_CPU_FEATURES"] = features + ",-prefer-256-bit"
    return True


prefer_512_bit_vectors()
