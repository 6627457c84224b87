"""A VisionExpert served from several threads (an ExpertSystem called by several) embeds every
image with its encoder in eval mode, and leaves the encoder's mode as it found it: one call's
switch back to training mode must not land in the middle of another's embedding. An input served
while the expert meta-trains, or a save, waits for the training to end and its tasks to be
learned again."""

from __future__ import annotations

import itertools
import threading

import pytest
import torch
from torch import nn

from integrations.experts import VisionExpert
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


def test_an_input_served_during_meta_training_waits_for_it() -> None:
    # served midway, it met a half-trained encoder and the prototypes of the one before
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16))
    images, labels = torch.rand(60, 1, 16, 16, generator=torch.Generator().manual_seed(0)), torch.arange(6).repeat_interleave(10)
    expert.adapt({"a": [images[0]], "b": [images[10]]}, task="t")
    served: list[torch.Tensor] = []
    done = threading.Event()

    def serve() -> None:
        served.append(expert.predict_proba(images[:4], task="t")[1])
        done.set()

    def on_episode(episode: int, metrics: dict) -> None:
        if episode == 1:
            threading.Thread(target=serve).start()
            done.wait(timeout=0.3)  # when serving waits for the training, it cannot be done

    expert.meta_train(images, labels, ProtoNetRecipe(n_way=3, n_query=1, episodes=2, augment=False, rotation_classes=False), on_episode=on_episode)
    assert done.wait(timeout=5)
    assert torch.equal(served[0], expert.predict_proba(images[:4], task="t")[1])


def test_a_save_during_meta_training_waits_for_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # saved midway, the file held half-trained weights with the prototypes of the encoder before
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16))
    images, labels = torch.rand(60, 1, 16, 16, generator=torch.Generator().manual_seed(0)), torch.arange(6).repeat_interleave(10)
    expert.adapt({"a": [images[0]], "b": [images[10]]}, task="t")
    saved = threading.Event()

    def on_episode(episode: int, metrics: dict) -> None:
        if episode == 1:
            threading.Thread(target=lambda: (expert.save(tmp_path / "e.safetensors"), saved.set())).start()
            saved.wait(timeout=0.3)  # when a save waits for the training, it cannot be done

    expert.meta_train(images, labels, ProtoNetRecipe(n_way=3, n_query=1, episodes=2, augment=False, rotation_classes=False), on_episode=on_episode)
    assert saved.wait(timeout=5)
    loaded = VisionExpert(conv4(4), image_shape=(1, 16, 16))
    loaded.load(tmp_path / "e.safetensors")
    assert all(torch.equal(v, expert.model.state_dict()[k]) for k, v in loaded.model.state_dict().items())
    assert torch.equal(loaded.task("t").tensors["prototypes"], expert.task("t").tensors["prototypes"])


@pytest.mark.timeout(60)
def test_a_save_in_a_training_callback_goes_on_while_another_thread_saves(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a save waiting for the training must not keep the callback's own save (a checkpoint) waiting
    # in turn: the training would then never end, nor either save
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16))
    images, labels = torch.rand(60, 1, 16, 16, generator=torch.Generator().manual_seed(0)), torch.arange(6).repeat_interleave(10)
    expert.adapt({"a": [images[0]], "b": [images[10]]}, task="t")
    other = threading.Thread(target=expert.save, args=(tmp_path / "other.safetensors",))
    checkpoints: list = []

    def on_episode(episode: int, metrics: dict) -> None:
        if episode == 1:
            other.start()
            other.join(timeout=0.3)  # it waits for the training to end
            checkpoints.append(expert.save(tmp_path / "checkpoint.safetensors"))

    expert.meta_train(images, labels, ProtoNetRecipe(n_way=3, n_query=1, episodes=2, augment=False, rotation_classes=False), on_episode=on_episode)
    other.join(timeout=5)
    assert checkpoints and (tmp_path / "other.safetensors").is_file()
