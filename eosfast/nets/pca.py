"""Paper Section 6: late GD iterates of a network lie near a 2-D plane, on a parabola."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import validate
from ..errors import EosfastError
from ..result import Result
from .runner import NetsResult, drive, setup


@dataclass(repr=False)
class PCAResult(Result):
    """Principal components of late GD iterates and the parabola through them.

    Attributes
    ----------
    step : ndarray, shape (T,), int64
        Steps of the analysed iterates.
    explained : ndarray, shape (k,), float64
        Share of the iterates' variance along each of the top ``k`` principal
        directions (descending; sums to at most 1).
    proj : ndarray, shape (T, 2), float64
        Iterates (minus their mean) projected on the top two directions.
    osc : int
        Which column of ``proj`` (0 or 1) oscillates step to step (the more
        negative lag-1 autocorrelation): the paper's ``b``-like coordinate.
        The other one is the slow, ``a``-like drift. Signs are fixed so that
        ``proj[0, osc] > 0`` and the parabola opens upwards (``c2 > 0``).
    coef : ndarray, shape (3,), float64
        Least-squares parabola ``drift = c0 + c1 osc + c2 osc^2``.
    residual_rms : float
        RMS residual of that fit, in weight-space units.
    r2 : float
        Fraction of the drift coordinate's variance explained by the parabola.
        (A straight line explains none of it: principal coordinates are
        uncorrelated, so all of ``r2`` comes from the curvature.)
    cos_top : float
        ``|cos|`` between the oscillating direction and the top Hessian
        eigenvector at the last iterate (NaN when not known).
    run : NetsResult or None
        The run that produced the iterates.
    """

    step: np.ndarray
    explained: np.ndarray
    proj: np.ndarray
    osc: int
    coef: np.ndarray
    residual_rms: float
    r2: float
    cos_top: float = float("nan")
    run: NetsResult | None = None

    @property
    def top2_share(self) -> float:
        """Share of variance in the top two principal directions."""
        return float(self.explained[:2].sum())

    @property
    def residual_rel(self) -> float:
        """RMS residual over the standard deviation of the drift coordinate."""
        return float(self.residual_rms / np.std(self.proj[:, 1 - self.osc]))

    def summary(self) -> str:
        """One line: variance share, parabola fit quality."""
        return (f"top-2 PCA share {self.top2_share:.4f}; parabola R^2 {self.r2:.4f}, "
                f"residual {self.residual_rel:.3g} of the drift's spread; "
                f"|cos(osc, top eigvec)| {self.cos_top:.3f}")


def pca_parabola(iterates: np.ndarray, step: np.ndarray | None = None, k: int = 10,
                 top_vector: np.ndarray | None = None) -> PCAResult:
    """PCA of a trajectory and a parabola fitted in its top-2 plane (paper s. 6).

    Parameters
    ----------
    iterates : ndarray, shape (T, n), float
        Consecutive GD iterates (``T >= 4``), one row a weight vector.
    step : ndarray, shape (T,), optional
        Their step numbers (default ``0..T-1``).
    k : int
        Number of principal directions whose variance share is reported.
    top_vector : ndarray, shape (n,), optional
        Top Hessian eigenvector at the last iterate, for ``cos_top``.

    Returns
    -------
    PCAResult
    """
    X = np.asarray(iterates, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 4 or X.shape[1] < 2 or not np.all(np.isfinite(X)):
        raise EosfastError("iterates must be a finite (T, n) array with T >= 4 and n >= 2")
    T = X.shape[0]
    step = np.arange(T, dtype=np.int64) if step is None else np.asarray(step)
    Xc = X - X.mean(axis=0)
    # thin SVD of the (T, n) matrix: T is a few hundred, n up to ~10^4, so
    # this costs O(T^2 n) and never forms the n x n covariance
    U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    var = S**2
    explained = var[:k] / var.sum()
    proj = U[:, :2] * S[:2]
    lag1 = [np.corrcoef(proj[:-1, j], proj[1:, j])[0, 1] for j in range(2)]
    osc = int(np.argmin(lag1))
    # a principal direction's sign is arbitrary (and differs between LAPACK
    # builds): fix it so the first iterate has osc > 0 and the parabola opens
    # upwards, like the paper's a = (2/kappa)(b^2 - kappa^4/16)
    if proj[0, osc] < 0:
        proj[:, osc] *= -1.0
        Vt[osc] *= -1.0
    if np.polyfit(proj[:, osc], proj[:, 1 - osc], 2)[0] < 0:
        proj[:, 1 - osc] *= -1.0
        Vt[1 - osc] *= -1.0
    o, d = proj[:, osc], proj[:, 1 - osc]
    coef = np.polyfit(o, d, 2)[::-1]
    fit = coef[0] + coef[1] * o + coef[2] * o**2
    ss_tot = float(np.sum((d - d.mean()) ** 2))
    ss_res = float(np.sum((d - fit) ** 2))
    cos_top = float("nan")
    if top_vector is not None:
        t = np.asarray(top_vector, dtype=np.float64)
        cos_top = float(abs(Vt[osc] @ t) / np.linalg.norm(t))
    return PCAResult(step, explained, proj, osc, coef, math.sqrt(ss_res / T),
                     1.0 - ss_res / ss_tot, cos_top)


#: Section 6 set-up used by ``eosfast figure fig8``: one mlp5 run from the
#: Fig. 1 initialisation, PCA of the last ``window`` iterates.
FIG8 = {"eta": 0.5, "steps": 3000, "window": 1000, "every": 20}


def late_pca(arch: str = "mlp5", eta: float | None = None, steps: int | None = None,
             window: int | None = None, every: int | None = None, seed: int = 0, *,
             k: int = 10, **kwargs) -> PCAResult:
    """Run GD and analyse its last ``window`` iterates (paper s. 6).

    Parameters
    ----------
    arch : str
        As in :func:`run_nets` (the paper's case is ``mlp5``).
    eta, steps, window, every : optional
        Step size, run length, number of late steps analysed, record spacing;
        defaults from :data:`FIG8`.
    seed, **kwargs
        Passed on as in :func:`run_nets` (``activation``, ``init``, ...).
    k : int
        Principal directions reported.

    Returns
    -------
    PCAResult
        With ``run`` holding the loss and sharpness records of the whole run.
    """
    eta = FIG8["eta"] if eta is None else eta
    steps = FIG8["steps"] if steps is None else steps
    window = FIG8["window"] if window is None else window
    every = FIG8["every"] if every is None else every
    t0 = time.perf_counter()
    opts = {"activation": "elu", "n_examples": 50, "classes": (0, 1), "factor": (4.0, 0.1),
            "init": (2.5, 0.35), "lanczos_iters": 20, "escape": 1e6, **kwargs}
    s = setup(arch, [eta], steps, every, seed, **opts)
    window = validate.integer("window", window, lo=3, hi=s.steps)
    runs = drive(s.engine, s.problem.w0, s.eta, s.steps, s.every, s.params["escape"],
                 collect_last=window)
    if runs.diverged[0]:
        raise EosfastError(f"{arch} at eta={eta} diverged; nothing to analyse")
    s.params["window"] = window
    run = NetsResult(s.params["arch"], s.eta, runs.step, runs.loss, runs.sharp, runs.res,
                     runs.diverged, s.params, time.perf_counter() - t0)
    pca = pca_parabola(runs.iterates[0], np.arange(s.steps - window, s.steps + 1), k=k,
                       top_vector=runs.u_final[0])
    pca.run = run
    return pca
