"""``python -m mepe_utils`` / ``mepe``: one entry point, one subcommand per job.

Errors MEPE raises for bad input (:class:`mepe_utils.errors.MepeError`) and files
that cannot be read or written (``OSError``) print as one line with exit code 2;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from mepe_utils.errors import MepeError
from mepe_utils.options import add_config_options, config_from_args

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Registers ``function(args) -> exit code`` as subcommand ``name``."""

    def register(function):
        COMMANDS[name] = (help_text, configure, function)
        return function

    return register


def _data_dir_arg(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--data-dir", help=f"{what} (default: $MEPE_DATA_DIR/{{sub}}, then ../shared/data)")


def _run_folder_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="run folder: checkpoints, history, plots, model/")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")


def _command_line() -> str:
    return "python -m mepe_utils " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _goemotions_source(args: argparse.Namespace) -> str | Path:
    """``"hub"`` when asked for, else the GoEmotions TSV folder."""
    return args.data_dir if args.data_dir == "hub" else _resolve_sub(args.data_dir, "goemotions")


def _write_results(args: argparse.Namespace, results: dict) -> None:
    """Writes a benchmark's results to ``--json`` (when given), recording the command line."""
    from mepe_utils.artifacts import write_json_atomic

    if args.json:
        results["setup"]["command"] = _command_line()
        write_json_atomic(args.json, results)
        print(f"wrote {args.json}")


def _resolve_sub(path: str | None, sub: str) -> Path:
    from mepe_utils.runtime import resolve_data_dir

    if path is not None:
        return Path(path)
    return resolve_data_dir() / sub


def _optional_data(path: str | None, sub: str) -> Path | None:
    """``path``, else ``<data dir>/<sub>`` when that folder exists, else None."""
    from mepe_utils.runtime import resolve_data_dir

    if path is not None:
        return Path(path)
    data_dir = resolve_data_dir(required=False)
    return data_dir / sub if data_dir is not None and (data_dir / sub).is_dir() else None


# --- data -----------------------------------------------------------------------------------------


def _configure_data_summary(parser):
    _data_dir_arg(parser, "folder holding fer2013/ and goemotions/")
    parser.add_argument("--json", help="also write the counts to this JSON file")


@command("data-summary", "count rows per split and class in the FER-2013 and GoEmotions data", _configure_data_summary)
def data_summary(args) -> int:
    from mepe_utils.artifacts import write_json_atomic
    from mepe_utils.data.fer2013 import load_fer2013
    from mepe_utils.data.goemotions import load_goemotions_tsv_splits
    from mepe_utils.runtime import resolve_data_dir

    root = Path(args.data_dir) if args.data_dir else resolve_data_dir()
    faces = load_fer2013(root / "fer2013")
    summary = {"fer2013": {}, "goemotions": {}}
    for usage in sorted(set(faces.usage.tolist())):
        summary["fer2013"][usage] = faces.split(usage).class_counts()
    for split, data in load_goemotions_tsv_splits(root / "goemotions").items():
        summary["goemotions"][split] = {"rows": len(data), "multi_label_rows": int((data.labels.sum(1) > 1).sum())}
    for dataset, splits in summary.items():
        for split, counts in splits.items():
            print(f"{dataset:10s} {split:12s} {json.dumps(counts)}")
    if args.json:
        write_json_atomic(args.json, summary)
    return 0


# --- face -----------------------------------------------------------------------------------------


def _configure_train_face(parser):
    _data_dir_arg(parser, "FER-2013 folder layout or fer2013.csv")
    _run_folder_args(parser)
    parser.add_argument("--init-from", help="saved face model whose weights start the run (warm restart)")
    from mepe_utils.training.face import FaceTrainConfig

    add_config_options(parser, FaceTrainConfig)


@command("train-face", "train the FER-2013 face CNN (checkpoints every epoch, --resume)", _configure_train_face)
def train_face_command(args) -> int:
    from mepe_utils.training.face import FaceTrainConfig, train_face

    config = config_from_args(FaceTrainConfig, args)
    saved = train_face(
        _resolve_sub(args.data_dir, "fer2013"),
        args.out,
        config,
        resume=args.resume,
        init_from=args.init_from,
        command=_command_line(),
    )
    print(f"saved model: {saved}")
    return 0


def _configure_bench_face(parser):
    _data_dir_arg(parser, "FER-2013 folder layout or fer2013.csv")
    parser.add_argument("--model", help="MEPE saved face model (default: assets/models/face)")
    parser.add_argument("--peer", help="mini-Xception .hdf5 to compare against (its own preprocessing)")
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--calls", type=int, default=300, help="timed single-face calls (>= 200)")


@command("bench-face", "benchmark the shipped face CNN against mini-Xception on PrivateTest", _configure_bench_face)
def bench_face_command(args) -> int:
    from mepe_utils.bench.face import print_face_benchmark, run_face_benchmark
    from mepe_utils.predictors.face import SHIPPED_FACE_MODEL

    results = run_face_benchmark(
        _resolve_sub(args.data_dir, "fer2013"),
        model_dir=args.model or SHIPPED_FACE_MODEL,
        peer_path=args.peer,
        calls=args.calls,
    )
    print_face_benchmark(results)
    _write_results(args, results)
    return 0


