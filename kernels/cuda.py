"""The grid kernel on a CUDA device (numba-cuda): one GPU thread per lane.

The same per-point logic as the CPU kernel (:mod:`.grid`), compiled from the
same sources: the model's map bundle (:meth:`.maps.Maps.cuda`: its plain
functions, compiled for the device; see :func:`device_functions`) and the
same ``classify`` template (:func:`.grid.classify_template`). Only the
scheduling differs. On the CPU a lane buffer keeps ``LANES`` points in SIMD
registers; here every CUDA thread is one lane: it steps its point ``STEPS_PER_CHECK``
steps at a time, branch-free (a stopped point is frozen by a select, exactly
as on the CPU), and when its point has stopped it classifies it, writes it
out and takes the next point from a global counter. A warp therefore stays
busy however unequal the escape times of neighbouring points are, and the
result of a point depends only on the point, never on the thread, block or
batch that ran it.

Bit-identity with the CPU kernel. Both run the same IEEE 754 float64
operations in the same order: no fast-math flags on either, and on the GPU
no contraction of ``a * b + c`` into a fused multiply-add, which libNVVM does
by default. numba-cuda (0.30) does not expose NVVM's ``-fma`` option, so
:func:`_compile_without_contraction` adds the options of
:data:`~.config.NVVM` to every NVVM compilation of a module that holds an
eosfast kernel (recognised by :data:`MARKER` in its IR) and to no other
(the user's own CUDA code in the same process keeps its defaults).
:func:`grid_ptx` shows the result: the kernel's PTX has ``mul.rn.f64`` /
``add.rn.f64`` / ``sub.rn.f64`` and no ``fma``. What may still differ: a
bundle that calls libm functions (``math.exp``, ``math.hypot``, ...) gets
libdevice's versions on the device and the host's libm on the CPU, which
need not round alike; the built-in models call only ``+ - * /``, ``abs``
and ``sqrt`` (their ``hypot`` is :func:`.maps.hypot`, built from those).

This module imports ``numba.cuda`` only inside its functions (numba-cuda is
an optional extra); :func:`missing` says first whether it can run here.
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np

from eosfast.errors import InvalidArgument

from .build import bind
from .config import CUDA_BLOCK, CUDA_GRAB, CUDA_JIT, CUDA_KERNEL, INLINE, NVVM, STEPS_PER_CHECK
from .grid import classify_template
from .optim import GD, namespace, state_step_template

#: Name of the CUDA grid kernel; an NVVM compilation whose IR contains it (or
#: another name of :data:`MARKERS`) is an eosfast kernel and gets the options of
#: :data:`~.config.NVVM`.
MARKER = "eosfast_cuda_grid"

#: Every eosfast CUDA kernel's name (:mod:`.cuda_vector` has the ensemble's).
MARKERS = (MARKER, "eosfast_cuda_ensemble")

_patch_lock = threading.Lock()


def simulated() -> bool:
    """Whether numba-cuda runs on its simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    try:
        from numba.cuda.core import config
    except ImportError:  # pragma: no cover - numba-cuda before its own config module
        from numba.core import config
    return bool(config.ENABLE_CUDASIM)


def missing() -> str | None:
    """What the CUDA backend lacks here, in a few words; None when it can run.

    Checked in the order they are needed: numba-cuda (with the CUDA Python
    bindings), a driver, a device, the CUDA toolkit's compiler (libNVVM).
    Under ``NUMBA_ENABLE_CUDASIM=1`` numba-cuda's simulator stands in for the
    last three.
    """
    import importlib.util

    if importlib.util.find_spec("numba_cuda") is None:
        return 'numba-cuda is not installed (pip install "eosfast[cuda]")'
    try:
        with warnings.catch_warnings():  # import-time notices are not the user's concern
            warnings.simplefilter("ignore")
            from numba import cuda
    except ImportError as e:  # e.g. numba-cuda without the CUDA Python bindings
        return f"numba-cuda cannot be imported ({_first_line(e)})"
    if getattr(cuda, "implementation", None) != "NVIDIA":
        return ("numba.cuda is numba's own target, not numba-cuda's "
                '(pip install "eosfast[cuda]")')
    if simulated():
        return None
    from numba.cuda.cudadrv import driver, error, nvvm

    try:
        ok = driver.driver.is_available
    except error.CudaSupportError as e:
        return _driver_problem(e)
    if not ok:
        return _NO_DRIVER
    try:
        if len(cuda.gpus) == 0:
            return "no CUDA device found"
    except error.CudaSupportError as e:  # pragma: no cover - depends on the machine
        return _driver_problem(e)
    if not nvvm.is_available():
        return ("the CUDA toolkit's libNVVM was not found; "
                'pip install "eosfast[cuda]" (or numba-cuda[cu13] for CUDA 13)')
    return None


