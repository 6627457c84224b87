"""The loaded tables that hold arrays (RouterBench, NAS-Bench-201) are equal only to themselves and
hashable, as ``OmniglotData`` is: a field-wise ``==`` compared their arrays elementwise and raised
"truth value of an array ... is ambiguous" for two tables (a table and its slice, two loads), so
``table in tables`` raised too, and a frozen table could not be a dict key or a set member."""

from __future__ import annotations

import numpy as np

from meta.data.nasbench201 import NASBench201Table
from toolrouter.data.routerbench import RouterBenchData


def _routerbench(rows: int) -> RouterBenchData:
    return RouterBenchData(
        sample_ids=tuple(f"s{i}" for i in range(rows)),
        eval_names=("mbpp",) * rows,
        prompts=tuple(f"p{i}" for i in range(rows)),
        models=("a", "b"),
        quality=np.ones((rows, 2)),
        cost=np.zeros((rows, 2)),
    )


def test_routerbench_tables_compare_and_hash_by_identity() -> None:
    data = _routerbench(3)
    part = data.take([0, 1])
    assert data == data and data != part and data != _routerbench(3)
    assert part not in [data] and data in [part, data]
    assert {data: 1, part: 2}[part] == 2


def test_nasbench201_tables_compare_and_hash_by_identity() -> None:
    table = NASBench201Table([(0,) * 6, (1,) * 6], np.array([50.0, 60.0]), np.array([51.0, 61.0]))
    other = NASBench201Table([(0,) * 6, (1,) * 6], np.array([50.0, 60.0]), np.array([51.0, 61.0]))
    assert table == table and table != other and other not in [table]
    assert len({table, other}) == 2
