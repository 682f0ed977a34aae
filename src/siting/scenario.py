"""The whole run as data: a validated, saveable scenario loaded from TOML.

Every public parameter of the pipeline lives here, with its documented default.
Unknown keys, wrong types and missing files raise :class:`~siting.errors.ScenarioError`
naming the key or file.  :func:`save_scenario` writes the *resolved* scenario (all
defaults filled in, paths absolute) into each run folder so the run can be replayed.
The checks of the values (choices, ranges, speeds, CRS, input paths) live in
:mod:`siting.scenario_checks`.
"""
from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ScenarioError
from .scenario_checks import REGISTRY_INPUTS as REGISTRY_INPUTS
from .scenario_checks import REGISTRY_SUFFIXES as REGISTRY_SUFFIXES
from .scenario_checks import ScenarioWarning as ScenarioWarning
from .scenario_checks import _validate

# --------------------------------------------------------------------------- sections


@dataclass
class RunConfig:
    """Run-level settings."""

    name: str = "siting"
    output_dir: str = "runs/siting"
    language: str = "es"  # "es" (default) or "en"
    seed: int = 20241126
    cache_dir: str = "data/processed"
    #: static maps of the report stage: "all" (region + every UGEL), "region" (region only,
    #: the demo's default: the report stage in seconds) or "none" (the report says so)
    maps: str = "all"


@dataclass
class StudyArea:
    """Which territory is analysed.  Codes are INEI: department 2 digits, province 4,
    district (ubigeo) 6.  UGELs are named as in the DRE base (``"UGEL CAJAMARCA"``);
    in Cajamarca there is one UGEL per province.  Empty lists mean "all of the department".
    """

    department: str = "06"
    provinces: list[str] = field(default_factory=list)
    ugels: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    crs: str = ""  # projected CRS for metric work; "" = UTM zone chosen from the area
    buffer_km: float = 15.0  # terrain and roads are kept this far beyond the boundary
    reason: str = ""  # why this study area (shown in reports)


@dataclass
class Inputs:
    """Input files (relative paths are resolved against the scenario file's folder).
    An empty string means "not available"; outputs then say what is missing."""

    ccpp: str = ""  # INEI centros poblados with census population (CSV / GeoJSON / GPKG)
    ccpp_reference: str = ""  # national CCPP code list with coordinates (cross-check)
    districts: str = ""  # INEI district polygons
    district_population: str = ""  # MINAM/INEI district population by year, urban/rural
    age_sex: str = ""  # district population by sex and single year of age (RENIEC OPP-16)
    district_indicators: str = ""  # poverty, HDI, capital coordinates per district
    district_capitals: str = ""  # INEI directory of municipalities (capital coordinates)
    school_base: str = ""  # DRE/MINEDU padrón: one row per COD_MOD with NIVEL_MODALIDAD
    extension_centres: str = ""  # existing Centros de Extensión (CSV)
    tambos: str = ""  # Programa PAIS Tambos (CSV/XLSX)
    school_premises: str = ""  # MINEDU locales educativos (CODLOCAL points)
    roads: list[str] = field(default_factory=list)  # MTC road lines (any OGR format)
    road_route_nodes: list[str] = field(default_factory=list)  # MTC route nodes (rebuild)
    osm: str = ""  # local .osm / .graphml / .gpkg OSM file (or "download")
    dem: str = ""  # elevation GeoTIFF
    landcover_speeds: str = ""  # optional raster of walking-speed multipliers (0 = barrier)
    petitions: str = ""  # optional community petitions CSV/XLSX (ccpp_id, ...; REGISTRY_CONTRACT.md)
    labels: str = ""  # optional labelled sites for the learned suitability model
    # layer (GeoPackage) or sheet (XLSX) to read from a file that holds several, by input key:
    # [inputs.layers] school_base = "iiee"; a file with several layers and no entry here is refused
    layers: dict[str, str] = field(default_factory=dict)
    # registry kept by DRE/UGEL staff (REGISTRY_CONTRACT.md; forms from `siting templates`); "" = none
    host_premises: str = ""  # Tambos, municipal premises, schools... able to host a centre (premises_id, kind, ...)
    additional_cetpro: str = ""  # CETPRO missing from the school base, public or private (cod_mod, name, ...)
    candidate_exclusions: str = ""  # places a planner excludes as candidates (ccpp_id, reason)
    monitoring: str = ""  # monitoring records per centre and period (centre_id, period, enrolled_..., ...)
    # road segments closed in the rainy season (CSV/XLSX with a road_id column, or a GeoPackage of
    # lines: roads along them are closed); used only when seasons.rainy is true
    closed_segments: str = ""


