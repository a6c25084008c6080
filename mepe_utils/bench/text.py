"""``python -m mepe_utils bench-text``: text-emotion models side by side on GoEmotions test.

In one run, on the same splits and with the same protocol (per-label thresholds
tuned on dev, the better Ekman view chosen on dev, numbers on test): the shipped
model (``shipped``), any saved MEPE text model given, and a TF-IDF (word 1-2
grams, sublinear tf) + one-vs-rest logistic-regression baseline trained inside
the run (``tfidf_lr``). Every contender also answers the first-person check set
(:mod:`mepe_utils.data.check_set`): top-Ekman accuracy on its scored sentences;
and, given the ESConv folder, the seekers' own descriptions of their situation in
ESConv test (:mod:`mepe_utils.data.first_person`): top-Ekman accuracy against the
emotion each seeker reported (``first_person_test_accuracy``).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils.bench.timing import BENCH_TEXT, format_table, latency_ms
from mepe_utils.data.check_set import CHECK_SET, load_check_set, score_check_set
from mepe_utils.data.first_person import esconv_situations
from mepe_utils.data.goemotions import TextEmotionData, load_goemotions
from mepe_utils.data.word_coverage import LOW_COVERAGE
from mepe_utils.demo import DEFAULT_TEXT
from mepe_utils.evaluation import evaluate_text_scores, multilabel_metrics, top_class_accuracy
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS
from mepe_utils.models.common import EKMAN_OUTPUT, PROBABILITIES_OUTPUT
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel
from mepe_utils.runtime import machine_record

COLUMNS = [
    "test_macro_f1_28_tuned",
    "test_micro_f1_28_tuned",
    "test_macro_f1_ekman_tuned",
    "check_set_accuracy",
    "latency_ms_p50",
    "params",
    "file_mb",
]


@dataclass
class TfidfLogisticBaseline:
    """TF-IDF (word 1-2 grams, sublinear tf) + one-vs-rest logistic regression, for 28 labels and Ekman."""

    vectorizer: object
    labels_28: object
    labels_ekman: object

    @classmethod
    def fit(cls, train: TextEmotionData, c: float = 4.0) -> TfidfLogisticBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        features = vectorizer.fit_transform(train.texts)

        def one_vs_rest(targets):
            return OneVsRestClassifier(LogisticRegression(C=c, max_iter=1000, solver="liblinear")).fit(
                features, targets
            )

        return cls(vectorizer, one_vs_rest(train.labels), one_vs_rest(train.ekman))

    def scores(self, texts) -> dict[str, np.ndarray]:
        features = self.vectorizer.transform(list(texts))
        return {
            PROBABILITIES_OUTPUT: self.labels_28.predict_proba(features),
            EKMAN_OUTPUT: self.labels_ekman.predict_proba(features),
        }

    def params(self) -> int:
        """Weights and biases of every per-label regression (a label absent from train has a constant instead)."""
        estimators = [e for model in (self.labels_28, self.labels_ekman) for e in model.estimators_]
        return int(sum(np.size(getattr(e, "coef_", 0)) + np.size(getattr(e, "intercept_", 0)) for e in estimators))

    def file_mb(self) -> float:
        return round(len(pickle.dumps(self)) / 1e6, 3)


def _file_mb(directory: Path) -> float:
    return round(sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6, 3)


def contender_name(directory: str | Path) -> str:
    """A saved model's name in the results: its folder, or the run folder for ``<run>/model``."""
    directory = Path(directory).resolve()
    return directory.parent.name if directory.name == "model" else directory.name


