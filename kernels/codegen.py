"""Generate a map bundle (:mod:`eosfast.kernels.maps`) for GD on a loss ``L(x, y)``.

:func:`bundle_source` turns a sympy expression into the Python source of a
module defining every name of :data:`~eosfast.kernels.maps.NAMES` as a plain
scalar function, from the symbolic gradient and Hessian with common
subexpressions eliminated (``sympy.cse``). The source uses only arithmetic,
comparisons and ``math`` functions (no NumPy, no helper calls), so every
target compiles it: Numba on the CPU inlines it into each kernel template,
and numba-cuda can compile the same functions for a GPU.

The map (math for every expression model):

``coef(eta) = eta``; ``advance(x, y, cx, cy) = (x - cx Lx, y - cy Ly, m)`` with
``m = max(|Lx|, |Ly|)`` at ``(x, y)`` (``inf`` when the gradient is NaN,
so the step is taken and the point escapes as not finite);
``is_minimum``: the Hessian's smallest eigenvalue is at least ``-tol``;
``sharpness``: its largest eigenvalue (computed without cancellation);
``jacobian = I - diag(cx, cy) H``; ``loss = L``; ``product = NaN`` (a general loss has no
network output ``P``).

Powers with small integer exponents become products (exponentiation by
squaring), never ``pow`` calls: faster, and vectorisable in the lane loop.
"""

from __future__ import annotations

import math

#: Bumped whenever the generated code changes for the same expression.
CODEGEN_VERSION = "2"

#: Integer exponents up to this are expanded into products.
MAX_EXPANDED_POWER = 64

_MATH = {"exp": "math.exp", "log": "math.log", "sin": "math.sin", "cos": "math.cos",
         "tan": "math.tan", "atan": "math.atan", "sinh": "math.sinh", "cosh": "math.cosh",
         "tanh": "math.tanh", "log1p": "math.log1p", "expm1": "math.expm1"}


class CodegenError(ValueError):
    """The expression holds something the generator cannot write (one line)."""


def derivatives(expr, x, y) -> dict:
    """``{"L", "Lx", "Ly", "Lxx", "Lxy", "Lyy"}`` of ``expr`` in the symbols ``x, y``.

    ``abs``'s second derivative (a Dirac delta at the kink) is taken as 0.
    """
    import sympy

    def clean(e):
        return e.replace(sympy.DiracDelta, lambda *a: sympy.Integer(0))

    lx = clean(sympy.diff(expr, x))
    ly = clean(sympy.diff(expr, y))
    return {"L": expr, "Lx": lx, "Ly": ly, "Lxx": clean(sympy.diff(lx, x)),
            "Lxy": clean(sympy.diff(lx, y)), "Lyy": clean(sympy.diff(ly, y))}


