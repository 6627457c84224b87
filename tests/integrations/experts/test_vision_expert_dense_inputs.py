"""``VisionExpert`` given a sparse or meta-device tensor (an image, meta-training images or labels):
an error naming the input, where torch failed naming none, and nothing changed."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, VisionExpert
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NOT_DENSE = {
    "sparse_coo": (lambda x: x.to_sparse(), "a torch.sparse_coo tensor"),
    "sparse_csr": (lambda x: x[0].to_sparse_csr(), "a torch.sparse_csr tensor"),
    "meta": (lambda x: x.to("meta"), "a meta-device tensor"),
}


def _expert() -> VisionExpert:
    torch.manual_seed(0)
    expert = VisionExpert(conv4(8), image_shape=(1, 16, 16))
    expert.adapt({"a": [torch.zeros(1, 16, 16)], "b": [torch.ones(1, 16, 16)]}, task="t")
    return expert


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("kind", sorted(NOT_DENSE))
def test_an_image_that_is_not_dense_is_named(kind: str) -> None:
    convert, words = NOT_DENSE[kind]
    expert = _expert()
    image = convert(torch.rand(1, 16, 16))
    with pytest.raises(ExpertInputError, match=f"input: expected a dense tensor, got {words}"):
        expert.process_task(image, task="t")
    with pytest.raises(ExpertInputError, match=rf"examples\['b'\]\[0\]: expected a dense tensor, got {words}"):
        expert.adapt({"a": [torch.zeros(1, 16, 16)], "b": [image]}, task="u")
    assert expert.tasks == ["t"]


@pytest.mark.parametrize("kind", ["sparse_coo", "meta"])
def test_meta_training_data_that_is_not_dense_is_named(kind: str) -> None:
    convert, words = NOT_DENSE[kind]
    expert = _expert()
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}
    images, labels = torch.rand(12, 1, 16, 16), torch.arange(3).repeat_interleave(4)
    recipe = ProtoNetRecipe(n_way=3, episodes=1, rotation_classes=False)
    with pytest.raises(ExpertInputError, match=f"images: expected a dense tensor, got {words}"):
        expert.meta_train(convert(images), labels, recipe)
    with pytest.raises(ExpertInputError, match=f"labels: expected a dense tensor, got {words}"):
        expert.meta_train(images, convert(labels), recipe)
    assert all(torch.equal(before[k], v) for k, v in expert.model.state_dict().items())
