"""``LanguageExpert.relearn_tasks`` (what to call after training ``expert.model``) describes the
router's capabilities (the task served when none is named) again too: they kept the prototypes
of the encoder before, and inputs were scored with the new one against them."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import LanguageExpert
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def routing_expert(**options) -> LanguageExpert:
    """An expert routing for three tools, each capability described in words."""
    expert = LanguageExpert(HashingFeaturizer(dim=64), **options)
    expert.add_tool_optimization(ToolMetaLearner([
        ToolProfile(tool_id="web", capabilities=["search"], description="search the web for news and pages"),
        ToolProfile(tool_id="calc", capabilities=["math"], description="calculator arithmetic sums products"),
        ToolProfile(tool_id="mail", capabilities=["email"], description="send an email to a contact"),
    ], seed=0))
    return expert


def test_relearned_capabilities_are_those_of_the_trained_encoder() -> None:
    texts = ["sum of two numbers", "news about Mars", "write to Anna"]
    expert = routing_expert()
    expert.predict_proba(texts)  # the capabilities, described under this encoder
    with torch.no_grad():  # a training of the caller's own
        for p in expert.model.parameters():
            if p.requires_grad:
                p.normal_(generator=torch.Generator().manual_seed(0))
    expert.relearn_tasks()
    fresh = routing_expert()
    fresh.model.load_state_dict(expert.model.state_dict())
    assert torch.allclose(expert.predict_proba(texts)[1], fresh.predict_proba(texts)[1])
