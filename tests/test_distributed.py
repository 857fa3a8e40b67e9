"""The grid on a dask.distributed cluster: same file, worker loss, Ctrl-C, bad addresses.

A real LocalCluster of 2 worker processes on loopback (spawned, like the
workers of a remote cluster: they import eosfast and load the kernels
themselves) serves the ``tcp://`` tests; ``local:2`` starts its own.
"""

import contextlib
import json
import os
import signal
import socket
import sys

import h5py
import numpy as np
import pytest

import eosfast
from eosfast.errors import EosfastError, Interrupted

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from eosfast.cli.main import main  # noqa: E402
from eosfast.distributed import CLOSE_TIMEOUT, DaskExecutor, parse_scheduler  # noqa: E402

pytestmark = pytest.mark.timeout(120)

#: 32 tiles over two step sizes, a second of work: the identity tests.
SMALL = dict(model="zhu4", res_x=96, res_y=80, x_range=(0.05, 3.9), y_range=(0.05, 3.9),
             eta=[0.2, 0.35], steps=3000, tile=24)
SMALL_CLI = ["--res-x", "96", "--res-y", "80", "--x-range", "0.05", "3.9", "--y-range",
             "0.05", "3.9", "--eta", "0.2", "--eta", "0.35", "--steps", "3000", "--tile", "24"]

#: 20 tiles of period-2 and chaotic orbits that run to a 60,000-step cap (above
#: eta = 1/2 nothing converges), about 0.15 s each: slow enough that a worker
#: killed after the first tile is written is surely running one.
SLOW = dict(model="zhu4", res_x=320, res_y=256, x_range=(0.5, 2.0), y_range=(0.5, 2.0),
            eta=0.6, steps=60000, tile=64)


def assert_same_file(a, b):
    """Every dataset equal (NaN where NaN), same shapes and dtypes, same parameters."""
    def datasets(h):
        names = []
        h.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        return sorted(names)

    with h5py.File(a) as f, h5py.File(b) as g:
        assert datasets(f) == datasets(g)
        for name in datasets(f):
            x, y = f[name], g[name]
            assert x.dtype == y.dtype and x.shape == y.shape and x.chunks == y.chunks, name
            assert np.array_equal(x[()], y[()], equal_nan=x.dtype.kind == "f"), name
        assert json.loads(f.attrs["params"]) == json.loads(g.attrs["params"])
        assert f.attrs["complete"] == g.attrs["complete"] == 1


def _count_kernel_builds():
    """On a worker: count the builds of a model's kernels and the tiles computed."""
    import eosfast.kernels.cpu as K
    import eosfast.tiles as T

    if not hasattr(K, "builds"):
        K.builds, K.tiles = 0, 0
        init, tile = K.ModelKernels.__init__, T.compute_tile

        def counted_init(self, maps):
            K.builds += 1
            init(self, maps)

        def counted_tile(*args, **kw):
            K.tiles += 1
            return tile(*args, **kw)

        K.ModelKernels.__init__, T.compute_tile = counted_init, counted_tile
    return os.getpid()


def _kernel_report():
    import eosfast.kernels.cpu as K
    from eosfast.models import get_model

    grid = get_model("zhu4").kernels.grid
    return {"builds": K.builds, "tiles": K.tiles, "signatures": len(grid.signatures),
            "loads": sum(grid.stats.cache_hits.values()) + sum(grid.stats.cache_misses.values())}


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 spawned worker processes, 1 thread each, on 127.0.0.1."""
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", scheduler_port=0, dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                  silence_logs=logging.CRITICAL) as c, \
            distributed.Client(c, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        client.run(_count_kernel_builds)
        yield c, client


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The threaded run of SMALL, the file every executor must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "threads.h5"
    eosfast.grid(**SMALL, out=out, threads=2)
    return out


def call(capsys, *args):
    """Run ``eosfast ARGS`` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_tcp_cluster_gives_the_identical_file_and_loads_kernels_once_per_worker(
        cluster, reference, tmp_path):
    c, client = cluster
    out = tmp_path / "dask.h5"
    seen = []
    run = eosfast.grid(**SMALL, out=out, scheduler=c.scheduler_address,
                       progress=lambda k, n: seen.append(k))
    assert run.tiles_done == run.tiles_total == 32 and run.iterations > 0
    assert seen[-1] == 32 and seen == sorted(seen)
    assert_same_file(reference, out)
    # in memory too (the arrays, no file)
    mem = eosfast.grid(**SMALL, scheduler=c.scheduler_address)
    ref = eosfast.read_grid(reference)
    for name in ("status", "steps", "period", "sharpness", "loss", "x", "y"):
        assert np.array_equal(getattr(mem, name), getattr(ref, name), equal_nan=True), name
    # each worker built the kernels once and loaded their machine code once
    # (from Numba's cache), then ran many tiles with them
    reports = client.run(_kernel_report)
    assert sum(r["tiles"] for r in reports.values()) >= 64
    for r in reports.values():
        assert r["builds"] == 1 and r["signatures"] == 1 and r["loads"] == 1, r
        assert r["tiles"] > 2, r


