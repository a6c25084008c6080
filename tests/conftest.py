"""Shared fixtures: tiny data files written by the tests, and the real data when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mepe_utils.labels import FER_LABELS  # noqa: E402
from mepe_utils.models.text import SPECIAL_TOKENS  # noqa: E402
from mepe_utils.runtime import resolve_data_dir  # noqa: E402


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real data folder; skips (or fails under ``MEPE_REQUIRE_DATA=1``, as in CI) when absent."""
    folder = resolve_data_dir(required=False)
    if folder is None or not (folder / "fer2013").is_dir():
        message = "real data not found: set MEPE_DATA_DIR to the folder holding fer2013/ and goemotions/"
        if os.environ.get("MEPE_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return folder


def fresh_venv_with_dependencies(folder: Path) -> tuple[Path, Path]:
    """A new virtual environment without MEPE that sees this environment's libraries through a ``.pth`` file
    (so nothing is downloaded). Returns ``(its python, its site-packages)``."""
    import subprocess
    import sys
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    (Path(site) / "mepe_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, Path(site)


def write_fer_folder(root: Path, per_class: int = 3, prefixed: bool = True, seed: int = 0) -> Path:
    """Writes a Kaggle-layout FER folder with ``per_class`` random faces per class and split."""
    import cv2

    rng = np.random.default_rng(seed)
    for split, usages in (("train", ["Training"]), ("test", ["PublicTest", "PrivateTest"])):
        for name in FER_LABELS:
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for usage in usages:
                for index in range(per_class):
                    face = rng.integers(0, 256, (48, 48), dtype=np.uint8)
                    stem = f"{usage}_{name}{index}" if prefixed else f"{name}{index}_{usage}"
                    cv2.imwrite(str(folder / f"{stem}.jpg"), face)
    return root


def write_fer_csv(path: Path, rows: list[tuple[str, str, str]] | None = None, seed: int = 0) -> Path:
    """Writes a ``fer2013.csv``; by default two valid rows per usage."""
    if rows is None:
        rng = np.random.default_rng(seed)
        rows = []
        for label, usage in [(0, "Training"), (3, "Training"), (6, "PublicTest"), (1, "PrivateTest")]:
            pixels = " ".join(str(v) for v in rng.integers(0, 256, 48 * 48))
            rows.append((str(label), pixels, usage))
    path.write_text("emotion,pixels,Usage\n" + "".join(f"{e},{p},{u}\n" for e, p, u in rows))
    return path


def write_goemotions_folder(root: Path) -> Path:
    """Writes tiny official-format GoEmotions TSVs and label files."""
    from mepe_utils.labels import EKMAN_MAPPING, GOEMOTIONS_LABELS

    root.mkdir(parents=True, exist_ok=True)
    rows = {
        "train": ["I love this so much!\t18\tc1", "This is awful and sad\t25,9\tc2", "ok\t27\tc3"],
        "dev": ["Thanks a lot\t15\tc4", "What?\t26,6\tc5"],
        "test": ["I am scared\t14\tc6", "Meh\t27\tc7"],
    }
    for split, lines in rows.items():
        (root / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    (root / "emotions.txt").write_text("\n".join(GOEMOTIONS_LABELS) + "\n")
    import json

    (root / "ekman_mapping.json").write_text(json.dumps({k: list(v) for k, v in EKMAN_MAPPING.items()}))
    return root


@pytest.fixture(scope="session")
def tiny_face_model_dir(tmp_path_factory) -> Path:
    """An (untrained) tiny face CNN in the MEPE saved-model format."""
    from mepe_utils import artifacts
    from mepe_utils.models.face import FaceModelConfig, build_face_model

    directory = tmp_path_factory.mktemp("models") / "face"
    manifest = artifacts.Manifest(kind="face-emotion", labels=list(FER_LABELS), input={"shape": [48, 48, 1]})
    return artifacts.save_model(build_face_model(FaceModelConfig.tiny()), directory, manifest)


TINY_WORDS = ["i", "love", "this", "so", "much", "!", "is", "awful", "and", "sad", "ok", "thanks", "a", "lot"]
TINY_WORDS = [*TINY_WORDS, "what", "?"]
TINY_VOCABULARY = [*SPECIAL_TOKENS, *TINY_WORDS, "am", "scared", "meh", "the", "it"]


def tiny_text_encoder(sequence_length: int = 16):
    """A 1-layer, 8-wide DistilBERT and its preprocessor, built from :data:`TINY_VOCABULARY`."""
    import keras_hub

    backbone = keras_hub.models.DistilBertBackbone(
        vocabulary_size=len(TINY_VOCABULARY), num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
        max_sequence_length=32,
    )  # fmt: skip
    tokenizer = keras_hub.models.DistilBertTokenizer(vocabulary=TINY_VOCABULARY, lowercase=True)
    preprocessor = keras_hub.models.DistilBertTextClassifierPreprocessor(tokenizer, sequence_length=sequence_length)
    return backbone, preprocessor


def tiny_text_head():
    """Head settings for the tiny encoder: a 16-token window and an 8-wide embedding."""
    from mepe_utils.models.text import TextModelConfig

    return TextModelConfig(preset="tiny", sequence_length=16, embedding_dim=8)


@pytest.fixture(scope="session")
def tiny_text_model_dir(tmp_path_factory) -> Path:
    """The tiny encoder fine-tuned for one epoch on the tiny GoEmotions folder by ``train_text``.

    The saved model is ``<run>/model``; the run folder (reports, history) is its parent.
    """
    from mepe_utils.training.text import TextTrainConfig, train_text

    root = tmp_path_factory.mktemp("text_models")
    backbone, preprocessor = tiny_text_encoder()
    config = TextTrainConfig(model=tiny_text_head(), epochs=1, batch_size=2, warmup_fraction=0.0, jit_compile=False)
    return train_text(
        write_goemotions_folder(root / "goemotions"), root / "run", config, backbone=backbone, preprocessor=preprocessor
    )


def write_goemotions_every_class(root: Path) -> Path:
    """A GoEmotions folder whose splits hold a single-class text of every Ekman class."""
    from mepe_utils.labels import GOEMOTIONS_LABELS

    write_goemotions_folder(root)
    ids = {
        name: GOEMOTIONS_LABELS.index(name)
        for name in ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
    }
    for split in ("train", "dev", "test"):
        lines = [f"text {name} {i}\t{label}\t{split}{name}{i}" for name, label in ids.items() for i in range(2)]
        (root / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="session")
def tiny_fusion(tiny_text_model_dir, tiny_face_model_dir, tmp_path_factory):
    """A 2-epoch fusion run over the tiny encoders; the saved model (its run folder is the parent)."""
    from mepe_utils.models.fusion import FusionConfig
    from mepe_utils.training.fusion import FusionSources, FusionTrainConfig, train_fusion

    root = tmp_path_factory.mktemp("fusion")
    sources = FusionSources(
        text_model=tiny_text_model_dir,
        face_model=tiny_face_model_dir,
        goemotions=write_goemotions_every_class(root / "goemotions"),
        fer2013=write_fer_folder(root / "fer", per_class=3),
        cache_dir=root / "tables",
    )
    return train_fusion(sources, root / "run", FusionTrainConfig(model=FusionConfig(units=4), epochs=2, batch_size=8))


def build_tiny_persona(text_model_dir: Path, out: Path) -> Path:
    """An (untrained) tiny persona model over a text model's readings, with made-up level thresholds."""
    import keras

    from mepe_utils import artifacts
    from mepe_utils.labels import GOEMOTIONS_LABELS
    from mepe_utils.models.persona import PERSONA_OUTPUTS, PersonaModelConfig, build_persona_model
    from mepe_utils.persona.schema import TRAITS
    from mepe_utils.persona.traits import PERSONA_KIND, TRAIT_RULES_VERSION
    from mepe_utils.persona.writing_style import WRITING_STYLE_FEATURES
    from mepe_utils.predictors.text import TextEmotionModel

    text_model = TextEmotionModel.load(text_model_dir)
    reading = text_model.predict("i love this")[0]
    width = len(reading.sentence_vector) + len(reading.embedding) + len(GOEMOTIONS_LABELS)
    keras.utils.set_random_seed(0)
    model = build_persona_model(width, len(WRITING_STYLE_FEATURES), PersonaModelConfig(hidden=4, members=2))
    levels = {
        "thresholds": {name: [0.4, 0.6] for name in TRAITS},
        "reference_medians": {"valence": 2.6, "arousal": 3.0, "dominance": 3.4, "formality": 0.0},
        "rules_version": TRAIT_RULES_VERSION,
    }
    manifest = artifacts.Manifest(
        kind=PERSONA_KIND,
        labels=list(PERSONA_OUTPUTS),
        input={},
        extra={"levels": levels, "text_model": {"model_sha256": text_model.manifest.model_sha256}},
    )
    return artifacts.save_model(model, out, manifest)


@pytest.fixture(scope="session")
def tiny_persona(tiny_text_model_dir, tmp_path_factory) -> Path:
    """An (untrained) tiny persona model over the tiny text model's readings (:func:`build_tiny_persona`)."""
    return build_tiny_persona(tiny_text_model_dir, tmp_path_factory.mktemp("models") / "persona")


SUPPORTER_LINES = {
    "Question": "How long have you been feeling this way?",
    "Restatement or Paraphrasing": "So you are saying work has become too much for you.",
    "Reflection of feelings": "It sounds like you feel really alone and tired.",
    "Self-disclosure": "I went through something similar last year and it was hard.",
    "Affirmation and Reassurance": "You are doing your best and that is enough.",
    "Providing Suggestions": "Maybe you could take a short walk and call a friend tonight.",
    "Information": "Many people find that sleep and exercise help with stress.",
    "Others": "Hello, how are you today?",
}
SEEKER_LINES = (
    "i feel so stressed about my job",
    "My partner left me and I cannot stop crying.",
    "i am worried about my exams next week",
    "I lost my job and I do not know what to do.",
)


def write_esconv_folder(root: Path, conversations: int = 6) -> Path:
    """A tiny ESConv folder: every split holds conversations using all 8 strategies, in ESConv's JSON-lines format."""
    import json

    root.mkdir(parents=True, exist_ok=True)
    strategies = list(SUPPORTER_LINES)
    for split in ("train", "valid", "test"):
        with (root / f"{split}.json").open("w") as handle:
            for number in range(conversations):
                dialog = [{"text": "Hi there, how can I help?", "speaker": "sys", "strategy": "Others"}]
                for turn in range(8):
                    dialog.append({"text": SEEKER_LINES[(number + turn) % 4], "speaker": "usr"})
                    strategy = strategies[(number + turn) % 8]
                    dialog.append({"text": SUPPORTER_LINES[strategy], "speaker": "sys", "strategy": strategy})
                record = {
                    "emotion_type": "anxiety",
                    "problem_type": "job crisis",
                    "situation": "work",
                    "dialog": dialog,
                }
                handle.write(json.dumps(record) + "\n")
    return root


def tiny_generator_config():
    """A one-layer T5 of width 16 over a 200-piece tokenizer: trains in seconds."""
    from mepe_utils.models.generator import GeneratorModelConfig
    from mepe_utils.training.generator import GeneratorTrainConfig

    model = GeneratorModelConfig(
        vocabulary_size=200, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, key_value_dim=8,
        encoder_sequence_length=64, decoder_sequence_length=16,
    )  # fmt: skip
    return GeneratorTrainConfig(model=model, epochs=1, batch_size=8, patience=1)


@pytest.fixture(scope="session")
def tiny_generator(tiny_text_model_dir, tiny_persona, tmp_path_factory) -> Path:
    """A tiny T5 generator trained for one epoch on the tiny ESConv folder by ``train_generator``."""
    from mepe_utils.training.generator import GeneratorSources, train_generator

    root = tmp_path_factory.mktemp("generator")
    sources = GeneratorSources(write_esconv_folder(root / "esconv"), tiny_text_model_dir, tiny_persona, root / "cache")
    return train_generator(sources, root / "run", tiny_generator_config())
