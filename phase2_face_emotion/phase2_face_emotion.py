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
# # Phase 2: reading emotion from a face
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mepe-project/mepe/blob/main/phase2_face_emotion/phase2_face_emotion.ipynb) [![Open In Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)](https://kaggle.com/kernels/welcome?src=https://github.com/mepe-project/mepe/blob/main/phase2_face_emotion/phase2_face_emotion.ipynb)
#
# MEPE's face half: a residual CNN trained on **FER-2013** (35,887 gray 48x48
# faces, 7 emotions), and the photo pipeline that turns a real picture into the
# 48x48 crop the CNN expects. Everything here is a call into `mepe_utils`; this
# notebook is the story around those calls.
#
# Protocol: train on `Training`, choose the epoch on `PublicTest`, report
# `PrivateTest` once. Set `MEPE_SMOKE=1` to run it in a minute on a CPU (tiny
# data, one epoch, tiny model), as CI does.
#
# **Colab / Kaggle**: open it with the badge above; the first cell clones and
# installs MEPE and reports the GPU. FER-2013 comes from `MEPE_DATA_DIR`, the
# Kaggle input `/kaggle/input/fer2013` (add the dataset `msambare/fer2013` to
# the Kaggle notebook), or on Colab a `kagglehub` download, which reads
# `KAGGLE_USERNAME` and `KAGGLE_KEY` from the notebook's Colab secrets and says
# what to set when they are missing.

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
import tensorflow as tf

from mepe_utils.runtime import best_mixed_precision_policy, is_smoke, resolve_artifacts_dir

print("TensorFlow", tf.__version__, "| GPUs:", tf.config.list_physical_devices("GPU") or "none")
print("training precision policy:", best_mixed_precision_policy(), "| smoke mode:", is_smoke())
ARTIFACTS = resolve_artifacts_dir()
print("artifacts:", ARTIFACTS)

# %% [markdown]
# ## 1. The data
# FER-2013's classes are badly balanced: *disgust* has 436 training faces,
# *happy* 7,215. Labels always follow FER's own order (`mepe_utils.labels`),
# never the alphabetical order of the class folders.

# %%
from mepe_utils.data.fer2013 import load_fer2013, locate_fer2013
from mepe_utils.labels import FER_LABELS

FER_DIR = locate_fer2013(download=True)
faces = load_fer2013(FER_DIR)
counts = {usage: faces.split(usage).class_counts() for usage in ("Training", "PublicTest", "PrivateTest")}
figure, axis = plt.subplots(figsize=(8, 3))
for offset, (usage, per_class) in enumerate(counts.items()):
    axis.bar(np.arange(7) + 0.27 * (offset - 1), list(per_class.values()), width=0.27, label=usage)
axis.set_xticks(range(7), FER_LABELS)
axis.set_ylabel("faces")
axis.legend()
axis.set_title("FER-2013 faces per class and split")
plt.show()
print("Training faces per class:", counts["Training"])

# %%
figure, axes = plt.subplots(2, 7, figsize=(10, 3.2))
training = faces.split("Training")
for column, name in enumerate(FER_LABELS):
    rows = np.flatnonzero(training.labels == column)[:2]
    for row, index in enumerate(rows):
        axes[row, column].imshow(training.images[index, ..., 0], cmap="gray")
        axes[row, column].axis("off")
    axes[0, column].set_title(name)
plt.show()

# %% [markdown]
# ## 2. Training
# `train_face` builds the CNN (`mepe_utils.models.face`), trains it with
# augmentation (flip, rotation, shift, zoom, brightness, contrast, random
# erasing), label smoothing, sqrt-inverse-frequency sample weights, AdamW with
# warm-up and cosine decay, and keeps the best `PublicTest` epoch. It writes a
# checkpoint after every epoch: if the runtime disconnects, rerunning this cell
# resumes where it stopped.

# %%
from mepe_utils.training.checkpoints import RunFolder
from mepe_utils.training.face import FaceTrainConfig, train_face

RUN_DIR = ARTIFACTS / "face_run"
config = FaceTrainConfig()  # shrunk automatically under MEPE_SMOKE=1
model_dir = train_face(FER_DIR, RUN_DIR, config, resume=RunFolder(RUN_DIR).has_checkpoint())
print("saved:", model_dir)

# %%
from IPython.display import Image, display

display(Image(str(RUN_DIR / "curves.png")))

# %% [markdown]
# ## 3. How good is it?
# The saved model is loaded back through the checked loader (hash, labels,
# Keras safe mode). Accuracy and macro-F1 on `PrivateTest`, with and without
# averaging each face with its mirror image.

# %%
from mepe_utils import artifacts
from mepe_utils.evaluation import classification_metrics
from mepe_utils.plots import plot_confusion_matrix
from mepe_utils.training.face import FACE_KIND, predict_probabilities, select_splits

model, manifest = artifacts.load_model(model_dir, kind=FACE_KIND, labels=FER_LABELS)
_, _, test = select_splits(faces)
if is_smoke():
    test = test.split("PrivateTest")  # all of it; the tiny model is fast
for tta in (False, True):
    report = classification_metrics(test.labels, predict_probabilities(model, test.images, flip_tta=tta), FER_LABELS)
    print(
        f"PrivateTest{' + flip TTA' if tta else ''}: accuracy {report['accuracy']:.4f}, "
        f"macro-F1 {report['macro_f1']:.4f}"
    )
plot_confusion_matrix(report["confusion"], FER_LABELS, title="PrivateTest")

# %% [markdown]
# ## 4. The worst mistakes
# The test faces the model got wrong with the most confidence. Many are
# ambiguous or mislabelled: FER-2013's human accuracy is about 65%.

# %%
probabilities = predict_probabilities(model, test.images)
predicted = probabilities.argmax(-1)
wrong = np.flatnonzero(predicted != test.labels)
worst = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:12]
figure, axes = plt.subplots(2, 6, figsize=(11, 4.2))
for axis, index in zip(axes.flat, worst):
    axis.imshow(test.images[index, ..., 0], cmap="gray")
    axis.set_title(
        f"true {FER_LABELS[test.labels[index]]}\npred {FER_LABELS[predicted[index]]} "
        f"{probabilities[index, predicted[index]]:.2f}",
        fontsize=8,
    )
    axis.axis("off")
