"""``toolrouter bench integrations --repeats``: more timed calls than the data has new requests for
is refused before the shortlist's recall protocol runs (it was found only in the cost table, after
the protocol's minutes or hours)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.bench import UsageError, _integrations_shortlist, integrations

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (DATA / "metatool").is_dir(), reason=f"the MetaTool copy is not in {DATA}")
def test_repeats_the_data_cannot_serve_are_refused_before_the_recall_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(_integrations_shortlist, "_recall", lambda *args: ran.append("recall"))
    with pytest.raises(UsageError, match=r"^--repeats: 100000 needs 100005 requests beyond those learned, the data has \d+$"):
        integrations.main(["--quick", "--data", str(DATA), "--sections", "shortlist", "--repeats", "100000"])
    assert ran == []
