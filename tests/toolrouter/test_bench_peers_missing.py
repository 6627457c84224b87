"""A benchmark run without a peer library (Vowpal Wabbit, MABWiser: the bench extra) says once that
its rows are left out, rather than print tables that read as if the peer was never compared."""

from __future__ import annotations

import importlib.util

import pytest

from toolrouter.bench import _routing_agents


def test_a_missing_peer_is_said_once_and_left_out(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vowpalwabbit" else find_spec(name, *a))
    monkeypatch.setattr(_routing_agents, "_SAID_MISSING", set(), raising=False)
    names = [spec.name for spec in _routing_agents.peer_specs()]
    _routing_agents.peer_specs()  # a second run in the same process: said already
    assert not any(name.startswith("vw") for name in names)
    out = capsys.readouterr().out
    assert out.count("Vowpal Wabbit (vowpalwabbit) is not installed: its rows are left out") == 1, out
    assert 'pip install "toolrouter[bench]"' in out and "MABWiser" not in out  # installed here
