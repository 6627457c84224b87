"""DriftAdapter's settable fields: checked when set, and a strength set later takes effect."""

import pytest
import torch
from torch import nn

from meta.continual.drift import DriftAdapter


def _adapter(**settings) -> DriftAdapter:
    torch.manual_seed(0)
    return DriftAdapter(nn.Linear(3, 1), steps=5, **settings)


@pytest.mark.parametrize(("field", "value"), [("lr", 0.0), ("lr", float("nan")), ("steps", 0), ("steps", 2.5)])
def test_a_bad_lr_or_steps_set_later_is_refused_naming_it_and_the_old_one_kept(field, value) -> None:
    adapter = _adapter()
    before = getattr(adapter, field)
    with pytest.raises((ValueError, TypeError), match=field):
        setattr(adapter, field, value)
    assert getattr(adapter, field) == before
    setattr(adapter, field, 2)  # a good value is taken
    assert getattr(adapter, field) == 2


def test_an_ewc_strength_set_on_an_adapter_built_without_it_protects_what_it_learns() -> None:
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    adapter = _adapter(ewc_lambda=0.0, buffer_size=0)
    adapter.ewc.ewc_lambda = 1000.0
    adapter.adapt(x, x.sum(dim=1))  # consolidated under the new strength
    anchor = adapter.model.weight.detach().clone()
    adapter.adapt(x, -x.sum(dim=1))
    free = _adapter(ewc_lambda=0.0, buffer_size=0)
    free.adapt(x, x.sum(dim=1))
    free.adapt(x, -x.sum(dim=1))
    # the penalty held the weights near what the first batch taught
    assert (adapter.model.weight - anchor).norm() < 0.5 * (free.model.weight - anchor).norm()
