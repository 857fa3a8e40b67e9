"""The chunk checksum equals HDF5's own Fletcher-32, and a plain-Python one."""

import io

import h5py
import numpy as np
import pytest

import naive
from eosfast.kernels.checksum import check_fletcher32, fletcher32


@pytest.mark.parametrize("n", [0, 1, 2, 3, 359 * 2, 720, 721, 722, 4097, 65536, 100001])
def test_equals_the_plain_python_checksum(n):
    rng = np.random.default_rng(n)
    for data in (rng.integers(0, 256, n, dtype=np.uint8), np.full(n, 255, np.uint8),
                 np.zeros(n, np.uint8)):
        assert int(fletcher32(data)) == naive.fletcher32(data.tobytes())


@pytest.mark.parametrize("dtype, n", [(np.uint8, 1), (np.uint8, 721), (np.uint8, 99999),
                                      (np.float64, 65536), (np.int8, 4096), (np.int32, 777)])
def test_equals_what_hdf5_stores(dtype, n):
    """Chunks HDF5 itself wrote with its fletcher32 filter carry the same checksum."""
    rng = np.random.default_rng(7)
    data = (rng.standard_normal(n) * 1e3).astype(dtype)
    with h5py.File(io.BytesIO(), "w") as f:
        d = f.create_dataset("a", data=data, chunks=(n,), fletcher32=True)
        _, stored = d.id.read_direct_chunk((0,))
    assert check_fletcher32(stored)
    body = np.frombuffer(stored[:-4], np.uint8)
    assert int(fletcher32(body)).to_bytes(4, "little") == stored[-4:]
    damaged = bytearray(stored)
    damaged[len(damaged) // 2] ^= 0x10
    assert not check_fletcher32(bytes(damaged))
