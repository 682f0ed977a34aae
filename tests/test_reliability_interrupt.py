"""Interrupted runs on the REAL shipped data: ``siting access`` is started as a subprocess
and killed (SIGKILL and SIGINT) at three points of its life into a run folder that already
holds a complete earlier run (``siting data check``), then rerun to completion and compared
with an uninterrupted run (started alongside).  To keep the file near a minute the scenario
is the shipped one restricted to one real UGEL (UGEL SAN MARCOS); the data stage still reads
every shipped input file.

A run writes into a hidden staging folder ``.siting-run-<token>`` inside the run folder and
swaps its files in at the end (:class:`siting.manifest.Run`).  Kill points (reached
deterministically, never by timing):

1. SIGKILL as soon as the staging folder has its first manifest (data being loaded);
2. SIGINT while the first output table (``places.csv``) is written but not yet renamed;
3. SIGKILL while the workbook (``acceso.xlsx``) is written but not yet renamed.

For 2 and 3 the child runs the real command with :func:`siting.io.atomic_path` wrapped so
that it *parks* (sleeps) at that file, after writing the temporary and before the rename,
and signals that it is there; the test then sends the signal (sending it as soon as a
temporary appeared lost the race on a loaded machine).

After every kill the visible files of the run folder are exactly the earlier run's (same
bytes): an interrupted run never leaves a folder mixing two runs.  SIGKILL leaves only the
hidden staging folder and the lock of the dead process; SIGINT leaves nothing.  The next run
takes the dead run's lock over, removes its staging folder, and completes.
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

from siting.io import PARTIAL_NAME
from siting.manifest import LOCK_NAME, STAGING_PREFIX

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


def start(scenario: Path, out: Path, command: str = "access", *, pause_at: str | None = None,
          ready: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if pause_at:
        env.update(SITING_TEST_PAUSE_AT=pause_at, SITING_TEST_READY=str(ready))
    cmd = [sys.executable, "-c", CHILD, *command.split(), "--scenario", str(scenario), "--output", str(out),
           "--no-progress"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def staging(out: Path) -> Path | None:
    found = sorted(out.glob(STAGING_PREFIX + "*")) if out.exists() else []
    return found[0] if found else None


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
    parked = Path(ready.read_text())
    assert parked.name.startswith(f".{name}.") and PARTIAL_NAME.match(parked.name), "parked at another file"
    assert parked.parent.name.startswith(STAGING_PREFIX), "temporaries are written inside the staging folder"
    return code, err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(out: Path) -> dict:
    """What a user would see in the folder right after the kill."""
    visible = {str(p.relative_to(out)): sha(p) for p in out.rglob("*")
               if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)}
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    return {"visible": visible, "hidden": hidden}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("interrupt")
    ref_out, out = base / "reference", base / "interrupted"
    ref = start(write_scenario(base / "reference.toml", base / "cache_ref"), ref_out)  # runs alongside
    scenario = write_scenario(base / "scenario.toml", base / "cache")
    earlier = start(scenario, out, "data check")
    _, err = earlier.communicate(timeout=TIMEOUT_S)
    assert earlier.returncode == 0, err
    before = snapshot(out)
    kills = []
    proc = start(scenario, out)
    kills.append(("SIGKILL, data stage",) + kill_when(
        proc, lambda: (st := staging(out)) is not None and (st / "manifest.json").exists(), signal.SIGKILL)
        + (snapshot(out),))
    ready = base / "parked"
    kills.append(("SIGINT, first table",) + kill_parked(scenario, out, "places.csv", signal.SIGINT, ready)
                 + (snapshot(out),))
    kills.append(("SIGKILL, workbook",) + kill_parked(scenario, out, "acceso.xlsx", signal.SIGKILL, ready)
                 + (snapshot(out),))
    proc = start(scenario, out)
    _, resume_err = proc.communicate(timeout=TIMEOUT_S)
    _, ref_err = ref.communicate(timeout=TIMEOUT_S)
    assert ref.returncode == 0, ref_err
    return {"ref": ref_out, "out": out, "before": before, "kills": kills, "resume_code": proc.returncode,
            "resume_err": resume_err}


def test_sigkill_and_sigint_exit_codes(runs):
    codes = {label: code for label, code, _, _ in runs["kills"]}
    assert codes["SIGKILL, data stage"] == -signal.SIGKILL
    assert codes["SIGKILL, workbook"] == -signal.SIGKILL
    label, code, err, _ = runs["kills"][1]
    assert code == 130 and "interrupted" in err and "Traceback" not in err


def test_an_interrupted_run_leaves_the_earlier_run_untouched(runs):
    before = runs["before"]["visible"]
    assert {"manifest.json", "scenario.toml", "quality_report.md"} <= set(before)
    for label, _, _, snap in runs["kills"]:
        assert snap["visible"] == before, label  # same files, same bytes: never a mix of two runs


def test_leftovers_are_the_dead_runs_staging_folder_and_lock_only(runs):
    for label, code, _, snap in runs["kills"]:
        if code == -signal.SIGKILL:
            assert snap["hidden"] and all(n == LOCK_NAME or n.startswith(STAGING_PREFIX) for n in snap["hidden"]), \
                (label, snap["hidden"])
            assert sum(n.startswith(STAGING_PREFIX) for n in snap["hidden"]) == 1, label  # the earlier one was removed
        else:  # SIGINT: the run cleaned up after itself (staging folder and lock removed)
            assert snap["hidden"] == [], (label, snap["hidden"])


def test_rerun_completes_and_equals_the_uninterrupted_run(runs):
    assert runs["resume_code"] == 0, runs["resume_err"]
    ref, out = runs["ref"], runs["out"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no staging, no lock, no temporary
    csvs = sorted(p.name for p in ref.glob("*.csv"))
    assert csvs == sorted(p.name for p in out.glob("*.csv")) and "places.csv" in csvs
    differ = [n for n in csvs if sha(ref / n) != sha(out / n)]
    assert not differ, differ
    with rasterio.open(ref / "travel_time_minutes.tif") as a, rasterio.open(out / "travel_time_minutes.tif") as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["command"] == "access" and "finished_utc" in m and set(m["stages"]) >= {"data", "graph", "access"}
    assert set(m["outputs"]) == {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
