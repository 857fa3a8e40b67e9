"""``eosfast.ensemble``: Theorem 3.2 checked on many random initialisations.

The path of a sample: :func:`ensemble` validates the arguments into an
:class:`~eosfast.vector.EnsembleSpec`; the samples are cut into pieces of
:data:`~eosfast.vector.PIECE`; threads of this process draw each piece's
initial cosines from the seed (:meth:`~eosfast.vector.EnsembleSpec.cosines`)
and run the compiled kernel on them (:mod:`eosfast.kernels.vector`); this
module, the single writer, stores each piece in ``OUT.part``
(:mod:`eosfast.store.ensemblefile`) under the frame every long run shares
(:class:`~eosfast.store.run.Run`: lock, signals, resume checks, the stop line).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import defaults, interrupts, validate
from .progress import notifier
from .result import Result, describe_counts, percent
from .status import Status, outcome_counts
from .stoprule import StopRule
from .vector import (
    DIM,
    ETA,
    FIELDS,
    KICK_STEP,
    PIECE,
    SAMPLES,
    SEED,
    EnsembleSpec,
    K,
    make_ensemble_spec,
    norm_band,
)

#: Parameters that define a result (a resumed run must match them all).
RESULT_KEYS = ("model", "objective", "dim", "eta", "samples", "seed", "delta_x", "delta_y",
               "kick", "kick_step", "piece", "steps", "tol", "escape", "max_period",
               "period_tol")

#: Bytes per sample over all result arrays (and the sample index).
BYTES_PER_SAMPLE = sum(dt.itemsize for dt in FIELDS.values()) + 8

#: Samples read at once when a file's outcomes are counted.
COUNT_BLOCK = 1 << 22


def in_band(status: np.ndarray, norm2: np.ndarray, eta: float) -> tuple[int, int]:
    """``(converged, converged inside the band)``: the theorem's claim, counted."""
    lo, hi = norm_band(eta)
    conv = np.asarray(status) == Status.CONVERGED
    norm2 = np.asarray(norm2)
    return int(conv.sum()), int((conv & (norm2 > lo) & (norm2 < hi)).sum())


def _samples(n: int) -> str:
    return f"{n} sample{'' if n == 1 else 's'}"


def _band_text(eta: float, converged: int, inside: int) -> str:
    lo, hi = norm_band(eta)
    if not converged:
        if eta >= 0.5:
            return "none converged (no minimum is stable for eta >= 1/2)"
        return "none converged (raise --steps?)"
    return (f"{percent(inside, converged)} of the converged inside the band "
            f"({lo:.8g}, {hi:.8g}) of |x|^2 + |y|^2")


@dataclass(repr=False)
class EnsembleResult(Result):
    """An ensemble held in memory (what :func:`ensemble` returns without ``out``).

    Attributes
    ----------
    params : dict
        Every parameter (as a file's ``params``).
    arrays : dict of str -> ndarray, shape (samples,)
        ``inner0, status, steps, period, norm2, sharpness, loss, inner``
        (dtypes as :data:`eosfast.vector.FIELDS`).
    iterations : int
        GD steps run.
    seconds : float
        Wall time of the computation.
    """

    params: dict
    arrays: dict
    iterations: int
    seconds: float

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    def frame(self):
        """A pandas DataFrame, one row per sample (index ``sample``)."""
        import pandas as pd

        n = self.arrays["status"].size
        return pd.DataFrame(self.arrays, index=pd.RangeIndex(n, name="sample"))

    @property
    def band(self) -> tuple[float, float]:
        """Theorem 3.2's band of ``|x|^2 + |y|^2``."""
        return norm_band(self.params["eta"])

    def share_in_band(self) -> float:
        """Share of the converged samples whose final ``|x|^2 + |y|^2`` is inside the band."""
        conv, inside = in_band(self.arrays["status"], self.arrays["norm2"], self.params["eta"])
        return inside / conv if conv else float("nan")

    def summary(self) -> str:
        p = self.params
        n = self.arrays["status"].size
        conv, inside = in_band(self.arrays["status"], self.arrays["norm2"], p["eta"])
        return (f"{_samples(n)}, d={p['dim']}, eta={p['eta']!r}: "
                f"{describe_counts(outcome_counts(self.arrays['status']))}; "
                f"{_band_text(p['eta'], conv, inside)}")


