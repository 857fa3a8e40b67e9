"""Whether an eosfast file is complete and intact: ``eosfast info --verify``.

Every chunk of every chunked array carries HDF5's Fletcher-32 checksum
(:data:`eosfast.store.h5.COMPRESSION`; grid tiles encoded by the workers
carry the same, :mod:`eosfast.kernels.checksum`). :func:`verify` checks
each stored chunk against it without decompressing, reads the small
contiguous arrays (which HDF5 stores without a checksum) to make sure they
are readable, and checks completeness:

- grid files: the file says it is complete and every tile is written
  (``resume/tile_done``); a partial file's missing tiles are one problem;
- zoom files: the file says it is complete and holds every level, and no
  level is half-written;
- ensemble files: likewise, with pieces of samples (``resume/piece_done``);
- trajectory, bifurcation and nets files are written whole and renamed, so
  only a ``.part`` left by a run that stopped is incomplete.

Anything that stops the file from being opened at all (not HDF5, not an
eosfast file, a layout that does not match its kind) is a problem too.

This is the one intactness check of the store: :func:`chunk_problem` for one
stored chunk, and on it :func:`verify_tiles` (a grid's done tiles, which
``--resume`` re-verifies), :func:`group_problems` (a refine level, a zoom
level, a refine piece, before a resume reads them back) and :func:`verify`
(``eosfast info --verify``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from ..errors import EosfastError
from .atomic import PART
from .h5 import open_file, regular_file
from .layouts import (
    ENSEMBLE,
    ENSEMBLE_FIELDS,
    GRID,
    GRID_FIELDS,
    ZOOM,
    ZOOM_LEVEL_PREFIX,
    ZOOM_PENDING_PREFIX,
    tile_grid,
)


def chunk_problem(d: h5py.Dataset, offset: tuple[int, ...]) -> str | None:
    """What is wrong with the chunk of ``d`` at ``offset``, or None when it is intact.

    Reads the stored bytes only (no decompression) and checks them against
    their Fletcher-32 checksum: ``"missing"``, ``"stored without a checksum"``
    or ``"checksum mismatch"``.
    """
    from ..kernels.checksum import check_fletcher32

    try:
        mask, data = d.id.read_direct_chunk(offset)
    except (OSError, ValueError, KeyError, RuntimeError):  # HDF5 2: RuntimeError
        return "missing"
    bit = _checksum_bit(d)
    if not bit or mask & bit:
        return "stored without a checksum"
    if not check_fletcher32(data):
        return "checksum mismatch"
    return None


def _checksum_bit(d: h5py.Dataset) -> int:
    """The filter-mask bit of Fletcher-32 in ``d``'s pipeline (0 when it has none)."""
    plist = d.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    # a chunk's filter mask has bit k set when pipeline filter k was skipped for it
    return 1 << filters.index(FLETCHER32) if FLETCHER32 in filters else 0


@dataclass
class TileCheck:
    """What :func:`verify_tiles` found.

    Attributes
    ----------
    tiles : int
        Tiles checked.
    bad : list of int
        Tiles with a missing or corrupt chunk.
    problems : list of str
        One line per problem (at most a few dozen are kept).
    """

    tiles: int
    bad: list[int]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.bad


def verify_tiles(f: h5py.File, tiles) -> TileCheck:
    """Check that every chunk of a grid file's ``tiles`` exists and matches its checksum.

    About a gigabyte a second (stored bytes only).
    """
    from .gridfile import tile_shape

    shape = f["status"].shape
    ty, tx = tile_shape(f)
    _, nty, ntx = tile_grid(shape, (ty, tx))
    bad: list[int] = []
    problems: list[str] = []
    datasets = [f[name] for name in GRID_FIELDS]
    for t in tiles:
        e, rest = divmod(int(t), nty * ntx)
        iy, ix = divmod(rest, ntx)
        offset = (e, iy * ty, ix * tx)
        for d in datasets:
            why = chunk_problem(d, offset)
            if why:
                bad.append(int(t))
                if len(problems) < 30:
                    problems.append(f"tile {t} ({d.name.lstrip('/')} at eta index {e}, y0 "
                                    f"{iy * ty}, x0 {ix * tx}): {why}")
                break
    return TileCheck(len(tiles), bad, problems)


def recheck_tiles(f: h5py.File) -> TileCheck:
    """Verify a grid ``.part``'s done tiles before a resume; mark damaged ones undone.

    The file is open ``r+``; the damaged tiles are computed again.
    """
    from . import gridfile

    check = verify_tiles(f, np.flatnonzero(gridfile.done_tiles(f)).tolist())
    if check.bad:
        gridfile.mark_undone(f, check.bad)
    return check


