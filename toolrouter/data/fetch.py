"""Download the benchmark datasets from their original sources into a local cache folder.

Each dataset of the manifest (:data:`toolrouter.data.manifest.DATASETS`) is a set of parts; a part
names upstream files (a path in a public repository at a pinned revision), the converter that turns
them into our layout, and the files it writes, each with its sha256. A fetch

1. skips a part whose outputs are all present with their pinned digests (nothing is downloaded);
2. downloads each upstream file into a staging folder beside the destination (standard library HTTP,
   with a timeout), checking its sha256 where the manifest pins the upstream bytes;
3. converts, checks every output's sha256, and only then moves the outputs into place.

So an interrupted or corrupted download never leaves a file that a loader would read, and a digest
that does not match is an error naming the URL (or file), the expected and the actual digest.

The destination is :func:`data_dir`: ``$TOOLROUTER_DATA`` if set, else the user cache folder
(``~/.cache/toolrouter/data`` on Linux). Example::

    >>> from toolrouter.data import fetch
    >>> fetch(["routerbench"])  # doctest: +SKIP
    [FetchedFile(dataset='routerbench', path=PosixPath('.../routerbench/mbpp_train.csv'), status='fetched', bytes=94222), ...]
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Literal

from toolrouter._checks import check_real
from toolrouter.data.convert import UpstreamFormatError
from toolrouter.errors import ToolRouterError
from toolrouter.logging import EventLog

__all__ = [
    "ChecksumError",
    "Dataset",
    "DatasetMissingError",
    "DownloadError",
    "FetchedFile",
    "OutputFile",
    "Part",
    "UpstreamFile",
    "data_dir",
    "dataset_status",
    "fetch",
    "sha256_of",
    "suggest_fetch",
]

log = EventLog("toolrouter.data.fetch")

#: Where raw files of a public repository are served, as ``{base}/{repository}/{revision}/{path}``.
DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
DEFAULT_TIMEOUT_S = 60.0
ENV_DATA_DIR = "TOOLROUTER_DATA"
_CHUNK = 1 << 20


class DatasetMissingError(ToolRouterError, FileNotFoundError):
    """A benchmark's data is not where it looks; the message names the path and the command that fetches it."""


class ChecksumError(ToolRouterError, ValueError):
    """A downloaded or converted file does not have its pinned sha256."""


class DownloadError(ToolRouterError, OSError):
    """An upstream file could not be downloaded in full (HTTP error, timeout, closed connection)."""


@dataclass(frozen=True)
class UpstreamFile:
    """A file in the dataset's upstream repository; ``sha256`` pins its bytes where they are known.

    ``sha256=None`` means the upstream bytes are not pinned: the converted outputs' digests are
    checked instead (a conversion that reproduces them is the check).
    """

    path: str
    sha256: str | None = None


@dataclass(frozen=True)
class OutputFile:
    """A file the loaders read, relative to the cache folder, with its sha256 and size in bytes."""

    path: str
    sha256: str
    size: int


Converter = Callable[[Sequence[Path], Sequence[Path]], None]


@dataclass(frozen=True)
class Part:
    """Upstream files, the converter that turns them into ``outputs`` (same order), and the outputs."""

    upstream: tuple[UpstreamFile, ...]
    outputs: tuple[OutputFile, ...]
    convert: Converter


@dataclass(frozen=True)
class Dataset:
    """One public dataset: where it comes from, under which licence, and the parts it is fetched in.

    ``revision`` is the commit the upstream paths are read at; ``None`` means no revision is pinned
    yet, and the dataset cannot be fetched (``note`` says why).
    """

    name: str
    description: str
    repository: str
    revision: str | None
    licence: str
    parts: tuple[Part, ...]
    note: str = ""

    @property
    def outputs(self) -> tuple[OutputFile, ...]:
        """Every file the dataset puts in the cache folder."""
        return tuple(o for part in self.parts for o in part.outputs)

    @property
    def check(self) -> str:
        """What the pinned digests vouch for: the upstream bytes, or the converted files (or a mix)."""
        pinned = [u.sha256 is not None for part in self.parts for u in part.upstream]
        return "upstream bytes" if all(pinned) else "converted files" if not any(pinned) else "mixed"

    def url(self, upstream: UpstreamFile, base_url: str = DEFAULT_BASE_URL) -> str:
        """Where ``upstream`` is downloaded from."""
        return f"{base_url.rstrip('/')}/{self.repository}/{self.revision}/{upstream.path}"