@dataclass
class Population:
    """Population year and the target groups derived from the district age x sex table."""

    census_year: int = 2017
    projection_year: int = 2023  # scale census counts to this year's district totals (0 = no)
    age_groups: dict[str, list[int]] = field(default_factory=lambda: {
        "15_29": [15, 29], "15_64": [15, 64]})
    target_group: str = "15_29"  # the group allocation and suitability count
    missing_population: str = "district_median"  # places without census count: "district_median" or "zero"


@dataclass
class Speeds:
    """Travel speeds.  Road speeds in km/h per class; walking by Tobler's hiking function
    ``v = walk_kmh_max * exp(-3.5 * |dh/dx + 0.05|)`` (6 km/h max, 5.04 km/h on the flat)."""

    road_kmh: dict[str, float] = field(default_factory=lambda: {
        "national_paved": 60.0,
        "national_unknown": 60.0,  # national routes whose surface no shipped layer gives (issue #14)
        "departmental_paved": 50.0,
        "departmental_unpaved": 30.0,
        "vecinal": 20.0,
        "trail": 10.0,
        "urban": 20.0,
    })
    walk_kmh_max: float = 6.0
    tobler_slope_offset: float = 0.05
    tobler_decay: float = 3.5
    approximate_detour_factor: float = 1.3  # straight rebuilt segments are this much longer
    # detour factor of approximate segments per road class (issue #14); a class not listed takes
    # approximate_detour_factor.  Read through siting.network.speeds.detour_factors.
    detour_factor_by_class: dict[str, float] = field(default_factory=dict)
    # where these speeds come from: the report of `siting calibrate` that fitted them ("" =
    # assumed values, not calibrated).  Only told in the outputs; it does not change a minute.
    calibration: str = ""
    connector_walk_factor: float = 1.0  # multiplier on walking time of connector legs
    max_connector_slope: float = 0.25  # cap on the slope of village/road-to-cell legs (census vs DEM altitude)
    road_connector_radius_m: float = 0.0  # places join road nodes within this distance (0 = one cell)
    grid_neighbours: int = 8  # 8 or 16
    mode: str = "roads+walk"  # "roads+walk" or "walk"


def _rainy_road_factors() -> dict[str, float]:
    return {"national_paved": 0.9, "national_unknown": 0.8, "departmental_paved": 0.9,
            "departmental_unpaved": 0.7, "vecinal": 0.6, "trail": 0.6, "urban": 0.9}


@dataclass
class Seasons:
    """The rainy season (December to April in the Cajamarca highlands): a second graph with
    slower speeds, ``v_rainy = f_class * v_dry`` on roads and ``f_walk * v_dry`` on foot, and
    the road segments of ``inputs.closed_segments`` removed.  The defaults are *assumptions*
    (see ``docs/SEASONS.md``): one trip after heavy rain on an afirmado (San Ignacio - La Balsa,
    240 min against 120 in July) gives f = 0.5, the Cajamarca - Celendín trips of April and
    July 2013 (150 against 120-130 min, part paved) f = 0.83; unpaved roads sit in between,
    paved ones lose little.  A class missing from the table keeps its dry speed (f = 1)."""

    rainy: bool = False  # compute the rainy-season variant in `siting access|run` (also `--rainy`)
    rainy_road_factor: dict[str, float] = field(default_factory=_rainy_road_factors)  # f_class in (0, 1]
    # f_walk in (0, 1]: no observed walking trip on disk carries a season note, so walking keeps its
    # dry speed unless set (e.g. 0.9 for muddy paths)
    rainy_walk_factor: float = 1.0


@dataclass
class Access:
    """Access-gap settings."""

    thresholds_min: list[float] = field(default_factory=lambda: [30.0, 60.0, 120.0])
    main_threshold_min: float = 60.0  # "served" threshold for headline figures and the women-men gap
    catchment_min: float = 120.0  # 2SFCA catchment
    decay: str = "gaussian"  # E2SFCA decay: "step" or "gaussian"
    # which trip the minutes measure: "to" the centre, "from" it (back home) or the "mean" of both.
    # Default "mean": students make both trips every day and walking uphill is slower than down
    # (up to 2.5x in deep valleys), so one direction alone over- or under-states the daily burden.
    direction: str = "mean"
    gaussian_sigma_min: float = 0.0  # 0 = catchment / 2
    capacity_column: str = "enrolment"  # column of the CETPRO table used as supply
    far_from_road_km: float = 5.0  # validation flag: place farther than this from any road
    min_road_component_nodes: int = 20  # validation flag: road fragment smaller than this
    # a CETPRO with 0 students and 0 teachers in the school base serves nobody unless this is true
    # (the quality report says how many people it would otherwise count as served)
    empty_cetpro_serve: bool = False