_NO_DRIVER = "no CUDA driver found (libcuda.so: an NVIDIA GPU and its driver are needed)"


def _first_line(e: BaseException) -> str:
    lines = [s.strip() for s in str(e).splitlines() if s.strip()]
    return lines[0] if lines else type(e).__name__


def _driver_problem(e: BaseException) -> str:
    text = " ".join(str(e).split())
    if "cannot be found" in text or "not found" in text:
        return _NO_DRIVER
    if "NO_DEVICE" in text:
        return "no CUDA device found"
    return f"the CUDA driver did not start ({text[:160]})"


def _compile_without_contraction() -> None:
    """Make NVVM compile eosfast kernels with the options of :data:`~.config.NVVM`.

    Wraps ``numba.cuda.cudadrv.nvvm.compile_ir``, the one function through
    which numba-cuda turns a kernel's LLVM IR into PTX (or LTO-IR), once per
    process. Modules that contain none of :data:`MARKERS` pass through as they
    were. Idempotent and thread-safe.
    """
    from numba.cuda.cudadrv import nvvm

    with _patch_lock:
        if getattr(nvvm.compile_ir, "eosfast_options", None) is not None:
            return
        original = nvvm.compile_ir

        def compile_ir(llvmir, **options):
            irs = [llvmir] if isinstance(llvmir, str | bytes) else llvmir
            texts = [ir if isinstance(ir, str) else ir.decode("utf-8", "replace") for ir in irs]
            if any(m in text for m in MARKERS for text in texts) \
                    and not getattr(_contract, "on", False):
                options.update(NVVM)
                compile_ir.applied += 1
            return original(llvmir, **options)

        compile_ir.eosfast_options = dict(NVVM)
        compile_ir.applied = 0
        compile_ir.__wrapped__ = original
        nvvm.compile_ir = compile_ir


#: ``_contract.on``: compile eosfast kernels with NVVM's defaults (FMA contraction
#: on); only :func:`grid_ptx` sets it, to show the difference.
_contract = threading.local()


def _kernel_source(maps, key: str, opt: int = GD, layered: bool = False):
    """The plain grid kernel function of ``maps`` and an optimizer, its device functions bound."""
    from numba import cuda

    _compile_without_contraction()
    ns = {**vars(maps.cuda()), **namespace(opt, layered)}
    ns["ostep"] = _device(bind(state_step_template, key, ns))
    classify = _device(bind(classify_template, key, ns))
    return bind(grid_template, key, {**ns, "cuda": cuda, "classify": classify})


def _device(f):
    """``f`` as a function kernels call: see :func:`device_functions`."""
    return vars(device_functions({"f": f}))["f"]


def _jit_options(kernel: bool) -> dict[str, Any]:
    options = dict(CUDA_JIT)
    if kernel and not simulated():
        options.update(CUDA_KERNEL)
    return options


def device_functions(functions: dict) -> SimpleNamespace:
    """A map bundle's plain functions, compiled for the device by the kernel that calls them.

    Any bundle works: the functions are used as they are. On a device they
    are ``numba.njit`` functions (with the CPU kernels' inlining options),
    which numba-cuda compiles for the target of the kernel calling them, the
    ``numba.njit`` helpers inside included; unlike ``cuda.jit(device=True)``
    dispatchers, that needs no device at compile time, so the PTX can be
    inspected anywhere (:func:`grid_ptx`). Under the simulator they are
    ``cuda.jit(device=True)`` functions, run as plain Python: the simulator
    tests then compare plain-Python float arithmetic with the compiled CPU
    kernel.
    """
    from numba import cuda

    if simulated():
        return SimpleNamespace(**{name: cuda.jit(device=True, **CUDA_JIT)(f)
                                  for name, f in functions.items()})
    import numba as nb

    return SimpleNamespace(**{name: nb.njit(**INLINE)(f) for name, f in functions.items()})


