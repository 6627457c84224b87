"""Task samplers and dataset loaders. Every loader takes a path; nothing is downloaded."""


class DataFormatError(ValueError):
    """A dataset file is malformed (not missing: that is ``FileNotFoundError``); the message names the
    file and, where it can, the row and the column."""
