"""DARTS relaxes only the NAS-Bench-201 cell space; on the design document's layer space it is refused
up front, naming the space it supports and the algorithms to use instead."""

from __future__ import annotations

import optuna
import pytest
import torch

from meta.nas import NeuralArchitectureSearch, create_nas_search_space, create_nb201_search_space, make_space
from meta.base import NonFiniteLossError
from meta.nas.darts import DARTSConfig, Supernet, run_darts

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _data(shape: tuple[int, ...]) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, *shape, generator=g), torch.randint(0, 10, (8,), generator=g)
    return x, y, x, y


def test_darts_on_the_layer_space_is_refused_before_anything_runs() -> None:
    # the design document's section 5 space, with the algorithm its comment offers
    search_space = create_nas_search_space(input_shape=(3, 32, 32), num_classes=10, max_layers=20)
    for darts_data in (None, _data((3, 32, 32))):
        with pytest.raises(ValueError) as raised:
            NeuralArchitectureSearch(search_space_config=search_space, algorithm="darts", darts_data=darts_data)
        message = str(raised.value)
        assert message.startswith("algorithm: 'darts' searches only the NAS-Bench-201 cell space")
        assert "create_nb201_search_space" in message and "LayerSearchSpace" in message
        assert "'bayesian'" in message and "'evolutionary'" in message and "'darts'" in message


def test_run_darts_names_the_supported_space_too() -> None:
    layer_space = make_space(create_nas_search_space((1, 8, 8), num_classes=10, max_layers=2))
    with pytest.raises(ValueError, match=r"search_space_config: DARTS searches only the NAS-Bench-201 cell space"):
        run_darts(layer_space, _data((1, 8, 8)))


@pytest.mark.parametrize("algorithm", ["random", "bayesian", "evolutionary"])
def test_the_other_algorithms_of_the_snippets_comment_search_its_space(algorithm: str) -> None:
    search_space = create_nas_search_space(input_shape=(3, 32, 32), num_classes=10, max_layers=20)
    nas = NeuralArchitectureSearch(search_space_config=search_space, algorithm=algorithm, population_size=5, seed=0)
    best, score = nas.search_architecture(lambda a: -len(a["layers"]), num_evaluations=12)
    assert score == max(v for _, v in nas.history) and len(nas.history) == 12
    assert best["type"] == "layers" and score == -len(best["layers"])


def test_darts_still_runs_on_the_cell_space() -> None:
    space = create_nb201_search_space((1, 4, 4), num_classes=10, channels=2)
    nas = NeuralArchitectureSearch(space, "darts", seed=0, darts_data=_data((1, 4, 4)), darts_options={"epochs": 1})
    best, _ = nas.search_architecture(lambda a: a["ops"].count("skip_connect"), num_evaluations=2)
    assert best["type"] == "nb201_cell" and nas.darts_result is not None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("nan", "x_train holds NaN or infinite values"),
        ("fractional labels", r"y_train holds non-integer labels such as \d+\.5"),
        ("label out of range", r"y_val holds labels outside \[0, 10\) \(num_classes\), such as 12"),
        ("labels 2-D", r"y_train must hold one class label per row \(1-D\), got shape \(8, 1\)"),
    ],
)
def test_darts_data_that_would_give_a_meaningless_architecture_is_named(damage: str, message: str) -> None:
    space = make_space(create_nb201_search_space((1, 4, 4), num_classes=10, channels=2))
    x, y, xv, yv = _data((1, 4, 4))
    if damage == "nan":
        x = x.clone()
        x[0, 0, 0, 0] = float("nan")  # would make every architecture weight NaN, and argmax still picks an op
    elif damage == "fractional labels":
        y = y.float() + 0.5  # a cast to long would truncate them
    elif damage == "label out of range":
        yv = yv.clone()
        yv[0] = 12
    else:
        y = y[:, None]
    with pytest.raises(ValueError, match=f"darts_data: {message}"):
        run_darts(space, (x, y, xv, yv), DARTSConfig(epochs=1))


def test_darts_data_and_options_are_checked_when_the_search_is_made(tmp_path) -> None:
    space = create_nb201_search_space((1, 4, 4), num_classes=10, channels=2)
    x, y, xv, yv = _data((1, 4, 4))
    storage = f"sqlite:///{tmp_path / 'nas.db'}"
    with pytest.raises(ValueError, match=r"darts_data: y_val holds labels outside \[0, 10\)"):
        NeuralArchitectureSearch(space, "darts", darts_data=(x, y, xv, yv + 10), storage=storage, study_name="s")
    with pytest.raises(ValueError, match="epoch"):
        NeuralArchitectureSearch(space, "darts", darts_data=(x, y, xv, yv), darts_options={"epoch": 1},
                                 storage=storage, study_name="s")
    assert optuna.get_all_study_names(storage) == []  # nothing was created in the storage


def test_a_darts_loss_that_becomes_nan_stops_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    space = make_space(create_nb201_search_space((1, 4, 4), num_classes=10, channels=2))
    monkeypatch.setattr(Supernet, "forward", lambda self, x: torch.full((len(x), 10), float("nan"), requires_grad=True))
    with pytest.raises(NonFiniteLossError, match="DARTS validation loss is nan at epoch 0, step 0"):
        run_darts(space, _data((1, 4, 4)), DARTSConfig(epochs=1))
