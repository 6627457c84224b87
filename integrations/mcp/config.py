"""The gateway's configuration: upstream MCP servers, the router, the grouping of tools.

A config is a TOML or JSON file. Upstream servers sit under ``servers``, or under ``mcpServers``
in the shape MCP clients already use (``command``, ``args``, ``env`` for a server run over stdio;
``url``, ``headers`` for one reached over streamable HTTP, and with ``type = "sse"`` for one of
the older HTTP+SSE transport), so an existing client config can be pointed at the gateway as it
is. Every other section is optional::

    [servers.search_a]
    command = "python"
    args = ["search_a.py"]    # run in the config file's folder (or cwd): search_a.py beside the config
    timeout_s = 10            # per call to this server (within the router's deadline_s)
    max_result_bytes = 4194304  # a larger result fails the call (default 16 MiB, at most 64 MiB)
    start = "startup"         # or "lazy": started by the first request that needs its tools

    [servers.search_b]
    url = "http://127.0.0.1:8765/mcp"

    [servers.legacy]
    type = "sse"                      # the HTTP+SSE transport: the url of its event stream
    url = "http://127.0.0.1:8000/sse"

    [router]
    policy = "gaussian_ts"
    store = "sqlite:///gateway.db"   # relative paths are relative to the config file
    deadline_s = 30                  # a whole call, fallbacks included

    [grouping]
    by_name = true                   # same name and compatible input schemas: one capability
    by_description = false           # similar descriptions (the router's featurizer) too
    similarity_threshold = 0.8

    [grouping.capabilities.web_search]
    tools = ["search_a:search", "search_b:web_query"]

A mistake raises ``ConfigError`` naming the file, the field and the value; nothing is started.
A server's ``timeout_s`` over the router's ``deadline_s`` is accepted, with a warning
(``mcp_config_timeout_over_deadline``, naming the server and both values) as the config is
checked: the deadline ends a call first, so that server's own timeout is never reached.

In a config file, a server's ``command``, ``args``, ``cwd``, ``url``, and the values of its ``env``
and ``headers`` may name the gateway's environment variables, as MCP clients' configs do:
``${NAME}`` is the variable's value, ``${NAME:-default}`` the default where it is unset or empty,
and ``$${`` a literal ``${``. A variable that is unset, with no default, is a ``ConfigError``
naming it and the server (so that keys stay out of the file); a disabled server's are left as
they are::

    [servers.search_a.env]
    SEARCH_API_KEY = "${SEARCH_API_KEY}"

    [servers.search_b.headers]
    Authorization = "Bearer ${SEARCH_B_TOKEN}"

Paths in a config file are read relative to the file's folder, wherever the gateway is started
from (an MCP client starts it from a folder of its own choosing): a stdio server's process runs in
its ``cwd``, a relative ``cwd`` taken from the config's folder, and without one in the config's
folder itself, so that the relative paths in its ``command`` and ``args`` name files beside the
config (or in its ``cwd``); a ``sqlite:///`` store path too. A config made in code
(``GatewayConfig.model_validate``) is taken as it is: a server without ``cwd`` runs in the
gateway's working folder.

Example:
    >>> config = GatewayConfig.model_validate({"mcpServers": {"files": {"command": "files-server"}}})
    >>> config.servers["files"].transport, config.router.policy
    ('stdio', 'gaussian_ts')
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from toolrouter.attempts import CircuitBreakerConfig
from toolrouter.errors import ToolRouterError
from toolrouter.learner import SEED_LIMIT, _checked_snapshot_name
from toolrouter.logging import EventLog
from toolrouter.models import _identifier
from toolrouter.serialization import checked_path, short_repr
from toolrouter.store import check_store_url
from toolrouter.store.postgres import masked

__all__ = [
    "ConfigError",
    "ExplicitCapability",
    "GatewayConfig",
    "GroupingConfig",
    "ReconnectPolicy",
    "RouterConfig",
    "ServerConfig",
    "check_config",
    "load_config",
    "split_tool_ref",
]

#: Server names become part of tool ids and, on a name clash, of exposed tool names.
log = EventLog(__name__)

SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,48}")

_FEATURIZERS = ("hashing", "minilm", "minilm+hashing")
#: The longest message the gateway reads from a server (a line, over stdio): the most a server's
#: ``max_result_bytes`` may be.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: An HTTP header's name (RFC 9110's token) and value, as the HTTP client sends them: it refuses
#: others at every request, and its error quotes the value (a token) into the logs.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?")


class ConfigError(ToolRouterError, ValueError):
    """A gateway config that cannot be used: the message names the file, the field and the value."""


class _Strict(BaseModel):
    # strict: a number or a switch of the wrong type (true for a timeout, "false" for disabled, "5" for
    # a number) was read as one, true a 1 s timeout; the mistake is named instead
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ServerConfig(_Strict):
    """One upstream MCP server: a command run over stdio, or a URL, of streamable HTTP or (with
    ``type = "sse"``) of the HTTP+SSE transport. Over either, ``headers`` go with every request,
    ``connect_timeout_s`` bounds connecting and each request but the reading of answers, which
    ``timeout_s`` bounds (the stream of answers is given at least 300 seconds without an event)."""

    command: str | None = Field(None, description="Executable of a stdio server.")
    args: list[str] = Field(default_factory=list, description="Its arguments.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    cwd: str | None = Field(
        None, description="Working folder of a stdio server (relative, or left out: the config file's folder)."
    )
    url: str | None = Field(None, description="Endpoint of a streamable HTTP server, or event stream of an SSE one.")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers sent to it.")
    type: Literal["stdio", "http", "streamable-http", "streamableHttp", "sse"] | None = Field(
        None, description="Transport, as MCP client configs spell it (default: stdio for command, http for url)."
    )
    timeout_s: float = Field(30.0, gt=0, le=3600, description="Seconds one call to this server may take.")
    connect_timeout_s: float = Field(30.0, gt=0, le=3600, description="Seconds to start and list its tools.")
    max_result_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1,
        le=MAX_MESSAGE_BYTES,
        description="Bytes (as JSON) a call's result may have; a larger one fails the call, which is recorded "
        "as the server's failure and goes to the next server, rather than reaching the client whole. Over stdio "
        "a larger answer is dropped as it streams in; over HTTP the SDK reads the answer whole first, up to 64 MiB "
        "(over HTTP+SSE, type 'sse', it takes no message over 1 MiB: one ends the connection).",
    )
    start: Literal["startup", "lazy"] = Field(
        "startup", description="Start with the gateway, or at the first request that needs its tools."
    )
    cost_per_use: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="The router's cost of one call (your unit)."
    )
    disabled: bool = Field(False, description="Leave this server out, and its tools out of the explicit groups.")
    # what MCP clients keep beside a server for their own approval prompts: no use to the gateway,
    # which answers to the client that runs it, but accepted so that a client's file loads as it is
    autoApprove: list[str] = Field(default_factory=list, description="Tools a client runs without asking; ignored.")
    alwaysAllow: list[str] = Field(default_factory=list, description="The same, as other clients name it; ignored.")

    @field_validator("command")
    @classmethod
    def _command(cls, command: str | None) -> str | None:
        if command is not None and not command.strip():
            raise ValueError("expected the name or path of the program to run")
        return command

    @field_validator("command", "args", "cwd")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # a process cannot be given one: every attempt to start the server would fail
        if any("\x00" in text for text in ([value] if isinstance(value, str) else value or ())):
            raise ValueError("a NUL character cannot be passed to a process")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        for name, value in env.items():  # named, the value not shown: it may be a secret
            if not name or "=" in name or "\x00" in name:
                raise ValueError(f"variable name {name!r}: not empty, without '=' or a NUL character")
            if "\x00" in value:
                raise ValueError(f"the value of {name!r} has a NUL character, which a process cannot be given")
        return env

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():  # named, the value not shown: it may be a token
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"header name {name!r}: letters, digits and !#$%&'*+-.^_`|~ only")
            if not _HEADER_VALUE.fullmatch(value):
                raise ValueError(
                    f"the value of header {name!r}: printable ASCII without spaces at its ends or line breaks"
                )
        return headers

    @model_validator(mode="after")
    def _one_transport(self) -> "ServerConfig":
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (a stdio server) or url (an HTTP server), not both or neither")
        # a setting of the other transport would be dropped without a word: the server run without it
        own, other = ("url", ("args", "env", "cwd")) if self.url is not None else ("command", ("headers",))
        stray = next((name for name in other if getattr(self, name)), None)
        if stray is not None:
            kind = "stdio server (command)" if own == "url" else "server reached by url"
            raise ValueError(f"{stray} is a setting of a {kind}, not of one with {own}")
        if self.type is not None and (self.type == "stdio") != (self.command is not None):
            raise ValueError(f"type {self.type!r} does not fit a server with {'command' if self.command else 'url'}")
        if self.url is not None and not re.match(r"https?://[^/?#\s]", self.url):
            raise ValueError(f"url: expected an http:// or https:// URL with a host, got {_url_shown(self.url)!r}")
        return self

    @property
    def transport(self) -> Literal["stdio", "http", "sse"]:
        """``"stdio"``, ``"http"`` (streamable HTTP) or ``"sse"`` (HTTP+SSE)."""
        return "stdio" if self.command is not None else "sse" if self.type == "sse" else "http"


class ExplicitCapability(_Strict):
    """Tools of several servers that serve one capability, named ``server:tool``."""

    tools: list[str] = Field(min_length=1, description="Members, each 'server:tool'.")
    description: str | None = Field(None, description="The capability's description (default: the first tool's).")

    @field_validator("tools")
    @classmethod
    def _refs(cls, tools: list[str]) -> list[str]:
        for ref in tools:
            split_tool_ref(ref)
        if len(set(tools)) != len(tools):
            raise ValueError(f"a tool is listed twice in {tools!r}")
        return tools


class GroupingConfig(_Strict):
    """How tools of different servers become one capability."""

    by_name: bool = Field(True, description="Tools with one name and compatible input schemas.")
    by_description: bool = Field(False, description="Tools whose descriptions are similar (the router's featurizer).")
    similarity_threshold: float = Field(0.8, ge=0.0, le=1.0, description="Least cosine similarity of two descriptions.")
    capabilities: dict[str, ExplicitCapability] = Field(default_factory=dict, description="Explicit groups, by name.")

    @field_validator("capabilities")
    @classmethod
    def _names(cls, capabilities: dict[str, ExplicitCapability]) -> dict[str, ExplicitCapability]:
        seen: dict[str, str] = {}
        for name, group in capabilities.items():
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", name):
                raise ValueError(f"capability name {name!r}: use 1 to 128 letters, digits, '_', '-' or '.'")
            for ref in group.tools:
                if ref in seen:
                    raise ValueError(f"tool {ref!r} is in two capabilities, {seen[ref]!r} and {name!r}")
                seen[ref] = name
        return capabilities


class RouterConfig(_Strict):
    """The router that picks a server per call, and how calls are bounded."""

    policy: str = Field("gaussian_ts", description="Bandit policy (toolrouter.policies).")
    policy_options: dict[str, Any] = Field(default_factory=dict, description="Options of the policy.")
    store: str | None = Field(
        None,
        description="Store URL (as open_store reads it; a scheme of register_store is registered before the config "
        "is read); learning persists there across restarts.",
    )
    snapshot: str = Field("learner", description="Name of the router's snapshot in the store.")
    seed: Annotated[int, Field(strict=True, ge=0, lt=SEED_LIMIT)] | None = Field(
        0, description="Seed of the router's decisions and of the reconnection jitter."
    )
    featurizer: Literal["hashing", "minilm", "minilm+hashing"] = Field(
        "hashing", description="Text features of a call's arguments (contextual policies) and of descriptions."
    )
    task_type: str = Field("mcp", min_length=1, description="Task type of the gateway's calls in the store.")
    deadline_s: float = Field(60.0, gt=0, le=86400, description="Seconds a whole call may take, fallbacks included.")
    max_attempts: int | None = Field(None, ge=1, description="At most this many servers per call (default: all).")
    circuit_breaker: CircuitBreakerConfig | None = Field(
        default_factory=lambda: CircuitBreakerConfig(failure_threshold=3, reset_timeout_s=10.0),
        description="Skip a server after failures in a row, probe it again later; null: never skip.",
    )

    @field_validator("snapshot")
    @classmethod
    def _snapshot(cls, snapshot: str) -> str:
        # the router's own check, made as the config is read: it named snapshot_name, not the file or field
        return _checked_snapshot_name(snapshot)

    @field_validator("store")
    @classmethod
    def _store(cls, store: str | None) -> str | None:
        # read as open_store reads it, not opened: a typo failed only when the gateway was built,
        # its error naming the URL but not the file or the field
        return None if store is None else check_store_url(store)

    @field_validator("task_type")
    @classmethod
    def _task_type(cls, task_type: str) -> str:
        _identifier("task_type", task_type)  # blank, or what a store cannot keep: refused as the router would
        return task_type

    @field_validator("policy")
    @classmethod
    def _policy(cls, policy: str) -> str:
        from toolrouter.policies import POLICIES

        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; choose from {sorted(POLICIES)}")
        return policy

    @model_validator(mode="after")
    def _options(self) -> "RouterConfig":
        from toolrouter.policies import POLICIES, make_policy

        options = dict(self.policy_options)
        if POLICIES[self.policy].contextual:  # the router sets the featurizer's; any size checks the rest
            if "context_dim" in options:
                raise ValueError(
                    f"policy_options: context_dim is the featurizer's ({self.featurizer!r}), not an option; "
                    f"got {options['context_dim']!r}"
                )
            options["context_dim"] = 8
        try:
            make_policy(self.policy, seed=0, **options)
        except ValueError as exc:
            raise ValueError(f"policy_options: {exc}") from None
        return self


class ReconnectPolicy(_Strict):
    """Backoff between attempts to bring a dead upstream back: ``initial_delay_s`` times
    ``multiplier`` per failed attempt, at most ``max_delay_s``, a share ``jitter`` drawn at random."""

    initial_delay_s: float = Field(0.5, gt=0, le=3600)
    multiplier: float = Field(2.0, ge=1.0, le=10.0)
    max_delay_s: float = Field(30.0, gt=0, le=86400)
    jitter: float = Field(0.25, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _bounds(self) -> "ReconnectPolicy":
        # the first delay would be max_delay_s: the initial_delay_s set was never waited
        if self.initial_delay_s > self.max_delay_s:
            raise ValueError(
                f"initial_delay_s ({self.initial_delay_s:g}) is over max_delay_s ({self.max_delay_s:g}): "
                "raise max_delay_s too, or lower initial_delay_s"
            )
        return self

    def delay_s(self, failures: int, draw: float) -> float:
        """Seconds to wait after ``failures`` failed attempts in a row (``draw`` in [0, 1))."""
        try:
            grown = self.initial_delay_s * self.multiplier ** max(failures - 1, 0)
        except OverflowError:  # a server down for hours: over a thousand failures in a row
            grown = math.inf
        delay = min(self.max_delay_s, grown)
        return delay * (1.0 - self.jitter + self.jitter * draw)


class GatewayConfig(_Strict):
    """Everything ``toolrouter mcp serve`` needs (see the module docstring)."""

    servers: dict[str, ServerConfig] = Field(description="Upstream servers by name (or mcpServers).")
    router: RouterConfig = Field(default_factory=RouterConfig)
    grouping: GroupingConfig = Field(default_factory=GroupingConfig)
    reconnect: ReconnectPolicy = Field(default_factory=ReconnectPolicy)

    @model_validator(mode="before")
    @classmethod
    def _mcp_servers(cls, data: Any) -> Any:
        if isinstance(data, dict) and "mcpServers" in data:
            if "servers" in data:
                raise ValueError("give servers or mcpServers, not both")
            data = {**data, "servers": data["mcpServers"]}
            del data["mcpServers"]
        return data

    @field_validator("servers")
    @classmethod
    def _server_names(cls, servers: dict[str, ServerConfig]) -> dict[str, ServerConfig]:
        for name in servers:
            if not SERVER_NAME.fullmatch(name):
                raise ValueError(f"server name {name!r}: use 1 to 48 letters, digits, '_' or '-'")
        if all(server.disabled for server in servers.values()):
            raise ValueError("no server to route to: every server is disabled or none is listed")
        return servers  # the disabled ones are left out once the groups are checked

    @model_validator(mode="after")
    def _known_members(self) -> "GatewayConfig":
        # a member of a disabled server is known: turning a server off leaves its groups to the others
        for name, group in self.grouping.capabilities.items():
            for ref in group.tools:
                server, _ = split_tool_ref(ref)
                if server not in self.servers:
                    raise ValueError(
                        f"grouping.capabilities.{name}: tool {ref!r} names server {server!r}, which is not "
                        f"among the servers {sorted(self.servers)}"
                    )
        enabled = {name: server for name, server in self.servers.items() if not server.disabled}
        groups = {}
        for name, group in self.grouping.capabilities.items():
            tools = [ref for ref in group.tools if split_tool_ref(ref)[0] in enabled]
            if tools:
                groups[name] = group if tools == group.tools else group.model_copy(update={"tools": tools})
        # frozen: set once, while it is made, so that the config reads (and dumps) as the servers it serves
        object.__setattr__(self, "servers", enabled)
        object.__setattr__(self, "grouping", self.grouping.model_copy(update={"capabilities": groups}))
        return self


def split_tool_ref(ref: str) -> tuple[str, str]:
    """``"server:tool"`` as ``("server", "tool")``; ``ValueError`` naming the reference otherwise."""
    server, sep, tool = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    if not sep or not SERVER_NAME.fullmatch(server) or not tool:
        raise ValueError(f"tool reference {ref!r}: expected 'server:tool'")
    return server, tool


def load_config(path: str | Path) -> GatewayConfig:
    """Read and check a gateway config (``.toml`` or ``.json``). Relative paths are read from the
    config file's folder, since an MCP client starts the gateway from a folder of its own choosing:
    a stdio server's ``cwd`` is resolved against it, and a server without one runs in it (so
    relative paths in ``command`` and ``args`` name files beside the config); so is a
    ``sqlite:///`` store path. ``ConfigError`` names what is wrong."""
    path = checked_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte order mark some editors write is not content
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})") from None
    try:
        if path.suffix.lower() == ".toml":
            data = _parse_toml(path, text)
        elif path.suffix.lower() == ".json":
            try:
                data = json.loads(text, object_pairs_hook=_unique_keys)
            except ValueError as exc:
                raise ConfigError(f"{path}: not valid JSON ({exc})") from None
        else:
            raise ConfigError(f"{path}: expected a .toml or .json file, got suffix {path.suffix!r}")
    except RecursionError:  # both readers recurse per level of nesting: a few hundred '[' end them
        raise ConfigError(f"{path}: arrays or tables nested too deeply to read") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table of settings at the top, got {type(data).__name__}")
    return _resolved(check_config(_expanded(data, str(path), os.environ), str(path)), path.resolve().parent)


