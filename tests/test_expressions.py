"""Losses written as expressions: the parser, the generated maps, files, the command line.

References: the built-in networks (zhu4's network map is GD on
(1 - x^2 y^2)^2 / 4, deg2's on (1 - xy)^2), plain mpmath GD with mpmath's
numerical derivatives (tests/naive.py), and closed forms.
"""

import ast
import json
import pickle
import subprocess
import sys

import h5py
import mpmath
import numpy as np
import pytest

import eosfast
import naive
from eosfast.errors import EosfastError, InvalidArgument
from eosfast.expression import MAX_LENGTH, canonical, parse
from eosfast.models import ModelSpec, get_model
from eosfast.status import Status
from eosfast.stoprule import StopRule

# ---------------------------------------------------------------- the parser

#: The issue's injection attempts, and more of the same kind.
INJECTIONS = ["__import__('os')", "x.__class__", "().__class__", "open", "lambda: 1",
              "x" + "+x" * 50_000, "(" * 10_000 + "x" + ")" * 10_000]
MORE = ["open('/etc/passwd')", "lambda x: x", "[c for c in 'ab']", "x[0]", "'x'", "b'x'",
        "getattr(x, 'y')", "exp.__globals__", "__builtins__", "eval('1')", "x if y else 1",
        "x; import os", "f'{x}'", "x @ y", "exp(x, y)", "exp(x=1)", "exp(*x)", "x < y",
        "x ^ 2", "{x: 1}", "(x, y)", "True", "1j", "z", "mu", "x == y", "not x",
        "(lambda: 0)()", "exp", "sqrt.__call__(x)", "x.real", "\u00e9", "x\0", "",
        "1e999", "2**2**2**2**2", "9**9**9", "1/0", "log(-1)", "sqrt(-4) * x",
        "x" * (MAX_LENGTH + 1), "-" * 150 + "x", "exp(" * 101 + "x" + ")" * 101]


@pytest.mark.parametrize("text", INJECTIONS + MORE)
def test_parser_refuses_with_one_line(text):
    with pytest.raises(InvalidArgument) as exc:
        get_model(text).maps  # noqa: B018 (building the map reaches sympy's checks)
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 300, msg
    assert msg.startswith("model: "), msg


def test_refusals_name_the_construct():
    def why(text):
        with pytest.raises(InvalidArgument) as exc:
            get_model(text)
        return str(exc.value)

    assert "double underscores" in why("__import__('os')")
    assert "attribute" in why("x.__class__") and "attribute" in why("().__class__")
    assert "'open' is not a registry model" in why("open")  # a bare word: a mistyped name
    assert "lambda" in why("lambda: 1")
    assert "100001 characters" in why("x" + "+x" * 50_000)
    assert "20001 characters" in why("(" * 10_000 + "x" + ")" * 10_000)
    assert "nests more than 100" in why("(" * 101 + "x" + ")" * 101)
    assert "nests more than 100" in why("-" * 150 + "x")
    assert "**" in why("x ^ 2")
    assert "model_params mu=VALUE" in why("(x - mu)**2")  # Python's name, not the CLI flag


@pytest.mark.parametrize("args", [
    ["--model", "__import__('os')"], ["--model", "x.__class__"], ["--model", "().__class__"],
    ["--model", "open"], ["--model", "lambda: 1"], ["--model", "x" + "+x" * 50_000],
    ["--model", "(" * 10_000 + "x" + ")" * 10_000],
    ["--model", "(x*y - t)**2", "--param", "t=os"], ["--model", "zhu4", "--param", "t=1"],
    ["--model", "(x*y - t)**2"], ["--model", "x**2", "--param", "__class__=1"],
    ["--model", "chen_bruna", "--param", "nu=2"]])
def test_cli_refuses_with_one_line_and_writes_nothing(run_cli, tmp_path, args):
    rc, out, err = run_cli("grid", *args, "--res", "8", "-o", tmp_path / "g.h5", cwd=tmp_path)
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eosfast: error: "), err
    assert "Traceback" not in err and len(lines[0]) < 300
    assert "--model" in lines[0] or "--param" in lines[0], lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", [
    "(1 - x**2*y**2)**2/4", "-x**2", "(-x)**2", "x**-2", "x**y**2", "(x**2)**3", "a - (b - c)",
    "a - b + c", "a/(b*c)", "a*b/c", "-(a + b)", "a*-b", "-exp(x)", "2**-0.5*x", "x - -y",
    "log1p(abs(x - y))/tanh(x) + cosh(y)**0.5", "1e-05*x + 1e+20", "((x))", "+x"])
