"""``python -m mepe_utils bench-safety``: the safety layer on its check sets and on the generator's replies.

- **crisis**: recall on the messages of ``tests/data/safety_messages.csv`` that must set off the
  crisis path, false-alarm rate on those that must not (figures of speech, films, ordinary
  sadness, everyday talk), each by kind, with every miss and false alarm listed.
- **reply_screen**: the share of the unacceptable replies of ``tests/data/safety_replies.csv``
  the screen catches, and of the acceptable ones it passes, by kind, with every error listed.
- **generator_rejected_share**: the share of the shipped generator's replies (the product's
  decoding) to a seeded sample of ESConv test dialogues that the screen turns down, with examples;
  and, for scale, the share of ESConv test seeker messages that set off the crisis path.
- **latency_ms_p50_added**: what the layer adds to a reply when nothing fires (the crisis check
  of the demo sentence and the screen of a reply).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.bench.timing import latency_ms
from mepe_utils.data.safety_sets import SAFETY_MESSAGES, SAFETY_REPLIES, load_safety_messages, load_safety_replies
from mepe_utils.runtime import is_smoke, machine_record
from mepe_utils.safety.crisis import detect_crisis
from mepe_utils.safety.screen import screen_reply

EXAMPLES_SHOWN = 10


def _rates(items, flagged) -> dict:
    """Share flagged among positives and among negatives, overall and by kind; the rows it got wrong."""
    by_kind = defaultdict(list)
    for item, hit in zip(items, flagged, strict=True):
        by_kind[item.kind].append(hit)
    positives = [hit for item, hit in zip(items, flagged, strict=True) if item.positive]
    negatives = [hit for item, hit in zip(items, flagged, strict=True) if not item.positive]
    return {
        "flagged_positive": float(np.mean(positives)),
        "flagged_negative": float(np.mean(negatives)),
        "positives": len(positives),
        "negatives": len(negatives),
        "by_kind": {
            kind: {"rows": len(hits), "flagged": float(np.mean(hits))} for kind, hits in sorted(by_kind.items())
        },
        "errors": [
            {"text": item.text, "kind": item.kind, "expected": "flag" if item.positive else "pass"}
            for item, hit in zip(items, flagged, strict=True)
            if hit != item.positive
        ],
    }


def crisis_scores(messages_path: str | Path = SAFETY_MESSAGES) -> dict:
    """Recall and false-alarm rate of :func:`detect_crisis` on the message set."""
    items = load_safety_messages(messages_path)
    rates = _rates(items, [detect_crisis(item.text).crisis for item in items])
    return {"recall": rates.pop("flagged_positive"), "false_alarm_rate": rates.pop("flagged_negative"), **rates}


def screen_scores(replies_path: str | Path = SAFETY_REPLIES) -> dict:
    """Catch rate (unacceptable replies turned down) and pass rate (acceptable ones shown) of the screen."""
    items = load_safety_replies(replies_path)
    rates = _rates(items, [not screen_reply(item.text).passed for item in items])
    return {"catch_rate": rates.pop("flagged_positive"), "pass_rate": 1.0 - rates.pop("flagged_negative"), **rates}


def generator_screen(esconv_dir: str | Path, cache_dir: str | Path, contexts: int, seed: int = 0) -> dict:
    """The screen on the shipped generator's replies to a seeded sample of ESConv test dialogues."""
    from mepe_utils.bench.generator import policy_controls
    from mepe_utils.data.esconv import load_esconv, supporter_replies
    from mepe_utils.generation.t5 import SHIPPED_GENERATOR_MODEL, T5Generator
    from mepe_utils.persona.policy import Policy
    from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL, PersonaReader
    from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel
    from mepe_utils.predictors.text_readings import text_readings

    text_reader = TextEmotionModel.load(SHIPPED_TEXT_MODEL)
    persona_reader = PersonaReader.load(SHIPPED_PERSONA_MODEL, text_model=text_reader.manifest)
    t5 = T5Generator.load(SHIPPED_GENERATOR_MODEL, text_reader, persona_reader.forward)
    examples = supporter_replies(load_esconv(esconv_dir, splits=("test",))["test"])
    messages = sorted({e.seeker_last for e in examples})
    seeker_crisis = [text for text in messages if detect_crisis(text).crisis]
    sample = np.sort(np.random.default_rng(seed).permutation(len(examples))[: min(contexts, len(examples))])
    chosen = [examples[i] for i in sample]
    readings = text_readings(SHIPPED_TEXT_MODEL, "esconv-test-seeker-last", messages, cache_dir)
    controls_of = dict(zip(messages, policy_controls(persona_reader, Policy.load(), readings), strict=True))
    controls = [controls_of[e.seeker_last] for e in chosen]
    prompts = [t5.prompt(e.context, c) for e, c in zip(chosen, controls, strict=True)]
    replies = t5.answer(prompts, controls, seed=seed)[0]
    screens = [screen_reply(reply) for reply in replies]
    rejected = [(e, r, s) for e, r, s in zip(chosen, replies, screens, strict=True) if not s.passed]
    reasons = defaultdict(int)
    for _, _, screen in rejected:
        for reason in screen.reasons:
            reasons[reason] += 1
    return {
        "generator_rejected_share": len(rejected) / len(replies),
        "generator_replies": len(replies),
        "generator_rejected_by_rule": dict(sorted(reasons.items())),
        "generator_rejected_examples": [
            {"seeker": e.seeker_last, "reply": reply, "reasons": list(screen.reasons)}
            for e, reply, screen in rejected[:EXAMPLES_SHOWN]
        ],
        "generator_decoding": t5.manifest.model_sha256[:12] + ", " + _decoding(t5),
        "esconv_seeker_crisis_share": len(seeker_crisis) / len(messages),
        "esconv_seeker_crisis_examples": seeker_crisis[:EXAMPLES_SHOWN],
    }


