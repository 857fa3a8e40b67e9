"""The models: the paper's coupled networks, the literature's losses, any expression.

Two kinds of :class:`Model`, one engine. Each has a map bundle
(:mod:`eosfast.kernels.maps`) that every kernel template compiles against:

- :class:`NetworkModel`: a coupled scalar network (paper s. 1, 4; math.md
  s. 1): ``p`` weights equal to ``x``, ``q`` equal to ``y``, objective
  ``s/2 (1 - x^p y^q)^2``, with its hand-written map
  (:func:`eosfast.kernels.maps.coupled`). Converged means ``|1 - P| < tol``.
- :class:`ExpressionModel`: plain GD on a loss ``L(x, y)`` written as an
  expression (:mod:`eosfast.expression`), with a map generated from its
  symbolic derivatives (:mod:`eosfast.kernels.codegen`) and cached on disk.
  Converged means ``max(|dL/dx|, |dL/dy|) < tol`` at a point whose Hessian
  has no eigenvalue below ``-tol``; another critical point (a saddle, a
  maximum) is a fixed point that is not a minimum: status periodic, period 1.
  Sharpness is the top eigenvalue of the 2 x 2 Hessian of ``L``.

:data:`MODELS` is the registry, by name: the networks (:data:`NETWORKS`) and
the literature's expressions (:mod:`eosfast.registry`). :func:`get_model`
returns a registry entry for a name and parses anything else as an
expression. A model is identified, in files and between processes, by its
:class:`ModelSpec` (a name or canonical expression, and parameters): files
store it as the root attributes ``model`` and ``model_params`` (JSON), and a
model pickles as its spec, rebuilt (once per process) on the other side.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np

from . import expression as ex
from .errors import InvalidArgument

#: Source of the paper's own models.
PAPER = ("Zhu, Wang, Wang, Zhou & Ge 2023, Understanding edge-of-stability training "
         "dynamics with a minimalist example, ICLR 2023, arXiv 2210.03294")


@dataclass(frozen=True)
class ModelSpec:
    """What identifies a model: small, hashable, picklable.

    Attributes
    ----------
    model : str
        A registry name, or an expression in canonical form.
    params : tuple of (str, float)
        Parameters, sorted by name (empty for the networks).
    """

    model: str
    params: tuple[tuple[str, float], ...] = ()

    def param_dict(self) -> dict[str, float]:
        """The parameters as a dict (what files store as JSON)."""
        return dict(self.params)


class Model:
    """A model GD runs on; see :class:`NetworkModel` and :class:`ExpressionModel`.

    Every model has ``name`` (for people), ``formula``, ``source``, ``spec``
    (:class:`ModelSpec`, for files and other processes), ``maps`` (its map
    bundle) and ``kernels`` (compiled on first use, then cached).
    """

    name: str
    formula: str
    source: str

    #: ``"network"`` or ``"expression"``.
    kind = "model"

    #: Whether the map has a network output ``P`` (the orbit-diagram observable).
    has_product = True

    @property
    def spec(self) -> ModelSpec:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def params(self) -> dict[str, float]:
        """The model's parameters (empty for the networks)."""
        return self.spec.param_dict()

    @property
    def depth(self) -> int:
        """Number of weights ``w`` a point stands for (2 for an expression)."""
        return 2

    def weights(self, x: float, y: float) -> np.ndarray:
        """The weights of the point ``(x, y)``, shape (depth,), float64."""
        return np.array([x, y], dtype=np.float64)

    @cached_property
    def kernels(self):
        """The compiled kernels of this model under plain GD, each built on first use."""
        from .kernels.cpu import ModelKernels

        return ModelKernels(self.maps)

    def kernels_for(self, optimizer=None, scheme: tuple[int, bool] | None = None):
        """The compiled kernels of this model under ``optimizer`` (:mod:`eosfast.optimizer`).

        ``scheme = (code, layered)`` names the kernels directly (a plane over
        ``beta`` or a layer's step size: :meth:`eosfast.axes.Plane.scheme`).
        One set per optimizer code and layering, built on first use (then
        cached); plain GD's is :attr:`kernels`.
        """
        from .kernels.cpu import ModelKernels

        if scheme is None:
            scheme = (0, False) if optimizer is None else (optimizer.code, optimizer.layered)
        if scheme == (0, False):
            return self.kernels
        key = (int(scheme[0]), bool(scheme[1]))
        cache = self.__dict__.setdefault("_optimizer_kernels", {})
        if key not in cache:
            cache[key] = ModelKernels(self.maps, *key)
        return cache[key]

    @classmethod
    def from_expression(cls, expr: str, params: Mapping[str, float] | None = None,
                        name: str | None = None) -> ExpressionModel:
        """A model of plain GD on the loss ``expr``, an expression in ``x`` and ``y``.

        Parameters
        ----------
        expr : str
            ``L(x, y)``: numbers, ``x``, ``y``, the parameters, ``+ - * / **``
            and the functions of :data:`eosfast.expression.FUNCTIONS`
            (parsed by a whitelist, never evaluated).
        params : mapping of str -> float, optional
            Parameter values, substituted as numbers.
        name : str, optional
            A label for plots and summaries (default: the expression).

        Examples
        --------
        >>> import eosfast
        >>> m = eosfast.Model.from_expression("(x*y - t)**2/2", {"t": 2.0})
        >>> m.spec.model, m.params
        ('(x*y - t)**2/2', {'t': 2.0})
        """
        _, canonical, pairs = ex.read(expr, params)
        return ExpressionModel(name=name or canonical, expression=canonical, values=pairs,
                               formula=canonical)

    def describe(self) -> str:
        """A few lines for ``eosfast models``: name, formula, source."""
        lines = [f"{self.name}: {self.formula}"]
        if getattr(self, "reduced", ""):
            lines.append(f"    network GD on its {self.depth} weights; in (x, y) the same map "
                         f"as plain GD on L(x, y) = {self.reduced}")
        elif isinstance(self, NetworkModel):
            lines.append(f"    network GD on its {self.depth} weights (in (x, y) not plain "
                         "GD on one loss: the two variables' steps carry different factors)")
        if getattr(self, "expression", None) and self.expression != self.formula:
            lines.append(f"    L(x, y) = {self.expression}"
                         + (f" with {_params_text(self.params)}" if self.params else ""))
        if self.source:
            lines.append(f"    source: {self.source}")
        fact = getattr(self, "fact", "")
        if fact:
            lines.append(f"    checked fact: {fact}")
        checked = getattr(self, "checked", "")
        if checked:
            lines.append(f"    confirmed: {checked}")
        return "\n".join(lines)

    def __reduce__(self):
        # a model travels as its spec and is rebuilt (and cached) on the other side
        if self.spec.model in MODELS or isinstance(self, ExpressionModel):
            return (_from_spec, (self.spec,))
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))


