"""The map bundle of an expression model: generated once, then loaded from the cache.

:func:`load_maps` returns the :class:`~eosfast.kernels.maps.Maps` of GD on a
loss ``L(x, y)``. The bundle's functions are Python source generated from the
symbolic gradient and Hessian (:mod:`eosfast.kernels.codegen`) and written to
a real file in the cache folder (:func:`eosfast.store.cache.cache_dir`,
subfolder ``expressions``), named by a digest of everything that decides
the code: the canonical expression, the parameters, the eosfast version,
the kernels' source digest and the generator's version. The bundle's key is
that digest too, so the compiled kernels (Numba's on-disk cache, keyed by the
bundle key) are found again by every later process: a second run of the
same expression neither runs sympy nor compiles anything.

A cache file starts with its key and ends with a SHA-256 of its body; a file
that does not check out (truncated, edited) is generated again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

from ._version import __version__
from .errors import EosfastError
from .store.cache import cache_dir, write_text

#: Subfolder of the cache folder holding generated bundles.
SUBDIR = "expressions"

_LOADED: dict[str, object] = {}


def bundle_key(expression: str, params: tuple[tuple[str, float], ...]) -> str:
    """The digest naming an expression's generated code and compiled kernels."""
    from .kernels.codegen import CODEGEN_VERSION
    from .kernels.maps import SOURCE_DIGEST

    blob = json.dumps([expression, [[k, repr(float(v))] for k, v in params], __version__,
                       SOURCE_DIGEST, CODEGEN_VERSION])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _first_line(key: str) -> str:
    return f"# eosfast generated map bundle {key}: do not edit (delete to regenerate)"


def _checksum_line(body: str) -> str:
    return f"# sha256 {hashlib.sha256(body.encode()).hexdigest()}"


def _valid(text: str, key: str) -> bool:
    body, _, last = text.rstrip("\n").rpartition("\n")
    return text.startswith(_first_line(key) + "\n") and last == _checksum_line(body + "\n")


def generate(expression: str, params: tuple[tuple[str, float], ...], key: str) -> str:
    """The bundle's source (sympy's derivatives, CSE, the code writer)."""
    from . import expression as ex
    from .kernels.codegen import CodegenError, bundle_source

    tree = ex.parse(expression, [k for k, _ in params])
    try:
        expr, (x, y) = ex.to_sympy(tree, dict(params))
        header = "\n".join([
            _first_line(key),
            f"# L(x, y) = {expression}",
            f"# parameters: {json.dumps(dict(params), sort_keys=True)}",
            f"# eosfast {__version__}"])
        body = bundle_source(expr, x, y, header)
    except (ex.ExpressionError, CodegenError) as exc:
        raise ex.invalid(str(exc)) from None
    body = body.rstrip("\n") + "\n"
    return body + _checksum_line(body) + "\n"


def source_path(expression: str, params: tuple[tuple[str, float], ...]) -> Path:
    """Where the bundle of this expression lives in the cache (maybe not yet)."""
    return cache_dir(SUBDIR) / f"loss_{bundle_key(expression, params)}.py"


def load_maps(expression: str, params: tuple[tuple[str, float], ...] = ()):
    """The map bundle of GD on ``expression`` with ``params`` (generated or from the cache).

    Parameters
    ----------
    expression : str
        A canonical expression (:func:`eosfast.expression.canonical`).
    params : tuple of (str, float)
        Its parameter values, sorted by name.

    Returns
    -------
    eosfast.kernels.maps.Maps
    """
    from .kernels.maps import NAMES, Maps

    key = bundle_key(expression, params)
    module = _LOADED.get(key)
    if module is None:
        path = cache_dir(SUBDIR) / f"loss_{key}.py"
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            text = ""
        if not _valid(text, key):
            write_text(path, generate(expression, params, key))
        module = _import(path, f"eosfast_loss_{key}")
        _LOADED[key] = module
    functions = {name: getattr(module, name) for name in NAMES}
    return Maps(key=f"expr:{key}", functions=functions)


def _import(path: Path, name: str):
    """Import the generated file as module ``name`` (a real file: Numba caches by it)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover
        raise EosfastError(f"cannot load the generated code {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise EosfastError(f"the generated code {path} does not load ({exc}); delete it "
                           "to generate it again") from None
    return module
