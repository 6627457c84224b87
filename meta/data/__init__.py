"""Task samplers and dataset loaders. Every loader takes a path; nothing is downloaded."""

from __future__ import annotations

from typing import Any

import torch

from meta._checks import check_count


class DataFormatError(ValueError):
    """A dataset file is malformed (not missing: that is ``FileNotFoundError``); the message names the
    file and, where it can, the row and the column."""


def sampler_generator(seed: Any, generator: Any) -> torch.Generator:
    """The random generator of a task sampler: ``generator`` when given, else a new one seeded with
    ``seed``; TypeError naming ``generator``, or ValueError naming ``seed``, for anything else (torch
    would take neither at once, and a wrong generator only failed at the first sample)."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    return torch.Generator().manual_seed(check_count("seed", seed, low=None))
