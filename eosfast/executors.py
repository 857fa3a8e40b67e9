"""Where the tiles of a grid run: threads of this process, a dask cluster, or a GPU.

An executor has one method, ``run(spec, todo, chunk, place=None)``: an
iterator of ``(tile index, stats, payload)`` for every index of ``todo``,
each exactly once, in completion order, where ``payload`` is what
:func:`eosfast.tiles.tile_job` returns for ``chunk``. With ``place``, each
payload goes to ``place(index, payload)`` instead, as soon as it is computed
(by the worker thread itself where the executor's workers are threads of
this process, so that copying tiles into the caller's arrays runs in
parallel rather than on one thread beside the workers), and the iterator
yields ``()`` for it. Closing the iterator (an interrupt, an error in the
writer) stops the work. The grid driver
(:func:`eosfast.grid`) writes what comes out and knows nothing else about
where it was computed.

An executor also computes arbitrary points, ``points(model, x0, y0, eta,
rule)``, for the commands whose work is not a rectangle of tiles (refine's
lattice points); threads and dask run any picklable work too,
``tasks(fn, items)`` (an ensemble's pieces). Used as a context manager
(``with executor:``), it keeps what it sets up (a dask cluster) for every
call inside; without one, each call sets up and tears down its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, as_completed, wait
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from . import defaults, interrupts, validate
from .errors import InvalidArgument
from .models import ModelSpec
from .optimizer import GD, Optimizer
from .stoprule import StopRule
from .tiles import (
    GridSpec,
    Place,
    TileStats,
    compute_points,
    join_points,
    mirror_arrays,
    placed,
    tile_job,
)

#: Points per task when an executor computes a list of points on threads: large
#: enough that a task's overhead is below 1%, small enough to balance threads.
POINTS_PER_TASK = 1 << 14


def _job_and_place(task: tuple, chunk, place: Place, index: int):
    stats, payload = tile_job(task, chunk)
    place(index, payload)
    return stats, ()


class Executor(Protocol):
    """Runs the tiles of a grid (see the module docstring)."""

    def run(self, spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None,
            place: Place | None = None) -> Iterator[tuple[int, TileStats, tuple]]:
        ...  # pragma: no cover

    def points(self, model: ModelSpec, x0: np.ndarray, y0: np.ndarray, eta: np.ndarray,
               rule: StopRule, optimizer: Optimizer = GD) -> dict[str, np.ndarray]:
        """The grid fields of arbitrary points (1-D float64 arrays of one length), in order."""
        ...  # pragma: no cover

    def __enter__(self) -> Executor:
        ...  # pragma: no cover

    def __exit__(self, *exc) -> None:
        ...  # pragma: no cover


class _NoSession:
    """``with executor:`` for executors with nothing to keep between calls."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class ThreadExecutor:
    """Tiles on a pool of threads of this process (the kernel releases the GIL).

    At most ``2 * threads`` tiles are in flight, so memory stays flat however
    many tiles (or step sizes) the grid has.
    """

    def __init__(self, threads: int | None = None):
        self.threads = validate.threads("threads", threads)
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> ThreadExecutor:
        """Keep one pool of threads for the points of every call until ``__exit__``."""
        if self._pool is None and self.threads > 1:
            self._pool = ThreadPoolExecutor(max_workers=self.threads,
                                            thread_name_prefix="eosfast")
        return self

    def __exit__(self, *exc) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def run(self, spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None,
            place: Place | None = None) -> Iterator[tuple[int, TileStats, tuple]]:
        def call(index: int) -> tuple:
            if place is None:
                return tile_job, spec.tile_task(index), chunk
            return _job_and_place, spec.tile_task(index), chunk, place, index

        gen = self._bounded(call, todo)
        try:
            for index, result in gen:
                yield (index, *result)
        finally:
            gen.close()

    def tasks(self, fn: Callable, items: Sequence, what: str = "pieces"
              ) -> Iterator[tuple[int, Any]]:
        """``(i, fn(items[i]))`` for every item, in completion order, each once.

        For work that is neither tiles nor points (an ensemble's pieces), with
        the tiles' bound on work in flight; ``what`` is for the dask
        executor's messages (:meth:`eosfast.distributed.DaskExecutor.tasks`).
        """
        items = list(items)
        yield from self._bounded(lambda i: (fn, items[i]), range(len(items)))

    def _bounded(self, call: Callable[[int], tuple], todo: Iterable[int]
                 ) -> Iterator[tuple[int, Any]]:
        """``(index, fn(*args))`` with ``(fn, *args) = call(index)`` for every index of
        ``todo``, on a pool, at most ``2 * threads`` in flight."""
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="eosfast")
        pending: dict = {}
        queue = iter(todo)

        def submit(index: int):
            fn, *args = call(index)
            return pool.submit(fn, *args)

        try:
            for index in queue:
                pending[submit(index)] = index
                if len(pending) >= 2 * self.threads:
                    break
            while pending:
                with interrupts.allowed():  # waiting touches no file: a signal may stop it
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                # in the order submitted: with one thread, results come out in order
                for fut in sorted(done, key=pending.__getitem__):
                    index = pending.pop(fut)
                    for nxt in queue:
                        pending[submit(nxt)] = nxt
                        break
                    yield index, fut.result()
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def points(self, model: ModelSpec, x0: np.ndarray, y0: np.ndarray, eta: np.ndarray,
               rule: StopRule, optimizer: Optimizer = GD) -> dict[str, np.ndarray]:
        """Points in tasks of :data:`POINTS_PER_TASK` on the pool (a point's result is its own)."""
        m = x0.size
        bounds = [(a, min(m, a + POINTS_PER_TASK)) for a in range(0, m, POINTS_PER_TASK)]

        def run(ab: tuple[int, int]) -> dict[str, np.ndarray]:
            a, b = ab
            return compute_points(model, x0[a:b], y0[a:b], eta[a:b], rule, optimizer)

        # computing touches no file: a signal may stop it at once
        with interrupts.allowed():
            if self.threads == 1 or len(bounds) <= 1:
                return join_points([run(ab) for ab in bounds])
            if self._pool is not None:
                futures = [self._pool.submit(run, ab) for ab in bounds]
                try:
                    return join_points([fut.result() for fut in futures])
                finally:
                    for fut in futures:
                        fut.cancel()
            with ThreadPoolExecutor(max_workers=self.threads,
                                    thread_name_prefix="eosfast") as pool:
                return join_points(list(pool.map(run, bounds)))


