"""An expert's file holds its model and tasks, not its meta-learner (an object of its own, saved with
its own ``save``): it names the learner's class, and ``load`` warns when the expert it loads into
has no learner of that class attached, whose new tasks would be learned otherwise."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from integrations.experts import LanguageExpert
from meta import MAML
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INTENTS = {"greet": ["hi there", "hello you"], "leave": ["bye now", "see you later"]}


def expert(learner: bool) -> LanguageExpert:
    e = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    return e.add_meta_learning(MAML(e.model)) if learner else e


def loaded_warnings(path: Path, into: LanguageExpert, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="integrations.experts.base"):
        into.load(path)
    return [r.getMessage() for r in caplog.records if "expert_loaded_without_meta_learner" in r.getMessage()]


def test_loading_without_the_saved_learner_warns_naming_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    saved = expert(learner=True)
    saved.adapt(INTENTS, task="chat")
    path = saved.save(tmp_path / "expert.safetensors")
    warned = loaded_warnings(path, bare := expert(learner=False), caplog)
    assert len(warned) == 1 and "saved='MAML'" in warned[0] and "attached=None" in warned[0]
    assert bare.predict(["hello again"], task="chat") == ["greet"]  # the saved task is served as learned
    assert loaded_warnings(path, expert(learner=True), caplog) == []


def test_a_file_saved_without_a_learner_loads_without_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    saved = expert(learner=False)
    saved.adapt(INTENTS, task="chat")
    assert loaded_warnings(saved.save(tmp_path / "expert.safetensors"), expert(learner=False), caplog) == []
