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
