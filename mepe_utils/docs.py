"""``mepe render-docs``: the README's results and the shipped models' cards, rendered from measurements.

Numbers in prose go stale: a benchmark is re-run and the sentence that quoted
it is not. So no number in the README's results section or in a shipped
model's card is typed by hand. Each comes from a benchmark's JSON under
``results/`` or from a saved model's ``manifest.json``, through a template in
``docs/`` whose placeholders name their source::

    {bench_face[mepe][private_test_accuracy]:.3f}      results/bench_face.json
    {face[training][train_seconds]:.0f}                assets/models/face/manifest.json
    {text_table}                                       a table built here from results/bench_text.json

A test renders everything again and fails when a committed file differs, so
re-running a benchmark without ``mepe render-docs`` cannot land.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

from mepe_utils import artifacts
from mepe_utils.architecture import ARCHITECTURE_PNG, architecture_is_current, render_architecture
from mepe_utils.bench.detect import format_class_recall
from mepe_utils.data.face_degrade import DEGRADATIONS
from mepe_utils.data.feeling_words import load_feeling_words
from mepe_utils.data.text_normalize import EMOJI_FEELINGS
from mepe_utils.notebook_setup import rendered_notebooks
from mepe_utils.runtime import REPO_ROOT, SHIPPED_MODELS_DIR

DOCS_DIR = REPO_ROOT / "docs"
RESULTS_DIR = REPO_ROOT / "results"
README = REPO_ROOT / "README.md"
RESULTS_BEGIN = "<!-- results: rendered by `mepe render-docs` from docs/readme_results.md; do not edit here -->"
RESULTS_END = "<!-- end of rendered results -->"
SHIPPED_CARDS = ("face", "text", "fusion", "generator", "persona")
"""Shipped models whose ``MODEL_CARD.md`` notes come from ``docs/model_cards/<name>.md`` (and whose
manifests the templates may name)."""
GENERATOR_BACKENDS = {
    "t5": "T5 (shipped), the policy's controls",
    "t5_first_candidate": "T5, first sampled candidate (before the choice by measured controls)",
    "retrieval": "retrieval of ESConv train replies, same controls",
    "static_prompt": "T5 with the controls fixed (static prompt)",
    "t5_reference_controls": "T5 told the reference reply's own measured controls",
}


def _millions(count: float) -> str:
    return f"{count / 1e6:.1f} M" if count >= 1e6 else f"{count / 1e3:.0f} k"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table from a header and rows of cell strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _text_table(bench: dict, names: dict[str, str]) -> str:
    rows = []
    for key, values in bench.items():
        if key == "setup":
            continue
        rows.append(
            [
                names[key] if key in names else f"`{key}` ({values['weights']})",
                f"{values['test_macro_f1_28_tuned']:.3f}",
                f"{values['test_micro_f1_28_tuned']:.3f}",
                f"{values['test_macro_f1_ekman_tuned']:.3f}",
                f"{values['check_set_accuracy']:.3f}",
                f"{values['first_person_test_accuracy']:.3f}",
                f"{values['latency_ms_p50']:.1f} ms",
                _millions(values["params"]),
                f"{values['file_mb']:.1f} MB",
            ]
        )
    header = [
        "model", "macro-F1, 28", "micro-F1, 28", "Ekman macro-F1", "check set", "ESConv situations", "latency p50",
        "params", "file",
    ]  # fmt: skip
    return markdown_table(header, rows)


def _text_storage_table(bench: dict) -> str:
    """The shipped text model beside the other saved forms of the same trained model that the run measured."""
    trained = bench["shipped"]["trained_sha256"]
    rows = [
        [
            f"`{key}`",
            values["weights"],
            f"{values['test_macro_f1_28_tuned']:.4f}",
            f"{values['test_macro_f1_ekman_tuned']:.4f}",
            f"{values['check_set_accuracy']:.3f}",
            f"{values['latency_ms_p50']:.1f} ms",
            f"{values['file_mb']:.1f} MB",
        ]
        for key, values in bench.items()
        if key != "setup" and values.get("trained_sha256") == trained
    ]
    header = ["model", "weights", "macro-F1, 28", "Ekman macro-F1", "check set", "latency p50", "file"]
    return markdown_table(header, rows)


def _demo_reading(demo: dict) -> str:
    emotions = ", ".join(demo["emotions"]) or "none above threshold"
    return f"{demo['top_ekman']} (GoEmotions labels above their thresholds: {emotions})"


def _face_table(bench: dict) -> str:
    names = {
        "mepe": "MEPE face CNN (`assets/models/face`)",
        "mini_xception": "mini-Xception (the `fer` package's model)",
    }
    rows = [
        [
            names[key],
            f"{v['private_test_accuracy']:.3f} ({v['private_test_accuracy_flip_tta']:.3f} flip TTA)",
            f"{v['private_test_macro_f1']:.3f}",
            f"{v['latency_ms_p50']:.1f} ms",
            f"{v['throughput_per_s']:,.0f} /s",
            _millions(v["params"]),
            f"{v['file_mb']:.1f} MB",
        ]
        for key, v in bench.items()
        if key in names
    ]
    header = ["model", "accuracy", "macro-F1", "latency p50, 1 face", "throughput, batch 256", "params", "file"]
    return markdown_table(header, rows)


def _detect_table(bench: dict) -> str:
    names = {"yunet": "YuNet (shipped default)", "haar": "Haar cascade (`--detector haar`)"}
    rows = [
        [
            names[name],
            f"{v['faces_found']} / {v['faces']} ({v['recall']:.3f})",
            f"{v['report']['faces_found']} / {v['report']['faces']} ({v['report']['recall']:.3f})",
            str(v["false_boxes"]),
            f"{v['faceless_crops']['with_a_face']} / {v['faceless_crops']['crops']}",
            f"{v['ms_per_photo_p50']:.0f} ms",
        ]
        for name, v in bench["detectors"].items()
    ]
    header = [
        "detector", "faces found, all photos", "held-out half", "false boxes", "faceless crops with a face",
        "ms per photo (p50)",
    ]  # fmt: skip
    return markdown_table(header, rows)


def _margin_sweep(bench: dict) -> str:
    """PublicTest accuracy through the photo path for each margin, at the shipped levelling rule."""
    level = bench["fer_photo_path"]["framing"]["level_beyond_degrees"]
    rows = [row for row in bench["framing_choice"]["framings"] if row["level_beyond_degrees"] == level]
    return ", ".join(f"margin {row['margin']:+.2f}: {row['accuracy']:.3f}" for row in rows)


def _levelling(bench: dict) -> str:
    """PublicTest accuracy through the photo path for each levelling rule, upright and turned."""
    levelling = bench["framing_choice"]["levelling"]

    def cells(rows):
        return ", ".join(
            ("never" if row["level_beyond_degrees"] >= 180 else f"beyond {row['level_beyond_degrees']:.0f} degrees")
            + f" {row['accuracy']:.3f}"
            for row in rows
        )

    return (
        f"faces as they are: {cells(levelling['upright'])}; faces turned by "
        f"{levelling['tilted']['turns']}: {cells(levelling['tilted']['framings'])}"
    )


def _inference_table(bench: dict) -> str:
    names = {
        "text": "text",
        "face": "face (512x512 photo, one face: detection + framing + CNN)",
        "group": "face (1280x853 photo, five faces: every face read)",
        "analyze": "analyze (the sentence and the photo read and fused, the persona and controls)",
    }
    rows = [
        [
            names[kind],
            f"{v['cold_start_s']:.1f} s",
            f"{v['latency_ms_p50']:.1f} / {v['latency_ms_p95']:.1f} ms",
            "-" if v["throughput_per_s"] is None else f"{v['throughput_per_s']:,.0f} items/s",
            f"{v['peak_rss_mb']:,.0f} MB",
        ]
        for kind, v in bench.items()
        if kind in names
    ]
    header = [
        "predictor",
        "cold start to first answer",
        "latency p50 / p95, 1 item",
        "throughput, batch 64",
        "peak RSS",
    ]
    return markdown_table(header, rows)


FUSION_CONDITIONS = {
    "both": "both signals, clean",
    "text_missing": "text missing",
    "face_missing": "face missing",
    "face_degraded": f"face degraded (mean of {len(DEGRADATIONS)})",
    "blur": "&nbsp;&nbsp;blur",
    "low_light": "&nbsp;&nbsp;low light",
    "occlusion": "&nbsp;&nbsp;occlusion",
    "jpeg": "&nbsp;&nbsp;JPEG",
    "downscale": "&nbsp;&nbsp;downscale",
    "face_degraded_text_missing": "face degraded, text missing",
}
FUSION_MODELS = {
    "text_only": "text only",
    "face_only": "face only",
    "late_product": "late, product",
    "late_mean": "late, mean",
    "concat_mlp": "concat MLP",
    "gmu": "GMU",
}


def _fusion_table(bench: dict) -> str:
    """Accuracy of every contender under every condition, with the GMU's macro-F1 and gate toward the text."""
    rows = []
    for condition, name in FUSION_CONDITIONS.items():
        cells = bench["conditions"][condition]
        row = [name] + [f"{cells[m]['accuracy']:.3f}" if m in cells else "-" for m in FUSION_MODELS]
        gmu = cells["gmu"]
        row[-1] = f"**{gmu['accuracy']:.3f}**" + (f" ± {gmu['accuracy_std']:.3f}" if "accuracy_std" in gmu else "")
        calibration = f"{gmu['calibration_error']:.3f} ({cells['late_product']['calibration_error']:.3f})"
        rows.append(row + [f"{gmu['macro_f1']:.3f}", calibration, f"{gmu['gate_text_mean']:.2f}"])
    header = [
        "condition",
        *FUSION_MODELS.values(),
        "GMU macro-F1",
        "GMU calibration error (late, product)",
        "GMU gate toward text",
    ]
    return markdown_table(header, rows)


