"""The continual strategies' constructors refuse a wrongly typed or out-of-range argument, naming
it and the value, rather than keeping it until training fails on it (or, for a flag, taking any
truthy value for True)."""

from __future__ import annotations

import pytest

from meta.continual import EWC, ExperienceReplay, Progressive, ProgressiveNetwork


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"replay_batch_size": 2.5}, r"replay_batch_size: expected an integer >= 1, got 2.5"),
        ({"replay_batch_size": True}, r"replay_batch_size: expected an integer >= 1, got True"),
        ({"replay_batch_size": "3"}, r"replay_batch_size: expected an integer >= 1, got '3'"),
        ({"replay_weight": float("inf")}, r"replay_weight: expected a finite number >= 0, got inf"),
        ({"replay_weight": "1"}, r"replay_weight: expected a finite number >= 0, got '1'"),
        ({"alpha": float("inf")}, r"alpha: expected a finite number >= 0, got inf"),
        ({"beta": float("nan")}, r"beta: expected a finite number in \[0, 1\], got nan"),
        ({"seed": 1.5}, r"seed: expected an integer, got 1.5"),
    ],
)
def test_replay_arguments_name_the_field(arguments: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ExperienceReplay(**arguments)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"decay": "1"}, r"decay: expected a finite number in \[0, 1\], got '1'"),
        ({"fisher_samples": 2.5}, r"fisher_samples: expected an integer >= 1, got 2.5"),
        ({"fisher_samples": True}, r"fisher_samples: expected an integer >= 1, got True"),
        ({"fisher_temperature": True}, r"fisher_temperature: expected a finite number > 0, got True"),
        ({"decoupled": "no"}, r"decoupled: expected True or False, got 'no'"),
        ({"seed": "a"}, r"seed: expected an integer, got 'a'"),
    ],
)
def test_ewc_arguments_name_the_field(arguments: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EWC(**arguments)


def test_progressive_seed_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"seed: expected an integer, got 1.5"):
        Progressive(seed=1.5)


def test_valid_arguments_are_kept_as_plain_numbers() -> None:
    replay = ExperienceReplay(replay_batch_size=4, replay_weight=1, alpha=0, beta=1, seed=-3)
    assert (replay.replay_batch_size, replay.replay_weight, replay.alpha, replay.beta) == (4, 1.0, 0.0, 1.0)
    ewc = EWC(decay=1, fisher_samples=8, fisher_temperature=2, decoupled=True)
    assert (ewc.decay, ewc.fisher_samples, ewc.fisher_temperature, ewc.decoupled) == (1.0, 8, 2.0, True)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ((4.5, [8], 2), r"input_dim: expected an integer >= 1, got 4.5"),
        (("4", [8], 2), r"input_dim: expected an integer >= 1, got '4'"),
        ((True, [8], 2), r"input_dim: expected an integer >= 1, got True"),
        ((4, [8.5], 2), r"hidden_sizes\[0\]: expected an integer >= 1, got 8.5"),
        ((4, 8, 2), r"hidden_sizes: expected a list of layer widths, got 8"),
        ((4, [8], 0), r"output_dim: expected an integer >= 1, got 0"),
    ],
)
def test_progressive_network_sizes_name_the_field(arguments: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ProgressiveNetwork(*arguments)


@pytest.mark.parametrize("task_id", ["a", -1, 1.0])
def test_a_column_for_what_is_not_a_task_id_is_refused(task_id: object) -> None:
    net = ProgressiveNetwork(4, [8], 2)
    with pytest.raises(ValueError, match=rf"task_id: expected an integer >= 0, got {task_id!r}"):
        net.add_column(task_id)  # type: ignore[arg-type]
    assert net.num_columns == 0 and net.task_to_column == {}


def test_a_strategy_name_that_is_no_string_is_refused_naming_it() -> None:
    from meta.continual import make_strategy

    with pytest.raises(TypeError, match=r"strategy: expected a name such as 'ewc\+replay', got 123"):
        make_strategy(123)  # type: ignore[arg-type]


@pytest.mark.parametrize("fisher_decay", [2, "x", float("nan")])
def test_drift_adapter_names_its_own_fisher_decay(fisher_decay: object) -> None:
    from torch import nn

    from meta.continual import DriftAdapter

    with pytest.raises(ValueError, match=rf"^fisher_decay: expected a finite number in \[0, 1\], got {fisher_decay!r}"):
        DriftAdapter(nn.Linear(2, 1), fisher_decay=fisher_decay)  # type: ignore[arg-type]


def test_include_untrained_must_be_a_bool() -> None:
    import torch
    from torch import nn

    from meta import ContinualLearner

    learner = ContinualLearner(nn.Linear(3, 2), strategy="naive")
    x, y = torch.randn(6, 3), torch.randint(0, 2, (6,))
    learner.train_task((x, y), 0)
    # "no" would be truthy: the never-trained task 1 would be scored instead of refused
    with pytest.raises(ValueError, match=r"include_untrained: expected True or False, got 'no'"):
        learner.evaluate_all_tasks({0: (x, y), 1: (x, y)}, include_untrained="no")  # type: ignore[arg-type]
    assert torch.isnan(torch.as_tensor(learner.accuracy_matrix().values)).all()  # nothing was scored


@pytest.mark.parametrize("strategy", ["replay", "ewc+replay_balanced", "lwf+replay_prioritized"])
def test_a_replay_without_memory_is_refused_naming_buffer_size(strategy: str) -> None:
    import re

    from torch import nn

    from meta import ContinualLearner

    # a memory of no sample replays nothing: the learner trained as naive fine-tuning under the name
    with pytest.raises(ValueError, match=rf"buffer_size: 0 leaves 'replay\w*' of strategy '{re.escape(strategy)}' no memory to replay"):
        ContinualLearner(nn.Linear(4, 3), strategy=strategy, buffer_size=0)
    assert ContinualLearner(nn.Linear(4, 3), strategy="ewc", buffer_size=0).strategy.name == "ewc"
