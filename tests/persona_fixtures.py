"""Helpers for the persona tests: a tiny saved persona model and hand-made text, face and fused readings."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from mepe_utils import artifacts
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS
from mepe_utils.models.persona import PERSONA_OUTPUTS, PersonaModelConfig, build_persona_model
from mepe_utils.persona.schema import TRAITS
from mepe_utils.persona.traits import PERSONA_KIND, TRAIT_RULES_VERSION
from mepe_utils.persona.writing_style import WRITING_STYLE_FEATURES
from mepe_utils.predictors.text import TextEmotion

SENTENCE, EMBEDDING = 4, 3
READING_DIM = SENTENCE + EMBEDDING + len(GOEMOTIONS_LABELS)
TEXT_SHA = "1" * 64
LEVELS = {
    "thresholds": {name: [0.4, 0.6] for name in TRAITS},
    "reference_medians": {"valence": 2.6, "arousal": 3.0, "dominance": 3.4, "formality": 0.0},
    "rules_version": TRAIT_RULES_VERSION,
}


def save_tiny_persona(directory: Path, levels: dict | None = None, seed: int = 0) -> Path:
    """An untrained persona model (2 members, 4 wide) over a 35-wide reading, saved with thresholds."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_persona_model(READING_DIM, len(WRITING_STYLE_FEATURES), PersonaModelConfig(hidden=4, members=2))
    manifest = artifacts.Manifest(
        kind=PERSONA_KIND,
        labels=list(PERSONA_OUTPUTS),
        input={},
        extra={"levels": LEVELS if levels is None else levels, "text_model": {"model_sha256": TEXT_SHA}},
    )
    return artifacts.save_model(model, directory, manifest)


def text_reading(text: str = "I feel fine.", ekman: dict | None = None, seed: int = 0) -> TextEmotion:
    rng = np.random.default_rng(seed)
    ekman = ekman or {name: 0.1 for name in FER_LABELS} | {"neutral": 0.8}
    return TextEmotion(
        text=text,
        probabilities={name: float(p) for name, p in zip(GOEMOTIONS_LABELS, rng.uniform(0, 1, len(GOEMOTIONS_LABELS)))},
        emotions=[],
        top_label="neutral",
        ekman={name: float(ekman[name]) for name in FER_LABELS},
        embedding=rng.normal(size=EMBEDDING).astype(np.float32),
        sentence_vector=rng.normal(size=SENTENCE).astype(np.float32),
        tokens=5,
        truncated=False,
        coverage=1.0,
        warning=None,
    )


def face_reading(*faces: dict, found: bool = True):
    """A stand-in for a face reading (every face's FER probabilities, largest first): what the persona reads of it."""
    faces = (faces or ({name: 1 / 7 for name in FER_LABELS},)) if found else ()
    readings = [SimpleNamespace(probabilities=probabilities) for probabilities in faces]
    return SimpleNamespace(
        found=bool(readings), faces=readings, probabilities=readings[0].probabilities if readings else {}
    )


def fused_reading(text: TextEmotion | None, face, gate_text: float, fused_face: int | None = None):
    """A stand-in for a fused reading: a uniform fused distribution, the gate, the signals and the fused face."""
    missing = [name for name, absent in (("text", text is None), ("face", face is None or not face.found)) if absent]
    return SimpleNamespace(
        probabilities={name: 1 / 7 for name in FER_LABELS}, top_label="angry", gate_text=gate_text, missing=missing,
        persona_embedding=np.zeros(4, np.float32), text=text, face=face,
        fused_face=(fused_face or 0) if face is not None and face.found else None,
    )  # fmt: skip


POSITIVE = ["i love this so much !", "thanks a lot", "i love it", "this is so much love"]
NEGATIVE = ["this is awful and sad", "i am scared", "awful , sad and scared", "what ? this is awful"]


def write_persona_data(root: Path) -> Path:
    """Tiny EmoBank, formality, ESConv and Dreaddit folders whose texts the tiny text encoder knows."""
    import json

    rows, number = ["id,split,V,A,D,text"], 0
    for split, repeats in (("train", 4), ("dev", 2), ("test", 2)):
        for copy in range(repeats):
            for index, text in enumerate(POSITIVE + NEGATIVE):
                positive = index < len(POSITIVE)
                v = (3.8 if positive else 2.2) + 0.05 * copy
                a, d = 3.0 + 0.1 * (index % 3), 2.5 + 0.2 * positive
                rows.append(f'{split}{number},{split},{v:.2f},{a:.2f},{d:.2f},"{text} {copy}"')
                number += 1
    (root / "emobank").mkdir(parents=True)
    (root / "emobank" / "emobank.csv").write_text("\n".join(rows) + "\n")
    (root / "formality").mkdir()
    for genre in ("answers", "blog", "email", "news"):
        lines = []
        for i in range(40):
            text = (POSITIVE + NEGATIVE)[i % 8]
            formal = genre in ("email", "news")
            score = (1.5 if formal else -1.5) + 0.1 * (i % 5)
            sentence = text.capitalize() + " ." if formal else text
            lines.append(f"{score:.1f}\t0,1\tid{i}.{genre}\t{sentence}")
        (root / "formality" / genre).write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    (root / "esconv").mkdir()
    dialog = [{"speaker": "usr", "text": text} for text in POSITIVE + NEGATIVE]
    record = {"emotion_type": "anxiety", "problem_type": "job crisis", "situation": "job", "dialog": dialog}
    (root / "esconv" / "train.json").write_text(json.dumps(record) + "\n")
    (root / "dreaddit").mkdir()
    header = "subreddit,post_id,sentence_range,text,id,label,confidence\n"
    for split, repeats in (("train", 3), ("test", 2)):
        lines = [
            f'r,p,x,"{text} {copy}",{split}{copy}{i},{int(i >= len(POSITIVE))},1.0'
            for copy in range(repeats)
            for i, text in enumerate(POSITIVE + NEGATIVE)
        ]
        (root / "dreaddit" / f"{split}.csv").write_text(header + "\n".join(lines) + "\n")
    return root
