"""Loaders of the public benchmark data the router is evaluated on; each takes the path of a copy."""

from toolrouter.data.metatool import MetaToolData, load_metatool
from toolrouter.data.routerbench import RouterBenchData, load_routerbench

__all__ = ["MetaToolData", "RouterBenchData", "load_metatool", "load_routerbench"]