def _from_spec(spec: ModelSpec) -> Model:
    return get_model(spec)


def _params_text(params: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in params.items())


@dataclass(frozen=True)
class NetworkModel(Model):
    """A coupled scalar network.

    Attributes
    ----------
    name : str
        Registry key (``zhu4``, ``deg3``, ``deg2``, ...).
    p, q : int
        How many of the ``k = p + q`` weights are coupled to ``x`` and to ``y``.
        The initial weights are ``(x0,)*p + (y0,)*q`` (for zhu4 the paper's
        order ``(x0, y0, x0, y0)`` is a permutation of that: same dynamics).
    scale : float
        ``s`` in the objective ``s/2 (1 - P)^2``; 2 for the paper's ``(1 - xy)^2``.
    formula : str
        The objective as the paper writes it.
    pattern : tuple of str
        The paper's order of the weights (``"x"``/``"y"``).
    source : str
        Where the model comes from.
    reduced : str
        The loss ``L(x, y)`` whose plain GD is the same map, if there is one
        (``p = q``: each of a variable's ``p`` copies carries ``1/p`` of its
        gradient, so the map is GD on ``s/(2p) (1 - x^p y^q)^2``).
    """

    name: str
    p: int
    q: int
    scale: float
    formula: str
    pattern: tuple[str, ...] = field(default=())
    source: str = ""
    reduced: str = ""

    kind = "network"
    has_product = True

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec(self.name)

    @property
    def depth(self) -> int:
        """Number of network weights ``k = p + q``."""
        return self.p + self.q

    def weights(self, x: float, y: float) -> np.ndarray:
        """Full network weights, shape (k,), float64, in the paper's order."""
        order = self.pattern or ("x",) * self.p + ("y",) * self.q
        return np.array([x if c == "x" else y for c in order], dtype=np.float64)

    @cached_property
    def maps(self):
        """The model's GD map as a bundle of scalar functions (:mod:`eosfast.kernels.maps`)."""
        from .kernels.maps import coupled

        return coupled(self.p, self.q, self.scale)


