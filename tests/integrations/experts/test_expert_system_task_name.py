"""``ExpertSystem.process`` checks ``task`` as ``adapt`` does, with a support set too: a task name
that is not a non-empty string is named as ``task`` (it failed in the router's TaskProfile, naming
its ``task_type``), and nothing is called or learned."""

from __future__ import annotations

import pytest

from integrations.experts import ExpertInputError, ExpertSystem, LanguageExpert
from toolrouter.features import HashingFeaturizer

SUPPORT = {"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}


@pytest.mark.parametrize("task", [None, 3, "", "   "])
@pytest.mark.parametrize("with_support", [True, False])
def test_a_bad_task_name_is_named_and_nothing_is_called(task: object, with_support: bool) -> None:
    system = ExpertSystem(seed=0)
    system.add_expert("a", LanguageExpert(HashingFeaturizer(dim=32)))
    with pytest.raises(ExpertInputError, match="task: expected a non-empty task name"):
        system.process("sure", task=task, support=SUPPORT if with_support else None)  # type: ignore[arg-type]
    assert all(s.calls == 0 for s in system.router.tool_statistics().values())
