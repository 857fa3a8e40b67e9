"""Run the tiles of :func:`eosfast.grid` on a dask.distributed cluster.

``eosfast.grid(..., scheduler=ADDRESS)`` (``eosfast grid --scheduler ADDRESS``)
sends each tile, the module-level :func:`eosfast.grid.tile_job` with its small
picklable arguments, to dask workers and gets the tile back (its arrays, or
its HDF5 chunks already compressed on the worker). Everything else stays on
the client: it alone writes the HDF5 file (one writer), draws the progress
bar, and handles ``--resume`` and the final rename exactly as for a local
run. A point's result depends only on the point,
and the workers run the same compiled kernel, so the file is bit-identical to
the local threaded run.

ADDRESS is either

``tcp://HOST[:PORT]``
    an existing scheduler (``dask scheduler``; PORT defaults to 8786). The
    workers decide their own thread count (``dask worker --nthreads``).
``local:N``
    a :class:`distributed.LocalCluster` of N worker processes on 127.0.0.1,
    started for this run and closed after it. ``threads`` (``--threads``,
    default all cores) is the total for this machine, split evenly over the N
    processes (at least one thread each), so the default does not
    oversubscribe the cores.

Tiles are submitted with a bounded number in flight (:data:`INFLIGHT_PER_THREAD`
per worker thread), so memory stays flat however large the grid is. Each task
has a fixed key and is pure (its result depends only on its arguments), so
dask may recompute it anywhere: when a worker dies, the scheduler reruns the
tiles it held and the client still yields every tile index exactly once.

Tile size on a real cluster: the per-tile cost of the dask round trip is a
few milliseconds, against seconds of compute for a 256 x 256 tile at a
10,000-step cap, so the default tile is fine for a few workers. On a cluster
with many workers prefer ``--tile 512`` (:data:`CLUSTER_TILE`): 4x fewer
tasks for the scheduler and the single writing client, per-tile overhead
well under 1%, and still thousands of tiles to balance (a 4096^2 grid at 256
step sizes has 16,384). See docs/cluster.md.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._version import __version__
from .errors import EosfastError
from .grid import GridSpec, default_threads, tile_job
from .models import get_model

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client, LocalCluster

#: Port of ``dask scheduler`` when the address gives none.
DEFAULT_PORT = 8786

#: Tiles in flight per worker thread: one running and one queued, so a worker
#: never waits for the client's round trip, and the client holds at most this
#: many tiles' results at once (memory flat for any grid).
INFLIGHT_PER_THREAD = 2

#: Advised ``--tile`` on clusters with many workers (see the module docstring).
CLUSTER_TILE = 512

#: Automatic retries of a tile whose task raised (``client.submit(retries=)``).
TASK_RETRIES = 2

#: Resubmissions of a tile after dask gave up on it because the workers running
#: it kept dying (:class:`distributed.KilledWorker`, after the scheduler's own
#: ``allowed-failures`` reruns).
RESUBMITS = 2

#: Seconds to reach a scheduler, and to wait for a local cluster's workers.
CONNECT_TIMEOUT = 30.0

#: Seconds between refreshes of the cluster's thread count (workers may come
#: and go during a run; the in-flight bound follows them).
REFRESH_S = 2.0

#: ``source(spec, todo, chunk)`` -> iterator of ``(tile index, iterations, payload)``.
TileSource = Callable[[GridSpec, Sequence[int], "tuple[int, int] | None"],
                      Iterator[tuple[int, int, dict]]]


@dataclass(frozen=True)
class Scheduler:
    """A parsed ``--scheduler`` value.

    Attributes
    ----------
    address : str or None
        ``tcp://host:port`` of an existing scheduler; None for a local cluster.
    host, port : str, int
        The scheduler's host and port (tcp only).
    n_workers : int
        Worker processes of the local cluster (0 for tcp).
    """

    address: str | None
    host: str = ""
    port: int = 0
    n_workers: int = 0

    @property
    def is_local(self) -> bool:
        return self.address is None


def parse_scheduler(text: str) -> Scheduler:
    """Validate a scheduler string: ``tcp://HOST[:PORT]`` or ``local:N``.

    Raises
    ------
    EosfastError
        With a one-line message, for anything else.
    """
    usage = f"scheduler must be tcp://HOST:PORT or local:N, got {text!r}"
    text = str(text).strip()
    if text.startswith("local:"):
        n = text[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise EosfastError(f"{usage} (N: worker processes, at least 1)")
        return Scheduler(address=None, n_workers=int(n))
    if not text.startswith("tcp://"):
        raise EosfastError(usage)
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number in 0..65535
        raise EosfastError(usage) from None
    if not host or parts.path or parts.query or parts.fragment or parts.username \
            or port == 0:
        raise EosfastError(usage)
    port = DEFAULT_PORT if port is None else port
    shown = f"[{host}]" if ":" in host else host  # IPv6 literal
    return Scheduler(address=f"tcp://{shown}:{port}", host=host, port=port)


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise EosfastError("--scheduler needs dask.distributed, which is not installed: "
                           "pip install 'eosfast[dask]'") from None
    return distributed


def tile_source(scheduler: str, threads: int | None = None) -> TileSource:
    """A tile source for :func:`eosfast.grid` that computes on a dask cluster.

    The string is checked, and a remote scheduler's port probed, here, before
    :func:`eosfast.grid` creates any file; the cluster itself is started (or
    connected to) when the source is first iterated and closed when the
    iteration ends, however it ends (done, error, Ctrl-C, generator closed).

    Parameters
    ----------
    scheduler : str
        ``"tcp://host:port"`` of a running ``dask scheduler``, or ``"local:N"``
        for a :class:`distributed.LocalCluster` of N worker processes on
        127.0.0.1.
    threads : int, optional
        ``local:N`` only: threads on this machine, split evenly over the N
        processes (default: all cores). Ignored for tcp, where each worker's
        ``--nthreads`` decides.

    Returns
    -------
    callable
        ``source(spec, todo)``: an iterator of ``(tile_index, arrays)`` in
        completion order, each index of ``todo`` exactly once.

    Raises
    ------
    EosfastError
        For a malformed string, an unreachable scheduler or a missing dask.
    """
    target = parse_scheduler(scheduler)
    _import_distributed()
    if not target.is_local:
        _probe(target)
    total = default_threads() if threads is None else int(threads)
    per_worker = max(1, total // target.n_workers) if target.is_local else 0

    def source(spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None = None
               ) -> Iterator[tuple[int, int, dict]]:
        return _run(target, per_worker, spec, list(todo), chunk)

    return source


def _probe(target: Scheduler) -> None:
    """Fail early, with one line, when nothing listens at the scheduler's address."""
    try:
        with socket.create_connection((target.host, target.port), timeout=5):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise EosfastError(f"cannot reach the dask scheduler at {target.address}: "
                           f"{reason}") from None


