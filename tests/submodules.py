"""Find submodules used through their parent without an import of their own.

``import importlib`` followed by ``importlib.util.find_spec(...)`` works only
when something else in the process imported ``importlib.util`` first: inside
pytest it always has, in a user's fresh ``eosfast`` process it had not (issue
18). This module finds every such use in a set of files, for any package, not
a list written by hand:

1. each file's AST gives the names bound by ``import a.b`` / ``import a.b as
   c`` and the dotted chains used through them (``a.b.c.d``);
2. a chain ``a.b.c`` whose prefix ``a.b`` is imported but ``a.b.c`` is not,
   where ``a.b.c`` is a submodule (``importlib.util.find_spec`` finds it),
   is a candidate;
3. a fresh interpreter (``python -I -S``, no site, no ``.pth`` files) then
   tells whether ``import a.b`` alone makes ``a.b.c`` an attribute (``os.path``
   is, ``importlib.util`` is not): those that are not are the faults.

Run as a script it prints the faults, one per line, and exits 1 if any.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def uses(source: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Modules a file imports, and the ``(imported module, attribute chain)`` it uses.

    Returns
    -------
    imported : set of str
        Every dotted module name an ``import`` or ``from ... import`` of the
        file makes available (``from a import b`` counts ``a.b`` too).
    chains : set of (str, str)
        ``(module, "module.attr.attr")`` for each attribute chain on a name
        bound by ``import module`` (or ``import module as alias``).
    """
    tree = ast.parse(source)
    imported: set[str] = set()
    alias_of: dict[str, str] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for a in n.names:
                imported.add(a.name)
                parts = a.name.split(".")
                for i in range(1, len(parts)):
                    imported.add(".".join(parts[:i]))
                if a.asname:
                    alias_of[a.asname] = a.name
                else:
                    alias_of.setdefault(parts[0], parts[0])
        elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
            imported.add(n.module)
            imported.update(f"{n.module}.{a.name}" for a in n.names)
    chains: set[tuple[str, str]] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute):  # sub-chains too: each is checked alike
            parts = _dotted(n)
            if parts and parts[0] in alias_of:
                module = alias_of[parts[0]]
                chains.add((module, ".".join([module, *parts[1:]])))
    return imported, chains


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def candidates(paths: Iterable[Path]) -> list[tuple[str, str, str]]:
    """``(file, parent module, submodule)`` for submodules reached without their own import."""
    found = []
    for path in paths:
        imported, chains = uses(Path(path).read_text())
        for _, chain in chains:
            parts = chain.split(".")
            # walk the chain from the longest imported prefix to the next name
            for i in range(len(parts) - 1, 0, -1):
                prefix = ".".join(parts[:i])
                if prefix in imported:
                    nxt = f"{prefix}.{parts[i]}"
                    if nxt not in imported and _is_module(nxt):
                        found.append((str(path), prefix, nxt))
                    break
    return sorted(set(found))


def missing_in_fresh_interpreter(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The ``(parent, submodule)`` pairs where ``import parent`` leaves ``submodule`` unset.

    Asked of one fresh ``python -I -S`` per parent, so nothing that this
    process (or site, or a ``.pth`` file) imported can hide a fault.
    """
    by_parent: dict[str, set[str]] = {}
    for parent, sub in pairs:
        by_parent.setdefault(parent, set()).add(sub)
    missing = set()
    for parent, subs in by_parent.items():
        # -S: no site, so no .pth file imports anything; the paths are added by hand
        code = ("import importlib, json, sys\n"
                f"sys.path.extend({[p for p in sys.path if p]!r})\n"
                f"m = importlib.import_module({parent!r})\n"
                f"subs = {sorted(subs)!r}\n"
                "out = []\n"
                "for s in subs:\n"
                "    obj = m\n"
                "    try:\n"
                "        for part in s.split('.')[len(m.__name__.split('.')):]:\n"
                "            obj = getattr(obj, part)\n"
                "    except AttributeError:\n"
                "        out.append(s)\n"
                "print(json.dumps(out))\n")
        r = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:  # the parent itself does not import alone: report all
            missing.update((parent, s) for s in subs)
            continue
        missing.update((parent, s) for s in json.loads(r.stdout))
    return missing


def faults(paths: Iterable[Path]) -> list[str]:
    """``file: parent.sub used after 'import parent' only`` for each fault in ``paths``."""
    cands = candidates(paths)
    missing = missing_in_fresh_interpreter({(p, s) for _, p, s in cands})
    return [f"{f}: {s} used after 'import {p}' only; add 'import {s}'"
            for f, p, s in cands if (p, s) in missing]


if __name__ == "__main__":  # pragma: no cover
    root = Path(__file__).resolve().parents[1]
    files = [p for d in sys.argv[1:] or ("eosfast", "kernels", "cli", "benchmarks")
             for p in sorted((root / d).rglob("*.py"))]
    bad = faults(files)
    print("\n".join(bad))
    sys.exit(1 if bad else 0)
