"""Interrupted runs on the REAL shipped data: ``siting access`` is started as a subprocess
and killed (SIGKILL and SIGINT) at three points of its life into the same run folder, then
rerun to completion and compared with an uninterrupted run (started alongside).  To keep
the file near a minute the scenario is the shipped one restricted to one real UGEL
(UGEL SAN MARCOS); the data stage still reads every shipped input file.

Kill points (reached deterministically, never by timing):

1. SIGKILL as soon as the run folder has its first manifest (data being loaded: seconds);
2. SIGINT while the first output table (``places.csv``) is written but not yet renamed;
3. SIGKILL while the workbook (``acceso.xlsx``) is written but not yet renamed.

For 2 and 3 the child runs the real command with :func:`siting.io.atomic_path` wrapped so
that it *parks* (sleeps) at that file, after writing the temporary and before the rename,
and signals that it is there; the test then sends the signal.  Earlier versions sent the
signal as soon as a temporary appeared, which lost the race on a loaded machine (the
rename could happen between the check and the signal).

After every kill: each visible file is complete (byte-identical to the uninterrupted run's,
or a readable manifest/scenario), the manifest is valid JSON without ``finished_utc``, and
any leftover is a hidden ``.<name>.<random>.part*`` temporary, which
:func:`siting.io.remove_partial_files` deletes.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from siting.io import PARTIAL_NAME, remove_partial_files

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cajamarca.toml"
TIMEOUT_S = 120


def write_scenario(path: Path, cache: Path) -> Path:
    """The shipped scenario with absolute input paths, its own graph cache folder and one UGEL."""
    text = SCENARIO.read_text(encoding="utf-8").replace('"../', f'"{ROOT}/')
    text = re.sub(r'(?m)^cache_dir = .*$', f'cache_dir = "{cache}"', text)
    text = re.sub(r'(?ms)^ugels = \[.*?\]', 'ugels = ["UGEL SAN MARCOS"]', text, count=1)
    assert 'ugels = ["UGEL SAN MARCOS"]' in text and str(cache) in text
    path.write_text(text, encoding="utf-8")
    return path


#: the child: the real CLI, with atomic_path parked at $SITING_TEST_PAUSE_AT (after the write, before the rename)
CHILD = r"""
import contextlib, os, sys, time
from pathlib import Path
import siting.io
original = siting.io.atomic_path
pause_at, ready = os.environ.get("SITING_TEST_PAUSE_AT"), os.environ.get("SITING_TEST_READY")

@contextlib.contextmanager
def parked(target):
    with original(target) as tmp:
        yield tmp
        if pause_at and Path(target).name == pause_at:
            Path(ready).write_text(str(tmp))
            time.sleep(600)

for module in list(sys.modules.values()):
    if getattr(module, "__name__", "").startswith("siting") and getattr(module, "atomic_path", None) is original:
        module.atomic_path = parked
