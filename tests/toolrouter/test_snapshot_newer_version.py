"""State saved by a newer toolrouter (a router upgraded first, on a store shared with older ones)
is refused saying so, naming the store and snapshot or the file: it was reported as an
unsupported format, as if damaged."""

from __future__ import annotations

import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.errors import CorruptStateError
from toolrouter.serialization import read_blob, write_blob
from toolrouter.store import open_store

TOOLS = [ToolProfile(tool_id="a", capabilities=["s"]), ToolProfile(tool_id="b", capabilities=["s"])]


def newer(data: bytes) -> bytes:
    blob = read_blob(data, "toolrouter.learner")
    return write_blob(dict(blob.arrays), "toolrouter.learner", {**blob.config, "version": 99})


def test_a_snapshot_of_a_newer_toolrouter_says_to_upgrade(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner(tools=TOOLS, store=url)
    router.save()
    router.save(tmp_path / "router.safetensors")
    router.close()
    with open_store(url) as store:
        snapshot = store.get_snapshot("learner")
        store.delete_snapshot("learner")
        store.put_snapshot("learner", newer(snapshot.data), snapshot.watermark)
    with pytest.raises(CorruptStateError, match=r"snapshot 'learner': version 99 was saved by a newer toolrouter.*upgrade toolrouter"):
        ToolMetaLearner(store=url)
    path = tmp_path / "router.safetensors"
    path.write_bytes(newer(path.read_bytes()))
    with pytest.raises(CorruptStateError, match=r"router.safetensors.*version 99 was saved by a newer toolrouter"):
        ToolMetaLearner.load(path)
