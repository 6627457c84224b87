"""Options of what a bench run leaves out are refused in one line naming them (they were ignored
without a word: ``planning --json`` without ``--bfcl`` never wrote its file, and a section's
options beside a ``--sections`` that leaves it out changed nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.bench import _meta_correctness
from toolrouter.cli import app


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["planning", "--json", "figures.json", "--featurizer", "minilm"],
         "planning: --featurizer, --json: only for the BFCL tables (--bfcl PATH)"),
        (["planning", "--bfcl", "/no/such/folder", "--tasks", "5"], "planning: --tasks: only for the planning tables, which --bfcl replaces"),
        (["meta-router", "--sections", "coldstart", "--mt-json", "figures.json", "--rb-policies", "lin_ts"],
         "meta-router: --mt-json: only for section metatool, which --sections leaves out"),
        (["integrations", "--sections", "overhead", "--ks", "3"], "integrations: --ks: only for section shortlist, which --sections leaves out"),
        (["store", "--parts", "regret", "--routers", "1,4", "--outcomes", "5"],
         "store: --routers: only for the throughput and order parts, which --parts leaves out"),
        (["store", "--parts", "throughput,order", "--steps", "5"], "store: --steps: only for the regret part, which --parts leaves out"),
        (["adapters", "--models", "mlp", "--block-dim", "8"], "adapters: --block-dim: only for the transformer block, which --models mlp leaves out"),
        (["adapters", "--models", "block", "--widths", "4,4", "--batch", "3"],
         "adapters: --batch, --widths: only for the MLP, which --models block leaves out"),
        (["continual", "--streams", "drift", "--strategies", "ewc", "--epochs", "3"],
         "continual: --strategies, --epochs: only for the digit streams, which --streams drift leaves out"),
        (["meta", "--sections", "correctness", "--minutes", "1", "--speed-tasks", "4"],
         "meta: --speed-tasks: only for section speed, which --sections leaves out"),
    ],
)
def test_options_of_what_the_run_leaves_out_are_refused(argv: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, ["bench", argv[0], "--quick", *argv[1:]])
    assert result.exit_code == 2, result.output
    assert f"toolrouter bench {expected}" in result.output, result.output


def test_where_the_omniglot_data_lies_may_be_given_to_any_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(_meta_correctness, "run", lambda args: ran.append("correctness"))
    result = CliRunner().invoke(app, ["bench", "meta", "--quick", "--sections", "correctness", "--omniglot", str(tmp_path)])
    assert result.exit_code == 0 and ran == ["correctness"], result.output
