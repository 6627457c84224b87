"""ExecutionPlan: a DAG of steps with ranked candidates, totals and a JSON round trip."""

import json

import networkx as nx
import pytest

from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice


def _choice(tool_id: str, cost: float, latency: float, success: float = 0.9) -> ToolChoice:
    return ToolChoice(tool_id, 1.0, 0.5, success, cost, latency)


def _diamond() -> ExecutionPlan:
    # search -> (fetch_a, fetch_b in parallel) -> summarise
    steps = [
        PlanStep("search", "search", (_choice("web", 1.0, 1.0), _choice("wiki", 0.5, 2.0))),
        PlanStep("fetch_a", "fetch", (_choice("http", 0.1, 3.0, 0.5),), ("search",)),
        PlanStep("fetch_b", "fetch", (_choice("http", 0.1, 1.0, 0.5),), ("search",)),
        PlanStep("summarise", "llm", (_choice("gpt", 2.0, 2.0),), ("fetch_a", "fetch_b")),
    ]
    return ExecutionPlan.from_steps("t1", "research", steps, max_cost=3.5, max_latency_s=10.0)


def test_plan_is_a_dag_with_order_and_stages() -> None:
    plan = _diamond()
    assert isinstance(plan.graph, nx.DiGraph)
    assert plan.topological_order() == ["search", "fetch_a", "fetch_b", "summarise"]
    assert plan.stages() == [["search"], ["fetch_a", "fetch_b"], ["summarise"]]
    assert plan.assignments == {"search": "web", "fetch_a": "http", "fetch_b": "http", "summarise": "gpt"}
    assert plan.step("search").fallbacks[0].tool_id == "wiki"
    with pytest.raises(KeyError, match="no step 'nope'"):
        plan.step("nope")


def test_plan_totals_use_the_critical_path() -> None:
    plan = _diamond()
    assert plan.expected_cost == pytest.approx(3.2)
    # parallel fetches overlap: 1 + max(3, 1) + 2
    assert plan.expected_latency_s == pytest.approx(6.0)
    assert plan.predicted_success == pytest.approx(0.9 * 0.5 * 0.5 * 0.9)
    assert plan.within_budget
    plan.max_cost = 3.0
    assert not plan.within_budget


def test_plan_json_round_trip() -> None:
    plan = _diamond()
    data = json.loads(json.dumps(plan.to_dict()))
    back = ExecutionPlan.from_dict(data)
    assert back.to_dict() == plan.to_dict()
    assert set(back.graph.edges) == set(plan.graph.edges)


def test_a_plan_and_its_description_share_no_metadata() -> None:
    # to_dict handed out the plan's own metadata (editing the description edited the plan's
    # planner report), and from_dict kept the description's nested values
    plan = _diamond()
    plan.metadata["planner"] = {"feasible": True}
    data = plan.to_dict()
    data["metadata"]["planner"]["feasible"] = False
    assert plan.metadata == {"planner": {"feasible": True}}
    back = ExecutionPlan.from_dict(data)
    data["metadata"]["planner"]["feasible"] = True
    assert back.metadata == {"planner": {"feasible": False}}


def test_a_plan_that_is_not_a_dag_of_steps_with_tools_is_refused_naming_the_step() -> None:
    from toolrouter.errors import TaskGraphError

    tool = (_choice("web", 1.0, 1.0),)
    bad = {
        r"steps: dependencies form a cycle a -> b -> a": [PlanStep("a", None, tool, ("b",)), PlanStep("b", None, tool, ("a",))],
        r"step 'a' depends on unknown step 'ghost'": [PlanStep("a", None, tool, ("ghost",))],
        r"steps\[1\]\.step: step 'a' is used twice": [PlanStep("a", None, tool), PlanStep("a", "llm", tool)],
        r"steps\[0\]\.candidates: step 'a' has no candidate tool": [PlanStep("a", "search", ())],
        r"steps: a plan needs at least one step, got none": [],
    }
    for match, steps in bad.items():
        with pytest.raises(TaskGraphError, match=match):
            ExecutionPlan.from_steps("t", "x", steps)