def _decoding(t5) -> str:
    from mepe_utils.generation.decoding import describe_decoding

    return describe_decoding(t5.decoding)


def added_latency_ms() -> dict:
    """p50 of what the layer adds to a demo run when nothing fires: the crisis check and the reply screen."""
    from mepe_utils.demo import DEFAULT_TEXT

    reply = "That sounds really hard. I'm here to listen if you want to talk about it."
    timing = latency_ms(lambda: (detect_crisis(DEFAULT_TEXT), screen_reply(reply)), calls=2000, warmup=100)
    return {"latency_ms_p50_added": timing["p50"], "latency_ms_p95_added": timing["p95"]}


def bench_safety(
    esconv_dir: str | Path | None,
    cache_dir: str | Path,
    *,
    contexts: int = 300,
    json_path: str | Path | None = None,
    command: str = "",
) -> dict:
    """Runs the benchmark (see the module docstring); writes ``json_path`` when given.

    Args:
        esconv_dir: the ESConv folder (None: skip the generator's replies).
        cache_dir: the text-readings cache.
        contexts: ESConv test dialogues the generator answers.
        json_path: where to write the results.
        command: the command line, recorded in the results.
    """
    results = {"crisis": crisis_scores(), "reply_screen": screen_scores()}
    if esconv_dir is not None:
        results.update(generator_screen(esconv_dir, cache_dir, 16 if is_smoke() else contexts))
    results.update(added_latency_ms())
    results["setup"] = {
        "messages": str(SAFETY_MESSAGES.relative_to(SAFETY_MESSAGES.parents[2])),
        "replies": str(SAFETY_REPLIES.relative_to(SAFETY_REPLIES.parents[2])),
        "note": "the patterns and word lists were written against these sets: their numbers are a floor check",
        **machine_record(),
        "command": command,
        "smoke": is_smoke(),
    }
    if json_path:
        artifacts.write_json_atomic(json_path, results)
    return results


def print_safety_benchmark(results: dict) -> None:
    """The headline numbers and every check-set error."""
    crisis, screen = results["crisis"], results["reply_screen"]
    print(f"crisis path: recall {crisis['recall']:.3f} on {crisis['positives']} messages, "
          f"false alarms {crisis['false_alarm_rate']:.3f} on {crisis['negatives']}")  # fmt: skip
    print(f"reply screen: catches {screen['catch_rate']:.3f} of {screen['positives']} unacceptable replies, "
          f"passes {screen['pass_rate']:.3f} of {screen['negatives']} acceptable ones")  # fmt: skip
    for error in crisis["errors"] + screen["errors"]:
        print(f"  should {error['expected']} ({error['kind']}): {error['text']!r}")
    if "generator_rejected_share" in results:
        print(f"generator replies turned down: {results['generator_rejected_share']:.3f} of "
              f"{results['generator_replies']} ({results['generator_rejected_by_rule']})")  # fmt: skip
        print(f"ESConv test seeker messages on the crisis path: {results['esconv_seeker_crisis_share']:.3f}")
    print(f"added latency p50: {results['latency_ms_p50_added']:.3f} ms")
