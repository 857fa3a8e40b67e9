"""Compiled loops of adaptive refinement (:mod:`eosfast.refine`).

The refined lattices' points are held in a hash table that maps a point's
key (its row-major index on the finest lattice, int64) to its row in the
point arrays. It is open addressing with linear probing over a power-of-two
table of int32 row numbers (-1 empty); keys are compared through the key
array (``keys[row]``), so the table costs 4 bytes a slot, not 12.

:func:`fill_points` evaluates the raster rule: a computed point has its own
outcome, any other point the outcome of the lower-left corner of the deepest
complete cell containing it (see :mod:`eosfast.refine`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .config import INLINE, JIT

#: Fibonacci hashing multiplier (2^64 / golden ratio).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@nb.njit(**INLINE)
def _slot(key, shift):
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(shift))


@nb.njit(**INLINE)
def _find(table, keys, shift, mask, key):
    s = _slot(key, shift)
    while True:
        r = table[s]
        if r < 0:
            return -1
        if keys[r] == key:
            return r
        s = (s + 1) & mask


@nb.njit(**JIT)
def hash_insert(table, keys, start, stop, bits):
    """Insert rows ``start .. stop - 1`` of ``keys`` into ``table``; the first repeated row.

    Parameters
    ----------
    table : ndarray, int32, shape (2**bits,)
        Row numbers, -1 in empty slots; filled in place.
    keys : ndarray, int64, shape (n,)
        Point keys by row, meant unique.

    Returns
    -------
    int
        -1, or the first row whose key the table already held (it and the
        rows after it are not inserted): a point added twice, which a file
        read back can hold, found without a lookup pass of its own.
    """
    shift = 64 - bits
    mask = (1 << bits) - 1
    for r in range(start, stop):
        key = keys[r]
        s = _slot(key, shift)
        while table[s] >= 0:
            if keys[table[s]] == key:
                return r
            s = (s + 1) & mask
        table[s] = r
    return -1


@nb.njit(**JIT)
def hash_remove(table, keys, start, stop, bits):
    """Take rows ``start .. stop - 1`` (each in the table) out of ``table``.

    Backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, Algorithm R): each
    emptied slot is refilled from later in its probe run with an entry
    that may move back, so every other key stays reachable from its slot
    and no tombstone is left.
    """
    shift = 64 - bits
    mask = (1 << bits) - 1
    for r in range(start, stop):
        i = _slot(keys[r], shift)
        while table[i] != r:
            i = (i + 1) & mask
        j = i
        while True:
            j = (j + 1) & mask
            if table[j] < 0:
                break
            k = _slot(keys[table[j]], shift)
            # the entry at j stays if its home k lies cyclically in (i, j]
            if (i <= j and i < k <= j) or (i > j and (k > i or k <= j)):
                continue
            table[i] = table[j]
            i = j
        table[i] = -1


@nb.njit(**JIT)
def hash_lookup(table, keys, bits, queries, out):
    """Row of each query key, or -1 where it is not in the table.

    Parameters
    ----------
    queries : ndarray, int64, shape (m,)
    out : ndarray, int64, shape (m,)
        Filled in place.
    """
    shift = 64 - bits
    mask = (1 << bits) - 1
    for i in range(queries.size):
        out[i] = _find(table, keys, shift, mask, queries[i])


@nb.njit(**INLINE)
def _refined(table, keys, shift, mask, cy, cx, size, nxf):
    """Whether the cell (cy, cx) of side ``size`` (finest spacings, >= 2) is refined."""
    h = size >> 1
    return _find(table, keys, shift, mask, (cy * size + h) * nxf + cx * size + h) >= 0


@nb.njit(**JIT)
def fill_points(table, keys, bits, status, levels, ncy0, ncx0, nxf, py, px, out):
    """Outcome of each point under the raster rule.

    Parameters
    ----------
    table, keys, bits
        The point hash (see the module docstring).
    status : ndarray, int8, shape (n,)
        Outcome of each stored point, by row.
    levels : int
        Finest level L; the finest lattice has ``ncy0 * 2**L + 1`` rows and
        ``ncx0 * 2**L + 1 = nxf`` columns (``ncy0, ncx0``: base cells per axis).
    py, px : ndarray, int64, shape (m,)
        Points, as finest-lattice indices.
    out : ndarray, int8, shape (m,)
        Filled with the stored outcome of a computed point, else the outcome of
        the lower-left corner of the deepest complete cell holding the point
        (the lowest, then leftmost, of the at most two such cells).
    """
    shift = 64 - bits
    mask = (1 << bits) - 1
    cys = np.empty(2, dtype=np.int64)
    cxs = np.empty(2, dtype=np.int64)
    nys = np.empty(2, dtype=np.int64)
    nxs = np.empty(2, dtype=np.int64)
    for i in range(py.size):
        y = py[i]
        x = px[i]
        r = _find(table, keys, shift, mask, y * nxf + x)
        if r >= 0:
            out[i] = status[r]
            continue
        # level 0: every base cell is complete; the point is not a base
        # lattice point (those are all computed), so at most two cells hold it
        size = np.int64(1) << levels
        n = 0
        ry = y // size
        rx = x // size
        if y % size == 0:
            for cy in (ry - 1, ry):
                if 0 <= cy < ncy0:
                    cys[n] = cy
                    cxs[n] = min(rx, ncx0 - 1)
                    n += 1
        elif x % size == 0:
            for cx in (rx - 1, rx):
                if 0 <= cx < ncx0:
                    cys[n] = min(ry, ncy0 - 1)
                    cxs[n] = cx
                    n += 1
        else:
            cys[0] = ry
            cxs[0] = rx
            n = 1
        best_y = cys[0]
        best_x = cxs[0]
        best_size = size
        while size > 1:
            half = size >> 1
            if y % half == 0 and x % half == 0:
                break  # a lattice point of the next level: no finer cell holds it
            m = 0
            for j in range(n):
                if not _refined(table, keys, shift, mask, cys[j], cxs[j], size, nxf):
                    continue
                # the children of (cys[j], cxs[j]) that hold the point
                by = 2 * cys[j]
                bx = 2 * cxs[j]
                oy = (y - cys[j] * size) // half  # 0, 1 or 2 (on the far edge)
                ox = (x - cxs[j] * size) // half
                ylo = by + min(oy, 1)
                xlo = bx + min(ox, 1)
                if y % half == 0 and 0 < oy < 2:
                    # on the middle line: the two children below and above
                    for cy in (by, by + 1):
                        nys[m] = cy
                        nxs[m] = xlo
                        m += 1
                elif x % half == 0 and 0 < ox < 2:
                    for cx in (bx, bx + 1):
                        nys[m] = ylo
                        nxs[m] = cx
                        m += 1
                else:
                    nys[m] = ylo
                    nxs[m] = xlo
                    m += 1
                if m >= 2:
                    break
            if m == 0:
                break
            # keep the candidates in (row, column) order
            if m == 2 and (nys[1] < nys[0] or (nys[1] == nys[0] and nxs[1] < nxs[0])):
                nys[0], nys[1] = nys[1], nys[0]
                nxs[0], nxs[1] = nxs[1], nxs[0]
            for j in range(m):
                cys[j] = nys[j]
                cxs[j] = nxs[j]
            n = m
            size = half
            best_y = cys[0]
            best_x = cxs[0]
            best_size = size
        r = _find(table, keys, shift, mask, best_y * best_size * nxf + best_x * best_size)
        out[i] = status[r]