def _configure_bench_detect(parser):
    parser.add_argument("--photos", help="the annotated photos (default: <data>/face_detection/photos)")
    parser.add_argument("--boxes", help="face box annotations (default: tests/data/face_boxes.csv)")
    _data_dir_arg(parser, "FER-2013 folder layout or fer2013.csv")
    parser.add_argument("--model", help="MEPE saved face model (default: assets/models/face)")
    parser.add_argument("--repeats", type=int, default=5, help="timed detections per photo")
    parser.add_argument("--limit", type=int, help="only the first LIMIT faces of each FER split (quick checks)")
    parser.add_argument("--json", help="write the results to this JSON file")


@command("bench-detect", "face detectors on the annotated photos, and FER-2013 through the photo path",
         _configure_bench_detect)  # fmt: skip
def bench_detect_command(args) -> int:
    from mepe_utils.bench.detect import FACE_BOXES_FILE, print_detect_benchmark, run_detect_benchmark
    from mepe_utils.predictors.face import SHIPPED_FACE_MODEL

    results = run_detect_benchmark(
        Path(args.photos) if args.photos else _resolve_sub(None, "face_detection") / "photos",
        _resolve_sub(args.data_dir, "fer2013"),
        args.model or SHIPPED_FACE_MODEL,
        boxes_file=args.boxes or FACE_BOXES_FILE,
        repeats=args.repeats,
        limit=args.limit,
    )
    print_detect_benchmark(results)
    _write_results(args, results)
    return 0


# --- text -----------------------------------------------------------------------------------------


def _configure_train_text(parser):
    from mepe_utils.training.text import TextTrainConfig

    _data_dir_arg(parser, "GoEmotions TSV folder, or 'hub' for the Hugging Face dataset")
    parser.add_argument(
        "--esconv-dir",
        help="ESConv folder: its first-person situations are scored, and trained on with --first-person-repeats "
        "(default: $MEPE_DATA_DIR/esconv, then ../shared/data, when present)",
    )
    _run_folder_args(parser)
    add_config_options(parser, TextTrainConfig)


@command("train-text", "fine-tune a KerasHub encoder on GoEmotions (checkpoints, --resume)", _configure_train_text)
def train_text_command(args) -> int:
    from mepe_utils.training.text import TextTrainConfig, train_text

    config = config_from_args(TextTrainConfig, args)
    source = _goemotions_source(args)
    esconv = _optional_data(args.esconv_dir, "esconv")
    saved = train_text(
        source, args.out, config, resume=args.resume, command=_command_line(), first_person_source=esconv
    )
    print(f"saved model: {saved}")
    return 0


def _configure_average_text_models(parser):
    from mepe_utils.training.text_soup import TextSoupConfig

    parser.add_argument(
        "--models", nargs=2, required=True, metavar=("FIRST", "SECOND"),
        help="two saved text models fine-tuned from one checkpoint; FIRST is share 0 (the reference)",
    )  # fmt: skip
    _data_dir_arg(parser, "GoEmotions TSV folder, or 'hub' for the Hugging Face dataset")
    parser.add_argument(
        "--esconv-dir", help="ESConv folder: its valid situations choose the share (default: $MEPE_DATA_DIR/esconv)"
    )
    parser.add_argument("--out", required=True, help="run folder: evaluation.json (the whole sweep), plots, model/")
    add_config_options(parser, TextSoupConfig)


@command("average-text-models", "average two fine-tuned text models' weights (a model soup), share chosen on dev",
         _configure_average_text_models)  # fmt: skip
def average_text_models_command(args) -> int:
    from mepe_utils.bench.timing import format_table
    from mepe_utils.training.text_soup import REPORTED_METRICS, TextSoupConfig, average_text_models

    esconv = _optional_data(args.esconv_dir, "esconv")
    if esconv is None:
        raise MepeError("the ESConv folder is needed to choose the share: give --esconv-dir")
    saved = average_text_models(
        tuple(args.models), _goemotions_source(args), esconv, args.out, config_from_args(TextSoupConfig, args),
        command=_command_line(),
    )  # fmt: skip
    soup = json.loads((Path(args.out) / "evaluation.json").read_text())["soup"]
    print(format_table({f"share {row['share']:.2f}": row for row in soup["sweep"]}, list(REPORTED_METRICS)))
    print(f"chosen share of the second model: {soup['chosen_share']}")
    print(f"saved model: {saved}")
    return 0


def _configure_bench_text(parser):
    _data_dir_arg(parser, "GoEmotions TSV folder, or 'hub' for the Hugging Face dataset")
    parser.add_argument("--shipped", help="the model reported as 'shipped' (default: assets/models/text)")
    parser.add_argument(
        "--check-set", help="first-person check set CSV (default: tests/data/first_person_check_set.csv)"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="another saved MEPE text model (repeatable); named after its folder",
    )
    parser.add_argument(
        "--esconv-dir",
        help="ESConv folder: its test situations are scored too (default: $MEPE_DATA_DIR/esconv, then "
        "../shared/data, when present)",
    )
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--calls", type=int, default=300, help="timed single-text calls (>= 200)")


@command("bench-text", "benchmark text models against a TF-IDF + logistic-regression baseline", _configure_bench_text)
def bench_text_command(args) -> int:
    from mepe_utils.bench.text import CHECK_SET, print_text_benchmark, run_text_benchmark
    from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL

    source = _goemotions_source(args)
    results = run_text_benchmark(
        source,
        shipped_dir=args.shipped or SHIPPED_TEXT_MODEL,
        model_dirs=args.model,
        check_set=args.check_set or CHECK_SET,
        first_person_source=_optional_data(args.esconv_dir, "esconv"),
        calls=args.calls,
    )
    print_text_benchmark(results)
    _write_results(args, results)
    return 0


