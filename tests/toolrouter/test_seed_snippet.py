"""The seed document's tool-optimisation snippet (section 6) runs as written, imports aside; and
after a few traces of what ran for its `research` task, it plans the search and the analysis."""

from typing import Any

from toolrouter import ExecutionResult, LearningResult
from toolrouter.plan import ExecutionPlan


def run_snippet(execution_results: list[ExecutionResult]) -> dict[str, Any]:
    """The snippet as written; its names afterwards. It uses an `execution_results` list it never
    defines: the outcomes of the plan's calls."""
    # --- section 6 of seed/meta_learning_framework.md, only the import line changed ---
    from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile, ToolType, TaskComplexity

    # Define available tools
    tools = {
        'search_tool': ToolProfile(
            tool_id='search_tool',
            tool_type=ToolType.SEARCH,
            cost_per_use=1.0,
            reliability=0.9
        ),
        'analysis_tool': ToolProfile(
            tool_id='analysis_tool',
            tool_type=ToolType.ANALYSIS,
            cost_per_use=2.0,
            reliability=0.85
        )
    }

    # Create task profile
    task = TaskProfile(
        task_id='research_task',
        task_type='research',
        complexity=TaskComplexity.MODERATE
    )

    # Initialize meta-learner
    meta_learner = ToolMetaLearner(tools)

    # Optimize task execution
    plan = meta_learner.optimize_task_execution(task)
    # Learn from execution results
    learning_result = meta_learner.learn_from_execution(task, execution_results)
    # --- end of the snippet ---
    return locals()


def test_seed_tool_optimization_snippet_runs_as_written() -> None:
    snippet = run_snippet([
        ExecutionResult(tool_id="search_tool", success=True, quality=0.8, cost=1.0, latency_s=0.4),
        ExecutionResult(tool_id="analysis_tool", success=False, cost=2.0, latency_s=1.5, error="timeout"),
    ])
    plan, learning_result, meta_learner = snippet["plan"], snippet["learning_result"], snippet["meta_learner"]

    assert isinstance(plan, ExecutionPlan)
    assert set(plan.step("main").ranked_tool_ids) == {"search_tool", "analysis_tool"}
    assert isinstance(learning_result, LearningResult)
    assert learning_result.n_results == 2
    assert learning_result.success_rate == 0.5
    assert learning_result.total_cost == 3.0
    stats = meta_learner.tool_statistics()
    assert stats["search_tool"].calls == 1 and stats["search_tool"].successes == 1
    assert stats["analysis_tool"].calls == 1 and stats["analysis_tool"].successes == 0
    # the success raised the search tool's estimate above its prior; the failure lowered the other's
    assert stats["search_tool"].expected_utility > stats["analysis_tool"].expected_utility


def test_the_snippet_plans_the_search_and_the_analysis_after_a_few_traces() -> None:
    # what actually ran: a search, then an analysis of its results
    ran = [
        ExecutionResult(tool_id="search_tool", step="search", success=True, quality=0.8, cost=1.0),
        ExecutionResult(tool_id="analysis_tool", step="analysis", success=True, quality=0.9, cost=2.0),
    ]
    snippet = run_snippet(ran)
    plan, meta_learner, task = snippet["plan"], snippet["meta_learner"], snippet["task"]
    assert plan.topological_order() == ["main"] and plan.structure.source == "default"  # nothing learned yet
    for _ in range(2):
        meta_learner.learn_from_execution(task, ran)
    plan = meta_learner.optimize_task_execution(task)
    assert plan.topological_order() == ["search", "analysis"]
    assert list(plan.graph.edges) == [("search", "analysis")]  # the analysis consumes the search's output
    assert plan.tool_for("search") == "search_tool" and plan.tool_for("analysis") == "analysis_tool"
    assert plan.structure.source == "learned" and plan.structure.traces == plan.structure.task_type_traces == 3