@dataclass(repr=False)
class EnsembleRun(Result):
    """Summary of an ensemble written to a file.

    Attributes
    ----------
    path : Path
    params : dict
    counts : dict of str -> int
        Samples per outcome.
    converged, inside : int
        Converged samples, and those of them inside the theorem's band.
    iterations : int
        GD steps run in this call (not counting pieces done before a resume).
    seconds : float
        Wall time of the computation in this call.
    pieces_total : int
    """

    path: Path
    params: dict
    counts: dict
    converged: int
    inside: int
    iterations: int
    seconds: float
    pieces_total: int

    @property
    def rate(self) -> float:
        """GD iterations per second, counted from the steps run in this call."""
        return self.iterations / self.seconds if self.seconds > 0 else float("nan")

    def summary(self) -> str:
        p = self.params
        speed = (f"{self.iterations:.3g} iterations in {self.seconds:.2f} s "
                 f"({self.rate:.3g} it/s)" if self.iterations else "nothing left to compute")
        return (f"{self.path}: {_samples(p['samples'])}, d={p['dim']}, eta={p['eta']!r} "
                f"({describe_counts(self.counts)}); "
                f"{_band_text(p['eta'], self.converged, self.inside)}; {speed}")


def ensemble(dim: int = DIM, eta: float = ETA, samples: int = SAMPLES, *, seed: int = SEED,
             delta_x: float | None = None, kick: float = K, kick_step: int | None = KICK_STEP,
             steps: int = defaults.ENSEMBLE_STEPS, tol: float = defaults.ENSEMBLE_TOL,
             escape: float = defaults.ESCAPE, max_period: int = defaults.MAX_PERIOD,
             period_tol: float = defaults.PERIOD_TOL, rule: StopRule | None = None,
             out: str | os.PathLike | None = None, force: bool = False, resume: bool = False,
             threads: int | None = None, scheduler: str | None = None,
             backend: str = defaults.BACKEND, insist: bool = False,
             progress: Callable[[int, int], None] | None = None
             ) -> EnsembleResult | EnsembleRun:
    """GD on ``1/4 (1 - (x^T y)^2)^2`` from random ``x0, y0`` in R^dim, as Theorem 3.2 draws them.

    ``x0 ~ delta_x Unif(S^{d-1})`` and ``y0 ~ delta_y Unif(S^{d-1})``,
    independent, ``delta_x delta_y = 1/2``; the state at step ``kick_step``
    is perturbed, ``y <- y (1 + 2/kick)``; then GD runs until the stop rule
    ends it. The theorem says that for small ``eta`` the final
    ``|x|^2 + |y|^2`` lies in ``(1/eta - 10/3 eta, 1/eta)`` with high
    probability. Every sample costs the same at any ``dim``
    (:mod:`eosfast.vector`).

    Parameters
    ----------
    dim : int
        ``d`` (>= 1).
    eta : float
        Step size.
    samples : int
        Number of random initialisations.
    seed : int
        Seed of the draws (the same seed gives the same samples, however the
        run is split or interrupted).
    delta_x : float, optional
        Radius of ``x0``'s sphere; default the midpoint of the theorem's
        interval ``x_e + (1/80, 1/8) K^-2 eta^-1/2`` (``x_e`` the EoS minimum's
        ``|x|``, :func:`eosfast.vector.eos_minimum`). ``delta_y = 1/(2 delta_x)``.
    kick : float
        The theorem's ``K``: the perturbation's factor is ``1 + 2/K``; also
        sets the default ``delta_x``.
    kick_step : int or None
        The step whose state is perturbed (0: the initial point); None: none.
        Must be below ``steps``; a sample never counts as converged before it.
    steps, tol, escape, max_period, period_tol : see :class:`~eosfast.StopRule`
        Converged when ``|1 - (x^T y)^2| < tol``; diverged when ``|x|`` or
        ``|y|`` exceeds ``escape``. The cap (1e6) and tolerance (1e-8) differ
        from the grid's: small step sizes need ~eta^-2 steps, and 1e-12 is
        below what float64 resolves at eta = 0.01 (:mod:`eosfast.defaults`).
    rule : StopRule, optional
        The five above as one value.
    out : path-like, optional
        Write the result here (HDF5, one row a sample) instead of returning
        it; written as ``out + ".part"`` and renamed when complete.
    force, resume : bool
        Replace an existing ``out``; continue an interrupted run of the same
        parameters (its finished pieces are verified against their checksums).
    threads : int, optional
        Threads computing pieces (default: all cores; with ``scheduler="local:N"``
        split over the N processes).
    scheduler : str, optional
        ``"tcp://host:port"`` of a dask scheduler, or ``"local:N"`` for a local
        cluster of N worker processes (needs ``eosfast[dask]``): the pieces
        are computed there, with the same results.
    backend : {"cpu", "cuda"}
        ``"cuda"`` runs the same per-sample code on this machine's NVIDIA GPU
        (``eosfast[cuda]``), bit for bit, many pieces a launch; refused in one
        line, before any file is touched, when it cannot run.
    insist : bool
        Run even when the estimated memory or file size exceeds what is free.
    progress : callable, optional
        ``progress(pieces_done, pieces_total)`` (and ``info=`` with ``points``,
        ``iterations``: see :mod:`eosfast.progress`).

    Returns
    -------
    EnsembleResult
        Without ``out``: the arrays, ``.frame()`` a DataFrame.
    EnsembleRun
        With ``out``: path, outcome counts, the share in the band, iterations, time.

    Examples
    --------
    >>> import eosfast
    >>> r = eosfast.ensemble(dim=1000, eta=0.1, samples=2000)
    >>> r.share_in_band()
    1.0
    """
    from .store.run import Estimate, Run

    progress = notifier(validate.callback("progress", progress))
    force = validate.flag("force", force)
    resume = validate.flag("resume", resume)
    insist = validate.flag("insist", insist)
    spec = make_ensemble_spec(dim, eta, samples, seed, delta_x, kick, kick_step, rule,
                              steps=steps, tol=tol, escape=escape, max_period=max_period,
                              period_tol=period_tol)
    threads = validate.threads("threads", threads)
    path = None if out is None else validate.path("out", out)
    where = _Where(threads, scheduler, backend)
    need = spec.samples * BYTES_PER_SAMPLE
    # a file run holds the pieces in flight and, to count the outcomes, reads
    # status and norm2 in blocks
    Estimate(memory=need if path is None else PIECE * BYTES_PER_SAMPLE * (2 * threads + 1)
             + COUNT_BLOCK * 9,
             disk=0 if path is None else need,
             what=f"{spec.samples} samples ({{samples}}, {BYTES_PER_SAMPLE} bytes each), which",
             names=("samples",), points=spec.samples).check(path, insist)
    if path is None:
        return _in_memory(spec, where, progress)
    with Run(path, force=force, resume=resume, need=need) as run:
        return _to_file(spec, run, where, progress)


