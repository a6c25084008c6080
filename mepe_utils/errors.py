"""Errors MEPE raises for bad input: each message names the file or value and the problem."""


class MepeError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback."""


class DataError(MepeError, ValueError):
    """A data file or folder that is missing, malformed or empty."""


class LabelError(MepeError, ValueError):
    """A label name, id or label list that does not belong to the expected space."""


class ModelFileError(MepeError, ValueError):
    """A saved model that is missing, corrupt, tampered with or of the wrong kind."""


class TextInputError(MepeError, ValueError):
    """A text input that cannot be scored: not a string, empty or whitespace-only."""


class ImageError(MepeError, ValueError):
    """A photo that cannot be used: missing, not an image, truncated, empty or too large."""