def emoji_effect(model: TextEmotionModel, data: dict[str, TextEmotionData], evaluation: dict) -> dict | None:
    """Does turning emoji into words help? The same model on the test texts that hold emoji, read its
    own way (``with_words``), as typed, and, for a model that reads feeling words, by the emoji's names.

    Thresholds are the model's dev-tuned ones (``evaluation``); returns None for a
    model trained without the mapping (there is no "with" to compare) or a test
    split without emoji.
    """
    import copy

    import emoji

    if not model.emoji["emoji_words"]:
        return None
    test = data["test"]
    rows = [i for i, text in enumerate(test.texts) if emoji.emoji_count(text)]
    if not rows:
        return None
    subset = test.subset(rows)
    readings = {"with_words": model.emoji, "as_typed": {"emoji_words": False, "emoji_feelings": False}}
    if model.emoji["emoji_feelings"]:
        readings["by_name"] = {"emoji_words": True, "emoji_feelings": False}
    result = {"texts": len(rows)}
    for name, settings in readings.items():
        reader = copy.copy(model)
        reader.emoji = settings
        scores = reader.scores(subset.texts)
        labels = multilabel_metrics(
            subset.labels, scores[PROBABILITIES_OUTPUT], evaluation["thresholds"], GOEMOTIONS_LABELS
        )
        ekman = multilabel_metrics(subset.ekman, scores[EKMAN_OUTPUT], evaluation["ekman_thresholds"], FER_LABELS)
        result[f"micro_f1_28_{name}"] = labels["micro_f1"]
        result[f"macro_f1_ekman_{name}"] = ekman["macro_f1"]
    return result


def weakest_labels(evaluation: dict, count: int = 5) -> list[dict]:
    """The ``count`` labels with the lowest test F1 (dev-tuned thresholds), with their test support."""
    per_label = evaluation["reports"]["test_28_tuned"]["per_label"]
    ranked = sorted(per_label.items(), key=lambda item: item[1]["f1"])[:count]
    return [{"label": name, "f1": values["f1"], "support": values["support"]} for name, values in ranked]


def demo_reading(model: TextEmotionModel) -> dict:
    """How the model reads the mission's demo sentence: top Ekman class and the labels above threshold."""
    reading = model.predict(DEFAULT_TEXT)[0]
    return {
        "text": DEFAULT_TEXT,
        "top_ekman": max(reading.ekman, key=reading.ekman.get),
        "emotions": reading.emotions,
        "top_labels": dict(sorted(reading.probabilities.items(), key=lambda item: -item[1])[:3]),
    }


def _weights(manifest) -> str:
    """How a saved model holds its weights: ``float32``, ``float16 storage`` or ``int8, Keras quantize``."""
    quantize = manifest.extra.get("exported_from", {}).get("quantize")
    if quantize:
        return f"{quantize}, Keras quantize"
    return "float16 storage" if manifest.weights_storage == "float16" else "float32"


def trained_sha256(manifest) -> str:
    """The sha256 of the model as trained: an exported copy names its source, a trained model itself."""
    return manifest.extra.get("exported_from", {}).get("model_sha256") or manifest.model_sha256


def _top_classes(ekman_scores: np.ndarray) -> list[str]:
    return [FER_LABELS[i] for i in np.asarray(ekman_scores).argmax(axis=1)]


