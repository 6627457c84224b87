"""ExpertSystem.add_expert from one thread while another processes an input, or adds an expert too."""

from __future__ import annotations

import threading

import pytest

from integrations.experts import ExpertSystem, LanguageExpert
from toolrouter import ToolMetaLearner
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _expert() -> LanguageExpert:
    return LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)


class _PausingExpert(LanguageExpert):
    """Asked its modality from the thread named ``pause_in``, waits once for ``resume``."""

    def __init__(self) -> None:
        super().__init__(HashingFeaturizer(dim=64), lora_rank=2)
        self.pause_in, self.paused, self.resume = "", threading.Event(), threading.Event()

    @property
    def modality(self) -> str:  # type: ignore[override]
        if threading.current_thread().name == self.pause_in and not self.paused.is_set():
            self.paused.set()
            self.resume.wait(timeout=5)
        return "text"


def test_an_expert_added_while_an_input_goes_through_the_experts_fails_neither() -> None:
    slow = _PausingExpert()
    system = ExpertSystem()
    system.add_expert("slow", slow)
    system.adapt({"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}, task="answer")
    results: dict[str, object] = {}

    def process() -> None:
        try:
            results["label"] = system.process("sure", task="answer").label
        except Exception as exc:  # the experts changed size under the call
            results["label"] = exc

    slow.pause_in = "processing"
    worker = threading.Thread(target=process, name="processing")
    worker.start()
    assert slow.paused.wait(timeout=5)
    system.add_expert("other", _expert())
    slow.resume.set()
    worker.join(timeout=5)
    assert results == {"label": "yes"}
    assert set(system.experts) == {"slow", "other"}
    system.close()


class _Functions(dict):
    """The router's functions; the first check that there are some, from the thread named
    ``pause_in``, waits (a short while) for ``resume``: when adds take turns, no other can finish meanwhile."""

    def __init__(self, pause_in: str) -> None:
        super().__init__()
        self.pause_in, self.paused, self.resume = pause_in, threading.Event(), threading.Event()

    def __len__(self) -> int:
        if threading.current_thread().name == self.pause_in and not self.paused.is_set():
            self.paused.set()
            self.resume.wait(timeout=0.3)
        return super().__len__()


def test_experts_added_at_once_share_one_executor() -> None:
    router = ToolMetaLearner(seed=0)
    router.functions = functions = _Functions(pause_in="first")
    system = ExpertSystem(router)
    seen: dict[str, object] = {}

    def add(name: str) -> None:
        system.add_expert(name, _expert())
        seen[name] = system._executor

    first = threading.Thread(target=add, args=("a",), name="first")
    first.start()
    assert functions.paused.wait(timeout=5)  # the first add is making the executor
    second = threading.Thread(target=add, args=("b",), name="second")
    second.start()
    second.join(timeout=0.2)
    functions.resume.set()
    first.join(timeout=5)
    second.join(timeout=5)
    # two executors made, the second add's lost without being closed, was the race
    assert seen["b"] is system._executor
    system.close()
