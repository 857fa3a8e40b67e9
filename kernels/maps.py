"""The GD maps the kernels iterate: one bundle of small scalar functions per model.

Every kernel (grid, trajectory, orbit diagram, Jacobians, pointwise measures)
is written once, against the names of a :class:`Maps` bundle, and compiled per
model by :func:`eosfast.kernels.build.instantiate`. A bundle holds plain Python
functions of float64 scalars; each target compiles them its own way (inlined
``numba.njit`` on the CPU). The names and their contracts:

``coef(eta) -> c``
    The per-point constant the step uses (``s * eta`` for a coupled network).
``advance(x, y, cx, cy) -> (x', y', m)``
    One GD step from ``(x, y)``, the layers carrying ``x`` stepping with
    ``cx = coef(eta_x)`` and those carrying ``y`` with ``cy = coef(eta_y)``
    (``cx == cy`` for one step size: the arithmetic is then that of a single
    ``c``, bit for bit), and the convergence measure ``m >= 0`` *at*
    ``(x, y)``: the point counts as converged (and the step is not taken) when
    ``m < tol``. Every kernel steps through this one function; the optimizers
    (:mod:`eosfast.kernels.optim`) wrap it.
``measure(x, y) -> m``
    The same measure alone.
``is_minimum(x, y, tol) -> bool``
    For a point with ``m < tol``: a minimum (True), or another critical point.
``loss(x, y)``, ``sharpness(x, y)``
    The objective and the top eigenvalue of its Hessian at ``(x, y)``.
``jacobian(x, y, cx, cy) -> (dx'/dx, dx'/dy, dy'/dx, dy'/dy)``
    Of the step, for Lyapunov exponents and Newton's method on cycles.
``product(x, y) -> P``
    The network's output ``P`` (an observable of orbit diagrams; NaN if none).

The coupled scalar networks of the paper come from :func:`coupled`. Its
operation order is the contract that the plain-Python reference in
``tests/naive.py`` mirrors: both round identically, step for step. The
bundles of losses written as expressions are generated from their symbolic
derivatives (:mod:`eosfast.kernels.codegen`, loaded by :mod:`eosfast.codegen`).

Every function must stay compilable by any target: arithmetic, comparisons,
``abs`` and ``math.*`` only (no NumPy, no calls to other Python functions).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numba as nb

from .config import INLINE

#: The functions every bundle defines (see the module docstring).
NAMES = ("coef", "advance", "measure", "is_minimum", "loss", "sharpness", "jacobian",
         "product")


def _source_digest() -> str:
    """A digest of the kernels' source: compiled code cached under an older one is stale.

    Numba re-validates a cached kernel only against the file that defines it;
    the functions it inlines from other files (this one, the config) are
    covered by putting this digest into every kernel's cache key.
    """
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


#: Digest of ``kernels/*.py``, part of every compiled kernel's cache key.
SOURCE_DIGEST = _source_digest()


@dataclass(frozen=True, eq=False)
class Maps:
    """A model's GD map as plain scalar functions (see the module docstring).

    Attributes
    ----------
    key : str
        Unique and stable for the map: compiled kernels are cached under it.
    functions : dict of str -> callable
        Every name of :data:`NAMES`.
    symmetric : bool
        Whether every function commutes with swapping ``x`` and ``y`` *bit for
        bit* (``advance(y, x, c)`` is ``advance(x, y, c)`` with its two
        coordinates exchanged, and ``loss``, ``sharpness``, ``measure`` are
        unchanged): grids on a symmetric window then compute half their points.
    """

    key: str
    functions: dict[str, Callable]
    symmetric: bool = False
    _compiled: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        missing = [n for n in NAMES if n not in self.functions]
        if missing:
            raise ValueError(f"map bundle {self.key!r} lacks {', '.join(missing)}")

    def cpu(self) -> SimpleNamespace:
        """The functions compiled for the CPU, inlined into every kernel that calls them."""
        if "cpu" not in self._compiled:
            self._compiled["cpu"] = SimpleNamespace(
                **{n: nb.njit(**INLINE)(f) for n, f in self.functions.items()})
        return self._compiled["cpu"]

    def cuda(self) -> SimpleNamespace:
        """The functions as the CUDA grid kernel calls them (numba-cuda; :mod:`.cuda`).

        The same plain functions, so the GPU steps through the same operations
        in the same order; numba-cuda compiles them, and the ``numba.njit``
        helpers they call (:func:`ipow`, :func:`hypot`), for the device.
        """
        if "cuda" not in self._compiled:
            from .cuda import device_functions

            self._compiled["cuda"] = device_functions(self.functions)
        return self._compiled["cuda"]


@nb.njit(**INLINE)
def ipow(x: float, n: int) -> float:
    """``x**n`` for a small non-negative integer ``n`` by repeated multiplication."""
    r = 1.0
    for _ in range(n):
        r *= x
    return r


@nb.njit(**INLINE)
def hypot(a: float, b: float) -> float:
    """``sqrt(a^2 + b^2)`` from IEEE 754 basic operations only: the same bits on every target.

    ``math.hypot`` is the platform's libm on the CPU (glibc), CPython's own in
    plain Python (the CUDA simulator) and libdevice's on a CUDA device: three
    algorithms that disagree in the last bit for about 0.3% of arguments.
    This one uses only ``abs``, ``*``, ``+``, ``/`` and ``sqrt``, each
    correctly rounded wherever it runs (and never fused into an FMA: see
    :mod:`.config`), so every target gets the same result. Error at most
    about 1 ulp (one rounding in the sum, halved by the square root, plus the
    root's own); exact power-of-two scaling keeps the squares from overflowing
    or underflowing. ``hypot(inf, nan)`` is inf, as IEEE 754 says.
    """
    a = abs(a)
    b = abs(b)
    if a == math.inf or b == math.inf:
        return math.inf
    if a < b:
        a, b = b, a
    if a > 2.0 ** 500:
        scale = 2.0 ** -600
    elif a < 2.0 ** -500:
        scale = 2.0 ** 600
    else:
        scale = 1.0
    a *= scale
    b *= scale
    return math.sqrt(a * a + b * b) / scale


def coupled(p: int, q: int, s: float) -> Maps:
    """The map of a coupled scalar network (paper s. 1, 4; math.md s. 1-2).

    A depth-``k`` network ``P = w_1 ... w_k`` whose ``p`` weights equal ``x``
    and ``q = k - p`` equal ``y`` (GD preserves the coupling), objective
    ``L = s/2 (1 - P)^2``; ``s = 2`` gives the paper's ``(1 - xy)^2``.
    The step is ``x' = x + s eta_x r x^(p-1) y^q``, ``y' = y + s eta_y r x^p y^(q-1)``
    with ``r = 1 - P``; converged means ``|r| < tol`` (every such point is a
    global minimum). ``sharpness`` is the top eigenvalue of the full ``k x k``
    network Hessian, not of the reduced 2-variable one.
    """
    p, q, s = int(p), int(q), float(s)
    if p < 1 or q < 1:
        raise ValueError(f"a coupled network needs p, q >= 1, got {p}, {q}")

    def coef(eta):
        return s * eta

    def advance(x, y, cx, cy):
        a = ipow(x, p - 1)
        b = ipow(y, q - 1)
        ax = a * x
        by = b * y
        r = 1.0 - ax * by
        return x + (cx * r) * (a * by), y + (cy * r) * (ax * b), abs(r)

    def measure(x, y):
        return abs(1.0 - (ipow(x, p - 1) * x) * (ipow(y, q - 1) * y))

    def is_minimum(x, y, tol):
        return True

    def product(x, y):
        return (ipow(x, p - 1) * x) * (ipow(y, q - 1) * y)

    def loss(x, y):
        r = 1.0 - (ipow(x, p - 1) * x) * (ipow(y, q - 1) * y)
        return 0.5 * s * r * r

    def jacobian(x, y, cx, cy):
        # F = x + cx r gx, G = y + cy r gy with r = 1 - P, P = x^p y^q,
        # gx = dP/dx / p = x^(p-1) y^q, gy = x^p y^(q-1).
        P = ipow(x, p) * ipow(y, q)
        r = 1.0 - P
        gx = ipow(x, p - 1) * ipow(y, q)
        gy = ipow(x, p) * ipow(y, q - 1)
        gxx = (p - 1) * ipow(x, p - 2) * ipow(y, q) if p >= 2 else 0.0
        gyy = (q - 1) * ipow(x, p) * ipow(y, q - 2) if q >= 2 else 0.0
        gxy = q * ipow(x, p - 1) * ipow(y, q - 1)  # d gx / dy
        gyx = p * ipow(x, p - 1) * ipow(y, q - 1)  # d gy / dx
        fxx = 1.0 + cx * (r * gxx - p * gx * gx)
        fxy = cx * (r * gxy - q * gy * gx)
        fyx = cy * (r * gyx - p * gx * gy)
        fyy = 1.0 + cy * (r * gyy - q * gy * gy)
        return fxx, fxy, fyx, fyy

    def sharpness(x, y):
        # The network Hessian H_ij = s (g_i g_j - r prod_{l != i,j} w_l)
        # (H_ii = s g_i^2) commutes with permutations inside the x- and
        # y-groups, so its spectrum is that of the 2 x 2 block on the
        # group-symmetric vectors plus r x^(p-2) y^q (multiplicity p - 1) and
        # r x^p y^(q-2) (multiplicity q - 1). At a minimum (r = 0) it is
        # s (p / x^2 + q / y^2).
        # Products of powers are formed before they meet r, so that swapping
        # x and y (when p = q) only reorders commutative products: the
        # sharpness of (y, x) is then bit for bit that of (x, y).
        r = 1.0 - (ipow(x, p - 1) * x) * (ipow(y, q - 1) * y)
        gx = ipow(x, p - 1) * ipow(y, q)
        gy = ipow(x, p) * ipow(y, q - 1)
        hxy = r * (ipow(x, p - 1) * ipow(y, q - 1))
        hx = r * (ipow(x, p - 2) * ipow(y, q)) if p >= 2 else 0.0
        hy = r * (ipow(x, p) * ipow(y, q - 2)) if q >= 2 else 0.0
        a = p * gx * gx - (p - 1) * hx
        d = q * gy * gy - (q - 1) * hy
        b = math.sqrt(p * q) * (gx * gy - hxy)
        m = 0.5 * (a + d)
        h = hypot(0.5 * (a - d), b)
        if m >= 0.0:
            top = m + h
        else:
            # avoid cancellation in m + h when the block's trace is negative
            low = m - h
            top = (a * d - b * b) / low if low != 0.0 else 0.0
        if p >= 2 and hx > top:
            top = hx
        if q >= 2 and hy > top:
            top = hy
        return s * top

    fns = {"coef": coef, "advance": advance, "measure": measure, "is_minimum": is_minimum,
           "loss": loss, "sharpness": sharpness, "jacobian": jacobian, "product": product}
    return Maps(key=f"coupled({p},{q},{s!r})", functions=fns, symmetric=p == q)
