"""``mepe bench-persona``: the persona's traits against human annotations, beside baselines fitted in the same run.

========================  ==================================================================
block                     what is measured
========================  ==================================================================
``emobank``               Pearson r of the persona model's valence, arousal and dominance with
                          the annotations of EmoBank ``test`` (1,000 sentences); ``baseline``:
                          a TF-IDF ridge regression fitted on ``train`` in this run, its
                          penalty and casing chosen on ``dev``
``formality``             Spearman rho on the ``test`` part of MEPE's formality split, beside
                          the same TF-IDF ridge (``baseline_spearman``)
``dreaddit``              ROC AUC of the stress trait (text only, no fitting: zero-shot) on
                          Dreaddit ``test``, and each of its three components alone;
                          ``supervised_reference_auc``: a TF-IDF logistic regression trained on
                          Dreaddit ``train`` (for reference only: the ceiling a supervised model
                          reaches; never shipped)
``levels``                the model's tercile thresholds on the reference population
``latency_ms_read_decide``  one persona read plus the policy's decision for one text reading
                          (:func:`persona_latency_ms`; the text reading itself is not timed)
========================  ==================================================================

The text readings come from the cache :func:`~mepe_utils.predictors.text_readings.text_readings`
fills (computed on first use), so the benchmark reads each text once per text model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.bench.timing import BENCH_TEXT, latency_ms
from mepe_utils.data.dreaddit import load_dreaddit
from mepe_utils.models.persona import BRANCHES, PERSONA_OUTPUTS
from mepe_utils.persona.traits import PersonaReader, TraitSignals, trait_components, trait_scores
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
from mepe_utils.predictors.text_readings import TextReadings, text_readings
from mepe_utils.runtime import is_smoke, machine_record
from mepe_utils.training.persona import (
    PersonaTrainConfig,
    branch_data,
    correlation,
    smoke_subset,
)

RIDGE_ALPHAS = (0.3, 1.0, 3.0, 10.0, 30.0)
LOGISTIC_CS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
TARGETS = {"valence_r": 0.65, "formality_spearman": 0.75, "stress_auc": 0.75}
"""The issue's targets, printed beside the measurements."""


def _tfidf(lowercase: bool):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=lowercase)


def tfidf_ridge(train, dev, test, name: str, kind: str) -> dict:
    """The TF-IDF ridge baseline for one annotation: casing and penalty chosen on ``dev``, scored on ``test``.

    Args:
        train, dev, test: :class:`~mepe_utils.data.scored_texts.ScoredTexts` splits.
        name: the score column.
        kind: ``"pearson"`` or ``"spearman"``.

    Returns:
        ``{"test": correlation, "dev": correlation, "alpha": ..., "lowercase": ...}``.
    """
    from sklearn.linear_model import Ridge

    best = None
    for lowercase in (True, False):
        vectorizer = _tfidf(lowercase).fit(train.texts)
        x_train, x_dev = vectorizer.transform(train.texts), vectorizer.transform(dev.texts)
        for alpha in RIDGE_ALPHAS:
            ridge = Ridge(alpha=alpha).fit(x_train, train.column(name))
            score = correlation(kind, ridge.predict(x_dev), dev.column(name))
            if best is None or score > best["dev"]:
                best = {"dev": score, "alpha": alpha, "lowercase": lowercase, "model": (vectorizer, ridge)}
    vectorizer, ridge = best.pop("model")
    best["test"] = correlation(kind, ridge.predict(vectorizer.transform(test.texts)), test.column(name))
    return best