class CudaExecutor(_NoSession):
    """Tiles on one CUDA GPU (numba-cuda; ``eosfast[cuda]``), several tiles per launch.

    The kernel (:mod:`eosfast.kernels.cuda`) is the CPU kernel's per-point
    logic compiled for the device, without fused multiply-adds, so the tiles
    are the CPU's bit for bit (``docs/gpu.md`` says what may differ).

    Consecutive tiles are packed into batches of about ``batch_points``
    points. :data:`SLOTS` batches are queued on the device at a time, each
    with its own stream and buffers, so the GPU always has the next batch
    while this process, on ``threads`` threads, fills the inputs of one batch
    and encodes the finished one's tiles as HDF5 chunks. Memory is flat:
    ``SLOTS`` batches of buffers on the device and in page-locked host memory
    (63 bytes a point), plus one batch's encoded tiles.

    Raises :class:`~eosfast.errors.InvalidArgument` (one line naming what is
    missing: numba-cuda, a driver, a device, the CUDA toolkit) when the
    backend cannot run here.
    """

    #: Batches queued on the device at once: one computing, one waiting behind
    #: it, one being read by this process.
    SLOTS = 3

    def __init__(self, threads: int | None = None,
                 batch_points: int = defaults.CUDA_BATCH_POINTS):
        self.threads = validate.threads("threads", threads)
        self.batch_points = validate.integer("batch_points", batch_points)
        from .kernels.cuda import missing

        why = missing()
        if why is not None:
            raise InvalidArgument(f"{{backend}} cuda: {why}", "backend")

    def prepare(self, spec: GridSpec) -> None:
        """Compile the model's CUDA kernel and run it once, on one point."""
        from .kernels.cuda import Slot
        from .models import get_model

        slot = Slot(1)
        self._fill(slot.host, 0, 1, np.full(1, 0.5), np.full(1, 0.5), np.full(1, 0.5),
                   spec.optimizer)
        slot.launch(get_model(spec.model_spec).kernels_for(scheme=spec.scheme).cuda, 1,
                    *replace(spec.rule, steps=1).args())
        slot.wait()

    def _batches(self, spec: GridSpec, todo: Sequence[int]) -> list[list[tuple]]:
        """``todo`` cut into batches of ``(index, eta index, y0 slice, x0 slice, offset)``."""
        batches: list[list[tuple]] = []
        points = 0
        for index in todo:
            e, ys, xs = spec.tile_slices(index)
            n = (ys.stop - ys.start) * (xs.stop - xs.start)
            if not batches or points + n > self.batch_points:
                batches.append([])
                points = 0
            batches[-1].append((index, e, ys, xs, points))
            points += n
        return batches

    @staticmethod
    def _size(tile: tuple) -> int:
        _, _, ys, xs, _ = tile
        return (ys.stop - ys.start) * (xs.stop - xs.start)

    @staticmethod
    def _fill(host: dict, a: int, b: int, x0: np.ndarray, y0: np.ndarray, eta: np.ndarray,
              optimizer: Optimizer) -> None:
        """Write points ``a:b`` of the batch inputs (the kernel's :data:`INPUTS`)."""
        host["x0"][a:b] = x0
        host["y0"][a:b] = y0
        for name, v in zip(("eta", "eta_y", "beta"), optimizer.kernel_inputs(eta), strict=True):
            host[name][a:b] = v

    @staticmethod
    def _fill_tile(host: dict, spec: GridSpec, tile: tuple) -> None:
        """Write one tile's points, row-major, into the batch inputs at its offset."""
        index, _, ys, xs, o = tile
        n = (ys.stop - ys.start) * (xs.stop - xs.start)
        for name, v in zip(("x0", "y0", "eta", "eta_y", "beta"), spec.tile_inputs(index),
                           strict=True):
            host[name][o:o + n] = v

    def run(self, spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None,
            place: Place | None = None) -> Iterator[tuple[int, TileStats, tuple]]:
        results = self._run(spec, todo, chunk)
        return results if place is None else placed(results, place)

    def _run(self, spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None
             ) -> Iterator[tuple[int, TileStats, tuple]]:
        from .kernels.cuda import Slot
        from .models import get_model

        batches = self._batches(spec, todo)
        if not batches:
            return
        kernels = get_model(spec.model_spec).kernels_for(scheme=spec.scheme).cuda
        size = max(b[-1][4] + self._size(b[-1]) for b in batches)
        queue = iter(batches)
        inflight: deque = deque()
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="eosfast-gpu")

        def launch(slot) -> None:
            batch = next(queue, None)
            if batch is None:
                return
            for f in [pool.submit(self._fill_tile, slot.host, spec, t) for t in batch]:
                f.result()
            slot.launch(kernels, batch[-1][4] + self._size(batch[-1]), *spec.rule.args())
            inflight.append((slot, batch))

        try:
            for _ in range(min(self.SLOTS, len(batches))):
                launch(Slot(size))
            while inflight:
                slot, batch = inflight.popleft()
                yield from self._tiles(spec, batch, slot.wait(), chunk, pool)
                launch(slot)  # only now: the tiles were views of its buffers
        finally:
            for slot, _ in inflight:  # its buffers must outlive the work queued on them
                slot.stream.synchronize()
            pool.shutdown(wait=True, cancel_futures=True)

    def points(self, model: ModelSpec, x0: np.ndarray, y0: np.ndarray, eta: np.ndarray,
               rule: StopRule, optimizer: Optimizer = GD) -> dict[str, np.ndarray]:
        """Points on the GPU, ``batch_points`` a launch."""
        from .kernels.cuda import Slot
        from .models import get_model

        kernels = get_model(model).kernels_for(optimizer).cuda
        m = x0.size
        parts = []
        slot = Slot(max(1, min(m, self.batch_points)))
        for a in range(0, m, self.batch_points):
            b = min(m, a + self.batch_points)
            self._fill(slot.host, 0, b - a, x0[a:b], y0[a:b], eta[a:b], optimizer)
            slot.launch(kernels, b - a, *rule.args())
            with interrupts.allowed():
                out = slot.wait()
            parts.append({k: v.copy() for k, v in out.items()})
        return join_points(parts)

    def _tiles(self, spec: GridSpec, batch: list[tuple], out: dict, chunk, pool
               ) -> Iterator[tuple[int, int, tuple]]:
        from .store.gridfile import encode_tile

        tiles = []
        for tile in batch:
            index, _, ys, xs, o = tile
            shape = (ys.stop - ys.start, xs.stop - xs.start)
            arrays = {name: a[o:o + shape[0] * shape[1]].reshape(shape)
                      for name, a in out.items()}
            tiles.append((index, TileStats.of(arrays), arrays, len(spec.covered(index)) == 2))
        if chunk is None:
            # the buffers are reused after this batch: hand out copies
            for index, its, arrays, mirror in tiles:
                own = {name: a.copy() for name, a in arrays.items()}
                yield index, its, (own, mirror_arrays(own)) if mirror else (own,)
            return

        def encode(arrays, mirror):
            return tuple(encode_tile(t, chunk) for t in
                         ((arrays, mirror_arrays(arrays)) if mirror else (arrays,)))

        futures = {pool.submit(encode, arrays, mirror): (index, its)
                   for index, its, arrays, mirror in tiles}
        try:
            for fut in as_completed(futures):
                index, its = futures[fut]
                yield index, its, fut.result()
        finally:
            for fut in futures:
                fut.cancel()
            wait(futures)  # no encoder may still read the slot's buffers


def make_executor(scheduler: str | None = None, threads: int | None = None,
                  backend: str = defaults.BACKEND) -> Executor:
    """The executor for ``--scheduler`` and ``--backend`` values: threads here by default.

    ``"tcp://host:port"`` or ``"local:N"`` give a dask executor
    (:class:`eosfast.distributed.DaskExecutor`, needs ``eosfast[dask]``);
    ``backend="cuda"`` a :class:`CudaExecutor` (needs ``eosfast[cuda]`` and
    an NVIDIA GPU), which uses ``threads`` to encode tiles.
    """
    backend = validate.choice("backend", backend, defaults.BACKENDS)
    if backend == "cuda":
        if scheduler is not None:
            raise InvalidArgument("{backend} cuda runs on this machine's GPU; it cannot be "
                                  "combined with {scheduler}", "backend", "scheduler")
        return CudaExecutor(threads)
    if scheduler is None:
        return ThreadExecutor(threads)
    from .distributed import DaskExecutor

    return DaskExecutor(scheduler, threads)
