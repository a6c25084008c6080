"""``assets/architecture.png``: MEPE's diagram, drawn from the package's modules and the shipped models' manifests.

Every box names the module that does the step and what the shipped model in it
is (its backbone, parameters, outputs), read from ``assets/models/*/manifest.json``
and the package's tables (persona traits, controls, crisis categories), so the
diagram changes when they do. The *spec* (boxes, their lines, the arrows) is
stored in the PNG's ``Description`` text chunk: ``mepe render-docs`` redraws the
picture only when the spec changed, and ``--check`` fails when the committed
picture's spec is not the current one (pixels differ between Matplotlib
versions; the spec does not).
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

from mepe_utils import artifacts

ARCHITECTURE_PNG = Path("assets") / "architecture.png"
SPEC_KEY = "Description"
YUNET_NAME = "YuNet (ONNX Runtime)"
WRAP_CHARACTERS = 34
"""A box's lines are wrapped at this many characters."""


def _size(manifest: artifacts.Manifest) -> str:
    """``"22.8M params"`` / ``"68k params"`` from the manifest, or ``"size not recorded"``."""
    params = manifest.extra.get("params")
    if params is None:
        return "size not recorded"
    return f"{params / 1e6:.1f}M params" if params >= 1e6 else f"{params / 1e3:.0f}k params"


def architecture_spec(models_dir: Path) -> dict:
    """The diagram's boxes (``title``, ``module``, ``lines``, ``column``, ``row``) and ``arrows``, from the
    manifests in ``models_dir`` and the package's tables."""
    from mepe_utils.persona.schema import CONTROLS, TRAITS
    from mepe_utils.safety.crisis import CATEGORIES

    manifests = {name: artifacts.read_manifest(models_dir / name) for name in
                 ("text", "face", "fusion", "persona", "generator")}  # fmt: skip
    text, face, fusion, persona, generator = (manifests[n] for n in ("text", "face", "fusion", "persona", "generator"))
    preset = Path(str(text.extra.get("preset", "encoder"))).name
    boxes = {
        "text_in": {"title": "Text", "module": "what the person wrote", "lines": [], "column": 0, "row": 0},
        "photo_in": {"title": "Photo", "module": "upload, webcam or file", "lines": [], "column": 0, "row": 2},
        "text": {
            "title": "Text reader",
            "module": "mepe_utils.predictors.text",
            "lines": [
                f"{preset} (KerasHub), fine-tuned",
                f"{len(text.labels)} GoEmotions + 7 Ekman",
                f"embedding {text.embedding['width']}, {_size(text)}",
            ],
            "column": 1,
            "row": 0,
        },
        "detect": {
            "title": "Face finder",
            "module": "mepe_utils.vision.faces",
            "lines": [YUNET_NAME, "every face, eyes levelled", "FER-framed 48x48 crops"],
            "column": 1,
            "row": 2,
        },
        "face": {
            "title": "Face reader",
            "module": "mepe_utils.predictors.face",
            "lines": [
                f"FER-2013 CNN, {'x'.join(map(str, face.input['shape'][:2]))} gray",
                f"{len(face.labels)} emotions",
                _size(face),
            ],
            "column": 2,
            "row": 2,
        },
        "fusion": {
            "title": "Gated fusion (GMU)",
            "module": "mepe_utils.predictors.fusion",
            "lines": [
                "gate z: weight of each signal",
                "a missing signal is masked",
                f"persona embedding {fusion.embedding['width']}, {_size(fusion)}",
            ],
            "column": 3,
            "row": 1,
        },
        "persona": {
            "title": "Persona",
            "module": "mepe_utils.persona.traits",
            "lines": [
                ", ".join(t.replace("_", " ") for t in TRAITS),
                f"trait heads, {_size(persona)}",
            ],
            "column": 4,
            "row": 1,
        },
        "policy": {
            "title": "Policy (rule table)",
            "module": "mepe_utils.persona.policy",
            "lines": ["traits -> " + ", ".join(c.replace("_", " ") for c in CONTROLS), "policy.toml, each rule named"],
            "column": 5,
            "row": 1,
        },
        "generator": {
            "title": "Reply generator",
            "module": "mepe_utils.generation.t5",
            "lines": [
                "T5 (KerasHub) trained on ESConv",
                "controls spelled out in the prompt",
                _size(generator),
            ],  # fmt: skip
            "column": 6,
            "row": 1,
        },
        "safety": {
            "title": "Safety layer",
            "module": "mepe_utils.safety",
            "lines": ["crisis check: " + ", ".join(c.replace("_", " ") for c in CATEGORIES), "reply screen"],
            "column": 6,
            "row": 0,
        },
        "reply": {"title": "Reply", "module": "in the persona's style", "lines": [], "column": 7, "row": 1},
    }
    arrows = [
        ("text_in", "text"), ("photo_in", "detect"), ("detect", "face"), ("text", "fusion"), ("face", "fusion"),
        ("fusion", "persona"), ("persona", "policy"), ("policy", "generator"), ("text_in", "safety"),
        ("safety", "generator"), ("generator", "reply"),
    ]  # fmt: skip
    return {"boxes": boxes, "arrows": [list(a) for a in arrows]}


