"""The paper's vector case (Theorem 3.2): GD on ``L(x, y) = 1/4 (1 - (x^T y)^2)^2``, x, y in R^d.

The objective. The text we have prints ``1/4 || I - x y^T x y^T ||_F^2``,
which for ``d >= 2`` is at least ``(d - 1)/4`` (a rank-one matrix against the
identity), while the theorem concludes that the loss falls below any
epsilon. Read with the transposes where the scalar example puts them,
``x^T y x^T y = (x^T y)^2`` is the output of the 4-layer network
``x^T, y, x^T, y``, and the loss ``1/4 (1 - (x^T y)^2)^2`` (a) is zhu4's
reduced objective ``1/4 (1 - x^2 y^2)^2`` at ``d = 1``, (b) reaches zero on
``x^T y = +-1``, where (c) the Hessian is ``2 (y, x)(y, x)^T`` with top
eigenvalue ``2 (|x|^2 + |y|^2)``, so the EoS minimum has
``|x|^2 + |y|^2 = 1/eta`` and the theorem's band
``(1/eta - 10/3 eta, 1/eta)`` is the scalar sharpness band
``(2/eta - 20/3 eta, 2/eta)``. docs/vector.md has the derivation.

GD never leaves the plane of ``x0`` and ``y0`` (:mod:`eosfast.kernels.vector`),
so a run costs the same at every ``d``: only ``|x0|``, ``|y0|`` and the
cosine of their angle matter. For ``x0``, ``y0`` independent and uniform on
spheres, that cosine has the law of one coordinate of a uniform unit vector,
``z1 / sqrt(z1^2 + chi^2_{d-1})`` (``z1`` standard normal), drawn here in
O(1) per sample instead of O(d).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import defaults, validate
from .errors import InvalidArgument
from .stoprule import StopRule
from .store.layouts import ENSEMBLE_FIELDS

#: The objective, as files and ``eosfast models`` print it.
OBJECTIVE = "1/4 (1 - (x^T y)^2)^2"

#: The family as ``eosfast models`` lists it (``eosfast ensemble`` runs it).
DESCRIPTION = {
    "name": "vec", "kind": "vector", "formula": "1/4 (1 - (x^T y)^2)^2 over x, y in R^d "
    "(the 4-layer network x^T, y, x^T, y with coupled layers; d = 1 is zhu4)",
    "expression": None, "params": {},
    "source": "Zhu, Wang, Wang, Zhou, Ge, ICLR 2023, arXiv 2210.03294, Theorem 3.2, Eq. (11) "
              "as printed: 1/4 ||I - x y^T x y^T||_F^2, read as 1/4 (1 - x^T y x^T y)^2 "
              "(docs/vector.md)",
    "fact": "converged samples end with |x|^2 + |y|^2 in (1/eta - 10/3 eta, 1/eta), i.e. "
            "sharpness in (2/eta - 20/3 eta, 2/eta); GD stays in the plane of x0 and y0",
    "checked": "the printed objective is bounded below by (d - 1)/4 for d >= 2, against the "
               "theorem's loss < epsilon; this reading reduces to zhu4 at d = 1 and puts the "
               "EoS minimum at |x|^2 + |y|^2 = 1/eta (derived and checked in the tests)"}

#: Samples per piece: the unit a run draws, computes, writes and resumes. The
#: samples of piece k come from the seed and k alone, so the ensemble is the
#: same however it is split over threads or interruptions.
PIECE = 4096

#: Largest dimension accepted (the cost does not grow with it).
MAX_DIM = 1 << 40

#: Defaults of the ensemble (``eosfast ensemble``; :mod:`eosfast.defaults`).
DIM = defaults.ENSEMBLE_DIM
ETA = defaults.ENSEMBLE_ETA
SAMPLES = defaults.ENSEMBLE_SAMPLES
SEED = defaults.ENSEMBLE_SEED
K = defaults.ENSEMBLE_K
KICK_STEP = defaults.ENSEMBLE_KICK_STEP


def eos_minimum(eta: float) -> tuple[float, float]:
    """``(|x|, |y|)`` of the minimum with sharpness exactly ``2/eta`` (``x^T y = 1``, x || y).

    ``|x|^2 + |y|^2 = 1/eta`` and ``|x| |y| = 1``: ``|x|^2 = (1/eta + sqrt(1/eta^2 - 4)) / 2``.
    Defined for ``0 < eta < 1/2`` (above, no minimum is stable).
    """
    eta = validate.real("eta", eta, positive=True)
    if eta >= 0.5:
        raise InvalidArgument("{eta} must be below 1/2: no minimum is stable above",
                              "eta")
    x2 = (1.0 / eta + math.sqrt(1.0 / eta**2 - 4.0)) / 2.0
    x = math.sqrt(x2)
    return x, 1.0 / x


def norm_band(eta: float) -> tuple[float, float]:
    """Theorem 3.2's band of the final ``|x|^2 + |y|^2``: ``(1/eta - 10/3 eta, 1/eta)``."""
    return 1.0 / eta - 10.0 / 3.0 * eta, 1.0 / eta


