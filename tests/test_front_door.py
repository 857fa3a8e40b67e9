"""The front door (issue 18): the package as a user installs it, in a fresh environment.

Everything else in the suite runs inside pytest's process or beside the
checkout, where something has always imported what a fresh interpreter has
not (``importlib.util`` was one). Here the wheel is built from the checkout,
installed into a new virtual environment with its core dependencies only, and
every command runs as the console script of that environment, from a folder
outside the checkout, with a fresh compiled-model cache and no PYTHONPATH.

Each extra (``export``, ``dask``, ``nets``, ``cuda``) gets a fresh
environment of its own with that one extra: those tests are marked
``extras`` (minutes of installing; ``pytest -m extras``, run by ``.ci/run``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import readme
import submodules

ROOT = Path(__file__).resolve().parents[1]

#: Installing takes a while; a command of a small run takes seconds (kernels compile).
INSTALL_TIMEOUT = 1200
RUN_TIMEOUT = 600


def user_env(venv: Path, cache: Path) -> dict[str, str]:
    """The environment a user's shell gives ``venv/bin/eosfast``: that venv first on
    PATH, nothing of this test run (no PYTHONPATH, no MPLBACKEND, no pytest
    variables), a compiled-model cache of its own."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "MPLBACKEND",
            "EOSFAST_CACHE_DIR")
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("PYTEST", "COV_", "COVERAGE"))}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "/usr/bin:/bin")])
    env["VIRTUAL_ENV"] = str(venv)
    env["EOSFAST_CACHE_DIR"] = str(cache)
    return env


class FreshEnv:
    """A new virtual environment with the wheel (and maybe one extra) installed."""

    def __init__(self, root: Path, wheel: Path, extra: str | None = None):
        self.root = root
        self.venv = root / "venv"
        self.work = root / "work"
        self.work.mkdir(parents=True)
        self.env = user_env(self.venv, root / "cache")
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True,
                       timeout=INSTALL_TIMEOUT)
        spec = f"{wheel}[{extra}]" if extra else str(wheel)
        r = subprocess.run([str(self.venv / "bin" / "pip"), "install", "-q", spec],
                           capture_output=True, text=True, env=self.env,
                           timeout=INSTALL_TIMEOUT)
        assert r.returncode == 0, r.stdout + r.stderr

    def eosfast(self, *args, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
        """``eosfast ARGS`` in the work folder, through this environment's console script."""
        return subprocess.run([str(self.venv / "bin" / "eosfast"), *map(str, args)],
                              capture_output=True, text=True, cwd=self.work, env=self.env,
                              timeout=timeout)

    def python(self, code: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
        """This environment's own interpreter on ``code``, in the work folder."""
        return subprocess.run([str(self.venv / "bin" / "python"), "-c", code],
                              capture_output=True, text=True, cwd=self.work, env=self.env,
                              timeout=timeout)

    def ok(self, *args, timeout: float = RUN_TIMEOUT) -> str:
        """Run ``eosfast ARGS``, assert it succeeded cleanly; its stdout."""
        r = self.eosfast(*args, timeout=timeout)
        assert r.returncode == 0, f"eosfast {' '.join(map(str, args))}: {r.stderr}"
        assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
        return r.stdout


def refused(r: subprocess.CompletedProcess) -> str:
    """Exit status 2 and exactly one line on stderr, no trace: that line."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel a plain ``pip install .`` builds (build isolation, as for a user)."""
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                        str(out), str(ROOT)], capture_output=True, text=True,
                       timeout=INSTALL_TIMEOUT)
    assert r.returncode == 0, r.stderr
    (whl,) = out.glob("eosfast-*.whl")
    return whl


@pytest.fixture(scope="module")
def core(tmp_path_factory, wheel) -> FreshEnv:
    """A fresh venv with the wheel and its core dependencies, nothing else."""
    return FreshEnv(tmp_path_factory.mktemp("core"), wheel)


# ---------------------------------------------------------------- the class of bug


@pytest.mark.parametrize("source, fault", [
    ("import importlib\nimportlib.util.find_spec('x')\n", "importlib.util"),
    ("import concurrent\nconcurrent.futures.ThreadPoolExecutor\n", "concurrent.futures"),
    ("import xml\nxml.etree.ElementTree.fromstring('<a/>')\n", "xml.etree"),
    ("import email\nemail.utils.formatdate()\n", "email.utils"),
    ("import logging\nlogging.handlers.RotatingFileHandler\n", "logging.handlers"),
    ("import xml.etree\nxml.etree.ElementTree.fromstring('<a/>')\n", "xml.etree.ElementTree"),
    ("import logging as lg\nlg.config.dictConfig({})\n", "logging.config"),
    ("def f():\n    import importlib\n    return importlib.machinery\n", "importlib.machinery"),
])
def test_the_submodule_check_finds_each_kind_of_fault(tmp_path, source, fault):
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = submodules.faults([path])
    assert len(found) == 1 and f"{fault} used after" in found[0], found


