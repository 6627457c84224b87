"""The continual benchmark runs end to end at toy size and reports every strategy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolrouter.bench import available_suites
from toolrouter.bench._continual_streams import permuted_digits, split_digits
from toolrouter.bench.continual import main


def test_streams_follow_the_protocol() -> None:
    perm = permuted_digits()
    assert len(perm.train) == 10
    # task 0 is the identity; the others are the same pixels in another order, same labels
    x0, y0 = perm.train[0]
    x3, y3 = perm.train[3]
    assert x0.shape == (1257, 64) and perm.test[0][0].shape == (540, 64)
    assert float(x0.min()) >= 0.0 and float(x0.max()) <= 1.0
    assert y0.tolist() == y3.tolist() and not x0.equal(x3)
    assert sorted(x0[0].tolist()) == sorted(x3[0].tolist())
    split = split_digits()
    assert [sorted(set(y.tolist())) for _, y in split.train] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_quick_bench_runs_every_strategy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert "continual" in available_suites()
    out_json = tmp_path / "runs.json"
    main(["--quick", "--json", str(out_json)])
    out = capsys.readouterr().out
    for name in ["naive", "naive_momentum", "joint", "ewc", "online_ewc", "replay", "replay_balanced", "replay_prioritized", "lwf", "ewc+replay", "progressive"]:
        assert f"| {name} |" in out
    assert "permuted" in out and "split-task" in out and "split-class" in out and "| naive fine-tuning |" in out
    # every strategy of a stream runs under the stream's regime: dropout and lr decay on permuted digits only
    assert "(permuted), 3 tasks, 1 seed(s), 5 epochs, dropout 0.5, lr decay 0.7 per experience" in out
    assert "(split-task), 3 tasks, 1 seed(s), 5 epochs, dropout 0.0, lr decay 1.0 per experience" in out
    runs = json.loads(out_json.read_text())
    assert set(runs) == {"permuted", "split-task", "split-class", "drift"}
    drift = runs["drift"][0]
    assert drift["EWC + replay (default)"]["old_after_shift"] < drift["naive fine-tuning"]["old_after_shift"]
    acc = {r["strategy"]: r["average_accuracy"] for r in runs["permuted"]}
    # even at toy size, rehearsal beats fine-tuning under the same optimiser
    assert acc["replay_balanced"] > acc["naive"] and acc["ewc+replay"] > acc["naive_momentum"]
    progressive = [r for r in runs["split-task"] if r["strategy"] == "progressive"][0]
    assert progressive["forgetting"] == 0.0  # frozen columns cannot forget
    assert all(0.0 <= r["average_accuracy"] <= 1.0 for k, rs in runs.items() if k != "drift" for r in rs)


def test_bad_options_are_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--strategies", "ewc,nonsense"])


def test_dropout_and_lr_decay_options_reach_the_model_and_the_learner(capsys: pytest.CaptureFixture[str]) -> None:
    from torch import nn

    from toolrouter.bench._continual_runner import mlp

    plain, dropped = mlp(0), mlp(0, dropout=0.5)
    assert [type(m) for m in dropped].count(nn.Dropout) == 2 and not any(isinstance(m, nn.Dropout) for m in plain)
    # dropout has no parameters: the same seed gives the same initial weights
    assert all(a.equal(b) for a, b in zip(plain.parameters(), dropped.parameters()))
    with pytest.raises(ValueError, match="dropout"):
        mlp(0, dropout=1.0)
    main(["--quick", "--streams", "permuted", "--strategies", "naive,progressive", "--dropout", "0.5", "--lr-decay", "0.9"])
    out = capsys.readouterr().out
    assert "dropout 0.5, lr decay 0.9 per experience" in out
    assert "task id given, no dropout" in out  # progressive columns are rebuilt without dropout
    for bad in (["--dropout", "1.0"], ["--lr-decay", "0"], ["--lr-decay", "1.5"]):
        with pytest.raises(SystemExit):
            main(["--quick", *bad])
