"""Where toolrouter meets agent frameworks and model providers.

This package imports no framework: ``integrations.openai`` and ``integrations.anthropic`` import
their SDKs when they are imported (``pip install "toolrouter[openai]"``, ``"toolrouter[anthropic]"``),
and an ``ImportError`` names the extra to install when one is missing. The provider-neutral parts
are here: a ``Toolbox`` of capabilities (one tool and one JSON Schema each, derived from the
functions that serve it, ``integrations.schema``) and the dispatch of a model's tool calls through
the router (``integrations.dispatch``).

Example:
    >>> from integrations import Toolbox
    >>> toolbox = Toolbox(seed=0)
    >>> @toolbox.tool("lookup")
    ... def lookup(key: str) -> str:
    ...     '''Look a key up.'''
    ...     return key * 2
    >>> toolbox.call_one_sync("lookup", '{"key": "ab"}').content
    'abab'
"""

from integrations.dispatch import ToolCall, adispatch_calls, dispatch_calls
from integrations.schema import (
    CapabilitySchema,
    SignatureMismatchError,
    ToolArgumentsError,
    ToolSchemaError,
    capability_schema,
    fits_openai_strict,
)
from integrations.toolbox import Toolbox, ToolResult, UnknownCapabilityError, to_content

__all__ = [
    "CapabilitySchema",
    "SignatureMismatchError",
    "ToolArgumentsError",
    "ToolCall",
    "ToolResult",
    "ToolSchemaError",
    "Toolbox",
    "UnknownCapabilityError",
    "adispatch_calls",
    "capability_schema",
    "dispatch_calls",
    "fits_openai_strict",
    "to_content",
]
