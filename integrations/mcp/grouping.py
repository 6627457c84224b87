"""Which tools of which servers serve the same capability, and what the client sees of each.

Tools of different servers become one capability:

1. when the config says so (``[grouping.capabilities.NAME] tools = ["server:tool", ...]``); their
   input schemas must be compatible, or ``GroupingError`` names both tools and the field;
2. automatically (``by_name``, on by default) when they share a name and their input schemas are
   compatible; a shared name with incompatible schemas keeps the tools apart;
3. optionally (``by_description``) when their descriptions are similar: the cosine similarity of
   the router's featurizer vectors at least ``similarity_threshold``, schemas compatible, from
   different servers.

Two input schemas are compatible when every argument they share has the same schema (titles,
descriptions and examples aside; a ``$ref`` to the schema's ``$defs`` read as the definition it
names), they require the same arguments, and an argument only one of them has is optional there
(a schema whose ``properties`` is not an object, or ``required`` not a list, fits none).
The capability's input schema is the first member's, restricted to the arguments every member
takes, so that whatever the client sends, any member can run it. Its output
schema is the members' common one (none when they differ), and so are its annotations (the hints
a client's approval prompts read, such as ``destructiveHint``: none when they differ, which a
client takes as the most cautious). A tool with no alternative passes through unchanged. A name
is exposed once: a group named after its first tool whose name an explicit group or an earlier
group has, and a lone tool whose name any other has, are renamed ``server_tool`` (of the first
member), so that two groups of one name (``search(query)`` of two servers, ``search(q)`` of two
others) are both served.

Names already exposed stay (``previous``: the grouping served so far): a group keeps the name
that one of its tools was served under, the first such name of its members that no explicit group
has and no earlier group keeps, and the groups that would take that name are renamed instead. A
tool served as ``x`` stays ``x`` when another server later adds an incompatible ``x`` (the newcomer
is ``server_x``), so clients do not lose ``x`` mid-session and what the router learned of ``x``
keeps its name; a restart names every tool afresh.

Example:
    >>> a = UpstreamTool("a", "search", "Search the web.", {"type": "object", "properties": {"q": {"type": "string"}}})
    >>> b = UpstreamTool("b", "search", "Web search.", {"type": "object", "properties": {"q": {"type": "string", "title": "Q"}}})
    >>> [(c.name, c.members, c.reason) for c in group_tools([a, b])]
    [('search', ('a:search', 'b:search'), 'same name')]
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from integrations.mcp.config import GroupingConfig, split_tool_ref
from toolrouter.errors import ToolRouterError
from toolrouter.serialization import short_repr

__all__ = ["Capability", "GroupingError", "UpstreamTool", "group_tools", "schema_conflict"]

#: Keywords that document a schema without changing what it accepts.
_ANNOTATIONS = frozenset({"title", "description", "examples", "$comment"})
#: Keywords whose value maps names (of arguments, of definitions) to schemas.
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions"})


class GroupingError(ToolRouterError, ValueError):
    """Tools the config groups explicitly whose input schemas do not fit, or a member that no
    server offers; the message names both tools and the field."""


@dataclass(frozen=True)
class UpstreamTool:
    """One tool as an upstream server lists it."""

    server: str
    name: str
    description: str = ""
    input_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    output_schema: Mapping[str, Any] | None = None
    title: str | None = None
    annotations: Mapping[str, Any] | None = None

    @property
    def ref(self) -> str:
        """``"server:tool"``, as the config names it."""
        return f"{self.server}:{self.name}"


@dataclass(frozen=True)
class Capability:
    """One tool as the client sees it, and the upstream tools that serve it (first: the schema's)."""

    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    backends: tuple[UpstreamTool, ...]
    reason: str  # "explicit", "same name", "similar descriptions (0.87)", "alone"; ", renamed" when its name was taken
    title: str | None = None
    annotations: dict[str, Any] | None = None  # MCP tool annotations (readOnlyHint, destructiveHint...)

    @property
    def members(self) -> tuple[str, ...]:
        """The backends as ``server:tool``."""
        return tuple(t.ref for t in self.backends)


def group_tools(
    tools: Iterable[UpstreamTool],
    grouping: GroupingConfig | None = None,
    featurizer: Callable[[str], np.ndarray] | None = None,
    *,
    listed: Iterable[str] | None = None,
    previous: Iterable[Capability] = (),
) -> list[Capability]:
    """The capabilities that ``tools`` make under ``grouping`` (default: by name only), in the
    order of their first tool. ``featurizer`` (text -> vector) is needed for ``by_description``.

    ``listed``: the servers whose tool listing is known (default: all). An explicit member that a
    listed server does not offer is a ``GroupingError``; one of a server not listed (still
    starting, or down) is left out until it is.

    ``previous``: the capabilities served so far, whose names are kept (see the module docstring)."""
    grouping = grouping or GroupingConfig()
    tools = list(tools)
    known = None if listed is None else set(listed)
    by_ref = {t.ref: t for t in tools}
    groups: list[tuple[str | None, list[UpstreamTool], str, str | None]] = []  # name, members, reason, description
    taken: set[str] = set()
    for name, explicit in grouping.capabilities.items():
        members = []
        for ref in explicit.tools:
            tool = by_ref.get(ref)
            if tool is None:
                server, _ = split_tool_ref(ref)
                if known is None or server in known:
                    offered = sorted(t.name for t in tools if t.server == server)
                    raise GroupingError(
                        f"grouping.capabilities.{name}: server {server!r} offers no tool {ref.partition(':')[2]!r} "
                        f"(its tools: {offered})"
                    )
                continue
            for other in members:
                problem = schema_conflict(other.input_schema, tool.input_schema)
                if problem is not None:
                    raise GroupingError(
                        f"grouping.capabilities.{name}: tools {other.ref!r} and {tool.ref!r} take different "
                        f"arguments: field {problem[0]!r} {problem[1]}"
                    )
            members.append(tool)
            taken.add(ref)
        if members:
            groups.append((name, members, "explicit", explicit.description))
    rest = [t for t in tools if t.ref not in taken]
    if grouping.by_name:
        by_name: dict[str, list[list[UpstreamTool]]] = {}
        for tool in rest:
            clusters = by_name.setdefault(tool.name, [])
            home = next((c for c in clusters if _fits(c, tool)), None)
            if home is None:
                clusters.append([tool])
            else:
                home.append(tool)
        singles = []
        for clusters in by_name.values():
            for cluster in clusters:
                if len(cluster) > 1:
                    groups.append((None, cluster, "same name", None))
                else:
                    singles.append(cluster[0])
        rest = [t for t in rest if t in singles]
    if grouping.by_description and len(rest) > 1:
        if featurizer is None:
            raise ValueError("featurizer: grouping by description needs the router's featurizer")
        groups.extend(_similar(rest, featurizer, grouping.similarity_threshold))
        grouped = {t.ref for _, members, _, _ in groups for t in members}
        rest = [t for t in rest if t.ref not in grouped]
    groups.extend((None, [t], "alone", None) for t in rest)
    order = {t.ref: i for i, t in enumerate(tools)}
    groups.sort(key=lambda g: min(order[t.ref] for t in g[1]))
    previous = list(previous)
    odd = next((c for c in previous if not isinstance(c, Capability)), None)
    if odd is not None:
        raise TypeError(f"previous: expected the Capability objects served so far, got {short_repr(odd)}")
    served = {t.ref: c.name for c in previous for t in c.backends}
    return _named(groups, served)


def _fits(cluster: Sequence[UpstreamTool], tool: UpstreamTool) -> bool:
    return all(t.server != tool.server and schema_conflict(t.input_schema, tool.input_schema) is None for t in cluster)


def _similar(
    tools: list[UpstreamTool], featurizer: Callable[[str], np.ndarray], threshold: float
) -> list[tuple[str | None, list[UpstreamTool], str, str | None]]:
    vectors = [np.asarray(featurizer(_describe(t)), dtype=np.float64) for t in tools]
    unit = [v / n if (n := float(np.linalg.norm(v))) > 0 else v for v in vectors]
    clusters: list[tuple[list[int], list[float]]] = []
    for i, tool in enumerate(tools):
        best, best_score = None, threshold
        for cluster, scores in clusters:
            if not _fits([tools[j] for j in cluster], tool):
                continue
            score = min(float(unit[i] @ unit[j]) for j in cluster)  # similar to every member
            if score >= best_score:
                best, best_score = (cluster, scores), score
        if best is None:
            clusters.append(([i], []))
        else:
            best[0].append(i)
            best[1].append(best_score)
    return [
        (None, [tools[j] for j in cluster], f"similar descriptions ({min(scores):.2f})", None)
        for cluster, scores in clusters
        if len(cluster) > 1
    ]


def _describe(tool: UpstreamTool) -> str:
    return f"{tool.name.replace('_', ' ')}. {tool.description}".strip()


def _named(
    groups: list[tuple[str | None, list[UpstreamTool], str, str | None]], served: Mapping[str, str]
) -> list[Capability]:
    # the config's names are kept; then a group keeps a name one of its tools was served under
    # (``served``: ref -> name) unless the config or an earlier group has it; a group named after
    # its first tool keeps that name unless the config, an earlier group or a kept name has it,
    # and a lone tool unless anything else has it: else each gets its (first) server's name in front
    explicit = {name for name, _, reason, _ in groups if reason == "explicit"}
    kept: dict[int, str] = {}  # group index -> the name it keeps
    for i, (_, members, reason, _) in enumerate(groups):
        if reason != "explicit":
            names = (served.get(t.ref) for t in members)
            keep = next((n for n in names if n and n not in explicit and n not in kept.values()), None)
            if keep is not None:
                kept[i] = keep
    claimed: dict[str, int] = {}
    for name, members, _, _ in groups:
        key = name or members[0].name
        claimed[key] = claimed.get(key, 0) + 1
    capabilities = []
    used: set[str] = set()
    for i, (name, members, reason, description) in enumerate(groups):
        first = members[0]
        exposed = name or first.name
        taken = exposed in explicit or exposed in used or exposed in kept.values()
        if i in kept:
            if kept[i] != exposed:
                exposed, reason = kept[i], f"{reason}, renamed"
        elif (reason == "alone" and claimed[exposed] > 1) or (reason != "explicit" and taken):
            exposed, reason = f"{first.server}_{first.name}", f"{reason}, renamed"
        if exposed in used:
            raise GroupingError(f"tool name {exposed!r} would be exposed twice; name the capability in grouping.capabilities")
        used.add(exposed)
        capabilities.append(
            Capability(
                name=exposed,
                description=description if description is not None else first.description,
                input_schema=_common_schema(members),
                output_schema=_shared(t.output_schema for t in members),
                backends=tuple(members),
                reason=reason,
                title=first.title if len(members) == 1 else None,
                annotations=_shared(t.annotations for t in members),
            )
        )
    return capabilities


def _shared(values: Iterable[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """A copy of what every member has alike; ``None`` when one differs or has none."""
    values = list(values)
    first = values[0]
    if not first or len({json.dumps(v, sort_keys=True) for v in values}) != 1:
        return None
    return copy.deepcopy(dict(first))


def _common_schema(members: Sequence[UpstreamTool]) -> dict[str, Any]:
    schema = copy.deepcopy(dict(members[0].input_schema))
    if len(members) == 1:
        return schema
    shared = set(_properties(schema))
    for other in members[1:]:
        shared &= set(_properties(other.input_schema))
    schema["properties"] = {k: v for k, v in _properties(schema).items() if k in shared}
    if any(m.input_schema.get("additionalProperties") is False for m in members):
        schema["additionalProperties"] = False
    return schema


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    return dict(properties) if isinstance(properties, Mapping) else {}


def _required(schema: Mapping[str, Any]) -> set[str]:
    required = schema.get("required") or []
    return set(required) if isinstance(required, list) else set()


def schema_conflict(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[str, str] | None:
    """``None`` when input schemas ``a`` and ``b`` are compatible (see the module docstring),
    else ``(field, what differs)``. A schema whose ``properties`` is not an object, or whose
    ``required`` is not a list, fits no other: its arguments cannot be told, and read as none
    they were dropped from the group's schema."""
    for which, schema in (("first", a), ("second", b)):
        for keyword, kind in (("properties", Mapping), ("required", list)):
            if keyword in schema and not isinstance(schema[keyword], kind):
                shape = "an object" if kind is Mapping else "a list"
                return keyword, f"is not {shape} in the {which}: {_short(schema[keyword])}"
    pa, pb = _properties(a), _properties(b)
    ra, rb = _required(a), _required(b)
    for name in [*pa, *(n for n in pb if n not in pa)]:
        if name in pa and name in pb:
            sa, sb = _bare(_inlined(pa[name], a)), _bare(_inlined(pb[name], b))
            if sa != sb:
                return name, f"has schema {_short(sa)} in the first, {_short(sb)} in the second"
            if (name in ra) != (name in rb):
                return name, f"is required in the {'first' if name in ra else 'second'} only"
        elif name in ra or name in rb:
            return name, f"is a required argument of the {'first' if name in pa else 'second'} only"
    return None


def _inlined(node: Any, root: Mapping[str, Any], resolving: frozenset[str] = frozenset()) -> Any:
    """``node`` with each ``$ref`` to ``root``'s ``$defs`` (or ``definitions``) replaced by the
    schema it names: two servers may give one name to different definitions, or none to the same.
    A recursive reference, or one to elsewhere, stays as it is."""
    if isinstance(node, list):
        return [_inlined(v, root, resolving) for v in node]
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    target = _definition(root, ref) if isinstance(ref, str) and ref not in resolving else None
    rest = {k: _inlined(v, root, resolving) for k, v in node.items() if target is None or k != "$ref"}
    return rest if target is None else {**_inlined(target, root, resolving | {ref}), **rest}


def _definition(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    for keyword in ("$defs", "definitions"):
        prefix = f"#/{keyword}/"
        definitions = root.get(keyword)
        if ref.startswith(prefix) and isinstance(definitions, Mapping):
            target = definitions.get(ref[len(prefix) :])
            return target if isinstance(target, Mapping) else None
    return None


def _bare(schema: Any) -> Any:
    if isinstance(schema, Mapping):
        bare = {}
        for key, value in schema.items():
            if key in _NAMED_SCHEMAS and isinstance(value, Mapping):  # keys are names here, not keywords
                bare[key] = {name: _bare(sub) for name, sub in value.items()}
            elif key not in _ANNOTATIONS:
                bare[key] = _bare(value)
        return bare
    if isinstance(schema, list):
        return [_bare(v) for v in schema]
    return schema


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."
