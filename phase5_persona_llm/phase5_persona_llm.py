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
# # Phase 5: from readings to a persona, and from a persona to controls
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
# - 5C (the generated reply) comes with the generator.
#
# The trait heads read what the text model already computed (its sentence
# vector, embedding and 28 probabilities, plus writing-style features the
# uncased encoder cannot see), so the persona costs well under a millisecond
# on top of `mepe analyze`. `MEPE_SMOKE=1` runs this notebook on small samples
# for CI; the readings are cached (keyed by the text model's sha256).

# %%
import subprocess
import sys
from pathlib import Path

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "pyproject.toml").is_file())
try:
    import mepe_utils  # noqa: F401
except ImportError:  # a fresh Colab/Kaggle runtime: install this repository
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "-e", str(ROOT)])
    sys.path.insert(0, str(ROOT))

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from mepe_utils.persona.policy import Policy
from mepe_utils.persona.schema import CONTROLS, LEVELS, TRAITS
from mepe_utils.persona.traits import PersonaReader
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel
from mepe_utils.runtime import is_smoke, resolve_artifacts_dir, resolve_data_dir
from mepe_utils.training.persona import PersonaTrainConfig, branch_data, esconv_seeker_texts, text_readings

DATA = resolve_data_dir()  # MEPE_DATA_DIR: a folder holding emobank/, formality/, esconv/
CACHE = resolve_artifacts_dir() / "persona_readings"
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