def run_text_benchmark(
    data_source: str | Path,
    *,
    shipped_dir: str | Path = SHIPPED_TEXT_MODEL,
    model_dirs: list[str | Path] = (),
    check_set: str | Path = CHECK_SET,
    first_person_source: str | Path | None = None,
    calls: int = 300,
) -> dict:
    """Runs the benchmark; returns ``{model name: {...}, "setup": {...}}``.

    Args:
        data_source: a folder of GoEmotions TSVs, or ``"hub"``.
        shipped_dir: the model reported as ``shipped`` (the default text model).
        model_dirs: more saved MEPE text models, named by :func:`contender_name`.
        check_set: the first-person check set CSV.
        first_person_source: the ESConv folder, or None to leave ``first_person_test_accuracy`` out.
        calls: timed single-text calls for the latency p50.
    """
    data = load_goemotions(data_source)
    first_person = esconv_situations(first_person_source, "test") if first_person_source else None

    def first_person_accuracy(scores) -> dict:
        if first_person is None:
            return {}
        ekman = scores(first_person.texts)[EKMAN_OUTPUT]
        return {"first_person_test_accuracy": top_class_accuracy(first_person.ekman, ekman)}

    items = load_check_set(check_set)
    check_texts = [item.text for item in items]
    results = {}
    contenders = {"shipped": Path(shipped_dir), **{contender_name(d): Path(d) for d in model_dirs}}
    for name, directory in contenders.items():
        model = TextEmotionModel.load(directory)
        scores = {split: model.head_outputs(data[split].texts) for split in ("dev", "test")}  # both Ekman views
        evaluation = evaluate_text_scores(scores, data, ekman_source=model.ekman_source)
        check = score_check_set(
            items,
            _top_classes(model.scores(check_texts)[EKMAN_OUTPUT]),
            list(model.coverage(check_texts) < LOW_COVERAGE),
        )
        results[name] = {
            **evaluation["metrics"],
            "check_set_accuracy": check.pop("accuracy"),
            "check_set": check,
            **first_person_accuracy(model.scores),
            "test_low_coverage_share": float(np.mean(model.coverage(data["test"].texts) < LOW_COVERAGE)),
            "latency_ms_p50": latency_ms(lambda m=model: m.scores([BENCH_TEXT]), calls=calls)["p50"],
            "params": int(model.model.count_params()),
            "file_mb": _file_mb(directory),
            "weights": _weights(model.manifest),
            "trained_sha256": trained_sha256(model.manifest),
            "emoji_texts_in_test": emoji_effect(model, data, evaluation),
            "demo_sentence": demo_reading(model),
            "weakest_labels": weakest_labels(evaluation),
        }
    baseline = TfidfLogisticBaseline.fit(data["train"])
    scores = {split: baseline.scores(data[split].texts) for split in ("dev", "test")}
    check = score_check_set(items, _top_classes(baseline.scores(check_texts)[EKMAN_OUTPUT]), [False] * len(items))
    results["tfidf_lr"] = {
        **evaluate_text_scores(scores, data)["metrics"],
        "check_set_accuracy": check["accuracy"],
        **first_person_accuracy(baseline.scores),
        "latency_ms_p50": latency_ms(lambda: baseline.scores([BENCH_TEXT]), calls=calls)["p50"],
        "params": baseline.params(),
        "file_mb": baseline.file_mb(),
    }
    results["setup"] = {
        "data": str(data_source),
        "protocol": "per-label thresholds tuned on dev; Ekman view (head or pooled 28) chosen on dev; test reported",
        "check_set": f"{check_set} ({sum(item.scored for item in items)} scored of {len(items)}): "
        "top Ekman class among the accepted ones; non-English rows must read as low coverage",
        "first_person": f"{first_person_source} test situations ({len(first_person)}): top Ekman class vs "
        "the seeker's reported emotion"
        if first_person is not None
        else None,
        "low_coverage_below": LOW_COVERAGE,
        "single_text_calls": calls,
        **machine_record(),
    }
    return results


def print_text_benchmark(results: dict) -> None:
    rows = {name: values for name, values in results.items() if name != "setup"}
    first_person = all("first_person_test_accuracy" in values for values in rows.values())
    print(format_table(rows, COLUMNS + ["first_person_test_accuracy"] * first_person))
    print("(GoEmotions test; thresholds tuned on dev; check set: first-person sentences; latency p50 of one text)")
    for name, values in rows.items():
        check = values.get("check_set")
        if check:
            print(
                f"{name}: check set {values['check_set_accuracy']:.3f} of {check['scored']} "
                f"(by kind: {', '.join(f'{k} {v:.2f}' for k, v in check['accuracy_by_kind'].items())}); "
                f"non-English flagged {check['non_english_flagged']:.2f}, "
                f"English flagged {check['english_flagged']:.2f}; "
                f"GoEmotions test texts below coverage {LOW_COVERAGE}: {values['test_low_coverage_share']:.2%}"
            )
        emoji_texts = values.get("emoji_texts_in_test")
        if emoji_texts:
            print(
                f"{name}: {emoji_texts['texts']} test texts with emoji, emoji as words vs as typed: "
                f"micro-F1 28 {emoji_texts['micro_f1_28_with_words']:.3f} "
                f"vs {emoji_texts['micro_f1_28_as_typed']:.3f}, "
                f"Ekman macro-F1 {emoji_texts['macro_f1_ekman_with_words']:.3f} "
                f"vs {emoji_texts['macro_f1_ekman_as_typed']:.3f}"
            )
