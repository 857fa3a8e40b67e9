"""Losses written as expressions ``L(x, y)``: a whitelist parser, never ``eval``.

A model can be any two-parameter loss a user writes down (``--model EXPR``,
:meth:`eosfast.Model.from_expression`). The text is untrusted input (it also
comes back from result files), so it is read by :func:`parse`, a whitelist
walk over Python's syntax tree that builds eosfast's own small tree of
:class:`Node` and refuses everything else with one line. The text is never
passed to ``eval``, ``exec``, ``sympify`` or ``parse_expr``: the symbolic
expression (:func:`to_sympy`) is built from the checked tree, node by node.

What an expression may hold:

- numbers (``2``, ``0.5``, ``1e-3``), the variables ``x`` and ``y``, and
  parameters declared with ``--param NAME=VALUE`` (substituted as numbers);
- ``+ - * / **`` and unary ``-`` / ``+``, with parentheses;
- calls of the functions in :data:`FUNCTIONS`, one argument each.

Refused, with a one-line :class:`~eosfast.errors.InvalidArgument`: attribute
access, subscripts, calls of anything else, strings and other literals,
lambdas, comprehensions, comparisons, names with double underscores,
undeclared names, non-ASCII text, more than :data:`MAX_LENGTH` characters
and nesting deeper than :data:`MAX_DEPTH`.

Conventions: ``abs`` has the derivative ``sign(v)`` with ``sign(0) = 0`` and
the second derivative 0 (its kink is invisible to the Hessian). Functions
keep their real domains: ``log`` of a negative number, ``sqrt`` of one, is
NaN at run time (the point is then reported diverged).
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import InvalidArgument

#: Longest expression accepted (characters).
MAX_LENGTH = 2000

#: Deepest nesting accepted (levels of the syntax tree).
MAX_DEPTH = 100

#: Functions an expression may call (one argument each): name -> what it is.
FUNCTIONS = {
    "exp": "e^v", "expm1": "e^v - 1", "log": "natural log", "log1p": "log(1 + v)",
    "sqrt": "square root", "sin": "sine", "cos": "cosine", "tan": "tangent",
    "atan": "arc tangent", "sinh": "hyperbolic sine", "cosh": "hyperbolic cosine",
    "tanh": "hyperbolic tangent", "abs": "absolute value (derivative sign(v), sign(0) = 0)",
}

#: The two variables of every expression.
VARIABLES = ("x", "y")

#: Largest integer literal (beyond it, write a float such as 1e20).
MAX_INT = 2**53

_PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

#: Python precedence of the operators the printer writes (higher binds tighter).
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}


class ExpressionError(ValueError):
    """Why a text is not an acceptable expression (one line, no argument name)."""


@dataclass(frozen=True)
class Node:
    """A node of a checked expression.

    Attributes
    ----------
    op : str
        ``"num"`` (``value`` a Fraction), ``"var"`` / ``"par"`` (``value`` the
        name), ``"neg"``, ``"+"``, ``"-"``, ``"*"``, ``"/"``, ``"**"``, or
        ``"call"`` (``value`` the function name).
    args : tuple of Node
        Operands.
    value : Fraction or str or None
    """

    op: str
    args: tuple[Node, ...] = ()
    value: Any = None


def _short(text: str, n: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


#: Stands for the parameters' argument in a reason (see :func:`invalid`).
PARAM_FLAG = "\x00params\x00"


def _refuse(reason: str) -> ExpressionError:
    return ExpressionError(reason)


def check_param_name(name: Any) -> str:
    """A parameter name: a short identifier that is not a variable, function or keyword."""
    if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
        raise _refuse(f"parameter name {_short(repr(name))} must be a letter followed by "
                      "letters, digits or _ (at most 32)")
    if "__" in name:
        raise _refuse(f"parameter name {name!r} has a double underscore")
    if name in VARIABLES or name in FUNCTIONS or keyword.iskeyword(name):
        raise _refuse(f"{name!r} cannot be a parameter name: it is a variable, a function "
                      "or a Python keyword")
    return name


def check_params(params: Mapping[str, Any] | Iterable[str] | None
                 ) -> tuple[tuple[str, float], ...]:
    """Parameters as sorted ``(name, value)`` pairs, each value a finite float.

    Accepts a mapping ``{name: number}``, ``(name, number)`` pairs, or
    strings ``"NAME=VALUE"`` (what ``--param`` collects). Raises
    :class:`ExpressionError`.
    """
    if params is None:
        return ()
    if isinstance(params, str):
        params = [params]
    if isinstance(params, Mapping):
        items = list(params.items())
    else:
        items = []
        for text in params:
            if isinstance(text, tuple) and len(text) == 2:
                items.append(text)
                continue
            if not isinstance(text, str) or "=" not in text:
                raise _refuse(f"a parameter is written NAME=VALUE, got {_short(repr(text))}")
            name, _, value = text.partition("=")
            try:
                number = float(value.strip())
            except ValueError:
                raise _refuse(f"parameter {_short(name.strip())}: {_short(repr(value))} is "
                              "not a number") from None
            items.append((name.strip(), number))
    out: dict[str, float] = {}
    for name, value in items:
        name = check_param_name(name)
        if isinstance(value, bool) or not isinstance(value, int | float) and \
                not hasattr(value, "__float__"):
            raise _refuse(f"parameter {name}: {_short(repr(value))} is not a number")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise _refuse(f"parameter {name}: {_short(repr(value))} is not a number") from None
        if not math.isfinite(v):
            raise _refuse(f"parameter {name} must be finite, got {v!r}")
        if name in out:
            raise _refuse(f"parameter {name} is given twice")
        out[name] = v
    return tuple(sorted(out.items()))


def parse(text: Any, params: Iterable[str] = ()) -> Node:
    """Check ``text`` against the whitelist and return its tree.

    Parameters
    ----------
    text : str
        The expression ``L(x, y)``.
    params : iterable of str
        Declared parameter names (the only other names allowed).

    Raises
    ------
    ExpressionError
        With a one-line reason.
    """
    if not isinstance(text, str):
        raise _refuse(f"an expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise _refuse(f"the expression has {len(text)} characters, more than {MAX_LENGTH}")
    if not text.isascii():
        raise _refuse("the expression may hold only ASCII characters")
    if not text.strip():
        raise _refuse("the expression is empty")
    # An expression this short cannot nest deeper than the parser handles,
    # but count anyway: the limit is ours, not the parser's.
    depth = 0
    for ch in text:
        depth += (ch in "([{") - (ch in ")]}")
        if depth > MAX_DEPTH:
            raise _refuse(f"the expression nests more than {MAX_DEPTH} levels deep")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _refuse(f"not an expression: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise _refuse("not an expression the parser can read") from None
    return _Walker(frozenset(params)).walk(tree.body, 0)


class _Walker:
    def __init__(self, params: frozenset[str]):
        self.params = params

    def walk(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise _refuse(f"the expression nests more than {MAX_DEPTH} levels deep")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self.number(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Node("neg", (self.walk(node.operand, d),))
            if isinstance(node.op, ast.UAdd):
                return self.walk(node.operand, d)
            raise _refuse(f"the operator {_op_text(node.op)} is not allowed")
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                hint = " (write powers as **)" if isinstance(node.op, ast.BitXor) else ""
                raise _refuse(f"the operator {_op_text(node.op)} is not allowed{hint}")
            return Node(op, (self.walk(node.left, d), self.walk(node.right, d)))
        if isinstance(node, ast.Call):
            return self.call(node, d)
        raise _refuse(_describe(node))

    def number(self, value: Any) -> Node:
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = ("strings" if isinstance(value, str | bytes)
                    else f"{type(value).__name__} literals")
            raise _refuse(f"{kind} are not allowed, only numbers")
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                raise _refuse("an integer literal is too large (write it as a float, e.g. 1e20)")
            return Node("num", value=Fraction(value))
        if not math.isfinite(value):
            raise _refuse("a number is out of the range of float64")
        return Node("num", value=Fraction(repr(value)))

    def name(self, name: str) -> Node:
        if "__" in name:
            raise _refuse("names with double underscores are not allowed")
        if name in VARIABLES:
            return Node("var", value=name)
        if name in self.params:
            return Node("par", value=name)
        if name in FUNCTIONS:
            raise _refuse(f"{name} is a function: call it as {name}(...)")
        raise _refuse(f"unknown name {_short(name)!r}: the variables are x and y, and a "
                      f"parameter must be declared ({PARAM_FLAG} {_short(name)}=VALUE)")

    def call(self, node: ast.Call, depth: int) -> Node:
        func = node.func
        if isinstance(func, ast.Attribute):
            raise _refuse("attribute access is not allowed")
        if not isinstance(func, ast.Name):
            raise _refuse("only the listed functions may be called, by name")
        if "__" in func.id:
            raise _refuse("names with double underscores are not allowed")
        if func.id not in FUNCTIONS:
            raise _refuse(f"{_short(func.id)!r} is not a function an expression may call "
                          f"(allowed: {', '.join(FUNCTIONS)})")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _refuse(f"{func.id} takes exactly one argument")
        return Node("call", (self.walk(node.args[0], depth),), func.id)


def _op_text(op: ast.AST) -> str:
    names = {ast.BitXor: "^", ast.BitAnd: "&", ast.BitOr: "|", ast.FloorDiv: "//",
             ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@",
             ast.Not: "not", ast.Invert: "~"}
    return names.get(type(op), type(op).__name__)


def _describe(node: ast.AST) -> str:
    """The refusal for a construct outside the whitelist."""
    if isinstance(node, ast.Attribute):
        return "attribute access is not allowed"
    if isinstance(node, ast.Subscript | ast.Slice):
        return "subscripts are not allowed"
    if isinstance(node, ast.Lambda):
        return "lambdas are not allowed"
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        return "comprehensions are not allowed"
    if isinstance(node, ast.JoinedStr | ast.FormattedValue):
        return "strings are not allowed, only numbers"
    if isinstance(node, ast.Compare | ast.BoolOp | ast.IfExp):
        return "comparisons and conditions are not allowed"
    if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
        return "tuples, lists, sets and dicts are not allowed"
    return f"{type(node).__name__} syntax is not allowed"


# ---------------------------------------------------------------- printing


def canonical(node: Node) -> str:
    """The tree as text, in one fixed spelling (a cache key, and what files record).

    Operators get spaces only around ``+`` and ``-``; parentheses only where
    Python's precedence needs them; numbers as integers or float reprs.
    Parsing the result gives the same tree.
    """
    return _print(node)[0]


def _num_text(v: Fraction) -> str:
    if v.denominator == 1 and abs(v.numerator) <= MAX_INT:
        return str(v.numerator)
    return repr(float(v))


def _print(node: Node) -> tuple[str, int]:
    """(text, precedence) of a node; atoms have precedence 9."""
    op = node.op
    if op == "num":
        return _num_text(node.value), 9
    if op in ("var", "par"):
        return node.value, 9
    if op == "call":
        return f"{node.value}({_print(node.args[0])[0]})", 9
    if op == "neg":
        text, p = _print(node.args[0])
        # -x**2 is -(x**2) in Python: a power operand needs no parentheses
        return "-" + (text if p >= _PREC["**"] else f"({text})"), _PREC["neg"]
    a, pa = _print(node.args[0])
    b, pb = _print(node.args[1])
    prec = _PREC[op]
    if op == "**":
        # right-associative, and binds tighter than a unary minus on its left
        left = a if pa > prec else f"({a})"
        right = b if pb >= _PREC["neg"] else f"({b})"
        return f"{left}**{right}", prec
    left = a if pa >= prec else f"({a})"
    right = b if pb > prec else f"({b})"
    sep = f" {op} " if op in "+-" else op
    return f"{left}{sep}{right}", prec


def names_used(node: Node) -> set[str]:
    """Parameter names the tree refers to."""
    if node.op == "par":
        return {node.value}
    out: set[str] = set()
    for a in node.args:
        out |= names_used(a)
    return out


def read(text: Any, params: Mapping[str, Any] | Iterable[str] | None = None,
         argname: str = "model") -> tuple[Node, str, tuple[tuple[str, float], ...]]:
    """Parse ``text`` with its parameters: ``(tree, canonical text, sorted params)``.

    Every declared parameter must be used. Raises
    :class:`~eosfast.errors.InvalidArgument` naming ``argname`` (the command
    line spells it ``--model``) with a one-line reason.
    """
    try:
        pairs = check_params(params)
        tree = parse(text, [n for n, _ in pairs])
        unused = sorted({n for n, _ in pairs} - names_used(tree))
        if unused:
            raise _refuse(f"parameter {', '.join(unused)} is not used in the expression")
    except ExpressionError as exc:
        raise invalid(str(exc), argname) from None
    return tree, canonical(tree), pairs


def invalid(reason: str, argname: str = "model") -> InvalidArgument:
    """The error for a refused expression (braces escaped: the message is a template).

    :data:`PARAM_FLAG` in the reason becomes the parameters' argument, spelled
    ``model_params`` from Python and ``--param`` on the command line.
    """
    reason = reason.replace("{", "{{").replace("}", "}}")
    names = [argname]
    if PARAM_FLAG in reason:
        reason = reason.replace(PARAM_FLAG, "{model_params}")
        names.append("model_params")
    return InvalidArgument(f"{{{argname}}}: {reason}", *names)


# ---------------------------------------------------------------- symbolic form


def to_sympy(node: Node, params: Mapping[str, float]):
    """The sympy expression of a checked tree, parameters substituted as exact decimals.

    Constants are exact rationals (so ``x**2`` stays an integer power and
    ``0.1`` is 1/10); a power of two constants that would be huge is
    evaluated in floating point instead. Raises :class:`ExpressionError` when
    the result is not a real, finite expression (``1/0``, ``log(-1)``).
    """
    import sympy

    x, y = sympy.symbols("x y", real=True)
    from sympy.codegen.cfunctions import expm1, log1p

    funcs = {"exp": sympy.exp, "expm1": expm1, "log": sympy.log, "log1p": log1p,
             "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
             "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
             "abs": sympy.Abs}
    consts = {name: sympy.Rational(Fraction(repr(float(v))).numerator,
                                   Fraction(repr(float(v))).denominator)
              for name, v in params.items()}

    def build(n: Node):
        op = n.op
        if op == "num":
            return sympy.Rational(n.value.numerator, n.value.denominator)
        if op == "var":
            return x if n.value == "x" else y
        if op == "par":
            return consts[n.value]
        if op == "call":
            return funcs[n.value](build(n.args[0]))
        if op == "neg":
            return -build(n.args[0])
        a, b = build(n.args[0]), build(n.args[1])
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise _refuse("division by zero")
            return a / b
        return _power(a, b)

    def _power(a, b):
        if a.is_number and b.is_number and not _small_power(a, b):
            try:
                v = float(a.evalf(30)) ** float(b.evalf(30))
            except (OverflowError, ZeroDivisionError, TypeError):
                raise _refuse("a power of constants overflows or is undefined") from None
            if isinstance(v, complex) or not math.isfinite(v):
                raise _refuse("a power of constants is not a finite real number")
            return sympy.Float(v)
        return a**b

    expr = build(node)
    bad = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)
    if any(expr.has(b) for b in bad):
        raise _refuse("the expression is not finite (a division by zero?)")
    if expr.has(sympy.I):
        raise _refuse("the expression is not real (log or sqrt of a negative constant?)")
    return expr, (x, y)


def _small_power(a, b) -> bool:
    """Whether ``a**b`` of two sympy constants is safe to evaluate exactly."""
    if not (a.is_Rational and b.is_Integer):
        return False
    n = abs(int(b))
    bits = max(abs(int(a.p)).bit_length(), int(a.q).bit_length())
    return n <= 64 and bits * n <= 4096