def test_cli_local_cluster_gives_the_identical_file(run_cli, reference, tmp_path):
    out = tmp_path / "local2.h5"
    code, stdout, err = run_cli("grid", *SMALL_CLI, "--scheduler", "local:2", "-o", out,
                                timeout=120)
    assert code == 0, err
    assert len(stdout.strip().splitlines()) == 1 and "2x80x96" in stdout
    assert err == ""  # no dask chatter, no progress bar when not a terminal
    assert_same_file(reference, out)


REFINE_CLI = ["refine", "--base", "65", "--levels", "3", "--steps", "3000", "--verify", "200",
              "--x-range", "2.8", "3.6", "--y-range", "0.1", "0.9"]


def test_refine_on_a_local_cluster_writes_the_threads_file(run_cli, tmp_path):
    """refine's points go through the same executors as grid's tiles (issue 24)."""
    code, _, err = run_cli(*REFINE_CLI, "-o", tmp_path / "threads.h5", timeout=300)
    assert code == 0, err
    code, stdout, err = run_cli(*REFINE_CLI, "--scheduler", "local:2", "-o",
                                tmp_path / "local2.h5", timeout=300)
    assert code == 0, err
    assert len(stdout.strip().splitlines()) == 1 and err == ""
    assert_same_file(tmp_path / "threads.h5", tmp_path / "local2.h5")


def test_ensemble_on_a_local_cluster_writes_the_threads_file(run_cli, tmp_path):
    """The vector case's pieces run on a cluster too (DaskExecutor.tasks), same file."""
    args = ["ensemble", "--dim", "40", "--eta", "0.05", "--samples", "20000"]
    code, _, err = run_cli(*args, "-o", tmp_path / "threads.h5", timeout=300)
    assert code == 0, err
    code, stdout, err = run_cli(*args, "--scheduler", "local:2", "-o", tmp_path / "local2.h5",
                                timeout=300)
    assert code == 0, err
    assert len(stdout.strip().splitlines()) == 1 and err == ""
    assert_same_file(tmp_path / "threads.h5", tmp_path / "local2.h5")


def test_ensemble_on_a_tcp_cluster_is_the_threads_ensemble(cluster):
    c, _ = cluster
    a = eosfast.ensemble(20, 0.1, 9000, seed=4)
    b = eosfast.ensemble(20, 0.1, 9000, seed=4, scheduler=c.scheduler_address)
    for name in ("status", "steps", "norm2", "sharpness", "inner0"):
        assert np.array_equal(a.arrays[name], b.arrays[name]), name


def test_refine_on_a_tcp_cluster_is_the_threads_refinement(cluster):
    c, _ = cluster
    kw = dict(base=33, levels=2, steps=2000, verify=50, x_range=(2.8, 3.6), y_range=(0.1, 0.9))
    a = eosfast.refine(**kw)
    b = eosfast.refine(**kw, scheduler=c.scheduler_address)
    assert np.array_equal(a.lattice.store.keys, b.lattice.store.keys)
    assert np.array_equal(a.lattice.store.field("status"), b.lattice.store.field("status"))
    assert np.array_equal(a.lattice.store.field("steps"), b.lattice.store.field("steps"))


