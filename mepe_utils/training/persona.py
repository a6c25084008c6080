"""Training the persona model: ``mepe train-persona``.

Protocol:

1. **Readings.** The shipped text model (or the one given) reads every text
   once: its pooled sentence vector, embedding, 28 probabilities and 7-class
   Ekman view, cached in ``cache_dir`` keyed by the model file's sha256 and the
   texts' hash (:func:`~mepe_utils.predictors.text_readings.text_readings`), so a rerun or the benchmark never reads
   a text twice and a retrained text model never meets stale readings.
2. **Branches.** The EmoBank branch (valence, arousal, dominance) trains on
   EmoBank ``train``; the formality branch on the ``train`` part of MEPE's fixed
   formality split (:func:`~mepe_utils.data.formality.formality_split`). Each
   candidate of the small grid (hidden width x L2 penalty) is an ensemble of
   ``members`` heads, stopped early on the branch's ``dev`` loss; the candidate
   with the best ``dev`` correlation (mean Pearson r over V/A/D; Spearman rho
   for formality) is kept. The test splits are never read here: the benchmark
   (``mepe bench-persona``) scores them once.
3. **Levels.** The chosen model reads ESConv seekers' utterances (``train``
   conversations, text only: the reference population), the persona traits are
   computed from those readings (:func:`~mepe_utils.persona.traits.trait_scores`),
   and each trait's terciles become its Low / Medium / High thresholds, stored in
   the manifest (``extra.levels``) beside each output's median over the same people.
4. **Saved** atomically in the MEPE format (kind ``persona``), the dev metrics in
   the manifest. Candidates already trained (same readings, candidate, seed) are
   reused from ``cache_dir``, so an interrupted run resumes where it stopped.

Dreaddit is never read here: it only validates the stress trait in the benchmark.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.emobank import load_emobank
from mepe_utils.data.esconv import load_esconv, seeker_utterances
from mepe_utils.data.formality import load_formality
from mepe_utils.data.scored_texts import ScoredTexts
from mepe_utils.models.persona import (
    BRANCHES,
    PERSONA_OUTPUTS,
    READING_INPUT,
    SCALES,
    STYLE_INPUT,
    BranchStatistics,
    PersonaForward,
    PersonaModelConfig,
    build_persona_model,
    member_targets,
    training_view,
)
from mepe_utils.persona.traits import (
    PERSONA_KIND,
    TRAIT_RULES_VERSION,
    TraitSignals,
    tercile_thresholds,
    trait_scores,
)
from mepe_utils.persona.writing_style import WRITING_STYLE_FEATURES
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
from mepe_utils.predictors.text_readings import TextReadings, text_readings, texts_sha256
from mepe_utils.runtime import hardware_description, is_smoke, set_seed

SELECTION_METRICS = {"emobank": "pearson", "formality": "spearman"}
"""How each branch's candidates are compared on ``dev``."""
TRAINING_FIELDS = ("dropout", "members", "epochs", "batch_size", "learning_rate", "patience", "seed")
"""The recipe fields that change a trained candidate (with its width and penalty): its cache key."""


@dataclass
class PersonaTrainConfig:
    """Hyper-parameters of a persona training run; every (hidden, l2) pair is a candidate.

    Attributes:
        hidden: hidden widths tried.
        l2: L2 penalties tried.
        dropout: dropout after each member's hidden layer.
        members: ensemble members per branch.
        epochs: most epochs per candidate.
        batch_size: texts per batch.
        learning_rate: Adam rate.
        patience: epochs without a better dev loss before a candidate stops (its best epoch is kept).
        seed: seeds the initialisation, the dropout and the order.
        smoke_rows: rows kept per split under ``MEPE_SMOKE=1``.
        weights_storage: how ``model.keras`` stores the weights (``float16``: half the file; the dev
            metrics and thresholds are computed with the rounded weights, so they are the shipped model's).
    """

    hidden: tuple[int, ...] = (64, 128)
    l2: tuple[float, ...] = (1e-3, 3e-3)
    dropout: float = 0.5
    members: int = 5
    epochs: int = 60
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 8
    seed: int = 42
    smoke_rows: int = 64
    weights_storage: str = field(default="float16", metadata={"choices": artifacts.WEIGHTS_STORAGE})

    def for_smoke(self) -> PersonaTrainConfig:
        """One small candidate, two members, three epochs."""
        return PersonaTrainConfig(
            hidden=self.hidden[:1], l2=self.l2[:1], dropout=self.dropout, members=2, epochs=3,
            batch_size=32, learning_rate=self.learning_rate, patience=2, seed=self.seed, smoke_rows=self.smoke_rows,
            weights_storage=self.weights_storage,
        )  # fmt: skip

    def candidates(self) -> list[PersonaModelConfig]:
        return [
            PersonaModelConfig(hidden=h, dropout=self.dropout, l2=l2, members=self.members)
            for h in self.hidden
            for l2 in self.l2
        ]