@dataclass(frozen=True)
class ExpressionModel(Model):
    """Plain GD on a loss ``L(x, y)`` given as an expression (see the module docstring).

    Attributes
    ----------
    name : str
        Label (a registry key, or the expression).
    expression : str
        ``L(x, y)`` in canonical form (:func:`eosfast.expression.canonical`).
    values : tuple of (str, float)
        Parameter values, sorted by name.
    formula, source, fact, checked : str
        For ``eosfast models``: the loss as the source writes it, the source,
        the fact the test suite checks, how the formula was confirmed.
    registered : bool
        Whether ``name`` is a registry key (then files record the name).
    """

    name: str
    expression: str
    values: tuple[tuple[str, float], ...] = ()
    formula: str = ""
    source: str = ""
    fact: str = ""
    checked: str = ""
    registered: bool = False

    kind = "expression"
    has_product = False

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec(self.name if self.registered else self.expression, self.values)

    def with_params(self, params: Mapping[str, Any] | Iterable[str] | None) -> ExpressionModel:
        """The same loss with some parameters changed (only its own parameters)."""
        try:
            new = dict(ex.check_params(params))
        except ex.ExpressionError as exc:
            raise ex.invalid(str(exc), "model_params") from None
        unknown = sorted(set(new) - {k for k, _ in self.values})
        if unknown:
            own = ", ".join(k for k, _ in self.values) or "none"
            raise InvalidArgument(f"{{model_params}}: {self.name} has no parameter "
                                  f"{', '.join(unknown)} (its parameters: {own})",
                                  "model_params")
        merged = tuple(sorted({**dict(self.values), **new}.items()))
        if merged == self.values:
            return self
        return ExpressionModel(self.name, self.expression, merged, self.formula, self.source,
                               self.fact, self.checked, self.registered)

    @cached_property
    def maps(self):
        """The generated map bundle (built from the expression, or loaded from the cache)."""
        from .mapcache import load_maps

        return load_maps(self.expression, self.values)


def _literature() -> list[ExpressionModel]:
    from .registry import LITERATURE

    out = []
    for e in LITERATURE:
        _, canonical, pairs = ex.read(e.expression, e.params)
        out.append(ExpressionModel(e.name, canonical, pairs, e.formula, e.source, e.fact,
                                   e.checked, registered=True))
    return out


#: The paper's coupled networks, by name.
NETWORKS: dict[str, NetworkModel] = {
    m.name: m
    for m in (
        NetworkModel("zhu4", 2, 2, 1.0, "1/2 (1 - xyzw)^2 with z = x, w = y", ("x", "y", "x", "y"),
                     PAPER + ", s. 1.1, 2.1", "(1 - x**2*y**2)**2/4"),
        NetworkModel("deg3", 1, 2, 1.0, "1/2 (1 - xyz)^2 with z = y", ("x", "y", "y"),
                     PAPER + ", s. 4.2"),
        NetworkModel("deg2", 1, 1, 2.0, "(1 - xy)^2", ("x", "y"), PAPER + ", s. 4.1",
                     "(1 - x*y)**2"),
        NetworkModel("deg6", 3, 3, 1.0, "1/2 (1 - x^3 y^3)^2, a 6-layer coupled network",
                     ("x", "y", "x", "y", "x", "y"), "the paper's coupling, depth 6",
                     "(1 - x**3*y**3)**2/6"),
    )
}

#: Every named model: the networks, then the literature's expressions.
MODELS: dict[str, Model] = {**NETWORKS, **{m.name: m for m in _literature()}}

#: Models built from expressions or parameters in this process (so that kernels
#: are compiled or loaded once per process, like the registry's).
_BUILT: OrderedDict[ModelSpec, Model] = OrderedDict()
_BUILT_MAX = 64


def get_model(model: str | Model | ModelSpec,
              params: Mapping[str, Any] | Iterable[str] | None = None) -> Model:
    """The model named ``model``, or GD on the expression ``model``.

    Parameters
    ----------
    model : str, Model or ModelSpec
        A registry name (:data:`MODELS`), an expression ``L(x, y)``
        (:mod:`eosfast.expression`), a model, or a model's spec.
    params : mapping of str -> float, or strings ``"NAME=VALUE"``, optional
        Parameters of an expression, or changes to a registry model's.

    Raises
    ------
    InvalidArgument
        One line, for an expression the whitelist refuses, an unknown or
        unused parameter, or parameters given to a network.
    """
    if isinstance(model, Model):
        if params:
            return _with_params(model, params)
        return model
    if isinstance(model, ModelSpec):
        if params:
            raise InvalidArgument("{model_params} cannot be given with a ModelSpec",
                                  "model_params")
        model, params = model.model, model.param_dict()
    if not isinstance(model, str):
        raise InvalidArgument(f"{{model}} must be a model name or an expression, got "
                              f"{type(model).__name__}", "model")
    if params is not None and not isinstance(params, Mapping | str):
        params = list(params)
    if not params:
        if model in MODELS:
            return MODELS[model]
        params = None
    _refuse_mistyped_name(model, params)
    try:
        pairs = ex.check_params(params)
    except ex.ExpressionError as exc:
        raise ex.invalid(str(exc), "model_params") from None
    spec = ModelSpec(model, pairs)
    hit = _BUILT.get(spec)
    if hit is not None:
        _BUILT.move_to_end(spec)
        return hit
    if model in MODELS:
        built = _with_params(MODELS[model], dict(pairs))
    else:
        built = Model.from_expression(model, dict(pairs))
        # the canonical spelling may differ from the text: share one model
        same = _BUILT.get(built.spec)
        built = same if same is not None else built
    _BUILT[spec] = built
    _BUILT[built.spec] = built
    while len(_BUILT) > _BUILT_MAX:
        _BUILT.popitem(last=False)
    return built


