"""JAX, imported on first use with float64 enabled (an optional dependency)."""

from __future__ import annotations

from ..errors import EosfastError


def jax_module():
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
