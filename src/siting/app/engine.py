"""The app's one adapter to the stages: every call into ``siting``'s stages is in this module.

The server keeps the slow, rarely changing stages (data, travel-time graph) in memory and
answers each what-if by recomputing only what the changed keys touch::

    tier     recomputed when these change                            cost (8 UGEL)
    data     study area, inputs (not labels), population ages,       ~3 s (graph from cache)
             speeds, [registry], any other section,
             access.capacity_column, allocation.max_extensions_per_cetpro,
             the content of an edited file
    access   [access], population.target_group, run.language         ~0.2 s
    score    [candidates], [suitability], run.seed, inputs.labels,   ~0.2-1.3 s
             allocation.n_sites / max_minutes / teacher_max_minutes
    propose  any other allocation key (solver, quotas, weights...)   ~0.1 s

Each tier is cached under a hash of the scenario keys it reads (plus the content of any
edited input file), so a repeated what-if is answered from memory and a change of, say,
the solver reuses the score of the previous one.  Within the score stage the candidate
coverage matrices (:func:`siting.network.solve.coverage`) are memoised per graph and node
set and computed once at ``T * (1 + speed_jitter)`` (:class:`CoverageMemo`): the Monte
Carlo's speed draws and any smaller threshold are exact thresholdings of it, so changing N,
the weights or a lower threshold runs no Dijkstra; a higher threshold computes it once.

Porting note (for the stage redesign): the stage calls are in :meth:`Engine._load_base`,
:meth:`Engine._compute_access`, :meth:`Engine._compute_score`, :meth:`Engine._compute_plan`;
the tiers are :func:`tier_keys`; the result fields the app reads are copied into
:class:`Base` and :class:`WhatIf` by :meth:`WhatIf.from_stages`.  Nothing else in
``siting.app`` touches a stage or a stage result type.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..access import compute_access, evaluate_plan
from ..allocation import propose_sites
from ..allocation.outcomes import headline
from ..allocation.stage import parent_capacity
from ..data import load_data
from ..errors import ScenarioError
from ..network import build_graph, routes, solve
from ..scenario import Scenario, load_scenario, save_scenario
from ..suitability import score_candidates

#: inputs read only by the score stage (a change does not reload the data); every other input
#: (petitions, exclusions and the rest of the registry included) is read by the data stage
SCORE_ONLY_INPUTS = ("labels",)
#: sections read only by the access, score and propose stages; any other section, including
#: one this module does not know yet, belongs to the data tier (a change reloads the data)
LATER_SECTIONS = ("access", "candidates", "suitability", "allocation")
#: keys of the later sections the data stage reads too
DATA_KEYS_OF_LATER = {"access": ("capacity_column",), "allocation": ("max_extensions_per_cetpro",)}
#: allocation keys the score stage reads (the others only change the proposals)
SCORE_ALLOCATION_KEYS = ("n_sites", "max_minutes", "teacher_max_minutes")
#: keys a what-if may not change (files are changed through data corrections, not paths)
FORBIDDEN_PREFIXES = ("inputs__", "run__output_dir", "run__cache_dir", "run__name")


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _file_digest(path: str) -> str:
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest()[:16] if p.is_file() else "missing"


@dataclass(frozen=True)
class TierKeys:
    """Cache keys of the four tiers of one resolved scenario."""

    data: str
    access: str
    score: str
    full: str


def tier_keys(sc: Scenario, *, edited_files: tuple[str, ...] = ()) -> TierKeys:
    """The cache key of each tier: a hash of the scenario keys the tier reads.

    ``edited_files`` are input paths whose *content* can change while the path stays the
    same (the app's data corrections); their content hash enters the key of the tier
    that reads them.
    """
    d = sc.to_dict()
    run, alloc, inputs = d.pop("run"), d["allocation"], d["inputs"]
    files = {k: (_file_digest(v) if v in edited_files else v) for k, v in inputs.items() if isinstance(v, str)}
    data_part = {k: v for k, v in d.items() if k not in LATER_SECTIONS}
    data_part["inputs"] = {k: v for k, v in inputs.items() if k not in SCORE_ONLY_INPUTS}
    data_part["files"] = {k: v for k, v in files.items() if k not in SCORE_ONLY_INPUTS}
    data_part["population"] = {k: v for k, v in d["population"].items() if k != "target_group"}
    data_part["later"] = {s: {k: d[s][k] for k in keys} for s, keys in DATA_KEYS_OF_LATER.items()}
    data_part["cache_dir"] = run["cache_dir"]
    data = _digest(data_part)
    access = _digest([data, d["access"], d["population"]["target_group"], run["language"]])
    score = _digest([access, d["candidates"], d["suitability"], run["seed"],
                     {k: files.get(k, "") for k in SCORE_ONLY_INPUTS},
                     {k: alloc[k] for k in SCORE_ALLOCATION_KEYS}])
    full = _digest([score, alloc])
    return TierKeys(data=data, access=access, score=score, full=full)


class LRU(OrderedDict):
    """A small least-recently-used dict (callers hold the engine's lock)."""

    def __init__(self, maxsize: int):
        super().__init__()
        self.maxsize = maxsize

    def get_or(self, key: str, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        while len(self) > self.maxsize:
            self.popitem(last=False)
        return value


def within(matrix: sp.csr_array, limit: float) -> sp.csr_array:
    """The entries of a coverage matrix at most ``limit`` minutes (explicit zeros kept).

    Exact for a matrix computed with a larger limit: its stored minutes are shortest-path
    times, and the pairs within the smaller limit are a subset of its pairs.
    """
    m = sp.csr_array(matrix)
    keep = m.data <= limit
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m.shape[0]))]).astype(np.int64)
    return sp.csr_array((m.data[keep].copy(), m.indices[keep].copy(), indptr), shape=m.shape)