def grid_template(key):
    """The CUDA grid kernel of one model and optimizer (compiled by :class:`CudaKernels`).

    Signature::

        eosfast_cuda_grid(x0, y0, eta, eta_y, beta, cap, tol, R, max_period, period_tol,
                          counter, status, steps, period, sharp, loss, x, y)

    As :func:`.grid.grid_template` (same arrays, dtypes and meaning), plus
    ``counter``: a one-element int64 device array, zero before the launch,
    from which threads take the indices of their next points,
    :data:`~.config.CUDA_GRAB` at a time (any launch shape covers all ``n``
    points).
    """

    def eosfast_cuda_grid(x0, y0, eta, eta_y, beta, cap, tol, R, max_period, period_tol,
                          counter, status, steps, period, sharp, lss, xs, ys):
        _ = key
        n = x0.size
        # this thread's points: i, then up to (not including) end; CUDA_GRAB
        # consecutive points per atomic, so the counter is no bottleneck
        i = cuda.atomic.add(counter, 0, CUDA_GRAB)  # noqa: F821 (bound at compile time)
        end = i + CUDA_GRAB
        x = 0.0
        y = 0.0
        u = 0.0
        v = 0.0
        cx = 0.0
        cy = 0.0
        b = 0.0
        t = 0
        if i < n:
            x = x0[i]
            y = y0[i]
            u = x
            v = y
            cx = coef(eta[i])  # noqa: F821
            cy = coef(eta_y[i]) if LAYERED else cx  # noqa: F821
            b = beta[i] if OPT != GD else 0.0  # noqa: F821
        while i < n:
            go = True
            for _k in range(STEPS_PER_CHECK):
                xn, yn, un, vn, m = ostep(x, y, u, v, cx, cy, b)  # noqa: F821
                go = (abs(x) <= R) & (abs(y) <= R) & (m >= tol) & (t < cap)
                x = xn if go else x
                y = yn if go else y
                u = un if go else u
                v = vn if go else v
                t = t + 1 if go else t
            if not go:
                st, per, sh, lo, xf, yf = classify(  # noqa: F821
                    x, y, u, v, cx, cy, b, tol, R, max_period, period_tol)
                status[i] = st
                steps[i] = t
                period[i] = per
                sharp[i] = sh
                lss[i] = lo
                xs[i] = xf
                ys[i] = yf
                i += 1
                if i >= end:
                    i = cuda.atomic.add(counter, 0, CUDA_GRAB)  # noqa: F821
                    end = i + CUDA_GRAB
                if i < n:
                    x = x0[i]
                    y = y0[i]
                    u = x
                    v = y
                    cx = coef(eta[i])  # noqa: F821
                    cy = coef(eta_y[i]) if LAYERED else cx  # noqa: F821
                    b = beta[i] if OPT != GD else 0.0  # noqa: F821
                    t = 0

    return eosfast_cuda_grid


def signature():
    """The kernel's argument types (see :func:`grid_template`): C-contiguous 1-D arrays."""
    from numba import float64, int8, int16, int32, int64

    f1 = float64[::1]
    return (f1, f1, f1, f1, f1, int64, float64, float64, int64, float64, int64[::1], int8[::1],
            int32[::1], int16[::1], f1, f1, f1, f1)


#: float64 instructions that round differently from the CPU's separate multiply
#: and add: fused multiply-adds, and adds/multiplies without an explicit
#: rounding mode, which ptxas may still fuse (NVVM writes those only when it
#: is allowed to contract).
_UNSAFE = re.compile(r"\b(?:(?:fma|mad)(?:\.[a-z]+)*\.f64|(?:add|sub|mul)\.f64)\b")


def unsafe_instructions(ptx: str) -> list[str]:
    """The instructions of ``ptx`` that may fuse a multiply and an add (:data:`_UNSAFE`)."""
    return [line.strip() for line in ptx.splitlines() if _UNSAFE.search(line)]


