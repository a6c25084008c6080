"""A weight average of two fine-tuned text readers (a "model soup"): ``python -m mepe_utils average-text-models``.

Two readers fine-tuned from one checkpoint, such as the GoEmotions reader and its
continuation on first-person texts (``train-text --init-model ... --first-person-repeats``),
lie close together in weight space, and the average of their weights reads like both
(Wortsman et al. 2022, "Model soups"). The continuation reads people's own accounts of
their feelings better but loses GoEmotions F1; an average can keep much of the first
gain for little of the loss, at no cost at inference.

The second model's share is chosen on validation data only. Every share of
:attr:`TextSoupConfig.shares` is scored on GoEmotions dev (28-label and Ekman
macro-F1, thresholds tuned on dev) and on the ESConv valid situations (top-Ekman
accuracy). The winner is the share with the best first-person accuracy among those
whose two dev F1s stay within ``dev_tolerance`` of the first model's (share 0). The
test numbers of every share (GoEmotions test, ESConv test situations) are reported in
``evaluation.json`` and never used to choose.

Example::

    python -m mepe_utils average-text-models --models runs/goemotions/model runs/first_person/model \\
        --data-dir ../shared/data/goemotions --esconv-dir ../shared/data/esconv --out runs/soup
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.goemotions import TextEmotionData
from mepe_utils.data.text_batches import tokenize
from mepe_utils.data.text_normalize import emoji_settings, normalize_texts
from mepe_utils.data.word_coverage import WORDS_ASSET, read_vocabulary, write_vocabulary
from mepe_utils.errors import ModelFileError
from mepe_utils.labels import GOEMOTIONS_LABELS
from mepe_utils.models.common import EMBEDDING_LAYER, embedding_signature
from mepe_utils.models.text import PREPROCESSOR_ASSET
from mepe_utils.predictors.text import load_preprocessor_asset
from mepe_utils.runtime import hardware_description, is_smoke
from mepe_utils.training.text import (
    TEXT_KIND,
    evaluate_text_model,
    load_first_person_for_run,
    load_goemotions_for_run,
    tuned_reading,
    write_text_reports,
)

SELECTION_METRICS = ("dev_macro_f1_28_tuned", "dev_macro_f1_ekman_tuned")
"""The dev numbers a share must keep (within the tolerance) to be eligible."""
FIRST_PERSON_METRIC = "first_person_valid_ekman_accuracy"
"""The validation number the eligible shares are ranked by."""
REPORTED_METRICS = (
    *SELECTION_METRICS,
    FIRST_PERSON_METRIC,
    "test_macro_f1_28_tuned",
    "test_macro_f1_ekman_tuned",
    "first_person_test_ekman_accuracy",
)


@dataclass(frozen=True)
class TextSoupConfig:
    """How the second model's share is searched.

    Attributes:
        shares: the second model's weight shares to score; 0.0 (the first model alone) must be one.
        dev_tolerance: how far below the first model's dev macro-F1s (28-label and Ekman) a share may fall.
        smoke_rows: texts per split under ``MEPE_SMOKE=1``.
    """

    shares: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    dev_tolerance: float = 0.005
    smoke_rows: int = 64

    def __post_init__(self):
        if 0.0 not in self.shares or not all(0.0 <= share <= 1.0 for share in self.shares):
            raise ValueError(f"shares must lie in [0, 1] and include 0.0 (the first model), got {self.shares}")


def average_weights(first: list[np.ndarray], second: list[np.ndarray], share: float) -> list[np.ndarray]:
    """``(1 - share) * first + share * second``, weight array by weight array (in the first's dtypes)."""
    return [((1.0 - share) * a + share * b).astype(a.dtype) for a, b in zip(first, second, strict=True)]


def sweep_row(share: float, metrics: dict) -> dict:
    """One share's numbers: :data:`REPORTED_METRICS` from an evaluation's metrics.

    The dev Ekman macro-F1 is that of the view the evaluation keeps (the better of head and derived).
    """
    dev_ekman = max(metrics["dev_macro_f1_ekman_head_tuned"], metrics["dev_macro_f1_ekman_derived_tuned"])
    metrics = {**metrics, "dev_macro_f1_ekman_tuned": dev_ekman}
    return {"share": share, **{name: metrics[name] for name in REPORTED_METRICS}}


def choose_share(sweep: list[dict], tolerance: float) -> dict:
    """The sweep row with the best first-person validation accuracy among the eligible ones.

    Eligible: both dev macro-F1s at most ``tolerance`` below the share-0 row's. Ties go to the smaller share.
    """
    base = next(row for row in sweep if row["share"] == 0.0)
    eligible = [row for row in sweep if all(row[name] >= base[name] - tolerance for name in SELECTION_METRICS)]
    return max(eligible, key=lambda row: (row[FIRST_PERSON_METRIC], -row["share"]))


def _check_averageable(paths: tuple[Path, Path], manifests, weights) -> None:
    """Refuses two models that do not share one architecture and one way of reading text."""
    first, second = manifests
    readings = [{"preset": manifest.extra.get("preset"), **emoji_settings(manifest.extra)} for manifest in manifests]
    for key, value in readings[0].items():
        if readings[1][key] != value:
            raise ModelFileError(
                f"{paths[1]}: {key} {readings[1][key]!r} differs from {paths[0]}'s {value!r}; "
                "only models fine-tuned from one checkpoint can be averaged"
            )
    shapes = [[w.shape for w in model_weights] for model_weights in weights]
    if shapes[0] != shapes[1] or first.input.get("window_tokens") != second.input.get("window_tokens"):
        raise ModelFileError(f"{paths[1]}: its weights' shapes differ from {paths[0]}'s; they cannot be averaged")


def _scored_splits(data_source, first_person_source, smoke_rows: int) -> dict[str, TextEmotionData]:
    goemotions = load_goemotions_for_run(data_source, smoke_rows)
    return {
        "dev": goemotions["dev"],
        "test": goemotions["test"],
        **load_first_person_for_run(first_person_source, smoke_rows),
    }


def average_text_models(
    models: tuple[str | Path, str | Path],
    data_source: str | Path,
    first_person_source: str | Path,
    out: str | Path,
    config: TextSoupConfig | None = None,
    *,
    command: str = "",
) -> Path:
    """Averages two saved text models at the share chosen on validation data; saves and reports the result.

    Args:
        models: the first model (share 0) and the second; saved MEPE text models from one checkpoint.
        data_source: a folder of official GoEmotions TSVs, or ``"hub"``.
        first_person_source: the ESConv folder (its valid and test situations are scored).
        out: the run folder: ``evaluation.json`` (with the whole sweep), report figures, ``model/``.
        config: the shares searched and the dev tolerance.
        command: the command line, recorded in the manifest.

    Returns:
        The saved-model directory ``out/model``.

    Raises:
        ModelFileError: a model is missing, not a text model, or cannot be averaged with the other.
    """
    config = config or TextSoupConfig()
    paths = (Path(models[0]), Path(models[1]))
    loaded = [artifacts.load_model(path, kind=TEXT_KIND, labels=GOEMOTIONS_LABELS) for path in paths]
    (model, first_manifest), (second_model, second_manifest) = loaded
    weights = (model.get_weights(), second_model.get_weights())
    _check_averageable(paths, (first_manifest, second_manifest), weights)
    del second_model

    data = _scored_splits(data_source, first_person_source, config.smoke_rows)
    preprocessor = load_preprocessor_asset(paths[0] / PREPROCESSOR_ASSET)
    emoji = emoji_settings(first_manifest.extra)
    features = {name: tokenize(preprocessor, normalize_texts(split.texts, **emoji)) for name, split in data.items()}

    sweep, results = [], {}
    for share in sorted(config.shares):
        model.set_weights(average_weights(*weights, share))
        results[share] = evaluate_text_model(model, features, data)
        sweep.append(sweep_row(share, results[share]["metrics"]))
    chosen = choose_share(sweep, config.dev_tolerance)
    model.set_weights(average_weights(*weights, chosen["share"]))
    result = results[chosen["share"]]
    result["soup"] = {"sweep": sweep, "chosen_share": chosen["share"], "dev_tolerance": config.dev_tolerance}

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_reports(result, out)
    shares = (1 - chosen["share"], chosen["share"])
    sources = [
        {"model": str(path), "sha256": source.model_sha256, "share": share, "training": source.training}
        for path, source, share in zip(paths, (first_manifest, second_manifest), shares)
    ]
    manifest = artifacts.Manifest(
        kind=TEXT_KIND,
        labels=list(GOEMOTIONS_LABELS),
        input=first_manifest.input,
        preprocessing={
            **first_manifest.preprocessing,
            "coverage": "share of a text's words in either averaged model's fine-tuning words",
        },
        metrics=result["metrics"],
        data={
            "dataset": "GoEmotions (simplified)",
            "source": str(data_source),
            "selection": f"dev ({len(data['dev'])} texts): thresholds, Ekman view, the share",
            "test": f"test ({len(data['test'])} texts): reported",
            "smoke": is_smoke(),
            "first_person": {
                "dataset": "ESConv seekers' situations (CC BY-NC 4.0: research, non-commercial)",
                "source": str(first_person_source),
                "selection": f"valid ({len(data['first_person_valid'])} situations): the share",
                "test": f"test ({len(data['first_person_test'])} situations): reported",
            },
            "averaged_models_trained_on": [first_manifest.data, second_manifest.data],
        },
        training={
            "method": "weight average of two fine-tuned models (model soup)",
            "averaged": sources,
            "selection": f"best {FIRST_PERSON_METRIC} among shares within {config.dev_tolerance} of share 0's "
            f"{' and '.join(SELECTION_METRICS)}",
            "sweep": sweep,
            "config": asdict(config),
            "hardware": hardware_description(),
            "smoke": is_smoke(),
            "command": command,
        },
        extra={**first_manifest.extra, **tuned_reading(result)},
    )
    manifest.embedding = embedding_signature(model, EMBEDDING_LAYER)
    words = read_vocabulary(paths[0] / WORDS_ASSET) | read_vocabulary(paths[1] / WORDS_ASSET)
    assets = {
        PREPROCESSOR_ASSET: preprocessor.save_to_preset,
        WORDS_ASSET: lambda path: write_vocabulary(sorted(words), path),
    }
    return artifacts.save_model(model, out / "model", manifest, assets=assets)
