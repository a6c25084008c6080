"""Per-label threshold tuning and calibration error on synthetic scores."""

import numpy as np
import pytest

from mepe_utils.data.goemotions import TextEmotionData
from mepe_utils.evaluation import (
    ekman_view,
    evaluate_text_scores,
    expected_calibration_error,
    multilabel_metrics,
    top_class_accuracy,
    tune_thresholds,
)
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS, goemotions_to_ekman


def test_thresholds_separate_each_label_where_it_can_be_separated():
    rng = np.random.default_rng(0)
    labels = rng.random((400, 3)) < [0.5, 0.1, 0.0]
    scores = np.where(labels, [0.7, 0.2, 0.9], [0.3, 0.05, 0.1]) + rng.normal(0, 0.01, labels.shape)
    thresholds = tune_thresholds(labels, scores)
    assert 0.33 <= thresholds[0] <= 0.67  # between the two score clusters of label 0
    assert 0.08 <= thresholds[1] <= 0.17  # a rare, low-scored label gets a low threshold
    assert thresholds[2] == 0.5  # no positive example: the neutral default
    names = ["a", "b", "c"]
    tuned = multilabel_metrics(labels, scores, thresholds, names)
    assert tuned["per_label"]["a"]["f1"] == 1.0 and tuned["per_label"]["b"]["f1"] == 1.0
    assert multilabel_metrics(labels, scores, 0.5, names)["per_label"]["b"]["f1"] == 0.0


def test_tuned_thresholds_beat_a_fixed_one_on_the_tuning_split():
    rng = np.random.default_rng(1)
    labels = rng.random((300, 5)) < 0.2
    scores = np.clip(0.25 * labels + rng.random((300, 5)) * 0.5, 0, 1)
    names = list("abcde")
    tuned = multilabel_metrics(labels, scores, tune_thresholds(labels, scores), names)["macro_f1"]
    assert tuned > multilabel_metrics(labels, scores, 0.5, names)["macro_f1"]


def test_calibration_error_is_zero_when_confidence_matches_the_hit_rate_and_grows_with_overconfidence():
    classes = np.array([0, 0, 0, 1])  # predicting class 0 at 75% confidence: right 3 times in 4
    calibrated = np.tile([0.75, 0.25], (4, 1))
    assert expected_calibration_error(classes, calibrated) == 0.0
    overconfident = np.tile([0.99, 0.01], (4, 1))
    assert expected_calibration_error(classes, overconfident) == pytest.approx(0.24)


def test_top_class_accuracy_counts_a_top_class_among_the_gold_ones():
    gold = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    scores = np.array([[0.9, 0.1, 0.0], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]])
    assert top_class_accuracy(gold, scores) == pytest.approx(2 / 3)


def test_ekman_view_reads_the_head_or_pools_the_28_probabilities():
    probabilities = np.zeros((1, len(GOEMOTIONS_LABELS)), np.float32)
    probabilities[0, GOEMOTIONS_LABELS.index("annoyance")] = 0.8
    head = np.full((1, len(FER_LABELS)), 0.1, np.float32)
    scores = {"probabilities": probabilities, "ekman": head}
    assert ekman_view(scores, "head") is head
    assert FER_LABELS[ekman_view(scores, "derived").argmax()] == "angry"


def test_text_evaluation_keeps_the_better_ekman_view_on_dev_unless_told_which_to_report():
    rows = 2 * len(GOEMOTIONS_LABELS)
    labels = np.eye(len(GOEMOTIONS_LABELS), dtype=np.uint8)[np.arange(rows) % len(GOEMOTIONS_LABELS)]
    texts, ids = [f"text {i}" for i in range(rows)], [str(i) for i in range(rows)]
    data = {split: TextEmotionData(texts, labels, goemotions_to_ekman(labels), ids, split) for split in ("dev", "test")}
    probabilities = labels * 0.8 + 0.1  # the 28 scores separate every label: the derived view is exact
    head = np.random.default_rng(0).random((rows, len(FER_LABELS)))  # the Ekman head is noise
    scores = {split: {"probabilities": probabilities, "ekman": head} for split in data}

    kept = evaluate_text_scores(scores, data)
    assert kept["ekman_source"] == "derived" and kept["metrics"]["test_macro_f1_ekman_tuned"] == 1.0
    assert kept["metrics"]["dev_macro_f1_ekman_head_tuned"] < 1.0
    told = evaluate_text_scores(scores, data, ekman_source="head")
    assert told["ekman_source"] == "head" and told["metrics"]["test_macro_f1_ekman_tuned"] < 1.0
    assert told["metrics"]["dev_macro_f1_ekman_derived_tuned"] == 1.0
    with pytest.raises(ValueError, match="ekman_source must be one of"):
        evaluate_text_scores(scores, data, ekman_source="pooled")
