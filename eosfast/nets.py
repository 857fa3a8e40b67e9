"""Full-batch gradient descent on small networks: paper Fig. 1 and Section 6.

Zhu, Wang, Wang, Zhou, Ge (ICLR 2023) open with a comparison (their Fig. 1,
math.md s. 6): trained by full-batch GD at several step sizes ``eta`` from one
initialisation, a deep network and the 4-layer scalar network both end with
sharpness just below the stability threshold ``2/eta`` ("sharpness
adaptivity"), while a 2-layer linear network ends well below it (the paper's
claims; :data:`FIG1` notes what the default set-up here measures). Section 6
adds that late in training the deep network's trajectory lies close to a 2-D
subspace and follows a parabola there, as the scalar model's does.

This module runs that comparison in JAX (float64, CPU by default). JAX is an
optional dependency (``pip install 'eosfast[nets]'``); it is imported on the
first call, never by ``import eosfast``.

Architectures (:data:`ARCHS`)
-----------------------------
``mlp5``
    Five fully connected layers ``64 -> 50 -> 50 -> 50 -> 50 -> 1`` (four
    hidden layers of 50 units, each followed by ReLU or ELU, and a linear
    output), with biases; 10,951 weights. Initialisation: PyTorch's default
    for ``nn.Linear``, every weight and bias uniform on
    ``(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
``linear2``
    Two linear layers ``64 -> 10 -> 1`` without biases, ``f(x) = v^T W x``;
    650 weights. Initialisation "factor (4, 0.1)": each layer's LeCun-normal
    draw (standard normal over ``sqrt(fan_in)``) is multiplied by the
    layer's factor, so ``W ~ 4 N(0, 1/64)`` and ``v ~ 0.1 N(0, 1/10)``: a large
    first layer and a small second one.
``scalar4``
    The zhu4 model of :data:`eosfast.MODELS`, ``1/2 (1 - w1 w2 w3 w4)^2`` over
    its four weights, started from ``MODELS['zhu4'].weights(x0, y0)``.

Data (``mlp5`` and ``linear2``): :func:`digits_subset`, a balanced 2-class
subset of scikit-learn's 8x8 handwritten digits (shipped with the package,
so no download), pixels scaled to [0, 1] and centred on the subset's mean,
labels +1 / -1. Loss: ``L(w) = 1/(2n) sum_i (f(x_i; w) - y_i)^2`` (for
scalar4 the single "example" gives exactly zhu4's objective).

Sharpness: the largest eigenvalue of the Hessian of ``L`` over all weights,
from exact Hessian-vector products (forward-over-reverse, ``jax.jvp`` of
``jax.grad``) and a Lanczos iteration with full reorthogonalisation followed
by a Rayleigh-Ritz step; the Hessian is never formed. Each measurement is
warm-started from the previous top Ritz vector and reports its residual
``||H u - theta u||``, a bound on the distance from ``theta`` to the nearest
true eigenvalue (that this eigenvalue is the largest is what Lanczos gives in
practice, not a proof; the tests check it against dense Hessians).

File layout (HDF5): coordinates ``run`` (int64, 0..R-1) and ``step`` (int64,
the recorded steps, 0 and the last included); ``eta`` (run), ``loss``,
``sharpness``, ``sharpness_residual`` (run, step) float64, NaN after a
divergence; ``diverged`` (run) int8. Root attributes ``kind =
"eosfast.nets"``, ``arch``, ``activation``, ``steps``, ``every``, ``seed``,
``n_params``, ``eosfast_version``, ``created`` and ``params`` (JSON of every
option, the data set included).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import EosfastError
from .models import MODELS

#: Root attribute marking an eosfast nets file.
KIND = "eosfast.nets"

#: The architectures :func:`run_nets` knows.
ARCHS = ("mlp5", "linear2", "scalar4")

#: Hidden-layer activations of ``mlp5``.
ACTIVATIONS = ("relu", "elu")

#: The paper's Fig. 1 set-up, used by ``eosfast figure fig1`` and by
#: ``eosfast nets`` without ``--eta`` / ``--steps`` (seed 0, ELU, digits 0 vs 1,
#: n = 50). Step sizes are per architecture because the models' sharpness
#: scales differ. mlp5 trained with a small step ends at a sharpness of about 4,
#: so its edge-of-stability range is eta in [0.5, 0.8] (from 0.9 on, GD
#: diverges); measured final sharpness / (2/eta): 0.963, 1.013, 1.002, 0.982.
#: linear2 starts at sharpness ~10, so 2/eta is above it (eta = 0.1), at it
#: (0.2) and below it (0.25, 0.3); measured 0.618, 0.944, 0.862, 0.779: it does
#: not settle at a fixed fraction of 2/eta. zhu4 from (2.5, 0.35) is math.md
#: s. 3's case: 0.991, 0.993, 0.994.
FIG1: dict[str, dict] = {
    "mlp5": {"etas": (0.5, 0.6, 0.7, 0.8), "steps": 3000, "every": 20},
    "linear2": {"etas": (0.1, 0.2, 0.25, 0.3), "steps": 3000, "every": 20},
    "scalar4": {"etas": (1 / 4, 1 / 5, 1 / 6), "steps": 1000, "every": 10},
}

_DESCRIPTIONS = {
    "eta": "step size of each run",
    "loss": "1/(2n) sum (f - y)^2 at the recorded step (NaN after divergence)",
    "sharpness": "top Hessian eigenvalue over all weights (Lanczos on exact HVPs)",
    "sharpness_residual": "||H u - theta u|| of the top Ritz pair: error bound on sharpness",
    "diverged": "1 if the run's loss became non-finite or exceeded the escape value",
}

_MAX_STEPS = 10_000_000


# --------------------------------------------------------------------------- jax


def _jax():
    """Import JAX on first use, with float64 enabled; EosfastError if it is missing.

    ``jax_enable_x64`` is a process-wide JAX setting: after the first call,
    other JAX code in the same process also defaults to float64.
    """
    try:
        import jax
    except ImportError:
        raise EosfastError("eosfast nets needs JAX: pip install 'eosfast[nets]'") from None
    # float64 throughout: sharpness is compared with 2/eta to a fraction of a
    # percent, and float32 HVPs of an 11k-weight network are not that exact.
    jax.config.update("jax_enable_x64", True)
    return jax


# -------------------------------------------------------------------------- data


@lru_cache(maxsize=1)
def _load_digits():
    """scikit-learn's digits (read once per process: it parses a CSV each time)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise EosfastError("the digits data need scikit-learn: "
                           "pip install 'eosfast[nets]'") from None
    return load_digits()


