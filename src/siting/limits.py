"""Resource limits: how big an input may be, and how much memory a stage may plan to use.

Two guards, both applied *before* anything large is read or allocated:

* **file size per input kind** (:func:`check_file_size`): a table, vector, raster or model
  file larger than its limit (:class:`siting.scenario.Limits`, documented defaults, raised
  with the scenario's ``[limits]`` section) is refused with its size and the key to raise;
* **memory** (:func:`check_memory`): a stage that is about to allocate ``n`` bytes (the
  elevation grid of a DEM, the land-cover grid, a table read whole) first compares its
  estimate with :data:`MEMORY_SHARE` of the memory available now and refuses with the
  estimate, instead of dying in ``numpy`` with "Unable to allocate 67.7 GiB".

The limits in force are those of the scenario being run: :func:`activate` (called by the
data stage with the scenario) makes its ``[limits]`` and ``[inputs.layers]`` the settings
of the current thread / task (a :class:`contextvars.ContextVar`); :func:`using` does the
same for a ``with`` block.  Without a scenario the documented defaults apply.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError
from .scenario import Limits, Scenario

MB = 2**20
GIB = 2**30
#: share of the available memory one stage may plan to use; above it the stage is refused
MEMORY_SHARE = 0.8
#: what each kind of input is, for messages
KIND_LABELS = {"table": "tables (CSV/TXT/XLSX/Parquet)", "vector": "vector files (GeoPackage/GeoJSON/shapefile)",
               "raster": "rasters (GeoTIFF)", "model": "saved models"}


@dataclass(frozen=True)
class ReadSettings:
    """The limits and the layer choices in force for the files of one run."""

    limits: Limits = field(default_factory=Limits)
    layers: dict[str, str] = field(default_factory=dict)  # resolved path -> layer or sheet name
    layer_keys: dict[str, str] = field(default_factory=dict)  # resolved path -> inputs.<key> (for messages)

    def layer_for(self, path: str | os.PathLike) -> str | None:
        return self.layers.get(_key(path))

    def input_key(self, path: str | os.PathLike) -> str | None:
        return self.layer_keys.get(_key(path))


_DEFAULT = ReadSettings()
_ACTIVE: contextvars.ContextVar[ReadSettings | None] = contextvars.ContextVar("siting_read_settings", default=None)


def _key(path: str | os.PathLike) -> str:
    return str(Path(path).resolve())


def settings_for(sc: Scenario) -> ReadSettings:
    """The :class:`ReadSettings` of a scenario: its ``[limits]`` and ``[inputs.layers]``."""
    layers, keys = {}, {}
    for name in type(sc.inputs).__dataclass_fields__:
        if name == "layers":
            continue
        value = getattr(sc.inputs, name)
        for p in value if isinstance(value, list) else [value]:
            if p and p != "download":
                keys[_key(p)] = name
                if name in sc.inputs.layers:
                    layers[_key(p)] = sc.inputs.layers[name]
    return ReadSettings(limits=sc.limits, layers=layers, layer_keys=keys)


def activate(sc: Scenario | ReadSettings) -> None:
    """Make ``sc``'s limits and layers the ones every reader of this thread / task uses."""
    _ACTIVE.set(sc if isinstance(sc, ReadSettings) else settings_for(sc))


@contextlib.contextmanager
def using(sc: Scenario | ReadSettings) -> Iterator[ReadSettings]:
    """``with using(scenario):`` - :func:`activate` for the block only."""
    settings = sc if isinstance(sc, ReadSettings) else settings_for(sc)
    token = _ACTIVE.set(settings)
    try:
        yield settings
    finally:
        _ACTIVE.reset(token)


def active() -> ReadSettings:
    """The settings in force (the defaults when no scenario was activated)."""
    return _ACTIVE.get() or _DEFAULT


def _size_text(nbytes: float) -> str:
    return f"{nbytes / GIB:,.1f} GiB" if nbytes >= GIB else f"{nbytes / MB:,.1f} MB"


def check_file_size(path: str | os.PathLike, kind: str, *, size: int | None = None) -> int:
    """Refuse (:class:`DataError`) a file larger than the active limit for ``kind``
    (``"table"``, ``"vector"``, ``"raster"`` or ``"model"``).  Returns the size in bytes.

    The size is the apparent one (``st_size``), so a sparse file of zeros counts in full.
    """
    if kind not in KIND_LABELS:
        raise ValueError(f"unknown input kind {kind!r}")
    size = Path(path).stat().st_size if size is None else int(size)
    limit_mb = float(getattr(active().limits, f"{kind}_mb"))
    if size > limit_mb * MB:
        raise DataError(f"the file is {_size_text(size)}, more than the {limit_mb:,g} MB limit for "
                        f"{KIND_LABELS[kind]}", source=str(path),
                        hint=f"check that this is the right file; if it is, raise the limit in the scenario: "
                             f"[limits] {kind}_mb = {int(size / MB) + 1}")
    return size


def available_memory() -> int:
    """Bytes of memory available now (``psutil``, else ``MemAvailable`` of /proc/meminfo)."""
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62  # unknown: do not refuse


def check_memory(nbytes: float, *, what: str, source: str | None = None, hint: str | None = None,
                 available: int | None = None, share: float = MEMORY_SHARE) -> None:
    """Refuse up front a step that would allocate ``nbytes`` when that exceeds ``share`` of
    the ``available`` memory (default: available now); the message gives the estimate.

    ``what`` says what would be allocated (``"the elevation grid (95,000 x 95,000 cells)"``).
    """
    available = available_memory() if available is None else int(available)
    if nbytes <= share * available:
        return
    raise DataError(f"{what} would need about {_size_text(nbytes)} of memory and {_size_text(available)} "
                    "are available", source=source,
                    hint=hint or "check that this is the right file, or run on a machine with more memory")
