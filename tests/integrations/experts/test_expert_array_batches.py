"""A batch of inputs as a numpy array is taken as the same batch as a tensor or a list: along its
first dimension, for ``adapt``'s examples (a sequence with labels, or a mapping's values), a support
set and ``predict``; a single value where examples are expected is refused naming the label."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from integrations.experts import ExpertInputError, VisionExpert, normalize_support
from integrations.experts.language import LanguageExpert
from toolrouter.features import HashingFeaturizer


def _images() -> np.ndarray:
    images = np.zeros((4, 5, 5), dtype=np.float32)
    images[:2, :, :2] = 1.0  # two left bars
    images[2:, :2, :] = 1.0  # two top bars
    images[1, 4, 4] = images[3, 4, 4] = 0.5
    return images


def test_a_numpy_batch_of_images_is_a_batch() -> None:
    images, labels = _images(), ["left", "left", "top", "top"]
    from_array, from_tensor = VisionExpert(nn.Flatten(), image_shape=(1, 5, 5)), VisionExpert(nn.Flatten(), image_shape=(1, 5, 5))
    from_array.adapt(images, np.array(labels), task="bars")
    from_tensor.adapt(torch.from_numpy(images), labels, task="bars")
    assert torch.equal(from_array.task("bars").tensors["prototypes"], from_tensor.task("bars").tensors["prototypes"])
    assert from_array.predict(images, task="bars") == labels
    probs = from_array.predict_proba(images, support={"left": images[:2], "top": images[2:]})[1]
    assert torch.equal(probs, from_tensor.predict_proba(list(torch.from_numpy(images)), task="bars")[1])
    assert list(normalize_support({"left": images[:2], "top": images[2:]})) == ["left", "top"]


def test_a_numpy_array_of_texts_is_a_batch() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64))
    texts = np.array(["hi there", "hello", "bye now", "see you"])
    expert.adapt(texts, ["greet", "greet", "leave", "leave"], task="chat")
    assert expert.predict(np.array(["hello again", "bye bye"]), task="chat") == ["greet", "leave"]


@pytest.mark.parametrize("value", [np.float32(1.0), np.array(1.0), torch.tensor(1.0), 3])
def test_a_single_value_as_a_labels_examples_is_named(value: object) -> None:
    with pytest.raises(ExpertInputError, match=r"examples\['a'\]: expected a list of examples"):
        normalize_support({"a": value})
    with pytest.raises(ExpertInputError, match="inputs: expected a sequence of inputs"):
        VisionExpert(nn.Flatten(), image_shape=(1, 5, 5)).predict(value, support={"a": _images()[:1]})  # type: ignore[arg-type]
