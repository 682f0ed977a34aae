"""Shared pytest fixtures."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Path of headless Chromium (Debian package ``chromium``); skips when absent."""
    path = CHROMIUM if CHROMIUM.exists() else (Path(p) if (p := shutil.which("chromium")) else None)
    if path is None:
        pytest.skip("headless Chromium is not installed (/usr/bin/chromium): apt-get install chromium; CI installs it")
    return path


@pytest.fixture(scope="module")
def sc():
    """The shipped 8-UGEL Cajamarca scenario."""
    import siting
    return siting.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "cajamarca.toml")


@pytest.fixture(scope="module")
def districts(sc):
    """Real INEI district polygons of the department, with UGELs."""
    from siting.data import boundaries
    from siting.data.quality import QualityReport
    return boundaries.load_districts(sc, QualityReport())
