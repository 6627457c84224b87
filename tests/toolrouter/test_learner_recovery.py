"""The router under change: a reset tool is tried again, a repaired tool wins its traffic back, an
improved tool is adopted; resets and rechecks are counted, saved and shown; warnings stay quiet."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import structlog
from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app
from toolrouter.drift import DetectorConfig

POLICIES = ("gaussian_ts", "lin_ts", "neural_linear")
D = 8
CONTEXTS = np.random.default_rng(99).normal(size=(6, D))
CONTEXTS /= np.linalg.norm(CONTEXTS, axis=1, keepdims=True)


def router(tools: dict[str, float], policy: str = "gaussian_ts", seed: int = 0, **options) -> ToolMetaLearner:
    profiles = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in tools]
    contextual = policy != "gaussian_ts"
    return ToolMetaLearner(profiles, policy=policy, seed=seed, context_dim=D if contextual else None, **options)


def play(
    r: ToolMetaLearner, calls: int, success: Callable[[int, str], float], seed: int = 0, start: int = 0
) -> list[str]:
    """``calls`` routed calls; ``success(t, tool)`` is the tool's chance of success at call ``t``.
    Returns the picks."""
    rng = np.random.default_rng(seed)
    features = r.contextual
    picks = []
    for t in range(start, start + calls):
        x = {"features": CONTEXTS[t % len(CONTEXTS)]} if features else {}
        tool = r.rank_tool_ids("search", task_type="news", **x)[0]
        ok = bool(rng.random() < success(t, tool))
        r.record_attempt(
            ExecutionResult(tool_id=tool, step="search", success=ok, quality=1.0 if ok else 0.0),
            capability="search", task_type="news", **x,
        )
        picks.append(tool)
    return picks


def calls_to_share(picks: list[str], tool: str, share: float, window: int = 20) -> int | None:
    for end in range(window, len(picks) + 1):
        if picks[end - window : end].count(tool) >= share * window:
            return end
    return None


@pytest.mark.parametrize("policy", POLICIES)
def test_a_glitch_of_the_better_tool_does_not_lose_it(policy: str) -> None:
    # "good" fails every call from 300 to 320 (the detector resets it), then works again: a reset
    # must leave it where it is tried again and wins back its traffic, for the linear and neural
    # policies too. Over six seeds, not one lucky stream: measured 167-269 of the 280 calls after
    # (gaussian_ts), 12-267 (lin_ts, once won back late), 163-272 (neural_linear)
    means = {"good": 0.9, "okay": 0.6}
    kept = []
    for seed in range(6):
        r = router(means, policy, seed=seed, drift_detection="page_hinkley")
        picks = play(r, 600, lambda t, tool: 0.0 if tool == "good" and 300 <= t < 320 else means[tool], seed=seed)
        assert r.tool_statistics()["good"].resets >= 1  # the glitch was taken for a change
        kept.append(picks[320:].count("good"))
    assert sorted(kept)[2] >= 180 and sum(k >= 150 for k in kept) >= 5, (policy, kept)


def test_a_tool_that_stays_broken_is_rechecked_ever_more_rarely_and_a_repair_is_seen_by_one_recheck() -> None:
    means = {"best": 0.9, "second": 0.6, "third": 0.5}
    r = router(means, drift_detection=DetectorConfig(recheck_after=100))
    picks = play(r, 1800, lambda t, tool: 0.0 if tool == "best" and 300 <= t < 1500 else means[tool])
    broken = [t for t in range(300, 1500) if picks[t] == "best"]
    late = [t for t in broken if t >= broken[0] + 40]  # after the detector and the reset's few tries
    gaps = np.diff(late)
    # rechecks of a dropped tool that stays broken back off: every 50 calls three times, 100, then
    # every 200 calls (not every 50: 22 of them), with a try or two of the policy's own
    assert len(late) <= 12 and gaps.size and gaps.max() >= 150, late
    stats = r.tool_statistics()["best"]
    # its repair at call 1500 is seen by the next recheck: that one success restarts it
    assert stats.last_reset is not None and stats.last_reset.reason == "recheck: utility rose"
    assert calls_to_share(picks[1500:], "best", 0.5) is not None and calls_to_share(picks[1500:], "best", 0.5) <= 250


@pytest.mark.parametrize(("policy", "bound"), [("gaussian_ts", 150), ("lin_ts", 300)])
def test_a_repaired_tool_wins_its_traffic_back_through_rechecks(policy: str, bound: int) -> None:
    # measured over seeds 0-4: 95-148 calls (gaussian_ts), 20-296 and once more than 300 (lin_ts)
    means = {"best": 0.9, "second": 0.6, "third": 0.5}

    def broken_for_300(t: int, tool: str) -> float:
        return 0.0 if tool == "best" and 300 <= t < 600 else means[tool]

    delays: dict[int | None, list[int | None]] = {150: [], None: []}
    for seed in range(3):
        for recheck_after in delays:
            r = router(means, policy, seed=seed, drift_detection=DetectorConfig(recheck_after=recheck_after))
            picks = play(r, 900, broken_for_300, seed=seed)
            former = picks[200:300].count("best") / 100
            delays[recheck_after].append(calls_to_share(picks[600:], "best", 0.5 * former))
            assert picks[320:600].count("best") <= 15  # the broken tool: left, then only rechecked
    back = sorted(d if d is not None else 10**6 for d in delays[150])
    assert back[1] <= bound, delays  # the median seed
    # without rechecks the written-off tool is tried again only by the policy's own exploration
    # (lin_ts, now and then), so its repair goes unseen, or is seen later than with them
    unseen = [d for d in delays[None] if d is None]
    assert len(unseen) >= 2 and all(d is None or d > back[1] for d in delays[None]), delays


@pytest.mark.parametrize("policy", ["gaussian_ts", "lin_ts"])
def test_an_improved_tool_is_adopted_through_rechecks(policy: str) -> None:
    # "weak" never succeeds for 800 calls (the policy writes it off), then always does
    means = {"a": 0.7, "b": 0.6, "weak": 0.0}

    def weak_becomes_perfect(t: int, tool: str) -> float:
        return 1.0 if tool == "weak" and t >= 800 else means[tool]

    delays = {}
    for recheck_after in (150, None):
        r = router(means, policy, drift_detection=DetectorConfig(recheck_after=recheck_after))
        picks = play(r, 1400, weak_becomes_perfect)
        delays[recheck_after] = calls_to_share(picks[800:], "weak", 0.5)
    # rechecked within 150 calls, confirmed by a few quick rechecks more, then adopted
    assert delays[150] is not None and delays[150] <= 250, delays
    assert delays[None] is None or delays[None] > 2 * delays[150], delays


def test_resets_and_rechecks_are_counted_in_tool_statistics() -> None:
    means = {"best": 0.9, "second": 0.6, "weak": 0.0}
    r = router(means, drift_detection="page_hinkley")
    play(r, 800, lambda t, tool: 0.0 if tool == "best" and t >= 300 else means[tool])
    stats = r.tool_statistics()
    best = stats["best"]
    assert best.resets >= 1 and best.last_reset is not None
    assert best.last_reset.reason == "page_hinkley: utility fell"
    assert (best.last_reset.task_type, best.last_reset.step) == ("news", "search")
    assert 0 <= best.last_reset.outcomes_ago < 500
    assert best.last_reset.at_outcome + best.last_reset.outcomes_ago == 800
    assert best.rechecks >= 1  # the broken tool, once left, is rechecked
    assert r.tool_statistics(task_type="other")["best"].resets == 0  # counted per route
    plain = router(means)
    play(plain, 800, lambda t, tool: 0.0 if tool == "best" and t >= 300 else means[tool])
    assert all(s.resets == 0 and s.rechecks == 0 and s.last_reset is None for s in plain.tool_statistics().values())


def test_drift_records_survive_save_and_load(tmp_path: Path) -> None:
    means = {"best": 0.9, "second": 0.6, "weak": 0.1}
    success = lambda t, tool: 0.0 if tool == "best" and t >= 200 else means[tool]  # noqa: E731
    r = router(means, drift_detection="page_hinkley")
    play(r, 400, success)
    r.save(tmp_path / "router.safetensors")
    again = ToolMetaLearner.load(tmp_path / "router.safetensors")
    assert again.tool_statistics() == r.tool_statistics()
    assert play(again, 300, success, seed=5, start=400) == play(r, 300, success, seed=5, start=400)
    assert again.tool_statistics() == r.tool_statistics()


@pytest.fixture
def quiet_logging():
    yield
    structlog.reset_defaults()
    logging.getLogger("toolrouter").setLevel(logging.NOTSET)


def test_a_detection_prints_nothing_unless_logging_is_set_up(capsys, caplog, quiet_logging) -> None:
    means = {"best": 0.9, "second": 0.6}
    success = lambda t, tool: 0.0 if tool == "best" and t >= 200 else means[tool]  # noqa: E731
    caplog.set_level(logging.CRITICAL, logger="toolrouter")  # what an application that set up nothing sees
    r = router(means, drift_detection="page_hinkley")
    play(r, 300, success)
    assert r.tool_statistics()["best"].resets >= 1
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    # an application that sets up logging gets the warning from the toolrouter logger
    caplog.set_level(logging.WARNING, logger="toolrouter")
    again = router(means, drift_detection="page_hinkley")
    play(again, 300, success)
    records = [rec for rec in caplog.records if rec.getMessage().startswith("drift_detected")]
    assert records and all(rec.name == "toolrouter.learner" and rec.levelno == logging.WARNING for rec in records)
    assert "tool_id='best'" in records[0].getMessage() and records[0].fields["direction"] == "down"
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_stats_command_shows_resets(tmp_path: Path, quiet_logging) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    means = {"best": 0.9, "second": 0.6}
    r = router(means, store=url, drift_detection="page_hinkley")
    play(r, 300, lambda t, tool: 0.0 if tool == "best" and t >= 200 else means[tool])
    resets = r.tool_statistics()["best"].resets
    assert resets >= 1
    r.save()
    r.close()
    result = CliRunner().invoke(app, ["stats", "--store", url], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "resets" in result.output and "last reset" in result.output
    assert "utility fell" in result.output
    plain = tmp_path / "plain.db"
    p = router(means, store=f"sqlite:///{plain}")
    play(p, 50, lambda t, tool: means[tool])
    p.save()
    p.close()
    result = CliRunner().invoke(app, ["stats", "--store", f"sqlite:///{plain}"], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "resets" not in result.output  # no detector: no column