def spec_text(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True)


def draw_architecture(spec: dict):
    """The diagram as a Matplotlib Figure (drawn on the figure it returns; the backend is never switched)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    figure = Figure(figsize=(19, 7.4), dpi=110)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-0.1, 8.1)
    axes.set_ylim(-0.5, 3.95)
    axes.axis("off")
    width, height = 0.92, 1.0
    centres = {}
    for name, box in spec["boxes"].items():
        x, y = box["column"] + 0.5, 2.75 - box["row"] * 1.3
        centres[name] = (x, y)
        is_input = not box["lines"]
        colour = (
            "#eef2f7" if is_input else "#dbe9f6" if box["column"] < 3 else "#fbe7d5" if box["column"] < 6 else "#e3f1df"
        )
        axes.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                      boxstyle="round,pad=0.02,rounding_size=0.06", facecolor=colour,
                                      edgecolor="#44546a", linewidth=1.2))  # fmt: skip
        axes.text(x, y + height / 2 - 0.1, box["title"], ha="center", va="top", fontsize=10.5, weight="bold")
        axes.text(x, y + height / 2 - 0.27, box["module"], ha="center", va="top", fontsize=7.5, family="monospace",
                  color="#35506b")  # fmt: skip
        lines = [part for line in box["lines"] for part in textwrap.wrap(line, WRAP_CHARACTERS)]
        axes.text(x, y + height / 2 - 0.42, "\n".join(lines), ha="center", va="top", fontsize=8, linespacing=1.35)
    for start, end in spec["arrows"]:
        (x0, y0), (x1, y1) = centres[start], centres[end]
        bend = 0.0
        if abs(y1 - y0) < 1e-6 and x1 - x0 > 1.5:  # over the boxes between: from top to top, bowed upwards
            a, b, bend = (x0, y0 + height / 2), (x1 - width / 4, y1 + height / 2), -0.12
        elif abs(y1 - y0) < 1e-6:
            a, b = (x0 + width / 2, y0), (x1 - width / 2, y1)
        elif abs(x1 - x0) < 1e-6:
            a, b = (x0, y0 - height / 2), (x1, y1 + height / 2)
        else:
            a, b = (x0 + width / 2, y0), (x1 - width / 2, y1 + (0.2 if y1 < y0 else -0.2))
        axes.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=14, color="#44546a", linewidth=1.2,
                                       connectionstyle=f"arc3,rad={bend}"))  # fmt: skip
    return figure


def architecture_png(spec: dict) -> bytes:
    """The PNG of :func:`draw_architecture`, its spec in the ``Description`` text chunk."""
    buffer = io.BytesIO()
    draw_architecture(spec).savefig(buffer, format="png", metadata={SPEC_KEY: spec_text(spec)})
    return buffer.getvalue()


def committed_spec(path: Path) -> str | None:
    """The spec stored in the PNG at ``path``, or None when there is no such picture or chunk."""
    if not path.is_file():
        return None
    from PIL import Image

    with Image.open(path) as image:
        return image.info.get(SPEC_KEY)


def architecture_is_current(root: Path) -> bool:
    return committed_spec(root / ARCHITECTURE_PNG) == spec_text(architecture_spec(root / "assets" / "models"))


def render_architecture(root: Path) -> Path | None:
    """Redraws ``assets/architecture.png`` when its spec changed (atomically); returns the path if written."""
    if architecture_is_current(root):
        return None
    path = root / ARCHITECTURE_PNG
    artifacts.write_bytes_atomic(path, architecture_png(architecture_spec(root / "assets" / "models")))
    return path
