"""Experts: models that learn new tasks from a few examples and call tools through the router.

``LanguageExpert`` (text) and ``VisionExpert`` (images) share the ``Expert`` base: ``adapt`` learns a
task from a few labelled examples without forgetting the others, ``process_task`` serves one input
and returns an ``ExpertResult``, ``add_meta_learning`` attaches a MAML-family learner or a
``FewShotLearner`` built on ``expert.model``, ``add_tool_optimization`` attaches a
``toolrouter.ToolMetaLearner``. ``ExpertSystem`` routes tasks among several experts, and
``run_meta_learning_demo`` is the one-call tour of the framework (``toolrouter demo --tour``).

This is the one import path: ``from integrations.experts import LanguageExpert, run_meta_learning_demo``.
Names are imported on first use, so ``import integrations.experts`` stays cheap: it loads neither
torch nor a text encoder.

Example:
    >>> from integrations.experts import Expert, ExpertResult
    >>> Expert.__name__, ExpertResult.__name__
    ('Expert', 'ExpertResult')
"""

from __future__ import annotations

import importlib
from typing import Any

# every name is imported on first use: each module here imports torch
_LAZY = {**dict.fromkeys(["Expert", "ExpertInputError", "ExpertOutputError", "ExpertResult", "LearnerModelError",
                          "ModalityError", "TaskState", "UnknownTaskError", "normalize_support"], "base"),
         "LanguageExpert": "language", "VisionExpert": "vision", "ExpertSystem": "system", "SystemResult": "system",
         "run_meta_learning_demo": "tour"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'integrations.experts' has no attribute {name!r}")
    return getattr(importlib.import_module(f"integrations.experts.{_LAZY[name]}"), name)