def tfidf_logistic_auc(train, test) -> dict:
    """A TF-IDF logistic regression on Dreaddit ``train`` (C by 5-fold cross-validated AUC) and its ``test`` AUC."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV

    vectorizer = _tfidf(True).fit(train.texts)
    labels = train.column("stress")
    folds = max(2, min(5, int(min(labels.sum(), (1 - labels).sum()))))
    search = GridSearchCV(LogisticRegression(max_iter=2000), {"C": list(LOGISTIC_CS)}, cv=folds, scoring="roc_auc")
    search.fit(vectorizer.transform(train.texts), labels)
    scores = search.predict_proba(vectorizer.transform(test.texts))[:, 1]
    return {"auc": float(roc_auc_score(test.column("stress"), scores)), "C": float(search.best_params_["C"])}


def _outputs(reader: PersonaReader, readings: TextReadings) -> dict[str, np.ndarray]:
    inputs = readings.inputs()
    return reader.forward(inputs["reading"], inputs["style"])


def persona_latency_ms(reader: PersonaReader, policy, text_reading, fusion_reading=None, calls: int = 300) -> dict:
    """Milliseconds (p50, p95, mean) of one :meth:`PersonaReader.read` plus one policy decision."""
    return latency_ms(lambda: policy.decide(reader.read(text_reading, fusion_reading)), calls=calls)


def bench_persona(
    persona_dir: str | Path,
    data_dir: str | Path,
    cache_dir: str | Path,
    *,
    text_model: str | Path = SHIPPED_TEXT_MODEL,
    json_path: str | Path | None = None,
    command: str = "",
    time_reads: bool = True,
) -> dict:
    """Scores a saved persona model on the held-out annotations, with baselines fitted in the same run.

    Under ``MEPE_SMOKE=1`` every split is a seeded sample
    (:func:`~mepe_utils.training.persona.smoke_subset`).

    Args:
        persona_dir: the saved persona model.
        data_dir: the folder holding ``emobank/``, ``formality/`` and ``dreaddit/``.
        cache_dir: the text-readings cache.
        text_model: the text model the persona model reads (its sha256 must be the one it was trained on).
        json_path: where the results are written (atomically), when given.
        command: the command line, recorded under ``setup``.
        time_reads: also time :func:`persona_latency_ms` on :data:`~mepe_utils.bench.timing.BENCH_TEXT`
            (loads the text model once).

    Returns:
        The results; the keys are those of the module docstring's table.
    """
    from sklearn.metrics import roc_auc_score

    from mepe_utils.persona.policy import Policy

    reader = PersonaReader.load(persona_dir, text_model=text_model)
    sets = branch_data(data_dir, PersonaTrainConfig())

    def outputs_of(branch: str) -> dict[str, np.ndarray]:
        test = sets[branch]["test"]
        return _outputs(reader, text_readings(text_model, f"{branch}-test", test.texts, cache_dir))

    results: dict = {}
    emobank, vad = sets["emobank"], BRANCHES["emobank"]
    predicted = outputs_of("emobank")
    baselines = {name: tfidf_ridge(emobank["train"], emobank["dev"], emobank["test"], name, "pearson") for name in vad}
    results["emobank"] = {
        **{f"{name}_r": correlation("pearson", predicted[name], emobank["test"].column(name)) for name in vad},
        "baseline": {
            **{f"{name}_r": baselines[name]["test"] for name in vad},
            "recipe": "TF-IDF word 1-2 grams (min_df 2, sublinear tf) + ridge; casing and alpha chosen on dev",
            "chosen": {name: {k: baselines[name][k] for k in ("alpha", "lowercase")} for name in vad},
        },
        "n": len(emobank["test"]),
    }
    formality = sets["formality"]
    predicted = outputs_of("formality")
    baseline = tfidf_ridge(formality["train"], formality["dev"], formality["test"], "formality", "spearman")
    results["formality"] = {
        "spearman": correlation("spearman", predicted["formality"], formality["test"].column("formality")),
        "baseline_spearman": baseline["test"],
        "baseline_chosen": {k: baseline[k] for k in ("alpha", "lowercase")},
        "n": len(formality["test"]),
    }

    dreaddit = {
        k: smoke_subset(v, 4 * PersonaTrainConfig().smoke_rows)
        for k, v in load_dreaddit(Path(data_dir) / "dreaddit").items()
    }
    test = dreaddit["test"]
    readings = text_readings(text_model, "dreaddit-test", test.texts, cache_dir)
    signals = TraitSignals(_outputs(reader, readings), text_emotions=readings.ekman)
    labels = test.column("stress")
    stress = trait_scores(signals)["stress"]
    components = trait_components(signals)
    reference = tfidf_logistic_auc(dreaddit["train"], test)
    results["dreaddit"] = {
        "auc_zero_shot": float(roc_auc_score(labels, stress)),
        "supervised_reference_auc": reference["auc"],
        "supervised_reference": f"TF-IDF word 1-2 grams + logistic regression on Dreaddit train (C {reference['C']:g} "
        "by 5-fold AUC); for reference only, never shipped",
        "components_auc": {
            "unpleasantness": float(roc_auc_score(labels, 1 - components["pleasantness"])),
            "activation": float(roc_auc_score(labels, components["activation"])),
            "distress": float(roc_auc_score(labels, components["distress"])),
        },
        "n": len(test),
        "stressed": int(labels.sum()),
    }
    results["levels"] = reader.manifest.extra["levels"]
    if time_reads:
        from mepe_utils.predictors.text import TextEmotionModel

        text_reading = TextEmotionModel.load(text_model).predict(BENCH_TEXT)[0]
        results["latency_ms_read_decide"] = persona_latency_ms(reader, Policy.load(), text_reading)
        # What the persona adds to `mepe analyze`: analyze has the readings already; it reads and decides.
        results["latency_ms_p50_added"] = results["latency_ms_read_decide"]["p50"]
    persona_dir = Path(persona_dir)
    results["persona_file_mb"] = round((persona_dir / artifacts.MODEL_FILE).stat().st_size / 1e6, 3)
    results["setup"] = {
        "command": command,
        "persona_model": str(persona_dir),
        "persona_model_sha256": reader.manifest.model_sha256,
        "text_model_sha256": artifacts.read_manifest(text_model).model_sha256,
        "outputs": list(PERSONA_OUTPUTS),
        "smoke": is_smoke(),
        **machine_record(),
    }
    if json_path is not None:
        artifacts.write_json_atomic(json_path, results)
    return results


def print_persona_benchmark(results: dict) -> None:
    """The benchmark as a table: each measure, the persona, the same-run baseline, the target."""
    emobank, formality, dreaddit = results["emobank"], results["formality"], results["dreaddit"]
    rows = [
        ("EmoBank valence r", emobank["valence_r"], emobank["baseline"]["valence_r"], TARGETS["valence_r"]),
        ("EmoBank arousal r", emobank["arousal_r"], emobank["baseline"]["arousal_r"], None),
        ("EmoBank dominance r", emobank["dominance_r"], emobank["baseline"]["dominance_r"], None),
        ("formality Spearman", formality["spearman"], formality["baseline_spearman"], TARGETS["formality_spearman"]),
        ("Dreaddit stress AUC", dreaddit["auc_zero_shot"], dreaddit["supervised_reference_auc"], TARGETS["stress_auc"]),
    ]
    print(f"{'measure':24s}{'persona':>10s}{'baseline':>10s}{'target':>10s}")
    for name, ours, baseline, target in rows:
        shown = "-" if target is None else f">= {target:.2f}"
        print(f"{name:24s}{ours:10.3f}{baseline:10.3f}{shown:>10s}")
    print(
        "(baselines: TF-IDF ridge fitted in this run; for Dreaddit a supervised TF-IDF logistic regression, "
        "for reference only)"
    )
    parts = ", ".join(f"{k} {v:.3f}" for k, v in dreaddit["components_auc"].items())
    print(f"stress components alone (AUC): {parts}")
    if "latency_ms_read_decide" in results:
        print(f"persona read + policy decision: p50 {results['latency_ms_read_decide']['p50']:.3f} ms")
    print(f"persona model file {results['persona_file_mb']:.2f} MB")