def _refuse_mistyped_name(model: str, params) -> None:
    """A bare word that is neither a registry model nor an expression's variable or
    declared parameter is a mistyped model name: say so, list the models and
    suggest the closest (``zhu5`` -> ``zhu4``, ``ZHU4`` -> ``zhu4``)."""
    import difflib
    import re

    word = model.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word) or word in ex.VARIABLES:
        return
    declared = set()
    try:
        declared = {name for name, _ in ex.check_params(params)}
    except ex.ExpressionError:
        pass
    if word in declared or word in MODELS:
        return
    names = list(MODELS)
    lower = {n.lower(): n for n in names}
    close = ([lower[word.lower()]] if word.lower() in lower else
             [lower[c] for c in difflib.get_close_matches(word.lower(), lower, n=1, cutoff=0.5)])
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InvalidArgument(f"{{model}}: {ex._short(word)!r} is not a registry model ({hint}the "
                          "models are "
                          f"{', '.join(names)}; `eosfast models` describes them); an "
                          "expression L(x, y) must use x and y", "model")


def _with_params(model: Model, params) -> Model:
    if isinstance(model, ExpressionModel):
        return model.with_params(params)
    raise InvalidArgument(f"{{model_params}}: the network {model.name} has no parameters",
                          "model_params")


def models_table() -> list[dict[str, Any]]:
    """Every registry model as a record: name, kind, formula, expression, params, source,
    fact, checked (what ``eosfast models --json`` prints)."""
    rows = []
    for m in MODELS.values():
        rows.append({"name": m.name, "kind": m.kind, "formula": m.formula,
                     "expression": getattr(m, "expression", None), "params": m.params,
                     "source": m.source, "fact": getattr(m, "fact", ""),
                     "checked": getattr(m, "checked", "")})
    from .vector import DESCRIPTION

    rows.append(dict(DESCRIPTION))
    return rows


def describe_models() -> str:
    """Every registry model with its formula and source (``eosfast models``)."""
    from .vector import DESCRIPTION as v

    blocks = [m.describe() for m in MODELS.values()]
    blocks.append(f"{v['name']} (eosfast ensemble --dim d): {v['formula']}\n"
                  f"    source: {v['source']}\n    checked fact: {v['fact']}\n"
                  f"    confirmed: {v['checked']}")
    blocks.append("Any other --model is read as a loss L(x, y) of plain GD: numbers, x, y, "
                  "parameters (--param NAME=VALUE), + - * / ** and "
                  + ", ".join(ex.FUNCTIONS) + ".")
    return "\n\n".join(blocks)


def model_of_attrs(model: Any, params: Any) -> Model:
    """Rebuild the model a file records (root attributes ``model``, ``model_params``).

    The attributes are untrusted: the expression is parsed by the same
    whitelist as ``--model``. Raises :class:`~eosfast.errors.EosfastError`.
    """
    if isinstance(model, bytes):
        model = model.decode("ascii", "replace")
    if not isinstance(model, str):
        raise InvalidArgument("{model} attribute is not text", "model")
    if params is None:
        pairs = None
    else:
        if isinstance(params, bytes):
            params = params.decode("ascii", "replace")
        if not isinstance(params, str) or len(params) > 10_000:
            raise InvalidArgument("{model_params} attribute is not JSON text", "model_params")
        try:
            pairs = json.loads(params)
        except ValueError:
            raise InvalidArgument("{model_params} attribute is not JSON", "model_params") \
                from None
        if not isinstance(pairs, dict):
            raise InvalidArgument("{model_params} attribute is not a JSON object",
                                  "model_params")
    return get_model(model, pairs)
