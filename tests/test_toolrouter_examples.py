"""The examples in toolrouter's and integrations' docstrings run and give what they show (as meta's
and adapters_lib's do): every module's, found by walking the packages, so that a new module's are
run too."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import integrations
import toolrouter


def _has_examples(name: str) -> bool:
    # read, not imported: a module without examples would cost the suite only its import time
    origin = importlib.util.find_spec(name).origin
    return ">>>" in Path(origin).read_text(encoding="utf-8")


MODULES = [
    name
    for name in sorted(
        [p.__name__ for p in (toolrouter, integrations)]
        + [m.name for p in (toolrouter, integrations) for m in pkgutil.walk_packages(p.__path__, prefix=f"{p.__name__}.")]
    )
    if _has_examples(name)
]
#: Modules (and their submodules) whose examples need an optional extra: module -> the extra's package.
NEEDS_EXTRA = {
    "integrations.openai": "openai",
    "integrations.anthropic": "anthropic",
    "integrations.langchain": "langchain",
    "integrations.mcp": "mcp",
    "integrations.shortlist": "anthropic",  # its example shows the Anthropic tool list
}

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models on shared cores


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path, monkeypatch) -> None:
    for module, extra in NEEDS_EXTRA.items():
        if (name == module or name.startswith(f"{module}.")) and importlib.util.find_spec(extra) is None:
            pytest.skip(f"{name}'s examples need the {extra} extra")
    monkeypatch.chdir(tmp_path)  # an example may write a file
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(importlib.import_module(name), name):
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of {name} failed (see above)"


def test_the_postgres_store_example_runs_on_a_server(pg_url: str) -> None:
    # skipped as a doctest (it needs a server): run here on the test server, at its URL
    from toolrouter.store import postgres

    [test] = [t for t in doctest.DocTestFinder().find(postgres) if "PostgresStore(" in t.docstring]
    text = test.docstring.replace("# doctest: +SKIP", "")
    text = text.replace("postgresql://router:secret@db.internal:5432/routing", pg_url)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(doctest.DocTestParser().get_doctest(text, test.globs, test.name, test.filename, test.lineno))
    assert runner.failures == 0