# --- fusion ---------------------------------------------------------------------------------------


def _fusion_sources_args(parser):
    parser.add_argument("--data-dir", help="folder holding goemotions/ and fer2013/ (default: $MEPE_DATA_DIR)")
    parser.add_argument("--text-model", help="MEPE saved text model (default: assets/models/text)")
    parser.add_argument("--face-model", help="MEPE saved face model (default: assets/models/face)")
    parser.add_argument("--cache-dir", help="embedding-table cache (default: $MEPE_ARTIFACTS/embedding_tables)")


def _fusion_sources(args):
    from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
    from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
    from mepe_utils.runtime import resolve_artifacts_dir, resolve_data_dir
    from mepe_utils.training.fusion import FusionSources

    data = Path(args.data_dir) if args.data_dir else resolve_data_dir()
    return FusionSources(
        text_model=Path(args.text_model or SHIPPED_TEXT_MODEL),
        face_model=Path(args.face_model or SHIPPED_FACE_MODEL),
        goemotions=data / "goemotions",
        fer2013=data / "fer2013",
        cache_dir=Path(args.cache_dir) if args.cache_dir else resolve_artifacts_dir() / "embedding_tables",
    )


def _configure_train_fusion(parser):
    from mepe_utils.training.fusion import FusionTrainConfig

    _fusion_sources_args(parser)
    _run_folder_args(parser)
    add_config_options(parser, FusionTrainConfig)


@command("train-fusion", "train the gated fusion of text and face readings (--resume)", _configure_train_fusion)
def train_fusion_command(args) -> int:
    from mepe_utils.training.fusion import FusionTrainConfig, train_fusion

    config = config_from_args(FusionTrainConfig, args)
    saved = train_fusion(_fusion_sources(args), args.out, config, resume=args.resume, command=_command_line())
    print(f"saved model: {saved}")
    return 0


def _configure_bench_fusion(parser):
    _fusion_sources_args(parser)
    parser.add_argument("--fusion-model", help="MEPE saved fusion model (default: assets/models/fusion)")
    parser.add_argument("--work-dir", help="where the concat baseline trains (default: $MEPE_ARTIFACTS/bench_fusion)")
    parser.add_argument("--json", help="write the results to this JSON file")


@command(
    "bench-fusion",
    "the fusion model against single signals and simpler fusions, per condition",
    _configure_bench_fusion,
)
def bench_fusion_command(args) -> int:
    from mepe_utils.bench.fusion import print_fusion_benchmark, run_fusion_benchmark
    from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL
    from mepe_utils.runtime import resolve_artifacts_dir

    work_dir = Path(args.work_dir) if args.work_dir else resolve_artifacts_dir() / "bench_fusion"
    results = run_fusion_benchmark(args.fusion_model or SHIPPED_FUSION_MODEL, _fusion_sources(args), work_dir)
    print_fusion_benchmark(results)
    _write_results(args, results)
    return 0


