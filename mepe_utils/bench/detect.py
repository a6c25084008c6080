"""``python -m mepe_utils bench-detect``: face detectors on real photos, and FER-2013 through the photo path.

**Detectors.** Every face in the shared photos has a box in
``tests/data/face_boxes.csv``, annotated once by eye (YuNet's proposals at a
low score floor were each kept or rejected by looking at the photo, and the
one face YuNet never proposed, half hidden behind a monitor, was drawn by
hand; it is marked ``counted=0``: finding it is not expected, and a box on it
is not a false box). A detected box matches an annotated face at IoU >= 0.4,
each face at most once; a box matching no face is a false box.

**The score threshold** is chosen on half of the photos (the even rows of
the annotation file's photo order) and reported on the other half and on
all: YuNet runs at a low floor on the choosing half, and the threshold is the
midpoint between the lowest-scored face and the highest-scored false box
there (or, when they overlap, the highest threshold that maximises faces
found minus false boxes). The shipped :class:`~mepe_utils.vision.yunet.YuNetConfig`
holds the value this picks; the benchmark says so when they differ.

**FER-2013 through the photo path.** Each 48x48 face is drawn as a photo
(upscaled to 192 px, 48 px of replicated background on each side), run
through detection and framing, and read by the CNN; the result is compared
with the CNN reading the 48x48 faces directly. The margin is chosen on
PublicTest; the levelling rule is compared on PublicTest faces as they are
and turned by 30-45 degrees (FER-2013 itself holds few heads tilted beyond
what the CNN saw in training, so only turned faces can show what levelling is
for); the shipped framing is reported on PrivateTest.
"""

from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mepe_utils.bench.timing import format_table
from mepe_utils.errors import DataError
from mepe_utils.labels import FER_LABELS
from mepe_utils.runtime import REPO_ROOT, machine_record
from mepe_utils.vision.detection import DETECTORS, DetectedFace, Detector, make_detector
from mepe_utils.vision.framing import Framing, frame_face, refine_roll
from mepe_utils.vision.images import to_bgr
from mepe_utils.vision.yunet import YuNetDetector

FACE_BOXES_FILE = REPO_ROOT / "tests" / "data" / "face_boxes.csv"
MATCH_IOU = 0.4
"""A detected box finds an annotated face when their intersection over union is at least this."""
PROPOSAL_FLOOR = 0.3
"""YuNet's score floor while choosing the threshold (below it, nothing in the photos is a face)."""
FER_PHOTO_SIDE = 192
FER_PHOTO_PADDING = 48
FRAMING_MARGINS = (-0.1, -0.05, 0.0, 0.1, 0.2)
"""Margins compared on PublicTest (at the shipped levelling rule)."""
FRAMING_LEVELLING = (15.0, 30.0, 180.0)
""""Level the eyes beyond this tilt" (180 = never), compared on upright and on tilted PublicTest faces."""
FACELESS_CROPS = 40
"""Faceless crops drawn from each group photo (:func:`faceless_crops`)."""
TILT_RANGE = (30.0, 45.0)
"""The tilted condition turns each face by a seeded angle of this size, either way."""


@dataclass
class AnnotatedFace:
    """A face drawn by eye: its (x, y, w, h) box, and whether a detector is expected to find it."""

    box: tuple[int, int, int, int]
    counted: bool