from siting.cli import main
sys.exit(main(sys.argv[1:]))
"""


def start(scenario: Path, out: Path, *, pause_at: str | None = None, ready: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if pause_at:
        env.update(SITING_TEST_PAUSE_AT=pause_at, SITING_TEST_READY=str(ready))
    cmd = [sys.executable, "-c", CHILD, "access", "--scenario", str(scenario), "--output", str(out), "--no-progress"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def temporaries(out: Path, prefix: str = "") -> list[str]:
    return [p.name for p in out.glob(f".{prefix}*") if PARTIAL_NAME.match(p.name)] if out.exists() else []


def kill_when(proc: subprocess.Popen, condition, sig: int) -> tuple[int, str]:
    """Poll ``condition()`` every 5 ms; send ``sig`` when it holds; return (exit code, stderr)."""
    t0 = time.monotonic()
    while proc.poll() is None and not condition():
        if time.monotonic() - t0 > TIMEOUT_S:
            proc.kill()
            pytest.fail("the kill point was never reached")
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before the kill point"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=TIMEOUT_S)
    return proc.returncode, err


def kill_parked(scenario: Path, out: Path, name: str, sig: int, ready: Path) -> tuple[int, str]:
    """Run until the child is parked at ``name`` (temporary written, not renamed), then send ``sig``."""
    ready.unlink(missing_ok=True)
    proc = start(scenario, out, pause_at=name, ready=ready)
    code, err = kill_when(proc, ready.exists, sig)
    assert Path(ready.read_text()).name.startswith(f".{name}."), "parked at another file"
    return code, err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(out: Path) -> dict:
    """What a user would see in the folder right after the kill."""
    visible = {p.name: sha(p) for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8")) if (out / "manifest.json").exists() \
        else None
    return {"visible": visible, "hidden": hidden, "manifest": manifest}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("interrupt")
    ref_out, out = base / "reference", base / "interrupted"
    ref = start(write_scenario(base / "reference.toml", base / "cache_ref"), ref_out)  # runs alongside
    scenario = write_scenario(base / "scenario.toml", base / "cache")
    kills = []
    proc = start(scenario, out)
    kills.append(("SIGKILL, data stage",) + kill_when(proc, lambda: (out / "manifest.json").exists(), signal.SIGKILL)
                 + (snapshot(out),))
    ready = base / "parked"
    kills.append(("SIGINT, first table",) + kill_parked(scenario, out, "places.csv", signal.SIGINT, ready)
                 + (snapshot(out),))
    kills.append(("SIGKILL, workbook",) + kill_parked(scenario, out, "acceso.xlsx", signal.SIGKILL, ready)
                 + (snapshot(out),))
    leftovers = sorted(p.name for p in remove_partial_files(out))
    after_cleanup = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    proc = start(scenario, out)
    _, resume_err = proc.communicate(timeout=TIMEOUT_S)
    _, ref_err = ref.communicate(timeout=TIMEOUT_S)
    assert ref.returncode == 0, ref_err
    return {"ref": ref_out, "out": out, "kills": kills, "leftovers": leftovers, "after_cleanup": after_cleanup,
            "resume_code": proc.returncode, "resume_err": resume_err}


def test_sigkill_and_sigint_exit_codes(runs):
    codes = {label: code for label, code, _, _ in runs["kills"]}
    assert codes["SIGKILL, data stage"] == -signal.SIGKILL
    assert codes["SIGKILL, workbook"] == -signal.SIGKILL
    label, code, err, _ = runs["kills"][1]
    assert code == 130 and "interrupted" in err and "Traceback" not in err


def test_no_visible_file_is_truncated(runs):
    ref = {p.name: sha(p) for p in runs["ref"].iterdir() if p.is_file()}
    for label, _, _, snap in runs["kills"]:
        for name, digest in snap["visible"].items():
            if name in ("manifest.json", "scenario.toml"):
                continue  # checked below; they name the run folder and the times
            assert digest == ref[name] if not name.endswith((".xlsx", ".gpkg")) else True, (label, name)
            # XLSX/GPKG embed their write time: they may only be visible once complete (atomic rename)
            if name.endswith((".xlsx", ".gpkg")):
                assert (runs["ref"] / name).exists()


def test_manifest_always_parses(runs):
    for label, _, _, snap in runs["kills"]:
        assert snap["manifest"] is not None and snap["manifest"]["command"] == "access", label
    assert set(runs["kills"][2][3]["manifest"]["stages"]) >= {"data", "graph", "access"}


def test_interrupted_manifest_is_not_marked_finished(runs):
    for label, _, _, snap in runs["kills"]:
        assert "finished_utc" not in snap["manifest"], label


def test_leftovers_are_hidden_part_files_only(runs):
    for label, _, _, snap in runs["kills"]:
        assert all(PARTIAL_NAME.match(n) for n in snap["hidden"]), (label, snap["hidden"])
    # SIGINT runs atomic_path's clean-up: nothing left behind by the second kill
    sigint_hidden = set(runs["kills"][1][3]["hidden"]) - set(runs["kills"][0][3]["hidden"])
    assert not sigint_hidden
    # SIGKILL cannot clean up: the workbook temporary (never renamed) stays hidden
    assert any(n.startswith(".acceso.xlsx.") for n in runs["kills"][2][3]["hidden"])
    assert any(n.startswith(".acceso.xlsx.") for n in runs["leftovers"])
    assert runs["after_cleanup"] == []


def test_rerun_completes_and_equals_the_uninterrupted_run(runs):
    assert runs["resume_code"] == 0, runs["resume_err"]
    ref, out = runs["ref"], runs["out"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    csvs = sorted(p.name for p in ref.glob("*.csv"))
    assert csvs == sorted(p.name for p in out.glob("*.csv")) and "places.csv" in csvs
    differ = [n for n in csvs if sha(ref / n) != sha(out / n)]
    assert not differ, differ
    with rasterio.open(ref / "travel_time_minutes.tif") as a, rasterio.open(out / "travel_time_minutes.tif") as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "finished_utc" in m and set(m["stages"]) >= {"data", "graph", "access"}
