"""Checks that a lower layer needs but cannot make itself, installed by the package root.

The store (:mod:`eosfast.store`) reads files, which are untrusted input: a
file's ``model`` attribute must name a registry model or be an expression
the whitelist accepts. Judging that needs :mod:`eosfast.models`, which sits
above the store (import-linter contracts in ``pyproject.toml``), so the
store calls :func:`check_model_attrs` here and ``eosfast/__init__.py``, which
runs before any submodule can, installs the real check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``model_check(model, model_params)``: the model a file's attributes name,
#: rebuilt; raises :class:`~eosfast.errors.EosfastError` when they are refused.
model_check: Callable[[Any, Any], object] | None = None


def check_model_attrs(model: Any, params: Any) -> object:
    """Run the installed model check (refuse to read anything without one)."""
    if model_check is None:  # pragma: no cover - the package root installs it
        raise RuntimeError("eosfast's model check is not installed: import eosfast first")
    return model_check(model, params)
