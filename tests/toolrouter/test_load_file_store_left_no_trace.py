"""``ToolMetaLearner.load(path, store=url)`` that refuses the file's state leaves no store behind at a
URL where there was none: it created the store, then restored the file onto it, and a refusal there
(a policy factory that does not make the saved policies) left a new, empty store. A store that
exists is still restored onto, its saved position kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.policies import make_policy

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]


def _ucb1(seed: int | None) -> object:
    return make_policy("ucb1", seed=seed)


def _saved(path: Path, store: str | None = None) -> None:
    with ToolMetaLearner(TOOLS, policy=_ucb1, seed=0, store=store) as router:
        router.record_attempt(ExecutionResult(tool_id="web", success=True), capability="search")
        router.save(path)


def test_a_refused_load_creates_no_store(tmp_path: Path) -> None:
    _saved(tmp_path / "r.st")
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(ValueError, match="holds ucb1 policies, this router makes gaussian_ts"):
        ToolMetaLearner.load(tmp_path / "r.st", policy=lambda seed: make_policy("gaussian_ts", seed=seed), store=url)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.st"]
    with ToolMetaLearner.load(tmp_path / "r.st", policy=_ucb1, store=url) as router:  # made when all is well
        assert router.store is not None and router.tool_statistics()["web"].calls == 1


def test_a_load_onto_its_own_store_resumes_after_the_saved_position(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _saved(tmp_path / "r.st", store=url)
    with ToolMetaLearner.load(tmp_path / "r.st", policy=_ucb1, store=url) as router:
        assert router.tool_statistics()["web"].calls == 1  # not learned twice


def test_a_factory_of_other_policies_than_a_named_saved_one_is_named_as_such(tmp_path: Path) -> None:
    # it was taken for a damaged file: CorruptStateError "state.config.policy: expected ..."
    with ToolMetaLearner(TOOLS, policy="ucb1", seed=0) as router:
        router.record_attempt(ExecutionResult(tool_id="web", success=True), capability="search")
        router.save(tmp_path / "r.st")
    gaussian = lambda seed: make_policy("gaussian_ts", seed=seed)  # noqa: E731
    with pytest.raises(ValueError, match="holds ucb1 policies, this router makes gaussian_ts; leave policy= out") as refused:
        ToolMetaLearner.load(tmp_path / "r.st", policy=gaussian)
    assert type(refused.value) is ValueError
    assert ToolMetaLearner.load(tmp_path / "r.st", policy=_ucb1).tool_statistics()["web"].calls == 1
