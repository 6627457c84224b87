"""The examples in adapters_lib's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import adapters_lib

MODULES = sorted(
    ["adapters_lib"] + [m.name for m in pkgutil.walk_packages(adapters_lib.__path__, prefix="adapters_lib.")]
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"


def test_every_public_name_is_documented() -> None:
    for name in adapters_lib.__all__:
        assert getattr(adapters_lib, name).__doc__, f"adapters_lib.{name} has no docstring"
