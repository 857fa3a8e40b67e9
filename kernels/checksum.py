"""HDF5's Fletcher-32 chunk checksum, for chunks encoded outside the HDF5 library.

Workers compress a tile's chunks themselves and the writer stores them with
``write_direct_chunk``, which bypasses the filter pipeline; so the checksum
HDF5's ``fletcher32`` filter would append is computed here, exactly as
``H5_checksum_fletcher32`` (H5checksum.c) computes it, and appended
little-endian as ``H5Z_filter_fletcher32`` does. Every HDF5 reader then
verifies it on read. The tests compare it with chunks HDF5 itself wrote.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .config import JIT


@nb.njit(**JIT)
def _fletcher_words(words, tail, has_tail):
    """The checksum of 16-bit ``words`` read little-endian (swapped here) and a tail byte."""
    n = words.size
    sum1 = np.uint64(0)
    sum2 = np.uint64(0)
    start = 0
    while start < n:
        tlen = min(360, n - start)
        # within a block both sums fit 32 bits: 360 * 65535 and
        # 65535 * (1 + ... + 360) = 4.26e9 < 2^32
        s = np.uint32(0)
        wsum = np.uint32(0)
        for j in range(tlen):
            v = np.uint32(words[start + j])
            w = (v >> np.uint32(8)) | ((v & np.uint32(0xFF)) << np.uint32(8))
            s += w
            wsum += np.uint32(tlen - j) * w
        sum2 += np.uint64(tlen) * sum1 + np.uint64(wsum)
        sum1 += np.uint64(s)
        sum1 = (sum1 & np.uint64(0xFFFF)) + (sum1 >> np.uint64(16))
        sum2 = (sum2 & np.uint64(0xFFFF)) + (sum2 >> np.uint64(16))
        start += tlen
    if has_tail:
        sum1 += np.uint64(tail) << np.uint64(8)
        sum2 += sum1
        sum1 = (sum1 & np.uint64(0xFFFF)) + (sum1 >> np.uint64(16))
        sum2 = (sum2 & np.uint64(0xFFFF)) + (sum2 >> np.uint64(16))
    sum1 = (sum1 & np.uint64(0xFFFF)) + (sum1 >> np.uint64(16))
    sum2 = (sum2 & np.uint64(0xFFFF)) + (sum2 >> np.uint64(16))
    return (sum2 << np.uint64(16)) | sum1


def fletcher32(data: np.ndarray) -> int:
    """Fletcher-32 of a byte buffer, as HDF5 computes it.

    HDF5 sums big-endian 16-bit words in blocks of 360 (the most that fit in
    32 bits unfolded), folding both sums after each block. Within a block the
    word-by-word recurrence ``sum1 += w; sum2 += sum1`` has the closed form
    ``sum1 += S``, ``sum2 += L sum1 + sum_j (L - j) w_j`` (``S`` the block's
    word sum, ``L`` its length): two independent reductions that vectorise,
    and the same integers (nothing overflows inside a block), so the same
    checksum.

    Parameters
    ----------
    data : ndarray, uint8, shape (n,)

    Returns
    -------
    int
        The 32-bit checksum (``sum2 << 16 | sum1``).
    """
    data = np.ascontiguousarray(data, dtype=np.uint8)
    nwords = data.size // 2
    words = data[:2 * nwords].view("<u2")
    tail = int(data[-1]) if data.size % 2 else 0
    return int(_fletcher_words(words, tail, bool(data.size % 2)))


def append_fletcher32(payload: bytes) -> bytes:
    """``payload`` followed by its Fletcher-32, as the HDF5 filter stores a chunk."""
    value = int(fletcher32(np.frombuffer(payload, dtype=np.uint8)))
    return payload + value.to_bytes(4, "little")


def check_fletcher32(stored: bytes) -> bool:
    """Whether a stored chunk (payload + 4-byte checksum) is intact."""
    if len(stored) < 4:
        return False
    body = np.frombuffer(stored, dtype=np.uint8, count=len(stored) - 4)
    return int(fletcher32(body)) == int.from_bytes(stored[-4:], "little")
