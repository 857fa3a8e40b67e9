"""Lyapunov exponents of any map, from its Jacobians along an orbit (the QR method).

Eckmann & Ruelle, Rev. Mod. Phys. 57 (1985), s. III.C; Benettin et al. 1980.
The orbit diagrams of :mod:`eosfast.bifurcation` compute the largest
exponent of the GD map inside their kernel; these are the general tools.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .errors import EosfastError
from .kernels.orbit import lyapunov_qr


def lyapunov_spectrum(jacobians: np.ndarray) -> np.ndarray:
    """Lyapunov exponents from the Jacobians along an orbit, by repeated QR.

    Parameters
    ----------
    jacobians : array_like, shape (n, d, d) or (n,) for a 1-D map, float64
        ``jacobians[t]`` is ``Df`` at the orbit's t-th point.

    Returns
    -------
    ndarray, shape (d,), float64
        Exponents in nats per step, largest first (Eckmann & Ruelle 1985, s. III.C).

    Examples
    --------
    >>> import numpy as np
    >>> lyapunov_spectrum(np.full(10, 2.0))  # x -> 2x
    array([0.69314718])
    """
    J = np.asarray(jacobians, dtype=np.float64)
    if J.ndim == 1:
        J = J[:, None, None]
    if J.ndim != 3 or J.shape[1] != J.shape[2] or J.shape[0] == 0:
        raise EosfastError("jacobians must have shape (n, d, d) or (n,) with n >= 1")
    return np.sort(lyapunov_qr(np.ascontiguousarray(J)))[::-1]


def lyapunov_exponents(f: Callable, jac: Callable, x0, steps: int, burn: int = 0) -> np.ndarray:
    """Lyapunov spectrum of a user-supplied map ``x -> f(x)`` (1-D or d-D).

    Parameters
    ----------
    f : callable
        The map: state -> next state (float for 1-D maps, array (d,) otherwise).
    jac : callable
        Its Jacobian: state -> float (1-D) or array (d, d).
    x0 : float or array_like (d,)
        Initial state.
    steps : int
        Steps averaged over, after ``burn`` discarded steps.

    Returns
    -------
    ndarray, shape (d,), float64
        Exponents, nats per step, largest first.

    Examples
    --------
    >>> lam = lyapunov_exponents(lambda x: 4 * x * (1 - x), lambda x: 4 - 8 * x, 0.3, 20000)
    >>> bool(abs(lam[0] - np.log(2)) < 0.02)
    True
    """
    x = x0
    for _ in range(int(burn)):
        x = f(x)
    jacs = []
    for _ in range(int(steps)):
        jacs.append(np.atleast_2d(np.asarray(jac(x), dtype=np.float64)))
        x = f(x)
    return lyapunov_spectrum(np.stack(jacs))
