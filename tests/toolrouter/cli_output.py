"""What a command printed, as tests read it."""

from __future__ import annotations

import re


def said(output: str) -> str:
    """``output`` on one line: an error box's borders and the line breaks its width put in taken
    out, so that a message reads the same whatever the length of the paths in it."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())