def _connect(target: Scheduler, threads_per_worker: int
             ) -> tuple[Client, LocalCluster | None]:
    """A client of the target cluster (and the local cluster it started, if any)."""
    import dask
    from distributed import Client, LocalCluster

    if not target.is_local:
        try:
            client = Client(target.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise EosfastError(f"cannot connect to the dask scheduler at {target.address}: "
                               f"{exc}") from None
        return client, None
    # On Linux the worker processes are forked from this one: they inherit the
    # imported modules and the kernels already loaded here, so the cluster is
    # up in a fraction of a second instead of the seconds that spawning costs
    # (each spawned worker imports dask, numpy, numba and loads the kernels
    # again). The workers never touch the HDF5 file this process has open, and
    # the grid kernel does not use Numba's threading layer, the two things
    # that do not survive a fork. A worker restarted after a crash is spawned
    # (dask's default), which is slower but equally correct.
    method = "fork" if sys.platform.startswith("linux") else \
        dask.config.get("distributed.worker.multiprocessing-method")
    with dask.config.set({"distributed.worker.multiprocessing-method": method}), \
            warnings.catch_warnings():
        # Python >= 3.12 warns about any fork of a process that has threads
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        # Loopback only, no dashboards, a random scheduler port (several runs
        # may share the machine), and quiet: the private cluster's shutdown
        # chatter would tear the progress bar, and every failure that matters
        # reaches the client as a task error.
        cluster = LocalCluster(n_workers=target.n_workers, processes=True,
                               threads_per_worker=threads_per_worker, host="127.0.0.1",
                               scheduler_port=0, dashboard_address=None,
                               silence_logs=logging.CRITICAL)
    try:
        # results come straight from the workers, not relayed by the scheduler
        client = Client(cluster, set_as_default=False, direct_to_workers=True)
        client.wait_for_workers(target.n_workers, timeout=CONNECT_TIMEOUT)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def _warm(model: str, private: bool = False) -> str:
    """Run on each worker: compile (or load from Numba's cache) the model's kernels.

    ``Model.kernels`` is a cached property of the module-level model object, so
    this happens once per worker process (or not at all in a worker forked
    after the client loaded them); every tile after it reuses them. Returns the
    worker's eosfast version for the client to compare.

    In a ``private`` (local:N) cluster the worker also ignores SIGINT: Ctrl-C
    in the terminal reaches the whole process group, and the client, not each
    worker, should handle it (save, shut the cluster down, one message).
    """
    if private:
        with suppress(ValueError):  # only possible from the main thread
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    _ = get_model(model).kernels
    return __version__


def _warm_workers(client: Client, model: str, private: bool) -> None:
    """Load the kernels on every worker up front and check eosfast's version there.

    Workers that join later compile on their first tile instead (same result).
    """
    versions = client.run(_warm, model, private, on_error="return")
    for worker, v in versions.items():
        if isinstance(v, BaseException):
            raise EosfastError(f"dask worker {worker} cannot run eosfast: "
                               f"{type(v).__name__}: {v}; install eosfast {__version__} "
                               "on every worker") from None
        if v != __version__:
            # a different kernel could give a different file: refuse
            raise EosfastError(f"dask worker {worker} runs eosfast {v}, this client "
                               f"{__version__}; install the same version everywhere")


class _InFlight:
    """The bound on tiles in flight: INFLIGHT_PER_THREAD per worker thread, refreshed."""

    def __init__(self, client: Client):
        self.client = client
        self.when = -float("inf")
        self.value = INFLIGHT_PER_THREAD

    def __call__(self) -> int:
        now = time.monotonic()
        if now - self.when >= REFRESH_S:
            self.when = now
            with suppress(Exception):  # keep the last bound if the scheduler is slow
                threads = sum(self.client.nthreads().values())
                # at least a couple while no worker is connected yet: they wait
                # on the scheduler and start as soon as one joins
                self.value = max(INFLIGHT_PER_THREAD, INFLIGHT_PER_THREAD * threads)
        return self.value


def _run(target: Scheduler, threads_per_worker: int, spec: GridSpec, todo: list[int],
         chunk: tuple[int, int] | None) -> Iterator[tuple[int, int, dict]]:
    """Run :func:`eosfast.grid.tile_job` for the tiles ``todo`` on the cluster.

    Yields ``(index, iterations, payload)`` as tiles finish, each index once.
    With ``chunk`` the payload is the tile's encoded HDF5 chunks, compressed
    on the worker, which also makes the transfer to the client smaller.
    """
    if not todo:
        return
    from distributed import KilledWorker, as_completed

    client = cluster = None
    pending: dict = {}  # task key -> (future, tile index)
    try:
        if target.is_local:
            _ = get_model(spec.model).kernels  # load once here; forked workers inherit them
        client, cluster = _connect(target, threads_per_worker)
        _warm_workers(client, spec.model, private=target.is_local)
        # One name per run: keys never collide with an earlier (maybe cancelled)
        # run of the same grid on a long-lived cluster.
        name = f"eosfast-tile-{uuid.uuid4().hex}"
        attempts: dict[int, int] = {}
        queue = iter(todo)
        limit = _InFlight(client)
        # results are fetched in the background while the client writes HDF5
        done = as_completed(loop=client.loop, with_results=True, raise_errors=False)

        def submit(index: int) -> None:
            attempt = attempts.get(index, 0)
            fut = client.submit(tile_job, spec.tile_task(index), chunk, pure=True,
                                key=(name, index, attempt), retries=TASK_RETRIES)
            pending[fut.key] = (fut, index)
            done.add(fut)

        def refill() -> None:
            for index in queue:
                submit(index)
                if len(pending) >= limit():
                    break

        refill()
        for fut, result in done:
            _, index = pending.pop(fut.key)
            if fut.status == "finished":
                refill()  # before the yield: workers keep busy while the client writes
                iterations, payload = result
                yield index, iterations, payload
                continue
            exc = result[1] if isinstance(result, tuple) else result
            if isinstance(exc, KilledWorker) and attempts.get(index, 0) < RESUBMITS:
                attempts[index] = attempts.get(index, 0) + 1
                submit(index)
                continue
            if isinstance(exc, KilledWorker):
                raise EosfastError(f"tile {index} kept killing dask workers ({exc}); the "
                                   "finished tiles are saved, rerun with --resume") from None
            if fut.status == "cancelled":
                raise EosfastError(f"lost the dask cluster ({exc or 'tile cancelled'}); the "
                                   "finished tiles are saved, rerun with --resume") from None
            # an error in tile_job itself, after TASK_RETRIES: a bug, keep its traceback
            raise exc.with_traceback(result[2]) if isinstance(result, tuple) else exc
    finally:
        if client is not None:
            with suppress(Exception):
                client.cancel([f for f, _ in pending.values()])
            with suppress(Exception):
                client.close(timeout=10)
        if cluster is not None:
            with suppress(Exception):
                cluster.close(timeout=10)
