"""The reward model's inputs are checked as a policy checks an outcome: a utility within
``+-MAX_ABS_REWARD`` (a real number, not a string or a bool), a context of finite numbers within the
policies' bounds; an error names the outcome and the field, before any training."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.reward_model import Outcome, meta_train
from tiny_reward_model import D, FEATURIZER, TOOLS, history, train


@pytest.mark.parametrize("utility", [1e300, -1e10, "1.0", True])
def test_a_utility_a_policy_would_refuse_is_refused_naming_the_outcome(utility) -> None:
    # 1e300 became inf in the float32 model: the error was a NaN meta-loss, naming no outcome
    outcomes = history()
    outcomes[3] = Outcome("type1", "b", np.zeros(D), utility)
    with pytest.raises(ValueError, match=r"^history\[3\]\.utility: expected a finite number"):
        train(outcomes)


@pytest.mark.parametrize("context", [np.full(D, 1e300), ["x"] * D])
def test_a_context_a_policy_would_refuse_is_refused_naming_the_outcome(context) -> None:
    outcomes = history()
    outcomes[5] = Outcome("type1", "b", context, 1.0)
    with pytest.raises(ValueError, match=r"^history\[5\]\.context: "):
        train(outcomes)


def test_predict_refuses_contexts_of_the_wrong_width_or_not_finite() -> None:
    model = train(history())
    good = np.zeros((2, D))
    assert model.predict(good, TOOLS, FEATURIZER).shape == (2, 2)
    with pytest.raises(ValueError, match=rf"^contexts: expected shape \(n, {D}\)"):
        model.predict(np.zeros((2, D - 1)), TOOLS, FEATURIZER)
    bad = good.copy()
    bad[1, 0] = np.nan  # came out as a NaN prediction
    with pytest.raises(ValueError, match=r"^contexts\[1\]: entries must be finite"):
        model.predict(bad, TOOLS, FEATURIZER)


@pytest.mark.parametrize("dropout, accepted", [(np.float32(0.25), True), (0, True), (False, False), (1.0, False), ("0.3", False)])
def test_tool_dropout_is_checked_as_every_number_option(dropout, accepted) -> None:
    # np.float32(0.25) was refused as "not a number", False taken for 0
    if accepted:
        assert train(history(), tool_dropout=dropout).tool_ids == ["a", "b"]
    else:
        with pytest.raises(ValueError, match=r"^tool_dropout: expected a finite number in \[0, 1\)"):
            train(history(), tool_dropout=dropout)


@pytest.mark.parametrize("field, outcome", [
    ("tool_id", Outcome("type1", None, None, 1.0)),  # TypeError: '<' not supported between 'NoneType' and 'str'
    ("task_type", Outcome(["type1"], "a", None, 1.0)),  # TypeError: unhashable type: 'list'
    ("task_type", Outcome(None, "a", None, 1.0)),  # trained on as a task type of its own
])
def test_an_outcome_whose_tool_or_task_type_is_not_a_string_is_refused_naming_it(field, outcome) -> None:
    outcomes = history()
    outcomes[4] = outcome
    with pytest.raises(TypeError, match=rf"^history\[4\]\.{field}: expected a string, got "):
        train(outcomes)
    model = train(history())
    with pytest.raises(TypeError, match=rf"^history\[0\]\.{field}: expected a string, got "):
        model.adapt([outcome])


@pytest.mark.parametrize("context_dim", [0, True, 8.0, "8", None])
def test_a_context_dim_that_is_not_a_positive_integer_is_refused_naming_it(context_dim) -> None:
    # it was read off the first context: "history[0].context: expected True numbers", or torch's TypeError for 8.0
    with pytest.raises(ValueError, match=rf"^context_dim: expected an integer in \[1, \d+\], got {context_dim!r}"):
        meta_train(history(), TOOLS, FEATURIZER, context_dim=context_dim, meta_steps=1)


def test_a_featurizer_that_is_not_callable_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match=r"^featurizer: expected a callable text -> vector, got None"):
        meta_train(history(), TOOLS, None, context_dim=D, meta_steps=1)  # was "'NoneType' object is not callable"


def test_an_empty_history_is_called_empty_however_it_comes() -> None:
    # an empty generator passed the emptiness check and was called "all cancelled by their caller"
    with pytest.raises(ValueError, match=r"^history: empty"):
        train(o for o in [])
    with pytest.raises(TypeError, match=r"^history: expected a sequence of AttemptRecord or Outcome, got None"):
        train(None)
    # an array of outcomes has no truth value: "The truth value of an array ... is ambiguous"
    assert train(np.array(history(), dtype=object)).tool_ids == ["a", "b"]
    assert train(o for o in history()).tool_ids == ["a", "b"]


def test_a_mapping_of_tools_whose_key_is_not_its_profiles_id_is_refused_naming_the_key() -> None:
    # the key was ignored: the profile of "b" trained under "b", the caller's "a" forgotten
    with pytest.raises(ValueError, match=r"^tools\['a'\]: the key differs from its profile's tool_id 'b'"):
        meta_train(history(), {"a": TOOLS[1], "b": TOOLS[1]}, FEATURIZER, context_dim=D, meta_steps=1)
    by_id = {t.tool_id: t for t in TOOLS}
    assert meta_train(history(), by_id, FEATURIZER, context_dim=D, features=2, hidden=4, meta_steps=1).tool_ids == ["a", "b"]


@pytest.mark.parametrize("contexts", [[True] + [0.0] * (D - 1), [[0.0] * D, [0.0] * (D - 1) + [np.bool_(True)]], np.ones((2, D), dtype=bool)])
def test_predict_refuses_a_bool_in_a_context_as_a_policy_does(tiny_reward_model, contexts) -> None:
    with pytest.raises(ValueError, match=r"^contexts\[\d\]\[\d+\]: expected a number, not a bool"):
        tiny_reward_model.predict(contexts, TOOLS, FEATURIZER)
    assert tiny_reward_model.predict(np.asarray(contexts, dtype=float), TOOLS, FEATURIZER).shape[1] == 2