@pytest.mark.parametrize("source", [
    "import importlib.util\nimportlib.util.find_spec('x')\n",
    "import importlib\nimport importlib.util\nimportlib.util.find_spec('x')\n",
    "import os\nos.path.join('a', 'b')\n",             # os imports os.path itself
    "from concurrent import futures\nfutures.ThreadPoolExecutor\n",
    "import concurrent.futures\nconcurrent.futures.ThreadPoolExecutor\n",
    "import importlib\nimportlib.import_module('json')\n",  # a function, not a module
    "import numpy as np\nnp.linalg.norm([1.0])\n",     # numpy imports linalg itself
])
def test_the_submodule_check_passes_correct_code(tmp_path, source):
    path = tmp_path / "mod.py"
    path.write_text(source)
    assert submodules.faults([path]) == []


def test_no_submodule_is_used_without_its_own_import():
    files = [p for d in ("eosfast", "kernels", "cli", "benchmarks", "tests")
             for p in sorted((ROOT / d).rglob("*.py"))]
    assert submodules.faults(files) == []


def test_readme_quickstart_is_two_lines_and_ci_reads_them_from_it():
    first, second = readme.quickstart()
    assert first.startswith("pip install . && eosfast ")
    assert second.startswith("pip install ") and second.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    # CI runs what it reads from the README; its comment quotes the lines for readers
    assert "tests/readme.py quickstart 1" in ci and "tests/readme.py quickstart 2" in ci
    assert f"#   line 1: {first}\n" in ci and f"#   line 2: {second}\n" in ci


# ---------------------------------------------------------------- the installed package


def test_every_command_answers_help_in_a_fresh_environment(core):
    from eosfast.cli.main import COMMANDS

    top = core.ok("--help")
    listed = {line.split()[0] for line in top.split("Commands:")[1].splitlines()
              if line.strip()}
    assert listed == set(COMMANDS)
    for name in COMMANDS:
        out = core.ok(name, "--help")
        assert out.startswith(f"Usage: eosfast {name}"), out[:80]
    assert core.ok("--version").strip().endswith(core.python(
        "import eosfast; print(eosfast.__version__)").stdout.strip())


def test_grid_info_export_plot_fractal_in_a_fresh_environment(core):
    core.ok("grid", "--res", "128", "--steps", "2000", "-o", "g.h5", "-q")
    info = json.loads(core.ok("info", "g.h5", "--json"))
    assert info["kind"] == "grid" and info["complete"]
    assert core.ok("info", "g.h5", "--verify")
    core.ok("export", "g.h5", "-o", "g.nc", "-q")
    r = core.python("import xarray as xr\n"
                    "ds = xr.open_dataset('g.nc')\n"
                    "print(dict(ds.sizes), int((ds.status == 1).sum()))")
    assert r.returncode == 0, r.stderr
    assert "'eta': 1, 'y0': 128, 'x0': 128" in r.stdout
    assert int(r.stdout.split()[-1]) > 0  # some inits converge at eta = 0.2
    core.ok("plot", "basin", "g.h5", "-o", "basin.png")
    assert (core.work / "basin.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fractal = json.loads(core.ok("fractal", "g.h5", "--json"))
    assert 1.0 <= fractal["box_dimension"] <= 2.0


def test_analysis_commands_run_in_a_fresh_environment(core):
    core.ok("trajectory", "--steps", "500", "-o", "t.h5")
    core.ok("bifurcation", "--eta-range", "0.3", "0.49", "--eta-res", "40", "--burn", "500",
            "--record", "64", "-o", "b.h5", "-q")
    core.ok("zoom", "--levels", "2", "--res", "64", "--steps", "1000", "-o", "z.h5", "-q")
    core.ok("refine", "--base", "33", "--levels", "1", "--steps", "1000", "--verify", "0",
            "-o", "r.h5", "-q")
    out = core.ok("ensemble", "--dim", "1000", "--eta", "0.05", "--samples", "5000", "-o",
                  "e.h5", "-q")
    assert "100.0% of the converged inside the band" in out
    core.ok("figure", "fig3", "-o", "figs", "-q")
    assert (core.work / "figs" / "fig3.png").stat().st_size > 10_000
    for name, kind in (("t.h5", "trajectory"), ("b.h5", "bifurcation"), ("z.h5", "zoom"),
                       ("r.h5", "refined"), ("e.h5", "ensemble")):
        assert json.loads(core.ok("info", name, "--json"))["kind"] == kind
    assert "zhu4" in core.ok("models")
    bench = json.loads(core.ok("bench", "--res", "64", "--repeat", "1", "--json"))
    assert bench


def test_optimizers_and_planes_in_a_fresh_environment(core):
    """Issue 19 as a user types it: momentum, a plane over hyperparameters, its picture."""
    out = core.ok("trajectory", "--optimizer", "nesterov", "--beta", "0.3", "--steps", "3000",
                  "-o", "tn.h5")
    assert "nesterov beta=0.3" in out and "threshold=8.125" in out
    core.ok("grid", "--res", "96", "--optimizer", "momentum", "--beta", "0.5", "-o", "m.h5",
            "-q")
    info = json.loads(core.ok("info", "m.h5", "--json"))
    assert info["optimizer"] == {"optimizer": "momentum", "beta": 0.5}
    assert info["slices"][0]["threshold"] == 15.0
    core.ok("grid", "--axes", "eta_x", "eta_y", "--log", "--res", "64", "-o", "p.h5", "-q")
    assert "on eta_x [0.01, 1] x eta_y [0.01, 1] (log)" in core.ok("info", "p.h5")
    core.ok("plot", "basin", "p.h5", "-o", "p.png")
    assert (core.work / "p.png").stat().st_size > 10_000
    fractal = json.loads(core.ok("fractal", "p.h5", "--json"))
    assert 1.0 <= fractal["box_dimension"] <= 2.0


def test_readme_python_snippet_runs_in_a_fresh_environment(core):
    core.ok("grid", "--res", "64", "--steps", "2000", "-o", "grid.h5", "-q")
    code = readme.snippet() + "print(len(df), dict(ds.sizes))\n"
    r = core.python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0].startswith("4096 ")  # 64 x 64 rows
    assert "'x0': 64" in r.stdout


