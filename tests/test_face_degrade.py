"""Degraded faces: shape and type kept, each degradation changes the face the way its name says, seeded."""

import numpy as np
import pytest

from mepe_utils.data.face_degrade import DEGRADATIONS, degrade


def _faces(count=6, seed=0):
    rng = np.random.default_rng(seed)
    base = np.linspace(40, 220, 48)[None, :, None] + rng.normal(0, 25, (count, 48, 48, 1))
    return np.clip(base, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", list(DEGRADATIONS))
def test_each_degradation_keeps_shape_and_changes_the_face(name):
    faces = _faces()
    out = degrade(faces, name, seed=1)
    assert out.shape == faces.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - faces).mean() > 2
    np.testing.assert_array_equal(out, degrade(faces, name, seed=1))


def test_the_degradations_do_what_they_say():
    faces = _faces()
    detail = lambda x: np.abs(np.diff(x.astype(float), axis=2)).mean()  # noqa: E731
    assert detail(degrade(faces, "blur")) < 0.5 * detail(faces)
    assert degrade(faces, "low_light").mean() < 0.35 * faces.mean()
    occluded = degrade(faces, "occlusion")
    assert ((occluded == 128).reshape(6, -1).mean(axis=1) >= 0.35).all()
    assert detail(degrade(faces, "downscale")) < 0.6 * detail(faces)
    with pytest.raises(ValueError, match="unknown degradation 'rain'"):
        degrade(faces, "rain")
