"""The layout keeps its promises: no import cycles, a lazy start, one home per concern."""

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: source folder -> package name it installs as
PACKAGES = {"eosfast": "eosfast", "kernels": "eosfast.kernels", "cli": "eosfast.cli"}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every eosfast module ``name`` imports, at top level or inside functions."""
    is_pkg = path.name == "__init__.py"
    base = name if is_pkg else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                mod = f"{parent}.{node.module}" if node.module else parent
            else:
                mod = node.module or ""
            # "from pkg import sub" imports the submodule pkg.sub
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def test_no_import_cycles():
    mods = _modules()
    known = set(mods)
    graph = {m: _imports(m, p, known) for m, p in mods.items()}
    # a package's __init__ importing its own submodules is not a cycle of concerns
    for m in graph:
        graph[m] = {t for t in graph[m] if not (t.startswith(m + ".") and
                                                 mods[m].name == "__init__.py")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


_PROBE = """
import sys
from eosfast.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = [m for m in ("numba", "h5py", "matplotlib", "llvmlite") if m in sys.modules]
print("HEAVY", ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["grid", "--help"], ["grid", "--res", "-3"],
                                  ["grid", "--eta-range", "0.1", "0.2"], ["nosuch"],
                                  ["plot", "basin", "x.h5"]])
def test_help_and_argument_errors_import_nothing_heavy(args):
    r = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True,
                       timeout=60, cwd=ROOT)
    line = [x for x in r.stdout.splitlines() if x.startswith("HEAVY")]
    assert line == ["HEAVY "], (r.stdout, r.stderr)


def _commands():
    from eosfast.cli.main import COMMANDS, cli

    return {name: cli.get_command(None, name) for name in COMMANDS}


#: command -> the API function it calls
API = {"grid": "eosfast.grid:grid", "trajectory": "eosfast.trajectory:trajectory",
       "bifurcation": "eosfast.bifurcation:bifurcation", "zoom": "eosfast.zoom:zoom",
       "refine": "eosfast.refine:refine",
       "bench": "eosfast.bench:bench"}


@pytest.mark.parametrize("command", sorted(API))
def test_cli_defaults_are_the_api_defaults(command):
    import importlib

    module, func = API[command].split(":")
    sig = inspect.signature(getattr(importlib.import_module(module), func))
    cmd = _commands()[command]
    compared = 0
    for p in cmd.params:
        if not isinstance(p, click.Option) or p.name not in sig.parameters:
            continue
        api = sig.parameters[p.name].default
        if api is inspect.Parameter.empty or p.default is None or p.is_flag or p.multiple \
                or p.name == "out":  # the command names a file; the API returns arrays
            continue
        cli_default = tuple(p.default) if isinstance(p.default, list | tuple) else p.default
        api_default = tuple(api) if isinstance(api, list | tuple) else api
        assert cli_default == api_default, (command, p.name)
        compared += 1
    assert compared >= 3, command


def test_one_rename_and_one_hdf5_writer():
    renames, writers = [], []
    for name, path in _modules().items():
        text = path.read_text()
        renames += [name] * len(re.findall(r"os\.(replace|rename)\(|\.rename\(", text))
        if re.search(r"h5py\.File(\.__init__)?\([^)]*['\"](w|w-|x|a|r\+)['\"]", text):
            writers.append(name)
    assert renames == ["eosfast.store.atomic"]
    assert writers == ["eosfast.store.h5"]


def test_numba_flags_live_in_one_place():
    """No module sets fastmath (or any jit flag set) but kernels/config.py."""
    for name, path in _modules().items():
        if name == "eosfast.kernels.config":
            continue
        assert "fastmath" not in path.read_text(), name
    assert '"fastmath": False' in (ROOT / "kernels" / "config.py").read_text()


def test_only_kernels_import_numba():
    """Numba is imported by eosfast.kernels alone (after its CPU-feature set-up)."""
    for name, path in _modules().items():
        if name.startswith("eosfast.kernels"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "numba" for a in node.names), name
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] != "numba", name


def test_one_status_definition():
    """Status codes are named, not written as bare literals, outside status.py."""
    def number(node):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            node = node.operand
        return isinstance(node, ast.Constant) and isinstance(node.value, int)

    for name, path in _modules().items():
        if name == "eosfast.status":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(re.fullmatch(r"[\w.\[\]:, ]*status[\w\[\]:, ]*", ast.unparse(s))
                       and not ast.unparse(s).endswith((".ndim", ".size", ".shape"))
                       for s in sides) and any(map(number, sides)):
                    pytest.fail(f"{name}: {ast.unparse(node)}")


def test_ruff_clean():
    ruff = pytest.importorskip("ruff")
    del ruff
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def _installed_layout(dest: Path) -> Path:
    """A copy of the package laid out as pip installs it (kernels/ and cli/ inside eosfast/)."""
    import shutil

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "eosfast", dest / "eosfast", ignore=ignore)
    for folder in ("kernels", "cli"):
        shutil.copytree(ROOT / folder, dest / "eosfast" / folder, ignore=ignore)
    return dest


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "importlinter.cli"]
    return subprocess.run([*cmd, str(ROOT / "pyproject.toml"), "--no-cache"], cwd=tree,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
                          capture_output=True, text=True, timeout=300)


def test_imports_point_one_way(tmp_path):
    """import-linter's contracts (pyproject.toml): kernels < store < command line."""
    p = _lint_imports(_installed_layout(tmp_path))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "0 broken" in p.stdout


def test_an_import_the_wrong_way_breaks_a_contract(tmp_path):
    """The contracts can fail: the store importing the models (as it once did) is caught."""
    tree = _installed_layout(tmp_path)
    h5 = tree / "eosfast" / "store" / "h5.py"
    h5.write_text(h5.read_text() + "\n\ndef _wrong():\n    from ..models import get_model\n"
                  "    return get_model\n")
    p = _lint_imports(tree)
    assert p.returncode != 0
    assert "eosfast.store.h5 -> eosfast.models" in p.stdout


def test_the_kernel_contract_names_every_other_module():
    """A new module of eosfast/ cannot slip past the kernels' contract unnamed."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    kernels = next(c for c in config["contracts"] if c.get("source_modules") == ["eosfast.kernels"])
    leaves = {"eosfast.status", "eosfast.errors", "eosfast._numba_env", "eosfast._version",
              "eosfast.kernels"}
    top = {f"eosfast.{p.stem}" for p in (ROOT / "eosfast").glob("*.py") if p.stem != "__init__"}
    top |= {f"eosfast.{p.parent.name}" for p in (ROOT / "eosfast").glob("*/__init__.py")}
    top |= {"eosfast.kernels", "eosfast.cli"}
    assert top - leaves == set(kernels["forbidden_modules"])


#: Lines a module may have before its docstring must say why it is one piece.
MAX_LINES = 800


def test_no_module_is_a_catch_all():
    """Modules split along their seams: none above MAX_LINES lines unless it says why."""
    long = []
    for folder in PACKAGES:
        for path in (ROOT / folder).rglob("*.py"):
            n = len(path.read_text().splitlines())
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            if n > MAX_LINES and "one piece" not in doc:
                long.append(f"{path.relative_to(ROOT)} ({n} lines)")
    assert long == []
