import os
import sys
from pathlib import Path

import pytest

# tests import the plain-Python references as `naive`
sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def run_cli():
    """Run the real console script in a subprocess: (returncode, stdout, stderr)."""
    import subprocess

    def run(*args, cwd=None, timeout=300):
        p = subprocess.run([sys.executable, "-m", "eosfast.cli.main", *map(str, args)],
                           capture_output=True, text=True, cwd=cwd, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    return run
