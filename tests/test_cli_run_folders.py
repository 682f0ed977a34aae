"""Coherent run folders through the command line (issue #17, item 10), on the REAL shipped
data of one UGEL (San Marcos: 307 places, one CETPRO with teachers, ICHOCAN).

* ``siting propose`` into a folder holding a report refreshes the report and maps (they
  depend on the proposals); ``siting access`` there says which outputs it removed;
* fewer sites than asked says how many and why, keeps the run and exits 2; ``--n 0`` is
  refused before any work;
* ``--output`` naming a file (or a folder below a file) is one message, exit 2.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from siting.cli import main

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    """The shipped scenario restricted to UGEL San Marcos, 2 sites, 20 Monte Carlo runs."""
    tmp = tmp_path_factory.mktemp("cli_run_folders")
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8").replace("../data/raw/", f"{RAW}/")
    text = re.sub(r"ugels = \[.*?\]\n", 'ugels = ["UGEL SAN MARCOS"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{tmp / "run"}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{tmp / "cache"}"')
    text = text.replace("n_sites = 10", "n_sites = 2") + "\n[suitability]\nsensitivity_runs = 20\n"
    path = tmp / "san_marcos.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _coherent(folder: Path) -> None:
    """Every file of the folder is an output of the last run, with the hash its manifest lists."""
    m = _manifest(folder)
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert files == set(m["outputs"])
    for rel in files:
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == m["outputs"][rel], rel


def test_n_zero_is_refused_before_any_work(scenario, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["propose", "--scenario", str(scenario), "--n", "0", "--output", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--n 0" in err and "nada que proponer" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["propose", "--scenario", str(scenario), "--n", "0", "--lang", "en", "--output", str(out)]) == 2
    assert "nothing to propose" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["propose", "--scenario", "{s}"], ["data", "check", "--scenario", "{s}"],
                                     ["templates"]])
def test_output_pointing_at_a_file_is_one_message(scenario, tmp_path, capsys, command):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine", encoding="utf-8")
    argv = [a.format(s=scenario) for a in command]
    for target, words in [(afile, "is an existing file"), (afile / "sub", "is a file, not a folder")]:
        assert main([*argv, "--output", str(target)]) == 2
        err = capsys.readouterr().err
        assert words in err and str(afile) in err and "Traceback" not in err
    assert afile.read_text(encoding="utf-8") == "mine"


def test_fewer_sites_than_asked_says_how_many_and_why(scenario, tmp_path, capsys):
    # San Marcos: one CETPRO with teachers (ICHOCAN), allocation.max_extensions_per_cetpro = 3
    # -> at most 1 x 3 = 3 new centres, whatever --n asks
    out = tmp_path / "five"
    assert main(["propose", "--scenario", str(scenario), "--n", "5", "--output", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Se pidieron 5 sitios y se pudieron ubicar 3" in err and "ICHOCAN" in err and "capacidad para 3" in err
    assert "código de salida 2" in err and "Traceback" not in err
    assert len(pd.read_csv(out / "proposals.csv")) == 3  # the possible plan is kept
    assert "ubicar 3" in _manifest(out)["stages"]["propose"]["shortfall"]
    _coherent(out)
    # far more than the candidates: both bounds are named, in English with --lang en
    out = tmp_path / "huge"
    assert main(["propose", "--scenario", str(scenario), "--n", "100000", "--lang", "en", "--output", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    n_candidates = len(pd.read_csv(out / "candidates.csv"))
    assert "100000 sites were asked for and 3 could be placed" in err
    assert f"there are only {n_candidates} candidate localities" in err and "room for 3 more centres" in err


def test_propose_into_a_run_folder_refreshes_its_report_and_maps(scenario, capsys):
    out = scenario.parent / "run"
    assert main(["run", "--scenario", str(scenario), "--no-progress"]) == 0
    before = pd.read_csv(out / "proposals.csv")
    assert len(before) == 2 and (out / "report.html").exists()
    capsys.readouterr()
    assert main(["propose", "--scenario", str(scenario), "--n", "1", "--no-progress"]) == 0
    said = capsys.readouterr().out
    assert "se regeneran con estas propuestas" in said
    after = pd.read_csv(out / "proposals.csv")
    assert len(after) == 1 and _manifest(out)["command"] == "propose"
    report = (out / "report.html").read_text(encoding="utf-8")
    dropped = set(before["name"]) - set(after["name"])
    assert after["name"].iloc[0] in report
    assert all(name not in report for name in dropped)  # no proposal of the earlier run is left in the report
    assert (out / "mapa.html").exists() and list((out / "mapas").glob("proposals_*.png"))
    _coherent(out)
    # access alone cannot rebuild the report: it says which files of the earlier run it removed
    assert main(["access", "--scenario", str(scenario), "--no-progress"]) == 0
    said = capsys.readouterr().out
    assert "Se quitaron" in said and "report.html" in said and "siting run" in said
    assert not (out / "report.html").exists() and not (out / "proposals.csv").exists()
    _coherent(out)
