"""What a tool's docstring tells a model: its summary and a description of each parameter.

Three common layouts of parameter documentation are read:

- Google (``Args:``, ``Arguments:``, ``Parameters:``, ``Keyword Args:`` ... then one indented
  ``name (type): text`` or ``name: text`` entry per parameter, continued on deeper-indented lines);
- NumPy (a ``Parameters`` heading underlined with dashes, then ``name : type`` lines with the text
  indented below; ``a, b : int`` documents both);
- reST / Sphinx (``:param name: text`` or ``:param type name: text``).

The summary is the docstring's first paragraph, its lines joined with spaces.

Example:
    >>> def search(query: str, limit: int = 5) -> list[str]:
    ...     '''Search the web.
    ...
    ...     Args:
    ...         query: What to look for.
    ...         limit (int): At most this many
    ...             results.
    ...     '''
    >>> summary(search.__doc__)
    'Search the web.'
    >>> parameter_docs(search.__doc__)
    {'query': 'What to look for.', 'limit': 'At most this many results.'}
"""

from __future__ import annotations

import inspect
import re

__all__ = ["parameter_docs", "summary"]

_GOOGLE_HEADING = re.compile(
    r"(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters)\s*:", re.IGNORECASE
)
_NUMPY_HEADING = re.compile(r"(?:Parameters|Other Parameters|Keyword Arguments)", re.IGNORECASE)
_GOOGLE_ENTRY = re.compile(r"\**(\w+)\s*(?:\([^)]*\))?\s*:(.*)")
_NUMPY_ENTRY = re.compile(r"(\**\w+(?:\s*,\s*\**\w+)*)\s*(?::.*)?")
_REST_ENTRY = re.compile(r":(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?\**(\w+)\s*:(.*)")
_DASHES = re.compile(r"-{3,}")
_SECTION = re.compile(
    r"(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters|Returns?|Yields?|"
    r"Raises|Examples?|Notes?|Attributes|See Also|Warnings?|References|Todo)\s*:",
    re.IGNORECASE,
)


def summary(doc: str | None) -> str:
    """The first paragraph of ``doc`` on one line ("" for no docstring)."""
    lines = _lines(doc)
    first: list[str] = []
    for i, line in enumerate(lines):
        text = line.strip()
        underlined = i + 1 < len(lines) and _DASHES.fullmatch(lines[i + 1].strip())
        if not text or underlined or _SECTION.fullmatch(text) or text.startswith(":"):
            break  # the paragraph ends, or the sections begin
        first.append(text)
    return " ".join(first)


def parameter_docs(doc: str | None) -> dict[str, str]:
    """Each documented parameter's description, by name, in the order documented; the leading
    ``*``/``**`` of a variadic parameter is dropped. A parameter documented twice keeps the first."""
    lines = _lines(doc)
    docs: dict[str, str] = {}
    for name, text in (*_google(lines), *_numpy(lines), *_rest(lines)):
        if text and name not in docs:
            docs[name] = text
    return docs


def _lines(doc: str | None) -> list[str]:
    return inspect.cleandoc(doc).splitlines() if doc else []


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google(lines: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        heading = lines[i]
        i += 1
        if not _GOOGLE_HEADING.fullmatch(heading.strip()):
            continue
        section_indent = _indent(heading)
        entry_indent: int | None = None
        while i < len(lines):
            line = lines[i]
            if line.strip() and _indent(line) <= section_indent:
                break  # the next section, or the end of this one
            i += 1
            if not line.strip():
                continue
            if entry_indent is None:
                entry_indent = _indent(line)
            match = _GOOGLE_ENTRY.fullmatch(line.strip()) if _indent(line) == entry_indent else None
            if match:
                found.append((match.group(1), match.group(2).strip()))
            elif found and _indent(line) > entry_indent:
                found[-1] = (found[-1][0], f"{found[-1][1]} {line.strip()}".strip())
    return found


def _numpy(lines: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    i = 0
    while i + 1 < len(lines):
        heading, underline = lines[i], lines[i + 1]
        i += 1
        if not (_NUMPY_HEADING.fullmatch(heading.strip()) and _DASHES.fullmatch(underline.strip())):
            continue
        section_indent = _indent(heading)
        i += 1
        names: list[str] = []
        while i < len(lines):
            line = lines[i]
            if i + 1 < len(lines) and _DASHES.fullmatch(lines[i + 1].strip()) and line.strip():
                break  # the next section's heading
            if line.strip() and _indent(line) < section_indent:
                break
            i += 1
            if not line.strip():
                continue
            if _indent(line) == section_indent:
                match = _NUMPY_ENTRY.fullmatch(line.strip())
                names = [n.strip().lstrip("*") for n in match.group(1).split(",")] if match else []
                found.extend((name, "") for name in names)
            elif names:
                for k in range(len(found) - len(names), len(found)):
                    found[k] = (found[k][0], f"{found[k][1]} {line.strip()}".strip())
    return found


def _rest(lines: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    entry_indent: int | None = None
    for line in lines:
        match = _REST_ENTRY.fullmatch(line.strip())
        if match:
            found.append((match.group(1), match.group(2).strip()))
            entry_indent = _indent(line)
        elif entry_indent is not None and line.strip() and _indent(line) > entry_indent:
            found[-1] = (found[-1][0], f"{found[-1][1]} {line.strip()}".strip())
        else:
            entry_indent = None
    return found