plt.show()

# %% [markdown]
# ## 5. Real photos: every face, framed the way FER-2013 frames faces
# The CNN only ever saw FER's 48x48 crops, so a photo's faces must reach it
# framed the same way. `FaceFinder` decodes any photo (path, array, PIL; EXIF
# orientation, RGBA, 16-bit), finds every face with **YuNet** (opencv_zoo's small
# CNN detector, shipped in `assets/detectors/`, checked by sha256 and run in
# ONNX Runtime), measures
# the tilt of a tilted head, and cuts each face as a slightly tight square on
# the detector's box, levelled when the head leans further than the CNN saw in
# training. `mepe bench-detect` chose that framing by pushing FER-2013
# PublicTest faces through this very path (the numbers are in
# `results/bench_detect.json`), and chose YuNet's score threshold on half of a
# set of annotated real photos.
#
# A group photo: every face is read, largest first. Many of these faces are
# 11-20 px wide; OpenCV's Haar cascade, MEPE's first detector (still there as
# `FaceFinder("haar")`), found none of them at its settings.

# %%
import cv2
import skimage.data

from mepe_utils.plots import plot_faces
from mepe_utils.predictors.face import FaceEmotionModel
from mepe_utils.vision.faces import FaceFinder
from mepe_utils.vision.sample_photos import group_photo

reader = FaceEmotionModel.load(model_dir)
group_path = group_photo()
group = reader.predict(group_path)[0]
print(f"{len(group.faces)} faces found by YuNet;", len(FaceFinder("haar")(group_path).faces), "by Haar")
plot_faces(cv2.cvtColor(cv2.imread(str(group_path)), cv2.COLOR_BGR2RGB), group.faces)

# %% [markdown]
# One face up close: the box and the five landmarks YuNet gives, the 48x48
# crop the CNN reads, and its answer. A photo without a face is a result, not
# an error.

# %%
photo = skimage.data.astronaut()
found = FaceFinder()(photo)
face = found.faces[0]
scores = reader.scores(face.crop[None])["probabilities"][0]
figure, axes = plt.subplots(1, 3, figsize=(11, 3.4), gridspec_kw={"width_ratios": [3, 1.3, 3]})
x, y, w, h = face.detection.box
axes[0].imshow(cv2.rectangle(photo.copy(), (x, y), (x + w, y + h), (255, 0, 0), 3))
axes[0].scatter(*face.detection.landmarks.T, s=12, color="cyan")
axes[0].axis("off")
axes[1].imshow(face.crop[..., 0], cmap="gray")
axes[1].set_title("48x48 crop")
axes[1].axis("off")
axes[2].barh(FER_LABELS, scores)
axes[2].set_xlim(0, 1)
axes[2].set_title("face emotion")
plt.tight_layout()
plt.show()
print("no-face photo:", FaceFinder()(np.full((240, 320, 3), 200, np.uint8)).found)

# %% [markdown]
# ## 6. The saved model
# A MEPE saved-model folder: `model.keras`, `manifest.json` (labels, input
# spec, metrics, data, seed, versions, sha256) and `MODEL_CARD.md`. On Colab it
# lives on Drive when Drive is mounted; copy it to `assets/models/face/` to
# ship it.

# %%
print((model_dir / "MODEL_CARD.md").read_text()[:1500])
