"""LoRA on an nn.Embedding starts with A at zero and B random, as Hu et al.'s loralib and PEFT do:
training then changes the rows of the tokens it looks up only, so tokens never seen and the
padding row keep their embeddings, as when the embedding itself is fine-tuned. A started random
and B at zero, so every step on B moved every token's row, the padding row's included."""

from __future__ import annotations

import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def test_training_embedding_lora_changes_only_the_rows_of_the_tokens_it_sees() -> None:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Embedding(20, 8, padding_idx=0))
    before = base[0].weight.detach().clone()
    model = AdapterModel(base, AdapterConfig(adapter_type="lora", target_modules="0", lora_r=4))
    assert torch.equal(model(torch.arange(20)), before)  # the update starts at zero
    optimiser = torch.optim.SGD(model.adapter_parameters(), lr=0.5)
    ids = torch.tensor([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])  # padded sequences of tokens 1 to 5
    target = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    for _ in range(5):
        optimiser.zero_grad()
        (model(ids) - target).pow(2).mean().backward()
        optimiser.step()
    with torch.no_grad():
        moved = (model(torch.arange(20)) - before).abs().amax(1) > 0
    assert moved.nonzero().flatten().tolist() == [1, 2, 3, 4, 5]
