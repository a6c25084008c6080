"""Readable tables and JSON records of text and face readings (for ``predict-text`` / ``predict-face``)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from mepe_utils.predictors.face import FaceEmotion, FaceReading
from mepe_utils.predictors.fusion import FusedEmotion
from mepe_utils.predictors.text import TextEmotion


def _top(probabilities: dict[str, float], count: int) -> str:
    ranked = sorted(probabilities.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {p:.2f}" for name, p in ranked)


def format_text_readings(readings: list[TextEmotion], top: int = 3) -> str:
    """One block per text: top labels, labels above their thresholds, Ekman view, coverage, truncation."""
    lines = []
    for reading in readings:
        shown = reading.text if len(reading.text) <= 60 else reading.text[:57] + "..."
        lines.append(f"{shown!r}")
        lines.append(f"  top:       {_top(reading.probabilities, top)}")
        lines.append(f"  emotions:  {', '.join(reading.emotions) or '(none above threshold)'}")
        lines.append(f"  ekman:     {_top(reading.ekman, 2)}")
        lines.append(f"  coverage:  {reading.coverage:.0%} of the words known to the model")
        if reading.warning:
            lines.append(f"  WARNING:   {reading.warning}")
        if reading.truncated:
            lines.append(f"  note:      {reading.tokens} tokens, truncated to the model's window")
    return "\n".join(lines)


def format_face_readings(readings: list[FaceEmotion], top: int = 3) -> str:
    """One line per face (largest first): the box, the detector's score and the top emotions."""
    lines = []
    for reading in readings:
        if not reading.found:
            lines.append(f"{reading.source}: no face found")
            continue
        for number, face in enumerate(reading.faces, 1):
            which = f" {number}/{len(reading.faces)}" if len(reading.faces) > 1 else ""
            lines.append(f"{reading.source}: face{which} {_face_summary(face, top)}")
    return "\n".join(lines)


def _face_summary(face: FaceReading, top: int) -> str:
    """One face's box, detector score (when the detector gives one) and top emotions."""
    score = f" score {face.detector_score:.2f}" if face.detector_score is not None else ""
    return f"{face.box}{score}  {_top(face.probabilities, top)}"


def format_fused_reading(reading: FusedEmotion, top: int = 3) -> str:
    """The fused emotions, the modality weights, what was missing, then each signal's own reading."""
    lines = [
        f"fused:     {_top(reading.probabilities, top)}",
        f"weights:   text {reading.gate_text:.2f} | face {1 - reading.gate_text:.2f}",
        f"missing:   {', '.join(reading.missing) or 'nothing'}",
    ]
    if reading.text is not None:
        lines.append("text " + format_text_readings([reading.text], top))
    if reading.face is not None:
        lines += _photo_lines(reading.face, reading.fused_face, top)
    return "\n".join(lines)


def _photo_lines(reading: FaceEmotion, fused: int | None, top: int) -> list[str]:
    """The photo once, then each face (largest first) on its own line, the fused one marked."""
    photo = "the given image" if reading.source.startswith("<") else reading.source
    if not reading.found:
        return [f"face:      no face found in {photo}"]
    count = len(reading.faces)
    lines = [f"face:      {photo}: {count} face{'s' if count > 1 else ''}, largest first"]
    for number, face in enumerate(reading.faces):
        mark = "  <- fused" if number == fused and count > 1 else ""
        lines.append(f"  {number + 1}/{count} {_face_summary(face, top)}{mark}")
    return lines


def fused_record(reading: FusedEmotion, embedding: bool = False) -> dict:
    """A JSON-ready dict of a fused reading, with the text and face readings nested."""
    record = {
        "probabilities": reading.probabilities,
        "top_label": reading.top_label,
        "gate_text": reading.gate_text,
        "missing": reading.missing,
        "fused_face": reading.fused_face,
        "text": reading_record(reading.text, embedding) if reading.text is not None else None,
        "face": reading_record(reading.face, embedding) if reading.face is not None else None,
    }
    if embedding:
        record["persona_embedding"] = np.asarray(reading.persona_embedding).round(6).tolist()
    return record


def reading_record(reading: TextEmotion | FaceEmotion, embedding: bool = False) -> dict:
    """A JSON-ready dict of a reading; the vectors (embedding, sentence vector) are left out unless asked for.

    A face reading lists every face (box, landmarks, detector score, probabilities, top label), largest first.
    """
    record = asdict(reading)
    if isinstance(reading, FaceEmotion):
        record = {"source": record["source"], "found": reading.found, "faces": record["faces"]}
    for item in [record, *record.get("faces", [])]:
        for key in ("embedding", "sentence_vector"):
            vector = item.pop(key, None)
            if embedding and vector is not None:
                item[key] = np.asarray(vector).round(6).tolist()
        if item.get("box") is not None:
            item["box"] = np.asarray(item["box"]).astype(int).tolist()
    return record