def _adherence_table(bench: dict) -> str:
    controls = list(next(iter(bench["adherence"].values())))
    rows = [
        [GENERATOR_BACKENDS[backend], *(f"{scores[c]:.3f}" for c in controls)]
        for backend, scores in bench["adherence"].items()
    ]
    return markdown_table(["backend", *controls], rows)


def _generator_quality_table(bench: dict) -> str:
    rows = []
    for backend, q in bench["quality"].items():
        ppl = f"{q['ppl_word']:.1f}" if "ppl_word" in q else "-"
        cells = [f"{q['rouge_l']:.2f}", f"{q['bleu_2']:.2f}", f"{q['distinct_1']:.3f}", f"{q['distinct_2']:.3f}"]
        rows.append([GENERATOR_BACKENDS[backend], ppl, *cells, f"{q['mean_words']:.1f}"])
    header = ["backend", "word perplexity", "ROUGE-L", "BLEU-2", "distinct-1", "distinct-2", "words per reply"]
    return markdown_table(header, rows)


def _selection_table(selection: dict) -> str:
    rows = [
        [name, f"{row['params_m']}", f"{row['weights_mb_float32']}", f"{row['peak_rss_mb']:.0f}",
         f"{row['reply_40_tokens_ms_p50']:.0f}", row["weights"]]
        for name, row in selection["models"].items()
    ]  # fmt: skip
    header = [
        "model",
        "parameters (M)",
        "float32 weights (MB)",
        "peak memory (MB)",
        "40-token reply p50 (ms)",
        "weights",
    ]
    return markdown_table(header, rows)


