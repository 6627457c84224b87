"""``init_std`` is documented for what reads it: the prefixes. Compacter weights scale their
initialisation to their sizes (as a default Linear does) and never read it."""

from __future__ import annotations

import torch

from adapters_lib import AdapterConfig, CompacterAdapter, PrefixAdapter


def _config(adapter_type: str, init_std: float) -> AdapterConfig:
    return AdapterConfig(adapter_type=adapter_type, input_dim=8, hidden_dim=4, phm_dim=2, init_std=init_std)


def test_init_std_is_documented_for_the_adapters_that_read_it() -> None:
    assert AdapterConfig.model_fields["init_std"].description.startswith("PREFIX:")
    prefixes = [PrefixAdapter(_config("prefix", std)).prefix_key for std in (0.02, 1.0)]
    assert not torch.allclose(prefixes[0], prefixes[1])
    compacters = [CompacterAdapter(_config("compacter", std)).down.s for std in (0.02, 1.0)]
    assert torch.equal(compacters[0], compacters[1])
