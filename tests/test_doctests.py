"""The docstrings' examples, run against the installed package.

Docstring examples are part of the documentation's promises, so they run
with the suite. They are collected here, from the package that the tests
import, rather than by ``pytest --doctest-modules`` over the source folder:
after a plain ``pip install .`` (as CI does) that would import each module
a second time from the checkout and fail on the mismatch.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest


def _modules_with_examples() -> list[str]:
    # Walk the package by its files and read each module's source before
    # importing it: only modules with examples are imported, so a module
    # whose optional dependency is missing costs nothing here.
    # A source checkout puts its root on eosfast.__path__ (for eosfast.kernels
    # and eosfast.cli), so the root's own eosfast/ shows up as a subpackage
    # "eosfast.eosfast": every file is visited once, under its first name.
    found, packages, seen = [], ["eosfast"], set()
    while packages:
        spec = importlib.util.find_spec(packages.pop())
        init = Path(spec.origin).resolve()
        if init in seen:
            continue
        seen.add(init)
        if ">>> " in init.read_text(encoding="utf-8"):
            found.append(spec.name)
        for info in pkgutil.iter_modules(spec.submodule_search_locations):
            name = f"{spec.name}.{info.name}"
            if info.ispkg:
                packages.append(name)
                continue
            origin = (Path(info.module_finder.path) / f"{info.name}.py").resolve()
            if origin in seen or not origin.is_file():
                continue
            seen.add(origin)
            if ">>> " in origin.read_text(encoding="utf-8"):
                found.append(name)
    return sorted(found)


MODULES = _modules_with_examples()


def test_examples_are_found():
    # A broken discovery would silently run nothing, or run a module twice.
    assert {"eosfast.grid", "eosfast.fractal", "eosfast.models"} <= set(MODULES)
    assert not any(name.startswith("eosfast.eosfast") for name in MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has '>>> ' in its source but no docstring example was found"
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