def render_context(results_dir: Path = RESULTS_DIR, models_dir: Path = SHIPPED_MODELS_DIR) -> dict:
    """Every value a template may name: each ``results/<name>.json`` by its name, each shipped
    manifest by its folder name, and the tables and ratios built from them."""
    context: dict = {path.stem: json.loads(path.read_text()) for path in sorted(Path(results_dir).glob("*.json"))}
    for name in SHIPPED_CARDS:
        context[name] = artifacts.read_manifest(Path(models_dir) / name).to_dict()
    face, text = context["bench_face"], context["bench_text"]
    text_names = {
        "shipped": "all-MiniLM-L6-v2 fine-tuned, float16 storage (shipped, `assets/models/text`)",
        "tfidf_lr": "TF-IDF + logistic regression, fit in the run",
    }
    ours, peer = face["mepe"], face["mini_xception"]
    recall = sorted(ours["per_class_recall"], key=lambda c: peer["per_class_recall"][c] - ours["per_class_recall"][c])
    last_epoch = _last_history_row(Path(models_dir) / "face")
    context.update(
        face_table=_face_table(face),
        face_latency_ratio=ours["latency_ms_p50"] / peer["latency_ms_p50"],
        face_accuracy_gain=100 * (ours["private_test_accuracy"] - peer["private_test_accuracy"]),
        face_macro_f1_gain=100 * (ours["private_test_macro_f1"] - peer["private_test_macro_f1"]),
        face_tta_gain=100 * (ours["private_test_accuracy_flip_tta"] - ours["private_test_accuracy"]),
        face_recall_comparison=", ".join(
            f"{name} {ours['per_class_recall'][name]:.3f} vs {peer['per_class_recall'][name]:.3f}" for name in recall
        ),
        face_last_epoch=last_epoch,
        face_train_gap=100 * (last_epoch["accuracy"] - last_epoch["val_accuracy"]),
        text_table=_text_table(text, text_names),
        inference_table=_inference_table(context["bench_inference"]),
        fusion_table=_fusion_table(context["bench_fusion"]),
        detect_table=_detect_table(context["bench_detect"]),
        detect_margin_sweep=_margin_sweep(context["bench_detect"]),
        detect_levelling=_levelling(context["bench_detect"]),
        detect_class_recall=format_class_recall(context["bench_detect"]["fer_photo_path"]),
        generator_adherence_table=_adherence_table(context["bench_generator"]),
        generator_quality_table=_generator_quality_table(context["bench_generator"]),
        llm_selection_table=_selection_table(context["bench_llm_selection"]),
    )
    shipped, baseline = text["shipped"], text["tfidf_lr"]
    check = shipped["check_set"]
    context.update(
        text_train_minutes=context["text"]["training"]["train_seconds"] / 60,
        emoji_feelings_count=len(EMOJI_FEELINGS),
        news_events_count=sum(len(events) for events in load_feeling_words().news.values()),
        text_gain_28=100 * (shipped["test_macro_f1_28_tuned"] - baseline["test_macro_f1_28_tuned"]),
        text_gain_ekman=100 * (shipped["test_macro_f1_ekman_tuned"] - baseline["test_macro_f1_ekman_tuned"]),
        text_check={**check, "accuracy": shipped["check_set_accuracy"]},
        text_demo_reading=_demo_reading(shipped["demo_sentence"]),
        text_storage_table=_text_storage_table(text),
        text_weakest=", ".join(
            f"{w['label']} {w['f1']:.2f} ({w['support']} test comments)" for w in shipped["weakest_labels"]
        ),
        text_check_by_kind=", ".join(f"{kind} {value:.2f}" for kind, value in check["accuracy_by_kind"].items()),
        text_misread="\n".join(
            f'- "{miss["text"]}": read {miss["read"]}, expected {miss["expected"]}' for miss in check["misread"]
        )
        or "(none)",
    )
    fusion, conditions = context["fusion"], context["bench_fusion"]["conditions"]
    both, degraded = conditions["both"], conditions["face_degraded"]
    context.update(
        fusion_encoder_sha={name: e["model_sha256"][:12] for name, e in fusion["extra"]["encoders"].items()},
        fusion_signals=fusion["training"]["config"]["signals"],
        fusion_gain_single=100
        * (both["gmu"]["accuracy"] - max(both["text_only"]["accuracy"], both["face_only"]["accuracy"])),
        fusion_gain_late=100 * (both["gmu"]["accuracy"] - both["late_product"]["accuracy"]),
        fusion_degraded_gain=100 * (degraded["gmu"]["accuracy"] - degraded["late_product"]["accuracy"]),
    )
    return context


