"""Run folder and manifest: what every run used, so it can be reproduced and audited.

The manifest (``manifest.json``) records the scenario source, hashes of every input
file, package versions, the random seed, timings and row counts per stage, and the
files written (with their SHA-256).

Run-folder safety (:meth:`Run.start` / :meth:`Run.finish`):

* an output folder that is an existing file, or that contains any input of the run
  (the scenario file, a table, the DEM...), is refused before anything is written;
* one run at a time per folder: a lock file ``.siting.lock`` (process id, host, token,
  command) is taken with ``O_EXCL``; a second run on a locked folder is refused with a
  clear message; a lock whose process no longer runs (killed run) is taken over, and that
  run's own staging folder and temporaries (found by its token) are removed;
* the run writes into a hidden staging folder ``.siting-run-<token>`` inside the output
  folder (``run.folder`` during the run) and :meth:`Run.finish` moves the files into
  place at the end, so an interrupted run leaves the folder exactly as the previous run
  left it, never a mix of two runs.  The outputs of the previous run that this run did
  not write again are removed (only if unchanged since that run wrote them), so the
  folder always holds one run;
* nothing the run did not create is overwritten or deleted: a file in the way that is
  not an unchanged output of an earlier siting run (listed with the same SHA-256 in its
  manifest) stops the swap with a message, and the new outputs stay in a visible
  ``siting_outputs_<token>`` folder beside it.
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import UserError
from .io import atomic_path, pid_alive, process_token, remove_partial_files, sha256
from .scenario import Inputs, Scenario, save_scenario

PACKAGES = ("siting", "numpy", "pandas", "scipy", "geopandas", "shapely", "pyogrio", "pyproj", "rasterio",
            "networkx", "osmnx", "scikit-learn", "folium", "matplotlib", "dask", "distributed")
LOCK_NAME = ".siting.lock"
STAGING_PREFIX = ".siting-run-"
SCENARIO_COPY = "scenario.toml"
MANIFEST = "manifest.json"


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def input_paths(sc: Scenario) -> dict[str, Path]:
    """Every input file named in the scenario (``key`` or ``key[i]`` -> path; not
    ``inputs.layers``, which names layers of those files)."""
    out: dict[str, Path] = {}
    for f in dataclasses.fields(Inputs):
        value = getattr(sc.inputs, f.name)
        if isinstance(value, dict):
            continue
        for i, p in enumerate(value if isinstance(value, list) else [value]):
            if not p or p == "download":
                continue
            out[f.name if not isinstance(value, list) else f"{f.name}[{i}]"] = Path(p)
    return out


def input_hashes(sc: Scenario) -> dict[str, dict[str, Any]]:
    """SHA-256 and size of every input file named in the scenario."""
    return {key: {"path": str(path), "sha256": sha256(path), "bytes": path.stat().st_size}
            for key, path in input_paths(sc).items()}


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def check_output_folder(sc: Scenario, folder: Path) -> None:
    """Refuse an output folder that is a file or that contains an input of the run."""
    if folder.exists() and not folder.is_dir():
        raise UserError("the output path is an existing file, not a folder", source=str(folder),
                        hint="give a folder with --output (or run.output_dir); it is created if missing")
    inputs = {f"inputs.{k}": p for k, p in input_paths(sc).items()}
    if sc.source:
        inputs["the scenario file"] = Path(sc.source)
    inside = sorted(f"{k} ({p})" for k, p in inputs.items() if _inside(p, folder))
    if inside:
        raise UserError("the output folder contains input(s) of this run, which the outputs could overwrite: "
                        + ", ".join(inside), source=str(folder),
                        hint="write the run into its own folder, e.g. --output runs/my_run (a run folder's own "
                             "scenario.toml can be replayed with --output pointing elsewhere)")


def _writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".siting-write-test-{process_token()}"
        probe.write_bytes(b"")
        probe.unlink()
    except PermissionError as exc:
        raise UserError("no permission to write into the output folder", source=str(folder),
                        hint="choose a folder you can write into with --output") from exc
    except OSError as exc:
        raise UserError(f"cannot write into the output folder ({exc.strerror or exc})", source=str(folder),
                        hint="check the disk (full? read-only?) or choose another folder with --output") from exc


# --------------------------------------------------------------------------- lock


def _read_lock(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def _lock_is_live(info: dict[str, Any], lock: Path) -> bool:
    """Whether a lock belongs to a run that may still be writing.

    Another host's lock is taken as live (its process cannot be checked from here); on this
    host, the lock is live while its process runs, except a lock of this very process (a
    run that an error ended without :meth:`Run.finish`).  An unreadable lock younger than
    10 s is being written by its owner; an older one is stale."""
    if not info:
        try:
            return time.time() - lock.stat().st_mtime < 10.0
        except FileNotFoundError:
            return False
    if info.get("host") != socket.gethostname():
        return True
    pid = int(info.get("pid", -1))
    return pid != os.getpid() and pid_alive(pid)


def acquire_lock(folder: Path, *, command: str) -> dict[str, Any]:
    """Take the folder's lock (``O_EXCL``); refuse if another live run holds it; take over a
    dead run's lock after removing that run's staging folder and temporaries."""
    lock = folder / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(), "token": process_token(), "command": command,
          "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            info = _read_lock(lock)
            if info is None:
                continue  # released meanwhile
            if _lock_is_live(info, lock):
                raise UserError(
                    f"another siting run is writing into this folder (process {info.get('pid')} on "
                    f"{info.get('host')}, '{info.get('command')}', started {info.get('started_utc')})",
                    source=str(folder),
                    hint="wait for it to finish, or give this run another folder with --output; if that run "
                         f"is known to be dead, delete {lock}") from None
            _clean_dead_run(folder, info)
            stale = folder / f"{LOCK_NAME}.stale-{process_token()}"
            try:
                os.replace(lock, stale)  # only one of two racing runs gets the stale lock
                stale.unlink()
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        return me
    raise UserError("could not take the run-folder lock", source=str(lock), hint="retry, or use another --output")


def _clean_dead_run(folder: Path, info: dict[str, Any]) -> None:
    token = info.get("token")
    if not token:
        return
    staging = folder / f"{STAGING_PREFIX}{token}"
    if staging.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
    for sub in [folder, *(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))]:
        remove_partial_files(sub, token=token)


def release_lock(folder: Path, token: str) -> None:
    lock = folder / LOCK_NAME
    info = _read_lock(lock)
    if info and info.get("token") == token:
        lock.unlink(missing_ok=True)


# --------------------------------------------------------------------------- swap


def _previous_outputs(folder: Path) -> dict[str, str]:
    """``relative path -> sha256`` of the files the previous siting run wrote in ``folder``."""
    try:
        m = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(m, dict) or "outputs" not in m or "inputs" not in m:
        return {}
    return {k: v for k, v in m.get("outputs", {}).items() if isinstance(v, str)}


def previous_outputs(folder: str | Path) -> dict[str, str]:
    """``relative path -> sha256`` of the files the last siting run wrote in ``folder`` ({} if none)."""
    return _previous_outputs(Path(folder).absolute())


def _is_siting_manifest(path: Path) -> bool:
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and {"command", "inputs", "outputs"} <= set(m)


def _owned(folder: Path, rel: str, previous: dict[str, str]) -> bool:
    """May the run replace or remove ``folder / rel``?  Yes if absent, or an unchanged
    output of the previous siting run, or that run's manifest."""
    path = folder / rel
    if not path.exists():
        return True
    if not path.is_file():
        return False
    if rel == MANIFEST:
        return _is_siting_manifest(path)
    if rel in previous:
        return sha256(path) == previous[rel]
    if rel == SCENARIO_COPY and _is_siting_manifest(folder / MANIFEST):  # runs before scenario.toml was listed
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().startswith("# resolved scenario (from ")
    return False


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