@dataclass(frozen=True)
class FetchedFile:
    """What a fetch did with one output file: ``fetched``, already ``present``, or ``skipped``
    (a dataset with no pinned revision, fetched only when named)."""

    dataset: str
    path: Path
    status: Literal["fetched", "present", "skipped"]
    bytes: int


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder of the datasets: ``override``, else ``$TOOLROUTER_DATA``, else the user cache folder.

    The user cache folder is ``platformdirs.user_cache_dir("toolrouter")/data`` when platformdirs is
    installed, else ``$XDG_CACHE_HOME/toolrouter/data`` (``~/.cache/toolrouter/data`` by default).
    """
    if override is not None and str(override) != "":
        return Path(override).expanduser()
    env = os.environ.get(ENV_DATA_DIR, "")
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
        return base / "toolrouter" / "data"
    return Path(user_cache_dir("toolrouter")) / "data"


@contextmanager
def suggest_fetch(dataset: str) -> Iterator[None]:
    """Around a loader call: its ``FileNotFoundError`` becomes a :class:`DatasetMissingError` that
    also names the command fetching ``dataset``, on one line.

    The loader's own message says which folder or file is missing; benchmarks wrap only the call that
    reads the data, so that no other missing file is blamed on the dataset. Example::

        >>> from toolrouter.data.routerbench import load_routerbench
        >>> with suggest_fetch("routerbench"):
        ...     data = load_routerbench("data/none")
        Traceback (most recent call last):
        ...
        toolrouter.data.fetch.DatasetMissingError: path: no RouterBench folder at 'data/none'; get it with: toolrouter data fetch routerbench
    """
    try:
        yield
    except DatasetMissingError:
        raise
    except FileNotFoundError as exc:
        what = " ".join(str(exc).splitlines())
        raise DatasetMissingError(f"{what}; get it with: toolrouter data fetch {dataset}") from None


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _present(root: Path, output: OutputFile) -> bool:
    file = root / output.path
    return file.is_file() and file.stat().st_size == output.size and sha256_of(file) == output.sha256


def dataset_status(dataset: Dataset, root: Path) -> Literal["present", "partial", "missing"]:
    """Whether all, some or none of ``dataset``'s files are in ``root`` with their pinned digests."""
    found = [_present(root, o) for o in dataset.outputs]
    return "present" if all(found) else "partial" if any(found) else "missing"


def _download(url: str, target: Path, timeout_s: float) -> str:
    """Stream ``url`` into ``target``; the sha256 of the bytes received. Raises DownloadError."""
    digest = hashlib.sha256()
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": "toolrouter-data-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response, target.open("wb") as out:
            expected = response.headers.get("Content-Length")
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (socket.timeout, TimeoutError):
        raise DownloadError(f"{url}: no answer within {timeout_s:g} s") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: {exc.reason}") from None
    except (HTTPException, ConnectionError) as exc:
        raise DownloadError(f"{url}: connection broken after {received} bytes ({type(exc).__name__})") from None
    if expected is not None and expected.isdigit() and received != int(expected):
        raise DownloadError(f"{url}: connection closed after {received} of {expected} bytes")
    return digest.hexdigest()


def _fetch_part(dataset: Dataset, part: Part, root: Path, base_url: str, timeout_s: float) -> None:
    """Download, check, convert and check one part in a staging folder, then move its outputs into place."""
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".fetch-{dataset.name}-", dir=root))
    try:
        inputs = []
        for i, upstream in enumerate(part.upstream):
            url = dataset.url(upstream, base_url)
            file = staging / f"in{i}" / Path(upstream.path).name  # the upstream name, for the converter's errors
            file.parent.mkdir()
            actual = _download(url, file, timeout_s)
            if upstream.sha256 is not None and actual != upstream.sha256:
                raise ChecksumError(f"{url}: sha256 mismatch: expected {upstream.sha256}, got {actual}")
            log.info("data_downloaded", dataset=dataset.name, url=url, bytes=file.stat().st_size, sha256=actual)
            inputs.append(file)
        converted = [staging / f"out{i}-{Path(o.path).name}" for i, o in enumerate(part.outputs)]
        sources = ", ".join(dataset.url(u, base_url) for u in part.upstream)
        try:
            part.convert(inputs, converted)
        except UpstreamFormatError as exc:
            raise UpstreamFormatError(f"{exc} (downloaded from {sources})") from None
        for output, file in zip(part.outputs, converted):
            actual = sha256_of(file)
            if actual != output.sha256:
                raise ChecksumError(
                    f"{output.path} (converted from {sources}): sha256 mismatch: expected {output.sha256}, got {actual}"
                )
        for output, file in zip(part.outputs, converted):
            final = root / output.path
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, final)  # atomic on one file system: a reader sees the old file or the new one
            log.info("data_fetched", dataset=dataset.name, path=str(final), sha256=output.sha256)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_base_url(base_url: str) -> None:
    """Refuse a ``base_url`` no download can start from, before anything is made (it failed at the
    first download with urllib's words, "unknown url type", naming no argument)."""
    try:
        parts = urllib.parse.urlsplit(base_url)
    except (TypeError, AttributeError, ValueError):  # not a string, or a malformed host ("http://[::1")
        parts = None
    web = parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)
    local = parts is not None and parts.scheme == "file" and bool(parts.path)
    if not (web or local):
        raise ValueError(f"base_url: expected an http://, https:// or file:// URL, got {base_url!r}")


