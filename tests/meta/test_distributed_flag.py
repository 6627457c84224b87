"""``train_sinusoid``'s ``distributed`` is True or False: ``"no"`` (a value read from a command line)
trained sharded, or failed outside a process group in words about torch.distributed, and ``None``
or 0 trained in one process."""

from __future__ import annotations

import pytest

from meta.distributed import train_sinusoid


@pytest.mark.parametrize("value", ["no", None, 0])
def test_a_distributed_that_is_no_bool_is_refused_naming_it(value) -> None:
    with pytest.raises(ValueError, match=rf"^distributed: expected True or False, got {value!r}$"):
        train_sinusoid(1, hidden=4, distributed=value)
    assert train_sinusoid(0, hidden=4, distributed=False) is not None
