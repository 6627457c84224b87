"""Omniglot (Lake et al., 2015) from its zip files or a folder of the same layout; nothing is downloaded.

The layout is ``[ROOT/]ALPHABET/characterNN/*.png`` (105x105, one folder per character, 20 drawers).
Images are resized to ``image_size`` (28 by default), inverted so strokes are 1 and background 0,
and every rotation in ``rotations`` makes a new class (the usual protocol: 0, 90, 180, 270 degrees).
Characters present in several sources (Greek and Latin are in both small background zips) are
kept once.

Example:
    >>> from meta.data.omniglot import load_omniglot
    >>> data = load_omniglot("../shared/data/omniglot/images_background_small1.zip",
    ...                      alphabets=["Greek"], rotations=(0,))  # doctest: +SKIP
    >>> data.images.shape  # doctest: +SKIP
    torch.Size([480, 1, 28, 28])
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from meta._checks import check_count, check_path
from meta._log import event_log
from meta.data import DataFormatError

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)

DEFAULT_TEST_ALPHABETS = ("Balinese", "Early_Aramaic")


# equal only to itself, as its tensors are: a field-wise == compares tensors elementwise and raised
@dataclass(frozen=True, eq=False)
class OmniglotData:
    """Images ``[n, 1, size, size]`` float32 in [0, 1], labels ``[n]`` int64 indexing ``class_names``.

    ``class_names[i]`` is ``"Alphabet/characterNN/rotDEG"``; ``alphabets`` lists the alphabets present.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    alphabets: list[str]

    @property
    def n_classes(self) -> int:
        """Number of classes (characters times rotations)."""
        return len(self.class_names)


def _macos_metadata(parts: Sequence[str]) -> bool:
    """Whether a path is one of the files macOS puts beside each file it archives or copies (the
    ``__MACOSX`` folder, ``._NAME`` resource forks): named like the images, but no PNG."""
    return any(part == "__MACOSX" or part.startswith("._") for part in parts)


def _entries(source: Path) -> Iterable[tuple[str, str, str, str, bytes]]:
    """(alphabet, character, file name, where, png bytes) for every image of a zip or folder;
    ``where`` names the file (a zip's member after the zip's path) for errors."""
    if source.is_dir():
        for png in sorted(source.rglob("*")):
            # as in a zip: ".PNG" too, and the names under the folder only (not those of the folders
            # above it), an image outside ALPHABET/character/ skipped
            parts = png.relative_to(source).parts
            if png.suffix.lower() != ".png" or len(parts) < 3 or not png.is_file() or _macos_metadata(parts):
                continue
            yield parts[-3], parts[-2], parts[-1], str(png), png.read_bytes()
        return
    if not zipfile.is_zipfile(source):
        with source.open("rb") as fh:
            signature = fh.read(4)
        if signature == b"PK\x03\x04":  # a zip cut short: its members begin it, its directory ended it
            raise DataFormatError(f"path {str(source)!r} is a damaged or truncated zip file (its central directory is missing)")
        raise DataFormatError(f"path {str(source)!r} is neither a folder nor a zip file")
    with zipfile.ZipFile(source) as archive:
        for name in sorted(archive.namelist()):
            if not name.lower().endswith(".png"):
                continue
            parts = name.split("/")
            if len(parts) < 3 or _macos_metadata(parts):
                continue
            where = f"{source}: {name}"
            try:
                payload = archive.read(name)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a damaged member: bad CRC, cut short
                raise DataFormatError(f"{where}: cannot be read from the zip ({exc})") from None
            yield parts[-3], parts[-2], parts[-1], where, payload