def _check_arguments_early(args) -> None:
    """Names a bad ``--text``, ``--photo`` or ``--output`` in one line before any model loads (seconds).

    Raises:
        TextInputError: ``--text`` is empty or whitespace only.
        MepeError: ``--photo`` is an empty path.
        FileNotFoundError, IsADirectoryError: ``--photo`` is missing or a folder; ``--output`` is a folder or empty.
        NotADirectoryError: a part of ``--output``'s path is a file.
    """
    from mepe_utils.errors import TextInputError
    from mepe_utils.predictors.text import text_problem

    text, photo, output = (getattr(args, name, None) for name in ("text", "photo", "output"))
    if text is not None and (problem := text_problem(text)):
        raise TextInputError(f"--text: {problem}")
    if photo is not None and not photo.strip():
        raise MepeError("--photo: the path is empty")
    if photo and Path(photo).is_dir():
        raise IsADirectoryError(f"--photo {photo}: a folder, not a photo (analyze --batch reads folders)")
    if photo and not Path(photo).exists():
        raise FileNotFoundError(f"--photo {photo}: no such file")
    if output is not None:
        target = Path(output)
        if not output.strip() or target.is_dir():
            raise IsADirectoryError(f"--output {output!r}: not a file name; give one, such as records.jsonl")
        blocking = next((parent for parent in target.parents if parent.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise NotADirectoryError(f"--output {output}: {blocking} is a file, not a folder")


def _configure_analyze(parser):
    parser.add_argument("--text", help="what the person wrote")
    parser.add_argument("--photo", help="a photo of the person")
    parser.add_argument("--face", type=int, default=1, help="which face to read: its number in the listing, "
                        "1 = the largest [1]")  # fmt: skip
    parser.add_argument("--explain", action="store_true", help="also print trait scores and why each control")
    _engine_model_args(parser)
    parser.add_argument(
        "--batch", metavar="SOURCE",
        help="read many: a CSV/JSONL file (columns 'text' and/or 'photo') or a folder (photos, with the .txt of "
        "the same name as their text, and .txt files alone)",
    )  # fmt: skip
    _output_args(parser, "input")


@command("analyze", "read a sentence and/or a photo: fused emotions, the persona and its controls", _configure_analyze)
def analyze_command(args) -> int:
    from mepe_utils.persona.engine import PersonaEngine, format_persona_reading, persona_record
    from mepe_utils.safety.messages import CRISIS_MESSAGE

    _check_arguments_early(args)
    engine = PersonaEngine.load(**_engine_models(args))
    if args.batch:
        return _analyze_batch(engine, args)
    reading = _analyze_face(engine, args.text, Path(args.photo) if args.photo else None, args.face)
    crisis = _crisis_check(args.text)
    record = {**persona_record(reading, args.embedding), "safety": crisis.record()}
    if args.output:
        from mepe_utils.batch import write_jsonl

        write_jsonl(args.output, [record])
        print(f"wrote 1 record to {args.output}")
        return 0
    if args.json:
        print(json.dumps(record, indent=1))
        return 0
    explained = (engine.policy.reasons(), engine.reader.thresholds) if args.explain else (None, None)
    print(format_persona_reading(reading, *explained))
    if crisis.crisis:
        print(f"Safety:  crisis language ({crisis.found()}); MEPE answers with the crisis message, not a reply:")
        print(f"  {CRISIS_MESSAGE}")
    else:
        print("Safety:  no crisis language found")
    return 0


def _analyze_face(engine, text: str | None, photo, number: int):
    """``engine.analyze`` with the face given by its number in the listing (1 = the largest), as ``--face`` is.

    Raises:
        MepeError: ``number`` is below 1 or above the photo's faces (named in the listing's numbers).
    """
    from mepe_utils.errors import NoSuchFaceError

    if number < 1:
        raise MepeError(f"--face {number}: faces are numbered from 1, the largest first")
    try:
        return engine.analyze(text, photo, face=number - 1)
    except NoSuchFaceError as error:
        raise MepeError(
            f"--face {number}: the photo has {error.faces} face(s), numbered from 1, largest first"
        ) from None


def _crisis_check(text: str | None):
    """The crisis check of the person's words (none found when there are none)."""
    from mepe_utils.safety.crisis import CrisisCheck, detect_crisis

    return detect_crisis(text) if text is not None else CrisisCheck(False)


def _analyze_batch(engine, args) -> int:
    """``analyze --batch``: one record per input; an input that cannot be read gets an error record (exit 2)."""
    from mepe_utils.batch import analyze_items, read_each, report
    from mepe_utils.persona.engine import format_persona_reading, persona_record

    if args.text is not None or args.photo is not None:
        raise MepeError("--batch reads its inputs from SOURCE: leave out --text and --photo")
    items = analyze_items(args.batch)
    outcomes = read_each(items, f"analyzing {len(items)} inputs",
                         lambda item: _analyze_face(engine, item.text, item.photo, args.face), MepeError)  # fmt: skip
    records, tables = [], []
    for item, reading, why in outcomes:
        if why is not None:
            records.append(item.error_record(why))
            continue
        crisis = _crisis_check(item.text)
        records.append({"source": item.source, **persona_record(reading, args.embedding), "safety": crisis.record()})
        safety = f"crisis language ({crisis.found()})" if crisis.crisis else "no crisis language found"
        tables.append(f"== {item.source}\n{format_persona_reading(reading)}\nSafety:  {safety}")
    if not report(records, args.output, args.json) and tables:
        print("\n\n".join(tables))
    return 2 if len(tables) < len(outcomes) else 0


def _engine_model_args(parser: argparse.ArgumentParser) -> None:
    """The persona engine's model options (read back by :func:`_engine_models`)."""
    parser.add_argument("--fusion-model", help="MEPE saved fusion model (default: assets/models/fusion)")
    parser.add_argument("--text-model", help="its text model (default: assets/models/text)")
    parser.add_argument("--face-model", help="its face model (default: assets/models/face)")
    parser.add_argument("--persona-model", help="MEPE saved persona model (default: assets/models/persona)")


def _engine_models(args) -> dict[str, Path]:
    """The saved models an analyze or demo command names, the shipped ones for those it does not."""
    from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL
    from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
    from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL
    from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL

    return {
        "fusion_model": Path(args.fusion_model or SHIPPED_FUSION_MODEL),
        "text_model": Path(args.text_model or SHIPPED_TEXT_MODEL),
        "face_model": Path(args.face_model or SHIPPED_FACE_MODEL),
        "persona_model": Path(args.persona_model or SHIPPED_PERSONA_MODEL),
    }


# --- persona --------------------------------------------------------------------------------------


def _persona_sources_args(parser):
    parser.add_argument("--data-dir", help="folder holding emobank/, formality/, esconv/, dreaddit/")
    parser.add_argument("--text-model", help="MEPE saved text model (default: assets/models/text)")
    parser.add_argument("--cache-dir", help="text-readings cache (default: $MEPE_ARTIFACTS/text_readings)")


def _persona_sources(args) -> tuple[Path, Path, Path]:
    """(data folder, text model, cache folder) from the persona commands' arguments."""
    from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
    from mepe_utils.runtime import resolve_artifacts_dir, resolve_data_dir

    data = Path(args.data_dir) if args.data_dir else resolve_data_dir()
    cache = Path(args.cache_dir) if args.cache_dir else resolve_artifacts_dir() / "text_readings"
    return data, Path(args.text_model or SHIPPED_TEXT_MODEL), cache


def _configure_train_persona(parser):
    from mepe_utils.training.persona import PersonaTrainConfig

    _persona_sources_args(parser)
    parser.add_argument("--out", required=True, help="saved-model folder to write (assets/models/persona to ship)")
    add_config_options(parser, PersonaTrainConfig)


@command("train-persona", "train the persona's trait heads on EmoBank and formality scores (cached, resumable)",
         _configure_train_persona)  # fmt: skip
def train_persona_command(args) -> int:
    from mepe_utils.training.persona import PersonaTrainConfig, train_persona

    data, text_model, cache = _persona_sources(args)
    config = config_from_args(PersonaTrainConfig, args)
    saved = train_persona(config, data, cache, args.out, text_model=text_model, command=_command_line())
    print(f"saved model: {saved}")
    return 0


def _configure_bench_persona(parser):
    _persona_sources_args(parser)
    parser.add_argument("--persona-model", help="MEPE saved persona model (default: assets/models/persona)")
    parser.add_argument("--json", help="write the results to this JSON file")


@command("bench-persona", "persona traits vs EmoBank, formality and Dreaddit, with TF-IDF baselines",
         _configure_bench_persona)  # fmt: skip
def bench_persona_command(args) -> int:
    from mepe_utils.bench.persona import bench_persona, print_persona_benchmark
    from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL

    data, text_model, cache = _persona_sources(args)
    results = bench_persona(
        args.persona_model or SHIPPED_PERSONA_MODEL, data, cache, text_model=text_model, json_path=args.json,
        command=_command_line(),
    )  # fmt: skip
    print_persona_benchmark(results)
    if args.json:
        print(f"wrote {args.json}")
    return 0


def _configure_train_generator(parser):
    from mepe_utils.training.generator import GeneratorTrainConfig

    _persona_sources_args(parser)
    parser.add_argument("--persona-model", help="MEPE saved persona model (default: assets/models/persona)")
    _run_folder_args(parser)
    add_config_options(parser, GeneratorTrainConfig)


def _generator_sources(args):
    from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL
    from mepe_utils.training.generator import GeneratorSources

    data, text_model, cache = _persona_sources(args)
    return GeneratorSources(data / "esconv", text_model, Path(args.persona_model or SHIPPED_PERSONA_MODEL), cache)


@command("train-generator", "train the T5 reply generator on ESConv with measured controls (--resume, --preset)",
         _configure_train_generator)  # fmt: skip
def train_generator_command(args) -> int:
    from mepe_utils.training.generator import GeneratorTrainConfig, train_generator

    config = config_from_args(GeneratorTrainConfig, args)
    saved = train_generator(_generator_sources(args), args.out, config, resume=args.resume, command=_command_line())
    print(f"saved model: {saved}")
    return 0


def _configure_rebind_generator(parser):
    _persona_sources_args(parser)
    parser.add_argument("--persona-model", help="MEPE saved persona model (default: assets/models/persona)")
    parser.add_argument("--generator", help="saved generator whose T5 is kept (default: assets/models/generator)")
    parser.add_argument("--out", required=True, help="run folder: tokenizer, evaluation.json, model/")


@command("rebind-generator", "rebuild a generator's meter, strategy classifier and index for new text/persona models",
         _configure_rebind_generator)  # fmt: skip
def rebind_generator_command(args) -> int:
    from mepe_utils.generation.t5 import SHIPPED_GENERATOR_MODEL
    from mepe_utils.training.generator import rebind_generator

    generator = args.generator or SHIPPED_GENERATOR_MODEL
    saved = rebind_generator(generator, _generator_sources(args), args.out, command=_command_line())
    print(f"saved model: {saved}")
    return 0


def _configure_bench_safety(parser):
    parser.add_argument("--data-dir", help="folder holding esconv/ (default: $MEPE_DATA_DIR or ../shared/data)")
    parser.add_argument("--cache-dir", help="text-readings cache (default: $MEPE_ARTIFACTS/text_readings)")
    parser.add_argument("--contexts", type=int, default=300, help="ESConv test dialogues the generator answers")
    parser.add_argument("--no-generator", action="store_true", help="only the check sets (no ESConv, no models)")
    parser.add_argument("--json", help="write the results to this JSON file")


@command("bench-safety", "the safety layer: crisis recall and false alarms, the reply screen, generator replies",
         _configure_bench_safety)  # fmt: skip
def bench_safety_command(args) -> int:
    from mepe_utils.bench.safety import bench_safety, print_safety_benchmark

    args.text_model = None
    data, _, cache = _persona_sources(args)
    esconv = None if args.no_generator else data / "esconv"
    results = bench_safety(esconv, cache, contexts=args.contexts, json_path=args.json, command=_command_line())
    print_safety_benchmark(results)
    if args.json:
        print(f"wrote {args.json}")
    return 0


def _configure_bench_generator(parser):
    _persona_sources_args(parser)
    parser.add_argument("--persona-model", help="MEPE saved persona model (default: assets/models/persona)")
    parser.add_argument("--generator-model", help="MEPE saved generator (default: assets/models/generator)")
    parser.add_argument("--adherence-contexts", type=int, default=500, help="test dialogues in the adherence sample")
    parser.add_argument("--limit", type=int, help="score only the first N test examples (a quick check)")
    parser.add_argument("--no-speed", action="store_true", help="skip the reply and demo timings")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding instead of the default sampling")
    parser.add_argument(
        "--candidates",
        type=int,
        help="sampled replies per answer, the closest to the asked controls kept (default: the demo's)",
    )
    parser.add_argument("--json", help="write the results to this JSON file")


@command("bench-generator", "reply generators on ESConv test: control adherence, quality, speed",
         _configure_bench_generator)  # fmt: skip
def bench_generator_command(args) -> int:
    from dataclasses import replace

    from mepe_utils.bench.generator import bench_generator, print_generator_benchmark
    from mepe_utils.generation.decoding import REPLY_DECODING, DecodingConfig

    data, text_model, cache = _persona_sources(args)
    decoding = REPLY_DECODING if args.candidates is None else replace(REPLY_DECODING, candidates=args.candidates)
    decoding = DecodingConfig() if args.greedy else decoding
    results = bench_generator(
        args.generator_model, data / "esconv", cache, text_model=text_model, persona_model=args.persona_model,
        adherence_contexts=args.adherence_contexts, limit=args.limit, decoding=decoding, speed=not args.no_speed,
        json_path=args.json, command=_command_line(),
    )  # fmt: skip
    print_generator_benchmark(results)
    if args.json:
        print(f"wrote {args.json}")
    return 0


def _configure_bench_llm_selection(parser):
    parser.add_argument("--generator-model", help="MEPE saved generator (default: assets/models/generator)")
    parser.add_argument("--json", help="write the results to this JSON file")


@command("bench-llm-selection", "Flan-T5 small/base/large shapes and the shipped T5: size, memory, reply latency",
         _configure_bench_llm_selection)  # fmt: skip
def bench_llm_selection_command(args) -> int:
    from mepe_utils.bench.llm_selection import bench_llm_selection, print_llm_selection

    results = bench_llm_selection(args.generator_model, args.json, command=_command_line())
    print_llm_selection(results)
    if args.json:
        print(f"wrote {args.json}")
    return 0


# --- inference ------------------------------------------------------------------------------------


def _output_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    parser.add_argument("--output", metavar="FILE.jsonl", help=f"write one JSON record per {what} to this file")
    parser.add_argument("--embedding", action="store_true", help="include the embeddings in JSON records")


TEXT_CHUNK = 64
"""Texts ``predict-text`` reads per model call (the progress bar moves per chunk)."""


def _configure_predict_text(parser):
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="one or more texts (quote each)")
    parser.add_argument(
        "--file", action="append", default=[], metavar="SOURCE",
        help="also read the texts of a CSV/JSONL file (column 'text') or a folder of .txt files (repeatable)",
    )  # fmt: skip
    parser.add_argument("--model", help="MEPE saved text model (default: assets/models/text)")
    _output_args(parser, "text")


@command("predict-text", "read the emotions in texts, a CSV/JSONL file or a folder of .txt files",
         _configure_predict_text)  # fmt: skip
def predict_text_command(args) -> int:
    """Reads every text; a text that cannot be read gets an error record (one line on stderr) and the others
    go on (exit 2)."""
    from mepe_utils.batch import progress, report, text_items
    from mepe_utils.errors import TextInputError
    from mepe_utils.predictors.report import format_text_readings, reading_record
    from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel, text_problem

    _check_arguments_early(args)
    items = text_items(args.texts, args.file)
    if not items:
        raise TextInputError("no texts given: pass TEXT arguments or --file SOURCE")
    model = TextEmotionModel.load(args.model or SHIPPED_TEXT_MODEL)
    problems = [item.error or text_problem(item.text) for item in items]
    readable = [row for row, problem in enumerate(problems) if problem is None]
    chunks = [readable[start : start + TEXT_CHUNK] for start in range(0, len(readable), TEXT_CHUNK)]
    readings = {}
    for chunk in progress(chunks, len(chunks), f"reading {len(readable)} texts"):
        readings.update(zip(chunk, model.predict([items[row].text for row in chunk])))
    records = [
        items[row].error_record(problem) if problem else {"source": items[row].source,
                                                          **reading_record(readings[row], args.embedding)}
        for row, problem in enumerate(problems)
    ]  # fmt: skip
    for row, problem in enumerate(problems):
        if problem:
            print(items[row].error_line(problem), file=sys.stderr)
    if not report(records, args.output, args.json) and readings:
        print(format_text_readings([readings[row] for row in readable]))
    return 2 if any(problems) else 0


def _configure_predict_face(parser):
    from mepe_utils.vision.detection import DETECTORS

    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="photos, folders of photos, or CSV/JSONL files with a 'photo' column")  # fmt: skip
    parser.add_argument("--model", help="MEPE saved face model (default: assets/models/face)")
    parser.add_argument("--detector", choices=DETECTORS, default=DETECTORS[0], help="face detector (default: yunet)")
    parser.add_argument("--largest", action="store_true", help="read only the largest face of each photo")
    _output_args(parser, "photo")