def test_canonical_text_parses_to_the_same_tree(text):
    names = ["a", "b", "c"]
    tree = parse(text, names)
    again = parse(canonical(tree), names)
    assert again == tree
    assert canonical(again) == canonical(tree)


def test_spellings_of_one_expression_share_one_model():
    a = get_model("(1 - x*y)**2")
    b = get_model("((1)-(x*y))**2")
    assert a is b and a.spec == ModelSpec("(1 - x*y)**2")


# ---------------------------------------------------------------- against the networks


@pytest.mark.parametrize("expr, builtin", [("(1 - x**2*y**2)**2/4", "zhu4"),
                                           ("(1 - x*y)**2", "deg2")])
def test_expression_matches_the_network_on_512_grid(expr, builtin):
    """Same outcome at >= 99.9% of points; same final sharpness where both converge."""
    a = eosfast.grid(expr, 512, eta=0.2)
    b = eosfast.grid(builtin, 512, eta=0.2)
    assert np.mean(a.status == b.status) >= 0.999
    both = (a.status == Status.CONVERGED) & (b.status == Status.CONVERGED)
    assert both.sum() > 0.25 * both.size
    rel = np.abs(a.sharpness[both] - b.sharpness[both]) / np.abs(b.sharpness[both])
    assert rel.max() <= 1e-9
    # the same minima up to the loss's symmetry (x, y) -> (-x, -y): a chaotic transient
    # may end on either of a mirrored pair, rounding deciding which
    assert np.allclose(np.abs(a.x[both]), np.abs(b.x[both]), rtol=1e-8, atol=1e-10)
    assert np.mean(a.x[both] == b.x[both]) > 0.99 or np.mean(
        np.sign(a.x[both]) == np.sign(b.x[both])) > 0.99


def test_zhu4_expression_map_is_the_network_step():
    """One step of the generated map equals the coupled network's, to rounding."""
    m = get_model("(1 - x**2*y**2)**2/4")
    rng = np.random.default_rng(5)
    for x, y in rng.uniform(-2, 2, size=(50, 2)):
        t = eosfast.trajectory(m, x, y, eta=0.05, steps=1, escape=1e300)
        w = naive.network_step("zhu4", naive.weights("zhu4", x, y), 0.05)
        assert t.x[1] == pytest.approx(w[0], rel=1e-13, abs=1e-15)
        assert t.y[1] == pytest.approx(w[1], rel=1e-13, abs=1e-15)


# ---------------------------------------------------------------- against mpmath

#: (expression, params, the same loss in mpmath, written independently)
LOSSES = [
    ("log(cosh(x*y - 1))", None, lambda x, y: mpmath.log(mpmath.cosh(x * y - 1))),
    ("(x**2 - 1)**2/4 + (y**2 - 1)**2/4 + x*y/10", None,
     lambda x, y: (x**2 - 1)**2 / 4 + (y**2 - 1)**2 / 4 + x * y / 10),
    ("(x*y - t)**2/2 + (x - y)**2/(2*t)", {"t": 2.0},
     lambda x, y: (x * y - 2)**2 / 2 + (x - y)**2 / 4),
    ("sqrt(1 + (x - 2*y)**2) + sin(x)**2 + log1p(y**2)", None,
     lambda x, y: mpmath.sqrt(1 + (x - 2 * y)**2) + mpmath.sin(x)**2 + mpmath.log1p(y**2)),
    ("tanh(x)**2 + atan(y)**2 + sinh(x*y)**2/10 + expm1(x**2)/5", None,
     lambda x, y: mpmath.tanh(x)**2 + mpmath.atan(y)**2 + mpmath.sinh(x * y)**2 / 10
     + mpmath.expm1(x**2) / 5),
]


