"""A demo run interrupted during its calls (Ctrl-C) left its router open: the store it opened
from ``--store`` and the router's threads were never released. Its router is now closed however
the run ends."""

from __future__ import annotations

import pytest

from toolrouter import ToolMetaLearner, demo


def test_an_interrupted_demo_closes_its_router(tmp_path, monkeypatch) -> None:
    routers: list[ToolMetaLearner] = []

    class Recorded(ToolMetaLearner):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            routers.append(self)

    simulated = demo._simulated_tool

    def interrupted(env, tool_id, capability):
        tool = simulated(env, tool_id, capability)

        def run(*args, **kwargs):
            if env.calls >= 3:
                raise KeyboardInterrupt
            return tool(*args, **kwargs)

        run.__name__ = tool_id
        return run

    monkeypatch.setattr(demo, "ToolMetaLearner", Recorded)
    monkeypatch.setattr(demo, "_simulated_tool", interrupted)
    with pytest.raises(KeyboardInterrupt):
        demo.run_demo(calls=20, store=f"sqlite:///{tmp_path / 'demo.db'}", progress=False)
    assert len(routers) == 1 and routers[0].closed
