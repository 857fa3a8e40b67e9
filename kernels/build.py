"""Compile a kernel template against a model's map bundle.

A template is a factory ``template(key)`` returning a function that calls the
bundle's names (``advance``, ``loss``, ...) as globals. :func:`instantiate`
rebinds those globals to one model's compiled functions and compiles the
result with Numba. The factory's only argument, the model's cache ``key``,
is the function's one closure variable: Numba puts a hash of the closure into
a cached kernel's index key, so every model gets its own entry in the on-disk
cache of the one template, and a second process loads it instead of
compiling (numba's own re-validation covers the template's file; the key
carries :data:`~eosfast.kernels.maps.SOURCE_DIGEST` for the files it inlines).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any

import numba as nb


def instantiate(template: Callable[[str], Callable], key: str, namespace: Mapping[str, Any],
                **jit_options: Any) -> Any:
    """Compile ``template(key)`` with ``namespace`` bound as extra globals.

    Parameters
    ----------
    template : callable
        ``template(key) -> function``; the function must use ``key`` (so that
        it is a closure variable) and may call every name of ``namespace``.
    key : str
        Cache key of the model (with the kernels' source digest).
    namespace : mapping
        Name -> compiled function (Numba dispatchers) the function calls.
    **jit_options
        Passed to ``numba.njit``.

    Returns
    -------
    numba Dispatcher
    """
    return nb.njit(**jit_options)(bind(template, key, namespace))


def bind(template: Callable[[str], Callable], key: str, namespace: Mapping[str, Any]
         ) -> Callable:
    """The plain function ``template(key)`` with ``namespace`` bound as extra globals.

    What :func:`instantiate` compiles for the CPU; the CUDA target
    (:mod:`.cuda`) compiles the same function with ``numba.cuda.jit``.
    """
    f = template(key)
    globs = dict(f.__globals__)
    globs.update(namespace)
    fn = types.FunctionType(f.__code__, globs, f.__name__, f.__defaults__, f.__closure__)
    fn.__qualname__ = f.__qualname__
    fn.__module__ = f.__module__
    fn.__doc__ = f.__doc__
    return fn


class numba_threads:
    """Context manager: Numba's parallel loops use ``n`` threads inside (None: unchanged).

    The previous count is restored on exit, whatever happens.
    """

    def __init__(self, n: int | None):
        self.n = n
        self.old: int | None = None

    def __enter__(self) -> numba_threads:
        if self.n is not None:
            self.old = nb.get_num_threads()
            nb.set_num_threads(min(int(self.n), nb.config.NUMBA_NUM_THREADS))
        return self

    def __exit__(self, *exc) -> None:
        if self.old is not None:
            nb.set_num_threads(self.old)
