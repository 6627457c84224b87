"""What a loader reports of the files it read (rows or requests it dropped) carries over to a slice
of its data: ``RouterBenchData.take`` and ``MetaToolData.subset`` keep the counts."""

from __future__ import annotations

import numpy as np

from toolrouter.data.metatool import MetaToolData
from toolrouter.data.routerbench import RouterBenchData


def test_take_keeps_the_rows_the_loader_dropped() -> None:
    data = RouterBenchData(
        sample_ids=("a.0", "a.1", "a.2"), eval_names=("a", "a", "a"), prompts=("p0", "p1", "p2"), models=("m", "n"),
        quality=np.arange(6.0).reshape(3, 2) / 6, cost=np.ones((3, 2)), dropped_rows=4,
    )
    taken = data.take([2, 0])
    assert taken.sample_ids == ("a.2", "a.0") and taken.models == ("m", "n")
    assert taken.quality.tolist() == [[4 / 6, 5 / 6], [0.0, 1 / 6]]
    assert taken.dropped_rows == 4
    assert data.take([]).dropped_rows == 4


def test_subset_keeps_the_requests_the_loader_dropped() -> None:
    data = MetaToolData(
        tools={"a": "tool a", "b": "tool b"}, queries=("qa", "qb"), labels=("a", "b"), multi_label_dropped=3
    )
    part = data.subset(["b"])
    assert part.tools == {"b": "tool b"} and part.queries == ("qb",) and part.also_served_by == ((),)
    assert part.multi_label_dropped == 3
