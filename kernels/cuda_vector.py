"""The vector case's kernel on a CUDA device (numba-cuda): one GPU thread per sample.

The per-sample logic is the CPU kernel's (:mod:`.vector`): the same functions
(``_lane_step``, ``_classify`` and what they call), compiled for the device as
the grid's map bundles are (:func:`.cuda.device_functions`: ``numba.njit``
functions that numba-cuda compiles for the kernel's target, or plain Python
under the simulator), with NVVM's contraction off (:data:`.cuda.MARKERS`), so
every sample ends bit for bit as on the CPU. Only the scheduling differs: a
thread steps its sample until it stops, then takes the sample a grid's width
further on. An ensemble's samples take similar numbers of steps, so threads of
a warp finish close together.

Imports ``numba.cuda`` only inside its functions (numba-cuda is an optional extra).
"""

from __future__ import annotations

import threading

import numpy as np

from .config import CUDA_BLOCK
from .vector import _classify, _lane_step

#: The kernel's name (one of :data:`.cuda.MARKERS`).
NAME = "eosfast_cuda_ensemble"

#: Threads per block under the simulator (each is a Python thread).
SIMULATED_BLOCK = 4

_lock = threading.Lock()
_kernel = None


def ensemble_template(key):
    """The kernel function; ``cuda``, ``step`` and ``classify`` are bound as globals
    (:func:`.build.bind`: the simulator swaps a kernel's global ``cuda`` for its own).

    Signature (the CPU kernel's, :func:`.vector.ensemble_kernel`)::

        eosfast_cuda_ensemble(x1s, x2s, y1s, y2s, eta, kstep, kfac, dim, cap, tol, R,
                              max_period, period_tol, status, steps, period, sharp,
                              loss, norm2, inner)
    """

    def eosfast_cuda_ensemble(x1s, x2s, y1s, y2s, eta, kstep, kfac, dim, cap, tol, R,
                              max_period, period_tol, status, steps, period, sharp, lss,
                              norm2, inner):
        _ = key
        n = x1s.size
        i = cuda.grid(1)  # noqa: F821 (bound at compile time)
        stride = cuda.gridsize(1)  # noqa: F821
        capf = float(cap)
        kst = float(kstep)
        R2 = R * R
        while i < n:
            f0 = kfac if kst == 0.0 else 1.0
            a1 = x1s[i]
            a2 = x2s[i]
            b1 = y1s[i] * f0
            b2 = y2s[i] * f0
            t = 0.0
            go = True
            while go:
                a1, a2, b1, b2, t, go = step(  # noqa: F821
                    a1, a2, b1, b2, t, eta, kst, kfac, tol, R2, capf)
            st, per, sh, lo, nn, uu = classify(  # noqa: F821
                a1, a2, b1, b2, eta, dim, tol, R2, max_period, period_tol)
            status[i] = st
            steps[i] = np.int32(t)
            period[i] = per
            sharp[i] = sh
            lss[i] = lo
            norm2[i] = nn
            inner[i] = uu
            i += stride

    return eosfast_cuda_ensemble


def _source():
    from numba import cuda

    from .build import bind
    from .cuda import _compile_without_contraction, device_functions

    _compile_without_contraction()
    dev = device_functions({"step": _lane_step.py_func, "classify": _classify.py_func})
    return bind(ensemble_template, "vector", {"cuda": cuda, "step": dev.step,
                                              "classify": dev.classify})


def signature():
    """The kernel's argument types: C-contiguous 1-D arrays and scalars."""
    from numba import float64, int8, int16, int32, int64

    f1 = float64[::1]
    return (f1, f1, f1, f1, float64, int64, float64, int64, int64, float64, float64, int64,
            float64, int8[::1], int32[::1], int16[::1], f1, f1, f1, f1)


def kernel():
    """The compiled kernel (a numba-cuda dispatcher), its PTX checked on a device."""
    global _kernel
    with _lock:
        if _kernel is None:
            from numba import cuda
            from numba.cuda.cudadrv import nvvm

            from .cuda import _jit_options, check_ptx, simulated

            before = getattr(nvvm.compile_ir, "applied", 0)
            k = cuda.jit(signature(), **_jit_options(True))(_source())
            if not simulated():
                asm = k.inspect_asm()
                text = "\n".join(asm.values()) if isinstance(asm, dict) else str(asm)
                check_ptx(text, nvvm.compile_ir.applied > before)
            _kernel = k
        return _kernel


def ensemble_ptx(cc: tuple[int, int] = (9, 0)) -> str:
    """The kernel's PTX for compute capability ``cc`` (needs libNVVM, not a device)."""
    from numba import cuda

    from .config import CUDA_JIT

    ptx, _ = cuda.compile_ptx(_source(), signature(), cc=cc, **CUDA_JIT)
    return ptx


def run(x1, x2, y1, y2, eta, kstep, kfac, dim, cap, tol, R, max_period, period_tol,
        out: dict) -> None:
    """Copy the starts in, run every sample on the device, copy ``out``'s arrays back.

    ``out``: ``status, steps, period, sharpness, loss, norm2, inner`` host arrays of
    the starts' length (as :func:`eosfast.vector.run_plane` allocates them).
    """
    from numba import cuda

    from .cuda import launch_blocks, simulated

    n = x1.size
    if n == 0:
        return
    threads = SIMULATED_BLOCK if simulated() else CUDA_BLOCK
    blocks = max(1, -(-n // threads)) if simulated() else launch_blocks(n, threads)
    dev_in = [cuda.to_device(np.ascontiguousarray(a, dtype=np.float64))
              for a in (x1, x2, y1, y2)]
    names = ("status", "steps", "period", "sharpness", "loss", "norm2", "inner")
    dev_out = {k: cuda.device_array(n, dtype=out[k].dtype) for k in names}
    kernel()[blocks, threads](*dev_in, np.float64(eta), np.int64(kstep), np.float64(kfac),
                              np.int64(dim), np.int64(cap), np.float64(tol), np.float64(R),
                              np.int64(max_period), np.float64(period_tol),
                              *(dev_out[k] for k in names))
    for k in names:
        dev_out[k].copy_to_host(out[k])
