"""``python -m mepe_utils bench-text``: text-emotion models side by side on GoEmotions test.

In one run, on the same splits and with the same protocol (per-label thresholds
tuned on dev, the better Ekman view chosen on dev, numbers on test): the shipped
compact model, any saved MEPE text model given, and a TF-IDF (word 1-2 grams,
sublinear tf) + one-vs-rest logistic-regression baseline trained inside the run.
"""

from __future__ import annotations

import pickle
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils.bench.timing import format_table, latency_ms
from mepe_utils.data.goemotions import TextEmotionData, load_goemotions
from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.text import EKMAN_OUTPUT
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel
from mepe_utils.runtime import library_versions
from mepe_utils.training.text import evaluate_text_scores

COLUMNS = [
    "test_macro_f1_28_tuned",
    "test_micro_f1_28_tuned",
    "test_macro_f1_ekman_tuned",
    "latency_ms_p50",
    "params",
    "file_mb",
]
LATENCY_TEXT = "I can't believe they cancelled the show, I'm so upset right now."


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


def run_text_benchmark(
    data_source: str | Path,
    *,
    compact_dir: str | Path = SHIPPED_TEXT_MODEL,
    model_dirs: list[str | Path] = (),
    calls: int = 300,
) -> dict:
    """Runs the benchmark; returns ``{model name: {...}, "setup": {...}}``.

    Args:
        data_source: a folder of GoEmotions TSVs, or ``"hub"``.
        compact_dir: the shipped compact model.
        model_dirs: more saved MEPE text models, named by :func:`contender_name`.
        calls: timed single-text calls for the latency p50.
    """
    data = load_goemotions(data_source)
    results = {}
    contenders = {"compact": Path(compact_dir), **{contender_name(d): Path(d) for d in model_dirs}}
    for name, directory in contenders.items():
        model = TextEmotionModel.load(directory)
        scores = {split: model.scores(data[split].texts) for split in ("dev", "test")}
        results[name] = {
            **evaluate_text_scores(scores, data)["metrics"],
            "latency_ms_p50": latency_ms(lambda m=model: m.scores([LATENCY_TEXT]), calls=calls)["p50"],
            "params": int(model.model.count_params()),
            "file_mb": _file_mb(directory),
        }
    baseline = TfidfLogisticBaseline.fit(data["train"])
    scores = {split: baseline.scores(data[split].texts) for split in ("dev", "test")}
    results["tfidf_lr"] = {
        **evaluate_text_scores(scores, data)["metrics"],
        "latency_ms_p50": latency_ms(lambda: baseline.scores([LATENCY_TEXT]), calls=calls)["p50"],
        "params": baseline.params(),
        "file_mb": baseline.file_mb(),
    }
    results["setup"] = {
        "data": str(data_source),
        "protocol": "per-label thresholds tuned on dev; Ekman view (head or pooled 28) chosen on dev; test reported",
        "single_text_calls": calls,
        "cpu": platform.processor() or platform.machine(),
        "versions": library_versions(),
    }
    return results


def print_text_benchmark(results: dict) -> None:
    rows = {name: values for name, values in results.items() if name != "setup"}
    print(format_table(rows, COLUMNS))
    print("(GoEmotions test; thresholds tuned on dev; latency p50 of one text over warm calls)")