@pytest.mark.parametrize("expr, params, ref", LOSSES)
def test_gd_matches_mpmath_gd(expr, params, ref):
    """Final state and step count of the grid kernel against plain mpmath GD."""
    m = get_model(expr, params)
    starts = [(1.3, 0.4), (0.5, 1.7), (-0.8, 0.9)]
    x0 = np.array([s[0] for s in starts])
    y0 = np.array([s[1] for s in starts])
    out = eosfast.tiles.compute_points(m, x0, y0, np.full(3, 0.1), StopRule(3000, 1e-9, 1e3))
    for i, (a, b) in enumerate(starts):
        st, t, xf, yf = naive.mp_gd(ref, a, b, 0.1, 3000, 1e-9)
        assert st == 1, (expr, a, b)
        assert out["status"][i] == st and out["steps"][i] == t, (expr, a, b)
        assert out["x"][i] == pytest.approx(xf, rel=1e-9, abs=1e-12)
        assert out["y"][i] == pytest.approx(yf, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("expr, params, ref", LOSSES)
def test_hessian_matches_mpmath_derivatives_at_random_points(expr, params, ref):
    """Sharpness (top eigenvalue), the Jacobian I - eta H and the loss against mpmath."""
    m = get_model(expr, params)
    rng = np.random.default_rng(11)
    pts = rng.uniform(-1.5, 1.5, size=(12, 2))
    jac = np.empty((len(pts), 2, 2))
    m.kernels.jacobian(pts[:, 0].copy(), pts[:, 1].copy(), 0.3, jac)
    for k, (x, y) in enumerate(pts):
        with mpmath.workdps(30):
            H = naive.mp_hessian(ref, mpmath.mpf(x), mpmath.mpf(y))
            ev = mpmath.eigsy(mpmath.matrix(H), eigvals_only=True)
            top = float(max(ev[0], ev[1]))
            Hf = np.array([[float(v) for v in row] for row in H])
            loss = float(ref(mpmath.mpf(x), mpmath.mpf(y)))
        scale = max(np.abs(Hf).max(), 1e-3)
        assert abs(eosfast.sharpness(m, (x, y)) - top) <= 1e-10 * scale
        assert np.allclose(jac[k], np.eye(2) - 0.3 * Hf, rtol=0, atol=1e-10 * scale)
        assert eosfast.loss(m, (x, y)) == pytest.approx(loss, rel=1e-12, abs=1e-14)


# ---------------------------------------------------------------- semantics


def test_saddles_are_period_one_minima_converge_nan_escapes():
    saddle = eosfast.tiles.compute_points("x**2 - y**2", np.array([0.0, 0.5]),
                                          np.array([0.0, 0.0]), np.full(2, 0.1),
                                          StopRule(2000, 1e-12, 1e3))
    assert saddle["status"].tolist() == [Status.PERIODIC] * 2
    assert saddle["period"].tolist() == [1, 1]
    assert saddle["sharpness"].tolist() == [2.0, 2.0]  # eigenvalues 2 and -2
    bowl = eosfast.tiles.compute_points("x**2 + (y - 1)**2", np.array([0.3]), np.array([2.0]),
                                        np.array([0.1]), StopRule(2000, 1e-12, 1e3))
    assert bowl["status"][0] == Status.CONVERGED and bowl["period"][0] == 1
    assert bowl["sharpness"][0] == 2.0 and abs(bowl["y"][0] - 1) < 1e-11
    # sqrt of a negative number: the gradient is NaN, the point escapes as not finite
    nan = eosfast.tiles.compute_points("sqrt(x) + y**2", np.array([-1.0]), np.array([0.5]),
                                       np.array([0.1]), StopRule(100, 1e-12, 1e3))
    assert nan["status"][0] == Status.DIVERGED and nan["steps"][0] == 1


def test_abs_has_derivative_sign_with_sign_zero():
    m = get_model("abs(x) + abs(y - 1)")
    for x, y, g in ((0.0, 1.0, (0.0, 0.0)), (0.5, 1.0, (1.0, 0.0)), (-0.5, 3.0, (-1.0, 1.0))):
        t = eosfast.trajectory(m, x, y, eta=0.125, steps=1)
        assert (t.x[1], t.y[1]) == (x - 0.125 * g[0], y - 0.125 * g[1])
    assert eosfast.sharpness(m, (0.3, 0.2)) == 0.0


def test_generated_code_uses_only_math_and_arithmetic():
    """What numba-cuda can compile too: no NumPy, no helper calls, only math.* and abs."""
    from eosfast.mapcache import source_path

    for expr in ("log(cosh(1 - x**2*y**2))", "abs(x*y - 1)**3 + sqrt(x**2 + 1)/x**70",
                 "x**0.3 + y**-2.5 + exp(x)**y"):
        m = get_model(expr)
        m.maps  # noqa: B018 (generates the file)
        src = source_path(m.expression, m.values).read_text()
        tree = ast.parse(src)
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert [a.name for n in imports for a in n.names] == ["math"]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                assert (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                        and f.value.id == "math") or (isinstance(f, ast.Name)
                                                       and f.id == "abs"), ast.unparse(node)
            if isinstance(node, ast.Attribute):
                assert isinstance(node.value, ast.Name) and node.value.id == "math"
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        from eosfast.kernels.maps import NAMES

        assert names == set(NAMES)


def test_small_integer_powers_are_products():
    from eosfast.mapcache import source_path

    m = get_model("(1 - x**2*y**2)**2/4")
    m.maps  # noqa: B018
    src = source_path(m.expression, m.values).read_text()
    assert "pow" not in src and "**" not in src.split("import math", 1)[1]


def test_results_do_not_depend_on_threads_or_tiles():
    expr = "log(cosh(1 - x**2*y**2))"
    a = eosfast.grid(expr, 96, eta=[0.2, 0.3], steps=3000, threads=1, tile=32)
    b = eosfast.grid(expr, 96, eta=[0.2, 0.3], steps=3000, threads=2, tile=256)
    for name in ("status", "steps", "period", "sharpness", "loss", "x", "y"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def test_bifurcation_observable_defaults_to_x_and_refuses_p():
    # the kernels of chen_bruna at mu = 2 serve tests/test_registry.py too
    r = eosfast.bifurcation("chen_bruna", 1.2, 0.9, eta=[0.4, 0.6], burn=2000, record=16,
                            model_params={"mu": 2.0})
    assert r.observable == "x" and np.isfinite(r.orbit).all()
    with pytest.raises(InvalidArgument, match="observable"):
        eosfast.bifurcation("(x*y - 1)**2/2", eta=[0.5], burn=10, record=4, observable="P")
    assert eosfast.bifurcation("zhu4", eta=[0.4], burn=10, record=4).observable == "P"


# ---------------------------------------------------------------- processes


def test_models_pickle_as_their_spec_and_rebuild_once():
    m = get_model("(x*y - t)**2/2", {"t": 3.0})
    blob = pickle.dumps(m)
    assert len(blob) < 300 and pickle.loads(blob) is m
    assert pickle.loads(pickle.dumps(eosfast.MODELS["zhu4"])) is eosfast.MODELS["zhu4"]
    from eosfast.grid import make_spec

    spec = make_spec(m, 64)
    task = pickle.loads(pickle.dumps(spec.tile_task(0)))
    assert task[0] == ModelSpec("(x*y - t)**2/2", (("t", 3.0),))
    assert get_model(task[0]) is m


_SECOND_RUN = """
import json, sys
import numpy as np
import eosfast
m = eosfast.get_model(sys.argv[1], {"k": 0.25})
r = eosfast.grid(m, 16, eta=0.1, steps=200)
st = m.kernels.grid.stats
print(json.dumps({"hits": sum(st.cache_hits.values()), "misses": sum(st.cache_misses.values()),
                  "sympy": "sympy" in sys.modules, "status": r.status.tolist()}))
"""


def test_a_second_process_compiles_nothing(tmp_path):
    """The generated file and the kernels' Numba cache are found again by a new process."""
    import os

    env = {**os.environ, "EOSFAST_CACHE_DIR": str(tmp_path / "eosfast"),
           "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    expr = "log(cosh(x*y - 1)) + k*(x - y)**2"
    runs = []
    for _ in range(2):
        p = subprocess.run([sys.executable, "-c", _SECOND_RUN, expr], env=env,
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["misses"] >= 1 and first["sympy"]
    assert second["misses"] == 0 and second["hits"] >= 1 and not second["sympy"]
    assert first["status"] == second["status"]
    assert len(list((tmp_path / "eosfast" / "expressions").glob("loss_*.py"))) == 1


def test_dask_workers_rebuild_the_expression():
    pytest.importorskip("distributed")
    expr = "log(cosh(1 - x*y))"
    local = eosfast.grid(expr, 48, eta=0.3, steps=2000, model_params=None, tile=16)
    remote = eosfast.grid(expr, 48, eta=0.3, steps=2000, tile=16, scheduler="local:1",
                          threads=1)
    for name in ("status", "steps", "sharpness", "x", "y"):
        assert np.array_equal(getattr(local, name), getattr(remote, name), equal_nan=True)


# ---------------------------------------------------------------- files


def test_files_record_the_expression_and_rebuild_it(tmp_path, run_cli):
    g = tmp_path / "g.h5"
    rc, out, err = run_cli("grid", "--model", "(x*y - t)**2/2", "--param", "t=2", "--res", "64",
                           "--eta", "0.2", "--steps", "3000", "-o", g, "-q")
    assert rc == 0, err
    with h5py.File(g, "r") as f:
        assert f.attrs["model"] == "(x*y - t)**2/2"
        assert json.loads(f.attrs["model_params"]) == {"t": 2.0}
        assert json.loads(f.attrs["params"])["model_params"] == {"t": 2.0}
    r = eosfast.read_grid(g)
    m = get_model(r.model, r.params["model_params"])
    assert m is get_model("(x*y - t)**2/2", {"t": 2})
    # converged points are minima xy = t with sharpness x^2 + y^2
    conv = r.status[0] == Status.CONVERGED
    assert conv.any()
    assert np.allclose(r.x[0][conv] * r.y[0][conv], 2.0, atol=1e-9)
    assert np.allclose(r.sharpness[0][conv], r.x[0][conv]**2 + r.y[0][conv]**2, rtol=1e-9)
    for args in (["info", g], ["plot", "basin", g, "-o", tmp_path / "b.png"],
                 ["fractal", g, "--json"]):
        rc, out, err = run_cli(*args)
        assert rc == 0, err
    rc, out, err = run_cli("grid", "--model", "(x*y - t)**2/2", "--param", "t=2", "--res",
                           "64", "--eta", "0.2", "--steps", "3000", "-o", g, "--resume", "-q")
    assert rc == 0, err  # the same parameters: the complete file is recognised

    t = eosfast.trajectory("song_yun", 0.5, 6.0, eta=0.125, steps=50,
                           out=tmp_path / "t.h5")
    back = eosfast.read_trajectory(tmp_path / "t.h5")
    assert back.model == "song_yun" and np.array_equal(back.x, t.x)
    b = eosfast.bifurcation("chen_bruna", 1.4, 1.4, eta=[0.5, 0.55], burn=500, record=8,
                            model_params={"mu": 2.0}, out=tmp_path / "b.h5")
    back = eosfast.read_bifurcation(tmp_path / "b.h5")
    assert back.params["model_params"] == {"mu": 2.0} and np.array_equal(back.orbit, b.orbit)


PLANTED = INJECTIONS[:5] + ["exp(x).__class__", "x" * 5000, "open('/etc/passwd')"]


def test_injections_planted_in_file_attributes_are_refused(tmp_path, run_cli):
    g = tmp_path / "g.h5"
    eosfast.grid("zhu4", 8, steps=100, out=g)
    cases = [("model", text) for text in PLANTED]
    cases += [("model_params", text) for text in ('{"__class__": 1}', "not json",
                                                 '{"t": "os.system"}', "[1, 2]")]
    cases += [("model", np.int64(3))]
    for k, (attr, value) in enumerate(cases):
        bad = tmp_path / f"bad{k}.h5"
        bad.write_bytes(g.read_bytes())
        with h5py.File(bad, "r+") as f:
            f.attrs[attr] = value
            if attr == "model_params":
                f.attrs["model"] = "(x*y - t)**2"
        with pytest.raises(EosfastError) as exc:
            eosfast.read_grid(bad)
        assert "\n" not in str(exc.value) and len(str(exc.value)) < 400
        if k < 6:
            for args in (["info", bad], ["fractal", bad]):
                rc, out, err = run_cli(*args)
                assert rc == 2 and len(err.strip().splitlines()) == 1, err
                assert "Traceback" not in err and "refused" in err
    t = tmp_path / "t.h5"
    eosfast.trajectory("zhu4", steps=5, out=t)
    with h5py.File(t, "r+") as f:
        f.attrs["model"] = "__import__('os').system('true')"
    with pytest.raises(EosfastError, match="refused"):
        eosfast.read_trajectory(t)


def test_models_command_lists_every_model(run_cli):
    rc, out, err = run_cli("models")
    assert rc == 0, err
    for name, m in eosfast.MODELS.items():
        assert f"{name}: " in out
        assert m.source and (m.source in out)
    rc, out, err = run_cli("models", "--json")
    rows = json.loads(out)
    # the registry, then the vector family (eosfast ensemble, not a --model)
    assert [r["name"] for r in rows] == [*eosfast.MODELS, "vec"]
    assert rows[-1]["kind"] == "vector"
