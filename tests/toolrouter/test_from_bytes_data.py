"""from_bytes of a selector or a reward model takes bytes-like data (a bytearray or a memoryview,
as some database drivers give back) and names ``data`` when given something else: both failed in
the safetensors library's words ("argument 'bytes': 'str' object is not an instance of 'bytes'"),
bytes-like data included."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ToolProfile
from toolrouter.features import HashingFeaturizer
from toolrouter.reward_model import MetaRewardModel, Outcome, meta_train
from toolrouter.selection import FewShotToolSelector

FEATURIZER = HashingFeaturizer(dim=8)


def selector() -> FewShotToolSelector:
    sel = FewShotToolSelector(FEATURIZER)
    sel.add_tool("mail", "send an email", ["email Bob the report"])
    return sel


def reward_model() -> MetaRewardModel:
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), description=f"tool {t} answers") for t in "ab"]
    history = [Outcome("type", "ab"[i % 2], np.full(8, 0.1 * i), float(i % 3)) for i in range(8)]
    return meta_train(history, tools, FEATURIZER, context_dim=8, features=2, hidden=4, meta_steps=1, meta_batch=2, shots=2)


@pytest.mark.parametrize("make, check", [
    (selector, lambda copy: copy.tool_ids == ["mail"]),
    (reward_model, lambda copy: copy.tool_ids == ["a", "b"]),
])
def test_bytes_like_data_loads_and_other_data_is_named(make, check) -> None:
    original = make()
    blob = original.to_bytes()
    for data in (bytearray(blob), memoryview(blob)):
        assert check(type(original).from_bytes(data))
    for data in ("text", None):
        with pytest.raises(TypeError, match=rf"^data: expected bytes, got {type(data).__name__}$"):
            type(original).from_bytes(data)
