"""The YuNet file MEPE ships: opencv_zoo's model with its input size left free, so ONNX Runtime reads any photo.

opencv_zoo's ``face_detection_yunet_2023mar.onnx`` declares a 640x640 input
and output lengths to match, although its graph works at any size (its
reshapes use -1, its upsampling uses scales). OpenCV's DNN module ignores the
declared size; ONNX Runtime enforces it. :func:`free_input_size` names the
height, the width and the outputs' lengths instead of fixing them and drops the
intermediate shapes worked out for 640x640 (``value_info``, annotations only);
the operators and the weights stay opencv_zoo's.
``tests/test_face_detection.py`` checks the shipped file against this rewrite
of the original (when the data folder has it), and that OpenCV's own
``cv2.FaceDetectorYN`` finds the same faces in it as MEPE's detector.

Writing the file needs the ``onnx`` package (a development requirement); reading it does not.

Example:
    $ mepe free-yunet-size ../shared/data/face_detection/face_detection_yunet_2023mar.onnx \\
        --out assets/detectors/face_detection_yunet_2023mar_any_size.onnx
"""

from __future__ import annotations

from pathlib import Path

from mepe_utils.errors import ModelFileError

SOURCE_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
"""sha256 of opencv_zoo's ``face_detection_yunet_2023mar.onnx``, the file the shipped one is rewritten from."""
FREE_DIMENSIONS = {2: "height", 3: "width"}
"""The input's dimensions (NCHW) that :func:`free_input_size` leaves free, and their names."""


def free_input_size(model):
    """``model`` (an ``onnx.ModelProto`` of YuNet) with its input's height and width and its outputs' lengths free,
    and without the intermediate shapes inferred for the fixed size.

    Args:
        model: the loaded ONNX model; it is changed in place.

    Returns:
        The same model, checked by ``onnx.checker``.
    """
    import onnx

    input_shape = model.graph.input[0].type.tensor_type.shape
    for index, name in FREE_DIMENSIONS.items():
        input_shape.dim[index].dim_param = name  # setting the name clears the fixed value (a oneof)
    for output in model.graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = f"{output.name}_cells"
    model.graph.ClearField("value_info")
    onnx.checker.check_model(model)
    return model


def write_free_size_copy(source: str | Path, out: str | Path) -> str:
    """Writes :func:`free_input_size` of opencv_zoo's YuNet file ``source`` to ``out`` (atomically).

    Returns:
        The sha256 of the file written.

    Raises:
        ModelFileError: ``source`` is missing or is not opencv_zoo's 2023mar file, or ``onnx`` is not installed.
    """
    from mepe_utils.artifacts import sha256_of, write_bytes_atomic

    source = Path(source)
    if not source.is_file():
        raise ModelFileError(f"YuNet source file not found: {source}")
    if sha256_of(source) != SOURCE_SHA256:
        raise ModelFileError(f"{source}: not opencv_zoo's face_detection_yunet_2023mar.onnx (sha256 differs)")
    try:
        import onnx
    except ImportError:
        raise ModelFileError("rewriting the YuNet file needs the onnx package: pip install onnx") from None
    write_bytes_atomic(out, free_input_size(onnx.load(source)).SerializeToString())
    return sha256_of(out)
