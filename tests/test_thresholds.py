"""Per-label threshold tuning on synthetic scores."""

import numpy as np

from mepe_utils.evaluation import multilabel_metrics, tune_thresholds


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
