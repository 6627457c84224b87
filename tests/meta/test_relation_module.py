"""``RelationNetwork(relation_module=...)`` keeps the caller's module even when it is falsy (an empty
``nn.Sequential`` has no layers, so ``module or default`` replaced it with the default MLP), and a
relation module that is no module is refused naming it."""

from __future__ import annotations

import pytest
from torch import nn

from meta.few_shot import RelationNetwork


def test_an_empty_sequential_is_kept_as_the_relation_module() -> None:
    module = nn.Sequential()
    assert RelationNetwork(nn.Flatten(), relation_module=module).relation is module


def test_a_relation_module_that_is_no_module_is_named() -> None:
    with pytest.raises(TypeError, match="relation_module: expected an nn.Module or None, got function"):
        RelationNetwork(nn.Flatten(), relation_module=lambda pairs: pairs)  # type: ignore[arg-type]
