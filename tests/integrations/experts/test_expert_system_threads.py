"""An ExpertSystem called from several threads for different tasks keeps every task on its
expert's tool: a call that joins the expert to one task's route does not write back a profile read
before another call joined it to another task (which would drop that route, and that call fail)."""

from __future__ import annotations

import itertools
import threading

import pytest

from integrations.experts import ExpertSystem, LanguageExpert
from toolrouter import ToolMetaLearner
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Interleaving(ToolMetaLearner):
    """A router whose first profile update lets a second one (from another thread) run first, and
    waits (a short while) for it; the second returns after the first is written."""

    def __init__(self) -> None:
        super().__init__(seed=0)
        self.updates = itertools.count()
        self.second_written, self.first_written = threading.Event(), threading.Event()
        self.second: threading.Thread | None = None

    def update_tool(self, profile):  # type: ignore[no-untyped-def]
        call = next(self.updates)
        if call == 0:
            self.second.start()
            self.second_written.wait(timeout=0.3)  # when updates take turns, it cannot be written first
        old = super().update_tool(profile)
        (self.first_written if call == 0 else self.second_written).set()
        if call == 1:
            self.first_written.wait(timeout=5)
        return old


def test_concurrent_tasks_keep_their_routes() -> None:
    router = _Interleaving()
    system = ExpertSystem(router)
    system.add_expert("lang", LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2))
    system.adapt({"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}, task="answer")
    system.adapt({"hi": ["hello there", "hi"], "bye": ["bye now", "see you"]}, task="greet")
    results: dict[str, object] = {}

    def greet() -> None:
        try:
            results["greet"] = system.process("hello there", task="greet").label
        except Exception as exc:  # the route had lost its expert: NoToolForCapabilityError
            results["greet"] = exc

    router.second = threading.Thread(target=greet)
    results["answer"] = system.process("sure", task="answer").label
    router.second.join(timeout=5)
    assert results == {"answer": "yes", "greet": "hi"}
    assert {"expert:text:answer", "expert:text:greet"} <= set(router.tools["lang"].capabilities)
