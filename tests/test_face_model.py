import keras
import numpy as np

from mepe_utils.models.common import EMBEDDING_LAYER, with_embedding
from mepe_utils.models.face import FaceModelConfig, build_face_model
from mepe_utils.runtime import dtype_policy


def test_tiny_model_gives_probabilities_and_a_named_embedding():
    config = FaceModelConfig.tiny()
    model = build_face_model(config)
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype("float32")
    probabilities = model.predict_on_batch(faces)
    assert probabilities.shape == (3, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    outputs = with_embedding(model).predict_on_batch(faces)
    assert outputs["embedding"].shape == (3, config.embedding_dim)
    np.testing.assert_allclose(outputs["probabilities"], probabilities, rtol=1e-5)
    assert model.get_layer(EMBEDDING_LAYER).name == "embedding"


def test_default_model_is_small_enough_to_ship():
    model = build_face_model()
    assert 0.5e6 < model.count_params() < 2.5e6  # < 10 MB as float32


def test_outputs_stay_float32_under_mixed_precision():
    with dtype_policy("mixed_bfloat16"):
        model = build_face_model(FaceModelConfig.tiny())
    assert keras.config.dtype_policy().name == "float32"
    output = model.predict_on_batch(np.zeros((1, 48, 48, 1), "float32"))
    assert output.dtype == np.float32
