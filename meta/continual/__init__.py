"""Continual learning: strategies (EWC, replay, LwF, progressive networks), the learner that runs
them over a sequence of tasks, the metrics on its accuracy matrix, and a drift adapter for
regression models fed by a changing stream.

Typical use (the seed's example)::

    from meta import ContinualLearner
    learner = ContinualLearner(model, strategy="ewc", buffer_size=1000)
    for task_id, task_data in enumerate(tasks):
        learner.train_task(task_data, task_id, num_epochs=10)
    learner.evaluate_all_tasks(test_data)
"""

from __future__ import annotations

from meta.continual._data import Batch, DuplicateTaskError, EmptyTaskError, UnknownTaskError
from meta.continual.drift import DriftAdapter
from meta.continual.learner import ContinualConfig, ContinualLearner, make_strategy
from meta.continual.metrics import (
    AccuracyMatrix,
    CollapseReport,
    average_accuracy,
    backward_transfer,
    detect_collapse,
    forgetting,
    forward_transfer,
)
from meta.continual.progressive import Progressive, ProgressiveNetwork
from meta.continual.strategies import (
    EWC,
    LwF,
    Compose,
    ExperienceReplay,
    Naive,
    Strategy,
    TrainingContext,
    fisher_diagonal,
)

__all__ = [
    "AccuracyMatrix",
    "Batch",
    "CollapseReport",
    "Compose",
    "ContinualConfig",
    "ContinualLearner",
    "DriftAdapter",
    "DuplicateTaskError",
    "EWC",
    "EmptyTaskError",
    "ExperienceReplay",
    "LwF",
    "Naive",
    "Progressive",
    "ProgressiveNetwork",
    "Strategy",
    "TrainingContext",
    "UnknownTaskError",
    "average_accuracy",
    "backward_transfer",
    "detect_collapse",
    "fisher_diagonal",
    "forgetting",
    "forward_transfer",
    "make_strategy",
]
