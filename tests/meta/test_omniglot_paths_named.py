"""Omniglot paths that are neither a path nor a list of paths are refused naming ``paths``: bytes
were read as their byte values ("paths: ... got 47") and a number failed with "'int' object is not
iterable", naming nothing."""

from __future__ import annotations

import pytest

from meta.data.omniglot import load_omniglot, omniglot_split


@pytest.mark.parametrize("paths", [b"/data/omniglot.zip", 5, None])
@pytest.mark.parametrize("load", [load_omniglot, omniglot_split])
def test_paths_that_are_no_paths_are_named(load, paths) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=rf"^paths: expected a path or a list of paths \(str or os.PathLike\), got {paths!r}$"):
        load(paths)