class CoverageMemo:
    """Memoised :func:`siting.network.solve.coverage` for the score stage.

    Key: the graph's cache key, a hash of the origin and target node arrays and the
    direction.  A request for ``limit`` minutes is answered from a stored matrix with a
    limit at least as large, thresholded (:func:`within`, exact); a miss computes at
    ``limit * expand``, so the Monte Carlo's speed draws within ``± speed_jitter`` (limits
    ``T * f``) reuse the first matrix (the score stage asks for ``T`` first).  Installed only
    while the engine computes (under its lock), through the module attribute the score stage
    calls.  Returns a new matrix, so a caller that changes it in place cannot change the memo.
    """

    def __init__(self, maxsize: int = 24):
        self._cache = LRU(maxsize)
        self.hits = 0
        self.misses = 0
        self.expand = 1.0
        self._original = solve.coverage

    def __call__(self, graph, origins, targets, limit_min, *, towards_origins: bool = True, progress: bool = False,
                 **kwargs):
        if kwargs:  # options this memo does not know: compute without it
            return self._original(graph, origins, targets, limit_min, towards_origins=towards_origins,
                                  progress=progress, **kwargs)
        key = _digest([graph.key, id(graph), hashlib.sha1(np.asarray(origins).tobytes()).hexdigest(),
                       hashlib.sha1(np.asarray(targets).tobytes()).hexdigest(), bool(towards_origins)])
        limit = float(limit_min)
        stored = self._cache.get(key, [])
        best = min((e for e in stored if e[0] >= limit), key=lambda e: e[0], default=None)
        if best is None:
            self.misses += 1
            big = limit * max(self.expand, 1.0)
            best = (big, self._original(graph, origins, targets, big, towards_origins=towards_origins, progress=False))
            self._cache.get_or(key, lambda: [])
            self._cache[key] = sorted([*stored, best], key=lambda e: e[0])[-3:]
        else:
            self.hits += 1
            self._cache.move_to_end(key)
        return within(best[1], limit)

    @contextmanager
    def installed(self, *, expand: float = 1.0) -> Iterator[None]:
        self.expand = expand
        solve.coverage = self  # type: ignore[assignment]
        try:
            yield
        finally:
            solve.coverage = self._original
            self.expand = 1.0


# --------------------------------------------------------------------------- results the app reads


