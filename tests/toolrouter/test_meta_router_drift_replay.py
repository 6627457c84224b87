"""The drift section's RouterBench replays: the injected changes, the measures, a toy-size run."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from toolrouter.bench import UsageError
from toolrouter.bench import _meta_router_drift as drift
from toolrouter.bench import _meta_router_drift_replay as rp
from toolrouter.bench import meta_router
from toolrouter.bench._args import parse_with_quick
from toolrouter.data import load_routerbench

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_data = pytest.mark.skipif(not (SHARED / "routerbench").is_dir(), reason="RouterBench data not present")


@pytest.fixture(scope="module")
def world() -> rp.Replay:
    data = load_routerbench(SHARED / "routerbench", evals=["mbpp"], splits=["test"], limit=40)
    return rp.Replay(data, rp.ReplayConfig(calls=300, change_at=100, repair_after=50, former=50, window=10, context_dim=16))


def test_calls_to_share_counts_from_the_change_to_the_first_window_that_reaches_the_share() -> None:
    picks = np.array([0] * 10 + [1, 0, 1, 1, 0, 1, 1, 1, 1, 1])
    assert rp._calls_to_share(picks, 1, 10, 0.5, 4) == 4  # the first 4 calls after the change: three 1s
    assert rp._calls_to_share(picks, 1, 10, 1.0, 4) == 9  # four 1s in a row: calls 5-8 after it
    assert rp._calls_to_share(picks, 2, 10, 0.5, 4) is None


@needs_data
def test_the_injected_changes_hit_the_best_and_the_weakest_model_at_their_calls(world: rp.Replay) -> None:
    best, worst = world.best, world.worst
    assert world.utility[best] == world.utility.max() and world.utility[worst] == world.utility.min()
    assert world.changed("break", 99, best) is None and world.changed("break", 100, best) is False
    assert world.changed("break", 299, best) is False
    assert world.changed("repair", 149, best) is False and world.changed("repair", 150, best) is None
    assert world.changed("improve", 100, worst) is True and world.changed("improve", 100, best) is None
    assert all(world.changed("control", t, k) is None for t in (0, 150, 299) for k in range(len(world.ids)))
    before, broken = world.phase_means("break", 0), world.phase_means("break", 100)
    assert broken[best] < 0 and np.delete(broken, best).tolist() == np.delete(before, best).tolist()
    assert world.phase_means("improve", 100).argmax() == worst


@needs_data
def test_a_replay_measures_what_the_router_did(world: rp.Replay) -> None:
    runs = rp.run_replays(world, ["gaussian_ts"], {"none": None, "page_hinkley": "page_hinkley"}, [0])
    plain, detect = runs[("gaussian_ts", "none")], runs[("gaussian_ts", "page_hinkley")]
    for runs_of in (plain, detect):
        broken = runs_of["break"][0]
        assert broken.broken_calls == int(np.sum(np.array(broken.picks[100:]) == world.best))
        assert runs_of["control"][0].regret >= 0 and len(runs_of["improve"][0].picks) == 300
    assert plain["break"][0].broken_rechecks == 0 and plain["control"][0].resets == 0
    assert detect["break"][0].broken_calls < plain["break"][0].broken_calls
    summary = rp.summarize(detect, 300)
    assert set(summary["regret"]) == set(rp.SCENARIOS) and summary["false_resets"] >= 0


def _args(*argv: str) -> argparse.Namespace:
    """The options ``toolrouter bench meta-router`` gives the drift section."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data", default=str(SHARED))
    drift.add_arguments(parser.add_argument_group("drift"))
    return parse_with_quick(parser, list(argv), drift.QUICK)  # as the suite gives the section its options


@needs_data
def test_quick_replays_print_the_table_and_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    drift.run_replays(_args("--quick", "--dr-replays", "mbpp"))  # the synthetic world: test_meta_router_bench
    out = capsys.readouterr().out
    assert "Drift on real outcomes: RouterBench mbpp (test" in out
    for detector in ("| none |", "| page_hinkley |", "| page_hinkley (no rechecks) |", "| cusum |"):
        assert detector in out
    assert "calls to the broken tool" in out and "false resets per 1,000 calls" in out
    assert "Drift targets of the default detector" in out and "n/a at --quick size" in out


def test_without_the_data_the_replays_say_so_and_the_section_goes_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    drift.run_replays(_args("--quick", "--data", str(tmp_path)))
    out = capsys.readouterr().out
    assert "Drift replays skipped" in out and "toolrouter data fetch routerbench" in out


def test_unknown_replay_options_are_refused() -> None:
    for argv in (["--dr-detectors", "adwin"], ["--dr-policies", "nope"], ["--dr-replays", "gsm8k"]):
        with pytest.raises(UsageError, match=rf"^{argv[0]}: unknown \['{argv[1]}'\]"):
            meta_router.main(["--quick", "--sections", "drift", *argv])
