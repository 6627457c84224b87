"""toolrouter: plans, routes and learns an agent's tool calls."""

from toolrouter.models import (
    ExecutionResult,
    LearningResult,
    TaskComplexity,
    TaskProfile,
    ToolProfile,
    ToolType,
    UtilityWeights,
)

__all__ = [
    "ExecutionResult",
    "LearningResult",
    "TaskComplexity",
    "TaskProfile",
    "ToolProfile",
    "ToolType",
    "UtilityWeights",
]
__version__ = "0.1.0"