def smoke_subset(texts: ScoredTexts, rows: int) -> ScoredTexts:
    """Under ``MEPE_SMOKE=1`` a seeded sample of ``rows`` texts; else every text."""
    if not is_smoke() or len(texts) <= rows:
        return texts
    return texts.subset(np.sort(np.random.default_rng(0).choice(len(texts), rows, replace=False)))


def branch_data(data_dir: str | Path, config: PersonaTrainConfig) -> dict[str, dict[str, ScoredTexts]]:
    """``{branch: {"train", "dev", "test"}}``: EmoBank's own split and MEPE's formality split."""
    data_dir = Path(data_dir)
    sets = {"emobank": load_emobank(data_dir / "emobank"), "formality": load_formality(data_dir / "formality")}
    return {
        branch: {split: smoke_subset(s, config.smoke_rows) for split, s in splits.items()}
        for branch, splits in sets.items()
    }


def esconv_seeker_texts(data_dir: str | Path, config: PersonaTrainConfig) -> list[str]:
    """The reference population: ESConv ``train`` seekers' utterances (a seeded sample under smoke mode)."""
    texts = [u.text for u in seeker_utterances(load_esconv(Path(data_dir) / "esconv", splits=("train",))["train"])]
    if is_smoke() and len(texts) > config.smoke_rows:
        rows = np.sort(np.random.default_rng(0).choice(len(texts), config.smoke_rows, replace=False))
        texts = [texts[row] for row in rows]
    return texts


def correlation(kind: str, predicted: np.ndarray, actual: np.ndarray) -> float:
    """Pearson r or Spearman rho (``kind``); 0 for a constant prediction."""
    from scipy.stats import pearsonr, spearmanr

    predicted, actual = np.asarray(predicted, np.float64).ravel(), np.asarray(actual, np.float64).ravel()
    if np.ptp(predicted) == 0 or np.ptp(actual) == 0:
        return 0.0
    value = (pearsonr if kind == "pearson" else spearmanr)(predicted, actual)[0]
    return float(value)


def branch_scores(kind: str, outputs: dict[str, np.ndarray], texts: ScoredTexts) -> dict[str, float]:
    """Each of a branch's outputs correlated with its annotation."""
    return {name: correlation(kind, outputs[name], texts.column(name)) for name in texts.names if name in outputs}


