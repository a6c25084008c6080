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
# # Phase 4: gated fusion of text and face
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mepe-project/mepe/blob/main/phase4_fusion/phase4_fusion.ipynb) [![Open In Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)](https://kaggle.com/kernels/welcome?src=https://github.com/mepe-project/mepe/blob/main/phase4_fusion/phase4_fusion.ipynb)
#
# Phases 1-3 read a person's words and face separately. This notebook fuses
# the two readings with a **gated multimodal unit** (GMU, Arevalo et al. 2017):
#
# ```
# h_t = tanh(W_t x_t)            the text's view
# h_f = tanh(W_f x_f)            the face's view
# z   = sigmoid(W_z [x_t; x_f])  per unit: how much of the text to take
# h   = z * h_t + (1 - z) * h_f  the persona embedding phase 5 reads
# ```
#
# Each input `x` is an encoder's embedding with its 7 class probabilities
# appended; a third input says which signals are present (a missing one forces
# the gate to the other). We check four claims, by measurement: the fusion is
# better than either signal alone, it survives a missing signal, it leans away
# from a degraded face, and its gate is a readable modality weight.
#
# The encoders are the shipped models (`assets/models/text`, `assets/models/face`).
# Their readings of every text and face are computed once and cached, keyed by
# the model files' sha256, so training never re-runs them. On a GPU the
# whole notebook takes a few minutes; `MEPE_SMOKE=1` runs it on a few hundred
# faces for CI.

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
from IPython.display import display

from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
from mepe_utils.runtime import is_smoke, resolve_artifacts_dir, resolve_data_dir
from mepe_utils.training.fusion import FusionSources, FusionTrainConfig

DATA = resolve_data_dir()  # MEPE_DATA_DIR: a folder holding goemotions/ and fer2013/
ARTIFACTS = resolve_artifacts_dir()
sources = FusionSources(
    text_model=SHIPPED_TEXT_MODEL,
    face_model=SHIPPED_FACE_MODEL,
    goemotions=DATA / "goemotions",
    fer2013=DATA / "fer2013",
    cache_dir=ARTIFACTS / "embedding_tables",
)
config = FusionTrainConfig()
print("smoke mode:", is_smoke(), "| artifacts:", ARTIFACTS)

# %% [markdown]
# ## 1. Label-matched pairs
# No public data set holds a person's text and face photo with one emotion
# label. So a pair is **label-matched**: a GoEmotions comment whose gold labels
# fall in exactly one Ekman class, with a FER-2013 face of the same class, in
# matching splits only (train x Training, dev x PublicTest, test x PrivateTest).
# Every face appears once per pairing with a text of its class drawn with
# replacement; training re-pairs every epoch, the test is 5 seeded pairings.
#
# **What this can show**: how a model weighs two independent, noisy views of one
# label, and what it does when one view is missing, degraded or disagrees.
# **What it cannot show**: how a real person's words and face go together. The
# two halves of a pair never came from one person, so the fusion can only learn
# "which reader to trust, and when", never a true cross-modal correlation (a
# smile that makes a sarcastic sentence sarcastic, say).
#
# Below, the test split's readings (computed on first use, then cached): how
# many usable texts and faces each class has.

# %%
from mepe_utils.bench.fusion import load_test_set
from mepe_utils.labels import FER_LABELS

test = load_test_set(sources, config)
text_counts = [(test.text_classes == k).sum() for k in range(7)]
face_counts = np.bincount(test.face_classes, minlength=7)
figure, axis = plt.subplots(figsize=(8, 3))
axis.bar(np.arange(7) - 0.2, text_counts, width=0.4, label="single-class GoEmotions test texts")
axis.bar(np.arange(7) + 0.2, face_counts, width=0.4, label="FER-2013 PrivateTest faces")
axis.set_xticks(range(7), FER_LABELS)
axis.legend()
axis.set_title("What the test pairs are made of")
plt.show()
print(f"{(test.text_classes >= 0).sum()} of {len(test.text_classes)} test texts have exactly one Ekman class")

# %% [markdown]
# A few pairs. Texts are Reddit comments, faces are 48x48 gray crops; they share
# only their label.

# %%
from mepe_utils.data.fer2013 import load_fer2013
from mepe_utils.data.goemotions import load_goemotions
from mepe_utils.data.pairs import pair_by_class

private = load_fer2013(sources.fer2013).split("PrivateTest")
face_rows = np.array([int(face_id.split(":")[1]) for face_id in test.face_ids])
test_texts = load_goemotions(sources.goemotions, splits=("test",))["test"]
if is_smoke():  # the smoke table is a sample of the split: keep the same rows
    from mepe_utils.predictors.embedding_tables import sample_rows

    test_texts = test_texts.subset(sample_rows(len(test_texts), len(test.text_classes)))
pairs = pair_by_class(test.text_classes, test.face_classes, np.random.default_rng([0]))
shown = [np.flatnonzero(test.face_classes == k)[0] for k in range(7) if (test.face_classes == k).any()]
figure, axes = plt.subplots(1, len(shown), figsize=(2.2 * len(shown), 3.2))
for axis, row in zip(axes, shown):
    axis.imshow(private.images[face_rows[row], ..., 0], cmap="gray")
    text = test_texts.texts[pairs.text_rows[row]]
    axis.set_title(FER_LABELS[test.face_classes[row]], fontsize=9)
    axis.set_xlabel("\n".join(text[i : i + 24] for i in range(0, min(len(text), 72), 24)), fontsize=7)
    axis.set_xticks([])
    axis.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Degraded faces
# Real photos are blurred, dark, half hidden, compressed or tiny. Each test and
# training face also exists in five degraded versions, made from the actual
# image and then read by the face CNN: Gaussian blur, low light, an occluding
# block, JPEG at low quality, and a downscale to 16 px and back. A share of the
# training faces is degraded so that the gate learns to lean toward the text
# when the face is poor.

# %%
from mepe_utils.data.face_degrade import DEGRADATIONS, degrade

examples = private.images[face_rows[shown[:4]]]
versions = {"clean": examples, **{name: degrade(examples, name) for name in DEGRADATIONS}}
figure, axes = plt.subplots(len(examples), len(versions), figsize=(1.7 * len(versions), 1.8 * len(examples)))
for column, (name, images) in enumerate(versions.items()):
    for row, image in enumerate(images):
        axes[row, column].imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
        axes[row, column].axis("off")
    axes[0, column].set_title(name, fontsize=9)
plt.show()

# %% [markdown]
# ## 3. Training
# `train_fusion` reads the cached readings of GoEmotions train x FER Training
# (computing them on first use: the longest step on a CPU), re-pairs every
# epoch, drops the text of 15% of pairs and the face of another 15%, degrades
# 30% of the faces, and keeps the epoch with the best dev x PublicTest accuracy.
# It checkpoints every epoch; rerunning the cell resumes.

# %%
from mepe_utils.training.checkpoints import RunFolder
from mepe_utils.training.fusion import train_fusion

RUN_DIR = ARTIFACTS / "fusion_run"
print("missing and degraded signals while training:", config.signals)
fusion_dir = train_fusion(sources, RUN_DIR, config, resume=RunFolder(RUN_DIR).has_checkpoint())
print("saved:", fusion_dir)

# %%
from IPython.display import Image

display(Image(str(RUN_DIR / "curves.png")))

# %% [markdown]
# ## 4. Against single signals and simpler fusions
# `run_fusion_benchmark` (the `mepe bench-fusion` command) measures, on the
# same test pairs and over 5 seeded pairings: each reader alone, late fusion
# (the product and the mean of the two probability vectors), an MLP on the
# concatenated readings trained with the same recipe, and the GMU, under every
# condition: both clean, either signal missing, each face degradation, a
# degraded face without text, and texts that contradict the face.

# %%
from mepe_utils.bench.fusion import print_fusion_benchmark, run_fusion_benchmark

results = run_fusion_benchmark(fusion_dir, sources, ARTIFACTS / "bench_fusion")
print_fusion_benchmark(results)

# %% [markdown]
# The committed full run of the shipped fusion model (`results/bench_fusion.json`,
# written by `mepe bench-fusion --json results/bench_fusion.json`) for comparison:

# %%
import json

shipped = json.loads((ROOT / "results" / "bench_fusion.json").read_text())
print(shipped["setup"]["command"])
print_fusion_benchmark(shipped)

# %% [markdown]
# ## 5. The gate as a modality weight
# The gate z is the share of the text in each unit of the persona embedding;
# its mean over units is the model's weight on the text. With both signals
# clean it settles somewhere between the two; with a degraded face it should
# move toward the text; with contradicting signals it shows whom the model
# believes.

# %%
from mepe_utils import artifacts
from mepe_utils.data.pairs import conflicting_pairs
from mepe_utils.models.fusion import GATE_OUTPUT, PERSONA_EMBEDDING, predict_fusion
from mepe_utils.plots import plot_gate_histograms

fusion, _ = artifacts.load_model(fusion_dir, kind=artifacts.FUSION_KIND, labels=FER_LABELS)
gates = {"clean face": predict_fusion(fusion, test.inputs(pairs.text_rows))[GATE_OUTPUT].mean(axis=1)}
for name in ("blur", "low_light", "downscale"):
    gates[name] = predict_fusion(fusion, test.inputs(pairs.text_rows, name))[GATE_OUTPUT].mean(axis=1)
conflicting = conflicting_pairs(test.text_classes, test.face_classes, np.random.default_rng([0, 1]))
gates["text contradicts face"] = predict_fusion(fusion, test.inputs(conflicting.text_rows))[GATE_OUTPUT].mean(axis=1)
plot_gate_histograms(gates)

# %% [markdown]
# ## 6. The persona embedding
# The fused vector h is what phase 5 reads. A PCA of the test pairs' persona
# embeddings, coloured by their class: the classes the fusion separates well
# form their own regions.

# %%
from sklearn.decomposition import PCA

from mepe_utils.plots import plot_embedding_projection

persona = predict_fusion(fusion, test.inputs(pairs.text_rows))[PERSONA_EMBEDDING]
points = PCA(n_components=2, random_state=0).fit_transform(persona)
plot_embedding_projection(points, test.face_classes, FER_LABELS, title="Persona embeddings of test pairs (PCA)")

# %% [markdown]
# ## 7. Real examples
# `FusionModel` puts the two readers and the fusion together: a sentence, a
# photo, or both, to one fused reading with its modality weight. A photo
# without a face, or no text, is a missing signal, not an error. (The command
# line does the same: `mepe analyze --text "..." --photo PATH`.)

# %%
import skimage.data

from mepe_utils.demo import DEFAULT_TEXT
from mepe_utils.predictors.fusion import FusionModel
from mepe_utils.predictors.report import format_fused_reading

analyzer = FusionModel.load(fusion_dir, sources.text_model, sources.face_model)
photo = skimage.data.astronaut()
cases = [
    (DEFAULT_TEXT, photo),
    (DEFAULT_TEXT, None),
    (None, photo),
    ("What a wonderful surprise, thank you all so much!", photo),
    (DEFAULT_TEXT, np.full((240, 320, 3), 200, np.uint8)),  # no face in this photo
]
for text, image in cases:
    print(format_fused_reading(analyzer.analyze(text, image)), "\n")

# %% [markdown]
# And test pairs as the model sees them: the face, the text, the fused answer
# and the weight it gave the text.

# %%
outputs = predict_fusion(fusion, test.inputs(pairs.text_rows))
figure, axes = plt.subplots(1, len(shown), figsize=(2.2 * len(shown), 3.4))
for axis, row in zip(axes, shown):
    axis.imshow(private.images[face_rows[row], ..., 0], cmap="gray")
    predicted = FER_LABELS[outputs["probabilities"][row].argmax()]
    text = test_texts.texts[pairs.text_rows[row]]
    axis.set_title(f"true {FER_LABELS[test.face_classes[row]]}\nfused {predicted}", fontsize=8)
    axis.set_xlabel(f"gate text {outputs[GATE_OUTPUT][row].mean():.2f}\n{text[:28]}", fontsize=7)
    axis.set_xticks([])
    axis.set_yticks([])
plt.tight_layout()
plt.show()