def sharpness_band(eta: float) -> tuple[float, float]:
    """The same band as sharpness ``2 (|x|^2 + |y|^2)``: ``(2/eta - 20/3 eta, 2/eta)``."""
    lo, hi = norm_band(eta)
    return 2.0 * lo, 2.0 * hi


def default_delta_x(eta: float, k: float = K) -> float:
    """The midpoint of the theorem's interval for ``delta_x``.

    ``delta_x`` in ``(x_e + K^-2 eta^-1/2 / 80, x_e + K^-2 eta^-1/2 / 8)``,
    ``x_e`` the EoS minimum's ``|x|`` (math.md s. 7).
    """
    xe, _ = eos_minimum(eta)
    return xe + (1.0 / 80.0 + 1.0 / 8.0) / 2.0 / (k * k * math.sqrt(eta))


def draw_cosines(dim: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Cosines of the angle between independent uniform directions in R^dim.

    The cosine has the law of the first coordinate of a uniform unit vector
    (rotate one of the two onto ``e1``): ``z / sqrt(z^2 + g)`` with ``z``
    standard normal and ``g ~ chi^2_{dim - 1} = 2 Gamma((dim - 1)/2)``;
    ``+-1`` with equal odds at ``dim = 1``. Shape (n,), float64; mean 0 and
    mean square ``1/dim``.
    """
    z = rng.standard_normal(n)
    if dim == 1:
        return np.where(z < 0, -1.0, 1.0)
    g = 2.0 * rng.standard_gamma((dim - 1) / 2.0, n)
    return z / np.sqrt(z * z + g)


def to_plane(x0: np.ndarray, y0: np.ndarray) -> tuple[np.ndarray, ...]:
    """Plane coordinates ``(x1, x2, y1, y2)`` of initial vectors (rows of shape (n, d)).

    ``e1 = x0 / |x0|``, ``e2`` the unit part of ``y0`` orthogonal to it:
    ``x = (|x0|, 0)``, ``y = (x0.y0 / |x0|, sqrt(|y0|^2 - (x0.y0 / |x0|)^2))``.
    """
    x0 = np.atleast_2d(np.asarray(x0, dtype=np.float64))
    y0 = np.atleast_2d(np.asarray(y0, dtype=np.float64))
    nx = np.sqrt(np.einsum("ij,ij->i", x0, x0))
    along = np.einsum("ij,ij->i", x0, y0) / nx
    ny2 = np.einsum("ij,ij->i", y0, y0)
    across = np.sqrt(np.maximum(ny2 - along * along, 0.0))
    return nx, np.zeros_like(nx), along, across


def hessian(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The full ``2d x 2d`` Hessian of the objective at ``(x, y)`` (a dense reference).

    Blocks ``[[A y y^T, A y x^T - m I], [A x y^T - m I, A x x^T]]`` with
    ``u = x^T y``, ``A = 3u^2 - 1``, ``m = (1 - u^2) u``. For checks at small
    ``d``; :func:`sharpness` is the closed form.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    u = float(x @ y)
    a = 3.0 * u * u - 1.0
    m = (1.0 - u * u) * u
    d = x.size
    h = np.empty((2 * d, 2 * d))
    h[:d, :d] = a * np.outer(y, y)
    h[d:, d:] = a * np.outer(x, x)
    h[:d, d:] = a * np.outer(y, x) - m * np.eye(d)
    h[d:, :d] = h[:d, d:].T
    return h


@dataclass(frozen=True)
class EnsembleSpec:
    """A checked ensemble: what :func:`eosfast.ensemble` computes.

    Attributes
    ----------
    dim : int
        ``d``.
    eta : float
        Step size.
    samples : int
        Number of random initialisations.
    seed : int
        Seed of the draws (piece k draws from ``SeedSequence(seed, spawn_key=(k,))``).
    delta_x, delta_y : float
        Radii of the spheres ``x0`` and ``y0`` are drawn on (``delta_x delta_y = 1/2``).
    k : float
        The theorem's ``K``: the perturbation multiplies ``y`` by ``1 + 2/K``.
    kick_step : int or None
        The step whose state is perturbed; None: no perturbation.
    rule : StopRule
    """

    dim: int
    eta: float
    samples: int
    seed: int
    delta_x: float
    delta_y: float
    k: float
    kick_step: int | None
    rule: StopRule

    @property
    def kick_factor(self) -> float:
        return 1.0 + 2.0 / self.k

    @property
    def npieces(self) -> int:
        return -(-self.samples // PIECE)

    def piece_range(self, index: int) -> tuple[int, int]:
        """Samples ``[a, b)`` of piece ``index``."""
        a = index * PIECE
        return a, min(a + PIECE, self.samples)

    def params(self) -> dict[str, Any]:
        """Every parameter, as the file's ``params`` stores it."""
        return {"model": "vec", "objective": OBJECTIVE, "dim": self.dim, "eta": self.eta,
                "samples": self.samples, "seed": self.seed, "delta_x": self.delta_x,
                "delta_y": self.delta_y, "kick": self.k, "kick_step": self.kick_step,
                "piece": PIECE, **asdict(self.rule)}

    def cosines(self, index: int) -> np.ndarray:
        """The cosines of piece ``index``'s samples (float64, shape (b - a,))."""
        a, b = self.piece_range(index)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(index,)))
        return draw_cosines(self.dim, b - a, rng)

    def starts(self, index: int) -> tuple[np.ndarray, ...]:
        """Piece ``index``'s initial plane states ``(x1, x2, y1, y2)``, float64, shape (b - a,)."""
        c = self.cosines(index)
        n = c.size
        y2 = self.delta_y * np.sqrt(np.maximum(1.0 - c * c, 0.0))
        return np.full(n, self.delta_x), np.zeros(n), self.delta_y * c, y2

    def compute(self, index: int) -> tuple[dict[str, np.ndarray], int]:
        """Piece ``index``'s result arrays (:data:`FIELDS` order) and its GD steps."""
        x1, x2, y1, y2 = self.starts(index)
        out = run_plane(x1, x2, y1, y2, self.eta, self.dim, self.rule,
                        kick_step=self.kick_step, kick_factor=self.kick_factor)
        out["inner0"] = self.delta_x * y1
        return out, int(out["steps"].sum(dtype=np.int64))


