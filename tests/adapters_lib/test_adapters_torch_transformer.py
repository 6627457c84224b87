"""Adapters on torch's own ``nn.TransformerEncoderLayer``: in eval mode the layer's fast path reads
``linear1.weight`` and the others directly instead of calling them, which failed on the adapted
modules ("'AdaptedModule' object has no attribute 'weight'") and would have skipped the adapters.
The adapted layer now runs its modules in eval as in training; an adapted module reads as its
module for settings (``in_features``, ``batch_first``, which torch's encoder reads on every call),
and code that reads its weights directly gets an error saying why and what to do."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def _encoder_layer() -> nn.TransformerEncoderLayer:
    torch.manual_seed(0)
    return nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)


def _adapted(base: nn.Module) -> AdapterModel:
    model = AdapterModel(base, [AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2),
                                AdapterConfig(adapter_type="adapter", target_modules=["linear2"], hidden_dim=4)])
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    return model


def test_an_adapted_encoder_layer_applies_its_adapters_in_eval_as_in_training() -> None:
    x = torch.randn(2, 5, 16)
    plain = _encoder_layer().eval()
    model = _adapted(_encoder_layer())
    trained = model.train()(x)
    with torch.no_grad():
        evaluated = model.eval()(x)
        assert torch.allclose(evaluated, trained, atol=1e-5)
        assert not torch.allclose(evaluated, plain(x), atol=1e-3)  # the adapters count
        model.disable_adapters(["adapter"])
        lora_only = model(x)
        model.merge_adapters()
        assert torch.allclose(model(x), lora_only, atol=1e-5)


def test_reading_an_adapted_module_weight_directly_says_why_it_fails() -> None:
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    model = _adapted(encoder).eval()
    x, mask = torch.randn(2, 5, 16), torch.zeros(2, 5, dtype=torch.bool)
    mask[0, 3:] = True
    with torch.no_grad(), pytest.raises(AttributeError, match=r"'weight': this Linear carries adapters.*base_layer.weight.*enable_nested_tensor=False"):
        model(x, src_key_padding_mask=mask)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        encoder.layers[0].linear1.nothing  # noqa: B018 - an attribute the module lacks too: the usual error
    encoder.use_nested_tensor = False  # what enable_nested_tensor=False sets
    with torch.no_grad():
        assert torch.allclose(model(x, src_key_padding_mask=mask), model.train()(x, src_key_padding_mask=mask), atol=1e-5)


def test_an_adapted_module_reads_as_its_module_for_settings_and_names_the_rest() -> None:
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    model = AdapterModel(encoder, AdapterConfig(adapter_type="adapter", target_modules=["self_attn"], hidden_dim=4))
    attention = encoder.layers[0].self_attn
    assert (attention.batch_first, attention.embed_dim, attention.num_heads) == (True, 16, 2)  # what it is, as it is
    x = torch.randn(2, 5, 16)
    assert model.train()(x).shape == (2, 5, 16)  # torch's encoder reads self_attn.batch_first on every call
    with torch.no_grad(), pytest.raises(AttributeError, match=r"'in_proj_bias': this MultiheadAttention carries adapters.*not its self_attn"):
        model.eval()(x)  # the layer's fast path reads the attention's weights before it looks for hooks
