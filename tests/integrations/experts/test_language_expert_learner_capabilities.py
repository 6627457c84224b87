"""The router's capabilities (the task a ``LanguageExpert`` serves when none is named) are described
with the learner attached when they are served: described before ``add_meta_learning``, they kept
the first description, so the same expert and tools answered otherwise by the order of the calls."""

from __future__ import annotations

import pytest
import torch

from test_language_expert_relearn_capabilities import routing_expert

from integrations.experts import LanguageExpert
from meta import FewShotLearner

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXTS = ["sum of two numbers", "news about Mars", "write to Anna"]


def _attach(expert: LanguageExpert) -> None:
    expert.add_meta_learning(FewShotLearner("prototypical", encoder=expert.model, distance="cosine"))


def test_capabilities_served_before_a_learner_is_attached_are_described_again_with_it() -> None:
    expert = routing_expert(lora_rank=2)
    expert.predict_proba(TEXTS)  # the capabilities, described without a learner
    _attach(expert)
    fresh = routing_expert(lora_rank=2)
    _attach(fresh)
    torch.testing.assert_close(expert.predict_proba(TEXTS)[1], fresh.predict_proba(TEXTS)[1])