@pytest.mark.parametrize("bound", [-1, 0, "5", float("nan"), True])
def test_a_budget_that_is_not_a_positive_number_is_refused_by_from_steps(bound) -> None:
    # each was kept: within_budget then failed on the string, and was False for every plan under
    # a negative or NaN budget (enforce_budget skipped every call), True under True
    steps = [PlanStep("a", None, (_choice("web", 1.0, 1.0),))]
    for name in ("max_cost", "max_latency_s"):
        with pytest.raises(ValueError, match=rf"{name}: expected a finite number > 0, got"):
            ExecutionPlan.from_steps("t", "x", steps, **{name: bound})


def test_a_plan_description_missing_a_field_names_it() -> None:
    data = _diamond().to_dict()
    with pytest.raises(ValueError, match=r"data: missing field 'task_type'"):
        ExecutionPlan.from_dict({k: v for k, v in data.items() if k != "task_type"})
    data["steps"][1]["candidates"][0].pop("score")
    with pytest.raises(ValueError, match=r"data\['steps'\]\[1\]: not a plan description .*'score'"):
        ExecutionPlan.from_dict(data)
    edited = _diamond().to_dict()
    edited["steps"][0]["depends_on"] = ["summarise"]  # a hand edit that makes a cycle
    with pytest.raises(ValueError, match="dependencies form a cycle"):
        ExecutionPlan.from_json(json.dumps(edited))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["steps"][0]["candidates"][0].update(predicted_cost="1"), r"\['candidates'\]\[0\]\['predicted_cost'\]: expected a finite number >= 0, got '1'"),
        (lambda d: d["steps"][0]["candidates"][0].update(score=float("nan")), r"\['candidates'\]\[0\]\['score'\]: expected a finite number, got nan"),
        (lambda d: d["steps"][0]["candidates"][1].update(predicted_success=1.5), r"\['predicted_success'\]: expected a finite number in \[0, 1\], got 1.5"),
        (lambda d: d["steps"][0]["candidates"][1].update(tool_id="web"), r"\['candidates'\]\[1\]\['tool_id'\]: 'web' is listed twice in step 'search'"),
        (lambda d: d["steps"][0]["candidates"][0].update(tool_id=5), r"\['tool_id'\]: expected a non-empty string, got 5"),
        (lambda d: d["steps"][3].update(depends_on="fetch_a"), r"data\['steps'\]\[3\]: not a plan description \(expected a list, got str\)"),
        (lambda d: d["steps"][0].update(step=7), r"data\['steps'\]\[0\]\['step'\]: expected a non-empty string, got 7"),
        (lambda d: d.update(steps={}), r"data: not a plan description \(expected a list, got dict\)"),
        (lambda d: d.update(max_cost=-1), r"data\['max_cost'\]: expected a finite number > 0 or None, got -1"),
        (lambda d: d.update(task_id=None), r"data\['task_id'\]: expected a string, got None"),
        (lambda d: d.update(metadata=[1]), r"data: not a plan description \(metadata: expected a mapping, got list\)"),
        (lambda d: d["structure"].update(source="guessed"), r"data\['structure'\]\['source'\]: expected one of \['declared', .*got 'guessed'"),
        (lambda d: d["structure"].update(probability=float("nan")), r"data\['structure'\]\['probability'\]: expected a finite number in \[0, 1\], got nan"),
        (lambda d: d["structure"].update(probability="high"), r"data\['structure'\]\['probability'\]: expected a finite number in \[0, 1\], got 'high'"),
        (lambda d: d["structure"].update(traces=-1), r"data\['structure'\]\['traces'\]: expected an integer >= 0, got -1"),
        (lambda d: d["structure"].update(traces=3, task_type_traces=2), r"data\['structure'\]\['traces'\]: 3 traces of 2 the task type has"),
        (lambda d: d["structure"].update(sampled="no"), r"data\['structure'\]\['sampled'\]: expected True or False, got 'no'"),
    ],
)
def test_a_plan_description_with_a_field_of_the_wrong_kind_names_it(edit, message) -> None:
    # each was taken as it was: the totals then failed or came out NaN, a string of dependencies
    # was read as its characters, and a tool id that is not text failed once the run began
    data = json.loads(_diamond().to_json())
    edit(data)
    with pytest.raises(ValueError, match=message):
        ExecutionPlan.from_dict(data)
