"""Packaging: ``python -m siting``, optional extras imported only when used (a clear message
when missing), ``siting demo`` outside a source tree, licence metadata, the sdist manifest
and the constraints file CI installs with."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from siting.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})


def test_python_dash_m_siting():
    proc = subprocess.run([sys.executable, "-m", "siting", "--version"], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == f"siting {metadata.version('siting')}"


def test_optional_libraries_are_not_imported_by_the_pipeline():
    proc = _python("import sys, siting, siting.cli, siting.pipeline, siting.suitability, siting.report.exports\n"
                   "optional = ('sklearn', 'osmnx', 'dask', 'distributed', 'joblib')\n"
                   "print(sorted(m for m in optional if m in sys.modules))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_without_scikit_learn_the_weighted_score_works_and_the_model_says_what_to_install():
    code = ("import sys; sys.modules['sklearn'] = None\n"  # as if scikit-learn were not installed
            "from siting.suitability.model import fit_if_labelled, LearnedSuitability, NO_LABELS_MESSAGE\n"
            "assert fit_if_labelled(None, features=['poverty']) == (None, NO_LABELS_MESSAGE)\n"
            "from siting.errors import UserError\n"
            "try:\n    LearnedSuitability(features=['poverty']).build()\n"
            "except UserError as e:\n    print(e)\n")
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert "needs scikit-learn" in proc.stdout and 'pip install "siting[ml]"' in proc.stdout


def test_demo_outside_a_source_tree_says_where_the_data_are(tmp_path, monkeypatch):
    from siting import cli
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site-packages" / "siting" / "cli.py"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SITING_HOME", raising=False)
    with pytest.raises(UserError) as err:
        cli.shipped_scenario()
    assert "\n" not in str(err.value) and "SITING_HOME" in str(err.value)
    assert cli.main(["demo", "--no-progress"]) == 2
    monkeypatch.setenv("SITING_HOME", str(ROOT))
    assert cli.shipped_scenario() == ROOT / "scenarios" / "cajamarca.toml"


def test_licence_extras_and_sdist_manifest():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    extras = project["optional-dependencies"]
    assert {"osm", "ml", "dask", "app", "test"} <= set(extras)
    deps = " ".join(project["dependencies"])
    assert "scikit-learn" not in deps and "osmnx" not in deps  # optional: extras ml and osm
    assert any(d.startswith("siting[") and "ml" in d and "osm" in d for d in extras["test"])
    assert any(d.startswith("nbmake") for d in extras["test"])  # plain `pytest` runs the notebooks too
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    for needed in ("graft tests", "graft scenarios", "graft data/raw", "graft notebooks", "include LICENSE"):
        assert needed in manifest


def test_constraints_pin_what_the_environment_runs():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[name.lower().replace("_", "-")] = version
    for name in ("numpy", "pandas", "scipy", "geopandas", "shapely", "pyogrio", "rasterio", "openpyxl", "babel",
                 "tomli-w", "pytest", "nbmake"):
        assert pins.get(name) == metadata.version(name), name
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -q -c constraints.txt -e ".[test]"' in ci