#: A variable named in a server's settings: ``$${`` (a literal ``${``), ``${NAME}`` or
#: ``${NAME:-default}`` (a default holds no ``${``: one nested is refused), or a ``${`` that
#: starts none of them.
_VARIABLE = re.compile(r"\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^}$]|\$(?!\{))*))?\})?")
#: The settings of a server in which variables are expanded (in the values of env and headers).
_EXPANDED = ("command", "args", "cwd", "url", "env", "headers")


def _expanded(data: dict[str, Any], source: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with the variables named in its servers' settings expanded from ``environ`` (see
    the module docstring); a setting of another type is left for the checks to name."""
    key = "mcpServers" if "mcpServers" in data else "servers"
    servers = data.get(key)
    if not isinstance(servers, dict):
        return data

    def expand(text: Any, where: str) -> Any:
        if not isinstance(text, str):
            return text

        def variable(match: re.Match[str]) -> str:
            name, default = match.groups()
            if match.group() == "$${":
                return "${"
            if name is None:
                raise ConfigError(
                    f"{source}: {where}: '${{' starts no variable: write ${{NAME}} or ${{NAME:-default}}, "
                    f"or $${{ for '${{' itself"
                )
            value = environ.get(name)
            if default is not None and not value:
                return default
            if value is None:
                raise ConfigError(
                    f"{source}: {where}: the environment variable {name!r} is not set "
                    f"(give it, or a default: ${{{name}:-default}})"
                )
            return value

        return _VARIABLE.sub(variable, text)

    expanded = {}
    for name, server in servers.items():
        # a disabled server is left out as it is: often for want of the variables it names
        if isinstance(server, dict) and server.get("disabled") is not True:
            server = dict(server)
            for field in (f for f in _EXPANDED if f in server):
                value, where = server[field], f"{key}.{name}.{field}"
                if isinstance(value, dict):
                    server[field] = {k: expand(v, f"{where}.{k}") for k, v in value.items()}
                elif isinstance(value, list):
                    server[field] = [expand(v, f"{where}.{i}") for i, v in enumerate(value)]
                else:
                    server[field] = expand(value, where)
        expanded[name] = server
    return {**data, key: expanded}


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, refusing a key given twice: JSON readers keep the last one, so a
    server (or setting) written twice would be dropped without a word, as TOML refuses it."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"the key {key!r} is given twice in one object")
        data[key] = value
    return data


def check_config(data: Any, source: str = "config") -> GatewayConfig:
    """``data`` (the settings of a config file, as a dict) as a ``GatewayConfig``; a mistake raises
    ``ConfigError`` naming ``source``, the field and the value (but not the values of ``env`` and
    ``headers``, which hold secrets, nor a store URL's password). A server's ``timeout_s`` over the
    router's ``deadline_s`` is logged as a warning (``mcp_config_timeout_over_deadline``)."""
    try:
        config = GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None
    deadline_s = config.router.deadline_s
    for name, server in config.servers.items():
        # not refused (such configs work), but the deadline ends each call first: this timeout is never reached
        if server.timeout_s > deadline_s:
            log.warning(
                "mcp_config_timeout_over_deadline",
                source=source,
                server=name,
                timeout_s=server.timeout_s,
                deadline_s=deadline_s,
            )
    return config


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 reads TOML with tomli (the mcp extra installs it)
        from integrations._extras import require

        tomllib = require("tomli", "mcp")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


#: Settings whose values are secrets (API keys, tokens): an error shows their names, not their values,
#: since MCP clients keep a server's stderr in their logs.
_SECRETS = ("env", "headers")


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        # a problem with the whole config has no field: the caller's prefix (the source) names it
        where = ".".join(str(part) for part in error["loc"])
        where = f"{where}: " if where else ""
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in ("missing", "extra_forbidden"):
            problems.append(f"{where}{'required, missing' if error['type'] == 'missing' else 'not a known setting'}")
        elif len(error["loc"]) > 2 and error["loc"][0] == "servers" and error["loc"][2] in _SECRETS:
            problems.append(f"{where}{message} (got a value of type {type(error.get('input')).__name__}, not shown)")
        else:
            field = error["loc"][-1] if error["loc"] else None
            problems.append(f"{where}{message} (got {_short(_hidden(error.get('input'), field))})")
    return "; ".join(problems)


def _hidden(value: Any, field: Any = None) -> Any:
    """``value`` (of the setting ``field``) with the values of its secret settings, at any depth,
    replaced by ``***``, and the password of a store URL and a server URL's query values too."""
    if field == "store" and isinstance(value, str):
        return masked(value)
    if field == "url" and isinstance(value, str):
        return _url_shown(value)
    if isinstance(value, dict):
        return {
            k: {name: "***" for name in v} if k in _SECRETS and isinstance(v, dict) else _hidden(v, k)
            for k, v in value.items()
        }
    return value


def _url_shown(url: str) -> str:
    """A server's ``url`` as an error quotes it: its password and its query's values masked, since
    a URL may carry a key (``?token=...``) and a gateway's stderr ends in its client's logs."""
    return re.sub(r"([?&][^=&#]*=)[^&#]*", r"\1***", masked(url))


def _short(value: Any, limit: int = 100) -> str:
    try:
        text = json.dumps(value, default=repr)
    except RecursionError:  # nested deeper than the encoder recurses: only its start is shown anyway
        text = short_repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _resolved(config: GatewayConfig, folder: Path) -> GatewayConfig:
    servers = {name: server.model_copy(update={"cwd": _cwd(server, folder)}) for name, server in config.servers.items()}
    router = config.router
    store = router.store
    if store is not None and store.startswith("sqlite:///") and store != "sqlite:///:memory:":
        file = Path(store[len("sqlite:///") :])
        if not file.is_absolute():
            router = router.model_copy(update={"store": f"sqlite:///{folder / file}"})
    return config.model_copy(update={"servers": servers, "router": router})


def _cwd(server: ServerConfig, folder: Path) -> str | None:
    """Where a server of a config file in ``folder`` runs: its ``cwd``, a relative one read from
    ``folder``, else ``folder`` itself for a stdio server, so that the relative paths in its
    command and args (read by its process from where it runs) name files beside the config."""
    if server.command is None:  # a URL: no process
        return None
    if server.cwd is not None and Path(server.cwd).is_absolute():
        return server.cwd
    return str(folder / (server.cwd or ""))
