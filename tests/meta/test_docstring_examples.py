"""The examples in meta's docstrings run and give what they show (as adapters_lib's and the
router's do): every module's, found by walking the package, so that a new module's are run too."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import meta

MODULES = sorted(["meta"] + [m.name for m in pkgutil.walk_packages(meta.__path__, prefix="meta.")])
#: Examples that train for seconds; what they show is covered by their classes' own tests.
SLOW = {"meta.continual.drift.DriftAdapter", "meta.nas.samplers.SurrogateSampler"}

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models on shared cores


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example may write a file
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(importlib.import_module(name), name):
        if test.name not in SLOW:
            runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of {name} failed (see above)"
