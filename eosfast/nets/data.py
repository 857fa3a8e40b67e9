"""The data of the network runs: a balanced 2-class subset of scikit-learn's digits."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import EosfastError
from ..validate import show


@lru_cache(maxsize=1)
def _load_digits():
    """scikit-learn's digits (read once per process: it parses a CSV each time)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise EosfastError("the digits data need scikit-learn: "
                           "pip install 'eosfast[nets]'") from None
    return load_digits()


def digits_subset(n_examples: int = 50, classes: tuple[int, int] = (0, 1)
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A balanced 2-class subset of scikit-learn's handwritten digits.

    The first ``ceil(n/2)`` images of ``classes[0]`` and the first
    ``floor(n/2)`` of ``classes[1]``, in the data set's order.

    Parameters
    ----------
    n_examples : int
        ``n``, at least 2 and at most 2 x 174.
    classes : (int, int)
        Two distinct digits 0..9; the first gets label +1, the second -1.

    Returns
    -------
    x : ndarray, shape (n, 64), float64
        Pixels divided by 16 (so in [0, 1]), minus the subset's mean image.
    y : ndarray, shape (n,), float64
        Labels +1 / -1.
    """
    c0, c1 = (int(c) for c in classes)
    if c0 == c1 or not (0 <= c0 <= 9 and 0 <= c1 <= 9):
        raise EosfastError(f"classes must be two distinct digits 0..9 (got {show(classes)})")
    digits = _load_digits()
    idx0 = np.flatnonzero(digits.target == c0)
    idx1 = np.flatnonzero(digits.target == c1)
    n0, n1 = (n_examples + 1) // 2, n_examples // 2
    if n_examples < 2 or n0 > idx0.size or n1 > idx1.size:
        most = 2 * min(idx0.size, idx1.size)
        raise EosfastError(f"n_examples must be in [2, {most}] for classes {c0}, {c1} "
                           f"(got {n_examples})")
    x = np.concatenate([digits.data[idx0[:n0]], digits.data[idx1[:n1]]]) / 16.0
    # centring is the usual preprocessing: uncentred, the non-negative images
    # share one dominant "mean digit" direction
    x = x - x.mean(axis=0)
    y = np.concatenate([np.ones(n0), -np.ones(n1)])
    return x.astype(np.float64), y
