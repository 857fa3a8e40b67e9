"""Where the tiles of a grid run: threads of this process, or a dask cluster.

An executor has one method, ``run(spec, todo, chunk)``: an iterator of
``(tile index, iterations, payload)`` for every index of ``todo``, each
exactly once, in completion order, where ``payload`` is what
:func:`eosfast.tiles.tile_job` returns for ``chunk``. Closing the iterator
(an interrupt, an error in the writer) stops the work. The grid driver
(:func:`eosfast.grid`) writes what comes out and knows nothing else about
where it was computed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Protocol

from . import validate
from .tiles import GridSpec, tile_job


class Executor(Protocol):
    """Runs the tiles of a grid (see the module docstring)."""

    def run(self, spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None
            ) -> Iterator[tuple[int, int, dict]]: ...  # pragma: no cover


class ThreadExecutor:
    """Tiles on a pool of threads of this process (the kernel releases the GIL).

    At most ``2 * threads`` tiles are in flight, so memory stays flat however
    many tiles (or step sizes) the grid has.
    """

    def __init__(self, threads: int | None = None):
        self.threads = validate.threads("threads", threads)

    def run(self, spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None
            ) -> Iterator[tuple[int, int, dict]]:
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="eosfast")
        pending: dict = {}
        queue = iter(todo)
        try:
            for index in queue:
                pending[pool.submit(tile_job, spec.tile_task(index), chunk)] = index
                if len(pending) >= 2 * self.threads:
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


def make_executor(scheduler: str | None = None, threads: int | None = None) -> Executor:
    """The executor for a ``--scheduler`` value: threads here when None.

    ``"tcp://host:port"`` or ``"local:N"`` give a dask executor
    (:class:`eosfast.distributed.DaskExecutor`, needs ``eosfast[dask]``).
    """
    if scheduler is None:
        return ThreadExecutor(threads)
    from .distributed import DaskExecutor

    return DaskExecutor(scheduler, threads)
