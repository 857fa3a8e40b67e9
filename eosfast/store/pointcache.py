"""A stopped run's in-memory arrays, kept beside its ``.part`` so that a resume maps them back.

A refinement's resume needs every point computed so far in memory, with the
hash table that finds them (:class:`eosfast.refine.points.PointStore`).
Rebuilding them from the ``.part`` means reading, decompressing and hashing
every level: about 22 s for the 135 million points of ``refine --base 1025
--levels 7`` at its last level on 2 cores, so runs stopped every few seconds
there never got past their start. So a run stopped by a signal writes those
arrays as they are to ``NAME.part.points`` (:func:`cache_path`), and the
resume maps that file (copy on write) instead: its start no longer grows
with the file.

The cache is a copy of what the ``.part`` already holds, and is trusted only
while the two agree:

- a fresh random token is written into the ``.part`` (root attribute
  :data:`TOKEN_ATTR`) *before* the cache, which holds the same token and is
  written under a temporary name and renamed into place when whole;
- the writer deletes the attribute before it next changes the ``.part``
  (:func:`eosfast.store.refinefile.forget_cache`);
- every array is checked against its CRC-32 (per 64 MiB block, computed on
  two threads) when read.

So a cache whose token is not the ``.part``'s, or that is cut short or
damaged, is ignored, and the resume rebuilds from the ``.part`` as before.

File layout: 8 bytes :data:`MAGIC`, a little-endian uint64 header length,
the header (JSON: ``token``, ``meta``, and for each array its ``dtype``,
``length``, ``capacity``, byte ``offset`` and block ``crcs``), then each
array at a page-aligned offset. Room for ``capacity`` elements is reserved
after each array as a hole (no disk space), so a resumed store appends in
place.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import secrets
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import SIDECARS, _move, remove_sidecars

#: First bytes of a cache file (format version 1).
MAGIC = b"EOSFPTS1"

#: Suffix of the cache beside a ``.part`` (``NAME.part.points``).
SUFFIX = SIDECARS[0]

#: Root attribute of the ``.part`` holding the token of its cache.
TOKEN_ATTR = "points_cache"

#: Bytes per CRC-32 block (blocks are checked in parallel).
BLOCK = 1 << 26

_ALIGN = mmap.ALLOCATIONGRANULARITY


def cache_path(part: str | os.PathLike) -> Path:
    """The cache file of a ``.part``: ``NAME.part.points``."""
    part = Path(part)
    return part.with_name(part.name + SUFFIX)


def new_token() -> str:
    """A random token tying a cache to the state of its ``.part``."""
    return secrets.token_hex(16)


def remove(part: str | os.PathLike) -> None:
    """Delete the cache of ``part`` and any cache left half-written."""
    remove_sidecars(part)


def _blocks(a: np.ndarray) -> list[memoryview]:
    mv = memoryview(np.ascontiguousarray(a)).cast("B")
    return [mv[i:i + BLOCK] for i in range(0, len(mv), BLOCK)] or [mv]


def _crcs(arrays: list[np.ndarray]) -> list[list[int]]:
    """CRC-32 of each array's blocks, on two threads (``zlib`` releases the GIL)."""
    jobs = [(i, b) for i, a in enumerate(arrays) for b in _blocks(a)]
    with ThreadPoolExecutor(2) as ex:
        crcs = list(ex.map(lambda job: zlib.crc32(job[1]), jobs))
    out: list[list[int]] = [[] for _ in arrays]
    for (i, _), c in zip(jobs, crcs, strict=True):
        out[i].append(int(c))
    return out


def _align(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def write(part: str | os.PathLike, token: str,
          arrays: Mapping[str, tuple[np.ndarray, int]], meta: Mapping[str, Any]) -> Path:
    """Write the cache of ``part``: ``arrays`` (name -> (1-D array, capacity)) and ``meta``.

    Written under a temporary name and renamed when whole; on any failure
    nothing is left (the resume then rebuilds from the ``.part``) and the
    error is raised.
    """
    path = cache_path(part)
    tmp = path.with_name(path.name + ".tmp")
    names = list(arrays)
    data = [np.ascontiguousarray(arrays[k][0]).reshape(-1) for k in names]
    crcs = _crcs(data)
    entries: dict[str, dict[str, Any]] = {}
    header_room = 1 << 16
    while True:
        offset = _align(16 + header_room)
        for k, a, c in zip(names, data, crcs, strict=True):
            cap = max(int(arrays[k][1]), a.size)
            entries[k] = {"dtype": a.dtype.str, "length": int(a.size), "capacity": cap,
                          "offset": offset, "crcs": c}
            offset = _align(offset + cap * a.itemsize)
        header = json.dumps({"token": token, "meta": dict(meta), "arrays": entries}).encode()
        if len(header) <= header_room:
            break
        header_room = 2 * len(header)
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + np.uint64(len(header)).tobytes() + header)
            for k, a in zip(names, data, strict=True):
                fh.seek(entries[k]["offset"])
                for b in _blocks(a):
                    fh.write(b)
            fh.truncate(offset)  # the capacities: holes, no disk space
        _move(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def read(part: str | os.PathLike, token: str
         ) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The cache of ``part`` if it holds ``token`` and is intact: ``(meta, arrays)``, else None.

    Each array is mapped copy on write with its capacity (``arrays[k][:length]``
    is the data; the rest, zeros, is room to append): writes stay in this
    process, and the file may be deleted while the arrays live. The lengths
    are ``meta["lengths"]``.
    """
    path = cache_path(part)
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            if len(head) != 16 or head[:8] != MAGIC:
                return None
            size = int(np.frombuffer(head[8:], dtype=np.uint64)[0])
            header = json.loads(fh.read(size).decode())
            if header.get("token") != token:
                return None
            total = os.fstat(fh.fileno()).st_size
            entries = header["arrays"]
            for e in entries.values():
                if e["offset"] + e["capacity"] * np.dtype(e["dtype"]).itemsize > total:
                    return None
            mm = mmap.mmap(fh.fileno(), total, access=mmap.ACCESS_COPY)
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
    arrays = {k: np.frombuffer(mm, dtype=np.dtype(e["dtype"]), count=e["capacity"],
                               offset=e["offset"]) for k, e in entries.items()}
    data = [arrays[k][:e["length"]] for k, e in entries.items()]
    if _crcs(data) != [e["crcs"] for e in entries.values()]:
        return None
    meta = dict(header["meta"])
    meta["lengths"] = {k: e["length"] for k, e in entries.items()}
    return meta, arrays