@dataclass
class Candidates:
    """Which populated places may host a new extension centre."""

    min_population: int = 150
    rural_only: bool = False
    exclude_within_min: float = 60.0  # already this close to a CETPRO / extension centre
    host_premises_within_m: float = 1000.0  # school premises / Tambo within this distance
    require_host_premises: bool = True
    # "own": min_population applies to the place's own population; "catchment": to the people of
    # every place within allocation.max_minutes of it (siting.suitability.catchment)
    population_rule: str = "own"


@dataclass
class Suitability:
    """Multi-criteria scoring (weights are normalised to sum 1)."""

    normalisation: str = "minmax"  # "minmax" or "rank"
    # teacher_minutes is not weighted by default: it is almost collinear with
    # time_to_nearest_facility (r = 0.99 on Cajamarca) and allocation enforces it as a limit.
    weights: dict[str, float] = field(default_factory=lambda: {
        "unserved_target": 0.35,
        "unserved_women_target": 0.10,
        "time_to_nearest_facility": 0.15,
        "host_premises": 0.10,
        "poverty": 0.20,
        "community_request": 0.10,
    })
    # AHP instead of weights: {criteria = ["a", "b", ...], matrix = [[1, 3, ...], ...]}
    ahp: dict[str, Any] = field(default_factory=dict)
    model: str = "gradient_boosting"
    sensitivity_runs: int = 500
    dirichlet_concentration: float = 50.0
    speed_jitter: float = 0.2
    speed_samples: int = 5  # travel-time draws (interval draws, else global factors within +-speed_jitter)
    # road speeds and detour factor drawn within intervals (siting.suitability.uncertainty): "auto" = the
    # shipped ../docs/calibration/calibration_parameters.csv when it exists, "none" = the global speed_jitter,
    # or the path of such a table; speed_ranges = {class = [low, high], detour = [low, high]} overrides it
    speed_intervals: str = "auto"
    speed_ranges: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Allocation:
    """Location-allocation (maximal covering) settings."""

    n_sites: int = 10
    max_minutes: float = 60.0  # a place is covered when within this time of a site
    teacher_max_minutes: float = 180.0  # parent CETPRO to site
    max_extensions_per_cetpro: int = 3
    require_parent: bool = True
    # demand weight of place j: w_j = (men_G + weight_women * women_G) * (1 + weight_poverty * poverty_j / 100)
    # with G = population.target_group and poverty_j the district's total poverty (%)
    weight_women: float = 1.0
    weight_poverty: float = 0.0
    curve_max_sites: int = 30  # coverage-versus-N curve from 1 to this many sites (greedy order)
    solver: str = "auto"  # "auto", "greedy", "exact"
    time_limit_s: float = 60.0
    min_per_ugel: int = 0
    max_per_ugel: int = 0  # 0 = no limit
    group_by: str = "ugel"  # min/max per "ugel" or "province"
    budget: float = 0.0  # 0 = no budget constraint
    cost_per_site: float = 1.0
    coverage_target: float = 0.0  # share of unserved target population (0 = use n_sites)
    # what chooses the sites (siting.allocation.choice): "mclp" maximal covering, "pmedian" least
    # weighted minutes, "pcenter" least worst minutes, "fair" least people beyond max_minutes in the worst district
    objective: str = "mclp"
    # lambda: every objective gains lambda * s_i per opened site (s_i = suitability score min-max
    # normalised to [0, 1], in the objective's units); 0 = suitability only breaks ties
    suitability_weight: float = 0.0
    equity_minutes: float = 120.0  # T2 of the coverage-equity trade-off: people beyond it after the plan
    pareto_points: int = 6  # epsilon values of the coverage-equity Pareto front (0 = not computed)
    # "already served" near the threshold: demand weight x u_j, u_j = clip((m_j - T (1 - s)) / (2 T s), 0, 1)
    # with s = served_taper (0 = hard 0/1 at T); siting.allocation.robust
    served_taper: float = 0.0
    # places with |minutes - T| < near_threshold_margin * T are flagged near_threshold (0 = none)
    near_threshold_margin: float = 0.1
    # near-optimal alternatives: site sets within near_optimal_gap of the optimum, at most near_optimal_max_sets
    near_optimal_gap: float = 0.01
    near_optimal_max_sets: int = 20