#: The ensemble's stop rule by default (:data:`eosfast.defaults.ENSEMBLE_TOL` says why).
STOP = StopRule(steps=defaults.ENSEMBLE_STEPS, tol=defaults.ENSEMBLE_TOL)


def stop_rule(rule: StopRule | None = None, **keywords: Any) -> StopRule:
    """The ensemble's rule: ``rule``, or the keywords over :data:`STOP`, not both."""
    given = {k: v for k, v in keywords.items() if v != getattr(STOP, k)}
    if rule is None:
        return StopRule.checked(**{**asdict(STOP), **given})
    if given:
        raise InvalidArgument("give the stop rule as {rule} or as keywords, not both ("
                              + ", ".join(f"{{{k}}}" for k in given) + ")", "rule", *given)
    return StopRule.given(rule)


def make_ensemble_spec(dim: int = DIM, eta: float = ETA, samples: int = SAMPLES,
                       seed: int = SEED, delta_x: float | None = None, k: float = K,
                       kick_step: int | None = KICK_STEP,
                       rule: StopRule | None = None, **stop: Any) -> EnsembleSpec:
    """Validate the parameters of :func:`eosfast.ensemble` (``EosfastError`` on bad input).

    ``stop``: any of ``steps, tol, escape, max_period, period_tol`` (default :data:`STOP`).
    """
    dim = validate.integer("dim", dim, hi=MAX_DIM)
    eta = validate.real("eta", eta, positive=True)
    samples = validate.integer("samples", samples, hi=1 << 40)
    seed = validate.integer("seed", seed, lo=0, hi=(1 << 63) - 1)
    k = validate.real("kick", k, positive=True)
    rule = stop_rule(rule, **stop)
    if kick_step is not None:
        kick_step = validate.integer("kick_step", kick_step, lo=0)
        if kick_step >= rule.steps:
            raise InvalidArgument(f"{{kick_step}} ({kick_step}) must be below {{steps}} "
                                  f"({rule.steps})", "kick_step", "steps")
    if delta_x is None:
        if eta >= 0.5:
            raise InvalidArgument("{eta} must be below 1/2 for the default {delta_x} (a "
                                  "little above the EoS minimum's, which exists for eta < "
                                  "1/2); give {delta_x}", "eta", "delta_x")
        delta_x = default_delta_x(eta, k)
    delta_x = validate.real("delta_x", delta_x, positive=True)
    return EnsembleSpec(dim=dim, eta=eta, samples=samples, seed=seed, delta_x=delta_x,
                        delta_y=0.5 / delta_x, k=k, kick_step=kick_step, rule=rule)


