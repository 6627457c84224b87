"""A context_dim reaches only a contextual policy: every other refuses one, by name or by factory."""

from pathlib import Path

import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.policies import POLICIES, make_policy

TOOLS = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("a", "b")]
WITHOUT_CONTEXT = sorted(name for name, cls in POLICIES.items() if not cls.contextual)


@pytest.mark.parametrize("name", WITHOUT_CONTEXT)
def test_a_policy_without_a_context_refuses_a_context_dim(name: str) -> None:
    with pytest.raises(ValueError, match=rf"context_dim: policy {name} takes no context.*got 3"):
        ToolMetaLearner(TOOLS, policy=name, context_dim=3)
    assert ToolMetaLearner(TOOLS, policy=name).context_dim is None  # left out, as before


def test_a_factory_of_such_a_policy_refuses_one_too() -> None:
    with pytest.raises(ValueError, match=r"context_dim: policy ucb1 \(the factory's\) takes no context"):
        ToolMetaLearner(TOOLS, policy=lambda seed: make_policy("ucb1", seed=seed), context_dim=3)


def test_a_contextual_factory_refuses_a_context_dim_it_does_not_have() -> None:
    def factory(seed: int | None) -> object:
        return make_policy("lin_ts", seed=seed, context_dim=4)

    with pytest.raises(ValueError, match="context_dim: 8 disagrees with the factory's policy, whose context_dim is 4"):
        ToolMetaLearner(TOOLS, policy=factory, context_dim=8)
    assert ToolMetaLearner(TOOLS, policy=factory, context_dim=4).context_dim == 4


def test_resuming_a_contextual_snapshot_with_another_policy_names_the_policies(tmp_path: Path) -> None:
    router = ToolMetaLearner(TOOLS, policy="lin_ts", context_dim=4, store="memory://")
    router.save()
    with pytest.raises(ValueError, match="policy: the saved state used 'lin_ts', this router 'ucb1'"):
        ToolMetaLearner(TOOLS, policy="ucb1", store=router.store)
    path = tmp_path / "router.safetensors"
    router.save(path)
    with pytest.raises(ValueError, match="policy: the saved state used 'lin_ts', this router 'ucb1'"):
        ToolMetaLearner.load(path, policy="ucb1")
