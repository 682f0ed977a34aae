"""Atomic writes: a file of a run is either complete or absent, never half-written.

:func:`atomic_path` writes beside the target under a hidden temporary name carrying the
writer's :func:`process_token` and renames it onto the target on success;
:func:`remove_partial_files` removes what an interrupted writer left (only names of
exactly :data:`PARTIAL_NAME`'s form, of a given token or of a process no longer alive).
Re-exported by :mod:`siting.io`.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_RUN_RANDOM: dict[int, str] = {}


def process_token() -> str:
    """A token unique to this process: ``<pid>x<8 random hex digits>``.

    Every temporary :func:`atomic_path` makes carries it, so a clean-up can tell its own
    (or a dead process's) temporaries from anything else in the folder.  A forked child
    gets a token of its own (the pid is part of the key)."""
    pid = os.getpid()
    if pid not in _RUN_RANDOM:
        _RUN_RANDOM[pid] = secrets.token_hex(4)
    return f"{pid}x{_RUN_RANDOM[pid]}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (``kill(pid, 0)``)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary is ``.<name>.siting-<token>-<random>.part<suffix>`` with the
    :func:`process_token` of the writer: an interrupted write leaves only such a hidden
    file, which nothing reads.  A hard kill (SIGKILL, power cut) cannot run the clean-up,
    so the temporary (and a GeoPackage's ``-journal``) stays behind until
    :func:`remove_partial_files` removes it: only names of exactly this form, and only
    those of a given token or of a process that no longer runs.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.siting-{process_token()}-", suffix=".part" + target.suffix,
                               dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        for leftover in (tmp_path, *(tmp_path.with_name(tmp_path.name + s) for s in _SQLITE_SIDE)):
            if leftover.exists():
                leftover.unlink()


_SQLITE_SIDE = ("-journal", "-wal", "-shm")

#: names :func:`atomic_path` gives its temporaries (plus SQLite's side files of a GeoPackage);
#: group ``pid`` and ``token`` (``<pid>x<hex>``) name the process that wrote it
PARTIAL_NAME = re.compile(r"^\..+\.siting-(?P<token>(?P<pid>\d+)x[0-9a-f]{8})-[A-Za-z0-9_]+\.part"
                          r"(\.[^.]+)?(-journal|-wal|-shm)?$")


def remove_partial_files(folder: str | os.PathLike, *, token: str | None = None,
                         older_than_s: float = 0.0) -> list[Path]:
    """Delete the temporaries an interrupted :func:`atomic_path` left in ``folder``.

    Only names that match :data:`PARTIAL_NAME` exactly are touched (a user's file such as
    ``.places.part.csv`` never is), and of those only the ones written with ``token`` or,
    without ``token``, the ones whose writer process no longer runs (:func:`pid_alive`) and
    that were not modified for ``older_than_s`` seconds (a margin for a folder other
    machines may share, such as a network cache).  Returns the paths removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time()
    removed = []
    for p in sorted(folder.iterdir()):
        m = PARTIAL_NAME.match(p.name)
        if not m or not p.is_file():
            continue
        if token is not None and m.group("token") != token:
            continue
        if token is None and (m.group("token") == process_token() or pid_alive(int(m.group("pid")))):
            continue  # a live writer's (maybe our own) temporary
        try:
            if now - p.stat().st_mtime >= older_than_s:
                p.unlink()
                removed.append(p)
        except FileNotFoundError:  # removed meanwhile by its own writer
            continue
    return removed
