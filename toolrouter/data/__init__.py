"""Loaders of the public benchmark data the router is evaluated on; each takes the path of a copy.

``toolrouter data fetch`` (:func:`fetch`) downloads the datasets from their original sources into
the cache folder :func:`data_dir`, the benchmarks' default; ``toolrouter data list`` shows them.
"""

from toolrouter.data.bfcl import BfclData, load_bfcl
from toolrouter.data.fetch import (
    ChecksumError,
    DatasetMissingError,
    DownloadError,
    data_dir,
    fetch,
    suggest_fetch,
)
from toolrouter.data.metatool import MetaToolData, load_metatool
from toolrouter.data.routerbench import RouterBenchData, load_routerbench

__all__ = [
    "BfclData",
    "ChecksumError",
    "DatasetMissingError",
    "DownloadError",
    "MetaToolData",
    "RouterBenchData",
    "data_dir",
    "fetch",
    "load_bfcl",
    "load_metatool",
    "load_routerbench",
    "suggest_fetch",
]
