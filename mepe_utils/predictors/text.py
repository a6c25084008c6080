"""A loaded MEPE text-emotion model of either kind, scoring lists of texts.

Two kinds share one interface: an encoder classifier (KerasHub backbone; its
tokenizer is the ``preprocessor/`` asset beside ``model.keras``) and the compact
model (raw strings in, TF-IDF inside the model).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.text_batches import predict_bucketed, tokenize
from mepe_utils.labels import GOEMOTIONS_LABELS, goemotions_scores_to_ekman
from mepe_utils.models.common import EMBEDDING_LAYER, PROBABILITIES_OUTPUT, with_embedding
from mepe_utils.models.text import EKMAN_OUTPUT
from mepe_utils.runtime import SHIPPED_MODELS_DIR

SHIPPED_TEXT_MODEL = SHIPPED_MODELS_DIR / "text"
PREPROCESSOR_ASSET = "preprocessor"


def load_preprocessor_asset(folder: Path):
    """Rebuilds a KerasHub preprocessor saved with ``save_to_preset`` (config + vocabulary), in safe mode."""
    import keras

    import mepe_utils.models.text  # noqa: F401  (registers MEPE layers)

    config = json.loads((folder / "preprocessor.json").read_text())
    preprocessor = keras.saving.deserialize_keras_object(config, safe_mode=True)
    preprocessor.load_preset_assets(str(folder))
    return preprocessor


class TextEmotionModel:
    """A checked, loaded text model.

    Attributes:
        manifest: the saved model's manifest (labels, thresholds, Ekman view ...).
        thresholds: (28,) dev-tuned per-label thresholds.
        ekman_thresholds: (7,) dev-tuned thresholds of the Ekman view.
    """

    def __init__(self, model, manifest: artifacts.Manifest, preprocessor=None):
        self.model = with_embedding(model)
        self.manifest = manifest
        self.preprocessor = preprocessor
        self.thresholds = np.asarray(manifest.extra["thresholds"], dtype=np.float32)
        self.ekman_thresholds = np.asarray(manifest.extra["ekman_thresholds"], dtype=np.float32)
        self.ekman_source = manifest.extra["ekman_source"]

    @classmethod
    def load(cls, directory: str | Path = SHIPPED_TEXT_MODEL) -> TextEmotionModel:
        """Loads a saved text model (manifest, hashes, labels and safe mode checked)."""
        import mepe_utils.models.text  # noqa: F401  (registers MEPE layers)

        directory = Path(directory)
        model, manifest = artifacts.load_model(directory, kind="text-emotion", labels=GOEMOTIONS_LABELS)
        preprocessor = None
        if manifest.extra.get("input_kind") == "tokens":
            preprocessor = load_preprocessor_asset(directory / PREPROCESSOR_ASSET)
        return cls(model, manifest, preprocessor)

    def scores(self, texts: Sequence[str], batch_size: int = 256) -> dict[str, np.ndarray]:
        """Probabilities (N, 28), Ekman scores (N, 7, the manifest's chosen view) and embeddings."""
        if self.preprocessor is not None:
            outputs = predict_bucketed(self.model, tokenize(self.preprocessor, texts), batch_size=batch_size)
        else:
            inputs = np.array(list(texts), dtype=object)[:, None]
            parts = [self.model.predict_on_batch(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)]
            outputs = {name: np.concatenate([np.asarray(part[name]) for part in parts]) for name in parts[0]}
        probabilities = outputs[PROBABILITIES_OUTPUT]
        ekman = goemotions_scores_to_ekman(probabilities) if self.ekman_source == "derived" else outputs[EKMAN_OUTPUT]
        return {PROBABILITIES_OUTPUT: probabilities, EKMAN_OUTPUT: ekman, EMBEDDING_LAYER: outputs[EMBEDDING_LAYER]}