class _Where:
    """Where the pieces run: an executor's ``tasks`` (threads, a dask cluster), or the
    GPU (:mod:`eosfast.kernels.cuda_vector`). Checked now, before any file."""

    def __init__(self, threads: int, scheduler: str | None, backend: str):
        from .executors import CudaExecutor, make_executor

        # the grid's executors check the combination and what a GPU run lacks
        self.executor = make_executor(scheduler, threads, backend)
        self.cuda = isinstance(self.executor, CudaExecutor)


#: Pieces a GPU launch takes at once (about 4 million samples).
CUDA_PIECES = max(1, defaults.CUDA_BATCH_POINTS // PIECE)


def _cuda_pieces(spec: EnsembleSpec, todo: list[int], per_launch: int = CUDA_PIECES):
    """``(index, arrays, steps)`` for every piece of ``todo``, ``per_launch`` pieces a launch."""
    from .vector import run_plane

    for g in range(0, len(todo), per_launch):
        group = todo[g:g + per_launch]
        starts = [spec.starts(k) for k in group]
        joined = [np.concatenate(parts) for parts in zip(*starts, strict=True)]
        out = run_plane(*joined, spec.eta, spec.dim, spec.rule, kick_step=spec.kick_step,
                        kick_factor=spec.kick_factor, backend="cuda")
        a = 0
        for k, (x1, _, y1, _) in zip(group, starts, strict=True):
            b = a + x1.size
            arrays = {name: v[a:b] for name, v in out.items()}
            arrays["inner0"] = spec.delta_x * y1
            yield k, arrays, int(arrays["steps"].sum(dtype=np.int64))
            a = b


def _pieces(spec: EnsembleSpec, todo: list[int], where: _Where):
    """``(index, arrays, steps)`` for every piece of ``todo``, in completion order.

    The executor's ``tasks`` bound the pieces in flight (threads: ``2 *
    threads``); closing the generator stops the work (pieces not started are
    cancelled).
    """
    if where.cuda:
        yield from _cuda_pieces(spec, todo)
        return
    gen = where.executor.tasks(spec.compute, todo)
    try:
        for i, (arrays, it) in gen:
            yield todo[i], arrays, it
    finally:
        gen.close()


def _prepare(where: _Where) -> None:
    """Compile (or load) the kernel before the clock starts; a signal meanwhile stops here."""
    from .vector import run_plane

    one = np.ones(1)
    run_plane(one, 0 * one, one, 0 * one, 0.1, 2, StopRule(steps=1),
              backend="cuda" if where.cuda else "cpu")
    interrupts.checkpoint()


def _in_memory(spec: EnsembleSpec, where: _Where, progress) -> EnsembleResult:
    arrays = {n: np.empty(spec.samples, dt) for n, dt in FIELDS.items()}
    _prepare(where)
    t0 = time.perf_counter()
    iterations = points = done = 0
    total = spec.npieces
    if progress:
        progress(0, total, info={"points": 0, "iterations": 0})
    gen = _pieces(spec, list(range(total)), where)
    try:
        for k, piece, it in gen:
            a, b = spec.piece_range(k)
            for name, values in piece.items():
                arrays[name][a:b] = values
            done += 1
            iterations += it
            points += b - a
            if progress:
                progress(done, total, info={"points": points, "iterations": iterations})
    finally:
        gen.close()
    return EnsembleResult(params=spec.params(), arrays=arrays, iterations=iterations,
                          seconds=time.perf_counter() - t0)


def _to_file(spec: EnsembleSpec, run, where: _Where, progress) -> EnsembleRun:
    from .store import ensemblefile
    from .store.h5 import read_params
    from .store.integrity import recheck_pieces

    params = spec.params()

    def stored(path: Path) -> Mapping[str, Any]:
        with ensemblefile.open_ensemble(path) as f:
            return read_params(f)

    def complete(path: Path) -> bool:
        with ensemblefile.open_ensemble(path) as f:
            return ensemblefile.is_complete(f) and bool(ensemblefile.done_pieces(f).all())

    if run.resume_existing(stored, params, complete, keys=RESULT_KEYS):
        return _summary(run.output.path, spec, 0, 0.0)
    if run.resuming:
        f = ensemblefile.open_for_resume(run.part, lambda old: run.check_params(
            run.part, old, params, RESULT_KEYS))
    else:
        f = ensemblefile.create(run.part, params, spec.samples, PIECE)
    total = spec.npieces
    run.started(f, lambda: (int(ensemblefile.done_pieces(f).sum()), total, "pieces"))
    if run.resuming:
        recheck_pieces(f)
    done = ensemblefile.done_pieces(f)
    todo = [int(k) for k in np.flatnonzero(~done)]
    _prepare(where)
    t0 = time.perf_counter()
    iterations = points = 0
    ndone = int(done.sum())
    if progress:
        progress(ndone, total, info={"points": 0, "iterations": 0})
    gen = _pieces(spec, todo, where)
    try:
        for k, arrays, it in gen:
            a, _ = spec.piece_range(k)
            ensemblefile.write_piece(f, k, a, arrays)
            ndone += 1
            iterations += it
            points += arrays["status"].size
            interrupts.saved()
            interrupts.checkpoint()
            if progress:
                progress(ndone, total, info={"points": points, "iterations": iterations})
    finally:
        gen.close()
    ensemblefile.finish(f)
    seconds = time.perf_counter() - t0
    counts, conv, inside = _count(f, spec.eta)
    return EnsembleRun(run.output.path, params, counts, conv, inside, iterations, seconds,
                       total)


def _count(f, eta: float) -> tuple[dict[str, int], int, int]:
    """Outcome counts, converged and inside the band, of an open file, block by block."""
    n = f["status"].shape[0]
    counts: dict[str, int] = {}
    conv = inside = 0
    for a in range(0, max(n, 1), COUNT_BLOCK):
        status = f["status"][a:a + COUNT_BLOCK]
        for k, v in outcome_counts(status).items():
            counts[k] = counts.get(k, 0) + v
        c, i = in_band(status, f["norm2"][a:a + COUNT_BLOCK], eta)
        conv += c
        inside += i
    return counts, conv, inside


def _summary(path: Path, spec: EnsembleSpec, iterations: int, seconds: float) -> EnsembleRun:
    from .store import ensemblefile

    with ensemblefile.open_ensemble(path) as f:
        counts, conv, inside = _count(f, spec.eta)
    return EnsembleRun(path, spec.params(), counts, conv, inside, iterations, seconds,
                       spec.npieces)
