"""The command line: user mistakes give one message and exit 2; --debug shows the traceback."""
from __future__ import annotations

import subprocess
import sys

import pytest

from siting.cli import main


def test_bad_scenario_exit_code_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[allocation]\nn_sites = "ten"\n')
    assert main(["data", "check", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "allocation.n_sites" in err and "Traceback" not in err


def test_debug_shows_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[bogus]\n')
    proc = subprocess.run([sys.executable, "-m", "siting.cli", "--debug", "data", "check", "--scenario", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "unknown key 'bogus'" in proc.stderr


def test_missing_scenario_file(capsys):
    assert main(["access", "--scenario", "does/not/exist.toml"]) == 2
    assert "scenario file not found" in capsys.readouterr().err


def test_scenario_required_for_stage_commands():
    with pytest.raises(SystemExit) as exc:
        main(["propose"])
    assert exc.value.code == 2