_ACTIVE: dict[str, Run] = {}


@atexit.register
def abort_active_runs() -> None:
    """Drop the staging folders and locks of this process's runs that never finished (an
    error ended them): their output folders stay as the previous run left them.  Called by
    the CLI on an error and at interpreter exit."""
    for run in list(_ACTIVE.values()):
        run.abort()


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that ended (``os.times``)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def peak_rss_mb() -> float | None:
    """Peak resident set of this process so far in MiB (``getrusage``; None where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2 ** 20 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux


@dataclasses.dataclass
class Run:
    """One run: its folder, scenario and manifest.

    ``folder`` is where the stages write: the staging folder while the run is active, the
    output folder after :meth:`finish`.  ``output_folder`` is always the final folder.
    """

    scenario: Scenario
    folder: Path
    manifest: dict[str, Any]
    output_folder: Path | None = None
    token: str = ""
    removed: list[str] = dataclasses.field(default_factory=list)  # outputs of the previous run removed by finish()

    @classmethod
    def start(cls, sc: Scenario, *, command: str) -> Run:
        final = Path(sc.run.output_dir).absolute()
        check_output_folder(sc, final)
        _writable(final)
        lock = acquire_lock(final, command=command)
        token = lock["token"]
        staging = final / f"{STAGING_PREFIX}{token}"
        try:
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir()
            copy = dataclasses.replace(sc, run=dataclasses.replace(sc.run, output_dir="."))
            save_scenario(copy, staging / SCENARIO_COPY)  # "." = the folder holding this copy
            manifest = {
                "command": command,
                "scenario_source": sc.source,
                "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seed": sc.run.seed,
                "language": sc.run.language,
                "versions": package_versions(),
                "inputs": input_hashes(sc),
                "stages": {},
                "outputs": {SCENARIO_COPY: None},
            }
            run = cls(sc, staging, manifest, output_folder=final, token=token)
            run.save()
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            release_lock(final, token)
            raise
        _ACTIVE[token] = run
        return run

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        """Time a stage; the yielded dict collects its row counts / figures.  Also recorded: the
        process' peak resident set after the stage (``peak_rss_mb``, ``ru_maxrss``) and how much
        the stage raised it (``rss_growth_mb``), beside a ``memory_estimate_mb`` the caller may
        put in ``info`` (:mod:`siting.stage_memory`, #19)."""
        info: dict[str, Any] = {}
        t0, cpu0, rss0 = time.perf_counter(), _cpu_seconds(), peak_rss_mb()
        yield info
        info["seconds"] = round(time.perf_counter() - t0, 3)
        info["cpu_seconds"] = round(_cpu_seconds() - cpu0, 3)  # this process and its finished side processes
        if rss0 is not None and (rss := peak_rss_mb()) is not None:
            info["peak_rss_mb"], info["rss_growth_mb"] = round(rss, 1), round(rss - rss0, 1)
        self.manifest["stages"][name] = info
        self.save()

    def output(self, path: str | Path) -> Path:
        """Register an output file (relative to the run folder) and return its path."""
        path = Path(path)
        if not path.is_absolute():
            path = self.folder / path
        self.manifest["outputs"][str(path.relative_to(self.folder))] = None
        return path

    def outputs(self, paths: Iterable[str | Path]) -> None:
        """Register several output files (see :meth:`output`)."""
        for p in paths:
            self.output(p)

    def finish(self) -> None:
        """Record output hashes and the end time, then move the run into the output folder."""
        staged = self.folder
        for rel in _files(staged):  # everything the run wrote, registered or not
            if rel != MANIFEST:
                self.manifest["outputs"].setdefault(rel, None)
        for rel in list(self.manifest["outputs"]):
            p = staged / rel
            if p.exists() and p.is_file():
                self.manifest["outputs"][rel] = sha256(p)
        self.manifest["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.save()
        if self.output_folder is None or staged == self.output_folder:
            return
        self._swap(staged, self.output_folder)
        self.folder = self.output_folder
        _ACTIVE.pop(self.token, None)
        release_lock(self.output_folder, self.token)

    def _swap(self, staged: Path, final: Path) -> None:
        previous = _previous_outputs(final)
        new = _files(staged)
        blocked = [rel for rel in new if not _owned(final, rel, previous)]
        if blocked:
            keep = final / f"siting_outputs_{self.token}"
            os.replace(staged, keep)
            self.folder = keep
            _ACTIVE.pop(self.token, None)
            release_lock(final, self.token)
            raise UserError("the output folder holds file(s) that siting did not write (or that were changed "
                            "since): " + ", ".join(blocked[:10]) + (" ..." if len(blocked) > 10 else "")
                            + f"; nothing was overwritten, this run's outputs are in {keep}",
                            source=str(final), hint="move those files away, or use another --output")
        stale = [rel for rel in previous if rel not in new and _owned(final, rel, previous)]
        for rel in stale:  # outputs of the previous run that this run does not replace
            (final / rel).unlink(missing_ok=True)
        self.removed = stale
        for rel in [r for r in new if r != MANIFEST] + [MANIFEST]:  # the manifest last: it marks completion
            target = final / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged / rel, target)
        shutil.rmtree(staged, ignore_errors=True)
        for rel in stale:  # sub-folders (mapas/) emptied by the clean-up
            parent = (final / rel).parent
            if parent != final and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()

    def abort(self) -> None:
        """Give up an unfinished run: remove its staging folder and release the lock."""
        _ACTIVE.pop(self.token, None)
        if self.output_folder is None or self.folder == self.output_folder:
            return
        if self.folder.name.startswith(STAGING_PREFIX):
            shutil.rmtree(self.folder, ignore_errors=True)
        release_lock(self.output_folder, self.token)

    def save(self) -> None:
        with atomic_path(self.folder / MANIFEST) as tmp:
            tmp.write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