def digits_subset(n_examples: int = 50, classes: tuple[int, int] = (0, 1)
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A balanced 2-class subset of scikit-learn's handwritten digits.

    The first ``ceil(n/2)`` images of ``classes[0]`` and the first
    ``floor(n/2)`` of ``classes[1]``, in the data set's order.

    Parameters
    ----------
    n_examples : int
        ``n``, at least 2 and at most 2 x 174.
    classes : (int, int)
        Two distinct digits 0..9; the first gets label +1, the second -1.

    Returns
    -------
    x : ndarray, shape (n, 64), float64
        Pixels divided by 16 (so in [0, 1]), minus the subset's mean image.
    y : ndarray, shape (n,), float64
        Labels +1 / -1.
    """
    c0, c1 = (int(c) for c in classes)
    if c0 == c1 or not (0 <= c0 <= 9 and 0 <= c1 <= 9):
        raise EosfastError(f"classes must be two distinct digits 0..9 (got {classes!r})")
    digits = _load_digits()
    idx0 = np.flatnonzero(digits.target == c0)
    idx1 = np.flatnonzero(digits.target == c1)
    n0, n1 = (n_examples + 1) // 2, n_examples // 2
    if n_examples < 2 or n0 > idx0.size or n1 > idx1.size:
        most = 2 * min(idx0.size, idx1.size)
        raise EosfastError(f"n_examples must be in [2, {most}] for classes {c0}, {c1} "
                           f"(got {n_examples})")
    x = np.concatenate([digits.data[idx0[:n0]], digits.data[idx1[:n1]]]) / 16.0
    # centring is the usual preprocessing: uncentred, the non-negative images
    # share one dominant "mean digit" direction
    x = x - x.mean(axis=0)
    y = np.concatenate([np.ones(n0), -np.ones(n1)])
    return x.astype(np.float64), y


# ------------------------------------------------------------------ architectures


@dataclass
class _Problem:
    """An architecture instantiated: initial weights and a loss builder."""

    w0: np.ndarray                      # (n_params,) float64
    make_loss: Callable[[], Callable]   # () -> jax-traceable loss(w_flat) -> scalar
    info: dict


def _layers(sizes: Sequence[int]) -> list[tuple[int, int]]:
    return list(zip(sizes[:-1], sizes[1:], strict=True))


def _unflatten(w, sizes: Sequence[int], bias: bool):
    """Slice a flat weight vector into ``[(W, b), ...]`` (b is None without bias)."""
    out, k = [], 0
    for fan_in, fan_out in _layers(sizes):
        W = w[k:k + fan_in * fan_out].reshape(fan_in, fan_out)
        k += fan_in * fan_out
        b = None
        if bias:
            b = w[k:k + fan_out]
            k += fan_out
        out.append((W, b))
    return out


def _mse_loss(sizes, bias, act, x, y):
    """Loss builder for a fully connected network on data ``(x, y)``."""

    def make():
        jax = _jax()
        jnp = jax.numpy
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        phi = {"relu": jax.nn.relu, "elu": jax.nn.elu, None: None}[act]

        def loss(w):
            h = xj
            layers = _unflatten(w, sizes, bias)
            for i, (W, b) in enumerate(layers):
                h = h @ W if b is None else h @ W + b
                if phi is not None and i < len(layers) - 1:
                    h = phi(h)
            return 0.5 * jnp.mean((h[:, 0] - yj) ** 2)

        return loss

    return make


def _problem(arch: str, seed: int, activation: str, n_examples: int,
             classes: tuple[int, int], factor: tuple[float, float],
             init: tuple[float, float]) -> _Problem:
    rng = np.random.default_rng(seed)
    if arch == "scalar4":
        model = MODELS["zhu4"]
        w0 = model.weights(*init)

        def make():
            jnp = _jax().numpy
            return lambda w: 0.5 * model.scale * (1.0 - jnp.prod(w)) ** 2

        return _Problem(w0, make, {"model": "zhu4", "init": list(init)})
    x, y = digits_subset(n_examples, classes)
    data = {"data": "sklearn load_digits", "classes": list(classes), "n_examples": n_examples,
            "preprocess": "pixels / 16 minus the subset's mean image; labels +1 / -1"}
    if arch == "mlp5":
        sizes = (x.shape[1], 50, 50, 50, 50, 1)
        parts = []
        for fan_in, fan_out in _layers(sizes):
            bound = 1.0 / math.sqrt(fan_in)
            parts.append(rng.uniform(-bound, bound, fan_in * fan_out))
            parts.append(rng.uniform(-bound, bound, fan_out))
        w0 = np.concatenate(parts)
        info = {**data, "sizes": list(sizes), "activation": activation,
                "init": "uniform(+-1/sqrt(fan_in)) weights and biases (PyTorch default)"}
        return _Problem(w0, _mse_loss(sizes, True, activation, x, y), info)
    sizes = (x.shape[1], 10, 1)
    parts = [f * rng.standard_normal(fan_in * fan_out) / math.sqrt(fan_in)
             for f, (fan_in, fan_out) in zip(factor, _layers(sizes), strict=True)]
    info = {**data, "sizes": list(sizes), "factor": list(factor),
            "init": "layer l ~ factor[l] * N(0, 1/fan_in), no biases"}
    return _Problem(np.concatenate(parts), _mse_loss(sizes, False, None, x, y), info)


# ------------------------------------------------------------------------ engine


class _Engine:
    """Jitted GD segments and Lanczos sharpness for one loss (one run at a time).

    Runs at different step sizes reuse the same compiled functions (``eta``
    is a traced argument). Batching runs with ``jax.vmap`` was measured and
    gave no speed-up on CPU for these small matrices, so runs go in sequence.
    """

    def __init__(self, loss: Callable, n: int, lanczos_iters: int, seed: int):
        jax = _jax()
        jnp = jax.numpy
        self.jax, self.jnp, self.n = jax, jnp, n
        self.m = max(1, min(int(lanczos_iters), n))
        # fixed random vectors: restarts after a Lanczos breakdown, and a small
        # admixture to every warm start so it is never orthogonal to the top
        # eigenvector (deterministic: same seed, same numbers)
        z = np.random.default_rng([seed, 7]).standard_normal((self.m, n))
        self.Z = jnp.asarray(z / np.linalg.norm(z, axis=1, keepdims=True))
        self.loss = loss
        grad = jax.grad(loss)
        self.grad = grad

        def hvp(w, v):
            # forward-over-reverse: one exact H v for about 3 gradients' cost
            return jax.jvp(grad, (w,), (v,))[1]

        self.hvp = hvp
        self._collect: dict[int, Callable] = {}

        def advance(w, eta, v, Z, nsteps):
            # the step count is traced (a while loop), so one compilation
            # serves every segment length, the remainder and nsteps = 0
            w = jax.lax.fori_loop(0, nsteps, lambda _, w: w - eta * grad(w), w)
            return (w, *self._measure(w, v, Z))

        self.advance = jax.jit(advance)

    def top_eig(self, w, v0, Z):
        """Top Hessian eigenpair at ``w`` by Lanczos + Rayleigh-Ritz.

        Parameters
        ----------
        w, v0 : array, shape (n,), float64
            Weights, and a start vector (need not be normalised).
        Z : array, shape (m, n), float64
            Unit random vectors for restarts.

        Returns
        -------
        theta : float64 scalar
            Largest Ritz value of ``H`` on the Krylov space.
        u : array, shape (n,)
            Its unit Ritz vector.
        residual : float64 scalar
            ``||H u - theta u||``: some eigenvalue of ``H`` lies within it of
            ``theta``.
        """
        jax, jnp, m = self.jax, self.jnp, self.m
        V = jnp.zeros((m, self.n))
        HV = jnp.zeros((m, self.n))
        q = v0 / jnp.linalg.norm(v0)

        def body(j, carry):
            V, HV, q = carry
            hq = self.hvp(w, q)
            V = V.at[j].set(q)
            HV = HV.at[j].set(hq)
            # full reorthogonalisation, twice ("twice is enough"): m is small,
            # and it keeps V orthonormal so the Rayleigh-Ritz step is exact
            r = hq - V.T @ (V @ hq)
            r = r - V.T @ (V @ r)
            nr = jnp.linalg.norm(r)

            def restart(_):
                # breakdown (an invariant Krylov space, e.g. a dead network with
                # H = 0 or a 4-weight model): go on with a random vector
                # orthogonal to V; lax.cond so the usual case pays nothing
                z = Z[j] - V.T @ (V @ Z[j])
                z = z - V.T @ (V @ z)
                return z / (jnp.linalg.norm(z) + 1e-300)

            ok = nr > 1e-10 * (jnp.linalg.norm(hq) + 1e-300)
            q = jax.lax.cond(ok, lambda _: r / nr, restart, None)
            return V, HV, q

        V, HV, _ = jax.lax.fori_loop(0, m, body, (V, HV, q))
        T = V @ HV.T
        T = 0.5 * (T + T.T)
        evals, evecs = jnp.linalg.eigh(T)
        y = evecs[:, -1]
        u = y @ V
        res = jnp.linalg.norm(y @ HV - evals[-1] * u)
        return evals[-1], u, res

    def _measure(self, w, v, Z):
        theta, u, res = self.top_eig(w, v + 1e-2 * Z[0], Z)
        return self.loss(w), theta, res, u

    def collect(self, length: int) -> Callable:
        """Jitted ``(w, eta, v, Z) -> (w, loss, sharp, res, u, iterates)``.

        As :attr:`advance` with ``length`` steps, and also returns the iterate
        after each step, shape (length, n) (``length`` is static: it sets
        the output's shape).
        """
        if length not in self._collect:
            jax = self.jax

            def seg(w, eta, v, Z):
                def step(w, _):
                    w = w - eta * self.grad(w)
                    return w, w

                w, ws = jax.lax.scan(step, w, None, length=length)
                return (w, *self._measure(w, v, Z), ws)

            self._collect[length] = jax.jit(seg)
        return self._collect[length]


@lru_cache(maxsize=4)
def _cached(arch: str, seed: int, activation: str, n_examples: int, classes: tuple[int, int],
            factor: tuple[float, float], init: tuple[float, float], lanczos_iters: int):
    """``(problem, engine)`` for a set-up; cached so that repeated runs (several
    step sizes, fig1 then fig8, a test suite) compile once."""
    prob = _problem(arch, seed, activation, n_examples, classes, factor, init)
    return prob, _Engine(prob.make_loss(), prob.w0.size, lanczos_iters, seed)


# ------------------------------------------------------------------------ result


@dataclass
class NetsResult:
    """Loss and sharpness of GD runs of one network at several step sizes.

    Attributes
    ----------
    arch : str
        ``mlp5``, ``linear2`` or ``scalar4``.
    eta : ndarray, shape (R,), float64
        Step size of each run (all runs start from the same weights).
    step : ndarray, shape (K,), int64
        Recorded steps: ``0, every, 2 every, ...`` and the last step.
    loss, sharpness, sharpness_residual : ndarray, shape (R, K), float64
        Loss, top Hessian eigenvalue and its Lanczos residual bound at each
        recorded step; NaN after a divergence.
    diverged : ndarray, shape (R,), bool
        Whether the loss became non-finite or exceeded ``escape``.
    params : dict
        Every option of the run, the data set and initialisation included.
    seconds : float
        Wall time of the computation (compilation included).
    """

    arch: str
    eta: np.ndarray
    step: np.ndarray
    loss: np.ndarray
    sharpness: np.ndarray
    sharpness_residual: np.ndarray
    diverged: np.ndarray
    params: dict = field(default_factory=dict)
    seconds: float = float("nan")

    @property
    def threshold(self) -> np.ndarray:
        """Stability thresholds ``2/eta``, shape (R,)."""
        return 2.0 / self.eta

    @property
    def final_ratio(self) -> np.ndarray:
        """Final sharpness over ``2/eta``, shape (R,) (NaN for a diverged run)."""
        return self.sharpness[:, -1] * self.eta / 2.0

    @property
    def loss_drop(self) -> np.ndarray:
        """Final loss over initial loss, shape (R,)."""
        return self.loss[:, -1] / self.loss[:, 0]

    def summary(self) -> str:
        """One line: architecture, runs, and final sharpness / (2/eta) per step size."""
        parts = ", ".join(f"eta={e:.4g}: S/(2/eta)={r:.3f} L/L0={d:.2g}"
                          for e, r, d in zip(self.eta, self.final_ratio, self.loss_drop,
                                             strict=True))
        return (f"{self.arch}: {self.eta.size} runs x {int(self.step[-1])} steps "
                f"in {self.seconds:.1f} s; {parts}")


def _check_int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not lo <= int(value) <= hi:
        raise EosfastError(f"{name} must be an integer in [{lo}, {hi}] (got {value!r})")
    return int(value)


def _check_etas(etas) -> np.ndarray:
    try:
        eta = np.atleast_1d(np.asarray(etas, dtype=np.float64))
    except (TypeError, ValueError):
        raise EosfastError(f"step sizes must be numbers (got {etas!r})") from None
    if eta.ndim != 1 or eta.size == 0 or not np.all(np.isfinite(eta)) or np.any(eta <= 0):
        raise EosfastError(f"step sizes must be positive finite numbers (got {etas!r})")
    return eta


def _run(engine: _Engine, w0: np.ndarray, eta: np.ndarray, steps: int, every: int,
         escape: float, collect_last: int = 0, progress=None):
    """Drive the engine: record every ``every`` steps; optionally collect late iterates.

    Returns ``(step, loss, sharp, res, diverged, w_final, u_final, iterates)``
    with ``w_final, u_final`` shaped (R, n) and ``iterates`` (R, collect_last + 1, n),
    the states at steps ``steps - collect_last .. steps`` (None without
    ``collect_last``).
    """
    jnp = engine.jnp
    R, n = eta.size, w0.size
    lengths = [every] * (steps // every) + ([steps % every] if steps % every else [])
    step = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    K = step.size
    loss = np.full((R, K), np.nan)
    sharp = np.full((R, K), np.nan)
    res = np.full((R, K), np.nan)
    diverged = np.zeros(R, dtype=bool)
    w_final = np.full((R, n), np.nan)
    u_final = np.full((R, n), np.nan)
    iterates = np.full((R, collect_last + 1, n), np.nan) if collect_last else None
    start = steps - collect_last
    w0j = jnp.asarray(w0)
    # the initial point is shared by every run: measure it once
    zero = engine.jnp.float64(0.0)
    _, l0, s0, r0, u0 = (np.asarray(a) for a in engine.advance(w0j, zero, engine.Z[0],
                                                               engine.Z, 0))
    loss[:, 0], sharp[:, 0], res[:, 0] = l0, s0, r0
    for i in range(R):
        w, v, e = w0j, jnp.asarray(u0), jnp.float64(eta[i])
        for k, length in enumerate(lengths, start=1):
            collect = bool(collect_last) and step[k] > start
            if collect and step[k - 1] >= start:
                iterates[i, step[k - 1] - start] = np.asarray(w)
            if collect:
                out = engine.collect(length)(w, e, v, engine.Z)
            else:
                out = engine.advance(w, e, v, engine.Z, length)
            w, lk, sk, rk, v = out[:5]
            lk = float(lk)
            if collect:
                ws = np.asarray(out[5])
                first = max(start, int(step[k - 1]) + 1)
                iterates[i, first - start:step[k] - start + 1] = ws[first - step[k - 1] - 1:]
            if not (math.isfinite(lk) and lk <= escape):
                diverged[i] = True
                break
            loss[i, k], sharp[i, k], res[i, k] = lk, float(sk), float(rk)
            if progress is not None:
                progress(i * steps + int(step[k]), R * steps)
        else:
            w_final[i], u_final[i] = np.asarray(w), np.asarray(v)
    return step, loss, sharp, res, diverged, w_final, u_final, iterates


def _setup(arch, etas, steps, every, seed, activation, n_examples, classes, factor, init,
           lanczos_iters, escape):
    if arch not in ARCHS:
        raise EosfastError(f"unknown arch {arch!r} (known: {', '.join(ARCHS)})")
    if activation not in ACTIVATIONS:
        raise EosfastError(f"unknown activation {activation!r} "
                           f"(known: {', '.join(ACTIVATIONS)})")
    d = FIG1[arch]
    eta = _check_etas(d["etas"] if etas is None else etas)
    steps = _check_int("steps", d["steps"] if steps is None else steps, 1, _MAX_STEPS)
    every = _check_int("every", d["every"] if every is None else every, 1, _MAX_STEPS)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    n_examples = _check_int("n_examples", n_examples, 2, 10_000)
    lanczos_iters = _check_int("lanczos_iters", lanczos_iters, 1, 1000)
    try:
        factor = tuple(float(f) for f in factor)
        init = tuple(float(v) for v in init)
        classes = tuple(int(c) for c in classes)
        escape = float(escape)
    except (TypeError, ValueError):
        raise EosfastError("factor, init, classes and escape must be numbers") from None
    if len(factor) != 2 or len(init) != 2 or len(classes) != 2:
        raise EosfastError("factor, init and classes each take two values")
    if not (all(map(math.isfinite, factor + init)) and escape > 0):
        raise EosfastError("factor and init must be finite and escape positive")
    prob, engine = _cached(arch, seed, activation, n_examples, classes, factor, init,
                           lanczos_iters)
    params = {"arch": arch, "eta": eta.tolist(), "steps": steps, "every": every,
              "seed": seed, "activation": activation if arch == "mlp5" else None,
              "lanczos_iters": lanczos_iters, "escape": escape,
              "n_params": int(prob.w0.size), **copy.deepcopy(prob.info)}
    return prob, engine, eta, steps, every, params


def run_nets(arch: str, etas: Sequence[float] | None = None, steps: int | None = None,
             every: int | None = None, seed: int = 0, *, activation: str = "elu",
             n_examples: int = 50, classes: tuple[int, int] = (0, 1),
             factor: tuple[float, float] = (4.0, 0.1), init: tuple[float, float] = (2.5, 0.35),
             lanczos_iters: int = 20, escape: float = 1e6,
             out: str | os.PathLike | None = None, force: bool = False,
             progress: Callable[[int, int], None] | None = None) -> NetsResult:
    """Full-batch GD on a small network at several step sizes from one initialisation.

    Parameters
    ----------
    arch : str
        ``mlp5``, ``linear2`` or ``scalar4`` (see the module docstring).
    etas : sequence of float, optional
        Step sizes; default ``FIG1[arch]["etas"]`` (the paper's Fig. 1 set-up).
    steps : int, optional
        GD steps per run; default ``FIG1[arch]["steps"]``.
    every : int, optional
        Record loss and sharpness every this many steps (and at 0 and at the
        last step); default ``FIG1[arch]["every"]``.
    seed : int
        Seeds the initial weights (mlp5, linear2) and the Lanczos start vectors.
    activation : {"relu", "elu"}
        Hidden activation of mlp5 (the paper's submission used ReLU, its final
        version ELU).
    n_examples, classes :
        The data: :func:`digits_subset` ``(n_examples, classes)``.
    factor : (float, float)
        linear2's initialisation factors of the first and second layer.
    init : (float, float)
        scalar4's ``(x0, y0)``: weights ``(x0, y0, x0, y0)``.
    lanczos_iters : int
        Lanczos steps (Hessian-vector products) per sharpness measurement.
    escape : float
        A run diverged once its loss exceeds this or is not finite.
    out : path-like, optional
        Also write the HDF5 file of the module docstring (via a temporary file
        and a rename); an existing file is refused unless ``force``.
    progress : callable, optional
        Called as ``progress(steps_done, steps)`` after each recorded step.

    Returns
    -------
    NetsResult

    Examples
    --------
    >>> r = run_nets("scalar4", etas=[0.2], steps=2000)
    >>> bool(0.99 < r.final_ratio[0] < 1.0)
    True
    """
    if out is not None:
        from .trajectory import check_out

        check_out(out, force)
    t0 = time.perf_counter()
    prob, engine, eta, steps, every, params = _setup(
        arch, etas, steps, every, seed, activation, n_examples, classes, factor, init,
        lanczos_iters, escape)
    step, loss, sharp, res, div, _, _, _ = _run(engine, prob.w0, eta, steps, every,
                                                params["escape"], progress=progress)
    result = NetsResult(arch, eta, step, loss, sharp, res, div, params,
                        time.perf_counter() - t0)
    if out is not None:
        write_nets(result, out, force=force)
    return result


def write_nets(result: NetsResult, path: str | os.PathLike, force: bool = False) -> Path:
    """Write ``result`` to ``path`` (HDF5, layout in the module docstring)."""
    from .trajectory import write_h5

    dims = ("run", "step")
    arrays = {
        "eta": (result.eta, ("run",), _DESCRIPTIONS["eta"]),
        "loss": (result.loss, dims, _DESCRIPTIONS["loss"]),
        "sharpness": (result.sharpness, dims, _DESCRIPTIONS["sharpness"]),
        "sharpness_residual": (result.sharpness_residual, dims,
                               _DESCRIPTIONS["sharpness_residual"]),
        "diverged": (result.diverged.astype(np.int8), ("run",), _DESCRIPTIONS["diverged"]),
    }
    p = result.params
    attrs = {"arch": result.arch, "activation": str(p.get("activation") or ""),
             "steps": int(p["steps"]), "every": int(p["every"]), "seed": int(p["seed"]),
             "n_params": int(p["n_params"]), "seconds": float(result.seconds), "params": p}
    coords = {"run": np.arange(result.eta.size, dtype=np.int64),
              "step": result.step.astype(np.int64)}
    return write_h5(path, KIND, coords, arrays, attrs, force=force)


def read_nets(path: str | os.PathLike) -> NetsResult:
    """Load a file written by :func:`run_nets` (or ``eosfast nets``)."""
    import json

    from .trajectory import open_h5

    with open_h5(path, KIND) as f:
        a = f.attrs
        return NetsResult(str(a["arch"]), f["eta"][:], f["step"][:], f["loss"][:],
                          f["sharpness"][:], f["sharpness_residual"][:],
                          f["diverged"][:].astype(bool), json.loads(a["params"]),
                          float(a.get("seconds", np.nan)))


# ------------------------------------------------------------- Section 6: PCA


@dataclass
class PCAResult:
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
    prob, engine, etas, steps, every, params = _setup(arch, [eta], steps, every, seed, **opts)
    window = _check_int("window", window, 3, steps)
    step, loss, sharp, res, div, _, u, its = _run(engine, prob.w0, etas, steps, every,
                                                  params["escape"], collect_last=window)
    if div[0]:
        raise EosfastError(f"{arch} at eta={eta} diverged; nothing to analyse")
    params["window"] = window
    run = NetsResult(arch, etas, step, loss, sharp, res, div, params, time.perf_counter() - t0)
    pca = pca_parabola(its[0], np.arange(steps - window, steps + 1), k=k, top_vector=u[0])
    pca.run = run
    return pca


__all__ = ["ARCHS", "ACTIVATIONS", "FIG1", "FIG8", "NetsResult", "PCAResult", "digits_subset",
           "late_pca", "pca_parabola", "read_nets", "run_nets", "write_nets"]