@dataclass
class Base:
    """The data tier: inputs and travel-time graphs, loaded once per data configuration."""

    key: str
    sc: Scenario
    data: Any  # siting.data.StudyData
    graph: Any  # siting.network.graph.TravelGraph (roads + walking)
    walk: Any  # walking-only graph, or None when the scenario is walking only
    seconds: float
    route_tree: routes.PathTree | None = None  # built on the first place query

    @property
    def places(self) -> gpd.GeoDataFrame:
        return self.data.places

    @property
    def cetpro(self) -> gpd.GeoDataFrame:
        return self.data.cetpro

    @property
    def extension(self) -> gpd.GeoDataFrame:
        return self.data.extension_centres

    @property
    def tambos(self) -> gpd.GeoDataFrame:
        return self.data.tambos

    @property
    def petitions(self) -> pd.DataFrame:
        """Validated community petitions (empty when none)."""
        pet = getattr(self.data, "petitions", None)
        return pet if pet is not None else pd.DataFrame(columns=["ccpp_id"])

    @property
    def host_premises(self) -> gpd.GeoDataFrame | None:
        """Host premises from the registry (Tambos, municipal premises...; None when none)."""
        hp = getattr(self.data, "host_premises", None)
        return hp if hp is not None and len(hp) else None

    @property
    def roads(self) -> gpd.GeoDataFrame | None:
        return self.data.roads

    @property
    def districts(self) -> gpd.GeoDataFrame:
        return self.data.districts

    @property
    def crs(self) -> str:
        return self.data.crs

    def notes(self, lang: str) -> list[str]:
        """The data caveats in ``lang``."""
        return list(self.data.quality.notes_in(lang))

    def facility_names(self) -> dict[str, tuple[str, str]]:
        """facility id -> (name, kind) of every existing CETPRO and extension centre."""
        f = self.data.facilities()
        return {str(i): (str(n), str(k)) for i, n, k in zip(f["facility_id"], f["name"], f["kind"])}


@dataclass
class WhatIf:
    """One answered what-if: the resolved scenario and the tables the app shows."""

    id: str
    overrides: dict[str, Any]
    sc: Scenario
    base: Base
    places: gpd.GeoDataFrame  # per place: minutes, nearest facility, band, demography
    by_district: pd.DataFrame
    candidates: gpd.GeoDataFrame  # ordered by suitability rank
    excluded: pd.DataFrame  # places that are not candidates, with reasons
    coverage: sp.csr_array  # candidates x places, minutes within allocation.max_minutes
    teacher: sp.csr_array  # candidates x CETPRO, minutes within allocation.teacher_max_minutes
    parent_capacity: np.ndarray  # extension centres each CETPRO may still open
    proposals: gpd.GeoDataFrame
    curve: pd.DataFrame
    before_after: pd.DataFrame
    solution: dict[str, Any]
    places_after: np.ndarray
    notes: list[str]
    stability: dict[str, Any]
    seconds: float
    timings: dict[str, float]
    _served_by: sp.csc_array | None = field(default=None, repr=False)

    @classmethod
    def from_stages(cls, *, id: str, overrides: dict, sc: Scenario, base: Base, access, scored, plan,
                    seconds: float, timings: dict[str, float]) -> WhatIf:
        """Copy the fields the app reads out of the stage results."""
        plan, evaluation = plan
        s = plan.solution
        solution = {"objective": float(s.objective), "bound": float(s.bound), "gap": float(s.gap),
                    "solver": str(s.solver), "status": str(s.status), "n_sites": int(len(s.selected)),
                    "objective_kind": str(plan.objective), "measures": headline(
                        plan.measures, main_threshold=sc.allocation.max_minutes,
                        equity_minutes=sc.allocation.equity_minutes) if len(plan.measures) else {}}
        stability = {"runs": int(sc.suitability.sensitivity_runs), "speed_samples": int(sc.suitability.speed_samples),
                     "top_n": max(int(sc.allocation.n_sites), 1)}
        return cls(id=id, overrides=dict(overrides), sc=sc, base=base, places=access.places,
                   by_district=access.by_district, candidates=scored.candidates, excluded=scored.excluded,
                   coverage=sp.csr_array(scored.coverage), teacher=sp.csr_array(scored.teacher_minutes),
                   parent_capacity=parent_capacity(sc, base.data), proposals=plan.proposals,
                   curve=plan.curve, before_after=evaluation.before_after, solution=solution,
                   places_after=np.asarray(evaluation.minutes_after, dtype=float),
                   notes=list(scored.notes) + list(plan.notes) + list(plan.priority_notes),
                   stability=stability, seconds=seconds, timings=timings)

    def served_by(self) -> sp.csc_array:
        """The coverage matrix by column (place -> candidates that reach it), built once."""
        if self._served_by is None:
            self._served_by = sp.csc_array(self.coverage)
        return self._served_by


#: the point sets of the graph people travel to, in the order the route tree joins them
FACILITY_SETS = ("cetpro", "extension")


