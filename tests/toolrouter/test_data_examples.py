"""The loaders' examples, which read the shared datasets (skipped as doctests: a checkout may have
none beside it), run on the shared copy when it is there and give what they show."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not present")
@pytest.mark.parametrize(
    "module",
    ["toolrouter.data.metatool", "toolrouter.data.routerbench", "toolrouter.data.bfcl", "meta.data.nasbench201", "meta.nas.tabular", "meta.data.omniglot"],
)
def test_the_examples_on_the_shared_data_run(module: str) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    parser = doctest.DocTestParser()
    found = [t for t in doctest.DocTestFinder().find(importlib.import_module(module)) if "../shared/data" in t.docstring]
    assert found, f"{module} has no example on the shared data"
    for test in found:
        text = test.docstring.replace("  # doctest: +SKIP", "").replace("../shared/data", str(SHARED))
        runner.run(parser.get_doctest(text, test.globs, test.name, test.filename, test.lineno))
    assert runner.failures == 0
