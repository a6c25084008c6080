"""Trainer options generated from their config dataclasses, and --config FILE.json."""

import argparse
import json
from dataclasses import asdict, dataclass, field

import pytest

from mepe_utils.errors import MepeError
from mepe_utils.options import add_config_options, config_from_args, config_from_dict
from mepe_utils.training.face import FaceTrainConfig
from mepe_utils.training.text import TextTrainConfig


def _parse(cls, argv):
    parser = argparse.ArgumentParser()
    add_config_options(parser, cls)
    return config_from_args(cls, parser.parse_args(argv))


def test_every_field_of_a_trainer_config_is_an_option():
    config = _parse(
        FaceTrainConfig,
        ["--weight-decay", "0.02", "--label-smoothing", "0", "--class-weight-power", "1",
         "--rotation", "0.1", "--erasing", "0", "--widths", "8", "16", "--dropout", "0.2"],
    )  # fmt: skip
    assert (config.weight_decay, config.label_smoothing, config.class_weight_power) == (0.02, 0.0, 1.0)
    assert (config.augment.rotation, config.augment.erasing) == (0.1, 0.0)
    assert config.model.widths == (8, 16) and config.model.dropout == 0.2
    assert config.epochs == FaceTrainConfig().epochs  # what is not given keeps its default


def test_text_options_include_nested_model_fields_booleans_and_choices():
    config = _parse(TextTrainConfig, ["--preset", "some/dir", "--no-emoji-words", "--no-jit-compile", "--loss", "bce"])
    assert config.model.preset == "some/dir" and config.model.emoji_words is False
    assert config.jit_compile is False and config.loss == "bce"
    with pytest.raises(SystemExit):
        _parse(TextTrainConfig, ["--loss", "hinge"])


def test_help_comes_from_the_docstring_without_markup(capsys):
    parser = argparse.ArgumentParser()
    add_config_options(parser, TextTrainConfig)
    parser.print_help()
    text = capsys.readouterr().out
    assert "AdamW rate after warm-up. [5e-05]" in text and "``" not in text and ":func:" not in text


def test_a_recorded_config_repeats_a_run_exactly(tmp_path):
    recorded = TextTrainConfig(epochs=5, peak_learning_rate=1e-4)
    recorded.model.preset = "local/minilm"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(asdict(recorded)))
    assert _parse(TextTrainConfig, ["--config", str(path)]) == recorded
    changed = _parse(TextTrainConfig, ["--config", str(path), "--seed", "7"])
    assert changed.seed == 7 and changed.model.preset == "local/minilm" and changed.epochs == 5
    face = FaceTrainConfig(model=FaceTrainConfig().model.tiny())
    assert config_from_dict(FaceTrainConfig, json.loads(json.dumps(asdict(face)))) == face  # lists back to tuples


def test_a_bad_config_file_is_one_clear_error(tmp_path):
    with pytest.raises(MepeError, match="config file not found"):
        _parse(TextTrainConfig, ["--config", str(tmp_path / "absent.json")])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(MepeError, match="not JSON"):
        _parse(TextTrainConfig, ["--config", str(tmp_path / "bad.json")])
    (tmp_path / "other.json").write_text(json.dumps({"epochs": 2, "learning_rate": 0.1}))
    with pytest.raises(MepeError, match=r"has no option\(s\) \['learning_rate'\]"):
        _parse(TextTrainConfig, ["--config", str(tmp_path / "other.json")])


@dataclass
class _Inner:
    """Attributes:
    seed: clashes with the outer seed.
    """

    seed: int = 0


@dataclass
class _Outer:
    seed: int = 1
    inner: _Inner = field(default_factory=_Inner)


def test_two_fields_with_one_name_are_refused_when_the_parser_is_built():
    with pytest.raises(TypeError, match="fields seed and inner.seed share a name"):
        add_config_options(argparse.ArgumentParser(), _Outer)


def test_the_cli_trains_from_a_recorded_config(tmp_path, monkeypatch):
    from mepe_utils import cli

    seen = {}
    monkeypatch.setattr("mepe_utils.training.face.train_face", lambda *a, **k: seen.update(config=a[2]) or tmp_path)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(asdict(FaceTrainConfig(epochs=3, seed=9))))
    argv = ["train-face", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run"), "--config", str(path)]
    assert cli.main([*argv, "--weight-decay", "0.1"]) == 0
    assert seen["config"] == FaceTrainConfig(epochs=3, seed=9, weight_decay=0.1)