#: Per-sample result arrays, in file order, with their dtypes (the file's layout).
FIELDS: Mapping[str, np.dtype] = {name: np.dtype(v.dtype) for name, v in ENSEMBLE_FIELDS.items()}


def run_plane(x1: np.ndarray, x2: np.ndarray, y1: np.ndarray, y2: np.ndarray, eta: float,
              dim: int, rule: StopRule | None = None, *, kick_step: int | None = None,
              kick_factor: float = 1.0, backend: str = "cpu") -> dict[str, np.ndarray]:
    """GD from plane states (float64 arrays of one shape (n,)); the result arrays.

    Returns ``status`` (int8), ``steps`` (int32), ``period`` (int16) and
    ``norm2`` (``|x|^2 + |y|^2``), ``sharpness``, ``loss``, ``inner``
    (``x^T y``), float64, at the final state (NaN if diverged).
    ``backend="cuda"`` runs the same per-sample code on this machine's GPU
    (:mod:`eosfast.kernels.cuda_vector`), bit for bit.
    """
    rule = rule or StopRule()
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (x1, x2, y1, y2)]
    n = arrays[0].size
    out = {name: np.empty(n, dt) for name, dt in FIELDS.items() if name != "inner0"}
    args = (float(eta), -1 if kick_step is None else int(kick_step), float(kick_factor),
            int(dim), rule.steps, rule.tol, rule.escape, rule.max_period, rule.period_tol)
    if backend == "cuda":
        from .kernels.cuda_vector import run

        run(*arrays, *args, out)
        return out
    from .kernels.vector import ensemble_kernel

    ensemble_kernel(*arrays, *args, out["status"], out["steps"], out["period"],
                    out["sharpness"], out["loss"], out["norm2"], out["inner"])
    return out


def run_vectors(x0: np.ndarray, y0: np.ndarray, eta: float, rule: StopRule | None = None, *,
                kick_step: int | None = None, kick_factor: float = 1.0
                ) -> dict[str, np.ndarray]:
    """GD on the vector objective from explicit initial vectors (rows of shape (n, d)).

    Through the plane reduction (:func:`to_plane`): the cost does not depend on ``d``.
    """
    x0 = np.atleast_2d(np.asarray(x0, dtype=np.float64))
    return run_plane(*to_plane(x0, y0), eta, x0.shape[1], rule, kick_step=kick_step,
                     kick_factor=kick_factor)


def sharpness(x: np.ndarray, y: np.ndarray) -> float:
    """Top eigenvalue of the ``2d x 2d`` Hessian at ``(x, y)`` (1-D arrays of length d)."""
    from .kernels.vector import plane_sharpness

    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    y = np.asarray(y, dtype=np.float64).reshape(1, -1)
    out = np.empty(1)
    plane_sharpness(*to_plane(x, y), x.shape[1], out)
    return float(out[0])
