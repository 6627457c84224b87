"""toolrouter: plans, routes and learns an agent's tool calls.

Example:
    >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile, ToolType
    >>> router = ToolMetaLearner([ToolProfile(tool_id="web", tool_type=ToolType.SEARCH)], seed=0)
    >>> router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"])).tool_for("search")
    'web'
"""

from toolrouter.errors import (
    AllToolsFailedError,
    BudgetInfeasibleError,
    DuplicateToolError,
    InvalidOutcomeError,
    NoToolForCapabilityError,
    ToolRouterError,
    UnknownToolError,
)
from toolrouter.executor import (
    CircuitBreakerConfig,
    ExecutorConfig,
    PlanExecutor,
    RetryPolicy,
    StepRequest,
    TaskExecution,
)
from toolrouter.learner import (
    ToolMetaLearner,
    ToolStatistics,
    learn_from_execution,
    optimize_task_execution,
)
from toolrouter.middleware import CallOutcome, RoutedCall, ToolFailure, ToolMiddleware, ToolOutput
from toolrouter.models import (
    ExecutionResult,
    LearningResult,
    TaskComplexity,
    TaskProfile,
    TaskStep,
    ToolProfile,
    ToolType,
    UtilityWeights,
)
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice
from toolrouter.planner import TaskGraphLibrary, build_task_graph
from toolrouter.store import open_store

__all__ = [
    "AllToolsFailedError",
    "BudgetInfeasibleError",
    "CallOutcome",
    "CircuitBreakerConfig",
    "DuplicateToolError",
    "ExecutionPlan",
    "ExecutionResult",
    "ExecutorConfig",
    "InvalidOutcomeError",
    "LearningResult",
    "NoToolForCapabilityError",
    "PlanExecutor",
    "PlanStep",
    "RetryPolicy",
    "RoutedCall",
    "StepRequest",
    "TaskComplexity",
    "TaskExecution",
    "TaskGraphLibrary",
    "TaskProfile",
    "TaskStep",
    "ToolChoice",
    "ToolFailure",
    "ToolMetaLearner",
    "ToolMiddleware",
    "ToolOutput",
    "ToolProfile",
    "ToolRouterError",
    "ToolStatistics",
    "ToolType",
    "UnknownToolError",
    "UtilityWeights",
    "build_task_graph",
    "learn_from_execution",
    "open_store",
    "optimize_task_execution",
]
__version__ = "0.1.0"