def _candidate_key(branch: str, candidate: PersonaModelConfig, config: PersonaTrainConfig, data_key: str) -> str:
    recipe = {k: getattr(config, k) for k in TRAINING_FIELDS}
    payload = json.dumps([branch, asdict(candidate), recipe, data_key, is_smoke()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def train_candidate(
    branch: str,
    candidate: PersonaModelConfig,
    config: PersonaTrainConfig,
    data: dict[str, TextReadings],
    targets: dict[str, ScoredTexts],
    statistics: dict[str, BranchStatistics],
):
    """One candidate of one branch: its members trained side by side, stopped on the dev loss.

    Returns:
        ``(model, epochs run)``: a whole persona model whose ``branch`` layers are trained.
    """
    import keras

    set_seed(config.seed)
    dims = data["train"].inputs()
    model = build_persona_model(dims[READING_INPUT].shape[1], dims[STYLE_INPUT].shape[1], candidate, statistics)
    view = training_view(model, candidate.members, outputs=BRANCHES[branch])
    view.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    stats = statistics[branch]

    def split_targets(split: str) -> dict:
        return member_targets({n: targets[split].column(n) for n in BRANCHES[branch]}, stats, candidate.members)

    stop = keras.callbacks.EarlyStopping(patience=config.patience, restore_best_weights=True)
    history = view.fit(
        data["train"].inputs(), split_targets("train"), validation_data=(data["dev"].inputs(), split_targets("dev")),
        epochs=config.epochs, batch_size=config.batch_size, shuffle=True, callbacks=[stop], verbose=0,
    )  # fmt: skip
    return model, len(history.history["loss"])


def _branch_layers(model, branch: str) -> list:
    """The layers of one branch: ``<branch>_*`` (normalisation, hidden layers) and its outputs' ``<name>_member<i>``."""
    names = set(BRANCHES[branch])
    return [
        layer
        for layer in model.layers
        if layer.name.startswith(f"{branch}_") or layer.name.split("_member")[0] in names
    ]


def select_branch(
    branch: str,
    config: PersonaTrainConfig,
    data: dict[str, TextReadings],
    targets: dict[str, ScoredTexts],
    statistics: dict[str, BranchStatistics],
    work_dir: Path,
    data_key: str,
    log=print,
) -> dict:
    """Trains every candidate of ``branch`` (or reuses it from ``work_dir``) and picks the best on dev.

    Returns:
        ``{"config": the chosen PersonaModelConfig, "weights": {layer name: weights},
        "dev": {output: correlation}, "candidates": [one record per candidate]}``.
    """
    kind = SELECTION_METRICS[branch]
    records, best = [], None
    for candidate in config.candidates():
        key = _candidate_key(branch, candidate, config, data_key)
        weights_file, record_file = work_dir / f"{branch}-{key}.npz", work_dir / f"{branch}-{key}.json"
        if weights_file.is_file() and record_file.is_file():
            record = json.loads(record_file.read_text())
            with np.load(weights_file, allow_pickle=False) as stored:
                weights = _unflatten(stored)
        else:
            started = time.perf_counter()
            model, epochs = train_candidate(branch, candidate, config, data, targets, statistics)
            outputs = PersonaForward(model)(**_forward_inputs(data["dev"]))
            dev = branch_scores(kind, outputs, targets["dev"])
            weights = {layer.name: layer.get_weights() for layer in _branch_layers(model, branch)}
            record = {
                "candidate": asdict(candidate),
                "dev": dev,
                "dev_mean": float(np.mean(list(dev.values()))),
                "epochs_run": epochs,
                "seconds": round(time.perf_counter() - started, 1),
            }
            work_dir.mkdir(parents=True, exist_ok=True)
            _save_weights(weights_file, weights)
            artifacts.write_json_atomic(record_file, record)
        log(f"persona {branch}: {asdict(candidate)} dev {kind} {record['dev']} ({record['epochs_run']} epochs)")
        records.append(record)
        if best is None or record["dev_mean"] > best[0]["dev_mean"]:
            best = (record, weights, candidate)
    record, weights, candidate = best
    return {"config": candidate, "weights": weights, "dev": record["dev"], "candidates": records}


def _forward_inputs(readings: TextReadings) -> dict[str, np.ndarray]:
    inputs = readings.inputs()
    return {"reading": inputs[READING_INPUT], "style": inputs[STYLE_INPUT]}


def _save_weights(path: Path, weights: dict[str, list[np.ndarray]]) -> None:
    flat = {f"{name}/{index}": array for name, arrays in weights.items() for index, array in enumerate(arrays)}
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.npz")
    np.savez(tmp, **flat)
    os.replace(tmp, path)


def _unflatten(stored) -> dict[str, list[np.ndarray]]:
    weights: dict[str, dict[int, np.ndarray]] = {}
    for key in stored.files:
        name, index = key.rsplit("/", 1)
        weights.setdefault(name, {})[int(index)] = stored[key]
    return {name: [arrays[i] for i in sorted(arrays)] for name, arrays in weights.items()}


def reference_levels(forward, readings: TextReadings) -> dict:
    """The level thresholds: each trait's terciles over the reference readings, text only.

    Args:
        forward: the persona model's pass (:class:`PersonaForward` or a callable alike).
        readings: the reference population's text readings.

    Returns:
        ``{"thresholds": {trait: [t1, t2]}, "reference_medians": {output: median},
        "rules_version": TRAIT_RULES_VERSION}``.
    """
    outputs = forward(**_forward_inputs(readings))
    scores = trait_scores(TraitSignals(outputs, text_emotions=readings.ekman))
    return {
        "thresholds": {name: list(tercile_thresholds(values)) for name, values in scores.items()},
        "reference_medians": {name: float(np.median(outputs[name])) for name in PERSONA_OUTPUTS},
        "rules_version": TRAIT_RULES_VERSION,
    }


def train_persona(
    config: PersonaTrainConfig | None,
    data_dir: str | Path,
    cache_dir: str | Path,
    out: str | Path,
    *,
    text_model: str | Path = SHIPPED_TEXT_MODEL,
    command: str = "",
    log=print,
) -> Path:
    """Trains, selects, levels and saves the persona model.

    Args:
        config: hyper-parameters (defaults when None); shrunk under ``MEPE_SMOKE=1``.
        data_dir: the folder holding ``emobank/``, ``formality/`` and ``esconv/``.
        cache_dir: where text readings and trained candidates are cached.
        out: the saved-model directory to create or replace (``assets/models/persona`` to ship).
        text_model: the saved text model whose readings the persona model reads.
        command: the command line, recorded in the manifest.
        log: where progress lines go.

    Returns:
        ``out``.
    """
    started = time.perf_counter()
    config = config or PersonaTrainConfig()
    if is_smoke():
        config = config.for_smoke()
    cache_dir, text_model = Path(cache_dir), Path(text_model)
    text_manifest = artifacts.read_manifest(text_model)
    sets = branch_data(data_dir, config)
    readings = {  # the test splits are left to the benchmark
        branch: {split: text_readings(text_model, f"{branch}-{split}", sets[branch][split].texts, cache_dir)
                 for split in ("train", "dev")}
        for branch in sets
    }  # fmt: skip
    statistics = {}
    for branch, names in BRANCHES.items():
        train = readings[branch]["train"].inputs()
        joined = np.concatenate([train[READING_INPUT], train[STYLE_INPUT]], axis=1)
        statistics[branch] = BranchStatistics.of(joined, {n: sets[branch]["train"].column(n) for n in names})
    chosen = {}
    for branch in BRANCHES:
        data_key = json.dumps(
            [text_manifest.model_sha256, *(texts_sha256(sets[branch][s].texts) for s in ("train", "dev"))]
        )
        chosen[branch] = select_branch(
            branch, config, readings[branch], sets[branch], statistics, cache_dir / "persona-candidates", data_key, log
        )
    model = assemble(readings["emobank"]["train"], {b: c["config"] for b, c in chosen.items()}, statistics, chosen)
    if config.weights_storage == "float16":
        round_to_half(model)
    forward = PersonaForward(model)
    reference = esconv_seeker_texts(data_dir, config)
    levels = reference_levels(forward, text_readings(text_model, "esconv-train-seekers", reference, cache_dir))
    metrics = {}
    for branch in BRANCHES:
        kind = SELECTION_METRICS[branch]
        dev = branch_scores(kind, forward(**_forward_inputs(readings[branch]["dev"])), sets[branch]["dev"])
        metrics.update({f"dev_{name}_{'r' if kind == 'pearson' else 'spearman'}": value for name, value in dev.items()})
    manifest = artifacts.Manifest(
        kind=PERSONA_KIND,
        labels=list(PERSONA_OUTPUTS),
        input={
            READING_INPUT: "(batch, P + E + 28) the text model's pooled sentence vector, embedding and GoEmotions "
            "probabilities (mepe_utils.models.persona.reading_features)",
            STYLE_INPUT: f"(batch, {len(WRITING_STYLE_FEATURES)}) writing_style_features of the raw text",
        },
        preprocessing={"reading": "from the text model under extra.text_model (refused if its sha256 differs)"},
        metrics=metrics,
        data={
            "emobank": f"EmoBank: train {len(sets['emobank']['train'])} sentences, selection on dev "
            f"{len(sets['emobank']['dev'])} (the authors' split); test left to bench-persona",
            "formality": f"Pavlick & Tetreault formality, MEPE's split by a hash of each sentence id: train "
            f"{len(sets['formality']['train'])}, selection on dev {len(sets['formality']['dev'])}",
            "levels": f"terciles over ESConv train seekers' utterances of 3+ words ({len(reference)}), text only",
            "dreaddit": "not read (validation of the stress trait only, in bench-persona)",
            "smoke": is_smoke(),
        },
        training={
            "config": asdict(config),
            "seed": config.seed,
            "selection": {b: c["candidates"] for b, c in chosen.items()},
            "chosen": {b: asdict(c["config"]) for b, c in chosen.items()},
            # every candidate's training time, reused ones included; run_seconds: this call
            "train_seconds": round(sum(r["seconds"] for c in chosen.values() for r in c["candidates"]), 1),
            "run_seconds": round(time.perf_counter() - started, 1),
            "hardware": hardware_description(),
            "command": command,
        },
        extra={
            "text_model": {"folder": str(text_model), "model_sha256": text_manifest.model_sha256},
            "scales": {name: list(SCALES[name]) for name in PERSONA_OUTPUTS},
            "levels": {
                **levels,
                "population": "ESConv train seekers' utterances (3+ words), text only",
                "size": len(reference),
            },
            "params": int(model.count_params()),
        },  # fmt: skip
    )
    notes = (
        "Scores on EmoBank and formality test splits, and the stress trait's zero-shot ROC AUC on Dreaddit, "
        "are in `results/bench_persona.json` (`mepe bench-persona`); the metrics above are dev."
    )
    return artifacts.save_model(model, out, manifest, card_notes=notes, weights_storage=config.weights_storage)


def round_to_half(model) -> None:
    """Rounds every float32 weight to float16 and back, so the model computes what its half-precision file holds."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([w.astype(np.float16).astype(w.dtype) if w.dtype == np.float32 else w for w in weights])


def assemble(
    readings: TextReadings,
    configs: dict[str, PersonaModelConfig],
    statistics: dict[str, BranchStatistics],
    chosen: dict[str, dict],
):
    """The persona model with each branch's chosen candidate's architecture and weights."""
    inputs = readings.inputs()
    model = build_persona_model(inputs[READING_INPUT].shape[1], inputs[STYLE_INPUT].shape[1], configs, statistics)
    for choice in chosen.values():
        for name, weights in choice["weights"].items():
            model.get_layer(name).set_weights(weights)
    return model
