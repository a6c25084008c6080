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


class NoSuchFaceError(MepeError, IndexError):
    """A face asked for by its place in the photo (0 = the largest) that the photo does not have.

    Attributes:
        index: the face asked for, counting from 0.
        faces: how many faces the photo has.
    """

    def __init__(self, index: int, faces: int):
        super().__init__(f"face {index} asked for, but the photo has {faces} (0 = the largest)")
        self.index, self.faces = index, faces
