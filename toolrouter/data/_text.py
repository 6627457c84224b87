"""What the loaders share when they read a text file: its decoding and CSV errors name the file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toolrouter.errors import DataError


@contextmanager
def reading(file: Path) -> Iterator[None]:
    """Turn a ``UnicodeDecodeError`` or ``csv.Error`` raised while reading ``file`` into a
    :class:`~toolrouter.errors.DataError` naming the file (the loaders read UTF-8 only)."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}: {exc.reason})") from None
    except csv.Error as exc:
        raise DataError(f"{file}: not a readable CSV file ({exc})") from None
