"""The router's capabilities (the task a ``LanguageExpert`` serves when none is named) are described
with the learner attached when they are served: described before ``add_meta_learning``, they kept
the first description, so the same expert and tools answered otherwise by the order of the calls."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import LanguageExpert
from meta import FewShotLearner
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXTS = ["sum of two numbers", "news about Mars", "write to Anna"]


def _expert() -> LanguageExpert:
    expert = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    expert.add_tool_optimization(ToolMetaLearner([
        ToolProfile(tool_id="web", capabilities=["search"], description="search the web for news and pages"),
        ToolProfile(tool_id="calc", capabilities=["math"], description="calculator arithmetic sums products"),
        ToolProfile(tool_id="mail", capabilities=["email"], description="send an email to a contact"),
    ], seed=0))
    return expert


def _attach(expert: LanguageExpert) -> None:
    expert.add_meta_learning(FewShotLearner("prototypical", encoder=expert.model, distance="cosine"))


def test_capabilities_served_before_a_learner_is_attached_are_described_again_with_it() -> None:
    expert = _expert()
    expert.predict_proba(TEXTS)  # the capabilities, described without a learner
    _attach(expert)
    fresh = _expert()
    _attach(fresh)
    torch.testing.assert_close(expert.predict_proba(TEXTS)[1], fresh.predict_proba(TEXTS)[1])
