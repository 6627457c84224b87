"""Integer (and complex) inputs given to a model of floating parameters are named (support_x,
query_x) with the fix, by MAML and FewShotLearner; integer ids an embedding takes still run."""

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


@pytest.mark.parametrize("layer", [
    nn.Sequential(nn.Unflatten(1, (3, 1)), nn.Conv1d(3, 1, 1), nn.Flatten()),  # "Input type (...) should be the same"
    nn.Sequential(nn.LayerNorm(3), nn.Linear(3, 1)),  # "all inputs must share same datatype"
    nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 1)),  # "not implemented for 'Long'"
])
def test_integer_inputs_are_named_whatever_layer_fails_on_them(layer: nn.Module) -> None:
    with pytest.raises(TypeError, match=r"^support_x and query_x: dtype torch.int64, but the model's parameters are torch.float32"):
        MAML(layer, vectorize="loop").meta_train_step([_task(torch.int64)])


class _TokenTypes(nn.Module):
    """Ids an embedding takes, and an error of its own that speaks of a "type"."""

    def __init__(self) -> None:
        super().__init__()
        self.embed, self.head = nn.Embedding(5, 4), nn.Linear(12, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x >= 4).any():
            raise RuntimeError("token type ids must be below 4")
        return self.head(self.embed(x).flatten(1))


def test_an_embedding_models_own_error_is_not_reported_as_a_dtype_error() -> None:
    x = torch.full((4, 3), 4)
    with pytest.raises(RuntimeError, match=r"^token type ids must be below 4$"):
        MAML(_TokenTypes(), vectorize="loop").meta_train_step([(x, torch.randn(4, 1), x, torch.randn(4, 1))])


def test_float_ids_given_to_an_embedding_are_not_advised_to_be_floats() -> None:
    # the integer support_x is right; the float query_x the embedding refuses is what is wrong
    encoder = nn.Sequential(nn.Embedding(5, 4), nn.Flatten())
    x, y = torch.randint(0, 5, (4, 3)), torch.tensor([0, 0, 1, 1])
    with pytest.raises(RuntimeError, match=r"^Expected tensor for argument #1 'indices'"):
        FewShotLearner("prototypical", encoder=encoder).train_episode(x, y, x.float(), y)


def test_integer_inputs_of_different_dtypes_are_each_named_with_their_own() -> None:
    x, y = torch.randint(0, 5, (4, 3)), torch.tensor([0, 0, 1, 1])
    learner = FewShotLearner("prototypical", encoder=nn.Linear(3, 4))
    with pytest.raises(TypeError, match=r"^support_x: dtype torch.int64 and query_x: dtype torch.int32, but the model's"):
        learner.train_episode(x, y, x.int(), y)


def test_complex_inputs_of_a_real_model_are_named_with_a_fix_of_their_own() -> None:
    x, y = torch.randn(4, 3, dtype=torch.complex64), torch.tensor([0, 0, 1, 1])
    maml = MAML(nn.Linear(3, 1), vectorize="loop")
    before = {k: v.clone() for k, v in maml.state_dict().items()}
    fix = r": give the model its \.real, or torch\.view_as_real of it, in torch\.float32$"
    with pytest.raises(TypeError, match=rf"^support_x and query_x: dtype torch.complex64, but the model's parameters are torch.float32 .*{fix}"):
        maml.meta_train_step([(x, torch.randn(4, 1), x, torch.randn(4, 1))])
    assert all(torch.equal(v, maml.state_dict()[k]) for k, v in before.items())
    with pytest.raises(TypeError, match=rf"^support_x and query_x: dtype torch.complex64, but .*{fix}"):
        FewShotLearner("prototypical", encoder=nn.Linear(3, 4)).train_episode(x, y, x, y)
