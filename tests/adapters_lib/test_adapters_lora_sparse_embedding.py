"""LoRA on a sparse nn.Embedding trains: its update's gradient is the dense one of a plain Embedding."""

from __future__ import annotations

import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def _trained_grads(sparse: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    torch.manual_seed(0)
    model = AdapterModel(nn.Sequential(nn.Embedding(10, 4, sparse=sparse, padding_idx=0)),
                         AdapterConfig(adapter_type="lora", target_modules="0", lora_r=2))
    with torch.no_grad():
        model.adapter_parameters()[1].normal_()  # lora_B, zero at start
    out = model(torch.tensor([[1, 2, 2, 0]]))
    out.pow(2).sum().backward()  # failed for sparse=True: no sparse gradient through A's transpose
    grads = [p.grad for p in model.adapter_parameters()]
    torch.optim.Adam(model.adapter_parameters(), lr=0.1).step()  # Adam takes only dense gradients
    return out.detach(), grads


def test_lora_on_a_sparse_embedding_gets_the_dense_layers_gradients() -> None:
    out, grads = _trained_grads(sparse=True)
    plain_out, plain_grads = _trained_grads(sparse=False)
    torch.testing.assert_close(out, plain_out)
    for grad, plain in zip(grads, plain_grads):
        assert grad.layout == torch.strided
        torch.testing.assert_close(grad, plain)
