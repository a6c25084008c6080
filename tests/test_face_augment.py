import numpy as np
import pytest

from mepe_utils.data.face_augment import FaceAugmentConfig, FaceAugmenter
from mepe_utils.data.face_batches import FaceBatches

IDENTITY = FaceAugmentConfig(rotation=0.0, shift=0.0, zoom=0.0, brightness=0.0, contrast=0.0, erasing=0.0)


def _faces(count=64, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (count, 48, 48, 1)).astype("float32")


def test_augmenter_keeps_shape_dtype_and_range_and_is_seeded():
    faces = _faces()
    augment = FaceAugmenter(FaceAugmentConfig())
    first = augment(faces, np.random.default_rng(5))
    assert first.shape == faces.shape and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 255
    assert not np.allclose(first, faces)
    np.testing.assert_array_equal(first, augment(faces, np.random.default_rng(5)))
    assert not np.allclose(first, augment(faces, np.random.default_rng(6)))


def test_without_geometry_and_photometry_each_face_is_itself_or_its_mirror():
    faces = _faces(200)
    out = FaceAugmenter(IDENTITY)(faces, np.random.default_rng(0))
    same = np.all(np.isclose(out, faces), axis=(1, 2, 3))
    mirrored = np.all(np.isclose(out, faces[:, :, ::-1]), axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert 70 < mirrored.sum() < 130  # flip probability 1/2


def test_a_pure_shift_moves_the_face_by_whole_pixels_with_reflected_borders():
    ramp = np.tile(np.arange(48, dtype="float32") * 5, (48, 1))[None, :, :, None]
    config = FaceAugmentConfig(rotation=0.0, shift=0.1, zoom=0.0, brightness=0.0, contrast=0.0, erasing=0.0)
    out = FaceAugmenter(config)(np.repeat(ramp, 32, axis=0), np.random.default_rng(3))
    columns = out[:, 24, :, 0]
    steps = np.abs(np.diff(columns, axis=1))
    assert np.all(steps <= 5 + 1e-3)  # a shifted (and maybe mirrored or reflected) ramp, never a jump
    assert not np.allclose(columns, ramp[0, 24, :, 0]) and columns.min() >= 0


def test_brightness_and_contrast_stay_within_their_factors():
    flat = np.full((300, 48, 48, 1), 128.0, dtype="float32")
    config = FaceAugmentConfig(rotation=0.0, shift=0.0, zoom=0.0, brightness=0.2, contrast=0.0, erasing=0.0)
    means = FaceAugmenter(config)(flat, np.random.default_rng(0)).mean(axis=(1, 2, 3))
    assert np.all(np.abs(means - 128) <= 0.2 * 255 + 1e-3)
    assert means.std() > 15  # U(-51, 51) has std 29


def test_erasing_fills_a_rectangle_with_noise_in_some_faces():
    flat = np.full((400, 48, 48, 1), 100.0, dtype="float32")
    config = FaceAugmentConfig(rotation=0.0, shift=0.0, zoom=0.0, brightness=0.0, contrast=0.0, erasing=0.5)
    out = FaceAugmenter(config)(flat, np.random.default_rng(0))
    changed = np.any(out != 100.0, axis=(1, 2, 3))
    assert 0.15 < changed.mean() < 0.35  # probability U(0, 0.5): 1/4 on average
    areas = np.sum(out[changed] != 100.0, axis=(1, 2, 3)) / 48**2
    assert areas.max() <= 0.15 + 0.05


def test_batches_are_the_same_whichever_thread_builds_them():
    faces, labels = _faces(40).astype("uint8"), np.arange(40)
    augment = FaceAugmenter(FaceAugmentConfig())

    def epoch(order):
        batches = FaceBatches(faces, labels, batch_size=8, shuffle=True, seed=9, augment=augment, workers=3)
        return {i: batches[i][0] for i in order}

    forward, backward = epoch(range(5)), epoch(reversed(range(5)))
    for index in range(5):
        np.testing.assert_array_equal(forward[index], backward[index])


@pytest.mark.parametrize("field", ["rotation", "erasing"])
def test_each_parameter_has_an_effect(field):
    faces = _faces(16)
    config = FaceAugmentConfig(**{**IDENTITY.__dict__, field: 0.3})
    flipped_or_same = FaceAugmenter(IDENTITY)(faces, np.random.default_rng(2))
    assert not np.allclose(FaceAugmenter(config)(faces, np.random.default_rng(2)), flipped_or_same)