def check_ptx(ptx: str, applied: bool) -> None:
    """Refuse a kernel that NVVM compiled without eosfast's options.

    ``applied``: whether :func:`_compile_without_contraction` saw the
    compilation (a numba-cuda that no longer goes through
    ``nvvm.compile_ir`` would bypass it). Contraction leaves unrounded
    ``add.f64``/``mul.f64`` in the PTX; with it off, every float64 add and
    multiply has ``.rn`` (a bundle's libm calls may still bring libdevice's
    own, deliberate FMAs, which this does not forbid).
    """
    from importlib.metadata import PackageNotFoundError, version

    bad = [i for i in unsafe_instructions(ptx) if not i.startswith(("fma", "mad"))]
    if not applied or bad:
        try:
            release = version("numba-cuda")
        except PackageNotFoundError:  # pragma: no cover - a source build
            release = "(unknown version)"
        raise InvalidArgument(
            f"{{backend}} cuda: numba-cuda {release} compiled the kernel without "
            "eosfast's NVVM options (-fma=0), so its results would not match the CPU's; "
            "use numba-cuda 0.30 (see docs/gpu.md)", "backend")


class CudaKernels:
    """The CUDA grid kernel of one map bundle, compiled on first launch.

    Parameters
    ----------
    maps : Maps
        The model's bundle (:mod:`.maps`).
    key : str
        Its cache key (``ModelKernels.key``, which names the optimizer).
    opt, layered :
        The optimizer (:mod:`.optim`).
    """

    def __init__(self, maps, key: str, opt: int = GD, layered: bool = False):
        self.maps = maps
        self.key = key
        self.opt = int(opt)
        self.layered = bool(layered)
        self._grid = None
        self._lock = threading.Lock()

    @property
    def grid(self):
        """The kernel (a numba-cuda dispatcher): ``grid[blocks, threads, stream](...)``.

        Compiled on first use, for :func:`signature`; on a device its PTX is
        checked (:func:`check_ptx`) before it is used.
        """
        with self._lock:
            if self._grid is None:
                from numba import cuda
                from numba.cuda.cudadrv import nvvm

                source = _kernel_source(self.maps, self.key, self.opt, self.layered)
                before = nvvm.compile_ir.applied
                kernel = cuda.jit(signature(), **_jit_options(True))(source)
                if not simulated():
                    asm = kernel.inspect_asm()
                    text = "\n".join(asm.values()) if isinstance(asm, dict) else str(asm)
                    check_ptx(text, nvvm.compile_ir.applied > before)
                self._grid = kernel
            return self._grid

    def launch(self, arrays: dict, counter, steps: int, tol: float, escape: float,
               max_period: int, period_tol: float, stream=0, blocks: int | None = None,
               threads: int | None = None) -> None:
        """Queue the kernel on ``stream`` over device arrays (:data:`INPUTS`, :data:`OUTPUTS`).

        ``counter`` is a one-element int64 device array set to 0 (on the same
        stream). ``blocks`` of ``threads`` threads: by default enough resident
        threads to fill the device (each thread takes points until none is left).
        """
        n = arrays["x0"].size
        if n == 0:
            return
        if threads is None:
            # the simulator runs every CUDA thread of a block as a Python thread:
            # a few keep it quick (a block of 128 ran minutes on two busy cores)
            threads = SIMULATED_BLOCK if simulated() else CUDA_BLOCK
        if blocks is None:
            blocks = launch_blocks(n, threads)
        self.grid[blocks, threads, stream](
            arrays["x0"], arrays["y0"], arrays["eta"], arrays["eta_y"], arrays["beta"],
            np.int64(steps), np.float64(tol),
            np.float64(escape), np.int64(max_period), np.float64(period_tol), counter,
            arrays["status"], arrays["steps"], arrays["period"], arrays["sharpness"],
            arrays["loss"], arrays["x"], arrays["y"])


#: Resident threads per streaming multiprocessor the launch aims at.
THREADS_PER_SM = 2048

#: Threads per block under numba-cuda's simulator (each is a Python thread).
SIMULATED_BLOCK = 4


