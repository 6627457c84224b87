"""An expert's file is written outside its lock: inputs are served while a slow disk takes it."""

from __future__ import annotations

import threading

import integrations.experts.base as base
from integrations.experts import LanguageExpert
from toolrouter.features import HashingFeaturizer


def _expert() -> LanguageExpert:
    expert = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    expert.adapt({"greet": ["hi there"], "leave": ["bye now"]}, task="chat")
    return expert


def _slow_first_write(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The expert's first file write waits for ``go_on`` once it has set ``writing``; the later
    ones go straight to the disk."""
    writing, go_on = threading.Event(), threading.Event()
    real = base.write_atomically

    def slow_first(path, data):
        if not writing.is_set():
            writing.set()
            go_on.wait(10)
        return real(path, data)

    monkeypatch.setattr(base, "write_atomically", slow_first)
    return writing, go_on


def test_inputs_are_served_while_the_file_is_written(tmp_path, monkeypatch):
    expert = _expert()
    writing, go_on = _slow_first_write(monkeypatch)
    path = tmp_path / "expert.safetensors"
    saving = threading.Thread(target=expert.save, args=(path,))
    saving.start()
    try:
        assert writing.wait(10)
        served: list = []
        serving = threading.Thread(target=lambda: served.append(expert.predict(["hi there again"], task="chat")))
        serving.start()
        serving.join(5)
        assert served == [["greet"]]  # answered while the save still writes
    finally:
        go_on.set()
        saving.join(10)
    other = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    other.load(path)
    assert other.tasks == ["chat"] and other.predict(["hi there again"], task="chat") == ["greet"]


def test_saves_reach_the_disk_in_the_order_they_were_taken(tmp_path, monkeypatch):
    expert = _expert()
    writing, go_on = _slow_first_write(monkeypatch)
    path = tmp_path / "expert.safetensors"
    first = threading.Thread(target=expert.save, args=(path,))
    first.start()
    try:
        assert writing.wait(10)
        expert.adapt({"yes": ["sure thing"], "no": ["no way"]}, task="answer")  # the expert's lock is free
        second = threading.Thread(target=expert.save, args=(path,))
        second.start()
    finally:
        go_on.set()
        first.join(10)
    second.join(10)
    other = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    other.load(path)
    assert other.tasks == ["chat", "answer"]  # the newer snapshot, not overwritten by the older one


class _WatchedLock:
    """A lock that tells when a thread has to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waited = threading.Event()

    def acquire(self) -> bool:
        if not self._lock.acquire(blocking=False):
            self.waited.set()
            self._lock.acquire()
        return True

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def test_inputs_are_served_while_a_save_waits_for_another_to_write(tmp_path, monkeypatch):
    # the second save waited for the first's write holding the expert's lock: serving waited too
    expert = _expert()
    expert._save_lock = saves = _WatchedLock()
    writing, go_on = _slow_first_write(monkeypatch)
    first = threading.Thread(target=expert.save, args=(tmp_path / "first.safetensors",))
    first.start()
    try:
        assert writing.wait(10)
        second = threading.Thread(target=expert.save, args=(tmp_path / "second.safetensors",))
        second.start()
        assert saves.waited.wait(10)
        served: list = []
        serving = threading.Thread(target=lambda: served.append(expert.predict(["hi there again"], task="chat")))
        serving.start()
        serving.join(5)
        assert served == [["greet"]]
    finally:
        go_on.set()
        first.join(10)
    second.join(10)
    assert (tmp_path / "second.safetensors").is_file()
