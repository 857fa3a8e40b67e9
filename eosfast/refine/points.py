"""The computed points of a refinement: keys on the finest lattice, fields, a hash table."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..errors import EosfastError


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted unique values of a 1-D integer array.

    By sorting: numpy 2.4's ``np.unique`` hashes first and took 18 s where a
    sort takes 0.12 s (5e6 int64 keys).
    """
    a = np.sort(np.asarray(a).reshape(-1))
    if a.size < 2:
        return a
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


class RepeatedPoint(EosfastError):
    """A point added to a :class:`PointStore` that holds it already."""


class PointStore:
    """Computed points: keys, per-point fields, and a hash from key to row.

    Points are appended level by level, so the points of one level are one
    range of rows (:meth:`rows`).

    Attributes
    ----------
    n : int
        Points held.
    keys : ndarray, int64, shape (n,)
        Row-major index of each point on the finest lattice.
    fields : dict of str -> ndarray, shape (n,)
        The kept fields, by row.
    """

    def __init__(self, dtypes: Mapping[str, np.dtype], capacity: int = 1 << 12):
        capacity = max(int(capacity), 16)
        self.n = 0
        self._keys = np.empty(capacity, dtype=np.int64)
        self._fields = {k: np.empty(capacity, dtype=dt) for k, dt in dtypes.items()}
        self._ranges: dict[int, list[int]] = {}
        self._last = -1
        self._bits = 4
        self._table = np.full(1 << self._bits, -1, dtype=np.int32)

    @property
    def keys(self) -> np.ndarray:
        return self._keys[: self.n]

    @property
    def fields(self) -> dict[str, np.ndarray]:
        return {k: v[: self.n] for k, v in self._fields.items()}

    def field(self, name: str) -> np.ndarray:
        return self._fields[name][: self.n]

    def rows(self, origin: int) -> slice:
        """The rows of the points added for level ``origin`` (0: the base grid)."""
        a, b = self._ranges.get(origin, (self.n, self.n))
        return slice(a, b)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key, -1 where the point is not computed (int64, shape of ``keys``)."""
        from ..kernels.refine import hash_lookup

        q = np.ascontiguousarray(keys, dtype=np.int64).reshape(-1)
        out = np.empty(q.size, dtype=np.int64)
        if q.size:
            hash_lookup(self._table, self._keys, self._bits, q, out)
        return out.reshape(np.shape(keys))

    def reserve(self, n: int, table: bool = False) -> None:
        """Make room for ``n`` points in all (a growth later copies every array).

        With ``table``, size the hash table for them too: loading ``n`` points
        then builds it once instead of rebuilding it at every doubling.
        """
        if n > self._keys.size:
            self._keys = _grow(self._keys, n)
            for k in self._fields:
                self._fields[k] = _grow(self._fields[k], n)
        if table and 2 * n > self._table.size:
            from ..kernels.refine import hash_insert

            self._bits = int(math.ceil(math.log2(2 * n)))
            self._table = np.full(1 << self._bits, -1, dtype=np.int32)
            hash_insert(self._table, self._keys, 0, self.n, self._bits)

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` points only: the rest leave the hash table and the ranges.

        (A run stopped between two saves comes back to what its file holds.)
        """
        from ..kernels.refine import hash_remove

        n = int(n)
        if not 0 <= n <= self.n:
            raise ValueError(f"cannot truncate {self.n} points to {n}")
        if n == self.n:
            return
        hash_remove(self._table, self._keys, n, self.n, self._bits)
        self.n = n
        for origin in list(self._ranges):
            a, b = self._ranges[origin]
            if a > n:
                del self._ranges[origin]
            else:
                self._ranges[origin] = [a, min(b, n)]
        self._last = max(self._ranges) if self._ranges else -1

    def export(self) -> tuple[dict[str, tuple[np.ndarray, int]], dict]:
        """Everything the store holds, for :mod:`eosfast.store.pointcache`.

        Returns ``(arrays, meta)``: ``arrays`` maps ``keys``, ``table`` and
        ``field_NAME`` to ``(array, capacity)``; ``meta`` holds the point
        count, the table's bits and the level ranges.
        """
        arrays = {"keys": (self.keys, self._keys.size),
                  "table": (self._table, self._table.size),
                  **{f"field_{k}": (v[: self.n], v.size) for k, v in self._fields.items()}}
        meta = {"n": self.n, "bits": self._bits, "last": self._last,
                "ranges": {str(k): list(v) for k, v in self._ranges.items()}}
        return arrays, meta

    @classmethod
    def restore(cls, dtypes: Mapping[str, np.dtype], arrays: Mapping[str, np.ndarray],
                meta: Mapping) -> PointStore:
        """The store :meth:`export` described, on ``arrays`` (taken as they are, with
        their capacity: no copy)."""
        store = cls(dtypes, 16)
        n, bits = int(meta["n"]), int(meta["bits"])
        keys, table = arrays["keys"], arrays["table"]
        if keys.dtype != np.int64 or table.dtype != np.int32 or table.size != 1 << bits \
                or keys.size < n or 2 * n > table.size:
            raise ValueError("the arrays are not a point store's")
        fields = {}
        for k, dt in dtypes.items():
            a = arrays[f"field_{k}"]
            if a.dtype != np.dtype(dt) or a.size != keys.size:
                raise ValueError(f"field {k!r} is not the store's")
            fields[k] = a
        store.n, store._bits, store._keys, store._table = n, bits, keys, table
        store._fields = fields
        store._ranges = {int(k): [int(a), int(b)] for k, (a, b) in meta["ranges"].items()}
        store._last = int(meta["last"])
        return store

    def add(self, keys: np.ndarray, values: Mapping[str, np.ndarray], origin: int) -> None:
        """Append points not held yet (``keys`` unique) with their kept fields.

        ``origin`` is the level they were computed for; levels come in
        increasing order. Raises :class:`RepeatedPoint` (adding nothing) when
        a key is held already or repeated.
        """
        from ..kernels.refine import hash_insert

        keys = np.ascontiguousarray(keys, dtype=np.int64)
        m = keys.size
        if origin != self._last:
            if origin < self._last:
                raise AssertionError("points are added level by level")
            self._ranges[origin] = [self.n, self.n]
            self._last = origin
        if not m:
            return
        need = self.n + m
        if need >= 2**31 - 1:
            raise EosfastError(f"more than 2^31 computed points ({need}); use fewer levels")
        if need > self._keys.size:
            self.reserve(max(need, int(self._keys.size * 1.5) + 16))
        sl = slice(self.n, need)
        self._keys[sl] = keys
        for k in self._fields:
            self._fields[k][sl] = values[k]
        if 2 * need > self._table.size:  # keep the load at most 1/2
            self._bits = int(math.ceil(math.log2(2 * need)))
            self._table = np.full(1 << self._bits, -1, dtype=np.int32)
            first = 0
        else:
            first = self.n
        repeated = hash_insert(self._table, self._keys, first, need, self._bits)
        if repeated >= 0:
            # the rows inserted before it are taken out again: the store is as it was
            self._table = np.full(self._table.size, -1, dtype=np.int32)
            hash_insert(self._table, self._keys, 0, self.n, self._bits)
            raise RepeatedPoint(f"point {int(self._keys[repeated])} is added twice")
        self.n = need
        self._ranges[origin][1] = need


def _grow(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=a.dtype)
    out[: a.size] = a
    return out