@command("predict-face", "find every face in photos, folders or photo lists and read its emotion",
         _configure_predict_face)  # fmt: skip
def predict_face_command(args) -> int:
    """Reads each photo; a photo that cannot be read gets an error record (one line on stderr) and the others
    go on (exit 2)."""
    from mepe_utils.batch import photo_items, read_each, report
    from mepe_utils.errors import ImageError
    from mepe_utils.predictors.face import SHIPPED_FACE_MODEL, FaceEmotionModel
    from mepe_utils.predictors.report import format_face_readings, reading_record

    _check_arguments_early(args)
    items = photo_items(args.paths)
    model = FaceEmotionModel.load(args.model or SHIPPED_FACE_MODEL, detector=args.detector)
    outcomes = read_each(items, f"reading {len(items)} photos",
                         lambda item: model.predict(item.photo, largest_only=args.largest)[0], ImageError)  # fmt: skip
    records = []
    for item, reading, why in outcomes:
        if why is not None:
            records.append(item.error_record(why))
            continue
        record = reading_record(reading, args.embedding)
        records.append({"source": item.source, "photo": record.pop("source"), **record})
    readings = [reading for _, reading, why in outcomes if why is None]
    if not report(records, args.output, args.json) and readings:
        print(format_face_readings(readings))
    return 2 if len(readings) < len(outcomes) else 0


