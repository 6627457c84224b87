"""Put a learner's model and strategies back as they were when a training call fails midway."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def restored_on_failure(*objects: object) -> Iterator[None]:
    """Restore ``objects`` in place if the block raises, then re-raise.

    A module whose parameter and buffer names are unchanged gets its values and ``requires_grad``
    flags copied back, so its parameters stay the same objects (an optimiser or another learner
    holding them keeps working). A module whose structure the block changed (a progressive
    network's new column) and every other object get back their attributes from a copy taken
    before the block.
    """
    saved = copy.deepcopy(objects)
    try:
        yield
    except BaseException:
        for obj, old in zip(objects, saved):
            if isinstance(obj, nn.Module) and obj.state_dict().keys() == old.state_dict().keys():
                obj.load_state_dict(old.state_dict())
                flags = {name: p.requires_grad for name, p in old.named_parameters()}
                for name, p in obj.named_parameters():
                    p.requires_grad_(flags[name])
            else:
                obj.__dict__.clear()
                obj.__dict__.update(old.__dict__)
        raise
