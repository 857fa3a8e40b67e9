"""The wheel carries eosfast.kernels and eosfast.cli, and no top-level kernels/cli."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_the_mapped_subpackages(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("eosfast-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("eosfast/__init__.py", "eosfast/kernels/grid.py", "eosfast/kernels/maps.py",
                   "eosfast/cli/main.py", "eosfast/cli/grid.py", "eosfast/py.typed",
                   "eosfast/figures/__init__.py", "eosfast/figures/paper.py",
                   "eosfast/store/cache.py", "eosfast/store/h5.py", "eosfast/plots/base.py",
                   "eosfast/mapcache.py", "eosfast/registry.py", "eosfast/kernels/codegen.py",
                       "eosfast/refine/lattice.py", "eosfast/fractal/measures.py",
                       "eosfast/store/zoomfile.py", "eosfast/store/run.py",
                   "eosfast/figures/atlas.py", "eosfast/cli/models.py"):
        assert needed in names, needed
    # every subpackage of the source tree (store, plots, nets, ...) is in the wheel
    for init in (ROOT / "eosfast").rglob("__init__.py"):
        rel = init.relative_to(ROOT).as_posix()
        assert rel in names, rel
    assert not any(n.startswith(("kernels/", "cli/", "tests/")) for n in names)
    entry = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry[0]).decode()
    assert "eosfast = eosfast.cli.main:main" in text


def test_no_hard_coded_fastmath():
    """Numba flags live in kernels/config.py only (and fastmath stays off)."""
    for path in (ROOT / "kernels").glob("*.py"):
        text = path.read_text()
        if path.name != "config.py":
            assert "fastmath" not in text, path
    assert '"fastmath": False' in (ROOT / "kernels" / "config.py").read_text()


def test_source_checkout_imports_subpackages():
    """``python -c`` in the checkout imports this folder's eosfast (it shadows an
    installed copy), and eosfast.kernels / eosfast.cli must still resolve."""
    code = ("import eosfast, eosfast.kernels.grid, eosfast.cli.main; "
            "print(eosfast.__file__); print(eosfast.kernels.grid.__file__)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    pkg, kern = r.stdout.split()
    assert Path(pkg).parent == ROOT / "eosfast"
    assert Path(kern).parent == ROOT / "kernels"
