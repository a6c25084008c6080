import json
import subprocess
import sys

import pytest

from conftest import write_fer_folder, write_goemotions_folder
from mepe_utils.cli import main


@pytest.mark.slow
def test_help_lists_the_subcommands():
    result = subprocess.run([sys.executable, "-m", "mepe_utils", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "data-summary" in result.stdout and "train-face" in result.stdout


def test_help_lists_what_people_run_first_then_training_benchmarks_and_tools(capsys):
    from mepe_utils.cli import COMMAND_GROUPS, COMMANDS, USER_COMMANDS, command_group, help_order

    with pytest.raises(SystemExit):
        main(["--help"])
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("    ")]
    listed = [name for name in listed if name in COMMANDS]
    assert listed == help_order(COMMANDS)
    groups = [COMMAND_GROUPS.index(command_group(name)) for name in listed]
    assert groups == sorted(groups)
    assert listed[: len([n for n in USER_COMMANDS if n in COMMANDS])] == [n for n in USER_COMMANDS if n in COMMANDS]
    assert command_group("train-text") == "training" and command_group("bench-text") == "benchmarks"
    assert command_group("render-docs") == "tools"


def test_version_prints_the_package_version(capsys):
    from mepe_utils import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"mepe {__version__}"


@pytest.mark.slow
def test_the_python_api_and_a_notebook_import_of_tensorflow_print_no_start_up_lines():
    program = (
        "import mepe_utils\n"
        "import tensorflow as tf\n"
        "print(int(tf.reduce_sum(tf.constant([1, 2]))))\n"
        "from mepe_utils.predictors.face import FaceEmotionModel\n"
        "FaceEmotionModel.load()\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
    assert result.stderr == ""


@pytest.mark.slow
def test_a_lean_import_leaves_out_the_optional_integrations_and_they_import_afterwards():
    program = (
        "import sys\n"
        "from mepe_utils.quiet_startup import OPTIONAL_INTEGRATIONS, import_tensorflow_quietly\n"
        "import_tensorflow_quietly(lean=True)\n"
        "print(sorted(name for name in OPTIONAL_INTEGRATIONS if name in sys.modules))\n"
        "import sklearn.linear_model\n"
        "print('keras' in sys.modules, len([f for f in sys.meta_path if 'Refuser' in type(f).__name__]))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "True 0"]


def test_the_command_line_imports_tensorflow_lean(tmp_path, monkeypatch):
    from mepe_utils import quiet_startup

    calls = []
    monkeypatch.setattr(quiet_startup, "import_tensorflow_quietly", lambda **options: calls.append(options))
    write_goemotions_folder(tmp_path / "data" / "goemotions")
    main(["data-summary", "--data-dir", str(tmp_path / "data")])
    assert calls == [{"lean": True}]


def test_data_summary_counts_a_data_folder(tmp_path, capsys):
    write_fer_folder(tmp_path / "data" / "fer2013", per_class=1)
    write_goemotions_folder(tmp_path / "data" / "goemotions")
    code = main(["data-summary", "--data-dir", str(tmp_path / "data"), "--json", str(tmp_path / "summary.json")])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["fer2013"]["PrivateTest"]["happy"] == 1
    assert summary["goemotions"]["dev"] == {"rows": 2, "multi_label_rows": 1}
    assert "goemotions test" in capsys.readouterr().out


@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mepe_utils", "data-summary", "--data-dir", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: FER-2013 folder not found")
    assert "Traceback" not in result.stderr


def test_serve_without_gradio_names_the_extra_in_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if not installed: importing it raises ImportError
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.strip() == 'error: the web demo needs Gradio: pip install "mepe[app]" (or pip install gradio)'
