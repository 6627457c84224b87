"""``iter(EpisodeSampler(...))`` never runs out either: what reads an iterable to its end refuses it,
as it refuses the sampler, instead of reading it without end."""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch
from torch import nn

from meta import MAML, FewShotLearner
from meta.data.episodes import EpisodeSampler


def _sampler() -> EpisodeSampler:
    x, y = torch.randn(60, 4, generator=torch.Generator().manual_seed(0)), torch.arange(60) % 6
    return EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2, seed=0)


def _outcome(call: Callable[[], object]) -> BaseException | object:
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=10)  # it used to read the iterator without end
    assert outcome, "still reading the endless iterator"
    return outcome[0]


def test_evaluate_refuses_the_samplers_iterator_without_num_episodes() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    refused = _outcome(lambda: learner.evaluate(iter(_sampler())))
    assert isinstance(refused, ValueError) and str(refused).startswith("num_episodes: episodes is an EndlessEpisodes")
    assert learner.evaluate(iter(_sampler()), num_episodes=3)["episodes"] == 3.0


def test_a_maml_meta_batch_refuses_the_samplers_iterator_naming_tasks() -> None:
    learner = MAML(nn.Linear(4, 3), loss_fn="cross_entropy", vectorize="loop")
    refused = _outcome(lambda: learner.meta_train_step(iter(_sampler())))
    assert isinstance(refused, TypeError) and "tasks is an EndlessEpisodes" in str(refused) and "sample_batch" in str(refused)
    assert learner.meta_step_count == 0


def test_the_iterator_draws_the_samplers_episodes() -> None:
    from meta.data.episodes import EndlessEpisodes

    episodes = iter(_sampler())
    assert isinstance(episodes, EndlessEpisodes) and iter(episodes) is episodes
    first, second = next(episodes), next(episodes)
    expected = _sampler()
    for got, want in ((first, expected.sample()), (second, expected.sample())):
        assert torch.equal(got.support_x, want.support_x) and torch.equal(got.query_y, want.query_y)