def load_face_boxes(path: str | Path = FACE_BOXES_FILE) -> dict[str, list[AnnotatedFace]]:
    """Photo file name (relative to the photos folder) -> its annotated faces, in the file's photo order.

    Raises:
        DataError: a missing file or a malformed row (the message names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: face box annotations not found")
    boxes: dict[str, list[AnnotatedFace]] = {}
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                box = tuple(int(row[key]) for key in ("x", "y", "w", "h"))
                counted = {"1": True, "0": False}[row["counted"]]
            except (KeyError, TypeError, ValueError):
                raise DataError(f"{path}:{line}: expected photo,x,y,w,h,counted (0/1), got {row}") from None
            if box[2] <= 0 or box[3] <= 0:
                raise DataError(f"{path}:{line}: box {box} has no area")
            boxes.setdefault(row["photo"], []).append(AnnotatedFace(box, counted))
    return boxes


def iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = width * height
    return inter / (aw * ah + bw * bh - inter) if inter else 0.0


def match_faces(found: list[DetectedFace], annotated: list[AnnotatedFace]) -> tuple[list[bool], list[bool]]:
    """Matches detected boxes to annotated faces, most confident box first, each face at most once.

    Returns:
        ``(is_face, is_false)`` per detected box, in ``found``'s order: a box on a counted face,
        a box on nothing. A box on an uncounted face is neither.
    """
    order = sorted(range(len(found)), key=lambda i: -(found[i].score if found[i].score is not None else 0.0))
    taken: set[int] = set()
    is_face, is_false = [False] * len(found), [False] * len(found)
    for i in order:
        overlaps = [(iou(found[i].box, face.box), j) for j, face in enumerate(annotated) if j not in taken]
        best, j = max(overlaps, default=(0.0, -1))
        if best >= MATCH_IOU:
            taken.add(j)
            is_face[i] = annotated[j].counted
        else:
            is_false[i] = True
    return is_face, is_false


def choose_score_threshold(scores: list[float], is_face: list[bool], is_false: list[bool]) -> float:
    """The score threshold from candidates on the choosing photos (see the module docstring).

    Args:
        scores: each candidate box's score.
        is_face, is_false: whether it found a counted face / found nothing.
    """
    scores = np.asarray(scores, np.float64)
    faces, false = scores[np.asarray(is_face, bool)], scores[np.asarray(is_false, bool)]
    if len(faces) == 0:
        raise DataError("no face among the candidates: cannot choose a score threshold")
    if len(false) == 0 or false.max() < faces.min():
        upper = false.max() if len(false) else PROPOSAL_FLOOR
        return round(float((faces.min() + upper) / 2), 3)
    candidates = np.unique(scores)
    gains = [(faces >= t).sum() - (false >= t).sum() for t in candidates]
    return round(float(candidates[np.flatnonzero(gains == np.max(gains))[-1]]), 3)


def detect_photos(detector: Detector, photos: dict[str, np.ndarray], repeats: int) -> dict[str, dict]:
    """Each photo's faces and its median detection time over ``repeats`` runs (after one untimed run)."""
    results = {}
    for name, bgr in photos.items():
        faces = detector.detect(bgr)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            detector.detect(bgr)
            times.append(time.perf_counter() - start)
        results[name] = {"faces": faces, "ms": 1000.0 * float(np.median(times))}
    return results


def score_detections(detections: dict[str, dict], boxes: dict[str, list[AnnotatedFace]]) -> dict:
    """Recall, false boxes and time per photo over the photos in ``detections``."""
    found = expected = false = 0
    per_photo = {}
    for name, result in detections.items():
        is_face, is_false = match_faces(result["faces"], boxes[name])
        counted = sum(face.counted for face in boxes[name])
        found, expected, false = found + sum(is_face), expected + counted, false + sum(is_false)
        per_photo[name] = {"faces": counted, "found": sum(is_face), "false_boxes": sum(is_false), "ms": result["ms"]}
    return {
        "recall": found / expected,
        "faces_found": found,
        "faces": expected,
        "false_boxes": false,
        "ms_per_photo_p50": float(np.median([p["ms"] for p in per_photo.values()])),
        "photos": per_photo,
    }


