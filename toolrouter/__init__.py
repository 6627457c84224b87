"""toolrouter: plans, routes and learns an agent's tool calls.

Example:
    >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile, ToolType
    >>> router = ToolMetaLearner([ToolProfile(tool_id="web", tool_type=ToolType.SEARCH)], seed=0)
    >>> router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"])).tool_for("search")
    'web'
"""

from typing import Any

from toolrouter.benchmark import ToolBenchmarkReport, create_tool_optimization_benchmark
from toolrouter.drift import Cusum, DetectorConfig, PageHinkley, make_detector
from toolrouter.errors import (
    AllToolsFailedError,
    BudgetInfeasibleError,
    CorruptStateError,
    DuplicateToolError,
    InvalidOutcomeError,
    NoToolForCapabilityError,
    PrunedLogError,
    ToolRouterError,
    UnknownSnapshotError,
    UnknownToolError,
)
from toolrouter.features import Featurizer, HashingFeaturizer, SentenceEncoderFeaturizer, make_featurizer
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
from toolrouter.plan import ExecutionPlan, PlanStep, PlanStructure, ToolChoice
from toolrouter.planner import TaskGraphLibrary, build_task_graph
from toolrouter.store import open_store
from toolrouter.structure import StructureConfig, StructureModel, StructureProposal, TraceStep

__all__ = [
    "AllToolsFailedError",
    "BudgetInfeasibleError",
    "CallOutcome",
    "CircuitBreakerConfig",
    "CorruptStateError",
    "Cusum",
    "DetectorConfig",
    "DuplicateToolError",
    "ExecutionPlan",
    "ExecutionResult",
    "ExecutorConfig",
    "Featurizer",
    "FewShotToolSelector",
    "HashingFeaturizer",
    "InvalidOutcomeError",
    "LearningResult",
    "MetaRewardModel",
    "NoToolForCapabilityError",
    "PageHinkley",
    "PlanExecutor",
    "PlanStep",
    "PlanStructure",
    "PrunedLogError",
    "RetryPolicy",
    "RoutedCall",
    "SelectorConfig",
    "SentenceEncoderFeaturizer",
    "StepRequest",
    "StructureConfig",
    "StructureModel",
    "StructureProposal",
    "TaskComplexity",
    "TaskExecution",
    "TaskGraphLibrary",
    "TaskProfile",
    "TaskStep",
    "ToolBenchmarkReport",
    "ToolChoice",
    "ToolFailure",
    "ToolMetaLearner",
    "ToolMiddleware",
    "ToolOutput",
    "ToolProfile",
    "ToolRouterError",
    "ToolStatistics",
    "ToolType",
    "TraceStep",
    "UnknownSnapshotError",
    "UnknownToolError",
    "UtilityWeights",
    "build_task_graph",
    "create_tool_optimization_benchmark",
    "learn_from_execution",
    "make_detector",
    "make_featurizer",
    "meta_train",
    "open_store",
    "optimize_task_execution",
]
__version__ = "0.1.0"

#: Names whose modules need torch: imported on first use, so routing alone never loads torch.
_LAZY = {
    "MetaRewardModel": "toolrouter.reward_model",
    "meta_train": "toolrouter.reward_model",
    "FewShotToolSelector": "toolrouter.selection",
    "SelectorConfig": "toolrouter.selection",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'toolrouter' has no attribute {name!r}")
