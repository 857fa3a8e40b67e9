"""Run the tiles of :func:`eosfast.grid` on a dask.distributed cluster.

``eosfast.grid(..., scheduler=ADDRESS)`` (``eosfast grid --scheduler ADDRESS``)
sends the tiles, as calls of the module-level :func:`eosfast.tiles.tile_job`
with small picklable arguments, to dask workers and gets each tile back (its
arrays, or its HDF5 chunks already compressed on the worker). Everything
else stays on the client: it alone writes the HDF5 file (one writer), draws
the progress bar, and handles ``--resume`` and the final rename exactly as
for a local run. A point's result depends only on the point, and the
workers run the same compiled kernel, so the file is bit-identical to the
local threaded run.

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

Tasks and tiles. A dask task costs about 10 ms of CPU (scheduler, network,
client) whatever it computes, so one task runs a *batch* of consecutive
tiles: about :data:`TASKS_PER_THREAD` tasks per worker thread, enough to
balance the load, few enough that the per-task cost stays small, and at most
:data:`MAX_BATCH_POINTS` points. The file's tiling (``--tile``: its chunks,
its resume granularity) does not change; only the dask task does. At most
:data:`INFLIGHT_PER_THREAD` tasks per worker thread are submitted and not yet
consumed, so memory stays flat however large the grid is, and the writing
client fetches results one task at a time.

Tile size on a cluster: keep the default 256 x 256. Batching already
amortises the per-task cost; what remains per tile is the client's share
(receiving about 2 MB and writing it, about 1.5 ms of CPU here), so one
client keeps up with several hundred tiles a second. Only if the client's
CPU is saturated (a very large cluster on an easy grid) does ``--tile 512``
help, by quartering the number of tiles.

Failures. Each task has a fixed key and is pure (its result depends only on
its arguments), so dask may rerun it anywhere: when a worker dies, the
scheduler reruns the tasks it was running or holding, and the client still
yields every tile index exactly once. A task that keeps killing workers is
resubmitted :data:`RESUBMITS` times, then the run stops with the finished
tiles saved for ``--resume``.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import multiprocessing
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import interrupts
from ._version import __version__
from .errors import EosfastError, InvalidArgument
from .models import ModelSpec
from .optimizer import GD, Optimizer
from .stoprule import StopRule
from .tiles import (
    GridSpec,
    Place,
    TileStats,
    compute_points,
    join_points,
    load_kernels,
    placed,
    tile_job,
)
from .validate import cores as default_threads

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client, LocalCluster

#: Port of ``dask scheduler`` when the address gives none.
DEFAULT_PORT = 8786

#: Tasks (batches of tiles) per worker thread submitted and not yet consumed:
#: one running and one queued, so a worker never waits for the client's round
#: trip, and the cluster holds at most this many finished batches per thread.
INFLIGHT_PER_THREAD = 2

#: Aim for about this many tasks per worker thread: the last task to finish
#: leaves the other threads idle for about half a task, so more and smaller
#: tasks balance better, while each task costs about 10 ms of CPU (scheduler,
#: network, client) whatever it computes. 4 and 8 measured alike on a 2048^2
#: grid; 4 makes the tasks of large grids twice as big.
TASKS_PER_THREAD = 4

#: Most grid points in one task (16 tiles of 256 x 256): bounds what a task
#: returns (40 MB of arrays at most, about 2 MB a tile as chunks) and what a
#: lost worker's tasks take to redo, whatever ``--tile`` is.
MAX_BATCH_POINTS = 1 << 20

#: Points per task when the cluster computes a list of points (refine's
#: lattice points): about 10 ms of task overhead against a second of work.
POINTS_PER_TASK = 1 << 16

#: Automatic retries of a task that raised (``client.submit(retries=)``).
TASK_RETRIES = 2

#: Resubmissions of a task after dask gave up on it because the workers running
#: it kept dying (:class:`distributed.KilledWorker`, after the scheduler's own
#: ``allowed-failures`` reruns).
RESUBMITS = 2

#: Seconds to reach a scheduler, and to wait for the first worker (tcp) or all
#: workers (local:N) to be ready.
CONNECT_TIMEOUT = 60.0

#: Seconds to wait for the client and a local cluster to close.
CLOSE_TIMEOUT = 10

#: Seconds between refreshes of the cluster's thread count (workers may come
#: and go during a run; the in-flight bound follows them).
REFRESH_S = 2.0

#: Modules the fork server of local clusters imports once for all its workers:
#: dask, eosfast, and the Numba modules that a process's first kernel load
#: imports (most of that load's cost). A name that does not exist is skipped.
FORKSERVER_PRELOAD = ["distributed", "eosfast.distributed", "eosfast.kernels.cpu",
                      "numba.np.arraymath", "numba.cpython.charseq",
                      "numba.core.typing.cffi_utils", "numba.core.inline_closurecall"]

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
        """True for ``local:N`` (a private cluster started for the run)."""
        return self.address is None


def parse_scheduler(text: str) -> Scheduler:
    """Validate a scheduler string: ``tcp://HOST[:PORT]`` or ``local:N``.

    Raises
    ------
    EosfastError
        With a one-line message, for anything else.
    """
    shown = repr(str(text)).replace("{", "{{").replace("}", "}}")  # the message is a template
    usage = f"{{scheduler}} must be tcp://HOST:PORT or local:N, got {shown}"
    text = str(text).strip()
    if text.startswith("local:"):
        n = text[len("local:"):]
        if not (n.isascii() and n.isdigit()) or int(n) < 1:
            raise InvalidArgument(f"{usage} (N: worker processes, at least 1)", "scheduler")
        cores = default_threads()
        if int(n) > 4 * cores:  # a typo, not a plan: each is a process here
            raise InvalidArgument(f"{{scheduler}} local:{int(n)} would start {int(n)} worker "
                                  f"processes on this machine's {cores} cores; use at most "
                                  f"{4 * cores}", "scheduler")
        return Scheduler(address=None, n_workers=int(n))
    if not text.startswith("tcp://"):
        raise InvalidArgument(usage, "scheduler")
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number in 0..65535
        raise InvalidArgument(usage, "scheduler") from None
    if not host or parts.path or parts.query or parts.fragment or parts.username \
            or port == 0:
        raise InvalidArgument(usage, "scheduler")
    port = DEFAULT_PORT if port is None else port
    shown = f"[{host}]" if ":" in host else host  # IPv6 literal
    return Scheduler(address=f"tcp://{shown}:{port}", host=host, port=port)


_MISSING_DASK = ("--scheduler needs dask.distributed, which is not installed: "
                 "pip install 'eosfast[dask]'")


def _check_distributed() -> None:
    """Fail with the install line if dask.distributed is missing (without importing it)."""
    try:
        found = importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):  # a broken or blocked entry in sys.modules
        found = False
    if not found:
        raise EosfastError(_MISSING_DASK)


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise EosfastError(_MISSING_DASK) from None
    return distributed


class DaskExecutor:
    """An executor (:mod:`eosfast.executors`) that computes tiles on a dask cluster.

    The string is checked, and a remote scheduler's port probed, here, before
    :func:`eosfast.grid` creates any file; the cluster itself is started (or
    connected to) when :meth:`run` is first iterated and closed when the
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

    Raises
    ------
    EosfastError
        For a malformed string, an unreachable scheduler or a missing dask.
    """

    def __init__(self, scheduler: str, threads: int | None = None):
        self.target = parse_scheduler(scheduler)
        _check_distributed()
        if self.target.is_local and _start_method() == "forkserver":
            _start_forkserver()  # it imports while this process goes on
        _import_distributed()
        if not self.target.is_local:
            _probe(self.target)
        total = default_threads() if threads is None else int(threads)
        self.per_worker = max(1, total // self.target.n_workers) if self.target.is_local else 0
        self._session: _Session | None = None

    def __enter__(self) -> DaskExecutor:
        """Connect (or start the local cluster) once for every call until ``__exit__``."""
        if self._session is None:
            self._session = _Session(self.target, self.per_worker)
        return self

    def __exit__(self, *exc) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def points(self, model: ModelSpec, x0, y0, eta, rule: StopRule,
               optimizer: Optimizer = GD) -> dict:
        """Points in tasks of :data:`POINTS_PER_TASK`, results in order.

        See :mod:`eosfast.executors`; without ``with executor:`` the call
        starts (or connects to) the cluster for itself.
        """
        if self._session is None:
            with self:
                return self.points(model, x0, y0, eta, rule, optimizer)
        return self._session.points(model, x0, y0, eta, rule, optimizer)

    def run(self, spec: GridSpec, todo: Sequence[int], chunk: tuple[int, int] | None = None,
            place: Place | None = None) -> Iterator[tuple[int, TileStats, tuple]]:
        """``(tile index, stats, payload)`` in completion order, each index once.

        ``place`` (see :mod:`eosfast.executors`) runs in this process, on the
        tiles as they arrive from the cluster.
        """
        results = _run(self.target, self.per_worker, spec, list(todo), chunk, self._session)
        return results if place is None else placed(results, place)

    def tasks(self, fn: Callable, items: Sequence, what: str = "pieces"
              ) -> Iterator[tuple[int, Any]]:
        """``(i, fn(items[i]))`` for every item, in completion order, each once.

        For work that is neither tiles nor points (an ensemble's pieces):
        ``fn`` and the items are pickled to the workers (``fn`` a module-level
        function or a method of a picklable object); a killed worker's item is
        computed again, a lost cluster is one line. ``what`` names the items
        in those messages.
        """
        items = list(items)
        if items:
            yield from _stream(self.target, self.per_worker, self._session, what,
                               lambda client: items, lambda i: (fn, items[i]), _no_warm,
                               lambda i: f"{what} [{items[i]}]")


def _no_warm(client) -> None:
    return None


class _Session:
    """A client (and its private local cluster) kept for several runs of one command."""

    def __init__(self, target: Scheduler, per_worker: int):
        self.target = target
        self.restore_logs = _quiet_dask_logs()
        try:
            with interrupts.allowed():  # no file is touched while the cluster comes up
                self.client, self.cluster = _connect(target, per_worker)
        except BaseException:
            self.restore_logs()
            raise
        self.warmed: set[ModelSpec] = set()

    def warm(self, model: ModelSpec) -> None:
        if model not in self.warmed:
            with interrupts.allowed():
                _warm_workers(self.client, model, private=self.target.is_local)
            self.warmed.add(model)

    def points(self, model: ModelSpec, x0, y0, eta, rule: StopRule,
               optimizer: Optimizer = GD) -> dict:
        self.warm(model)
        m = x0.size
        name = f"eosfast-points-{uuid.uuid4().hex}"
        futures = [self.client.submit(compute_points, model, x0[a:a + POINTS_PER_TASK],
                                      y0[a:a + POINTS_PER_TASK], eta[a:a + POINTS_PER_TASK],
                                      rule, optimizer, pure=True, key=(name, a),
                                      retries=TASK_RETRIES)
                   for a in range(0, m, POINTS_PER_TASK)]
        try:
            with interrupts.allowed():  # waiting for the cluster touches no file
                parts = self.client.gather(futures)
        except BaseException:
            with suppress(Exception):
                self.client.cancel(futures)
            raise
        return join_points(parts)

    def close(self) -> None:
        try:
            if not sys.is_finalizing():
                with suppress(Exception):
                    self.client.close(timeout=CLOSE_TIMEOUT)
                if self.cluster is not None:
                    with suppress(Exception):
                        self.cluster.close(timeout=CLOSE_TIMEOUT)
        finally:
            self.restore_logs()


def _start_method() -> str:
    """How a local cluster starts its worker processes: ``forkserver`` where possible.

    Forking this process itself would be fastest, but it runs dask's event
    loop threads by then, and a fork of a threaded process can inherit a held
    lock or a half-sent message: under load that hung runs here. Spawning is
    safe but each worker imports dask, numpy, numba and eosfast anew (seconds).
    The fork server is the middle way: one clean, single-threaded process
    that imports them once (:func:`_start_forkserver`) and forks the workers.
    """
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"


def _start_forkserver() -> None:
    """Start multiprocessing's fork server now, with dask and eosfast imported in it.

    Called before this process imports dask itself, so the two import in
    parallel. The server lives as long as this process and serves every later
    local cluster too; dask's own choice of modules to preload comes too late
    to replace ours, which is what we want.
    """
    import multiprocessing.forkserver  # POSIX only

    multiprocessing.set_forkserver_preload(FORKSERVER_PRELOAD)
    with suppress(Exception):  # dask starts it anyway when it needs it
        multiprocessing.forkserver.ensure_running()


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
    """A client of the target cluster (and the local cluster it started, if any).

    Returns once at least one worker (tcp) or all N workers (local) are up.
    """
    import dask
    from distributed import Client, LocalCluster

    if not target.is_local:
        try:
            client = Client(target.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise EosfastError(f"cannot connect to the dask scheduler at {target.address}: "
                               f"{exc}") from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            client.close()
            raise EosfastError(f"no dask worker joined the scheduler at {target.address} "
                               f"within {CONNECT_TIMEOUT:.0f} s; start some with "
                               f"`dask worker {target.address}`") from None
        return client, None
    config = {"distributed.worker.multiprocessing-method": _start_method(),
              # the workers' statistical profiler samples every task's stack
              # every 10 ms: nobody looks at it here, and it costs CPU
              "distributed.worker.profile.enabled": False}
    with dask.config.set(config):
        # Loopback only, no dashboards, a random scheduler port (several runs
        # may share the machine), and quiet: the private cluster's shutdown
        # chatter would tear the progress bar, and every failure that matters
        # reaches the client as a task error.
        cluster = LocalCluster(n_workers=target.n_workers, processes=True,
                               threads_per_worker=threads_per_worker, host="127.0.0.1",
                               scheduler_port=0, dashboard_address=None,
                               # the scheduler's small HTTP server (health,
                               # metrics) would take 8787 or warn: any free port
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                               silence_logs=logging.CRITICAL)
    try:
        # results come straight from the workers, not relayed by the scheduler
        client = Client(cluster, set_as_default=False, direct_to_workers=True)
        client.wait_for_workers(target.n_workers, timeout=CONNECT_TIMEOUT)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def _warm(model: ModelSpec, private: bool = False) -> str:
    """Run on each worker: compile (or load from Numba's cache) the model's kernels.

    ``Model.kernels`` is a cached property of the model object, and the
    worker's :func:`~eosfast.models.get_model` returns the same object for the
    same spec (registry entries, and expression models it has built), so this
    happens once per worker process; every tile after it reuses them.
    Returns the worker's eosfast version for the client to compare.

    In a ``private`` (local:N) cluster the worker also ignores SIGINT: Ctrl-C
    in the terminal reaches the whole process group, and the client, not each
    worker, should handle it (save, shut the cluster down, one message).
    """
    if private:
        with suppress(ValueError):  # only possible from the main thread
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    load_kernels(model)
    return __version__


def _warm_workers(client: Client, model: ModelSpec, private: bool) -> None:
    """Load the kernels on every worker up front and check eosfast's version there.

    Workers that join later load them on their first task instead (same result).
    """
    versions = client.run(_warm, model, private, on_error="return")
    for worker, v in versions.items():
        if isinstance(v, BaseException):
            raise EosfastError(f"dask worker {worker} cannot run eosfast: "
                               f"{type(v).__name__}: {v}; install eosfast {__version__} "
                               "on every worker") from None
        if v != __version__:
            # another kernel could give another file: refuse rather than mix
            raise EosfastError(f"dask worker {worker} runs eosfast {v}, this client "
                               f"{__version__}; install the same version everywhere")


def run_batch(tasks: Sequence[tuple], chunk: tuple[int, int] | None
              ) -> list[tuple[TileStats, tuple]]:
    """One dask task: :func:`eosfast.tiles.tile_job` for each of several tiles.

    Encoded chunks are uint8 arrays (:func:`eosfast.store.gridfile.encode_tile`),
    which dask sends as out-of-band buffers rather than through the pickle
    stream (2 MB a tile, most of it raw float chunks).
    """
    return [tile_job(task, chunk) for task in tasks]


def batch_size(ntiles: int, threads: int, tile_points: int) -> int:
    """Tiles per task: about TASKS_PER_THREAD tasks per worker thread.

    At least 1, and at most MAX_BATCH_POINTS grid points in a task.
    """
    cap = max(1, MAX_BATCH_POINTS // max(tile_points, 1))
    return max(1, min(cap, math.ceil(ntiles / (TASKS_PER_THREAD * max(threads, 1)))))


def _quiet_dask_logs() -> Callable[[], None]:
    """Raise dask's stderr handlers to CRITICAL; return the function that restores them.

    dask attaches its own handlers to ``distributed`` and to some of its
    children (``distributed.client``), so the loggers' levels do not reach
    records that propagate: the handlers' do.
    """
    changed = []
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name != "distributed" and not name.startswith("distributed."):
            continue
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler) and handler.level < logging.CRITICAL:
                changed.append((handler, handler.level))
                handler.setLevel(logging.CRITICAL)

    def restore() -> None:
        for handler, level in changed:
            handler.setLevel(level)

    return restore


def _total_threads(client: Client) -> int:
    return sum(client.nthreads().values())


class _InFlight:
    """The bound on tasks in flight: INFLIGHT_PER_THREAD per worker thread, refreshed."""

    def __init__(self, client: Client, threads: int):
        self.client = client
        self.when = time.monotonic()
        self.value = INFLIGHT_PER_THREAD * max(threads, 1)

    def __call__(self) -> int:
        now = time.monotonic()
        if now - self.when >= REFRESH_S:
            self.when = now
            with suppress(Exception):  # keep the last bound if the scheduler is slow
                self.value = INFLIGHT_PER_THREAD * max(_total_threads(self.client), 1)
        return self.value


def _run(target: Scheduler, threads_per_worker: int, spec: GridSpec, todo: list[int],
         chunk: tuple[int, int] | None, session: _Session | None = None
         ) -> Iterator[tuple[int, int, dict]]:
    """Run the tiles ``todo`` on the cluster, in batches.

    Yields ``(index, iterations, payload)`` as tasks finish, each index once.
    With ``chunk`` the payload is the tile's encoded HDF5 chunks, compressed
    on the worker, which also makes the transfer to the client smaller.
    """
    if not todo:
        return

    def prepare(client: Client) -> list[list[int]]:
        size = batch_size(len(todo), _total_threads(client), spec.tile[0] * spec.tile[1])
        return [todo[i:i + size] for i in range(0, len(todo), size)]

    batches: list[list[int]] = []

    def job(b: int) -> tuple:
        return run_batch, [spec.tile_task(index) for index in batches[b]], chunk

    def warm(client: Client) -> None:
        if session is not None:
            session.warm(spec.model_spec)
        else:
            _warm_workers(client, spec.model_spec, private=target.is_local)

    for b, results in _stream(target, threads_per_worker, session, "tiles", prepare, job,
                              warm, lambda b: f"tiles {batches[b]}", batches):
        for index, (stats, payload) in zip(batches[b], results, strict=True):
            yield index, stats, payload


def _stream(target: Scheduler, threads_per_worker: int, session: _Session | None, what: str,
            prepare: Callable[[Client], list], job: Callable[[int], tuple],
            warm: Callable[[Client], None], describe: Callable[[int], str],
            jobs: list | None = None) -> Iterator[tuple[int, Any]]:
    """Run jobs on the cluster; yield ``(job number, result)`` as they finish, each once.

    ``prepare(client)`` returns the list of jobs (its length is what counts;
    when ``jobs`` is given, the list is filled in place so that ``job`` and
    ``describe`` see it); ``job(b) -> (function, *args)`` is called when job
    ``b`` is submitted (its arguments are built then, not all at once).
    Tasks in flight stay under :data:`INFLIGHT_PER_THREAD` per worker thread;
    a job whose worker died is submitted again (at most :data:`RESUBMITS`
    times); a lost cluster is one line saying that the finished work is saved.
    """
    from distributed import KilledWorker, as_completed

    client = cluster = None
    pending: dict = {}  # task key -> (future, job number)
    # Quiet dask in this process while the run lasts: when a scheduler or a
    # worker goes away it logs its reconnection attempts, tracebacks included,
    # which would tear the progress bar and bury the run's own one-line message
    # (the run either recovers, or stops and says what happened).
    restore_logs = _quiet_dask_logs()
    try:
        if session is not None:  # the command's cluster: kept open after this run
            client = session.client
        else:
            with interrupts.allowed():  # no file is touched while the cluster comes up
                client, cluster = _connect(target, threads_per_worker)
        with interrupts.allowed():
            warm(client)
        threads = _total_threads(client)
        listed = prepare(client)
        if jobs is not None:
            jobs[:] = listed
        # One name per run: keys never collide with an earlier (maybe cancelled)
        # run on a long-lived cluster.
        name = f"eosfast-{what}-{uuid.uuid4().hex}"
        attempts = [0] * len(listed)
        queue = iter(range(len(listed)))
        limit = _InFlight(client, threads)
        done = as_completed(loop=client.loop)

        def submit(b: int) -> None:
            fn, *args = job(b)
            fut = client.submit(fn, *args, pure=True, key=(name, b, attempts[b]),
                                retries=TASK_RETRIES)
            pending[fut.key] = (fut, b)
            done.add(fut)

        def refill() -> None:
            for b in queue:
                submit(b)
                if len(pending) >= limit():
                    break

        refill()
        finished = iter(done)
        while True:
            with interrupts.allowed():  # waiting for the cluster touches no file
                fut = next(finished, None)
            if fut is None:
                break
            _, b = pending.pop(fut.key)
            try:
                # fetched here, one task at a time, rather than gathered eagerly:
                # finished results wait on the workers, not in this process
                with interrupts.allowed():
                    result = fut.result()
            except KilledWorker as exc:
                if attempts[b] >= RESUBMITS:
                    raise EosfastError(f"{describe(b)} kept killing dask workers "
                                       f"({exc}); the finished {what} are saved, rerun with "
                                       "--resume") from None
                attempts[b] += 1
                submit(b)
                continue
            except Exception as exc:
                if fut.status == "cancelled" or client.status != "running":
                    raise EosfastError(f"lost the dask cluster ({exc or 'task cancelled'}); "
                                       f"the finished {what} are saved, rerun with "
                                       "--resume") from None
                raise  # an error in the task itself, after TASK_RETRIES: a bug
            refill()  # before the yield: workers keep busy while the client writes
            yield b, result
    finally:
        # Closing the client releases its tasks on the scheduler (a remote
        # cluster stops computing work nobody will read). Every call has a
        # timeout, and none is made while the interpreter is exiting: dask's
        # own exit handlers close the cluster then, and its event loop may be
        # gone already (a generator left open by an error is closed that late).
        if session is not None:
            for fut, _ in pending.values():  # the cluster stays: release this run's tasks
                with suppress(Exception):
                    fut.cancel()
        elif not sys.is_finalizing():
            if client is not None:
                with suppress(Exception):
                    client.close(timeout=CLOSE_TIMEOUT)
            if cluster is not None:
                with suppress(Exception):
                    cluster.close(timeout=CLOSE_TIMEOUT)
        restore_logs()