def verify_pieces(f: h5py.File, pieces) -> TileCheck:
    """Check every chunk of an ensemble file's ``pieces`` (its chunks of samples)."""
    from .ensemblefile import piece_size

    size = piece_size(f)
    bad: list[int] = []
    problems: list[str] = []
    datasets = [f[name] for name in ENSEMBLE_FIELDS]
    for k in pieces:
        for d in datasets:
            why = chunk_problem(d, (int(k) * size,))
            if why:
                bad.append(int(k))
                if len(problems) < 30:
                    problems.append(f"piece {k} ({d.name.lstrip('/')} from sample "
                                    f"{int(k) * size}): {why}")
                break
    return TileCheck(len(pieces), bad, problems)


def recheck_pieces(f: h5py.File) -> TileCheck:
    """Verify an ensemble ``.part``'s done pieces before a resume; mark damaged ones undone."""
    from . import ensemblefile

    check = verify_pieces(f, np.flatnonzero(ensemblefile.done_pieces(f)).tolist())
    if check.bad:
        ensemblefile.mark_undone(f, check.bad)
    return check


def group_problems(g: h5py.Group, limit: int = 30) -> list[str]:
    """Every problem of the arrays of ``g`` (and its subgroups): chunks, readability.

    An empty list means every chunk of every chunked array is there and
    matches its checksum, and every small contiguous array reads.
    """
    report = Report(Path(g.file.filename))
    datasets: list[h5py.Dataset] = []
    g.visititems(lambda name, obj: datasets.append(obj)
                 if isinstance(obj, h5py.Dataset) else None)
    for d in datasets:
        _check_dataset(d, d.name.lstrip("/"), report)
        if len(report.problems) >= limit:
            break
    return report.problems


def group_intact(g: h5py.Group) -> bool:
    """Whether :func:`group_problems` finds nothing wrong with ``g``."""
    try:
        return not group_problems(g, limit=1)
    except (OSError, KeyError, ValueError, RuntimeError):
        return False

#: Problems listed in full; beyond this they are counted.
MAX_LISTED = 30

#: HDF5's identifier of the Fletcher-32 filter.
FLETCHER32 = 3


@dataclass
class Report:
    """What :func:`verify` found.

    Attributes
    ----------
    path : Path
    kind : str or None
        The file's ``kind`` (None when it could not be read as an eosfast file).
    problems : list of str
        One line each; empty when the file is complete and intact.
    arrays, chunks : int
        Arrays and stored chunks checked.
    """

    path: Path
    kind: str | None = None
    problems: list[str] = field(default_factory=list)
    arrays: int = 0
    chunks: int = 0
    _more: int = 0

    def add(self, problem: str) -> None:
        """Record a problem (listed while fewer than :data:`MAX_LISTED`, then counted)."""
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self._more += 1

    def count(self, n: int) -> None:
        """Record ``n`` problems not worth a line each."""
        self._more += max(n, 0)

    @property
    def ok(self) -> bool:
        """Complete and intact."""
        return not self.problems and not self._more

    def lines(self) -> list[str]:
        """The report, one line per problem (or one line saying all is well)."""
        what = f"eosfast {self.kind.split('.', 1)[1]}" if self.kind else "file"
        if self.ok:
            return [f"{self.path}: complete and intact ({what}; {self.arrays} arrays, "
                    f"{self.chunks} chunks match their checksums)"]
        out = [f"{self.path}: {p}" for p in self.problems]
        if self._more:
            out.append(f"{self.path}: ... and {self._more} more problems")
        n = len(self.problems) + self._more
        out.append(f"{self.path}: NOT complete and intact ({what}; {n} "
                   f"problem{'s' if n != 1 else ''})")
        return out


def verify(path: str | os.PathLike) -> Report:
    """Check that ``path`` is a complete, intact eosfast file (any kind).

    Raises
    ------
    EosfastError
        Only when ``path`` is not an existing regular file; everything wrong
        with the file itself is reported in the :class:`Report`.
    """
    path = regular_file(path)
    report = Report(path)
    try:
        f = open_file(path)
    except EosfastError as exc:
        text = str(exc)
        for head in (f"{path} is ", f"{path}: ", f"{path} "):
            if text.startswith(head):
                text = text[len(head):]
                break
        report.add(text)
        return report
    with f:
        report.kind = kind = str(f.attrs["kind"])
        try:
            if kind == GRID.kind:
                _grid(f, report)
            elif kind == ENSEMBLE.kind:
                _ensemble(f, report)
            else:
                if kind == ZOOM.kind:
                    _zoom(f, report)
                elif path.name.endswith(PART):
                    report.add(f"unfinished: a {PART} file is what a run leaves when it stops "
                               "before the end")
                _all_chunks(f, report, skip=())
        except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
            report.add(f"unreadable ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})")
    return report