def _configure_bench_inference(parser):
    parser.add_argument("--text-model", help="MEPE saved text model (default: assets/models/text)")
    parser.add_argument("--face-model", help="MEPE saved face model (default: assets/models/face)")
    parser.add_argument("--fusion-model", help="MEPE saved fusion model for `analyze` (default: assets/models/fusion)")
    parser.add_argument(
        "--persona-model", help="MEPE saved persona model for `analyze` (default: assets/models/persona)"
    )
    parser.add_argument("--generator-model", help="MEPE saved generator for `demo` (default: assets/models/generator)")
    parser.add_argument("--calls", type=int, default=300, help="timed warm single-item calls (>= 200)")
    parser.add_argument("--batch", type=int, default=64, help="items per call for the throughput")
    parser.add_argument("--json", help="write the results to this JSON file")


@command("bench-inference", "cold start, latency, throughput and memory of the predictors", _configure_bench_inference)
def bench_inference_command(args) -> int:
    from mepe_utils.bench.inference import print_inference_benchmark, run_inference_benchmark

    results = run_inference_benchmark(
        args.text_model, args.face_model, args.fusion_model, args.persona_model, args.generator_model,
        calls=args.calls, batch=args.batch,
    )  # fmt: skip
    print_inference_benchmark(results)
    _write_results(args, results)
    return 0


