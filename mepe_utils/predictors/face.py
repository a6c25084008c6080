"""A loaded MEPE face-emotion model reading photos: detection, crop, CNN, typed results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.labels import FER_LABELS
from mepe_utils.models.common import EMBEDDING_LAYER, PROBABILITIES_OUTPUT, with_embedding
from mepe_utils.runtime import SHIPPED_MODELS_DIR
from mepe_utils.vision.faces import FaceDetector

SHIPPED_FACE_MODEL = SHIPPED_MODELS_DIR / "face"


@dataclass
class FaceEmotion:
    """The reading of one photo.

    Attributes:
        source: the path, or the input's type for an in-memory image.
        found: whether a face was detected; when False the other fields are empty.
        box: (x, y, w, h) of the largest face in the photo's pixels.
        boxes: every detected face, largest first.
        probabilities: FER label -> probability (7), for the largest face.
        top_label: the most probable FER label.
        embedding: the face embedding for fusion.
    """

    source: str
    found: bool
    box: tuple[int, int, int, int] | None
    boxes: list[tuple[int, int, int, int]]
    probabilities: dict[str, float]
    top_label: str | None
    embedding: np.ndarray | None


def _is_single_image(images) -> bool:
    if isinstance(images, (str, Path)):
        return True
    if isinstance(images, np.ndarray):
        return images.ndim in (2, 3)
    return not isinstance(images, Sequence)  # a PIL image


def _describe(image) -> str:
    return str(image) if isinstance(image, (str, Path)) else f"<{type(image).__name__}>"


class FaceEmotionModel:
    """A checked, loaded face model with its face detector.

    Attributes:
        manifest: the saved model's manifest.
        detector: the Haar-cascade detector and cropper used for photos.
    """

    def __init__(self, model, manifest: artifacts.Manifest, detector: FaceDetector | None = None):
        self.model = with_embedding(model)
        self.manifest = manifest
        self.detector = detector or FaceDetector()

    @classmethod
    def load(cls, directory: str | Path = SHIPPED_FACE_MODEL) -> FaceEmotionModel:
        """Loads a saved face model (manifest, hashes, labels and safe mode checked)."""
        model, manifest = artifacts.load_model(directory, kind=artifacts.FACE_KIND, labels=FER_LABELS)
        return cls(model, manifest)

    def scores(self, faces: np.ndarray) -> dict[str, np.ndarray]:
        """Probabilities (N, 7) and embeddings of 48x48 gray crops (N, 48, 48, 1), pixels 0..255."""
        outputs = self.model.predict_on_batch(np.asarray(faces, dtype=np.float32))
        return {name: np.asarray(value) for name, value in outputs.items()}

    def predict(self, images, channel_order: str = "rgb") -> list[FaceEmotion]:
        """Reads one photo or a batch (paths, arrays, PIL images); one result per photo, in order.

        A photo without a face gives ``found=False``; it is not an error.

        Raises:
            ImageError: a missing path, a directory, a file that is not an image,
                a truncated or oversized image (the message names it).
        """
        images = [images] if _is_single_image(images) else list(images)
        detections = [self.detector(image, channel_order=channel_order) for image in images]
        found = [d for d in detections if d.found]
        scores = self.scores(np.stack([d.face for d in found])) if found else {}
        results, row = [], 0
        for image, detection in zip(images, detections):
            if not detection.found:
                results.append(FaceEmotion(_describe(image), False, None, [], {}, None, None))
                continue
            probabilities = scores[PROBABILITIES_OUTPUT][row]
            results.append(
                FaceEmotion(
                    source=_describe(image),
                    found=True,
                    box=detection.box,
                    boxes=detection.boxes,
                    probabilities={name: float(p) for name, p in zip(FER_LABELS, probabilities)},
                    top_label=FER_LABELS[int(np.argmax(probabilities))],
                    embedding=scores[EMBEDDING_LAYER][row],
                )
            )
            row += 1
        return results
