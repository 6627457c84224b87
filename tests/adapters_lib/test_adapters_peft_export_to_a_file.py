"""export_peft refuses a directory that is a file, naming it and saying that a PEFT checkpoint is
a folder: it failed with a bare 'File exists', as if it refused to overwrite a checkpoint."""

from __future__ import annotations

import re

import pytest
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def test_a_file_for_the_checkpoint_folder_is_refused_naming_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
    path = tmp_path / "checkpoint.bin"
    path.write_bytes(b"kept")
    with pytest.raises(NotADirectoryError, match=re.escape(f"directory: {str(path)!r} is a file; a PEFT checkpoint is a folder")):
        model.export_peft(path)
    assert path.read_bytes() == b"kept"
    assert sorted(p.name for p in model.export_peft(tmp_path / "folder").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
