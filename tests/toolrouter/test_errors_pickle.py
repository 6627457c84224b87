"""Every error the package raises survives pickling (a process pool's worker raising it): the same
class, message and attributes. One whose ``__init__`` takes the parts of its message was rebuilt
from the message alone: ``UnknownSnapshotError`` and ``DanglingDependencyError`` failed to unpickle
(``TypeError``), ``UnknownToolError`` and ``CyclicTaskGraphError`` came back with garbled messages."""

from __future__ import annotations

import importlib
import importlib.util
import pickle

import pytest

from toolrouter.errors import ToolRouterError
from toolrouter.models import ExecutionResult

#: Every module of the package that defines one (the MCP gateway's only where its SDK is installed).
MODULES = [
    "toolrouter.errors",
    "toolrouter.store.base",
    "toolrouter.data.fetch",
    "toolrouter.data.convert",
    "integrations.schema",
    "integrations.toolbox",
    "integrations.mcp.config",
    "integrations.mcp.grouping",
    "integrations.mcp.upstream",
]


def _module(name: str):
    if name.startswith("integrations.mcp."):
        pytest.importorskip("mcp")
    return importlib.import_module(name)


#: Module, class, arguments: one case of each class.
CASES = [
    ("toolrouter.errors", "ToolRouterError", ("message",)),
    ("toolrouter.errors", "UnknownToolError", ("web", "fallback")),
    ("toolrouter.errors", "UnknownSnapshotError", ("sqlite:///s.db", "v2", ["v1"])),
    ("toolrouter.errors", "DuplicateToolError", ("tool_id: 'web' registered twice",)),
    ("toolrouter.errors", "NoToolForCapabilityError", ("capability: none serves 'x'",)),
    ("toolrouter.errors", "InvalidOutcomeError", ("quality: nan",)),
    (
        "toolrouter.errors",
        "AllToolsFailedError",
        ("all failed", [ExecutionResult(tool_id="web", success=False, error="down")], [("db", "circuit open")]),
    ),
    ("toolrouter.errors", "BudgetInfeasibleError", ("no plan fits",)),
    ("toolrouter.errors", "CorruptStateError", ("key 'w' missing", "state.json")),
    ("toolrouter.errors", "DataError", ("rows.csv: row 3: bad",)),
    ("toolrouter.errors", "StoreOpenError", ("url: bad",)),
    ("toolrouter.errors", "NoStoreError", ("url: no store yet",)),
    ("toolrouter.errors", "PrunedLogError", ("pruned",)),
    ("toolrouter.errors", "TaskGraphError", ("steps: bad",)),
    ("toolrouter.errors", "CyclicTaskGraphError", (["a", "b"],)),
    ("toolrouter.errors", "DanglingDependencyError", ("b", "a")),
    ("toolrouter.attempts", "ToolFailure", ("down",)),  # a tool's, which the package exports too
    ("toolrouter.store.base", "StoreUnavailableError", ("store down",)),
    ("toolrouter.store.base", "StoreUnreachableError", ("store unreachable",)),
    ("toolrouter.data.fetch", "DatasetMissingError", ("no data",)),
    ("toolrouter.data.fetch", "ChecksumError", ("sha256 differs",)),
    ("toolrouter.data.fetch", "DownloadError", ("HTTP 500",)),
    ("toolrouter.data.convert", "UpstreamFormatError", ("not JSON",)),
    ("integrations.schema", "ToolSchemaError", ("*args",)),
    ("integrations.schema", "SignatureMismatchError", ("search", "b", "q", "is missing", "a")),
    ("integrations.schema", "ToolArgumentsError", ("search", ["q: expected a string"])),
    ("integrations.toolbox", "UnknownCapabilityError", ("serch", ["search"])),
    ("integrations.mcp.config", "ConfigError", ("servers: bad",)),
    ("integrations.mcp.grouping", "GroupingError", ("tools differ",)),
    ("integrations.mcp.upstream", "UpstreamUnavailableError", ("not connected",)),
    ("integrations.mcp.upstream", "UpstreamToolError", ("failed",)),
    ("integrations.mcp.upstream", "MalformedResultError", ("no text",)),
    ("integrations.mcp.upstream", "ResultTooLargeError", ("too large",)),
]


@pytest.mark.parametrize(("module", "name", "args"), CASES, ids=[case[1] for case in CASES])
def test_an_error_survives_pickling(module: str, name: str, args: tuple) -> None:
    error = getattr(_module(module), name)(*args)
    error.add_note("while routing")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct} | _subclasses(direct)}


def test_every_error_has_a_case() -> None:
    for module in MODULES:
        if not module.startswith("integrations.mcp.") or importlib.util.find_spec("mcp") is not None:
            importlib.import_module(module)
    # those of the package (a test may define its own)
    defined = {(c.__module__, c.__name__) for c in _subclasses(ToolRouterError) if c.__module__.startswith(("toolrouter.", "integrations."))}
    assert defined <= {(module, name) for module, name, _ in CASES}
