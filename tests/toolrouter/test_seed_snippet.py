"""The seed document's tool-optimisation snippet (section 6) runs as written, imports aside."""

from toolrouter import ExecutionResult, LearningResult
from toolrouter.plan import ExecutionPlan


def test_seed_tool_optimization_snippet_runs_as_written() -> None:
    # the snippet uses an `execution_results` list it never defines: the outcomes of the plan's calls
    execution_results = [
        ExecutionResult(tool_id="search_tool", success=True, quality=0.8, cost=1.0, latency_s=0.4),
        ExecutionResult(tool_id="analysis_tool", success=False, cost=2.0, latency_s=1.5, error="timeout"),
    ]

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
