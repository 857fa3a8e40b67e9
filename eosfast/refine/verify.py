"""``--verify``: how often the raster rule is wrong on uncomputed points, with a 95% interval."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import EosfastError
from ..result import Result
from .lattice import (
    RefinedLattice,
)

#: z of the two-sided 95% confidence interval of ``--verify``.
Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n`` (``(0, 1)`` when ``n == 0``)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    d = 1.0 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (0.0 if k == 0 else max(0.0, c - h)), (1.0 if k == n else min(1.0, c + h))


@dataclass(repr=False)
class Verification(Result):
    """Recomputed points of uncomputed lattice sites: how often the raster rule was wrong.

    Attributes
    ----------
    iy, ix : ndarray, int64, shape (k,)
        Finest-lattice indices of the sampled points (uniform, without
        replacement, among the points the refinement did not compute).
    status : ndarray, int8, shape (k,)
        Their computed outcome.
    filled : ndarray, int8, shape (k,)
        The outcome the raster rule gives them.
    uncomputed : int
        Points of the finest lattice not computed (the population sampled).
    seed : int
    """

    iy: np.ndarray
    ix: np.ndarray
    status: np.ndarray
    filled: np.ndarray
    uncomputed: int
    seed: int

    @property
    def points(self) -> int:
        return int(self.status.size)

    @property
    def mismatches(self) -> int:
        return int(np.count_nonzero(self.status != self.filled))

    @property
    def rate(self) -> float:
        """Fraction of sampled points whose filled outcome is wrong (NaN if none sampled)."""
        return self.mismatches / self.points if self.points else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the mismatch rate among uncomputed points."""
        return wilson_interval(self.mismatches, self.points)

    def summary(self) -> str:
        """One line: mismatches, rate and its 95% interval."""
        if not self.points:
            return "not verified (--verify K recomputes K uncomputed points)"
        lo, hi = self.interval
        return (f"verify: {self.mismatches} of {self.points} uncomputed points differ from "
                f"the raster, rate {self.rate:.3g} (95% CI {lo:.3g} to {hi:.3g})")


def sample_uncomputed(lat: RefinedLattice, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` finest-lattice points not computed, uniform without replacement (fewer if
    there are fewer), deterministic in ``seed``. Returns ``(iy, ix)`` int64."""
    total = lat.nyf * lat.nxf
    uncomputed = total - lat.store.n
    k = min(int(k), uncomputed)
    rng = np.random.default_rng(seed)
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if total <= 1 << 24 or 4 * k > uncomputed:
        if total > 1 << 28:
            raise EosfastError(f"--verify {k} is too many for {uncomputed} uncomputed points")
        keys = np.arange(total, dtype=np.int64)
        keys = keys[lat.store.lookup(keys) < 0]
        keys = np.sort(rng.choice(keys, size=k, replace=False))
    else:
        got = np.empty(0, np.int64)
        while got.size < k:
            draw = rng.integers(0, total, size=2 * (k - got.size) + 64, dtype=np.int64)
            draw = draw[lat.store.lookup(draw) < 0]
            # keep first occurrences in draw order: the sample does not depend on batching
            merged = np.concatenate([got, draw])
            order = np.argsort(merged, kind="stable")
            ranked = merged[order]
            first = np.ones(ranked.size, dtype=bool)
            first[1:] = ranked[1:] != ranked[:-1]
            got = merged[np.sort(order[first])]
        keys = np.sort(got[:k])
    return np.divmod(keys, np.int64(lat.nxf))


def verify_lattice(lat: RefinedLattice, classify: Callable, k: int, seed: int = 0
                   ) -> Verification:
    """Recompute ``k`` uncomputed finest points and compare with the raster rule."""
    iy, ix = sample_uncomputed(lat, k, seed)
    filled = lat.fill(iy, ix)
    status = (np.asarray(classify(ix, iy, lat.levels)["status"], dtype=np.int8)
              if iy.size else np.empty(0, np.int8))
    return Verification(iy, ix, status, filled, lat.nyf * lat.nxf - lat.store.n, int(seed))
