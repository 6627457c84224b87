"""Every saver and loader of saved state or data names its path argument when it is given something
that is not a path (``None``, a number, bytes), through one check (``checked_path``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations.experts.language import LanguageExpert
from integrations.mcp.config import load_config
from integrations.shortlist import ToolShortlist
from integrations.toolbox import Toolbox
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.data.bfcl import load_bfcl
from toolrouter.data.metatool import load_metatool
from toolrouter.data.routerbench import load_routerbench
from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector

NOT_PATHS = [None, 3, b"router.safetensors"]


@pytest.fixture(scope="module")
def calls() -> dict[str, tuple[str, Callable[[Any], Any]]]:
    expert = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    router = ToolMetaLearner([ToolProfile(tool_id="a", tool_type="other", capabilities=["x"])], seed=0)
    toolbox = Toolbox()
    return {
        "Expert.save": ("path", expert.save),
        "Expert.load": ("path", expert.load),
        "ToolMetaLearner.save": ("path", router.save),
        "ToolMetaLearner.load": ("source", ToolMetaLearner.load),
        "FewShotToolSelector.save": ("path", FewShotToolSelector(HashingFeaturizer(dim=64), seed=0).save),
        "FewShotToolSelector.load": ("path", FewShotToolSelector.load),
        "ToolShortlist.save": ("path", ToolShortlist(toolbox, featurizer=HashingFeaturizer(dim=64)).save),
        "ToolShortlist.load": ("path", lambda p: ToolShortlist.load(p, toolbox)),
        "load_routerbench": ("path", load_routerbench),
        "load_metatool": ("path", load_metatool),
        "load_bfcl": ("path", load_bfcl),
        "load_config": ("path", load_config),
    }


NAMES = [
    "Expert.save", "Expert.load", "ToolMetaLearner.save", "ToolMetaLearner.load", "FewShotToolSelector.save",
    "FewShotToolSelector.load", "ToolShortlist.save", "ToolShortlist.load", "load_routerbench", "load_metatool",
    "load_bfcl", "load_config",
]


# ToolMetaLearner.save(None) saves a snapshot in the router's store (its own error without one)
CASES = [(n, v) for n in NAMES for v in NOT_PATHS if (n, v) != ("ToolMetaLearner.save", None)]


@pytest.mark.parametrize(("name", "value"), CASES)
def test_a_value_that_is_not_a_path_is_refused_naming_the_argument(calls: dict, name: str, value: Any) -> None:
    field, call = calls[name]
    with pytest.raises(TypeError, match=rf"^{field}: expected a file path \(str or os.PathLike\), got ") as err:
        call(value)
    assert repr(value) in str(err.value)
