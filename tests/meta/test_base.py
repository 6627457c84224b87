"""Task containers, meta-batches and the BaseMetaLearner contract (including the seed's snippet)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import BaseMetaLearner, Task, create_meta_batch
from meta.base import MetaBatch, TaskShapeError, as_meta_batch


def _task(n_support: int = 5, n_query: int = 7, dim: int = 3) -> Task:
    return Task(torch.randn(n_support, dim), torch.randn(n_support, 1), torch.randn(n_query, dim), torch.randn(n_query, 1))


def test_task_rejects_mismatched_support_sizes() -> None:
    with pytest.raises(TaskShapeError, match="support_x has 5 examples but support_y has 4"):
        Task(torch.randn(5, 3), torch.randn(4, 1), torch.randn(7, 3), torch.randn(7, 1))


def test_task_rejects_support_and_query_of_different_feature_shapes() -> None:
    with pytest.raises(TaskShapeError, match=r"support_x examples have shape \(3,\) but query_x examples have shape \(4,\)"):
        Task(torch.randn(5, 3), torch.randn(5, 1), torch.randn(7, 4), torch.randn(7, 1))


def test_task_rejects_empty_support_and_non_tensors() -> None:
    with pytest.raises(TaskShapeError, match="support_x is empty"):
        Task(torch.randn(0, 3), torch.randn(0, 1), torch.randn(7, 3), torch.randn(7, 1))
    with pytest.raises(TypeError, match="query_y must be a torch.Tensor"):
        Task(torch.randn(5, 3), torch.randn(5, 1), torch.randn(7, 3), [1.0] * 7)  # type: ignore[arg-type]


def test_create_meta_batch_takes_first_tasks_or_a_seeded_subset() -> None:
    tasks = [_task() for _ in range(6)]
    first = create_meta_batch(tasks, batch_size=4)
    assert [t.support_x is s.support_x for t, s in zip(first, tasks)] == [True] * 4
    a = create_meta_batch(tasks, batch_size=3, seed=1)
    b = create_meta_batch(tasks, batch_size=3, seed=1)
    assert [t.support_x.sum() for t in a] == [t.support_x.sum() for t in b]
    assert len({id(t.support_x) for t in a}) == 3  # without replacement


@pytest.mark.parametrize("size", [0, -1, 7, 2.5, True])
def test_create_meta_batch_rejects_bad_sizes(size: object) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        create_meta_batch([_task() for _ in range(6)], batch_size=size)  # type: ignore[arg-type]


def test_meta_batch_accepts_tuples_and_stacks_equal_shapes_only() -> None:
    t = _task()
    batch = as_meta_batch([t.as_tuple(), t])
    stacked = batch.stacked()
    assert stacked is not None and stacked[0].shape == (2, 5, 3)
    ragged = MetaBatch([_task(5), _task(6)])
    assert ragged.stacked() is None
    with pytest.raises(TypeError, match="single Task"):
        as_meta_batch(t)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="length 3"):
        as_meta_batch([t.as_tuple()[:3]])


def test_a_stacked_batch_makes_its_task_views_only_when_asked() -> None:
    sx, sy = torch.randn(4, 5, 3), torch.randn(4, 5, 1)
    qx, qy = torch.randn(4, 7, 3), torch.randn(4, 7, 1)
    batch = MetaBatch.from_tensors(sx, sy, qx, qy)
    assert len(batch) == 4 and batch._tasks is None  # the vmap path needs neither views nor Tasks
    assert batch.stacked() == (sx, sy, qx, qy)
    tasks = list(batch)
    assert [t.task_id for t in tasks] == [0, 1, 2, 3]
    assert torch.equal(tasks[2].query_x, qx[2]) and tasks[2].query_x.data_ptr() == qx[2].data_ptr()
    assert batch[3].n_support == 5 and batch.tasks is batch.tasks
    with pytest.raises(TaskShapeError, match="empty"):
        MetaBatch.from_tensors(sx[:0], sy[:0], qx[:0], qy[:0])
    with pytest.raises(TaskShapeError, match="disagree on the number of tasks"):
        MetaBatch.from_tensors(sx, sy, qx[:3], qy)


def test_shard_partitions_tasks() -> None:
    sx = torch.arange(5.0).reshape(5, 1, 1)
    batch = MetaBatch.from_tensors(sx, sx, sx, sx)
    shards = [batch.shard(i, 2) for i in range(2)]
    assert [float(t.support_x) for s in shards for t in s] == [0.0, 2.0, 4.0, 1.0, 3.0]
    with pytest.raises(ValueError, match="cannot shard 5 tasks over 6"):
        batch.shard(0, 6)


def test_seed_research_extension_snippet_runs() -> None:
    # seed document, "Research Extensions": must run with only the import changed
    class CustomMetaLearner(BaseMetaLearner):
        def __init__(self, model, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(model, **kwargs)

        def meta_train_step(self, tasks):  # type: ignore[no-untyped-def]
            # Implement custom meta-learning algorithm
            pass

        def adapt_to_task(self, support_data):  # type: ignore[no-untyped-def]
            # Implement custom adaptation mechanism
            pass

    learner = CustomMetaLearner(nn.Linear(3, 1))
    assert learner.meta_train_step([]) is None and learner.adapt_to_task(None) is None
    assert learner.meta_step_count == 0 and learner.device == torch.device("cpu")
    weights = {"weight": torch.zeros(1, 3), "bias": torch.ones(1)}
    assert torch.equal(learner._forward_with_weights(torch.randn(2, 3), weights), torch.ones(2, 1))


def test_base_is_abstract_and_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="abstract"):
        BaseMetaLearner(nn.Linear(1, 1))  # type: ignore[abstract]

    class Incomplete(BaseMetaLearner):
        def meta_train_step(self, tasks):  # type: ignore[no-untyped-def]
            return {}

        def adapt_to_task(self, *a):  # type: ignore[no-untyped-def]
            return {}

    with pytest.raises(TypeError, match="torch.nn.Module"):
        Incomplete("not a model")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        Incomplete(nn.Linear(1, 1), lr=3)