def _configure_model_card(parser):
    parser.add_argument("model", help="a MEPE saved-model folder")
    parser.add_argument("--notes", help="a markdown file appended to the card")


@command("model-card", "re-render a saved model's MODEL_CARD.md from its manifest plus notes", _configure_model_card)
def model_card_command(args) -> int:
    from mepe_utils.artifacts import write_model_card

    notes = Path(args.notes).read_text() if args.notes else ""
    print(f"wrote {write_model_card(args.model, notes)}")
    return 0


# --- saved models ---------------------------------------------------------------------------------


def _configure_export_model(parser):
    parser.add_argument("source", help="a MEPE saved-model folder")
    parser.add_argument("--out", required=True, help="the folder to write the smaller copy to")
    parser.add_argument(
        "--weights",
        choices=("float32", "float16"),
        default="float16",
        help="how model.keras stores float weights; the model computes in float32 either way (default: float16)",
    )
    parser.add_argument("--quantize", choices=("int8",), help="Keras int8 quantisation (weights and activations)")


@command("export-model", "write a smaller copy of a saved model (float16 storage or int8)", _configure_export_model)
def export_model_command(args) -> int:
    from mepe_utils.artifacts import export_model

    saved = export_model(
        args.source, args.out, weights_storage=args.weights, quantize=args.quantize, command=_command_line()
    )
    print(f"saved model: {saved}")
    return 0


def _configure_free_yunet_size(parser):
    parser.add_argument("source", help="opencv_zoo's face_detection_yunet_2023mar.onnx (in the data folder)")
    parser.add_argument("--out", required=True, help="the file to write (the shipped one: mepe_utils.vision.yunet)")


@command("free-yunet-size", "write the YuNet file MEPE ships: opencv_zoo's, its input size left free (needs onnx)",
         _configure_free_yunet_size)  # fmt: skip
def free_yunet_size_command(args) -> int:
    from mepe_utils.vision.yunet_file import write_free_size_copy

    print(f"wrote {args.out} (sha256 {write_free_size_copy(args.source, args.out)})")
    return 0


def _configure_render_docs(parser):
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a rendered file is stale")


@command("render-docs", "render the README's results, model cards, notebook setup cells and architecture diagram",
         _configure_render_docs)  # fmt: skip
def render_docs_command(args) -> int:
    from mepe_utils.docs import render_docs, stale_files

    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path} (run: mepe render-docs)")
        return 1 if stale else 0
    for path in render_docs():
        print(f"rendered {path}")
    return 0


def _configure_run_notebooks(parser):
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="the .ipynb files (default: all five)")
    parser.add_argument("--full", action="store_true", help="train for real (needs a GPU); default: smoke mode")
    _data_dir_arg(parser, "the data folder the notebooks read")


@command("run-notebooks", "execute the phase notebooks top to bottom and save them with their outputs",
         _configure_run_notebooks)  # fmt: skip
def run_notebooks_command(args) -> int:
    from mepe_utils.notebook_runs import run_notebook
    from mepe_utils.notebook_setup import notebooks
    from mepe_utils.runtime import REPO_ROOT, resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    paths = [Path(p) for p in args.notebooks] or notebooks(REPO_ROOT)
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise MepeError(f"{path}: not a notebook (.ipynb) file")
    for path in paths:
        print(f"running {path} ({'full' if args.full else 'smoke mode'}) ...", flush=True)
        seconds = run_notebook(path, smoke=not args.full, data_dir=data_dir, command=_command_line())
        print(f"wrote {path} ({seconds:.0f} s)")
    return 0


