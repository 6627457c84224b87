"""Few-shot networks and FewShotLearner: the seed's snippet, learning on toy data, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner, MatchingNetwork, PrototypicalNetwork, RelationNetwork
from meta.base import NonFiniteLossError, TaskShapeError
from meta.data.episodes import EpisodeSampler


def _blobs(n_classes: int = 10, per_class: int = 20, dim: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = 3 * torch.randn(n_classes, dim, generator=g)
    y = torch.arange(n_classes).repeat_interleave(per_class)
    return centres[y] + torch.randn(len(y), dim, generator=g), y


def test_seed_few_shot_snippet_runs() -> None:
    torch.manual_seed(0)
    support_x, support_y = torch.randn(5, 1, 28, 28), torch.arange(5)
    query_x, query_y = torch.randn(10, 1, 28, 28), torch.arange(5).repeat(2)
    # --- seed document, section 2, imports aside ---
    encoder = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64*5*5, 128)
    )
    learner = FewShotLearner(
        algorithm='prototypical',
        encoder=encoder
    )
    metrics = learner.train_episode(
        support_x, support_y, query_x, query_y
    )
    predictions = learner.predict(support_x, support_y, query_x)
    # ---
    assert set(metrics) == {"loss", "accuracy"} and predictions.shape == (10,)
    assert set(predictions.tolist()) <= set(range(5))


@pytest.mark.parametrize("algorithm", ["prototypical", "relation", "matching"])
def test_each_algorithm_learns_held_out_classes(algorithm: str) -> None:
    torch.manual_seed(0)
    x, y = _blobs()
    train = EpisodeSampler(x[y < 6], y[y < 6], n_way=3, k_shot=2, n_query=4, seed=0)
    test = EpisodeSampler(x[y >= 6], y[y >= 6], n_way=3, k_shot=2, n_query=4, seed=1)
    learner = FewShotLearner(algorithm, encoder=nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16)), lr=3e-3)
    for ep in [train.sample() for _ in range(60)]:
        learner.train_episode(ep.support_x, ep.support_y, ep.query_x, ep.query_y)
    result = learner.evaluate(test, num_episodes=20)
    # chance is 1/3; the relation module has to learn its comparison from scratch, so it is slower
    assert result["accuracy"] > (0.65 if algorithm == "relation" else 0.8)
    assert result["episodes"] == 20 and result["ci95"] >= 0


def test_predictions_use_the_callers_labels() -> None:
    net = PrototypicalNetwork(nn.Identity())
    learner = FewShotLearner(net)
    sx = torch.tensor([[0.0], [10.0], [20.0]])
    sy = torch.tensor([42, 7, 13])
    pred = learner.predict(sx, sy, torch.tensor([[19.0], [1.0], [9.0]]))
    assert pred.tolist() == [13, 42, 7]


def test_networks_return_one_score_per_support_class() -> None:
    sx, sy, qx = torch.randn(6, 4), torch.tensor([5, 5, 9, 9, 2, 2]), torch.randn(3, 4)
    for net in (PrototypicalNetwork(nn.Linear(4, 8), distance="cosine"), RelationNetwork(nn.Linear(4, 8)), MatchingNetwork(nn.Linear(4, 8))):
        assert net(sx, sy, qx).shape == (3, 3)
    probs = MatchingNetwork(nn.Linear(4, 8))(sx, sy, qx).exp().sum(-1)
    torch.testing.assert_close(probs, torch.ones(3))


def test_bad_input_is_named() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    sx, sy = torch.randn(4, 4), torch.tensor([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"query_y holds labels \[3\]"):
        learner.train_episode(sx, sy, torch.randn(2, 4), torch.tensor([0, 3]))
    with pytest.raises(TaskShapeError, match="support_x examples have shape"):
        learner.predict(sx, sy, torch.randn(2, 5))
    with pytest.raises(TaskShapeError, match="support_x is empty"):
        learner.predict(sx[:0], sy[:0], torch.randn(2, 4))
    with pytest.raises(ValueError, match="algorithm must be one of"):
        FewShotLearner("siamese", encoder=nn.Linear(4, 8))
    with pytest.raises(ValueError, match="encoder is required"):
        FewShotLearner("prototypical")
    with pytest.raises(ValueError, match="lr: expected a finite number > 0"):
        FewShotLearner("prototypical", encoder=nn.Linear(4, 8), lr=0)


def test_nan_loss_raises_with_episode_number_and_no_update() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    sx, sy = torch.randn(4, 4), torch.tensor([0, 0, 1, 1])
    learner.train_episode(sx, sy, sx, sy)
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    bad = sx.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="episode 2"):
        learner.train_episode(bad, sy, sx, sy)
    assert all(torch.equal(v, learner.state_dict()[k]) for k, v in before.items())


@pytest.mark.parametrize("algorithm", ["prototypical", "relation", "matching"])
def test_labels_that_are_not_1d_and_nan_inputs_are_named_and_an_empty_query_is_served(algorithm: str) -> None:
    learner = FewShotLearner(algorithm, encoder=nn.Linear(4, 8))
    sx, sy = torch.randn(4, 4), torch.tensor([0, 0, 1, 1])
    learner.train_episode(sx, sy, sx, sy)
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    with pytest.raises(TaskShapeError, match=r"support_y must hold one class label per example \(1-D\), got shape \(4, 1\)"):
        learner.train_episode(sx, sy[:, None], sx, sy[:, None])
    with pytest.raises(TaskShapeError, match=r"support_y .* got shape \(4, 1\)"):
        learner.predict(sx, sy[:, None], sx)
    nan_query = sx.clone()
    nan_query[1, 2] = float("nan")
    with pytest.raises(ValueError, match="scores are not finite"):
        learner.predict(sx, sy, nan_query)  # argmax of NaN scores would still name a class
    assert all(torch.equal(v, learner.state_dict()[k]) for k, v in before.items()) and learner.episodes_trained == 1
    assert learner.predict(sx, sy, sx[:0]).shape == (0,)


def test_converting_a_trained_learner_converts_its_optimizer_state() -> None:
    x, y = _blobs(n_classes=3, per_class=4, dim=4)
    support = torch.arange(len(y)) % 2 == 0
    sx, sy, qx, qy = x[support], y[support], x[~support], y[~support]
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    learner.train_episode(sx, sy, qx, qy)
    learner.double()
    moments = [v for state in learner.optimizer.state.values() for k, v in state.items() if k != "step"]
    assert moments and all(v.dtype == torch.float64 for v in moments)
    metrics = learner.train_episode(sx.double(), sy, qx.double(), qy)
    assert learner.episodes_trained == 2 and metrics["loss"] == metrics["loss"]


@pytest.mark.parametrize(("make", "field"), [
    (lambda bad: FewShotLearner("prototypical", encoder=nn.Linear(4, 8), lr=bad), "lr"),
    (lambda bad: MatchingNetwork(nn.Linear(4, 8), scale=bad), "scale"),
])
@pytest.mark.parametrize("bad", [True, float("inf"), "0.1"])
def test_number_options_refuse_bools_infinities_and_strings(make, field: str, bad: object) -> None:
    with pytest.raises(ValueError, match=f"{field}: expected a finite number > 0, got {bad!r}"):
        make(bad)


@pytest.mark.parametrize("algorithm", ["prototypical", "relation", "matching"])
def test_inputs_of_another_float_dtype_are_named(algorithm: str) -> None:
    x, y = _blobs(n_classes=3, per_class=4, dim=4)
    learner = FewShotLearner(algorithm, encoder=nn.Linear(4, 8))
    with pytest.raises(TypeError, match=r"support_x has dtype torch.float64 but the model's parameters are torch.float32"):
        learner.train_episode(x.double(), y, x, y)
    with pytest.raises(TypeError, match=r"query_x has dtype torch.float64 .* convert it with .to\(torch.float32\)"):
        learner.predict(x, y, x.double())
    assert learner.episodes_trained == 0 and learner.predict(x, y, x).shape == (12,)


def _episode(step: int) -> tuple[torch.Tensor, ...]:
    x, y = _blobs(n_classes=4, per_class=6, dim=6, seed=step)
    support, query = torch.arange(0, len(y), 2), torch.arange(1, len(y), 2)
    return x[support], y[support], x[query], y[query]


def _few_shot(seed: int) -> FewShotLearner:
    torch.manual_seed(seed)
    return FewShotLearner("prototypical", encoder=nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8)), lr=0.01)


def test_save_and_load_resume_training_bit_for_bit(tmp_path) -> None:
    path = str(tmp_path / "fs.safetensors")
    straight = _few_shot(0)
    for step in range(3):
        straight.train_episode(*_episode(step))
    straight.save(path, {"note": "three"})
    resumed = _few_shot(1)  # another initialisation, no optimiser yet
    assert resumed.load(path) == {"class": "FewShotLearner", "episodes_trained": 3, "settings": resumed.settings(), "note": "three"}
    moments = straight.optimizer.state_dict()["state"]
    assert moments and resumed.optimizer.state_dict()["state"].keys() == moments.keys()
    for step in range(3, 6):
        a, b = straight.train_episode(*_episode(step)), resumed.train_episode(*_episode(step))
        assert a == b
    assert resumed.episodes_trained == 6
    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_load_refuses_another_network_and_leaves_the_learner_unchanged(tmp_path) -> None:
    path = str(tmp_path / "fs.safetensors")
    saved = _few_shot(0)
    saved.train_episode(*_episode(0))
    saved.save(path)
    other = FewShotLearner("prototypical", encoder=nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4)))
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=r"fs\.safetensors.*network\.encoder\.2\.weight"):
        other.load(path)
    assert other.optimizer is None and other.episodes_trained == 0
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in before.items())
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.safetensors"):
        saved.load(str(tmp_path / "bad.safetensors"))
    assert saved.episodes_trained == 1
