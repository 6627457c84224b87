"""A meta-learner is attached to one expert at a time: attached to a second expert on the same
model, it moved to that expert's lock, and its calls raced with the first expert's again."""

from __future__ import annotations

import pytest
from torch import nn

from integrations.experts import LearnerModelError, VisionExpert
from meta import FewShotLearner, PrototypicalNetwork
from meta._sync import instance_lock

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_learner_attached_to_another_expert_is_refused_naming_both() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(9, 4))
    first, second = VisionExpert(encoder, image_shape=(1, 3, 3)), VisionExpert(encoder, image_shape=(1, 3, 3))
    learner = FewShotLearner(PrototypicalNetwork(encoder))
    first.add_meta_learning(learner)
    first.add_meta_learning(learner)  # again to the same expert: nothing changes
    with pytest.raises(LearnerModelError, match="this FewShotLearner is attached to another VisionExpert already; attached to this VisionExpert"):
        second.add_meta_learning(learner)
    assert second.meta_learner is None and instance_lock(learner) is first._lock


def test_a_learner_its_expert_replaced_may_be_attached_to_another() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(9, 4))
    first, second = VisionExpert(encoder, image_shape=(1, 3, 3)), VisionExpert(encoder, image_shape=(1, 3, 3))
    learner = FewShotLearner(PrototypicalNetwork(encoder))
    first.add_meta_learning(learner)
    first.add_meta_learning(FewShotLearner(PrototypicalNetwork(encoder)))
    assert second.add_meta_learning(learner).meta_learner is learner and instance_lock(learner) is second._lock
