"""ExpertSystem.close releases the worker threads that call the experts, and the system stays usable."""

from __future__ import annotations

import threading

import pytest

from integrations.experts.language import LanguageExpert
from integrations.experts.system import ExpertSystem
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INTENTS = {"weather": ["will it rain in Paris", "forecast for Oslo"], "maps": ["route to the airport", "drive to Lyon"]}


def workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("toolrouter-tool")}


def test_close_releases_the_workers_and_the_system_stays_usable() -> None:
    before = workers()
    with ExpertSystem(seed=0) as system:
        system.add_expert("cheap", LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2))
        system.adapt(INTENTS, task="intent")
        assert system.process("rain in Rome", task="intent").label == "weather"
        started = workers() - before
        assert started  # the expert was called in a worker thread
    for thread in started:  # idle: they exit at once, not a minute later
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in started)
    assert system.process("route to the station", task="intent").label == "maps"
    system.close()
