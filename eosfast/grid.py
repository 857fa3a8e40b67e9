"""``eosfast.grid``: GD from every point of an ``(eta, y0, x0)`` grid.

The path of a grid point: :func:`grid` validates the arguments into a
:class:`~eosfast.tiles.GridSpec`; an executor (:mod:`eosfast.executors`:
threads here, a dask cluster, or a CUDA GPU) runs the model's compiled grid
kernel on each tile (:func:`~eosfast.tiles.tile_job` with
:mod:`eosfast.kernels.grid`, or :mod:`eosfast.kernels.cuda` on the GPU) and
encodes the tile as checksummed HDF5 chunks; this module, the single writer,
stores each tile in ``OUT.part`` (:mod:`eosfast.store.gridfile`), marks it
done, and at the end the store's :class:`~eosfast.store.Output` renames the
file into place.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from . import defaults, interrupts, validate
from .axes import axis_values, make_plane
from .errors import EosfastError, InvalidArgument
from .executors import Executor, make_executor
from .models import Model, get_model
from .optimizer import OPTIMIZER_KEYS, Optimizer
from .progress import notifier
from .result import GridResult, GridRun
from .status import OUTCOMES
from .stoprule import StopRule
from .store.atomic import Output, check_folder
from .store.layouts import GRID_DTYPES
from .tiles import GridSpec, load_kernels

#: Parameters that define a result (a resumed run must match them all).
RESULT_KEYS = ("model", "model_params", "x_range", "y_range", "res_x", "res_y", "eta",
               "steps", "tol", "escape", "max_period", "period_tol", *OPTIMIZER_KEYS,
               "axes", "log", "x0", "y0")

#: Longest axis accepted (points per axis).
MAX_RES = 1 << 20

#: Bytes per grid point over all result arrays.
BYTES_PER_POINT = sum(dt.itemsize for dt in GRID_DTYPES.values())


def make_spec(model: str | Model = defaults.MODEL, res: int = defaults.RES, *,
              model_params: Mapping[str, float] | Iterable[str] | None = None,
              res_x: int | None = None, res_y: int | None = None,
              x_range: Sequence[float] | None = None,
              y_range: Sequence[float] | None = None,
              eta: float | Iterable[float] | None = None,
              eta_range: Sequence[float] | None = None, eta_res: int | None = None,
              steps: int = defaults.STEPS, tol: float = defaults.TOL,
              escape: float = defaults.ESCAPE, max_period: int = defaults.MAX_PERIOD,
              period_tol: float = defaults.PERIOD_TOL,
              tile: int | Sequence[int] | None = None, symmetry: bool = True,
              budget: tuple[int, str] | None = None, rule: StopRule | None = None,
              optimizer: str | Optimizer = "gd", beta: float | None = None,
              eta_x: float | None = None, eta_y: float | None = None,
              axes: Sequence[str] | None = None, log: bool | Sequence[str] = False,
              x0: float | None = None, y0: float | None = None) -> GridSpec:
    """Validate the parameters of :func:`grid`; raises :class:`EosfastError` on bad input.

    ``budget = (bytes, where)`` refuses a grid whose arrays would need more
    than ``bytes`` (of memory, or free on disk: ``where`` says), before any
    axis is built.
    """
    m = get_model(model, model_params)
    res = validate.integer("res", res, hi=MAX_RES)
    nx = validate.integer("res_x", res if res_x is None else res_x, hi=MAX_RES)
    ny = validate.integer("res_y", res if res_y is None else res_y, hi=MAX_RES)
    if budget is not None and eta_res is not None:  # refuse before building a huge eta axis
        n_eta = validate.integer("eta_res", eta_res, hi=1 << 20)
        _check_budget(n_eta, ny, nx, budget)
    rule = StopRule.given(rule, steps, tol, escape, max_period, period_tol)
    if axes is not None and "beta" in axes and beta is None and optimizer != "gd" \
            and not isinstance(optimizer, Optimizer):
        beta = 0.0  # the momentum is the axis: no fixed value needed
    opt = Optimizer.checked(optimizer, beta, eta_x, eta_y)
    plane = make_plane(axes, log, x0, y0, opt)
    slices, rows, cols = plane.axes
    if slices == "eta":
        etas = validate.step_sizes(eta, eta_range, eta_res, default=defaults.ETA)
    else:  # eta is a plane axis: the slices hold the fixed initial point
        if eta is not None or eta_range is not None or eta_res is not None:
            why = (f"is an axis of this plane; give its range with "
                   f"--{'x' if cols == 'eta' else 'y'}-range" if "eta" in (cols, rows) else
                   "is used by no layer here (each has a step size of its own)")
            raise InvalidArgument(f"{{eta}} {why}", "eta", "axes")
        etas = np.array([getattr(plane, slices)])
    ty, tx = validate.tile("tile", defaults.TILE if tile is None else tile)
    if budget is not None:
        _check_budget(etas.size, ny, nx, budget)
    symmetry = validate.flag("symmetry", symmetry)
    if plane.initial:
        xr = validate.pair("x_range", defaults.X_RANGE if x_range is None else x_range)
        yr = validate.pair("y_range", defaults.Y_RANGE if y_range is None else y_range)
        xs, ys = validate.axis("x_range", xr, nx), validate.axis("y_range", yr, ny)
    else:
        xs = axis_values(cols, "x_range", x_range, nx, plane.log[1])
        ys = axis_values(rows, "y_range", y_range, ny, plane.log[0])
        xr, yr = (float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1]))
    tile = (min(ty, ny), min(tx, nx))
    # half the work when the swap of x and y maps the grid and the map onto
    # themselves (not when the layers of x and y step differently)
    mirror = (symmetry and plane.initial and m.maps.symmetric and not opt.layered
              and np.array_equal(xs, ys) and tile[0] == tile[1])
    return GridSpec(model=m.spec.model, model_params=m.spec.params, x0=xs, y0=ys, eta=etas,
                    x_range=xr, y_range=yr, rule=rule, tile=tile, mirror=mirror,
                    optimizer=opt, plane=plane)


def _check_budget(n_eta: int, ny: int, nx: int, budget: tuple[int, str]) -> None:
    need = n_eta * nx * ny * BYTES_PER_POINT
    if need > budget[0]:
        raise EosfastError(f"{n_eta} x {ny} x {nx} points need up to {need / 2**30:.3g} "
                           f"GiB, more than the {budget[0] / 2**30:.3g} GiB {budget[1]}; use "
                           "a smaller grid or fewer step sizes")


def grid(model: str | Model = defaults.MODEL, res: int = defaults.RES, *,
         model_params: Mapping[str, float] | Iterable[str] | None = None, res_x: int | None = None,
         res_y: int | None = None, x_range: Sequence[float] | None = None,
         y_range: Sequence[float] | None = None,
         eta: float | Iterable[float] | None = None,
         eta_range: Sequence[float] | None = None, eta_res: int | None = None,
         steps: int = defaults.STEPS, tol: float = defaults.TOL,
         escape: float = defaults.ESCAPE, out: str | os.PathLike | None = None,
         force: bool = False, resume: bool = False, threads: int | None = None,
         tile: int | Sequence[int] | None = None, max_period: int = defaults.MAX_PERIOD,
         period_tol: float = defaults.PERIOD_TOL, symmetry: bool = True,
         scheduler: str | None = None, backend: str = defaults.BACKEND,
         executor: Executor | None = None, rule: StopRule | None = None,
         optimizer: str | Optimizer = "gd", beta: float | None = None,
         eta_x: float | None = None, eta_y: float | None = None,
         axes: Sequence[str] | None = None, log: bool | Sequence[str] = False,
         x0: float | None = None, y0: float | None = None,
         progress: Callable[[int, int], None] | None = None) -> GridResult | GridRun:
    """Iterate GD from every point of a grid of ``(x0, y0)`` and step sizes ``eta``.

    Parameters
    ----------
    model : str or Model
        A model name: ``zhu4`` (default), ``deg3``, ``deg2``, ... (:data:`eosfast.MODELS`),
        or an expression ``L(x, y)`` of plain GD (:mod:`eosfast.expression`), e.g.
        ``"log(cosh(1 - x**2*y**2))"``.
    model_params : mapping of str -> float, or strings ``"NAME=VALUE"``, optional
        Parameters of the expression (or of a registry expression model).
    res, res_x, res_y : int
        Points per axis; ``x0 = linspace(*x_range, res_x)``, likewise ``y0``.
    x_range, y_range : (float, float)
        Axis ends, both included.
    eta : float or sequence of float, optional
        Step size(s); 0.2 if neither ``eta`` nor ``eta_range`` is given.
    eta_range, eta_res : (float, float), int
        ``eta_res`` step sizes over ``eta_range`` (ends included, decimal-clean),
        merged with ``eta`` into one sorted axis without duplicates.
    steps : int
        Step cap T.
    tol : float
        Converged when the model's measure is below ``tol``: ``|1 - P|``, P
        the product of the weights, for the coupled networks; the gradient's
        largest entry ``max(|dL/dx|, |dL/dy|)`` for expressions (at a point
        whose Hessian has no eigenvalue below ``-tol``).
    escape : float
        Diverged when ``|x|`` or ``|y|`` exceeds it or is not finite.
    out : path-like, optional
        Write the result here (HDF5) instead of returning arrays. The run goes
        to ``out + ".part"``, renamed when complete; the output is locked
        against other writers while it runs.
    force : bool
        Replace an existing ``out`` (and discard a partial run).
    resume : bool
        Continue the partial run ``out + ".part"`` of the same parameters
        (its finished tiles are verified against their checksums first).
    threads : int, optional
        Threads computing tiles (default: all cores; at most 4 per core).
    tile : int or (int, int), optional
        Tile shape ``(ty, tx)`` in points (default 256). Does not change results.
    max_period, period_tol : int, float
        Period search for orbits bounded at the cap.
    rule : StopRule, optional
        The five above as one value (:class:`~eosfast.stoprule.StopRule`),
        instead of the keywords.
    optimizer : {"gd", "momentum", "nesterov"} or Optimizer
        How the points move (:mod:`eosfast.optimizer`): plain GD, heavy-ball
        or Nesterov momentum, starting at rest.
    beta : float, optional
        The momentum, ``0 <= beta < 1`` (needed by the momentum methods).
    eta_x, eta_y : float, optional
        Step sizes of the layers carrying ``x`` and ``y`` (default: ``eta``).
    axes : (str, str), optional
        A plane instead of initial points (:mod:`eosfast.axes`): the
        parameters of the horizontal and vertical axes, two of ``x0, y0,
        eta, eta_x, eta_y, beta``, over ``x_range`` and ``y_range`` (default
        ``[0, 4]`` for the initial point, ``[0.01, 1]`` for step sizes, ``[0,
        0.99]`` for ``beta``) with ``res_x`` and ``res_y`` points; the
        others fixed. The result's dimensions are named for them (the third
        holds ``eta``, or the fixed ``x0`` when ``eta`` is an axis).
    log : bool or names
        Log spacing of both plane axes (True) or of the named ones.
    x0, y0 : float, optional
        The fixed initial point of a plane over hyperparameters (default the
        paper's ``(2.5, 0.35)``).
    symmetry : bool
        When the model's map commutes with swapping x and y bit for bit
        (zhu4, deg2, deg6) and the grid is symmetric (same range and
        resolution on both axes), compute the tiles on and above the diagonal
        and mirror the rest: half the work, the same result. False computes
        every point (for benchmarks).
    scheduler : str, optional
        ``"tcp://host:port"`` of a dask scheduler, or ``"local:N"`` for a local
        cluster of N worker processes (needs ``eosfast[dask]``).
    backend : {"cpu", "cuda"}
        ``"cuda"`` runs the same kernel on this machine's NVIDIA GPU
        (numba-cuda, ``eosfast[cuda]``; ``threads`` then encode the tiles),
        with bit-identical results (``docs/gpu.md``). Refused, before any file
        is touched, with one line naming what is missing when it cannot run.
    executor : Executor, optional
        Run the tiles on this executor (:mod:`eosfast.executors`) instead.
    progress : callable, optional
        Called as ``progress(tiles_done, tiles_total)`` once before the first
        tile (a resumed run starts from the tiles already done) and after
        each tile; a callback that takes ``info=`` also gets the tile's
        ``eta`` and the ``points`` and ``iterations`` computed in this call
        (:mod:`eosfast.progress`).

    Returns
    -------
    GridResult
        When ``out`` is None: arrays shaped (n_eta, ny, nx).
    GridRun
        When ``out`` is given: path, outcome counts, iterations and wall time.

    Examples
    --------
    >>> import eosfast
    >>> r = eosfast.grid(res=64, steps=2000)
    >>> r.shape
    (1, 64, 64)
    >>> bool((r.status == eosfast.Status.CONVERGED).any())
    True
    """
    progress = notifier(validate.callback("progress", progress))
    force = validate.flag("force", force)
    resume = validate.flag("resume", resume)
    path = None if out is None else validate.path("out", out)
    if path is None:
        mem = validate.memory_available()
        budget = None if mem is None else (int(validate.MEMORY_SHARE * mem),
                                           "of memory available")
    else:
        folder = path.parent if str(path.parent) else Path(".")
        check_folder(folder)
        budget = (shutil.disk_usage(folder).free, f"free on the disk of {folder}")
    spec = make_spec(model, res, model_params=model_params, res_x=res_x, res_y=res_y,
                     x_range=x_range, y_range=y_range,
                     eta=eta, eta_range=eta_range, eta_res=eta_res, steps=steps, tol=tol,
                     escape=escape, max_period=max_period, period_tol=period_tol, tile=tile,
                     symmetry=symmetry, budget=budget, rule=rule, optimizer=optimizer,
                     beta=beta, eta_x=eta_x, eta_y=eta_y, axes=axes, log=log, x0=x0, y0=y0)
    if executor is None:
        executor = make_executor(scheduler, threads, backend)
    if path is None:
        return _grid_in_memory(spec, executor, progress)
    return _grid_to_file(spec, path, force, resume, executor, progress)


def _grid_in_memory(spec: GridSpec, executor: Executor, progress) -> GridResult:
    arrays = {n: np.empty(spec.shape, dtype=dt) for n, dt in GRID_DTYPES.items()}
    total, ndone = spec.ntiles, 0
    points = iterations = 0
    if progress:
        progress(0, total, info={"eta": float(spec.eta[0]), "points": 0, "iterations": 0})

    def place(index: int, tiles: tuple) -> None:
        # tiles never overlap, so workers may fill the arrays concurrently
        for t, tile in zip(spec.covered(index), tiles, strict=True):
            e, ys, xs = spec.tile_slices(t)
            for name, a in tile.items():
                arrays[name][e, ys, xs] = a

    for index, stats, _ in executor.run(spec, spec.sources(), None, place):
        for t in spec.covered(index):
            e, ys, xs = spec.tile_slices(t)
            ndone += 1
            points += (ys.stop - ys.start) * (xs.stop - xs.start)
        iterations += stats.iterations
        if progress:
            progress(ndone, total, info={"eta": float(spec.eta[e]), "points": points,
                                         "iterations": iterations})
    return GridResult(model=spec.model, eta=spec.eta, y0=spec.y0, x0=spec.x0,
                      params=spec.params(), axes=spec.plane.axes, **arrays)


#: What files written before expression models hold instead: no parameters.
OLD_DEFAULTS = {"model_params": {}}


def _grid_to_file(spec: GridSpec, out: Path, force: bool, resume: bool, executor: Executor,
                  progress) -> GridRun:
    from .store import gridfile
    from .store.h5 import read_params
    from .store.integrity import recheck_tiles
    from .store.run import Run

    def stored(path: Path) -> dict:
        with gridfile.open_grid(path) as g:
            return read_params(g)

    def complete(path: Path) -> bool:
        with gridfile.open_grid(path) as g:
            done = gridfile.is_complete(g) and gridfile.done_tiles(g).all()
            if not done:
                gridfile.check_resumable(g, path)  # before moving it back to .part
            return done

    need = math.prod(spec.shape) * BYTES_PER_POINT
    with Run(out, force=force, resume=resume, need=need) as run:
        if run.resume_existing(stored, spec.params(), complete, keys=RESULT_KEYS,
                               defaults=OLD_DEFAULTS):
            with gridfile.open_grid(out) as g:
                counts = gridfile.count_outcomes(g)
            return GridRun(out, spec.shape, counts, 0, 0.0, spec.ntiles, spec.ntiles)
        if run.resuming:
            f = gridfile.open_for_resume(run.part, lambda stored: run.check_params(
                run.part, stored, spec.params(), RESULT_KEYS, OLD_DEFAULTS))
        else:
            f = gridfile.create(run.part, spec.params(), spec.eta, spec.y0, spec.x0, spec.tile,
                                axes=spec.plane.axes)
        run.started(f, lambda: (int(gridfile.done_tiles(f).sum()), spec.ntiles, "tiles"))
        if run.resuming:
            recheck_tiles(f)
            spec = spec.with_tile(gridfile.tile_shape(f))  # the file's tiling decides
        return _fill(f, spec, run.output, executor, progress)


def _fill(f, spec: GridSpec, o: Output, executor: Executor, progress) -> GridRun:
    from .store import gridfile

    iterations = points = 0
    done = gridfile.done_tiles(f)
    fresh = not done.any()  # then the outcome counts are the sum of the tiles'
    counts = np.zeros(len(OUTCOMES), np.int64)
    todo = spec.sources(done)
    total = spec.ntiles
    gen = None
    try:  # a signal stops the run between tiles (store.run.Run says what was saved)
        # compile or load the kernel before the clock starts (an executor with
        # kernels of its own, such as a GPU's, prepares them itself)
        prepare = getattr(executor, "prepare", None)
        if prepare is not None:
            prepare(spec)
        else:
            load_kernels(spec.model_spec, spec.optimizer, spec.plane)
        interrupts.checkpoint()  # a signal while Numba compiled (it cannot raise there)
        t0 = time.perf_counter()
        if progress:
            first = spec.tile_slices(todo[0])[0] if todo else spec.eta.size - 1
            progress(int(done.sum()), total, info={"eta": float(spec.eta[first]), "points": 0,
                                                   "iterations": 0})
        gen = executor.run(spec, todo, spec.tile)
        for index, stats, tiles in gen:
            for t, chunks in zip(spec.covered(index), tiles, strict=True):
                e, ys, xs = spec.tile_slices(t)
                gridfile.write_tile(f, t, e, ys, xs, chunks)
                done[t] = True
                interrupts.saved()
                interrupts.checkpoint()
                points += (ys.stop - ys.start) * (xs.stop - xs.start)
                counts += stats.counts
            iterations += stats.iterations
            if progress:
                progress(int(done.sum()), total, info={"eta": float(spec.eta[e]),
                                                       "points": points,
                                                       "iterations": iterations})
    finally:
        if gen is not None:
            gen.close()  # stop the workers (threads or a cluster) on any exit
    gridfile.finish(f)
    outcomes = ({s.label: int(c) for s, c in zip(OUTCOMES, counts, strict=True)} if fresh
                else gridfile.count_outcomes(f))
    return GridRun(o.path, spec.shape, outcomes, iterations, time.perf_counter() - t0, total,
                   total)
