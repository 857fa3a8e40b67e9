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
def fletcher32(data):
    """Fletcher-32 of a byte buffer, as HDF5 computes it.

    Parameters
    ----------
    data : ndarray, uint8, shape (n,)

    Returns
    -------
    int
        The 32-bit checksum (``sum2 << 16 | sum1``).
    """
    n = data.size
    words = n // 2
    sum1 = np.uint32(0)
    sum2 = np.uint32(0)
    i = 0
    while words > 0:
        # 360 16-bit words is the most that can be summed without overflow
        tlen = 360 if words > 360 else words
        words -= tlen
        for _ in range(tlen):
            sum1 += (np.uint32(data[i]) << np.uint32(8)) | np.uint32(data[i + 1])
            i += 2
            sum2 += sum1
        sum1 = (sum1 & np.uint32(0xFFFF)) + (sum1 >> np.uint32(16))
        sum2 = (sum2 & np.uint32(0xFFFF)) + (sum2 >> np.uint32(16))
    if n % 2:
        sum1 += np.uint32(data[i]) << np.uint32(8)
        sum2 += sum1
        sum1 = (sum1 & np.uint32(0xFFFF)) + (sum1 >> np.uint32(16))
        sum2 = (sum2 & np.uint32(0xFFFF)) + (sum2 >> np.uint32(16))
    sum1 = (sum1 & np.uint32(0xFFFF)) + (sum1 >> np.uint32(16))
    sum2 = (sum2 & np.uint32(0xFFFF)) + (sum2 >> np.uint32(16))
    return (np.uint32(sum2) << np.uint32(16)) | np.uint32(sum1)


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