# --- demo -----------------------------------------------------------------------------------------


def _configure_demo(parser):
    from mepe_utils.pipeline import BACKENDS

    parser.add_argument("--text", help="the person's words (default: the mission's demo sentence)")
    photo = parser.add_mutually_exclusive_group()
    photo.add_argument("--photo", help="a photo of the person (default: scikit-image's astronaut portrait)")
    photo.add_argument("--no-photo", action="store_true", help="read the words alone (the face is a missing signal)")
    parser.add_argument("--generator", choices=BACKENDS, default="t5", help="who writes the reply [t5]")
    parser.add_argument("--seed", type=int, help="the sampled reply's seed [0]; not with --greedy or retrieval")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding instead of the default sampling")
    parser.add_argument("--json", action="store_true", help="print persona, controls, weights and reply as JSON")
    parser.add_argument("--generator-model", help="MEPE saved generator (default: assets/models/generator)")
    _engine_model_args(parser)


@command("demo", "MEPE end to end: text and photo -> persona, controls and a reply that follows them", _configure_demo)
def demo_command(args) -> int:
    from mepe_utils.demo import NO_PHOTO, run_demo
    from mepe_utils.generation.decoding import DecodingConfig
    from mepe_utils.pipeline import format_response, response_record

    if args.seed is not None and (args.greedy or args.generator == "retrieval"):
        raise MepeError("--seed picks a sampled reply: greedy decoding and retrieval have no randomness to seed")
    _check_arguments_early(args)
    decoding = DecodingConfig(method="greedy") if args.greedy else None
    response = run_demo(
        text=args.text, photo=NO_PHOTO if args.no_photo else Path(args.photo) if args.photo else None,
        backend=args.generator,
        generator_model=args.generator_model, decoding=decoding, seed=args.seed or 0, **_engine_models(args),
    )  # fmt: skip
    if args.json:
        print(json.dumps(response_record(response), indent=1))
    else:
        print(format_response(response))
    return 0


def _configure_serve(parser):
    from mepe_utils.app import DEFAULT_HOST, DEFAULT_PORT
    from mepe_utils.pipeline import BACKENDS

    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on [{DEFAULT_HOST}: this machine only]"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port [{DEFAULT_PORT}]")
    parser.add_argument("--share", action="store_true", help="also ask Gradio for a public link (needs internet)")
    parser.add_argument("--generator", choices=BACKENDS, default="t5", help="who writes the reply [t5]")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding instead of the default sampling")
    parser.add_argument("--generator-model", help="MEPE saved generator (default: assets/models/generator)")
    _engine_model_args(parser)


@command("serve", "the web demo (Gradio): a text box, a photo or webcam, and MEPE's reading and reply",
         _configure_serve)  # fmt: skip
def serve_command(args) -> int:
    from mepe_utils.app import import_gradio, serve
    from mepe_utils.generation.decoding import DecodingConfig
    from mepe_utils.pipeline import MepePipeline

    import_gradio()  # the missing extra is named before the models load
    decoding = DecodingConfig(method="greedy") if args.greedy else None
    pipeline = MepePipeline.load(args.generator, args.generator_model, decoding=decoding, **_engine_models(args))
    serve(pipeline, args.host, args.port, args.share)
    return 0


# --- entry point ----------------------------------------------------------------------------------


USER_COMMANDS = ("demo", "analyze", "predict-text", "predict-face", "serve")
"""What people run MEPE for, listed first in ``mepe --help`` (then training, benchmarks, tools)."""
COMMAND_GROUPS = ("use", "training", "benchmarks", "tools")


def command_group(name: str) -> str:
    """The ``--help`` group of command ``name`` (one of :data:`COMMAND_GROUPS`)."""
    if name in USER_COMMANDS:
        return "use"
    if name.startswith("train-"):
        return "training"
    if name.startswith("bench-"):
        return "benchmarks"
    return "tools"


def help_order(names) -> list[str]:
    """``names`` grouped as :data:`COMMAND_GROUPS`: user commands in :data:`USER_COMMANDS` order, others as added."""

    def key(name: str) -> tuple[int, int]:
        group = command_group(name)
        within = USER_COMMANDS.index(name) if group == "use" else 0
        return COMMAND_GROUPS.index(group), within

    return sorted(names, key=key)


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The ``mepe`` parser; only the ``chosen`` command's options are built (they may import its configs)."""
    from mepe_utils import __version__

    parser = argparse.ArgumentParser(
        prog="mepe",
        description="MEPE, the Multimodal Emotion Persona Engine: read a person's emotion from text and a face "
        "photo, and answer in the style their persona calls for.",
        epilog="Commands are listed in groups: " + ", ".join(COMMAND_GROUPS) + ". "
        "'mepe COMMAND --help' shows a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"mepe {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in help_order(COMMANDS):
        help_text, configure, function = COMMANDS[name]
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            configure(sub)
            sub.set_defaults(run=function)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((word for word in argv if word in COMMANDS), None)
    if chosen and "--debug" not in argv:
        from mepe_utils.quiet_startup import import_tensorflow_quietly

        import_tensorflow_quietly(lean=True)
    parser = build_parser(chosen)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except (MepeError, OSError) as error:  # bad input or a file that cannot be read or written: one line
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
