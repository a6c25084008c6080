"""bench-detect: box matching, the threshold rule, the annotations, and YuNet on the real photos."""

import numpy as np
import pytest

from mepe_utils.bench.detect import (
    AnnotatedFace,
    choose_score_threshold,
    faceless_crops,
    fer_as_photo,
    iou,
    load_face_boxes,
    match_faces,
)
from mepe_utils.errors import DataError
from mepe_utils.vision.detection import DetectedFace


def _found(box, score):
    return DetectedFace(box, (box[0] + box[2] / 2, box[1] + box[3] / 2), max(box[2:]), None, score)


def test_iou_of_equal_disjoint_and_half_overlapping_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_each_face_is_matched_once_and_an_uncounted_face_is_neither_found_nor_false():
    annotated = [AnnotatedFace((0, 0, 10, 10), True), AnnotatedFace((50, 50, 10, 10), False)]
    found = [_found((1, 1, 10, 10), 0.9), _found((0, 0, 10, 10), 0.8), _found((50, 51, 10, 10), 0.7)]
    found.append(_found((100, 100, 10, 10), 0.95))
    is_face, is_false = match_faces(found, annotated)
    assert is_face == [True, False, False, False]  # the most confident box on the face takes it
    assert is_false == [False, True, False, True]  # a second box on a taken face is false; the hidden face is not


def test_the_threshold_is_the_midpoint_of_a_gap_or_the_best_trade_in_an_overlap():
    assert choose_score_threshold([0.9, 0.8, 0.5], [True, True, False], [False, False, True]) == 0.65
    scores, faces = [0.9, 0.7, 0.75, 0.6, 0.5], [True, True, False, True, False]
    false = [not face for face in faces]
    assert choose_score_threshold(scores, faces, false) == 0.6  # 3 faces, 1 false box: the best trade
    faces[3] = False  # now 0.9 (1 face, 0 false) ties 0.7 (2 faces, 1 false): the higher threshold wins
    assert choose_score_threshold(scores, faces, [not face for face in faces]) == 0.9
    with pytest.raises(DataError, match="no face"):
        choose_score_threshold([0.5], [False], [True])


def test_annotations_load_in_photo_order_and_bad_rows_are_named(tmp_path):
    boxes = load_face_boxes()
    assert sum(face.counted for faces in boxes.values() for face in faces) == 40
    assert list(boxes)[0] == "ibm_codait_office_group.jpg" and len(boxes) == 9
    bad = tmp_path / "boxes.csv"
    bad.write_text("photo,x,y,w,h,counted\na.jpg,1,2,3,4,yes\n")
    with pytest.raises(DataError, match="boxes.csv:2: expected photo,x,y,w,h,counted"):
        load_face_boxes(bad)


def test_a_fer_face_is_drawn_as_a_photo_with_background():
    face = np.full((48, 48, 1), 100, np.uint8)
    photo = fer_as_photo(face)
    assert photo.shape == (288, 288) and photo.dtype == np.uint8


def test_yunet_finds_the_annotated_faces_in_the_real_photos(real_data_dir):
    from mepe_utils.bench.detect import run_photo_detection

    photos = real_data_dir / "face_detection" / "photos"
    if not photos.is_dir():
        pytest.skip("no face_detection photos in the data folder")
    results = run_photo_detection(photos, repeats=1, faceless=10)
    yunet, haar = results["detectors"]["yunet"], results["detectors"]["haar"]
    assert yunet["recall"] >= 0.95 and yunet["false_boxes"] <= 3 and yunet["faces"] == 40
    assert yunet["recall"] > haar["recall"]
    assert results["score_threshold"]["chosen"] == results["score_threshold"]["shipped"]
    assert yunet["faceless_crops"]["crops"] == 7 * 10 and yunet["faceless_crops"]["with_a_face"] <= 3


def test_faceless_crops_keep_clear_of_every_face_and_skip_tight_crops():
    photo = np.zeros((400, 600, 3), np.uint8)
    photo[100:160, 200:260] = 255  # the face
    photos = {"group.jpg": photo, "tight_crops/face.png": photo[100:160, 200:260]}
    boxes = {"group.jpg": [AnnotatedFace((200, 100, 60, 60), True)], "tight_crops/face.png": []}
    crops = faceless_crops(photos, boxes, per_photo=30, seed=1)
    assert len(crops) == 30 and all(crop.max() == 0 for crop in crops)  # none holds a pixel of the face
    assert all(crop.shape[0] == crop.shape[1] >= 64 for crop in crops)
    assert [c.shape for c in faceless_crops(photos, boxes, per_photo=30, seed=1)] == [c.shape for c in crops]


def test_the_fer_photo_path_reports_each_classs_recall_direct_and_through_the_photo_path():
    """A model that always answers angry: recall 1 for angry, 0 for the others, classes without a face left out;
    a face the detector missed counts in neither recall."""
    from types import SimpleNamespace

    from mepe_utils.bench.detect import FerPhotos, fer_photo_path
    from mepe_utils.labels import FER_LABELS
    from mepe_utils.vision.detection import face_from_detector_box
    from mepe_utils.vision.framing import Framing

    def scores(crops):
        return {"probabilities": np.tile(np.eye(len(FER_LABELS))[0], (len(crops), 1))}

    faces = np.zeros((4, 48, 48, 1), np.uint8)
    labels = np.array([0, 0, 2, 3])  # angry, angry, fear, happy
    gray = np.full((100, 100), 128, np.uint8)
    found = face_from_detector_box((30, 30, 40, 40), (100, 100))
    photos = FerPhotos([gray] * 4, [found, found, found, None])  # the happy face is missed
    result = fer_photo_path(SimpleNamespace(scores=scores), photos, faces, labels, [Framing()])
    assert result["direct_recall_on_detected"] == {"angry": 1.0, "fear": 0.0}
    assert result["framings"][0]["recall"] == {"angry": 1.0, "fear": 0.0}
    assert result["detection_rate"] == 0.75 and result["direct_accuracy"] == 0.5