def _grid(f: h5py.File, report: Report) -> None:
    from . import gridfile

    done = gridfile.done_tiles(f)
    if not gridfile.is_complete(f) or not done.all():
        report.add(f"incomplete: {int(done.sum())} of {done.size} tiles written")
    result = verify_tiles(f, np.flatnonzero(done).tolist())
    for p in result.problems:
        report.add(p)
    report.count(len(result.bad) - len(result.problems))
    report.arrays += len(gridfile.GRID_FIELDS)
    report.chunks += len(gridfile.GRID_FIELDS) * (int(done.sum()) - len(result.bad))
    # everything else: coordinates, bookkeeping
    _all_chunks(f, report, skip=tuple(gridfile.GRID_FIELDS))


def _ensemble(f: h5py.File, report: Report) -> None:
    from . import ensemblefile

    try:
        ensemblefile.check_bookkeeping(f, report.path)
    except EosfastError as exc:
        report.add(str(exc).removeprefix(f"{report.path} is "))
        return
    done = ensemblefile.done_pieces(f)
    if not ensemblefile.is_complete(f) or not done.all():
        report.add(f"incomplete: {int(done.sum())} of {done.size} pieces of samples written")
    result = verify_pieces(f, np.flatnonzero(done).tolist())
    for p in result.problems:
        report.add(p)
    report.count(len(result.bad) - len(result.problems))
    report.arrays += len(ENSEMBLE_FIELDS)
    report.chunks += len(ENSEMBLE_FIELDS) * (int(done.sum()) - len(result.bad))
    _all_chunks(f, report, skip=tuple(ENSEMBLE_FIELDS))


def _zoom(f: h5py.File, report: Report) -> None:
    names = [n for n in f if n.startswith(ZOOM_LEVEL_PREFIX)]
    pending = [n for n in f if n.startswith(ZOOM_PENDING_PREFIX)]
    levels = int(f.attrs["levels"])
    if not f.attrs.get("complete", 0) or len(names) < levels:
        report.add(f"incomplete: {len(names)} of {levels} levels written")
    for n in pending:
        report.add(f"group {n}: a level interrupted while it was written")


def _all_chunks(f: h5py.File, report: Report, skip: tuple[str, ...]) -> None:
    """Check every chunk of every array not in ``skip`` (root names)."""
    datasets: list[h5py.Dataset] = []
    f.visititems(lambda name, obj: datasets.append(obj)
                 if isinstance(obj, h5py.Dataset) and name not in skip else None)
    for d in datasets:
        _check_dataset(d, d.name.lstrip("/"), report)


def _check_dataset(d: h5py.Dataset, name: str, report: Report) -> None:
    report.arrays += 1
    if d.chunks is None:
        try:
            d[()]
        except (OSError, ValueError, RuntimeError) as exc:
            report.add(f"array {name}: unreadable ({' '.join(str(exc).split())[:120]})")
        return
    _chunks(d, name, report)


def _chunks(d: h5py.Dataset, name: str, report: Report) -> None:
    expected = math.prod(-(-n // c) for n, c in zip(d.shape, d.chunks, strict=True))
    try:
        stored = d.id.get_num_chunks()
    except (OSError, ValueError, RuntimeError) as exc:
        report.add(f"array {name}: chunk index unreadable ({exc})")
        return
    if stored < expected:
        report.add(f"array {name}: {expected - stored} of {expected} chunks missing")
    if stored and not _checksum_bit(d):
        report.add(f"array {name}: stored without checksums")
        return
    for i in range(stored):
        try:
            offset = tuple(d.id.get_chunk_info(i).chunk_offset)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            report.add(f"array {name}: chunk {i} unreadable ({exc})")
            continue
        why = chunk_problem(d, offset)
        if why == "missing":
            report.add(f"array {name}: chunk {i} unreadable")
        elif why == "stored without a checksum":
            report.add(f"array {name}: chunk at {offset} has no checksum")
        elif why:
            report.add(f"array {name}: chunk at {offset} fails its checksum")
        else:
            report.chunks += 1
