"""A learner attached to an expert takes turns with the expert's own calls: trained by the user
from one thread (``learner.train_episode``) while the expert served an input from another, it held
the learner's lock while serving held the expert's, and switched the shared encoder to training
mode in the middle of the served embedding (dropout on, BatchNorm on the batch's statistics)."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from integrations.experts import VisionExpert
from meta import FewShotLearner, PrototypicalNetwork

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_training_episode_waits_for_an_input_being_served() -> None:
    modes: list[bool] = []
    training_in, served = threading.Event(), threading.Event()

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(9, 4)
            self.serving = False

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.serving:  # the served input: an episode is trained meanwhile
                self.serving = False
                trainer.start()
                training_in.wait(timeout=0.3)  # when the two take turns, it cannot come in
                modes.append(self.training)
                served.set()
            elif threading.current_thread().name == "trainer":
                training_in.set()
                served.wait(timeout=5)  # holds its mode until the served input has looked
            return self.linear(x.flatten(1))

    torch.manual_seed(0)
    expert = VisionExpert(Encoder(), image_shape=(1, 3, 3))
    learner = FewShotLearner(PrototypicalNetwork(expert.model))
    expert.add_meta_learning(learner)
    images = torch.rand(4, 1, 3, 3)
    expert.adapt({"a": [images[0]], "b": [images[1]]}, task="t")
    episode = (images[:2], torch.tensor([0, 1]), images[2:], torch.tensor([0, 1]))
    trainer = threading.Thread(target=learner.train_episode, args=episode, name="trainer")
    expert.model.serving = True
    expert.predict([images[2]], task="t")
    trainer.join(timeout=5)
    assert modes == [False]
    assert learner.episodes_trained == 1