class _Emitter:
    """Writes sympy expressions as straight-line Python statements."""

    def __init__(self, symbols: dict, indent: str = "    "):
        self.symbols = symbols
        self.lines: list[str] = []
        self.indent = indent
        self.count = 0

    def temp(self, code: str) -> str:
        name = f"t{self.count}"
        self.count += 1
        self.lines.append(f"{self.indent}{name} = {code}")
        return name

    def assign(self, name: str, code: str) -> None:
        self.lines.append(f"{self.indent}{name} = {code}")

    def atom(self, e) -> str:
        """A name or literal for ``e`` (a temporary if it is compound)."""
        code = self.emit(e)
        if code.isidentifier() or _is_literal(code):
            return code
        return self.temp(code)

    def emit(self, e) -> str:
        import sympy

        if e.is_Symbol:
            if e not in self.symbols:
                raise CodegenError(f"unknown symbol {e}")
            return self.symbols[e]
        if e.is_number:
            return _literal(e)
        if e.is_Add:
            terms = list(e.args)
            out = self.emit(terms[0])
            for t in terms[1:]:
                if t.could_extract_minus_sign():
                    out = f"{out} - {self.emit(-t)}"
                else:
                    out = f"{out} + {self.emit(t)}"
            return f"({out})"
        if e.is_Mul:
            return self.mul(e)
        if e.is_Pow:
            return self.power(e.base, e.exp)
        if isinstance(e, sympy.Abs):
            return f"abs({self.emit(e.args[0])})"
        if isinstance(e, sympy.sign):
            v = self.atom(e.args[0])
            return f"(1.0 if {v} > 0.0 else (-1.0 if {v} < 0.0 else 0.0))"
        name = type(e).__name__
        if name in _MATH and len(e.args) == 1:
            return f"{_MATH[name]}({self.emit(e.args[0])})"
        raise CodegenError(f"cannot generate code for {name}")

    def mul(self, e) -> str:
        import sympy

        num, den, neg = [], [], False
        for f in e.args:
            if f == -1:
                neg = not neg
            elif f.is_Rational and not f.is_Integer and abs(f.p) == 1:
                # x/4 rather than x*0.25: one rounding either way, but readable
                neg ^= f.p < 0
                den.append(_literal(sympy.Integer(f.q)))
            elif f.is_Pow and f.exp.is_number and f.exp.is_negative:
                den.append(self.power(f.base, -f.exp))
            else:
                num.append(self.emit(f))
        out = "*".join(num) if num else "1.0"
        if den:
            out = f"{out}/" + (den[0] if len(den) == 1 else "(" + "*".join(den) + ")")
        return f"(-({out}))" if neg else f"({out})"

    def power(self, base, exp) -> str:
        import sympy

        if exp.is_Integer:
            n = int(exp)
            if n == 0:
                return "1.0"
            k = abs(n)
            if k <= MAX_EXPANDED_POWER:
                b = self.atom(base)
                r = _power_by_squaring(self, b, k)
                return r if n > 0 else f"(1.0/{r})"
            return f"math.pow({self.emit(base)}, {_literal(exp)})"
        if exp.is_Rational and exp.q == 2:
            # v**(k + 1/2) = v**k * sqrt(v)
            k = (int(exp.p) - 1) // 2
            root = f"math.sqrt({self.emit(base)})" if k >= 0 else None
            if k >= 0:
                if k == 0:
                    return root
                b = self.atom(base)
                return f"({_power_by_squaring(self, b, k)}*{root})"
            k2 = -(int(exp.p) + 1) // 2  # v**(-(k2 + 1/2))
            b = self.atom(base)
            s = f"math.sqrt({b})"
            return (f"(1.0/{s})" if k2 == 0 else
                    f"(1.0/({_power_by_squaring(self, b, k2)}*{s}))")
        if base == sympy.E:
            return f"math.exp({self.emit(exp)})"
        return f"math.pow({self.emit(base)}, {self.emit(exp)})"


def _power_by_squaring(em: _Emitter, b: str, k: int) -> str:
    """``b**k`` (``k >= 1``) as products of temporaries."""
    if k == 1:
        return b
    if k == 2:
        return f"({b}*{b})"
    result = None
    sq = b
    while True:
        if k & 1:
            result = sq if result is None else em.temp(f"{result}*{sq}")
        k >>= 1
        if not k:
            break
        sq = em.temp(f"{sq}*{sq}")
    return result


def _literal(e) -> str:
    try:
        v = float(e.evalf(30)) if hasattr(e, "evalf") else float(e)
    except TypeError:
        raise CodegenError(f"the constant {e} is not real") from None
    if not math.isfinite(v):
        raise CodegenError(f"a constant of the expression is not finite ({e})")
    text = repr(v)
    return f"({text})" if v < 0 or text.startswith("-") else text


def _is_literal(code: str) -> bool:
    try:
        float(code.strip("()"))
        return True
    except ValueError:
        return False


