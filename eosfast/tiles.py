"""The unit of work of a grid: a tile of ``(1, ty, tx)`` points at one step size.

:class:`GridSpec` is a validated grid (axes, stopping rules, tiling);
:func:`tile_job` computes one tile and is what every executor runs (threads
of this process, dask workers). A point's result depends only on the point,
never on its tile, lane or thread, so every tiling and executor gives
bit-identical arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from .axes import Plane
from .models import Model, ModelSpec, get_model
from .optimizer import GD, Optimizer
from .status import OUTCOMES
from .stoprule import DEFAULT_RULE, StopRule
from .store.layouts import GRID_DTYPES, tile_grid


@dataclass(frozen=True)
class GridSpec:
    """A validated grid: axes, stopping rules and tiling.

    Attributes
    ----------
    model : str
        Registry name of the model, or its expression (canonical form).
    x0, y0, eta : ndarray, float64
        The axes (``eta`` sorted, unique).
    x_range, y_range : (float, float)
    rule : StopRule
        When each point's iteration stops (step cap, tests, period search).
    tile : (int, int)
        Tile shape ``(ty, tx)`` (the file's chunks).
    mirror : bool
        Compute only the tiles on and above the diagonal (``iy <= ix``) and
        mirror the rest: for a model whose map commutes with swapping x and y
        bit for bit, on a grid with ``x0 == y0`` and square tiles. Mirrored
        tiles are exactly what computing them would give (see
        :func:`mirror_arrays`).
    model_params : tuple of (str, float)
        The model's parameters (expression models), sorted by name.
    optimizer : Optimizer
        How the points move (plain GD by default).
    plane : Plane
        What the dimensions span (:mod:`eosfast.axes`): by default the
        initial-point grid, whose ``eta, y0, x0`` are the step sizes and
        initial points; on a plane they are the coordinates of its
        ``(slices, rows, columns)``, named by ``plane.axes``.
    """

    model: str
    x0: np.ndarray
    y0: np.ndarray
    eta: np.ndarray
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    rule: StopRule
    tile: tuple[int, int]
    mirror: bool = False
    model_params: tuple[tuple[str, float], ...] = ()
    optimizer: Optimizer = GD
    plane: Plane = Plane()

    @property
    def model_spec(self) -> ModelSpec:
        """What rebuilds the model anywhere (a worker process): name or expression, params."""
        return ModelSpec(self.model, tuple(self.model_params))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_eta, ny, nx)``."""
        return (self.eta.size, self.y0.size, self.x0.size)

    @property
    def ntiles(self) -> int:
        return math.prod(tile_grid(self.shape, self.tile))

    def with_tile(self, tile: tuple[int, int]) -> GridSpec:
        """The same grid cut into other tiles (mirroring needs square tiles)."""
        tile = tuple(int(t) for t in tile)
        return replace(self, tile=tile, mirror=self.mirror and tile[0] == tile[1])

    def params(self) -> dict:
        """Every parameter, JSON-serialisable (stored as the file's ``params``).

        ``x_range``, ``y_range``, ``res_x``, ``res_y`` are those of the columns
        and rows (a plane's axes); ``eta`` the step sizes of the slices (none
        when the slices hold a fixed initial point: ``plane``'s ``x0``).
        """
        etas = {"eta": [float(e) for e in self.eta]} if self.plane.axes[0] == "eta" else {}
        return {
            "model": self.model, "model_params": dict(self.model_params),
            "x_range": list(self.x_range), "y_range": list(self.y_range),
            "res_x": int(self.x0.size), "res_y": int(self.y0.size),
            **etas, **self.rule.params(),
            **self.optimizer.params(), **self.plane.params(), "tile": list(self.tile),
        }

    def tile_slices(self, index: int) -> tuple[int, slice, slice]:
        """``(eta index, y0 slice, x0 slice)`` of tile ``index`` (eta-major order)."""
        _, nty, ntx = tile_grid(self.shape, self.tile)
        e, rest = divmod(index, nty * ntx)
        iy, ix = divmod(rest, ntx)
        ty, tx = self.tile
        return e, slice(iy * ty, min((iy + 1) * ty, self.y0.size)), \
            slice(ix * tx, min((ix + 1) * tx, self.x0.size))

    def mirror_index(self, index: int) -> int:
        """The tile whose points are those of tile ``index`` with x and y swapped."""
        _, nty, ntx = tile_grid(self.shape, self.tile)
        e, rest = divmod(index, nty * ntx)
        iy, ix = divmod(rest, ntx)
        return e * nty * ntx + ix * ntx + iy

    def sources(self, done: np.ndarray | None = None) -> list[int]:
        """Tiles to compute: every tile, or with ``mirror`` those with ``iy <= ix``.

        With ``done`` (bool, one per tile), only the tiles that (with their
        mirror) are not all done yet.
        """
        indices = range(self.ntiles)
        if self.mirror:
            indices = [i for i in indices if self.mirror_index(i) >= i]
        if done is None:
            return list(indices)
        if not self.mirror:  # a tile is its own job: its transpose has nothing to do with it
            return [i for i in indices if not done[i]]
        return [i for i in indices if not (done[i] and done[self.mirror_index(i)])]

    def covered(self, index: int) -> list[int]:
        """The tiles a job on source tile ``index`` delivers: itself, and its mirror."""
        m = self.mirror_index(index) if self.mirror else index
        return [index] if m == index else [index, m]

    def tile_task(self, index: int) -> tuple:
        """Arguments of :func:`tile_job` for tile ``index`` (small and picklable).

        The model travels as its :class:`~eosfast.models.ModelSpec`; the worker
        rebuilds it once per process (:func:`~eosfast.models.get_model` caches
        it, and with it the loaded kernels). The last entry says whether the
        job also delivers the mirrored tile.
        """
        e, ys, xs = self.tile_slices(index)
        return (self.model_spec, self.x0[xs], self.y0[ys], float(self.eta[e]), self.rule,
                self.optimizer, self.plane, len(self.covered(index)) == 2)

    def tile_inputs(self, index: int) -> tuple[np.ndarray, ...]:
        """The kernel's ``(x0, y0, eta, eta_y, beta)`` for tile ``index``, row-major."""
        e, ys, xs = self.tile_slices(index)
        if self.plane.initial:
            ny, nx = ys.stop - ys.start, xs.stop - xs.start
            px = np.broadcast_to(self.x0[xs][None, :], (ny, nx)).reshape(-1)
            py = np.broadcast_to(self.y0[ys][:, None], (ny, nx)).reshape(-1)
            return (px, py, *self.optimizer.kernel_inputs(np.full(ny * nx, self.eta[e])))
        return self.plane.inputs(float(self.eta[e]), self.y0[ys], self.x0[xs], self.optimizer)

    @property
    def scheme(self) -> tuple[int, bool]:
        """The kernels' ``(optimizer code, layered)``."""
        return self.plane.scheme(self.optimizer)


def compute_points(model: str | Model | ModelSpec, x0: np.ndarray, y0: np.ndarray,
                   eta: np.ndarray, rule: StopRule = DEFAULT_RULE,
                   optimizer: Optimizer = GD) -> dict[str, np.ndarray]:
    """Run the grid kernel on arbitrary points: 1-D float64 arrays of one length.

    ``eta`` is each point's step size (of the layers that have none of their
    own in ``optimizer``). Returns the arrays of
    :data:`~eosfast.store.layouts.GRID_FIELDS`, each 1-D.
    """
    return run_kernel(model, x0, y0, *optimizer.kernel_inputs(eta), rule,
                      (optimizer.code, optimizer.layered))


def run_kernel(model: str | Model | ModelSpec, x0: np.ndarray, y0: np.ndarray,
               eta: np.ndarray, eta_y: np.ndarray, beta: np.ndarray, rule: StopRule,
               scheme: tuple[int, bool]) -> dict[str, np.ndarray]:
    """The grid kernel of ``scheme`` (:meth:`eosfast.axes.Plane.scheme`) on per-point inputs.

    ``eta`` is the step size of the layers carrying ``x``, ``eta_y`` of those
    carrying ``y`` (read by a layered kernel), ``beta`` the momentum (read by
    the momentum kernels); all 1-D float64 of one length.
    """
    kernel = get_model(model).kernels_for(scheme=scheme).grid
    out = {name: np.empty(x0.size, dtype=dt) for name, dt in GRID_DTYPES.items()}
    kernel(x0, y0, eta, eta_y, beta, *rule.args(), out["status"],
           out["steps"], out["period"], out["sharpness"], out["loss"], out["x"], out["y"])
    return out


def join_points(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Results of :func:`compute_points` on consecutive pieces, joined field by field."""
    if not parts:
        return {k: np.empty(0, dtype=dt) for k, dt in GRID_DTYPES.items()}
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def compute_tile(model: str | Model | ModelSpec, x0: np.ndarray, y0: np.ndarray,
                 eta: float, rule: StopRule = DEFAULT_RULE,
                 optimizer: Optimizer = GD, plane: Plane | None = None
                 ) -> dict[str, np.ndarray]:
    """Run the grid kernel on the points ``x0 (nx,) x y0 (ny,)`` at one ``eta``.

    On a ``plane`` (:mod:`eosfast.axes`), ``x0, y0, eta`` are the coordinates
    of its columns, rows and slice. Returns the arrays of
    :data:`~eosfast.store.layouts.GRID_FIELDS`, each shaped (ny, nx).
    """
    from .kernels.tilework import tile_points

    ny, nx = y0.size, x0.size
    if plane is not None and not plane.initial:
        inputs = plane.inputs(eta, y0, x0, optimizer)
        out = run_kernel(model, *inputs, rule, plane.scheme(optimizer))
        return {k: v.reshape(ny, nx) for k, v in out.items()}
    xs, ys, es = (np.empty(ny * nx) for _ in range(3))
    tile_points(np.ascontiguousarray(x0, dtype=np.float64),
                np.ascontiguousarray(y0, dtype=np.float64), float(eta), xs, ys, es)
    out = compute_points(model, xs, ys, es, rule, optimizer)
    return {k: v.reshape(ny, nx) for k, v in out.items()}


class TileStats(NamedTuple):
    """What the driver needs to know of a computed tile besides its data.

    Attributes
    ----------
    iterations : int
        GD steps run for the tile (the sum of its ``steps``).
    counts : tuple of int
        Points per outcome, in the order of :data:`eosfast.status.OUTCOMES`
        (its mirror, when one comes with it, has the same).
    """

    iterations: int
    counts: tuple[int, ...]

    @classmethod
    def of(cls, arrays: dict[str, np.ndarray]) -> TileStats:
        """The stats of a tile's arrays."""
        from .kernels.tilework import status_histogram

        hist = np.empty(256, np.int64)
        iterations = status_histogram(np.ascontiguousarray(arrays["status"]).reshape(-1),
                                      np.ascontiguousarray(arrays["steps"]).reshape(-1), hist)
        return cls(int(iterations), tuple(int(hist[int(s) + 128]) for s in OUTCOMES))


def mirror_arrays(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tile of the swapped points: every field transposed, ``x`` and ``y`` exchanged.

    For a map that commutes with the swap bit for bit (a coupled network with
    ``p = q``: its step, loss and sharpness are written so that exchanging x
    and y only reorders commutative operations), this is exactly what the
    kernel computes on the swapped points.
    """
    out = {k: np.ascontiguousarray(v.T) for k, v in arrays.items() if k not in ("x", "y")}
    out["x"] = np.ascontiguousarray(arrays["y"].T)
    out["y"] = np.ascontiguousarray(arrays["x"].T)
    return out


def tile_job(task: tuple, chunk: tuple[int, int] | None = None
             ) -> tuple[TileStats, tuple[dict[str, np.ndarray] | dict[str, tuple[bytes, int]],
                                         ...]]:
    """One unit of work for any executor: compute a tile (and encode it for the file).

    Parameters
    ----------
    task : tuple
        ``GridSpec.tile_task(index)``.
    chunk : (int, int), optional
        The file's chunk shape: if given, the tile comes back as stored HDF5
        chunks (:func:`eosfast.store.gridfile.encode_tile`), compressed and
        checksummed here, in the worker, rather than by the single writer.

    Returns
    -------
    (stats, payload)
        The tile's :class:`TileStats`, and a tuple of one or two tiles (the tile,
        and its mirror when the task asks for it: ``GridSpec.covered``), each
        as arrays or encoded chunks.
    """
    *args, mirror = task
    arrays = compute_tile(*args)
    stats = TileStats.of(arrays)
    tiles = (arrays, mirror_arrays(arrays)) if mirror else (arrays,)
    if chunk is None:
        return stats, tiles
    from .store.gridfile import encode_tile

    return stats, tuple(encode_tile(t, chunk) for t in tiles)


#: ``place(index, payload)``: where an executor puts a computed tile
#: (see :mod:`eosfast.executors`).
Place = Callable[[int, tuple], None]


def placed(results: Iterator[tuple[int, TileStats, tuple]], place: Place
           ) -> Iterator[tuple[int, TileStats, tuple]]:
    """``results`` with each payload handed to ``place`` here, in the caller's thread."""
    try:
        for index, stats, payload in results:
            place(index, payload)
            yield index, stats, ()
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def load_kernels(model: str | Model | ModelSpec, optimizer: Optimizer = GD,
                 plane: Plane | None = None) -> None:
    """Compile, or load from Numba's on-disk cache, the kernels a grid of ``model`` runs.

    ``Model.kernels`` only builds the Numba dispatchers; the machine code is
    made on the first call. So call it once, on a one-point tile with the
    argument types of every real tile (one specialisation, reused by all).
    """
    one = np.ones(1)
    TileStats.of(compute_tile(model, one, one, 0.5, StopRule(steps=1), optimizer, plane))
    from .kernels.checksum import fletcher32

    fletcher32(np.zeros(2, np.uint8))
