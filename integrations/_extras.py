"""Optional frameworks, imported only by the integration that needs them.

Each framework is an extra of the package (``pip install "toolrouter[openai]"``); the core
(``toolrouter``, ``meta``, ``adapters_lib``) never imports ``integrations``, and
``integrations/__init__`` imports no framework, so a missing extra only matters to the one
module that speaks that framework's formats.

Example:
    >>> json = require("json", "none")  # any importable module comes back as the module itself
    >>> json.dumps([1])
    '[1]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` and return it; without it, raise ``ImportError`` naming the extra that
    installs it (``pip install "toolrouter[<extra>]"``), the original error chained."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module!r} cannot be imported ({exc}); the toolrouter {extra} integration needs it: "
            f'pip install "toolrouter[{extra}]"',
            name=module,
        ) from exc