def _last_history_row(model_dir: Path) -> dict[str, float]:
    """The last epoch of the ``history.csv`` kept beside a shipped model."""
    import csv

    with (model_dir / "history.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: float(value) for key, value in rows[-1].items()}


class _StrictFormatter(string.Formatter):
    """``str.format`` that names the placeholder when a value is missing."""

    def get_field(self, field_name, args, kwargs):
        try:
            return super().get_field(field_name, args, kwargs)
        except (KeyError, IndexError, TypeError) as error:
            raise KeyError(f"template placeholder {{{field_name}}} has no value ({error!r})") from None


def render_template(path: Path, context: dict) -> str:
    """Fills the placeholders of a template file (``{{`` and ``}}`` stand for braces)."""
    return _StrictFormatter().vformat(Path(path).read_text(), (), context)


def render_readme(readme: str, context: dict, template: Path = DOCS_DIR / "readme_results.md") -> str:
    """``readme`` with the block between the results markers replaced by the rendered template."""
    pattern = re.compile(re.escape(RESULTS_BEGIN) + ".*?" + re.escape(RESULTS_END), re.DOTALL)
    if not pattern.search(readme):
        raise ValueError(f"README lacks the results markers {RESULTS_BEGIN!r} ... {RESULTS_END!r}")
    block = f"{RESULTS_BEGIN}\n{render_template(template, context).strip()}\n{RESULTS_END}"
    return pattern.sub(lambda _: block, readme)


def render_card(model_dir: Path, context: dict, template: Path) -> str:
    """A shipped model's ``MODEL_CARD.md``: the manifest's card plus the rendered notes template."""
    return artifacts.model_card(artifacts.read_manifest(model_dir), render_template(template, context))


def rendered_files(root: Path = REPO_ROOT) -> dict[Path, str]:
    """``{path: content}`` of every rendered file: the README, each shipped model's card, and the notebooks'
    badges and setup cell (:mod:`mepe_utils.notebook_setup`)."""
    context = render_context(root / "results", root / "assets" / "models")
    files = {root / "README.md": render_readme((root / "README.md").read_text(), context)}
    for name in SHIPPED_CARDS:
        model_dir = root / "assets" / "models" / name
        files[model_dir / artifacts.CARD_FILE] = render_card(
            model_dir, context, root / "docs" / "model_cards" / f"{name}.md"
        )
    files.update(rendered_notebooks(root))
    return files


def render_docs(root: Path = REPO_ROOT) -> list[Path]:
    """Writes every rendered file that changed (atomically), and the architecture diagram when its spec
    changed; returns the paths written."""
    written = []
    for path, content in rendered_files(root).items():
        if not path.is_file() or path.read_text() != content:
            artifacts.write_text_atomic(path, content)
            written.append(path)
    diagram = render_architecture(root)
    return written + ([diagram] if diagram else [])


def stale_files(root: Path = REPO_ROOT) -> list[Path]:
    """The rendered files (and the architecture diagram) that ``render_docs`` would change."""
    stale = [
        path for path, content in rendered_files(root).items() if not path.is_file() or path.read_text() != content
    ]
    return stale + ([] if architecture_is_current(root) else [root / ARCHITECTURE_PNG])
