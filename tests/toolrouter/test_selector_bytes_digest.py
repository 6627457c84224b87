"""FewShotToolSelector.to_bytes wrote its blob without the digest that every other saved part of
the router carries: a flipped bit in a weight (here the learned temperature) loaded without a word
as a selector that scores otherwise. The blob is now sealed, and from_bytes refuses damaged bytes;
a blob written before it carried a digest still loads. Sealing it showed that ``write_blob`` made
every scalar array (the temperature, the description weight) one long: it keeps their shape now."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from safetensors.torch import save as save_unsealed

from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer
from toolrouter.selection import _FORMAT, FewShotToolSelector, SelectorConfig
from toolrouter.serialization import read_blob, write_blob


@pytest.fixture
def selector() -> FewShotToolSelector:
    sel = FewShotToolSelector(HashingFeaturizer(dim=16), SelectorConfig(hidden=4))
    sel.add_tool("calc", "a calculator for arithmetic", ["what is 2 plus 2"])
    sel.add_tool("mail", "send an email", ["email Bob the report"])
    return sel


def test_a_flipped_bit_in_a_weight_is_refused(selector: FewShotToolSelector) -> None:
    data = bytearray(selector.to_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    start = json.loads(data[8 : 8 + n])["network.encoder.log_scale"]["data_offsets"][0]
    data[8 + n + start + 2] ^= 0x10  # log(10) becomes about 2.05: every score on another scale
    with pytest.raises(CorruptStateError, match="digest"):
        FewShotToolSelector.from_bytes(bytes(data))
    again = FewShotToolSelector.from_bytes(selector.to_bytes())
    assert again.rank("email the report") == selector.rank("email the report")


def test_a_blob_written_without_a_digest_still_loads(selector: FewShotToolSelector) -> None:
    meta, tensors = selector._parts()
    old = save_unsealed(tensors, metadata={_FORMAT: json.dumps(meta)})
    loaded = FewShotToolSelector.from_bytes(old)
    assert loaded.tool_ids == ["calc", "mail"]
    assert loaded.rank("email the report") == selector.rank("email the report")


def test_a_sealed_blob_keeps_a_scalar_a_scalar() -> None:
    blob = read_blob(write_blob({"t": np.float32(2.0), "m": np.zeros((3, 2)).T}, "cfg", {}), "cfg")
    assert blob.arrays["t"].shape == () and blob.arrays["m"].shape == (2, 3)