def faceless_crops(
    photos: dict[str, np.ndarray], boxes: dict[str, list[AnnotatedFace]], per_photo: int = FACELESS_CROPS, seed: int = 0
) -> list[np.ndarray]:
    """Seeded square crops of the photos that keep clear of every annotated face (each box grown by half its size).

    A photo with no face must give no face; these crops (walls, shirts, desks, sky) are what a detector
    that retries hard on an empty photo could mistake for one. Photos whose name holds a ``/`` (tight crops)
    have no background to crop.
    """
    rng = np.random.default_rng(seed)
    crops = []
    for name, bgr in photos.items():
        if "/" in name:
            continue
        height, width = bgr.shape[:2]
        grown = [(x - w / 2, y - h / 2, 2 * w, 2 * h) for x, y, w, h in (face.box for face in boxes[name])]
        kept = 0
        for _ in range(100 * per_photo):
            if kept == per_photo:
                break
            side = int(rng.integers(64, min(height, width) // 2))
            x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
            if any(x < gx + gw and gx < x + side and y < gy + gh and gy < y + side for gx, gy, gw, gh in grown):
                continue
            crops.append(bgr[y : y + side, x : x + side])
            kept += 1
    return crops


def count_invented_faces(detector: Detector, crops: list[np.ndarray]) -> dict:
    """How many faceless crops the detector finds a face in."""
    invented = sum(1 for crop in crops if detector.detect(crop))
    return {"crops": len(crops), "with_a_face": invented, "share": invented / len(crops)}


def run_photo_detection(
    photos_dir: str | Path, boxes_file: str | Path = FACE_BOXES_FILE, repeats: int = 5, faceless: int = FACELESS_CROPS
) -> dict:
    """The detector half of the benchmark: the threshold choice, then each detector on both halves and all,
    and on ``faceless`` crops without a face from each group photo (:func:`faceless_crops`)."""
    from mepe_utils.vision.yunet import YuNetConfig, YuNetDetector

    boxes = load_face_boxes(boxes_file)
    photos = {name: to_bgr(Path(photos_dir) / name) for name in boxes}
    names = list(boxes)
    halves = {"choose": names[0::2], "report": names[1::2]}

    floor = YuNetDetector(config=YuNetConfig(score_threshold=PROPOSAL_FLOOR))
    scores, is_face, is_false = [], [], []
    for name in halves["choose"]:
        candidates = floor.detect(photos[name])
        faces, false = match_faces(candidates, boxes[name])
        scores += [face.score for face in candidates]
        is_face, is_false = is_face + faces, is_false + false
    threshold = choose_score_threshold(scores, is_face, is_false)

    detectors = {"yunet": YuNetDetector(config=YuNetConfig(score_threshold=threshold)), "haar": make_detector("haar")}
    results = {}
    for name, detector in detectors.items():
        detections = detect_photos(detector, photos, repeats)
        results[name] = score_detections(detections, boxes)
        for half, members in halves.items():
            part = score_detections({photo: detections[photo] for photo in members}, boxes)
            results[name][half] = {key: part[key] for key in ("recall", "faces_found", "faces", "false_boxes")}
        results[name]["faceless_crops"] = count_invented_faces(detector, faceless_crops(photos, boxes, faceless))
    return {
        "detectors": results,
        "score_threshold": {
            "chosen": threshold,
            "shipped": YuNetConfig().score_threshold,
            "chosen_on": halves["choose"],
            "reported_on": halves["report"],
            "rule": "midpoint between the lowest-scored face and the highest-scored false box on the choosing half",
        },
    }


def fer_as_photo(face: np.ndarray, turn: float = 0.0) -> np.ndarray:
    """A 48x48 FER face drawn as a photo: upscaled to 192 px with 48 px of replicated background around it.

    Args:
        face: (48, 48) or (48, 48, 1) uint8.
        turn: degrees to turn the photo by (counter-clockwise), for a tilted head.
    """
    import cv2

    big = cv2.resize(face.reshape(face.shape[:2]), (FER_PHOTO_SIDE, FER_PHOTO_SIDE), interpolation=cv2.INTER_CUBIC)
    pad = FER_PHOTO_PADDING
    photo = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    if turn:
        side = photo.shape[0]
        matrix = cv2.getRotationMatrix2D((side / 2, side / 2), turn, 1.0)
        photo = cv2.warpAffine(photo, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return photo


def tilts(count: int, seed: int = 0) -> np.ndarray:
    """Seeded turns of :data:`TILT_RANGE` size, half each way."""
    rng = np.random.default_rng(seed)
    return rng.uniform(*TILT_RANGE, size=count) * rng.choice([-1.0, 1.0], size=count)


@dataclass
class FerPhotos:
    """FER faces drawn as photos, and the largest face the photo path found in each.

    Attributes:
        grays: each photo, (288, 288) uint8.
        found: each photo's detected face, or None where the detector missed it.
    """

    grays: list[np.ndarray]
    found: list[DetectedFace | None]


def draw_and_detect(model, faces: np.ndarray, turns: np.ndarray | None = None) -> FerPhotos:
    """Draws each FER face as a photo (:func:`fer_as_photo`) and finds its face.

    Args:
        model: a loaded :class:`~mepe_utils.predictors.face.FaceEmotionModel`; its face finder detects
            (and measures tilts as its own framing asks).
        faces: (N, 48, 48, 1) uint8 faces.
        turns: degrees to turn each face's photo by (None: upright).
    """
    import cv2

    grays, found = [], []
    for face, turn in zip(faces, np.zeros(len(faces)) if turns is None else turns):
        gray = fer_as_photo(face, turn)
        detections = model.finder.find(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), largest_only=True)
        grays.append(gray)
        found.append(detections[0] if detections else None)
    return FerPhotos(grays, found)


def fer_photo_path(model, photos: FerPhotos, faces: np.ndarray, labels: np.ndarray, framings: list[Framing]) -> dict:
    """The CNN's accuracy on FER faces read directly and through the photo path, for each framing.

    Args:
        model: the loaded face model.
        photos: ``faces`` drawn as photos and detected (:func:`draw_and_detect`).
        faces: (N, 48, 48, 1) uint8 faces; labels: (N,) ids.
        framings: the framings to compare.

    Returns:
        ``{"direct_accuracy", "detection_rate", "direct_accuracy_on_detected", "direct_recall_on_detected",
        "faces", "framings": [{framing..., "accuracy", "accuracy_counting_misses", "recall"}]}``;
        ``accuracy`` is over the faces the detector found, ``accuracy_counting_misses`` counts a missed
        face as wrong, and the recalls are per FER class over the faces found (does the photo path
        lose one expression more than the others?).
    """

    def predicted(crops):
        return np.concatenate(
            [model.scores(np.stack(crops[i : i + 512]))["probabilities"].argmax(1) for i in range(0, len(crops), 512)]
        )

    direct = predicted(list(faces)) == labels
    rows = [i for i, face in enumerate(photos.found) if face is not None]
    result = {
        "faces": len(labels),
        "direct_accuracy": float(direct.mean()),
        "detection_rate": len(rows) / len(labels),
        "direct_accuracy_on_detected": float(direct[rows].mean()),
        "direct_recall_on_detected": recall_per_class(direct[rows], labels[rows]),
        "framings": [],
    }
    for framing in framings:
        crops = [frame_face(photos.grays[i], photos.found[i], framing) for i in rows]
        right = predicted(crops) == labels[rows]
        result["framings"].append(
            {
                **asdict(framing),
                "accuracy": float(right.mean()),
                "accuracy_counting_misses": right.sum() / len(labels),
                "recall": recall_per_class(right, labels[rows]),
            }
        )
    return result


def format_class_recall(fer_photo_path: dict) -> str:
    """``"angry 0.62 -> 0.61, ..."``: each class's recall read directly and through the photo path."""
    direct = fer_photo_path["direct_recall_on_detected"]
    return ", ".join(f"{name} {direct[name]:.2f} -> {recall:.2f}" for name, recall in fer_photo_path["recall"].items())


def recall_per_class(right: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The share of each FER class's faces read right (classes without a face are left out).

    Args:
        right: (N,) bool, whether each face was read as its label.
        labels: (N,) FER class ids.
    """
    return {name: float(right[labels == k].mean()) for k, name in enumerate(FER_LABELS) if (labels == k).any()}


def tilt_search(detector: YuNetDetector, photos: FerPhotos, framing: Framing) -> dict:
    """How the tilt search (:func:`~mepe_utils.vision.framing.refine_roll`) compares with scoring every turn.

    Args:
        detector: YuNet.
        photos: FER faces drawn as photos (the tilted ones give most faces to refine).
        framing: decides which faces need a refined tilt.

    Returns:
        ``{"faces_refined", "same_tilt", "same_levelling", "ms_search_p50", "ms_every_turn_p50"}``: the faces
        whose tilt was refined, the share where both give the same tilt, the share where both agree on
        whether to level the eyes, and the median time of one refinement each way.
    """
    import cv2

    same_tilt, same_levelling, searched, every = [], [], [], []
    for gray in photos.grays:
        bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        found = detector.detect(bgr)
        if not found or not framing.needs_refined_roll(found[0]):
            continue
        timings, tilts_found = [], []
        for exhaustive in (False, True):
            start = time.perf_counter()
            tilts_found.append(refine_roll(bgr, found[0], detector, exhaustive=exhaustive))
            timings.append(time.perf_counter() - start)
        searched.append(timings[0])
        every.append(timings[1])
        same_tilt.append(tilts_found[0] == tilts_found[1])
        same_levelling.append(framing.levels(tilts_found[0]) == framing.levels(tilts_found[1]))
    return {
        "faces_refined": len(same_tilt),
        "same_tilt": float(np.mean(same_tilt)) if same_tilt else None,
        "same_levelling": float(np.mean(same_levelling)) if same_levelling else None,
        "ms_search_p50": float(np.median(searched) * 1e3) if searched else None,
        "ms_every_turn_p50": float(np.median(every) * 1e3) if every else None,
    }


def run_detect_benchmark(
    photos_dir: str | Path,
    fer_dir: str | Path,
    model_dir: str | Path,
    *,
    boxes_file: str | Path = FACE_BOXES_FILE,
    repeats: int = 5,
    limit: int | None = None,
) -> dict:
    """Runs the whole benchmark.

    Args:
        photos_dir: the shared photos (``face_detection/photos``).
        fer_dir: FER-2013 (CSV or folder layout).
        model_dir: the saved face model.
        boxes_file: the annotations.
        repeats: timed detections per photo.
        limit: use only the first ``limit`` faces of each FER split (quick checks).

    Returns:
        ``{"detectors": {...}, "score_threshold": {...}, "fer_photo_path": {...}, "framing_choice": {...},
        "tilt_search": {...}, "setup": {...}}``.
    """
    from mepe_utils.data.fer2013 import load_fer2013
    from mepe_utils.predictors.face import FaceEmotionModel

    results = run_photo_detection(photos_dir, boxes_file, repeats)
    model = FaceEmotionModel.load(model_dir)
    fer = load_fer2013(fer_dir)
    shipped = model.finder.framing
    public = fer.split("PublicTest")
    faces, labels = public.images[:limit], public.labels[:limit]
    margins = [Framing(margin, shipped.level_beyond_degrees) for margin in FRAMING_MARGINS]
    public_photos = draw_and_detect(model, faces)
    choice = fer_photo_path(model, public_photos, faces, labels, margins)
    best = max(choice["framings"], key=lambda row: row["accuracy"])
    levelling = [Framing(best["margin"], level) for level in FRAMING_LEVELLING]
    upright = fer_photo_path(model, public_photos, faces, labels, levelling)
    tilted_photos = draw_and_detect(model, faces, turns=tilts(len(labels)))
    tilted = fer_photo_path(model, tilted_photos, faces, labels, levelling)
    private = fer.split("PrivateTest")
    private_faces, private_labels = private.images[:limit], private.labels[:limit]
    report = fer_photo_path(model, draw_and_detect(model, private_faces), private_faces, private_labels, [shipped])
    results["framing_choice"] = {
        "split": "PublicTest",
        "best": best,
        **choice,
        "levelling": {
            "upright": upright["framings"],
            "tilted": {"turns": f"{TILT_RANGE[0]:.0f}-{TILT_RANGE[1]:.0f} degrees either way", **tilted},
        },
    }
    results["tilt_search"] = {
        "photos": f"PublicTest faces turned {TILT_RANGE[0]:.0f}-{TILT_RANGE[1]:.0f} degrees either way",
        **tilt_search(model.finder.detector, tilted_photos, shipped),
    }
    results["fer_photo_path"] = {
        "split": "PrivateTest",
        "accuracy": report["framings"][0]["accuracy"],
        "accuracy_counting_misses": report["framings"][0]["accuracy_counting_misses"],
        "recall": report["framings"][0]["recall"],
        "framing": asdict(model.finder.framing),
        **{key: value for key, value in report.items() if key != "framings"},
    }
    results["setup"] = {
        "photos": str(photos_dir),
        "boxes": str(boxes_file),
        "match_iou": MATCH_IOU,
        "detectors": list(DETECTORS),
        "fer_photo": f"{FER_PHOTO_SIDE} px face, {FER_PHOTO_PADDING} px replicated border",
        "timing": f"median of {repeats} detections per photo, then the median over photos",
        **machine_record(),
    }
    return results


def print_detect_benchmark(results: dict) -> None:
    rows = {}
    for name, values in results["detectors"].items():
        rows[name] = {
            "recall": values["recall"],
            "false_boxes": values["false_boxes"],
            "report_half_recall": values["report"]["recall"],
            "report_half_false": values["report"]["false_boxes"],
            "ms_per_photo_p50": values["ms_per_photo_p50"],
            "faceless_crops_with_a_face": values["faceless_crops"]["share"],
        }
    print(format_table(rows, list(next(iter(rows.values())))))
    threshold = results["score_threshold"]
    print(f"YuNet score threshold {threshold['chosen']} (chosen on {len(threshold['chosen_on'])} photos)")
    if threshold["chosen"] != threshold["shipped"]:
        print(f"note: the shipped YuNetConfig.score_threshold is {threshold['shipped']}, not {threshold['chosen']}")
    fer = results["fer_photo_path"]
    print(
        f"FER {fer['split']} through the photo path: accuracy {fer['accuracy']:.4f} on the {fer['detection_rate']:.1%}"
        f" detected (direct {fer['direct_accuracy_on_detected']:.4f} on those, {fer['direct_accuracy']:.4f} on all)"
    )
    print(f"recall per class, direct -> photo path: {format_class_recall(fer)}")
    choice = results["framing_choice"]
    best = choice["best"]
    print(f"best margin on PublicTest: {best['margin']} ({best['accuracy']:.4f}); shipped: {fer['framing']}")
    for condition, rows in (
        ("upright", choice["levelling"]["upright"]),
        ("tilted", choice["levelling"]["tilted"]["framings"]),
    ):
        cells = ", ".join(f"beyond {row['level_beyond_degrees']:.0f} deg {row['accuracy']:.4f}" for row in rows)
        print(f"levelling, {condition} PublicTest faces: {cells}")
    search = results["tilt_search"]
    if search["faces_refined"]:
        print(
            f"tilt search on {search['faces_refined']} tilted faces: same tilt as scoring every turn for"
            f" {search['same_tilt']:.1%}, same levelling for {search['same_levelling']:.1%};"
            f" {search['ms_search_p50']:.1f} ms against {search['ms_every_turn_p50']:.1f} ms"
        )