def fetch(
    names: Sequence[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    datasets: Mapping[str, Dataset] | None = None,
) -> list[FetchedFile]:
    """Fetch the named datasets (default: all) into ``dest`` (default :func:`data_dir`).

    Arguments:
        names: dataset names from ``datasets``; ``None`` or empty: every dataset with a pinned
            revision (the others are reported ``skipped``; naming one is an error).
        dest: the cache folder; files go to ``dest/<dataset>/...``.
        base_url: where the upstream repositories' raw files are served: an ``http(s)://`` URL
            (a mirror) or a ``file://`` one.
        timeout_s: seconds to wait for each connection and each read.
        datasets: the manifest (default :data:`toolrouter.data.manifest.DATASETS`).

    Returns one :class:`FetchedFile` per output file. Raises ``ValueError`` naming an unknown name
    or a ``base_url`` that is not such a URL,
    :class:`DownloadError` or :class:`ChecksumError` naming the URL, ``UpstreamFormatError`` naming
    the upstream file its converter cannot read (and the URL), ``NotADirectoryError`` for a
    destination that is a file and ``OSError`` naming a path the folder cannot be written at; the parts fetched before the
    error stay in place, and nothing of the failed part is left behind, nor a folder this call made
    and fetched nothing into.
    """
    if datasets is None:
        from toolrouter.data.manifest import DATASETS as datasets
    if isinstance(names, str):
        raise TypeError(f"names: expected a list of dataset names, got the string {names!r}")
    unknown = [n for n in names or () if n not in datasets]
    if unknown:
        raise ValueError(f"names: unknown dataset(s) {unknown}; choose from {sorted(datasets)}")
    # neither infinite nor past threading.TIMEOUT_MAX (1e300, 1e10) is a timeout the socket takes:
    # an OverflowError once a download starts
    timeout_s = check_real("timeout_s", timeout_s, low=0, low_open=True, high=threading.TIMEOUT_MAX)
    _check_base_url(base_url)
    chosen = [datasets[n] for n in dict.fromkeys(names)] if names else list(datasets.values())
    unpinned = [d.name for d in chosen if d.revision is None]
    if names and unpinned:
        notes = "; ".join(f"{n}: {datasets[n].note or 'no upstream revision is pinned'}" for n in unpinned)
        raise ValueError(f"names: cannot fetch {unpinned}: {notes}")
    root = data_dir(dest)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(
            f"dest: the data folder {str(root)!r} is a file (the folder comes from --dir, ${ENV_DATA_DIR} "
            "or the user cache folder)"
        )
    # the folders this call makes (the data folder and its missing parents), deepest first: a
    # failure before anything is fetched into them removes them again
    made = [folder for folder in (root, *root.parents) if not folder.exists()]
    report: list[FetchedFile] = []
    try:
        for dataset in chosen:
            if dataset.revision is None:
                report += [FetchedFile(dataset.name, root / o.path, "skipped", 0) for o in dataset.outputs]
                continue
            for part in dataset.parts:
                status: Literal["fetched", "present"] = "present"
                if not all(_present(root, o) for o in part.outputs):
                    _fetch_part(dataset, part, root, base_url, timeout_s)
                    status = "fetched"
                report += [FetchedFile(dataset.name, root / o.path, status, o.size) for o in part.outputs]
    except BaseException:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:  # not empty (a part fetched before the error), or never made
                break
        raise
    return report
