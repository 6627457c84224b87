"""A VisionExpert served from several threads (an ExpertSystem called by several) embeds every
image with its encoder in eval mode, and leaves the encoder's mode as it found it: one call's
switch back to training mode must not land in the middle of another's embedding."""

from __future__ import annotations

import itertools
import threading

import torch
from torch import nn

from integrations.experts import VisionExpert


def test_concurrent_embeddings_run_in_eval_and_keep_the_mode() -> None:
    calls, modes = itertools.count(), []
    second_in, first_done = threading.Event(), threading.Event()
    image = torch.zeros(1, 3, 3)

    class Encoder(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            call = next(calls)
            if call == 1:  # the first served input: a second call starts meanwhile
                second.start()
                second_in.wait(timeout=0.3)  # when embeddings take turns, it cannot come in
            elif call == 2:  # it runs on after the first call has returned
                second_in.set()
                first_done.wait(timeout=5)
            modes.append(self.training)
            return x.flatten(1)

    expert = VisionExpert(Encoder(), image_shape=(1, 3, 3))
    expert.adapt({"blank": [image]}, task="t")  # call 0
    second = threading.Thread(target=expert.predict, args=([image],), kwargs={"task": "t"})
    assert expert.model.training
    expert.predict([image], task="t")  # call 1
    first_done.set()
    second.join(timeout=5)
    assert modes == [False, False, False]
    assert expert.model.training
