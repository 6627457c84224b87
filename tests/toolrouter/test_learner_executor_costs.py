"""learner_executor sets the costs itself: one given is refused by name."""

import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.executor import learner_executor


def test_costs_refused_by_name():
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    router.functions["web"] = lambda request: "ok"
    with pytest.raises(TypeError, match=r"^costs: .*cost_per_use"):
        learner_executor(router, costs={"web": 1.0})