def _function(name: str, args: str, exprs: dict, symbols: dict, body) -> list[str]:
    """A function whose body first computes ``exprs`` (CSE'd), then ``body(values)``."""
    import sympy

    em = _Emitter(symbols)
    names = list(exprs)
    reps, reduced = sympy.cse([exprs[n] for n in names], symbols=sympy.numbered_symbols("c"),
                              optimizations="basic")
    for sym, sub in reps:
        code = em.emit(sub)
        py = f"c{sym.name[1:]}"
        em.symbols[sym] = py
        em.assign(py, code)
    values = {}
    for n, e in zip(names, reduced, strict=True):
        values[n] = em.atom(e)
    lines = [f"def {name}({args}):", *em.lines, *body(values)]
    return lines


def bundle_source(expr, x, y, header: str) -> str:
    """The source of a module defining the map bundle of GD on ``expr(x, y)``.

    Parameters
    ----------
    expr : sympy expression
        The loss, in the real symbols ``x`` and ``y`` only.
    x, y : sympy Symbol
    header : str
        Comment lines put at the top (each starting with ``#``).

    Returns
    -------
    str
    """
    free = expr.free_symbols - {x, y}
    if free:
        raise CodegenError(f"unexpected symbols {sorted(map(str, free))}")
    d = derivatives(expr, x, y)
    sym = {x: "x", y: "y"}
    hess = {"a": d["Lxx"], "b": d["Lxy"], "d": d["Lyy"]}
    out = [header.rstrip(), "import math", "", ""]
    out += ["def coef(eta):", "    return eta", "", ""]
    grad = {"gx": d["Lx"], "gy": d["Ly"]}
    out += _function("advance", "x, y, cx, cy", grad, dict(sym), lambda v: [
        f"    ax = abs({v['gx']})",
        f"    ay = abs({v['gy']})",
        "    m = ax if ax >= ay else ay",
        "    if not ((ax == ax) & (ay == ay)):",
        "        m = math.inf",
        f"    return x - cx * {v['gx']}, y - cy * {v['gy']}, m"]) + ["", ""]
    out += _function("measure", "x, y", {"gx": d["Lx"], "gy": d["Ly"]}, dict(sym), lambda v: [
        f"    ax = abs({v['gx']})",
        f"    ay = abs({v['gy']})",
        "    m = ax if ax >= ay else ay",
        "    if not ((ax == ax) & (ay == ay)):",
        "        m = math.inf",
        "    return m"]) + ["", ""]
    out += _function("is_minimum", "x, y, tol", hess, dict(sym), lambda v: [
        f"    a = {v['a']}",
        f"    b = {v['b']}",
        f"    d = {v['d']}",
        "    m = 0.5 * (a + d)",
        "    h = math.hypot(0.5 * (a - d), b)",
        "    if m <= 0.0:",
        "        low = m - h",
        "    else:",
        "        # the small root without cancellation: det / large root",
        "        low = (a * d - b * b) / (m + h)",
        "    return low >= -tol"]) + ["", ""]
    out += _function("loss", "x, y", {"L": d["L"]}, dict(sym), lambda v: [
        f"    return {v['L']}"]) + ["", ""]
    out += _function("sharpness", "x, y", hess, dict(sym), lambda v: [
        f"    a = {v['a']}",
        f"    b = {v['b']}",
        f"    d = {v['d']}",
        "    m = 0.5 * (a + d)",
        "    h = math.hypot(0.5 * (a - d), b)",
        "    if m >= 0.0:",
        "        return m + h",
        "    # the large root without cancellation when the trace is negative",
        "    low = m - h",
        "    return (a * d - b * b) / low if low != 0.0 else 0.0"]) + ["", ""]
    out += _function("jacobian", "x, y, cx, cy", hess, dict(sym), lambda v: [
        f"    a = {v['a']}",
        f"    b = {v['b']}",
        f"    d = {v['d']}",
        "    return 1.0 - cx * a, -(cx * b), -(cy * b), 1.0 - cy * d"]) + ["", ""]
    out += ["def product(x, y):",
            "    # a general loss has no network output P",
            "    return math.nan", ""]
    return "\n".join(out)