def test_commands_that_need_an_extra_say_which_without_it(core):
    core.ok("grid", "--res", "32", "--steps", "200", "-o", "small.h5", "-q")
    assert "eosfast[export]" in refused(core.eosfast("export", "small.h5", "-o", "x.parquet"))
    assert "eosfast[dask]" in refused(core.eosfast("grid", "--res", "32", "--scheduler",
                                                    "local:2", "-o", "d.h5"))
    assert "eosfast[nets]" in refused(core.eosfast("nets", "--arch", "scalar4", "-o", "n.h5"))
    assert "eosfast[cuda]" in refused(core.eosfast("grid", "--backend", "cuda", "-o", "c.h5"))
    for name in ("x.parquet", "d.h5", "n.h5", "c.h5"):
        assert not (core.work / name).exists()
        assert not (core.work / (name + ".part")).exists()


# ---------------------------------------------------------------- each extra, alone


@pytest.mark.extras
def test_export_extra_writes_parquet(tmp_path, wheel):
    env = FreshEnv(tmp_path, wheel, "export")
    env.ok("grid", "--res", "64", "--steps", "1000", "-o", "g.h5", "-q")
    env.ok("export", "g.h5", "-o", "g.parquet", "-q")
    r = env.python("import pandas as pd\n"
                   "df = pd.read_parquet('g.parquet')\n"
                   "print(len(df), sorted(df.status.unique()))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "4096"


@pytest.mark.extras
def test_dask_extra_runs_a_local_cluster(tmp_path, wheel):
    env = FreshEnv(tmp_path, wheel, "dask")
    env.ok("grid", "--res", "128", "--steps", "1000", "-o", "local.h5", "-q")
    env.ok("grid", "--res", "128", "--steps", "1000", "--scheduler", "local:2", "-o",
           "cluster.h5", "-q")
    r = env.python(textwrap.dedent("""
        import eosfast, numpy as np
        a, b = eosfast.read_grid("local.h5"), eosfast.read_grid("cluster.h5")
        print(all(np.array_equal(getattr(a, n), getattr(b, n), equal_nan=True)
                  for n in ("status", "steps", "sharpness", "x", "y")))
    """))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"  # the cluster's file is the local one, bit for bit


@pytest.mark.extras
def test_nets_extra_trains_scalar4(tmp_path, wheel):
    env = FreshEnv(tmp_path, wheel, "nets")
    env.ok("nets", "--arch", "scalar4", "-o", "n.h5", "-q")
    info = json.loads(env.ok("info", "n.h5", "--json"))
    assert info["kind"] == "nets"


@pytest.mark.extras
def test_cuda_extra_without_a_gpu_is_one_line(tmp_path, wheel):
    env = FreshEnv(tmp_path, wheel, "cuda")
    r = env.python("import numba.cuda; print('numba-cuda', numba.cuda.__name__)")
    assert r.returncode == 0, r.stderr  # the extra is installed...
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has an NVIDIA driver: the no-device error cannot show")
    line = refused(env.eosfast("grid", "--res", "64", "--backend", "cuda", "-o", "c.h5"))
    assert "--backend" in line and "eosfast[cuda]" not in line  # ...so it names the device
    assert not (env.work / "c.h5").exists() and not (env.work / "c.h5.part").exists()