def test_killed_worker_loses_and_duplicates_no_tile(cluster, tmp_path):
    c, client = cluster
    ref = tmp_path / "threads.h5"
    eosfast.grid(**SLOW, out=ref, threads=2)
    pids = client.run(os.getpid)  # worker address -> pid
    killed = {}

    def kill_one(done, total):
        if done == 1 and not killed:
            busy = {w: len(keys) for w, keys in client.processing().items()}
            victim = max(busy, key=busy.get)
            killed.update(worker=victim, running=busy[victim], pid=pids[victim])
            os.kill(pids[victim], signal.SIGKILL)

    out = tmp_path / "dask.h5"
    written = []
    run = eosfast.grid(**SLOW, out=out, scheduler=c.scheduler_address,
                       progress=lambda k, n: (written.append(k), kill_one(k, n)))
    assert killed and killed["running"] >= 1  # it died in the middle of a task
    assert not psutil.pid_exists(killed["pid"]) or \
        psutil.Process(killed["pid"]).status() == psutil.STATUS_ZOMBIE
    assert written == list(range(21)) and run.tiles_done == 20  # each tile once
    assert_same_file(ref, out)
    # the nanny brings the worker back for the next tests
    client.wait_for_workers(2, timeout=60)
    client.run(_count_kernel_builds)


def _cluster_processes(me):
    """This process's descendants, less multiprocessing's own helpers.

    local:N forks its workers from multiprocessing's fork server (a child of
    this process that lives as long as it does, as does the resource tracker);
    the workers are the server's children.
    """
    helpers = {p.pid for p in me.children()
               if any("forkserver" in a or "resource_tracker" in a for a in p.cmdline())}
    return {p.pid for p in me.children(recursive=True)} - helpers


def test_ctrl_c_closes_the_local_cluster_and_resume_finishes_identically(
        cluster, reference, tmp_path):
    c, _ = cluster
    me = psutil.Process()
    before = _cluster_processes(me)
    out = tmp_path / "g.h5"
    started = []

    def interrupt(done, total):
        started.append(_cluster_processes(me) - before)
        if done >= 3:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="--resume"):
        eosfast.grid(**SMALL, out=out, scheduler="local:2", progress=interrupt)
    assert len(started[-1]) >= 2  # the two workers of local:2 were running
    part = out.with_name("g.h5.part")
    assert part.exists() and not out.exists()
    with h5py.File(part) as f:
        assert 3 <= f["resume/tile_done"][()].sum() < 32
    # and they are gone: wait for their exits (at most three close timeouts)
    left = []
    for pid in _cluster_processes(me) - before:
        with contextlib.suppress(psutil.NoSuchProcess):
            left.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(left, timeout=3 * CLOSE_TIMEOUT)
    assert alive == [] and _cluster_processes(me) - before == set()
    # resumed on the other cluster: the same file as one uninterrupted run
    run = eosfast.grid(**SMALL, out=out, resume=True, scheduler=c.scheduler_address)
    assert run.tiles_done == 32 and not part.exists()
    assert_same_file(reference, out)


BAD = ["foo", "local", "local:", "local:0", "local:-1", "local:two", "local:\u00b2",
       "local:100000", "tcp://", "tcp://:8786",
       "tcp://host:port", "tcp://127.0.0.1:99999", "tcp://127.0.0.1:8786/path", "http://x:1",
       "127.0.0.1:8786"]


@pytest.mark.parametrize("address", BAD)
def test_bad_scheduler_is_one_line_exit_2_and_leaves_nothing(tmp_path, capsys, address):
    code, stdout, err = call(capsys, "grid", "--res", "8", "--steps", "5", "-o",
                             tmp_path / "g.h5", "--scheduler", address)
    assert code == 2 and stdout == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("eosfast: error:") and "scheduler" in err
    assert os.listdir(tmp_path) == []


def test_unreachable_scheduler_is_one_line_before_any_file(tmp_path, capsys):
    # a port held bound but not listening: connecting is refused, and no other
    # process can take the port while the test runs
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        code, _, err = call(capsys, "grid", "--res", "8", "--steps", "5", "-o",
                            tmp_path / "g.h5", "--scheduler", f"tcp://127.0.0.1:{port}")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cannot reach the dask scheduler" in err
    assert os.listdir(tmp_path) == []


def test_without_dask_the_message_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(EosfastError, match=r"pip install 'eosfast\[dask\]'"):
        DaskExecutor("local:2")
    code, _, err = call(capsys, "grid", "--res", "8", "-o", tmp_path / "g.h5",
                        "--scheduler", "local:2")
    assert code == 2 and "eosfast[dask]" in err and len(err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_parse_scheduler():
    s = parse_scheduler("tcp://10.0.0.5")
    assert s.address == "tcp://10.0.0.5:8786" and not s.is_local
    assert parse_scheduler("tcp://[::1]:9000").address == "tcp://[::1]:9000"
    s = parse_scheduler(" local:3 ")
    assert s.is_local and s.n_workers == 3
