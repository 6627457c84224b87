"""``toolrouter bench meta-router``: the cold-start and drift sections run at toy size."""

from __future__ import annotations

import pytest

from toolrouter.bench import meta_router


def test_quick_coldstart_and_drift_print_their_tables(capsys):
    pytest.importorskip("vowpalwabbit")
    meta_router.main(["--quick", "--sections", "coldstart,drift"])
    out = capsys.readouterr().out
    for title in ("Cold start, new family", "Cold start, new tool", "Drift: the best tool of fam0"):
        assert title in out
    for method in ("meta (maml)", "lin_ts (cold)", "VW (cold)", "neural_linear + reward model + page_hinkley"):
        assert method in out


def test_unknown_section_is_refused():
    with pytest.raises(SystemExit):
        meta_router.main(["--sections", "nope"])


def test_quick_drift_state_prints_both_detectors_side_by_side(capsys):
    meta_router.main(["--quick", "--sections", "drift_state"])
    out = capsys.readouterr().out
    assert "CPU us per record_attempt" in out and "distinct requests per tool" in out
    for row in ("| requests judged (request_prior=1) |", "| rate alone (request_prior=None) | "):
        assert out.count(row) == 3  # per call: a router with a context and one without; the state
    assert out.count("| gaussian_ts, request's text |") == 2
