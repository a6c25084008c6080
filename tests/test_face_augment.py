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


def test_a_pure_shift_moves_the_face_by_at_most_shift_times_the_side():
    ramp = np.tile(np.arange(48, dtype="float32") * 5, (48, 1))[None, :, :, None]  # value = 5 * column
    config = FaceAugmentConfig(rotation=0.0, shift=0.1, zoom=0.0, brightness=0.0, contrast=0.0, erasing=0.0)
    out = FaceAugmenter(config)(np.repeat(ramp, 64, axis=0), np.random.default_rng(3))[:, 24, :, 0]
    slopes = out[:, 25] - out[:, 23]
    assert np.allclose(np.abs(slopes), 10, atol=1e-3)  # still a ramp (mirrored or not), nothing stretched
    column_seen = np.where(slopes > 0, out[:, 24] / 5, 47 - out[:, 24] / 5)
    displacement = 24 - column_seen  # the ramp is linear, so bilinear sampling reads the shift exactly
    assert np.abs(displacement).max() <= 0.1 * 48 + 1 / 32  # OpenCV interpolates in 1/32 pixel steps
    assert np.abs(displacement).max() > 3.5 and displacement.min() < 0 < displacement.max()


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


def test_batches_are_the_same_whichever_thread_builds_them_and_when():
    from concurrent.futures import ThreadPoolExecutor

    faces, labels = _faces(40).astype("uint8"), np.arange(40)
    augment = FaceAugmenter(FaceAugmentConfig())
    batches = FaceBatches(faces, labels, batch_size=8, shuffle=True, seed=9, augment=augment)
    in_order = [batches[i][0] for i in range(5)]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda i: batches[i][0], [4, 2, 0, 3, 1]))
    for index, images in zip([4, 2, 0, 3, 1], threaded):
        np.testing.assert_array_equal(images, in_order[index])


def test_a_resumed_epoch_sees_the_batches_of_the_uninterrupted_run():
    faces, labels = _faces(40).astype("uint8"), np.arange(40)
    augment = FaceAugmenter(FaceAugmentConfig())
    uninterrupted = FaceBatches(faces, labels, batch_size=8, shuffle=True, seed=9, augment=augment)
    first_epoch = uninterrupted[0]
    uninterrupted.on_epoch_end()
    resumed = FaceBatches(faces, labels, batch_size=8, shuffle=True, seed=9, augment=augment, start_epoch=1)
    for index in range(len(resumed)):
        for ours, theirs in zip(resumed[index], uninterrupted[index]):
            np.testing.assert_array_equal(ours, theirs)
    assert not np.array_equal(resumed[0][1], first_epoch[1])


@pytest.mark.parametrize("field", ["rotation", "shift", "zoom", "brightness", "contrast", "erasing"])
def test_each_parameter_has_an_effect(field):
    faces = _faces(16)
    config = FaceAugmentConfig(**{**IDENTITY.__dict__, field: 0.3})
    flipped_or_same = FaceAugmenter(IDENTITY)(faces, np.random.default_rng(2))
    assert not np.allclose(FaceAugmenter(config)(faces, np.random.default_rng(2)), flipped_or_same)
