"""``eosfast.grid``: GD from every point of an ``(eta, y0, x0)`` grid.

The grid is cut into tiles of ``(1, ty, tx)`` points. Each tile is one call
of the model's compiled grid kernel (single-threaded, GIL released); tiles
run on a pool of threads (or dask workers, see :mod:`eosfast.distributed`)
and come back in any order. A point's result depends only on the point, never
on its tile, lane or thread, so every tiling and thread count gives
bit-identical arrays.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import store
from .errors import EosfastError, Interrupted
from .models import get_model
from .result import FIELDS, GridResult, GridRun

#: Bytes per grid point over all result arrays (int8 + int32 + int16 + 4 float64).
BYTES_PER_POINT = sum(np.dtype(dt).itemsize for dt, _ in FIELDS.values())

#: Default tile edge in points: 256 x 256 tiles keep per-tile overhead (a
#: kernel call, an HDF5 chunk write) below 1% while leaving hundreds of tiles
#: to balance across threads on a 4096^2 grid.
TILE = 256

#: Default period search after the cap: periods up to MAX_PERIOD; a cycle of
#: period k >= 2 must close to PERIOD_TOL of its own extent (see
#: :func:`eosfast.kernels.grid.make_grid_kernel`). An orbit still converging to
#: a minimum at the EoS closes only to its contraction per cycle (about
#: eta^2 for zhu4), so it stays "bounded, unresolved" rather than periodic.
MAX_PERIOD = 64
PERIOD_TOL = 1e-8

#: Parameters that define a result (a resumed run must match them all).
_RESULT_KEYS = ("model", "x_range", "y_range", "res_x", "res_y", "eta", "steps", "tol",
                "escape", "max_period", "period_tol")


@dataclass(frozen=True)
class GridSpec:
    """A validated grid: axes, stopping rules and tiling."""

    model: str
    x0: np.ndarray
    y0: np.ndarray
    eta: np.ndarray
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    steps: int
    tol: float
    escape: float
    max_period: int
    period_tol: float
    tile: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.eta.size, self.y0.size, self.x0.size)

    @property
    def ntiles(self) -> int:
        return int(np.prod(store.tile_grid(self.shape, self.tile)))

    def params(self) -> dict:
        """Every parameter, JSON-serialisable (stored as the file's ``params``)."""
        return {
            "model": self.model, "x_range": list(self.x_range), "y_range": list(self.y_range),
            "res_x": int(self.x0.size), "res_y": int(self.y0.size),
            "eta": [float(e) for e in self.eta], "steps": self.steps, "tol": self.tol,
            "escape": self.escape, "max_period": self.max_period,
            "period_tol": self.period_tol, "tile": list(self.tile),
        }

    def tile_slices(self, index: int) -> tuple[int, slice, slice]:
        """``(eta index, y0 slice, x0 slice)`` of tile ``index`` (eta-major order)."""
        _, nty, ntx = store.tile_grid(self.shape, self.tile)
        e, rest = divmod(index, nty * ntx)
        iy, ix = divmod(rest, ntx)
        ty, tx = self.tile
        return e, slice(iy * ty, min((iy + 1) * ty, self.y0.size)), \
            slice(ix * tx, min((ix + 1) * tx, self.x0.size))

    def tile_task(self, index: int) -> tuple:
        """Arguments of :func:`compute_tile` for tile ``index`` (picklable)."""
        e, ys, xs = self.tile_slices(index)
        return (self.model, self.x0[xs], self.y0[ys], float(self.eta[e]), self.steps,
                self.tol, self.escape, self.max_period, self.period_tol)


def finite_pair(name: str, pair, ordered: bool = True) -> tuple[float, float]:
    """Two finite floats (``LO < HI`` when ``ordered``), or :class:`EosfastError`."""
    try:
        lo, hi = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise EosfastError(f"{name} must be two numbers, got {pair!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise EosfastError(f"{name} must be finite, got {lo} {hi}")
    if ordered and not lo < hi:
        raise EosfastError(f"{name} needs LO < HI, got {lo} {hi}")
    return lo, hi


def _positive_float(name: str, value) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise EosfastError(f"{name} must be positive and finite, got {v}")
    return v


def _positive_int(name: str, value, upper: int | None = None) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise EosfastError(f"{name} must be an integer, got {value}")
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise EosfastError(f"{name} must be an integer, got {value!r}") from None
    if v < 1:
        raise EosfastError(f"{name} must be at least 1, got {v}")
    if upper is not None and v > upper:
        raise EosfastError(f"{name} must be at most {upper}, got {v}")
    return v


def make_spec(model: str = "zhu4", res: int = 1024, *, res_x: int | None = None,
              res_y: int | None = None, x_range: Sequence[float] = (0.0, 4.0),
              y_range: Sequence[float] = (0.0, 4.0), eta: float | Iterable[float] | None = None,
              eta_range: Sequence[float] | None = None, eta_res: int | None = None,
              steps: int = 10000, tol: float = 1e-12, escape: float = 1e3,
              max_period: int = MAX_PERIOD, period_tol: float = PERIOD_TOL,
              tile: int | Sequence[int] | None = None) -> GridSpec:
    """Validate the parameters of :func:`grid`; raises :class:`EosfastError` on bad input."""
    m = get_model(model)
    res = _positive_int("res", res)
    nx = _positive_int("res_x", res if res_x is None else res_x)
    ny = _positive_int("res_y", res if res_y is None else res_y)
    xr = finite_pair("x_range", x_range)
    yr = finite_pair("y_range", y_range)
    etas: list[float] = []
    if eta is not None:
        etas += [float(eta)] if np.isscalar(eta) else [float(e) for e in eta]
    if eta_range is not None:
        lo, hi = finite_pair("eta_range", eta_range)
        if eta_res is None:
            raise EosfastError("eta_range needs eta_res (the number of step sizes)")
        etas += list(np.linspace(lo, hi, _positive_int("eta_res", eta_res)))
    elif eta_res is not None:
        raise EosfastError("eta_res needs eta_range")
    if not etas:
        etas = [0.2]
    etas = [_positive_float("eta", e) for e in etas]
    steps = _positive_int("steps", steps, upper=np.iinfo(np.int32).max)
    tol = _positive_float("tol", tol)
    escape = _positive_float("escape", escape)
    max_period = _positive_int("max_period", max_period, upper=np.iinfo(np.int16).max)
    period_tol = _positive_float("period_tol", period_tol)
    if tile is None:
        tile = (TILE, TILE)
    elif np.isscalar(tile):
        tile = (tile, tile)
    ty, tx = (_positive_int("tile", t) for t in tile)
    return GridSpec(model=m.name, x0=np.linspace(*xr, nx), y0=np.linspace(*yr, ny),
                    eta=np.asarray(etas, dtype=np.float64), x_range=xr, y_range=yr,
                    steps=steps, tol=tol, escape=escape, max_period=max_period,
                    period_tol=period_tol, tile=(min(ty, ny), min(tx, nx)))


def compute_tile(model: str, x0: np.ndarray, y0: np.ndarray, eta: float, steps: int,
                 tol: float, escape: float, max_period: int = MAX_PERIOD,
                 period_tol: float = PERIOD_TOL) -> dict[str, np.ndarray]:
    """Run the grid kernel on the points ``x0 (nx,) x y0 (ny,)`` at one ``eta``.

    Returns the arrays of :data:`~eosfast.result.FIELDS`, each shaped (ny, nx).
    This is the unit of work of every executor (threads, dask workers).
    """
    kernel = get_model(model).kernels.grid
    ny, nx = y0.size, x0.size
    xs = np.tile(np.ascontiguousarray(x0, dtype=np.float64), ny)
    ys = np.repeat(np.ascontiguousarray(y0, dtype=np.float64), nx)
    es = np.full(xs.size, eta, dtype=np.float64)
    out = {name: np.empty(xs.size, dtype=dt) for name, (dt, _) in FIELDS.items()}
    kernel(xs, ys, es, steps, tol, escape, max_period, period_tol, out["status"],
           out["steps"], out["period"], out["sharpness"], out["loss"], out["x"], out["y"])
    return {k: v.reshape(ny, nx) for k, v in out.items()}


def tile_job(task: tuple, chunk: tuple[int, int] | None = None
             ) -> tuple[int, dict[str, np.ndarray] | dict[str, tuple[bytes, int]]]:
    """One unit of work for any executor: compute a tile (and encode it for the file).

    Parameters
    ----------
    task : tuple
        ``GridSpec.tile_task(index)``.
    chunk : (int, int), optional
        The file's chunk shape: if given, the tile comes back as stored HDF5
        chunks (:func:`eosfast.store.encode_tile`), compressed here, in the
        worker, rather than by the single writer.

    Returns
    -------
    (iterations, payload)
        GD steps run for this tile, and its arrays or encoded chunks.
    """
    arrays = compute_tile(*task)
    iterations = int(arrays["steps"].sum(dtype=np.int64))
    return iterations, (store.encode_tile(arrays, chunk) if chunk else arrays)


def load_kernels(model: str) -> None:
    """Compile, or load from Numba's on-disk cache, the grid kernel of ``model`` here.

    ``Model.kernels`` only builds the Numba dispatchers; the machine code is
    made on the first call. So call it once, on a one-point tile with the
    argument types of every real tile (one specialisation, reused by all).
    """
    one = np.ones(1)
    compute_tile(model, one, one, 0.5, 1, 1e-12, 1e3)


def default_threads() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_tiles_threaded(spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None,
                       threads: int) -> Iterator[tuple[int, int, dict]]:
    """Run :func:`tile_job` on a thread pool; yield ``(index, iterations, payload)``
    as each tile finishes, in any order.

    At most ``2 * threads`` tiles are in flight, so memory stays flat however
    many tiles (or step sizes) the grid has. Closing the generator (an
    interrupt) cancels the tiles not started yet.
    """
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="eosfast")
    pending: dict = {}
    queue = iter(todo)
    try:
        for index in queue:
            pending[pool.submit(tile_job, spec.tile_task(index), chunk)] = index
            if len(pending) >= 2 * threads:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                index = pending.pop(fut)
                for nxt in queue:
                    pending[pool.submit(tile_job, spec.tile_task(nxt), chunk)] = nxt
                    break
                yield (index, *fut.result())
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _check_out_dir(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise EosfastError(f"output folder {parent} does not exist")
    mode = parent.stat().st_mode
    # os.access says yes to root for any folder; a folder with no write bit
    # at all is read-only by intent, so refuse it for everyone.
    if not os.access(parent, os.W_OK) or not mode & 0o222:
        raise EosfastError(f"output folder {parent} is read-only")


def _check_space(spec: GridSpec, out: Path | None) -> None:
    need = math.prod(spec.shape) * BYTES_PER_POINT
    if out is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # pragma: no cover
            return
        if need > 0.8 * avail:
            raise EosfastError(f"the grid's arrays need {need / 2**30:.3g} GiB of memory, "
                               f"only {avail / 2**30:.3g} GiB is available; write to a "
                               "file (out=...) or use a smaller grid")
    else:
        free = shutil.disk_usage(out.parent if str(out.parent) else ".").free
        if need > free:
            raise EosfastError(f"the grid needs up to {need / 2**30:.3g} GiB on disk, only "
                               f"{free / 2**30:.3g} GiB is free in {out.parent}")


def grid(model: str = "zhu4", res: int = 1024, *, res_x: int | None = None,
         res_y: int | None = None, x_range: Sequence[float] = (0.0, 4.0),
         y_range: Sequence[float] = (0.0, 4.0), eta: float | Iterable[float] | None = None,
         eta_range: Sequence[float] | None = None, eta_res: int | None = None,
         steps: int = 10000, tol: float = 1e-12, escape: float = 1e3,
         out: str | os.PathLike | None = None, force: bool = False, resume: bool = False,
         threads: int | None = None, tile: int | Sequence[int] | None = None,
         max_period: int = MAX_PERIOD, period_tol: float = PERIOD_TOL,
         scheduler: str | None = None,
         progress: Callable[[int, int], None] | None = None) -> GridResult | GridRun:
    """Iterate GD from every point of a grid of ``(x0, y0)`` and step sizes ``eta``.

    Parameters
    ----------
    model : str
        Model name: ``zhu4`` (default), ``deg3``, ``deg2``, ... (:data:`eosfast.MODELS`).
    res, res_x, res_y : int
        Points per axis; ``x0 = linspace(*x_range, res_x)``, likewise ``y0``.
    x_range, y_range : (float, float)
        Axis ends, both included.
    eta : float or sequence of float, optional
        Step size(s); 0.2 if neither ``eta`` nor ``eta_range`` is given.
    eta_range, eta_res : (float, float), int
        ``eta_res`` step sizes ``linspace(*eta_range, eta_res)`` (added to ``eta``).
    steps : int
        Step cap T.
    tol : float
        Converged when ``|1 - P| < tol`` (P the product of the weights).
    escape : float
        Diverged when ``|x|`` or ``|y|`` exceeds it or is not finite.
    out : path-like, optional
        Write the result here (HDF5) instead of returning arrays. The run goes
        to ``out + ".part"``, renamed when complete.
    force : bool
        Replace an existing ``out`` (and discard a partial run).
    resume : bool
        Continue the partial run ``out + ".part"`` of the same parameters.
    threads : int, optional
        Threads computing tiles (default: all cores).
    tile : int or (int, int), optional
        Tile shape ``(ty, tx)`` in points (default 256). Does not change results.
    max_period, period_tol : int, float
        Period search for orbits bounded at the cap (see :func:`compute_tile`).
    scheduler : str, optional
        ``"tcp://host:port"`` of a dask scheduler, or ``"local:N"`` for a local
        cluster of N worker processes (needs ``eosfast[dask]``).
    progress : callable, optional
        Called as ``progress(tiles_done, tiles_total)`` after each tile.

    Returns
    -------
    GridResult
        When ``out`` is None: arrays shaped (n_eta, ny, nx).
    GridRun
        When ``out`` is given: path, outcome counts, iterations and wall time.
    """
    spec = make_spec(model, res, res_x=res_x, res_y=res_y, x_range=x_range, y_range=y_range,
                     eta=eta, eta_range=eta_range, eta_res=eta_res, steps=steps, tol=tol,
                     escape=escape, max_period=max_period, period_tol=period_tol, tile=tile)
    threads = default_threads() if threads is None else _positive_int("threads", threads)
    if scheduler is not None:
        from .distributed import tile_source

        source = tile_source(scheduler, threads)
    else:
        def source(spec, todo, chunk):
            return run_tiles_threaded(spec, todo, chunk, threads)
    if out is None:
        return _grid_in_memory(spec, source, progress)
    return _grid_to_file(spec, Path(out), force, resume, source, progress)


def _grid_in_memory(spec, source, progress) -> GridResult:
    _check_space(spec, None)
    arrays = {n: np.empty(spec.shape, dtype=dt) for n, (dt, _) in FIELDS.items()}
    total = spec.ntiles
    for k, (index, _, tile) in enumerate(source(spec, range(total), None), 1):
        e, ys, xs = spec.tile_slices(index)
        for name, a in tile.items():
            arrays[name][e, ys, xs] = a
        if progress:
            progress(k, total)
    return GridResult(model=spec.model, eta=spec.eta, y0=spec.y0, x0=spec.x0,
                      params=spec.params(), **arrays)


def _same_result(params: dict, spec: GridSpec) -> bool:
    mine = spec.params()
    return all(params.get(k) == mine[k] for k in _RESULT_KEYS)


def _grid_to_file(spec: GridSpec, out: Path, force: bool, resume: bool, source,
                  progress) -> GridRun:
    part = store.part_path(out)
    _check_out_dir(out)
    f = None
    if resume and part.exists():
        f = store.open_existing(part, "r+")
        try:
            params = store.read_params(f, part)
            if not _same_result(params, spec):
                raise EosfastError(f"{part} was made with other parameters; cannot resume")
            # the tiling is the file's, whatever this call asked for
            spec = GridSpec(**{**spec.__dict__, "tile": tuple(params["tile"])})
        except BaseException:
            f.close()
            raise
    elif resume and out.exists():
        with store.open_existing(out) as g:
            params = store.read_params(g, out)
            if not _same_result(params, spec):
                raise EosfastError(f"{out} was made with other parameters; cannot resume")
            counts = store.count_outcomes(g)
        return GridRun(out, spec.shape, counts, 0, 0.0, spec.ntiles, spec.ntiles)
    else:
        if out.exists() and not force:
            raise EosfastError(f"{out} exists; use --force to replace it")
        if part.exists() and not force:
            raise EosfastError(f"a partial run exists at {part}; use --resume to continue "
                               "it or --force to start over")
    if f is None:
        _check_space(spec, out)
        try:
            f = store.create(part, spec.params(), spec.eta, spec.y0, spec.x0, spec.tile)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise EosfastError(f"cannot write {part}: {exc.strerror or exc}") from None
    load_kernels(spec.model)  # compile or load before the clock starts
    t0 = time.perf_counter()
    iterations = 0
    try:
        done = store.done_tiles(f)
        todo = np.flatnonzero(~done).tolist()
        total, ndone = spec.ntiles, int(done.sum())
        if progress:
            progress(ndone, total)
        gen = source(spec, todo, spec.tile)
        try:
            for index, its, chunks in gen:
                e, ys, xs = spec.tile_slices(index)
                store.write_tile(f, index, e, ys, xs, chunks)
                iterations += its
                ndone += 1
                if progress:
                    progress(ndone, total)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted: {ndone} of {total} tiles saved in {part}; "
                              "rerun with --resume to finish") from None
        finally:
            gen.close()  # stop the workers (threads or a cluster) on any exit
        store.finish(f)
        counts = store.count_outcomes(f)
    finally:
        f.close()
    os.replace(part, out)
    return GridRun(out, spec.shape, counts, iterations, time.perf_counter() - t0, total, total)
