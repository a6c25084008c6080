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
# # Phase 3: standalone inference
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mepe-project/mepe/blob/main/phase3_inference/phase3_inference.ipynb) [![Open In Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)](https://kaggle.com/kernels/welcome?src=https://github.com/mepe-project/mepe/blob/main/phase3_inference/phase3_inference.ipynb)
#
# Every later phase, and every user, reads emotions through two predictors:
# `TextEmotionModel` and `FaceEmotionModel` in `mepe_utils.predictors`. They
# load a saved MEPE model folder (by default the ones shipped in
# `assets/models/`), check it (manifest, sha256 of every file, label names and
# order, Keras safe mode, library versions), reject bad input with one clear
# sentence, and answer one item through a fast path (`predict_on_batch`, never
# `model.predict` per item).
#
# The same calls exist on the command line: `mepe predict-text "..."` and
# `mepe predict-face PHOTO ...` (add `--json` for records). This notebook
# needs no GPU and no training; `MEPE_SMOKE=1` only shortens the benchmark.

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

from mepe_utils.predictors.face import FaceEmotionModel
from mepe_utils.predictors.text import TextEmotionModel
from mepe_utils.runtime import is_smoke

text_reader = TextEmotionModel.load()
face_reader = FaceEmotionModel.load()
for name, reader in (("text", text_reader), ("face", face_reader)):
    metrics = {k: round(v, 3) for k, v in reader.manifest.metrics.items() if "test" in k and "public" not in k}
    print(f"{name}: {reader.manifest.kind}, {len(reader.manifest.labels)} labels, test metrics {metrics}")

# %% [markdown]
# ## 1. Text
# The shipped text model is all-MiniLM-L6-v2 fine-tuned on GoEmotions (phase
# 1). A reading holds the 28 probabilities, the labels above their dev-tuned
# thresholds, the Ekman view (the 7 classes the face model also speaks), the
# embedding for fusion, whether the text was truncated, and its **coverage**:
# the share of its words the model was fine-tuned on. Emoji are read as words
# (the feeling of a face or heart emoji, the name of any other). A text in another language is valid input, but the
# model learned from English comments: its coverage is low and the reading
# says plainly that it is a guess.

# %%
from mepe_utils.demo import DEFAULT_TEXT
from mepe_utils.predictors.report import format_text_readings

texts = [
    DEFAULT_TEXT,
    "Thank you so much, this made my whole week!",
    "I can't believe they cancelled the show, I'm so upset right now.",
    "Is this really the best you could do?",
    "😭😭😭",
    "Je suis tellement fatigué aujourd'hui.",
]
readings = text_reader.predict(texts)
print(format_text_readings(readings))

# %%
from mepe_utils.labels import FER_LABELS

figure, axis = plt.subplots(figsize=(9, 3))
ekman = np.array([[r.ekman[name] for name in FER_LABELS] for r in readings])
image = axis.imshow(ekman, cmap="Blues", vmin=0, vmax=1)
axis.set_xticks(range(7), FER_LABELS)
axis.set_yticks(range(len(texts)), [t[:40] for t in texts])
figure.colorbar(image)
axis.set_title("Ekman view of each text")
plt.show()

# %% [markdown]
# ## 2. Faces
# A photo (path, array, PIL or OpenCV image) goes through EXIF orientation and
# colour conversion, YuNet face detection (every face, largest first, with five
# landmarks and a score), the framing FER-2013's crops have (eyes levelled when
# the head leans far) and the CNN. Each face gets its own reading; fusion and
# `mepe analyze` use the largest unless told otherwise (`--face N`). A photo
# without a face is a result (`found=False`), not an error.

# %%
import cv2
import skimage.data

from mepe_utils.plots import plot_faces
from mepe_utils.predictors.report import format_face_readings
from mepe_utils.vision.sample_photos import group_photo

photo = skimage.data.astronaut()
wall = np.full((300, 400, 3), 190, np.uint8)
group_path = group_photo()
face, no_face, group = face_reader.predict([photo, wall, group_path])
print(format_face_readings([face, no_face]))
print(format_face_readings([group]).replace(str(group_path), group_path.name))
plot_faces(cv2.cvtColor(cv2.imread(str(group_path)), cv2.COLOR_BGR2RGB), group.faces)

# %%
x, y, w, h = face.box
figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5), gridspec_kw={"width_ratios": [1, 1.4]})
left.imshow(cv2.rectangle(photo.copy(), (x, y), (x + w, y + h), (255, 0, 0), 3))
left.axis("off")
right.barh(list(face.probabilities), list(face.probabilities.values()))
right.set_xlim(0, 1)
right.set_title(f"top: {face.top_label}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Bad input
# Each problem is one sentence that names it; the command line prints that
# sentence and exits with code 2 (`--debug` shows the traceback).

# %%
from mepe_utils.errors import MepeError

for attempt in (
    lambda: text_reader.predict("   "),
    lambda: text_reader.predict(["fine", 42]),
    lambda: face_reader.predict(Path("no/such/photo.jpg")),
    lambda: face_reader.predict(ROOT / "README.md"),
):
    try:
        attempt()
    except MepeError as error:
        print(f"{type(error).__name__}: {error}")

# %% [markdown]
# ## 4. Reproducibility and speed
# The same input gives the same numbers in any process (the tests check it
# across two processes). Within one process a read can differ from an earlier one
# by float rounding: a model answers its first calls eagerly, so that a one-shot
# command does not pay for tracing a graph it would use once, and later ones
# through the traced graph; a text read inside a batch, padded to the batch's
# longest text, differs by rounding too. `run_inference_benchmark` starts a fresh Python
# process per predictor and measures what a user waits for: the cold start
# (TensorFlow import and model checks included) to the first answer, warm
# single-item latency, batch throughput and peak memory. The README reports
# the full run of `mepe bench-inference`; here it runs shorter in smoke mode.

# %%
first, again = (text_reader.predict(texts[0])[0] for _ in range(2))
twice = max(abs(again.probabilities[k] - first.probabilities[k]) for k in first.probabilities)
print(f"read twice: largest difference {twice:.1e}")
in_batch = readings[0].probabilities  # the same text, read in a batch (padded to a longer width)
print(f"alone vs in a batch: largest difference {max(abs(in_batch[k] - first.probabilities[k]) for k in in_batch):.1e}")

# %%
from mepe_utils.bench.inference import print_inference_benchmark, run_inference_benchmark

results = run_inference_benchmark(calls=20 if is_smoke() else 300, batch=8 if is_smoke() else 64)
print_inference_benchmark(results)
