# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Phase 5: from readings to a persona, from a persona to controls, from controls to a reply
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mepe-project/mepe/blob/main/phase5_persona_llm/phase5_persona_llm.ipynb) [![Open In Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)](https://kaggle.com/kernels/welcome?src=https://github.com/mepe-project/mepe/blob/main/phase5_persona_llm/phase5_persona_llm.ipynb)
#
# Phases 1-4 read what a person feels, from their words and face. Phase 5
# turns those readings into something a reply can follow:
#
# - **5A, the persona**: five traits, each a score in [0, 1] and a level.
#   Where people have annotated a trait, the trait is a model trained and
#   scored on that annotation: emotional intensity is EmoBank's *arousal*,
#   confidence its *dominance*, and stress and sadness start from its
#   *valence*; formality preference comes from Pavlick & Tetreault's
#   formality scores. Stress and sadness are documented formulas over those
#   scores and the emotions of text and face, weighted by the fusion gate.
# - **5B, the policy**: a declarative rule table (`mepe_utils/persona/policy.toml`)
#   maps trait levels and missing signals to four controls (empathy, response
#   style, assertiveness, formality); each decision names the rules that set it.
# - **5C, the reply**: a T5 that writes an emotional-support reply following the
#   four controls, trained on real supporters' replies (ESConv) whose controls were
#   *measured on each reply*, so the model learns what "high empathy" or "formal"
#   looks like in real words; plus a retrieval backend of ESConv's human replies
#   as the honest baseline, and the Flan-T5 fine-tuning path for a GPU runtime.
#
# The trait heads read what the text model already computed (its sentence
# vector, embedding and 28 probabilities, plus writing-style features the
# uncased encoder cannot see), so the persona costs well under a millisecond
# on top of `mepe analyze`. `MEPE_SMOKE=1` runs this notebook on small samples
# for CI; the readings are cached (keyed by the text model's sha256).

# %%
# MEPE setup, the same first cell in every notebook (rendered from docs/notebook_setup.py by `mepe render-docs`).
# Inside a clone it uses the clone; opened from GitHub on Colab or Kaggle it clones MEPE's repository first.
# Either way it installs MEPE when it is not installed, then reports the runtime, the GPU and the data.
import os
import subprocess
import sys
from pathlib import Path

MEPE_REPOSITORY = "https://github.com/mepe-project/mepe"  # from pyproject.toml; $MEPE_REPOSITORY overrides it


def find_clone(start: Path) -> Path | None:
    """The MEPE clone that holds ``start``, if any."""
    for folder in [start, *start.parents]:
        if (folder / "pyproject.toml").is_file() and (folder / "mepe_utils").is_dir():
            return folder
    return None


ROOT = find_clone(Path.cwd())
if ROOT is None:  # a fresh Colab/Kaggle runtime, opened from GitHub
    ROOT = Path.cwd() / "mepe"
    if not (ROOT / "mepe_utils").is_dir():
        repository = os.environ.get("MEPE_REPOSITORY", MEPE_REPOSITORY)
        subprocess.check_call(["git", "clone", "--quiet", "--depth", "1", repository, str(ROOT)])
try:
    import mepe_utils  # noqa: F401
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--editable", str(ROOT)])
    sys.path.insert(0, str(ROOT))  # this kernel started before the install
    import mepe_utils  # noqa: F401

from mepe_utils.runtime import runtime_report

print(runtime_report())

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from mepe_utils.persona.policy import Policy
from mepe_utils.persona.schema import CONTROLS, LEVELS, TRAITS
from mepe_utils.persona.traits import PersonaReader
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel
from mepe_utils.predictors.text_readings import text_readings
from mepe_utils.runtime import is_smoke, resolve_artifacts_dir, resolve_data_dir
from mepe_utils.training.persona import PersonaTrainConfig, branch_data, esconv_seeker_texts

DATA = resolve_data_dir()  # MEPE_DATA_DIR: a folder holding emobank/, formality/, esconv/
CACHE = resolve_artifacts_dir() / "text_readings"
config = PersonaTrainConfig()
text_model = TextEmotionModel.load()
reader = PersonaReader.load(text_model=text_model.manifest)
policy = Policy.load()
print("smoke mode:", is_smoke(), "| persona model trained by:", reader.manifest.training.get("command"))

# %% [markdown]
# ## 5A. The persona schema
# A `Persona` holds the five traits (score and level), the fused emotion
# distribution it was read from, the weight the fusion gave each signal and
# the signals that were missing; `Controls` holds the four control signals.
# Both are versioned dataclasses with a checked JSON round trip.

# %%
display(Markdown("\n".join(
    ["| trait | levels |", "|---|---|"] + [f"| `{name}` | {' / '.join(LEVELS)} |" for name in TRAITS]
    + ["", "| control | values |", "|---|---|"] + [f"| `{name}` | {' / '.join(v)} |" for name, v in CONTROLS.items()]
)))  # fmt: skip

# %% [markdown]
# ## The trait models against the annotations
# Held-out sentences only: EmoBank's own test split and the test part of
# MEPE's seeded formality split (never seen in training or selection). Each
# point is a sentence: the annotators' mean score against the model's.
# `mepe bench-persona` scores the same sets against a TF-IDF ridge fitted in
# the same run (`results/bench_persona.json`).

# %%
sets = branch_data(DATA, config)
panels = [("emobank", "valence"), ("emobank", "arousal"), ("emobank", "dominance"), ("formality", "formality")]
figure, axes = plt.subplots(1, 4, figsize=(16, 3.8))
for axis, (branch, output) in zip(axes, panels):
    test = sets[branch]["test"]
    inputs = text_readings(SHIPPED_TEXT_MODEL, f"{branch}-test", test.texts, CACHE).inputs()
    predicted = reader.forward(inputs["reading"], inputs["style"])[output]
    actual = test.column(output)
    axis.scatter(actual, predicted, s=4, alpha=0.35)
    axis.set_xlabel(f"annotated {output}")
    axis.set_ylabel("model")
    axis.set_title(f"{output}: r = {np.corrcoef(actual, predicted)[0, 1]:.2f} (n = {len(actual)})")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Levels: terciles over the people MEPE serves
# A score becomes Low / Medium / High by thresholds with a stated principle:
# the terciles of each trait over **ESConv seekers' utterances**, real people
# asking for emotional support, read as text only. The thresholds were
# computed once, at training time, and live in the persona model's manifest;
# nothing was tuned to make any sentence come out a certain way. Here are the
# traits over (a sample of) that population, with the shipped thresholds.

# %%
seekers = esconv_seeker_texts(DATA, config)
seeker_readings = text_model.predict(seekers)
personas = [reader.read(reading) for reading in seeker_readings]
figure, axes = plt.subplots(1, 5, figsize=(18, 3.4))
for axis, name in zip(axes, TRAITS):
    scores = np.array([p.traits[name].score for p in personas])
    axis.hist(scores, bins=30, color="C0", alpha=0.7)
    for threshold in reader.thresholds[name]:
        axis.axvline(threshold, color="C3", linestyle="--")
    axis.set_title(name.replace("_", " "))
    axis.set_xlabel("score")
axes[0].set_ylabel(f"ESConv seeker utterances (n = {len(personas)})")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5B. The policy: a rule table, shipped as data
# Each rule has a control, a value, a priority, conditions on trait levels (and
# on missing signals) and a reason. For each control the matching rules of the
# highest priority decide (the table is tested to be unambiguous there), and a
# default row covers every persona no rule matches. The tests check all
# 3^5 = 243 level combinations, with and without each signal: the table is
# total, unambiguous and monotone (more sadness or stress never lowers
# empathy; a more formal writer never gets a more casual reply).

# %%
rows = ["| control | value | rule | priority | when | why |", "|---|---|---|---|---|---|"]
for rule in sorted(policy.rules, key=lambda r: (r.control, -r.priority)):
    when = "; ".join(f"{k} {' or '.join(v)}" for k, v in rule.when.items()) or "-"
    if rule.missing:
        when += f"; missing {' or '.join(rule.missing)}"
    rows.append(f"| {rule.control} | {rule.value} | `{rule.name}` | {rule.priority} | {when} | {rule.reason} |")
rows += [f"| {control} | {value} | `default` | - | no rule matched | the table's default |"
         for control, value in policy.defaults.items()]  # fmt: skip
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## Personas of real people
# A handful of ESConv seekers' own words, read as text only, with the
# controls the table derives and the rules behind them.

# %%
rng = np.random.default_rng(5)
for index in rng.choice(len(seekers), size=min(5, len(seekers)), replace=False):
    persona = personas[index]
    controls = policy.decide(persona)
    print(f"{seekers[index]!r}")
    print(
        "  persona: ", " | ".join(f"{n.replace('_', ' ')} {t.level} ({t.score:.2f})" for n, t in persona.traits.items())
    )
    print("  controls:", " | ".join(f"{n.replace('_', ' ')} {d.value} <- {', '.join(d.rules)}"
                                    for n, d in controls.decisions.items()))  # fmt: skip

# %% [markdown]
# ## The mission's demo sentence, with a face
# `PersonaEngine` (what `mepe analyze` and `mepe demo` run) reads the sentence
# and the photo, fuses them, reads the persona and decides the controls. The
# face enters sadness, intensity and stress through the fusion's gate-weighted
# emotions; without a face the traits come from the text alone, and the
# persona says so.

# %%
import skimage.data

from mepe_utils.persona.engine import PersonaEngine, format_persona_reading

engine = PersonaEngine.load()
sentence = "I feel overwhelmed and frustrated with how things are going."
for photo in (skimage.data.astronaut(), None):
    lines = format_persona_reading(engine.analyze(sentence, photo)).splitlines()
    print("\n".join(lines[:3] + lines[-2:]), end="\n\n")  # fused, weights, missing, persona, controls

# %% [markdown]
# ## 5C. Replies that follow the controls
#
# **Data.** ESConv (Liu et al., ACL 2021; CC BY-NC 4.0, research use only): 1,300
# conversations between a help seeker and a trained supporter. Every supporter turn
# after a seeker turn is one example, *the dialogue so far -> the supporter's reply*
# (the generator's manifest, printed below, counts them per split).
#
# **Controls measured on each reply** (`mepe_utils/generation/measure.py`): empathy
# and assertiveness from the reply's annotated strategy (reflecting feelings and
# reassurance are empathetic; suggestions and information are assertive; questions
# and restatements are tentative), style and formality from the phase 5A trait heads
# applied to the reply (arousal: calm vs upbeat; formality), levelled at their
# terciles over the train replies. The same meter scores generated replies, with a
# strategy classifier standing in for the annotators.
#
# **Prompt** (`mepe_utils/generation/prompt.py`): the controls spelled out first, an
# exemplar (the human reply to the most similar training message: retrieve and
# refine), then the newest turns of the dialogue.

# %%
from mepe_utils.demo import DEFAULT_TEXT
from mepe_utils.generation.prompt import build_prompt

demo_controls = {"empathy_level": "High", "response_style": "Calm", "assertiveness": "Low", "formality": "Casual"}
print(build_prompt([("usr", DEFAULT_TEXT)], demo_controls, "That sounds exhausting. What has been the hardest part?"))

# %% [markdown]
# **Which T5.** On a GPU runtime with KerasHub's Flan-T5 preset reachable (Kaggle),
# the cell below fine-tunes `flan_small_multi` on the same examples and prompts
# (`mepe train-generator --preset flan_small_multi`); everywhere else (and in CI's
# smoke mode) it loads the shipped T5, trained here from scratch. It prints which.

# %%
import tensorflow as tf

from mepe_utils.generation.t5 import SHIPPED_GENERATOR_MODEL, T5Generator
from mepe_utils.training.generator import GeneratorSources, GeneratorTrainConfig, train_generator

PRESET = "flan_small_multi"
generator_dir = SHIPPED_GENERATOR_MODEL
if tf.config.list_physical_devices("GPU") and not is_smoke():
    try:
        sources = GeneratorSources(DATA / "esconv", cache_dir=CACHE)
        run = resolve_artifacts_dir() / f"generator_{PRESET}"
        generator_dir = train_generator(
            sources, run, GeneratorTrainConfig(preset=PRESET), resume=(run / "checkpoints" / "state.json").is_file()
        )
    except Exception as error:  # no Kaggle access, no memory ...: say so and use the shipped model
        print(f"could not fine-tune {PRESET} ({type(error).__name__}: {error}); using the shipped T5")
        generator_dir = SHIPPED_GENERATOR_MODEL
generator = T5Generator.load(generator_dir, text_model, reader.forward)
print(
    "generator:",
    generator_dir,
    "|",
    generator.manifest.extra["backbone"],
    "|",
    generator.manifest.training.get("command"),
)
print("training examples per split:", generator.manifest.data.get("examples"))

# %% [markdown]
# ## One message, each control at its lowest and highest
# The other three controls stay at what the policy derives for the demo sentence;
# each reply's controls are then measured on it by the same meter that labelled the
# training replies.

# %%
from mepe_utils.generation.prompt import PROMPT_NAMES

asked = {name: decision.value for name, decision in engine.analyze(DEFAULT_TEXT).controls.decisions.items()}
rows = ["| control | asked | reply | measured on the reply |", "|---|---|---|---|"]
for control, values in CONTROLS.items():
    for value in (values[0], values[-1]):
        reply = generator.generate(DEFAULT_TEXT, {**asked, control: value})
        rows.append(
            f"| {PROMPT_NAMES[control]} | {value} | {reply.text} | {reply.controls_measured.get(control, '-')} |"
        )
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## Adherence and quality on ESConv test
# From `results/bench_generator.json` (the command that wrote it is printed below): for each control, the share of test dialogues where
# the reply asked for the highest value measures higher than the one asked for the
# lowest (ties half; a model that ignores the control sits at 0.5, as the static
# prompt does). MEPE's decoding writes three candidates and keeps the one whose
# measured controls come closest to the asked ones; since the same meter scores
# adherence, `t5_first_candidate` shows each answer's first candidate, before that
# choice: what the T5 follows by itself.

# %%
import json

bench = json.loads((ROOT / "results" / "bench_generator.json").read_text())
print(bench["setup"]["command"])
names = list(PROMPT_NAMES.values())
fig, ax = plt.subplots(figsize=(8, 3.5))
backends = list(bench["adherence"])
width = 0.8 / len(backends)
for position, backend in enumerate(backends):
    offset = (position - (len(backends) - 1) / 2) * width
    ax.bar(np.arange(len(names)) + offset, [bench["adherence"][backend][n] for n in names], width=width, label=backend)
ax.axhline(0.5, color="gray", linestyle="--", linewidth=1)
ax.axhline(0.8, color="black", linestyle=":", linewidth=1)
ax.set_xticks(range(len(names)), names)
ax.set_ylim(0, 1)
ax.set_ylabel("adherence")
ax.set_title("Does the reply follow the control? (ESConv test)")
ax.legend(loc="lower right")
plt.show()

rows = ["| backend | word perplexity | ROUGE-L | BLEU-2 | distinct-1 | distinct-2 |", "|---|---|---|---|---|---|"]
for backend, q in bench["quality"].items():
    ppl = f"{q['ppl_word']:.1f}" if "ppl_word" in q else "-"
    cells = [f"{q['rouge_l']:.2f}", f"{q['bleu_2']:.2f}", f"{q['distinct_1']:.3f}", f"{q['distinct_2']:.3f}"]
    rows.append(f"| {backend} | {ppl} | " + " | ".join(cells) + " |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## Choosing the language model
# From `results/bench_llm_selection.json` (`python -m mepe_utils bench-llm-selection`):
# Flan-T5 rows are built with random weights in the presets' exact shapes (Kaggle is
# unreachable where this was measured; the timing and memory of a shape do not depend
# on its weights), each in a fresh process, 40 new tokens greedy on the CPU named below.

# %%
selection = json.loads((ROOT / "results" / "bench_llm_selection.json").read_text())
rows = [
    "| model | parameters (M) | float32 weights (MB) | peak memory (MB) | 40-token reply (ms, p50) |",
    "|---|---|---|---|---|",
]
columns = ("params_m", "weights_mb_float32", "peak_rss_mb", "reply_40_tokens_ms_p50")
for name, row in selection["models"].items():
    rows.append(f"| {name} | " + " | ".join(str(row[c]) for c in columns) + " |")
display(Markdown("\n".join(rows) + f"\n\nCPU: {selection['setup']['cpu']}, {selection['setup']['cpu_count']} cores."))

# %% [markdown]
# ## The whole engine: the mission's demo
# `MepePipeline` (what `mepe demo` runs): both readers, the fusion, the persona, the
# policy and the reply.

# %%
from mepe_utils.pipeline import MepePipeline, format_response

pipeline = MepePipeline.load(generator_model=generator_dir)
print(format_response(pipeline.respond(DEFAULT_TEXT, skimage.data.astronaut())))

# %% [markdown]
# ## The safety layer
# Every message passes a crisis check before anything is generated, and every
# generated reply passes a screen before it is shown (`mepe_utils/safety/`). A message
# with crisis language gets a fixed, reviewed message that points to people and
# crisis lines, never a generated reply; a reply that fails the screen is written
# again, then replaced by a human reply from the retrieval index, then by a neutral line.

# %%
print(format_response(pipeline.respond("i can't do this anymore, i want to end my life")))

# %% [markdown]
# From `results/bench_safety.json` (`python -m mepe_utils bench-safety --json
# results/bench_safety.json`): the check sets in `tests/data/safety_*.csv` were
# written for MEPE, and the patterns against them, so these are floor checks.

# %%
safety = json.loads((ROOT / "results" / "bench_safety.json").read_text())
crisis, screen = safety["crisis"], safety["reply_screen"]
display(Markdown("\n".join([
    "| check | rate | on |", "|---|---|---|",
    f"| crisis path: recall | {crisis['recall']:.3f} | {crisis['positives']} crisis messages |",
    f"| crisis path: false alarms | {crisis['false_alarm_rate']:.3f} | {crisis['negatives']} ordinary messages |",
    f"| reply screen: catches | {screen['catch_rate']:.3f} | {screen['positives']} unacceptable replies |",
    f"| reply screen: passes | {screen['pass_rate']:.3f} | {screen['negatives']} acceptable replies |",
    f"| generator replies turned down | {safety['generator_rejected_share']:.3f} | "
    f"{safety['generator_replies']} ESConv test replies |",
])))  # fmt: skip
pipeline.close()
