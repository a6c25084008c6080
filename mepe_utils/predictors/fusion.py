"""A loaded fusion model with its two encoders: a sentence and/or a photo -> one fused emotion reading.

The fusion model was trained on the readings of two particular encoder files;
loading checks that the text and face models given (by default the shipped
ones) are those files, by sha256, and refuses others. A missing signal (no
text, no photo, or a photo without a face) is part of the answer, not an
error: the gate then takes all of the other signal.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.errors import ImageError, MepeError, ModelFileError, NoSuchFaceError, TextInputError
from mepe_utils.labels import FER_LABELS
from mepe_utils.models.common import PROBABILITIES_OUTPUT, traced_forward
from mepe_utils.models.fusion import FACE_INPUT, GATE_OUTPUT, PERSONA_EMBEDDING, PRESENCE_INPUT, TEXT_INPUT
from mepe_utils.predictors.face import SHIPPED_FACE_MODEL, FaceEmotion, FaceEmotionModel, FaceReading
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotion, TextEmotionModel, text_problem
from mepe_utils.runtime import SHIPPED_MODELS_DIR

SHIPPED_FUSION_MODEL = SHIPPED_MODELS_DIR / "fusion"


@dataclass
class FusedEmotion:
    """The fused reading of a sentence and a photo.

    Attributes:
        probabilities: FER label -> fused probability (7).
        top_label: the most probable label.
        gate_text: the mean gate toward the text (1 = all text, 0 = all face).
        missing: the signals that were absent (``"text"``, ``"face"``).
        persona_embedding: the fused vector phase 5 reads.
        text: the text reading (None without a text).
        face: the face reading, every face in the photo (None without a photo; ``found`` False without a face).
        fused_face: which of ``face.faces`` was fused (0 = the largest); None without a face.
    """

    probabilities: dict[str, float]
    top_label: str
    gate_text: float
    missing: list[str]
    persona_embedding: np.ndarray
    text: TextEmotion | None
    face: FaceEmotion | None
    fused_face: int | None = None


def text_features(reading: TextEmotion) -> np.ndarray:
    """The fusion model's text input: the embedding, then the Ekman view in FER order."""
    return np.concatenate([reading.embedding, [reading.ekman[name] for name in FER_LABELS]]).astype(np.float32)


def face_features(reading: FaceEmotion | FaceReading) -> np.ndarray:
    """The fusion model's face input: the embedding, then the 7 probabilities in FER order."""
    return np.concatenate([reading.embedding, [reading.probabilities[name] for name in FER_LABELS]]).astype(np.float32)


def check_fusion_manifest(
    directory: str | Path, manifest: artifacts.Manifest, encoders: dict[str, artifacts.Manifest]
) -> None:
    """Refuses a fusion model without a gate (the concat baseline) or trained on other encoder files.

    Args:
        directory: the fusion model's folder (for the message).
        manifest: its manifest.
        encoders: ``{"text": manifest, "face": manifest}`` of the encoders it would read.

    Raises:
        ModelFileError: naming the problem and what to do.
    """
    kind = manifest.training.get("config", {}).get("model", {}).get("kind", "gmu")
    if kind != "gmu":
        raise ModelFileError(f"{directory}: a {kind!r} fusion model has no gate; give a GMU fusion model")
    for name, encoder in encoders.items():
        expected = manifest.extra["encoders"][name]["model_sha256"]
        if encoder.model_sha256 != expected:
            raise ModelFileError(
                f"{directory}: trained on the {name} model with sha256 {expected[:12]}..., "
                f"not on {encoder.model_sha256[:12]}...; retrain it (mepe train-fusion) or pass that model"
            )