def route_legs(base: Base, places: pd.DataFrame, index: int, *, lang: str = "es") -> dict[str, Any] | None:
    """How the time of place ``index`` to its nearest facility is composed
    (:func:`siting.network.routes.legs_table`); ``None`` when the place reaches no facility.

    Returns ``{"minutes", "parts": [{"part": "walk" | "connector" | <road class>, "minutes"}],
    "km", "km_walk", "km_road", "climb_m", "description"}``; the parts add up to the minutes.
    The shortest-path tree (one multi-source Dijkstra with predecessors towards the facilities
    of the access stage) is computed once per data tier.
    """
    graph = base.graph
    if base.route_tree is None:
        sources = np.concatenate([graph.point_nodes[k] for k in FACILITY_SETS if k in graph.point_nodes])
        base.route_tree = routes.path_tree(graph, sources, towards=True)
    tree = base.route_tree
    node = int(graph.point_nodes["places"][index])
    src = int(tree.source[node])
    if src < 0:
        return None
    names = base.facility_names()
    facility = [k for k in FACILITY_SETS if k in graph.point_nodes]
    # the winning source, back to its facility set and row
    counts = np.cumsum([len(graph.point_nodes[k]) for k in facility])
    set_i = int(np.searchsorted(counts, src, side="right"))
    row = src - (int(counts[set_i - 1]) if set_i else 0)
    table = base.cetpro if facility[set_i] == "cetpro" else base.extension
    dest = names.get(str(table["facility_id"].iloc[row]), ("", ""))[0] if row < len(table) else ""
    legs = routes.legs_table(graph, [routes.trace(tree, node)], tree.minutes[[node]], lang=lang, destinations=[dest])
    r = legs.iloc[0]
    parts = [{"part": c[len("minutes_"):], "minutes": float(r[c])} for c in legs.columns
             if c.startswith("minutes_") and pd.notna(r[c]) and float(r[c]) > 0]
    return {"minutes": float(r["minutes"]), "parts": parts, "description": str(r.get("description", "")),
            **{k: float(r[k]) for k in ("km", "km_walk", "km_road", "climb_m") if k in legs.columns and pd.notna(r[k])}}


# --------------------------------------------------------------------------- the engine


