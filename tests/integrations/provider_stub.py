"""The scripted model-provider server of the examples (``examples/_offline.py``), for the tests.

``ScriptedProvider(responses)`` answers each POST on 127.0.0.1 with the next scripted JSON body (a
dict, or a function of the request body that returns one) and keeps every request body it
received; it answers 500 once its script is spent and stops on leaving the ``with`` block. It is
loaded from the examples' file, so that the stub exists once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_OFFLINE = Path(__file__).resolve().parents[2] / "examples" / "_offline.py"
_spec = importlib.util.spec_from_file_location("examples_offline", _OFFLINE)
assert _spec is not None and _spec.loader is not None, f"{_OFFLINE}: cannot be loaded"
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

offline = _module  # the whole module, for the tests of the examples
ScriptedProvider = offline.ScriptedProvider

__all__ = ["ScriptedProvider", "offline"]
