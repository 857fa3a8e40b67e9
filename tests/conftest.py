import os
import sys
from pathlib import Path

import pytest

# tests import the plain-Python references as `naive`
sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _expression_cache(tmp_path_factory):
    """Generated expression code goes to a fresh folder (not the user's cache).

    Subprocesses of the tests (the real command line) inherit it.
    """
    old = os.environ.get("EOSFAST_CACHE_DIR")
    os.environ["EOSFAST_CACHE_DIR"] = str(tmp_path_factory.mktemp("eosfast-cache"))
    yield
    if old is None:
        os.environ.pop("EOSFAST_CACHE_DIR", None)
    else:
        os.environ["EOSFAST_CACHE_DIR"] = old


@pytest.fixture
def run_cli():
    """Run the real console script in a subprocess: (returncode, stdout, stderr)."""
    import subprocess

    def run(*args, cwd=None, timeout=300):
        p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *map(str, args)],
                           capture_output=True, text=True, cwd=cwd, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    return run


@pytest.fixture
def here(capsys, monkeypatch):
    """Run ``eosfast ARGS`` in this process, in a folder: (exit status, stdout, stderr).

    The same entry point as the console script; for the many refusals, where
    starting a process per case would only cost time.
    """
    from eosfast.cli.main import main

    def run(*args, cwd):
        monkeypatch.chdir(cwd)
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return exc.value.code, out, err

    return run