class Engine:
    """Loads a scenario once and answers what-ifs over it.

    Parameters
    ----------
    scenario : path of the scenario TOML file.  When ``<stem>_ediciones.toml`` exists beside
        it (a previous session's data corrections), that file is the session's scenario.
    overrides : ``section__key`` values applied to every what-if (e.g. the language).
    progress : show the stages' progress bars.

    Thread safety: computations run one at a time under one lock (the stages are CPU bound
    and mostly hold the GIL, so running two at once on 2 cores gains little); answered
    what-ifs are immutable and read without the lock.
    """

    def __init__(self, scenario: str | Path, *, overrides: dict[str, Any] | None = None, progress: bool = False):
        self.original_path = Path(scenario).resolve()
        self.base_overrides = dict(overrides or {})
        # what-ifs answer in seconds: rank stability with the global speed factor (one coverage), not
        # the per-class re-timed graphs of `siting run` (suitability.speed_intervals; docs/APP.md)
        self.base_overrides.setdefault("suitability__speed_intervals", "none")
        self.progress = progress
        self._lock = threading.RLock()
        self._bases = LRU(2)
        self._access = LRU(6)
        self._scores = LRU(24)
        self._whatifs = LRU(48)
        self._memo = CoverageMemo()
        self.default: WhatIf | None = None
        self.started = time.time()

    # ------------------------------------------------------------------ scenario
    @property
    def edits_path(self) -> Path:
        """``<stem>_ediciones.toml`` beside the original scenario."""
        return self.original_path.with_name(f"{self.original_path.stem}_ediciones.toml")

    @property
    def edits_dir(self) -> Path:
        """``<stem>_ediciones/`` beside the original scenario (the edited files)."""
        return self.original_path.with_name(f"{self.original_path.stem}_ediciones")

    @property
    def session_path(self) -> Path:
        """The scenario file of this session: the edited one when it exists."""
        return self.edits_path if self.edits_path.exists() else self.original_path

    def check_overrides(self, overrides: Any) -> dict[str, Any]:
        """Refuse what-if keys that are not ``section__key`` or that change files."""
        if not isinstance(overrides, dict):
            raise ScenarioError("the what-if must be a JSON object of section__key values, "
                                'e.g. {"allocation__n_sites": 5}')
        for key in overrides:
            if not isinstance(key, str) or "__" not in key:
                raise ScenarioError(f"override {key!r} must be written section__key, e.g. allocation__n_sites=5",
                                    source=str(self.session_path))
            if key.startswith(FORBIDDEN_PREFIXES):
                raise ScenarioError(f"override {key!r} cannot be changed from the app",
                                    hint="input files change through data corrections (/api/edits); paths of "
                                         "outputs and caches in the scenario file")
        return dict(overrides)

    def resolve(self, overrides: dict[str, Any] | None = None) -> Scenario:
        """The validated scenario of a what-if (raises :class:`ScenarioError` as the CLI does)."""
        return load_scenario(self.session_path, **{**self.base_overrides, **(overrides or {})})

    def edited_files(self) -> tuple[str, ...]:
        d = self.edits_dir
        return tuple(str(p.resolve()) for p in d.glob("*") if p.is_file()) if d.exists() else ()

    # ------------------------------------------------------------------ stages
    def _load_base(self, sc: Scenario, key: str) -> Base:
        t0 = time.perf_counter()
        data = load_data(sc, progress=self.progress)
        graph = build_graph(sc, data)
        walk = build_graph(sc, data, mode="walk") if sc.speeds.mode != "walk" else None
        return Base(key=key, sc=sc, data=data, graph=graph, walk=walk, seconds=time.perf_counter() - t0)

    def _compute_access(self, sc: Scenario, base: Base):
        return compute_access(sc, base.data, base.graph, walk_graph=base.walk)

    def _compute_score(self, sc: Scenario, base: Base, access):
        with self._memo.installed(expand=1.0 + sc.suitability.speed_jitter):
            return score_candidates(sc, base.data, base.graph, access, progress=False)

    def _compute_plan(self, sc: Scenario, base: Base, access, scored):
        with self._memo.installed():  # the objectives' minutes matrix is computed once per candidate set
            plan = propose_sites(sc, base.data, access, scored, graph=base.graph, with_tradeoff=False)
        return plan, evaluate_plan(sc, base.data, base.graph, plan, access=access)

    # ------------------------------------------------------------------ what-ifs
    def what_if(self, overrides: dict[str, Any] | None = None) -> WhatIf:
        """Answer a what-if (``section__key`` overrides); cached by the resolved scenario."""
        overrides = self.check_overrides(overrides or {})
        sc = self.resolve(overrides)
        keys = tier_keys(sc, edited_files=self.edited_files())
        with self._lock:
            if keys.full in self._whatifs:
                return self._whatifs.get_or(keys.full, lambda: None)
            t0 = time.perf_counter()
            timings: dict[str, float] = {}

            def timed(name: str, fn: Callable[[], Any]) -> Any:
                t = time.perf_counter()
                out = fn()
                timings[name] = round(time.perf_counter() - t, 3)
                return out

            base = self._bases.get_or(keys.data, lambda: timed("data", lambda: self._load_base(sc, keys.data)))
            access = self._access.get_or(keys.access, lambda: timed("access", lambda: self._compute_access(sc, base)))
            scored = self._scores.get_or(keys.score,
                                         lambda: timed("score", lambda: self._compute_score(sc, base, access)))
            plan = timed("propose", lambda: self._compute_plan(sc, base, access, scored))
            result = WhatIf.from_stages(id=keys.full, overrides=overrides, sc=sc, base=base, access=access,
                                        scored=scored, plan=plan, seconds=time.perf_counter() - t0, timings=timings)
            return self._whatifs.get_or(keys.full, lambda: result)

    def get(self, what_if_id: str | None) -> WhatIf:
        """An answered what-if by id (the default one for ``None``/empty)."""
        if not what_if_id:
            return self.start()
        with self._lock:
            if what_if_id in self._whatifs:
                return self._whatifs[what_if_id]
        raise KeyError(what_if_id)

    def start(self) -> WhatIf:
        """Load data and graph and answer the scenario as it is (the first page)."""
        if self.default is None:
            self.default = self.what_if({})
        return self.default

    def reload(self) -> WhatIf:
        """After a data correction: drop the default and answer the session scenario again.

        Cached tiers stay valid (their keys hash the edited files' content), so undoing an
        edit is answered from memory.
        """
        with self._lock:
            self.default = None
            return self.start()

    @property
    def coverage_memo(self) -> CoverageMemo:
        return self._memo

    # ------------------------------------------------------------------ export
    def write_scenario(self, what_if: WhatIf, path: Path, *, output_dir: Path | None = None) -> Path:
        """The resolved scenario of a what-if as a TOML file ``siting run`` reads."""
        sc = load_scenario(self.session_path, **{**self.base_overrides, **what_if.overrides})
        if output_dir is not None:
            sc.run.output_dir = str(output_dir)
        return save_scenario(sc, path)