class FusionModel:
    """A checked fusion model and the two encoders it was trained on.

    One instance serves one caller thread at a time (it reads the photo on a
    thread of its own); use an instance per thread to analyse concurrently.

    Attributes:
        manifest: the fusion model's manifest (``extra.encoders`` names the encoders' hashes).
        text_reader: the text encoder.
        face_reader: the face encoder.
    """

    def __init__(
        self, model, manifest: artifacts.Manifest, text_reader: TextEmotionModel, face_reader: FaceEmotionModel
    ):
        self.model = model
        self.manifest = manifest
        self.text_reader = text_reader
        self.face_reader = face_reader
        self.input_dims = {name: int(model.input[name].shape[-1]) for name in (TEXT_INPUT, FACE_INPUT)}
        self._forward = traced_forward(model)
        self._worker: ThreadPoolExecutor | None = None
        self._worker_pid = 0

    @classmethod
    def load(
        cls,
        directory: str | Path = SHIPPED_FUSION_MODEL,
        text_model: str | Path = SHIPPED_TEXT_MODEL,
        face_model: str | Path = SHIPPED_FACE_MODEL,
    ) -> FusionModel:
        """Loads the fusion model and its encoders; refuses encoders it was not trained on.

        Raises:
            ModelFileError: any of the three fails its checks, or an encoder's sha256
                differs from the one the fusion model was trained on.
        """
        model, manifest = artifacts.load_model(directory, kind=artifacts.FUSION_KIND, labels=FER_LABELS)
        readers = {"text": TextEmotionModel.load(text_model), "face": FaceEmotionModel.load(face_model)}
        check_fusion_manifest(directory, manifest, {name: reader.manifest for name, reader in readers.items()})
        return cls(model, manifest, readers["text"], readers["face"])

    def _face_worker(self) -> ThreadPoolExecutor:
        """The thread that reads the photo while the caller's thread reads the text (both spend their
        time in TensorFlow and OpenCV, which release the GIL); made again in a forked process, where
        the parent's thread does not exist."""
        if self._worker is None or self._worker_pid != os.getpid():
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mepe-face")
            self._worker_pid = os.getpid()
        return self._worker

    def close(self) -> None:
        """Stops the photo-reading thread (a later :meth:`analyze` starts it again)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None

    def analyze(self, text: str | None = None, photo=None, face: int = 0) -> FusedEmotion:
        """Reads a sentence, a photo, or both, and fuses what is there.

        Args:
            text: the person's words (None when there are none).
            photo: a path, array or PIL image (None when there is none).
            face: which face of the photo to fuse, largest first (0 = the largest).

        Raises:
            MepeError: neither a text nor a photo was given, or the photo has no face number ``face``.
            TextInputError, ImageError: a bad text or photo (see the text and face predictors).
        """
        if text is None and photo is None:
            raise MepeError("nothing to read: give a text, a photo or both")
        if text is not None and (problem := text_problem(text)):
            raise TextInputError(f"text: {problem}")
        if isinstance(photo, (list, tuple)) or (isinstance(photo, np.ndarray) and photo.ndim == 4):
            raise ImageError("photo: one photo (a path, a file's bytes, an array or a PIL image), not a batch; "
                             "FaceEmotionModel.predict reads many")  # fmt: skip
        if not isinstance(face, (int, np.integer)) or isinstance(face, bool):
            raise MepeError(f"face: a whole number (0 = the largest), got {face!r}")
        face_job = self._face_worker().submit(self.face_reader.predict, photo) if photo is not None else None
        try:
            text_reading = self.text_reader.predict(text)[0] if text is not None else None
        finally:
            face_reading = face_job.result()[0] if face_job is not None else None
        has_face = face_reading is not None and face_reading.found
        if text_reading is None and not has_face:
            raise MepeError("no face found in the photo and no text given: nothing to read")
        if has_face and not 0 <= face < len(face_reading.faces):
            raise NoSuchFaceError(face, len(face_reading.faces))
        inputs = {
            TEXT_INPUT: text_features(text_reading) if text_reading else np.zeros(self.input_dims[TEXT_INPUT]),
            FACE_INPUT: face_features(face_reading.faces[face]) if has_face else np.zeros(self.input_dims[FACE_INPUT]),
            PRESENCE_INPUT: np.array([text_reading is not None, has_face], dtype=np.float32),
        }
        batch = {name: np.asarray(value, np.float32)[None] for name, value in inputs.items()}
        outputs = self._forward(batch) if self._forward is not None else self.model.predict_on_batch(batch)
        probabilities = np.asarray(outputs[PROBABILITIES_OUTPUT])[0]
        return FusedEmotion(
            probabilities={name: float(p) for name, p in zip(FER_LABELS, probabilities)},
            top_label=FER_LABELS[int(probabilities.argmax())],
            gate_text=float(np.asarray(outputs[GATE_OUTPUT])[0].mean()),
            missing=[name for name, present in (("text", text_reading is not None), ("face", has_face)) if not present],
            persona_embedding=np.asarray(outputs[PERSONA_EMBEDDING])[0],
            text=text_reading,
            face=face_reading,
            fused_face=face if has_face else None,
        )