@dataclass
class Limits:
    """Largest input file accepted per kind, in MB (1 MB = 2**20 bytes).

    A bigger file is refused before anything is read (a wrong file, a dump of the whole
    country, a broken download padded to gigabytes); raise the limit here when the file is
    really meant.  Tables are CSV/TXT/XLSX/Parquet (for XLSX the uncompressed workbook counts),
    vectors GeoPackage/GeoJSON/shapefile/FlatGeobuf, rasters the DEM and land-cover GeoTIFFs
    (their pixel count is checked separately against the memory available), models the saved
    suitability model.  The shipped inputs are all below 10 MB.
    """

    table_mb: float = 256.0
    vector_mb: float = 2048.0
    raster_mb: float = 4096.0
    model_mb: float = 512.0


@dataclass
class Registry:
    """How the DRE/UGEL registry (``inputs.extension_centres``, ``petitions``, ``host_premises``,
    ``additional_cetpro``, ``candidate_exclusions``, ``monitoring``) enters the analysis."""

    # active extension centres count as: "both" = travel destinations (gaps) and use up their
    # parent's max_extensions; "gaps" = destinations only; "parent_capacity" = capacity only; "none"
    extension_centres_use: str = "both"
    # demand weight of place j in the allocation: w_j + petition_demand_weight * d_j, d_j = interested
    # people of its petitions (interested_15_29 when the target group is 15_29 and it is given,
    # else interested_women + interested_men); 0 = petitions do not add demand
    petition_demand_weight: float = 1.0
    # "favour": petitions only raise the community_request criterion; "require": only petitioned
    # places can be candidates; "include": petitioned places are candidates even when below
    # min_population, urban, or without host premises (never when already served)
    petition_candidates: str = "favour"
    min_retention: float = 0.7  # `siting monitor` lists the centres whose retention (retained / enrolled) is below this
    # learned suitability from monitoring: outcome per centre (mean over its periods) and the minimum
    # number of centres with that outcome (the model is refused below it)
    outcome: str = "retention"  # "retention", "completion", "certification", "placement", "enrolment"
    min_centres: int = 12


@dataclass
class Scenario:
    """A whole run.  Load with :func:`load_scenario`; every field has a default."""

    run: RunConfig = field(default_factory=RunConfig)
    study_area: StudyArea = field(default_factory=StudyArea)
    inputs: Inputs = field(default_factory=Inputs)
    population: Population = field(default_factory=Population)
    speeds: Speeds = field(default_factory=Speeds)
    access: Access = field(default_factory=Access)
    candidates: Candidates = field(default_factory=Candidates)
    suitability: Suitability = field(default_factory=Suitability)
    allocation: Allocation = field(default_factory=Allocation)
    limits: Limits = field(default_factory=Limits)
    registry: Registry = field(default_factory=Registry)
    seasons: Seasons = field(default_factory=Seasons)
    source: str = ""  # file it was loaded from (set by the loader)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("source")
        return d

    def optional(self, key: str) -> Any:
        """The value of ``"section.key"``, or ``None`` when the key is *not set*.

        Not set means the documented sentinel of a key of :data:`UNSET_KEYS` (``0`` for a
        number, ``""`` for a text) or an empty input path (``inputs.*`` = ``""`` / ``[]``).
        Stages read these keys only through this method, so the sentinels live in one place.
        """
        section, _, name = key.partition(".")
        value = getattr(getattr(self, section), name)
        if key in UNSET_KEYS or section == "inputs":
            return None if value in (0, "", []) and not isinstance(value, bool) else value
        return value


#: Keys whose value ``0`` (a number) or ``""`` (a text) means "not set" (see each key's comment);
#: read them with :meth:`Scenario.optional`.
UNSET_KEYS: frozenset[str] = frozenset({
    "study_area.crs",  # "" = UTM zone chosen from the area
    "population.projection_year",  # 0 = no projection
    "speeds.road_connector_radius_m",  # 0 = one DEM cell
    "access.gaussian_sigma_min",  # 0 = catchment / 2
    "allocation.min_per_ugel",  # 0 = no minimum
    "allocation.max_per_ugel",  # 0 = no limit
    "allocation.budget",  # 0 = no budget constraint
    "allocation.coverage_target",  # 0 = use n_sites
})