def _image(payload: bytes, where: str, size: int) -> np.ndarray:
    """The PNG ``payload`` as a ``size`` x ``size`` array, strokes 1 and background 0."""
    try:
        with Image.open(io.BytesIO(payload)) as img:
            small = img.convert("L").resize((size, size), Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:  # what PIL raises for a bad file
        raise DataFormatError(f"{where}: not a readable image ({type(exc).__name__}: {exc})") from None
    return 1.0 - np.asarray(small, dtype=np.float32) / 255.0


def _path_list(paths: Any) -> list[Any]:
    """``paths`` (one path or several) as a list; a ``TypeError`` naming them when they are neither:
    bytes were read as their byte values ("got 47") and a number as "'int' object is not iterable"."""
    if isinstance(paths, (str, os.PathLike)):
        return [paths]
    if isinstance(paths, (bytes, bytearray)) or not isinstance(paths, Iterable):
        raise TypeError(f"paths: expected a path or a list of paths (str or os.PathLike), got {paths!r:.80}")
    return list(paths)


def load_omniglot(
    paths: str | Path | Sequence[str | Path],
    image_size: int = 28,
    rotations: Sequence[int] = (0, 90, 180, 270),
    alphabets: Sequence[str] | None = None,
    exclude_alphabets: Sequence[str] = (),
) -> OmniglotData:
    """Load Omniglot characters from zips and/or folders into memory.

    Arguments:
        paths: one or several zip files or folders in the Omniglot layout.
        image_size: side of the square images after resizing.
        rotations: multiples of 90 degrees, each angle once (modulo 360); each makes one class
            per character.
        alphabets: keep only these alphabets (None: all; a string: that one); a name not found
            raises KeyError.
        exclude_alphabets: drop these alphabets (a string: that one); a name not found, or one
            also in ``alphabets``, is refused.

    A missing path raises ``FileNotFoundError``; an image that cannot be read (not a PNG, cut
    short) or a damaged zip member raises ``DataFormatError`` naming the file (and the member).
    The files macOS adds to a zip or folder it made (``__MACOSX/``, ``._NAME``) are skipped.
    """
    # a list once: a generator would be spent by the first pass, and the errors would name no path
    paths = _path_list(paths)
    if not paths:
        raise ValueError("paths is empty: give at least one Omniglot zip or folder")
    image_size = check_count("image_size", image_size, low=4)
    # angles in a numpy array or a tensor, as Python numbers: the truth value of either is ambiguous
    # (a generator as a list: the check below spent it, and no angle was left to make a class of)
    if isinstance(rotations, (np.ndarray, torch.Tensor)):
        listed = rotations.tolist()
    else:
        listed = list(rotations) if isinstance(rotations, Iterable) and not isinstance(rotations, str) else None
    if (
        not isinstance(listed, list)
        or not listed
        or any(isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r % 90 for r in listed)
    ):
        raise ValueError(f"rotations must be a non-empty list of multiples of 90, got {rotations!r}")
    angles = [int(r) % 360 for r in listed]
    if len(set(angles)) != len(angles):  # two equal angles would make two classes of the same images
        raise ValueError(f"rotations must name each angle once (modulo 360), got {rotations!r}")
    # one name given as a string is that name, not its letters
    alphabets = [alphabets] if isinstance(alphabets, str) else None if alphabets is None else list(alphabets)
    if alphabets is not None and not alphabets:
        # keeping no alphabet is a mistake in the argument, not "no images in the files"
        raise ValueError("alphabets is empty: name the alphabets to keep, or pass None for all of them")
    # a list, as alphabets: a generator was spent by the check below, and then excluded nothing
    exclude_alphabets = [exclude_alphabets] if isinstance(exclude_alphabets, str) else list(exclude_alphabets)
    both = sorted(set(alphabets or ()) & set(exclude_alphabets))
    if both:  # kept and dropped at once: it was dropped, then reported as not found in the data
        raise ValueError(f"alphabets and exclude_alphabets both name {both!r}")
    images: dict[tuple[str, str], list[np.ndarray]] = {}
    seen: set[tuple[str, str, str]] = set()
    everywhere: set[str] = set()  # every alphabet of the sources, kept or not
    sources = [check_path("paths", raw) for raw in paths]  # every path checked before any is read
    for source in sources:
        if not source.exists():
            raise FileNotFoundError(f"Omniglot path {str(source)!r} does not exist")
    for source in sources:
        for alphabet, character, fname, where, payload in _entries(source):
            key = (alphabet, character, fname)
            everywhere.add(alphabet)
            if key in seen or alphabet in exclude_alphabets:
                continue
            if alphabets is not None and alphabet not in alphabets:
                continue
            seen.add(key)
            images.setdefault((alphabet, character), []).append(_image(payload, where, image_size))
    found = sorted({a for a, _ in images})
    # the folder the zips were downloaded into, given for the zips: say which paths to give instead
    zips = sorted(str(z) for source in sources if source.is_dir() for z in source.glob("*.zip"))
    hint = f"; the folder holds the zip files {zips}: give those" if zips and not everywhere else ""
    # a name not in the data is a typo: an exclusion that drops nothing would pass without a word
    for field, names, present in (("alphabets", alphabets, found), ("exclude_alphabets", exclude_alphabets, sorted(everywhere))):
        missing = sorted(set(names or ()) - set(present))
        if missing:
            raise KeyError(f"{field}: {missing!r} not found in {[str(p) for p in paths]!r}; its alphabets: {sorted(everywhere)}{hint}")
    if not images:
        raise DataFormatError(f"no Omniglot images found in {[str(p) for p in paths]!r} (laid out as [ROOT/]ALPHABET/characterNN/*.png){hint}")
    # every rotation written into one tensor made up front, each character's images let go once
    # written: a list of rotated copies joined by torch.cat held the whole set twice at its peak
    total = sum(len(drawn) for drawn in images.values()) * len(angles)
    xs = torch.empty((total, 1, image_size, image_size), dtype=torch.float32)
    ys = torch.empty(total, dtype=torch.int64)
    names: list[str] = []
    start = 0
    for a, c in sorted(images):
        base = torch.from_numpy(np.stack(images.pop((a, c))))[:, None]
        for angle in angles:
            xs[start : start + len(base)] = torch.rot90(base, k=angle // 90, dims=(2, 3))
            ys[start : start + len(base)] = len(names)
            names.append(f"{a}/{c}/rot{angle}")
            start += len(base)
    data = OmniglotData(xs, ys, names, found)
    log.info("omniglot_loaded", images=len(data.labels), classes=data.n_classes, alphabets=found)
    return data


def omniglot_split(
    paths: str | Path | Sequence[str | Path],
    test_alphabets: Sequence[str] = DEFAULT_TEST_ALPHABETS,
    **kwargs: object,
) -> tuple[OmniglotData, OmniglotData]:
    """``(train, test)``: the test set holds ``test_alphabets`` only, the train set every other one."""
    paths = _path_list(paths)  # read twice below
    test_alphabets = [test_alphabets] if isinstance(test_alphabets, str) else list(test_alphabets)
    if not test_alphabets:
        raise ValueError("test_alphabets is empty: name at least one alphabet to test on")
    if isinstance(kwargs.get("rotations"), Iterator):  # read twice below: the first load would spend it
        kwargs["rotations"] = list(kwargs["rotations"])  # type: ignore[call-overload]
    test = load_omniglot(paths, alphabets=test_alphabets, **kwargs)  # type: ignore[arg-type]
    train = load_omniglot(paths, exclude_alphabets=test_alphabets, **kwargs)  # type: ignore[arg-type]
    return train, test
