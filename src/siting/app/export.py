"""Export: the run folder ``siting run`` writes, for the current what-if, as a zip.

The what-if's resolved scenario is written as a TOML file and ``siting run`` is run on it
in a child process (so the folder is exactly the CLI's: XLSX, GeoPackage, HTML report,
static maps, manifest, resolved scenario, and matplotlib never runs in the server's
threads).  One export runs at a time; the same what-if exported again reuses the zip.
Files live in a temporary folder removed when the server stops.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import Engine, WhatIf


@dataclass
class Job:
    """One export."""

    id: str
    what_if: str
    folder: Path
    state: str = "queued"  # queued, running, done, failed
    message: str = ""
    zip_path: Path | None = None
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    def describe(self) -> dict[str, Any]:
        return {"job": self.id, "what_if": self.what_if, "state": self.state, "message": self.message,
                "seconds": round(self.seconds or (time.time() - self.started), 1),
                "zip": f"/api/export/{self.id}/zip" if self.state == "done" else None,
                "files": sorted(p.name for p in self.folder.iterdir()) if self.state == "done" else []}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "siting"


class Exports:
    """Export jobs of a server (one at a time, in a worker thread)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.root: Path | None = None
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._closed = False

    def _root(self) -> Path:
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="siting-app-export-"))
        return self.root

    def start(self, wi: WhatIf) -> Job:
        with self._lock:
            for job in self.jobs.values():
                if job.what_if == wi.id and job.state in ("queued", "running", "done"):
                    return job
            jid = uuid.uuid4().hex[:12]
            folder = self._root() / f"{_slug(wi.sc.run.name)}-{wi.id[:8]}"
            job = Job(id=jid, what_if=wi.id, folder=folder)
            self.jobs[jid] = job
        threading.Thread(target=self._run, args=(job, wi), daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        return self.jobs[job_id]

    def _run(self, job: Job, wi: WhatIf) -> None:
        with self._run_lock:
            if self._closed:
                return
            job.state, job.started = "running", time.time()
            scenario = self._root() / f"scenario-{wi.id[:8]}.toml"
            try:
                self.engine.write_scenario(wi, scenario, output_dir=job.folder)
                env = {**os.environ, "MPLBACKEND": "Agg"}
                cmd = [sys.executable, "-m", "siting.cli", "run", "--scenario", str(scenario), "--no-progress"]
                self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                              text=True)
                out, _ = self._proc.communicate()
                code = self._proc.returncode
                self._proc = None
                if code != 0:
                    job.state, job.message = "failed", out.strip().splitlines()[-1] if out.strip() else f"exit {code}"
                    return
                base = shutil.make_archive(str(job.folder), "zip", root_dir=job.folder.parent,
                                           base_dir=job.folder.name)
                job.zip_path = Path(base)
                job.state, job.message = "done", f"{sum(1 for _ in job.folder.rglob('*'))} files"
            except Exception as exc:  # reported to the page, never a dead thread
                job.state, job.message = "failed", str(exc)
            finally:
                job.seconds = time.time() - job.started

    def close(self) -> None:
        """Stop a running export and remove the temporary files."""
        self._closed = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
