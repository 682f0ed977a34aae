"""Run folder and manifest: what every run used, so it can be reproduced and audited.

The manifest (``manifest.json``) records the scenario source, hashes of every input
file, package versions, the random seed, timings and row counts per stage, and the
files written.  It is rewritten atomically after each stage, so an interrupted run
leaves a manifest that says which stages finished.
"""
from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from .io import atomic_path, remove_partial_files, sha256
from .scenario import Inputs, Scenario, save_scenario

PACKAGES = ("siting", "numpy", "pandas", "scipy", "geopandas", "shapely", "pyogrio", "pyproj", "rasterio",
            "networkx", "osmnx", "scikit-learn", "folium", "matplotlib", "dask", "distributed")


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def input_hashes(sc: Scenario) -> dict[str, dict[str, Any]]:
    """SHA-256 and size of every input file named in the scenario."""
    out: dict[str, dict[str, Any]] = {}
    for f in dataclasses.fields(Inputs):
        value = getattr(sc.inputs, f.name)
        for i, p in enumerate(value if isinstance(value, list) else [value]):
            if not p or p == "download":
                continue
            key = f.name if not isinstance(value, list) else f"{f.name}[{i}]"
            path = Path(p)
            out[key] = {"path": str(path), "sha256": sha256(path), "bytes": path.stat().st_size}
    return out


@dataclasses.dataclass
class Run:
    """One run: its folder, scenario and manifest."""

    scenario: Scenario
    folder: Path
    manifest: dict[str, Any]

    @classmethod
    def start(cls, sc: Scenario, *, command: str) -> Run:
        folder = Path(sc.run.output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        removed = remove_partial_files(folder)  # temporaries left by a killed earlier run
        save_scenario(sc, folder / "scenario.toml")
        manifest = {
            "command": command,
            "scenario_source": sc.source,
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seed": sc.run.seed,
            "language": sc.run.language,
            "versions": package_versions(),
            "inputs": input_hashes(sc),
            "stages": {},
            "outputs": {},
            "removed_partial_files": [p.name for p in removed],
        }
        run = cls(sc, folder, manifest)
        run.save()
        return run

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        """Time a stage; the yielded dict collects its row counts / figures."""
        info: dict[str, Any] = {}
        t0 = time.perf_counter()
        yield info
        info["seconds"] = round(time.perf_counter() - t0, 3)
        self.manifest["stages"][name] = info
        self.save()

    def output(self, path: str | Path) -> Path:
        """Register an output file (relative to the run folder) and return its path."""
        path = Path(path)
        if not path.is_absolute():
            path = self.folder / path
        self.manifest["outputs"][str(path.relative_to(self.folder))] = None
        return path

    def outputs(self, paths) -> None:
        """Register several output files (see :meth:`output`)."""
        for p in paths:
            self.output(p)

    def finish(self) -> None:
        """Record output hashes and the end time."""
        for rel in list(self.manifest["outputs"]):
            p = self.folder / rel
            if p.exists() and p.is_file():
                self.manifest["outputs"][rel] = sha256(p)
        self.manifest["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.save()

    def save(self) -> None:
        with atomic_path(self.folder / "manifest.json") as tmp:
            tmp.write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