# --------------------------------------------------------------------------- reading TOML into the sections


def _check_type(value: Any, annotation: Any, key: str) -> Any:
    origin = typing.get_origin(annotation)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"key '{key}' must be a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"key '{key}' must be an integer, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"key '{key}' must be true or false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ScenarioError(f"key '{key}' must be a text string, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ScenarioError(f"key '{key}' must be a list, got {value!r}")
        (item,) = typing.get_args(annotation)
        return [_check_type(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ScenarioError(f"key '{key}' must be a table, got {value!r}")
        _, item = typing.get_args(annotation)
        return {k: _check_type(v, item, f"{key}.{k}") for k, v in value.items()}
    return value


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ScenarioError(f"unknown key '{prefix}{unknown[0]}'",
                            hint=f"valid keys in [{prefix.rstrip('.') or 'top level'}]: {', '.join(sorted(names))}")
    kwargs = {}
    for name, value in data.items():
        ann = hints[name]
        key = f"{prefix}{name}"
        if dataclasses.is_dataclass(ann):
            if not isinstance(value, dict):
                raise ScenarioError(f"[{key}] must be a table")
            kwargs[name] = _build(typing.cast(type, ann), value, key + ".")
        else:
            kwargs[name] = _check_type(value, ann, key)
    return cls(**kwargs)

def scenario_from_dict(data: dict[str, Any], *, base_dir: str | Path = ".", source: str = "") -> Scenario:
    """Build and validate a :class:`Scenario` from a plain dict (as parsed from TOML)."""
    sc = _build(Scenario, {k: v for k, v in data.items() if k != "source"}, "")
    sc.source = source
    _validate(sc, Path(base_dir).resolve())
    return sc


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a scenario file: UTF-8 (a BOM is accepted), any other encoding or a nesting too
    deep for the parser is one clear :class:`ScenarioError`."""
    if path.is_dir():
        raise ScenarioError(f"the scenario path is a folder, not a file: {path}",
                            hint="pass the .toml file itself, e.g. --scenario scenarios/cajamarca.toml")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the scenario file ({exc.strerror or exc})", source=str(path)) from exc
    try:
        text = raw.decode("utf-8-sig")  # TOML is UTF-8; a leading BOM (Windows Notepad) is dropped
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(f"the scenario file is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}; "
                            "probably Latin-1 / Windows-1252)", source=str(path),
                            hint="save it again as UTF-8 (in Notepad: Save as > Encoding UTF-8)") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from exc
    except RecursionError as exc:
        raise ScenarioError("the scenario file nests tables or arrays too deeply to be read", source=str(path),
                            hint="a scenario has at most three levels, e.g. [speeds.road_kmh]") from exc


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read a scenario TOML file.  ``overrides`` are ``"section.key"``-style values
    (written with ``__``: ``allocation__n_sites=5``) applied before validation."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"scenario file not found: {path}", hint="pass --scenario scenarios/cajamarca.toml")
    data = _read_toml(path)
    for dotted, value in overrides.items():
        if "__" not in dotted:
            raise ScenarioError(f"override {dotted!r} must be written section__key, e.g. allocation__n_sites=5",
                                source=str(path))
        section, key = dotted.split("__", 1)
        data.setdefault(section, {})[key] = value
    return scenario_from_dict(data, base_dir=path.parent, source=str(path.resolve()))


def _toml_ready(value: Any) -> Any:
    """Drop ``None`` (TOML has no null: the loader's default applies again) from nested values."""
    if isinstance(value, dict):
        return {str(k): _toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_ready(v) for v in value if v is not None]
    return value


def scenario_to_toml(sc: Scenario) -> str:
    """Serialise a resolved scenario to TOML with ``tomli_w`` (stable key order; any text,
    multi-line ``reason`` included, is quoted so that ``tomllib`` reads it back equal)."""
    import tomli_w

    header = f"# resolved scenario (from {sc.source or 'defaults'})".replace("\n", " ").replace("\r", " ")
    return header + "\n" + tomli_w.dumps(_toml_ready(sc.to_dict()))


def save_scenario(sc: Scenario, path: str | Path) -> Path:
    """Write the resolved scenario atomically (replay it with ``siting run --scenario PATH``)."""
    from .io import atomic_path
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(scenario_to_toml(sc), encoding="utf-8")
    return path
