"""``make_featurizer("minilm+hashing", ...)``: its own arguments are refused under their own names
(the parts' checks named "dim" and "parts[1] weight"), and options for a new MiniLM beside an
existing one are refused, not ignored."""

from __future__ import annotations

import pytest

from toolrouter.features import HashingFeaturizer, make_featurizer


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"hashing_dim": 0}, ValueError, r"^hashing_dim: expected an integer in \[1, 16777216\], got 0$"),
        ({"hashing_dim": 10**12}, ValueError, r"^hashing_dim: expected an integer in \[1, 16777216\], got 1000000000000$"),
        ({"hashing_weight": 0}, ValueError, r"^hashing_weight: expected a finite number > 0, got 0$"),
        ({"hashing_weight": float("nan")}, ValueError, r"^hashing_weight: expected a finite number > 0, got nan$"),
        ({"minilm": HashingFeaturizer(dim=8), "batch_size": 8}, TypeError,
         r"^minilm: an existing featurizer was given, so the options \['batch_size'\] for a new one would be ignored$"),
        ({"minilm": "all-MiniLM-L6-v2"}, TypeError, r"^minilm: expected a Featurizer, got str$"),
    ],
)
def test_each_argument_is_refused_under_its_own_name(options: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make_featurizer("minilm+hashing", **options)


def test_an_existing_featurizer_is_used_beside_the_hashed_ngrams() -> None:
    f = make_featurizer("minilm+hashing", minilm=HashingFeaturizer(dim=8), hashing_dim=16, hashing_weight=0.25)
    assert f.dim == 24 and round(float(f("hello world") @ f("hello world")), 6) == 1.25
