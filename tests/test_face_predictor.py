"""The face predictor: photos of every kind in, typed readings out, no face as a result."""

import numpy as np
import pytest
from PIL import Image

from mepe_utils.errors import ImageError
from mepe_utils.labels import FER_LABELS
from mepe_utils.predictors.face import FaceEmotionModel


@pytest.fixture(scope="module")
def reader(tiny_face_model_dir):
    return FaceEmotionModel.load(tiny_face_model_dir)


@pytest.fixture(scope="module")
def astronaut():
    import skimage.data

    return skimage.data.astronaut()


def test_one_photo_in_any_form_gives_the_same_reading(reader, astronaut, tmp_path):
    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(path)
    from_path, from_array, from_pil = (reader.predict(x)[0] for x in (path, astronaut, Image.fromarray(astronaut)))
    assert from_path.found and from_path.source == str(path) and from_array.source == "<ndarray>"
    assert from_path.box == from_array.box == from_pil.box
    assert list(from_path.probabilities) == list(FER_LABELS)
    assert abs(sum(from_path.probabilities.values()) - 1) < 1e-4
    assert from_path.top_label == max(from_path.probabilities, key=from_path.probabilities.get)
    np.testing.assert_allclose(from_path.embedding, from_array.embedding, rtol=1e-5)
    (from_bytes,) = reader.predict(path.read_bytes())  # a file's bytes are one photo
    (from_view,) = reader.predict(memoryview(path.read_bytes()))
    assert from_bytes.box == from_view.box == from_path.box
    assert len(reader.predict(np.array([str(path), str(path)]))) == 2  # an array of paths is many
    assert len(reader.predict(np.stack([astronaut, astronaut]))) == 2  # so is a 4-D batch


def test_a_batch_keeps_order_and_reports_a_missing_face(reader, astronaut):
    blank = np.full((240, 320, 3), 200, np.uint8)
    first, second, third = reader.predict([astronaut, blank, astronaut])
    assert first.found and third.found and not second.found
    assert second.box is None and second.probabilities == {} and second.embedding is None
    # The same face at two batch positions: equal up to float32 rounding (oneDNN may split a batch differently).
    assert first.probabilities == pytest.approx(third.probabilities, abs=1e-6)


def test_bad_photos_raise_a_named_error(reader, tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ImageError, match="no such file"):
        reader.predict(tmp_path / "absent.jpg")
    with pytest.raises(ImageError, match="not an image"):
        reader.predict(tmp_path / "notes.txt")


def test_any_number_of_faces_runs_through_one_traced_graph(reader):
    """A photo with a new number of faces must not retrace the CNN (``predict_on_batch`` does, at ~0.3 s a time)."""
    faces = np.random.default_rng(0).integers(0, 256, (7, 48, 48, 1)).astype(np.float32)
    for count in (1, 4, 7, 2):
        scores = reader.scores(faces[:count])
        direct = reader.model.predict_on_batch(faces[:count])
        for name in ("probabilities", "embedding"):
            np.testing.assert_allclose(scores[name], np.asarray(direct[name]), atol=1e-5)
    assert reader._forward.tracing_count() == 1
