"""Jitted GD segments and the Lanczos sharpness (exact Hessian-vector products) in JAX."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .archs import make_problem
from .backend import jax_module


class Engine:
    """Jitted GD segments and Lanczos sharpness for one loss (one run at a time).

    Runs at different step sizes reuse the same compiled functions (``eta``
    is a traced argument). Batching runs with ``jax.vmap`` was measured and
    gave no speed-up on CPU for these small matrices, so runs go in sequence.
    """

    def __init__(self, loss: Callable, n: int, lanczos_iters: int, seed: int):
        jax = jax_module()
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
def engine_for(arch: str, seed: int, activation: str, n_examples: int, classes: tuple[int, int],
            factor: tuple[float, float], init: tuple[float, float], lanczos_iters: int):
    """``(problem, engine)`` for a set-up; cached so that repeated runs (several
    step sizes, fig1 then fig8, a test suite) compile once."""
    prob = make_problem(arch, seed, activation, n_examples, classes, factor, init)
    return prob, Engine(prob.make_loss(), prob.w0.size, lanczos_iters, seed)
