"""FewShotLearner.evaluate: how many episodes it reads, and what it refuses."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from meta import FewShotLearner
from meta.base import TaskShapeError
from meta.data.episodes import EpisodeSampler


def _sampler() -> EpisodeSampler:
    x, y = torch.randn(60, 4, generator=torch.Generator().manual_seed(0)), torch.arange(60) % 6
    return EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2, seed=0)


def test_an_endless_sampler_without_num_episodes_is_refused_instead_of_running_forever() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    outcome: list[BaseException | dict[str, float]] = []

    def run() -> None:
        try:
            outcome.append(learner.evaluate(_sampler()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)  # it used to hold the learner's lock and never return
    assert outcome and isinstance(outcome[0], ValueError) and "num_episodes" in str(outcome[0])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_a_num_episodes_that_is_not_a_positive_count_is_named(bad: object) -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    with pytest.raises(ValueError, match=f"num_episodes: expected an integer >= 1, got {bad!r}"):
        learner.evaluate(_sampler(), num_episodes=bad)  # type: ignore[arg-type]


def test_num_episodes_stops_a_sampler_and_a_finite_list_is_read_whole() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    assert learner.evaluate(_sampler(), num_episodes=4)["episodes"] == 4.0
    episodes = [_sampler().sample() for _ in range(3)]
    assert learner.evaluate(episodes)["episodes"] == 3.0


def test_episodes_may_be_tuples_and_one_without_query_examples_is_named() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    episodes = [_sampler().sample() for _ in range(2)]
    as_tuples = [t.as_tuple() for t in episodes]
    assert learner.evaluate(as_tuples) == learner.evaluate(episodes)
    empty = EpisodeSampler(torch.randn(60, 4), torch.arange(60) % 6, n_way=3, k_shot=1, n_query=0, seed=0)
    with pytest.raises(TaskShapeError, match="episode 1 has no query example"):
        learner.evaluate([episodes[0], empty.sample()])
    with pytest.raises(TaskShapeError, match="query_x has 6 examples but query_y has 2"):
        learner.evaluate([(*as_tuples[0][:3], as_tuples[0][3][:2])])


def test_an_episode_whose_query_labels_the_support_does_not_have_is_named() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    good = _sampler().sample()
    # support relabelled 0..2 but query keeping other labels: every prediction counted as wrong
    other = (good.support_x, good.support_y, good.query_x, good.query_y + 10)
    with pytest.raises(ValueError, match=r"episode 1: query_y holds labels \[10, 11, 12\] that no support example has"):
        learner.evaluate([good, other])
    with pytest.raises(TaskShapeError, match="episode 0: query_x has 6 examples but query_y has 2"):
        learner.evaluate([(good.support_x, good.support_y, good.query_x, good.query_y[:2])])
