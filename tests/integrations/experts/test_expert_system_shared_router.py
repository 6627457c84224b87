"""An ``ExpertSystem`` on a router the application shares: the system's routes hold its experts
only, so a tool of the router that serves ``"text"`` (a text-to-speech tool) is never called with
an expert's request, nor its output returned as an expert's answer."""

from __future__ import annotations

import pytest

from integrations.experts import ExpertResult, ExpertSystem, LanguageExpert
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SUPPORT = {"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}


def test_a_tool_of_a_shared_router_is_never_on_the_experts_routes() -> None:
    calls: list[object] = []
    router = ToolMetaLearner([ToolProfile(tool_id="speech", capabilities=["text", "text:answer"], cost_per_use=0.0)], seed=0)
    router.functions["speech"] = lambda request: calls.append(request) or b"audio"
    system = ExpertSystem(router)
    system.add_expert("lang", LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2), cost_per_use=0.9)
    system.adapt(SUPPORT, task="answer")
    for _ in range(4):  # the cheaper speech tool would be planned first on a shared route
        for out in (system.process("sure", support=SUPPORT, task="answer"), system.process("sure", task="answer")):
            assert out.expert == "lang" and isinstance(out.result, ExpertResult) and out.label == "yes"
            assert [a.tool_id for a in out.attempts] == ["lang"]
    assert calls == [] and router.tool_statistics()["speech"].calls == 0
