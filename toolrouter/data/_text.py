"""What the loaders share when they read a text file: its decoding and CSV errors name the file."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from toolrouter.errors import DataError

#: How the loaders decode text: UTF-8, skipping the byte-order mark that spreadsheet programs put
#: in front of a CSV (kept, it would glue itself to the first column's name).
ENCODING = "utf-8-sig"

#: What ``ast`` raises for a text that is no Python literal (the loaders read some cells as one):
#: besides ``ValueError`` and ``SyntaxError``, ``TypeError`` for an unhashable key or member
#: (``{[1]: 2}``) and ``RecursionError`` or ``MemoryError`` for an expression nested deeper than the
#: parser goes (a few thousand ``-`` signs).
NOT_A_LITERAL: tuple[type[Exception], ...] = (ValueError, SyntaxError, TypeError, RecursionError, MemoryError)


@contextmanager
def reading(file: Path | str, error: type[Exception] = DataError) -> Iterator[None]:
    """Turn a ``UnicodeDecodeError`` or ``csv.Error`` raised while reading ``file`` (a path, or
    the name to give it) into an ``error`` naming the file (the loaders read UTF-8 only)."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise error(f"{file}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}: {exc.reason})") from None
    except csv.Error as exc:
        raise error(f"{file}: not a readable CSV file ({exc})") from None


def refuse_repeated_columns(file: Path | str, header: Sequence[str], error: type[Exception] = DataError) -> None:
    """An ``error`` naming ``file`` and the columns its header names more than once: a cell read by
    its column's name is one of them (a dict's, the last), the others never read."""
    repeated = sorted(c for c, n in Counter(header).items() if n > 1)
    if repeated:
        raise error(f"{file}: the header names the column(s) {repeated} more than once")
