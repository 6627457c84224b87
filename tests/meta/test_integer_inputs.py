"""Integer inputs given to a model of floating parameters are named (support_x, query_x) with the
fix, by MAML and FewShotLearner; integer ids an embedding takes still run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, FewShotLearner


def _task(x_dtype: torch.dtype, features: int = 3) -> tuple[torch.Tensor, ...]:
    x = torch.randint(0, 5, (4, features)).to(x_dtype)
    return x, torch.randn(4, 1), x.clone(), torch.randn(4, 1)


@pytest.mark.parametrize("call", ["meta_train_step", "adapt_to_task", "evaluate"])
def test_integer_inputs_of_a_float_model_are_named(call: str) -> None:
    maml = MAML(nn.Linear(3, 1), vectorize="loop")
    before = {k: v.clone() for k, v in maml.state_dict().items()}
    task = _task(torch.int64)
    run = {
        "meta_train_step": lambda: maml.meta_train_step([task]),
        "adapt_to_task": lambda: maml.adapt_to_task(task[0], task[1]),
        "evaluate": lambda: maml.evaluate([task]),
    }[call]
    fields = "support_x" if call == "adapt_to_task" else "support_x and query_x"
    with pytest.raises(TypeError, match=rf"^{fields}: dtype torch.int64, but the model's parameters are torch.float32 .*\.to\(torch.float32\)$"):
        run()
    assert all(torch.equal(v, maml.state_dict()[k]) for k, v in before.items())


def test_integer_ids_of_an_embedding_model_still_train() -> None:
    maml = MAML(nn.Sequential(nn.Embedding(5, 4), nn.Flatten(), nn.Linear(12, 1)), vectorize="loop")
    assert maml.meta_train_step([_task(torch.int64)])["meta_loss"] >= 0


@pytest.mark.parametrize("call", ["train_episode", "predict"])
def test_integer_inputs_of_a_float_encoder_are_named_by_the_few_shot_learner(call: str) -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(3, 4))
    x, y = torch.randint(0, 5, (4, 3)), torch.tensor([0, 0, 1, 1])
    run = learner.train_episode if call == "train_episode" else lambda *t: learner.predict(*t[:3])
    with pytest.raises(TypeError, match=r"^support_x and query_x: dtype torch.int64, but the model's parameters are torch.float32"):
        run(x, y, x, y)
    assert learner.episodes_trained == 0


def test_integer_inputs_of_a_prediction_with_adapted_weights_are_named() -> None:
    maml = MAML(nn.Linear(3, 1))
    weights = maml.adapt_to_task(torch.randn(4, 3), torch.randn(4, 1))
    with pytest.raises(TypeError, match=r"^x: dtype torch.int64, but the model's parameters are torch.float32"):
        maml._forward_with_weights(torch.randint(0, 5, (2, 3)), weights)
