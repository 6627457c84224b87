"""Featurizers loading models in several threads at once turn transformers' progress bars off
once and back once the last load has ended: each load undoing its own, one that ended first
turned them back on under the loads still running."""

import threading

import pytest

pytest.importorskip("transformers")

from huggingface_hub import constants  # noqa: E402
from huggingface_hub.utils import are_progress_bars_disabled  # noqa: E402
from transformers.utils import logging as transformers_logging  # noqa: E402

from toolrouter.features import _no_loading_bars  # noqa: E402


def bars() -> tuple[bool, bool]:
    return transformers_logging.is_progress_bar_enabled(), not are_progress_bars_disabled()


def load(inside: threading.Event, leave: threading.Event) -> None:
    with _no_loading_bars():
        inside.set()
        leave.wait(5)


def test_a_load_that_ends_first_leaves_the_bars_off_for_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_PROGRESS_BARS", None)  # neither asked for nor refused
    transformers_logging.enable_progress_bar()
    try:
        events = [(threading.Event(), threading.Event()) for _ in range(2)]
        threads = [threading.Thread(target=load, args=pair) for pair in events]
        for thread, (inside, _) in zip(threads, events):
            thread.start()
            inside.wait(5)
        assert bars() == (False, False)
        events[0][1].set()  # the first load ends, the second goes on
        threads[0].join(5)
        assert bars() == (False, False)
        events[1][1].set()
        threads[1].join(5)
        assert bars() == (True, True)  # as they were
    finally:
        transformers_logging.enable_progress_bar()
