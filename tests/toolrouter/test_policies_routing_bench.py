"""The routing benchmark runs end to end at toy size and its parts compute what they claim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolrouter.bench import available_suites
from toolrouter.bench._routing_agents import PolicyAgent, peer_specs, policy_specs
from toolrouter.bench._routing_learning import SyntheticStream, run_stream
from toolrouter.bench.routing import main

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "routerbench"


def test_quick_run_prints_tables_and_saves_curves(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    main(["--quick", "--out", str(tmp_path), "--routerbench", str(SHARED), "--no-peers"])
    out = capsys.readouterr().out
    assert "routing" in available_suites()
    assert "Decision overhead" in out and "| lin_ts |" in out and "Building a route of 10 tools" in out
    for stream in ("stationary", "drifting", "contextual"):
        assert f"Learning: {stream}" in out
        assert (tmp_path / f"routing_regret_{stream}.png").stat().st_size > 1000
    if SHARED.is_dir():
        assert "oracle" in out and (tmp_path / "routing_regret_routerbench.png").exists()


def test_bad_options_are_rejected(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(ValueError, match="--seeds"):
        main(["--quick", "--seeds", "0", "--part", "learning"])
    with pytest.raises(ValueError, match="--streams"):
        main(["--quick", "--streams", "nope", "--part", "learning"])
    with pytest.raises(SystemExit):
        main(["--quick", "--cost-weight", "nan", "--part", "learning"])
    assert "argument --cost-weight: expected a finite number >= 0, got 'nan'" in capsys.readouterr().err


def test_regret_is_zero_for_the_oracle_and_grows_for_a_bad_fixed_choice():
    stream = SyntheticStream("stationary", n_tools=4, horizon=50)
    stream.reset(0)
    utilities = [t.expected_utility(stream.weights, 0) for t in stream.env.tools]
    best, worst = int(np.argmax(utilities)), int(np.argmin(utilities))

    class Fixed:
        def __init__(self, arm: int) -> None:
            self.arm = arm

        def choose(self, x):
            return self.arm

        def learn(self, arm, reward, x):
            pass

    from toolrouter.bench._routing_agents import AgentSpec

    specs = [AgentSpec("best", lambda *a: Fixed(best)), AgentSpec("worst", lambda *a: Fixed(worst))]
    res = {r.agent: r for r in run_stream(stream, specs, [0])}
    assert res["best"].final_regret[0] == pytest.approx(0.0)
    assert res["worst"].final_regret[0] == pytest.approx(50 * (utilities[best] - utilities[worst]))


def test_policies_learn_on_the_same_stream():
    stream = SyntheticStream("stationary", n_tools=5, horizon=600)
    stream.reset(0)
    utilities = np.array([t.expected_utility(stream.weights, 0) for t in stream.env.tools])
    uniform_regret = 600 * float(utilities.max() - utilities.mean())
    specs = [s for s in policy_specs(with_forgetting=False) if s.name in ("gaussian_ts", "lin_ts")]
    for res in run_stream(stream, specs, [0]):
        assert res.final_regret[0] < 0.4 * uniform_regret, res.agent


def test_beta_agent_rescales_rewards():
    agent = PolicyAgent("beta_ts", 2, 0, (-1.0, 3.0), 0)
    agent.learn(0, 3.0, None)
    agent.learn(1, -5.0, None)
    state = agent.policy.state_dict()["arrays"]
    assert state["mean"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("spec", peer_specs(), ids=lambda s: s.name)
def test_peers_run_on_a_contextual_stream(spec):
    stream = SyntheticStream("contextual", n_tools=3, horizon=40, context_dim=4)
    (res,) = run_stream(stream, [spec], [0])
    assert np.all(np.isfinite(res.curves[0])) and res.curves[0][-1] >= 0