def launch_blocks(n: int, threads: int = CUDA_BLOCK) -> int:
    """Blocks of ``threads`` threads for ``n`` points: no more than needed (a thread
    takes :data:`~.config.CUDA_GRAB` points at a time), no more than fill the
    device once (a thread then takes points until none is left)."""
    need = max(1, math.ceil(n / (threads * CUDA_GRAB)))
    if simulated():
        return need
    from numba import cuda

    sms = cuda.get_current_device().MULTIPROCESSOR_COUNT
    return max(1, min(need, sms * THREADS_PER_SM // threads))


def device_name() -> str:
    """The current CUDA device's name (``"simulator"`` under the simulator)."""
    if simulated():
        return "simulator"
    from numba import cuda

    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def grid_ptx(maps, key: str, cc: tuple[int, int] = (9, 0), contract: bool = False,
             opt: int = GD, layered: bool = False) -> str:
    """The PTX of the grid kernel of ``maps`` for compute capability ``cc``.

    Needs numba-cuda and libNVVM, not a device. ``contract=True`` compiles
    with NVVM's defaults instead of :data:`~.config.NVVM` (to show the fused
    multiply-adds that the defaults would make).
    """
    from numba import cuda

    fn = _kernel_source(maps, key, opt, layered)
    sig = signature()
    _contract.on = bool(contract)
    try:
        ptx, _ = cuda.compile_ptx(fn, sig, cc=cc, **CUDA_JIT)
    finally:
        _contract.on = False
    return ptx


#: The kernel's output arrays and their dtypes, in the CPU grid kernel's order
#: (the grid file stores them as they are: ``tests/test_cuda.py`` checks that
#: they are :data:`eosfast.store.layouts.GRID_DTYPES`).
OUTPUTS = {"status": np.dtype(np.int8), "steps": np.dtype(np.int32),
           "period": np.dtype(np.int16), "sharpness": np.dtype(np.float64),
           "loss": np.dtype(np.float64), "x": np.dtype(np.float64), "y": np.dtype(np.float64)}

#: The kernel's input arrays (``eta_y`` and ``beta`` are read only by the
#: kernels of the optimizers that use them).
INPUTS = ("x0", "y0", "eta", "eta_y", "beta")


class Slot:
    """Buffers for one batch of up to ``size`` points on the device, and a stream.

    The caller fills ``host[name][:n]`` for the :data:`INPUTS`, calls
    :meth:`launch` (asynchronous: copies in, kernel, copies out, all queued
    on this slot's stream) and later :meth:`wait`, which returns the outputs
    as views of ``host`` (valid until the slot's next launch). Host buffers
    are page-locked, so the copies overlap with other work.
    """

    def __init__(self, size: int):
        from numba import cuda

        self.size = int(size)
        self.stream = cuda.stream()
        dtypes = {**dict.fromkeys(INPUTS, np.float64), **OUTPUTS}
        self.host = {n: cuda.pinned_array(self.size, dtype=dt) for n, dt in dtypes.items()}
        self.dev = {n: cuda.device_array(self.size, dtype=dt) for n, dt in dtypes.items()}
        self.counter = cuda.device_array(1, dtype=np.int64)
        self._zero = cuda.pinned_array(1, dtype=np.int64)
        self._zero[0] = 0
        self.n = 0

    def launch(self, kernels: CudaKernels, n: int, steps: int, tol: float, escape: float,
               max_period: int, period_tol: float) -> None:
        """Queue a batch of the first ``n`` points of ``host`` (inputs already filled)."""
        if n > self.size:
            raise ValueError(f"batch of {n} points in a slot of {self.size}")
        self.n = n
        s = self.stream
        for name in INPUTS:
            self.dev[name][:n].copy_to_device(self.host[name][:n], stream=s)
        self.counter.copy_to_device(self._zero, stream=s)
        kernels.launch({k: v[:n] for k, v in self.dev.items()}, self.counter, steps, tol,
                       escape, max_period, period_tol, stream=s)
        for name in OUTPUTS:
            self.dev[name][:n].copy_to_host(self.host[name][:n], stream=s)

    def wait(self) -> dict[str, np.ndarray]:
        """The outputs of the last launch (1-D views of the host buffers, length ``n``)."""
        self.stream.synchronize()
        return {name: self.host[name][: self.n] for name in OUTPUTS}
