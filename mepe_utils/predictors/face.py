"""A loaded MEPE face-emotion model reading photos: every face detected, framed, read by the CNN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.labels import FER_LABELS
from mepe_utils.models.common import EMBEDDING_LAYER, PROBABILITIES_OUTPUT, traced_forward, with_embedding
from mepe_utils.runtime import SHIPPED_MODELS_DIR
from mepe_utils.vision.detection import DETECTORS
from mepe_utils.vision.faces import FaceFinder
from mepe_utils.vision.images import FILE_BYTES

SHIPPED_FACE_MODEL = SHIPPED_MODELS_DIR / "face"


@dataclass
class FaceReading:
    """One face of a photo, read.

    Attributes:
        box: (x, y, w, h) in the photo's pixels.
        landmarks: the detector's five landmarks ((5, 2) x, y; see
            :data:`~mepe_utils.vision.detection.LANDMARKS`), or None (Haar gives none).
        detector_score: the detector's confidence, or None (Haar gives none).
        probabilities: FER label -> probability (7).
        top_label: the most probable FER label.
        embedding: the face embedding for fusion.
    """

    box: tuple[int, int, int, int]
    landmarks: list[list[float]] | None
    detector_score: float | None
    probabilities: dict[str, float]
    top_label: str
    embedding: np.ndarray


@dataclass
class FaceEmotion:
    """The reading of one photo: every face, largest first.

    The largest face is the photo's reading for fusion; ``box``,
    ``probabilities``, ``top_label`` and ``embedding`` are its fields (empty when
    no face was found).

    Attributes:
        source: the path, or the input's type for an in-memory image.
        faces: every face read, largest first.
    """

    source: str
    faces: list[FaceReading] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.faces)

    @property
    def largest(self) -> FaceReading | None:
        return self.faces[0] if self.faces else None

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        return self.faces[0].box if self.faces else None

    @property
    def probabilities(self) -> dict[str, float]:
        return self.faces[0].probabilities if self.faces else {}

    @property
    def top_label(self) -> str | None:
        return self.faces[0].top_label if self.faces else None

    @property
    def embedding(self) -> np.ndarray | None:
        return self.faces[0].embedding if self.faces else None


def _is_single_image(images) -> bool:
    """Whether ``images`` is one photo (a path, a file's bytes, an array other than a 4-D batch, a PIL image)."""
    if isinstance(images, (str, Path, *FILE_BYTES)):
        return True
    if isinstance(images, np.ndarray):  # a 4-D batch, or a 1-D array of paths or images, is many
        return images.ndim != 4 and not (images.ndim == 1 and images.dtype.kind in "OUS")
    return not isinstance(images, Sequence)  # a PIL image


def _describe(image) -> str:
    return str(image) if isinstance(image, (str, Path)) else f"<{type(image).__name__}>"


class FaceEmotionModel:
    """A checked, loaded face model with the photo path in front of it.

    Attributes:
        manifest: the saved model's manifest.
        finder: detection and framing of every face in a photo.
    """

    def __init__(self, model, manifest: artifacts.Manifest, finder: FaceFinder | None = None):
        self.model = with_embedding(model)
        self.manifest = manifest
        self.finder = finder or FaceFinder()
        self._forward = traced_forward(self.model)  # one graph for any number of faces

    @classmethod
    def load(cls, directory: str | Path = SHIPPED_FACE_MODEL, detector: str = DETECTORS[0]) -> FaceEmotionModel:
        """Loads a saved face model (manifest, hashes, labels and safe mode checked) with a face detector.

        Args:
            directory: the saved model.
            detector: the face detector's name (:data:`~mepe_utils.vision.detection.DETECTORS`).
        """
        model, manifest = artifacts.load_model(directory, kind=artifacts.FACE_KIND, labels=FER_LABELS)
        return cls(model, manifest, FaceFinder(detector))

    def scores(self, faces: np.ndarray) -> dict[str, np.ndarray]:
        """Probabilities (N, 7) and embeddings of 48x48 gray crops (N, 48, 48, 1), pixels 0..255."""
        faces = np.asarray(faces, dtype=np.float32)
        outputs = self._forward(faces) if self._forward is not None else self.model.predict_on_batch(faces)
        return {name: np.asarray(value) for name, value in outputs.items()}

    def predict(self, images, channel_order: str = "rgb", largest_only: bool = False) -> list[FaceEmotion]:
        """Reads one photo or a batch (paths, arrays, PIL images); one result per photo, in order.

        Every face of every photo goes through the CNN in one batch. A photo
        without a face gives ``found=False``; it is not an error.

        Args:
            images: a photo or a list of photos.
            channel_order: ``"rgb"`` or ``"bgr"`` for colour arrays.
            largest_only: read only the largest face of each photo.

        Raises:
            ImageError: a missing path, a directory, a file that is not an image,
                a truncated or oversized image (the message names it).
        """
        images = [images] if _is_single_image(images) else list(images)
        photos = [self.finder(image, channel_order, largest_only) for image in images]
        crops = [face.crop for photo in photos for face in photo.faces]
        scores = self.scores(np.stack(crops)) if crops else {}
        results, row = [], 0
        for image, photo in zip(images, photos):
            readings = []
            for face in photo.faces:
                probabilities = scores[PROBABILITIES_OUTPUT][row]
                detection = face.detection
                readings.append(
                    FaceReading(
                        box=detection.box,
                        landmarks=None if detection.landmarks is None else detection.landmarks.round(1).tolist(),
                        detector_score=detection.score,
                        probabilities={name: float(p) for name, p in zip(FER_LABELS, probabilities)},
                        top_label=FER_LABELS[int(np.argmax(probabilities))],
                        embedding=scores[EMBEDDING_LAYER][row],
                    )
                )
                row += 1
            results.append(FaceEmotion(_describe(image), readings))
        return results
