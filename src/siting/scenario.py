"""The whole run as data: a validated, saveable scenario loaded from TOML.

Every public parameter of the pipeline lives here, with its documented default.
Unknown keys, wrong types and missing files raise :class:`~siting.errors.ScenarioError`
naming the key or file.  :func:`save_scenario` writes the *resolved* scenario (all
defaults filled in, paths absolute) into each run folder so the run can be replayed.
"""
from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ScenarioError

# --------------------------------------------------------------------------- sections


@dataclass
class RunConfig:
    """Run-level settings."""

    name: str = "siting"
    output_dir: str = "runs/siting"
    language: str = "es"  # "es" (default) or "en"
    seed: int = 20241126
    cache_dir: str = "data/processed"


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
    # registry kept by DRE/UGEL staff (REGISTRY_CONTRACT.md; forms from `siting templates`); "" = none
    host_premises: str = ""  # Tambos, municipal premises, schools... able to host a centre (premises_id, kind, ...)
    additional_cetpro: str = ""  # CETPRO missing from the school base, public or private (cod_mod, name, ...)
    candidate_exclusions: str = ""  # places a planner excludes as candidates (ccpp_id, reason)
    monitoring: str = ""  # monitoring records per centre and period (centre_id, period, enrolled_..., ...)


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
    connector_walk_factor: float = 1.0  # multiplier on walking time of connector legs
    max_connector_slope: float = 0.25  # cap on the slope of village/road-to-cell legs (census vs DEM altitude)
    road_connector_radius_m: float = 0.0  # places join road nodes within this distance (0 = one cell)
    grid_neighbours: int = 8  # 8 or 16
    mode: str = "roads+walk"  # "roads+walk" or "walk"


@dataclass
class Access:
    """Access-gap settings."""

    thresholds_min: list[float] = field(default_factory=lambda: [30.0, 60.0, 120.0])
    main_threshold_min: float = 60.0  # "served" threshold for headline figures and the women-men gap
    catchment_min: float = 120.0  # 2SFCA catchment
    decay: str = "gaussian"  # E2SFCA decay: "step" or "gaussian"
    gaussian_sigma_min: float = 0.0  # 0 = catchment / 2
    capacity_column: str = "enrolment"  # column of the CETPRO table used as supply
    far_from_road_km: float = 5.0  # validation flag: place farther than this from any road
    min_road_component_nodes: int = 20  # validation flag: road fragment smaller than this


@dataclass
class Candidates:
    """Which populated places may host a new extension centre."""

    min_population: int = 150
    rural_only: bool = False
    exclude_within_min: float = 60.0  # already this close to a CETPRO / extension centre
    host_premises_within_m: float = 1000.0  # school premises / Tambo within this distance
    require_host_premises: bool = True


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
    speed_samples: int = 5  # travel-time recomputations sampled within +-speed_jitter


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
    registry: Registry = field(default_factory=Registry)
    source: str = ""  # file it was loaded from (set by the loader)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("source")
        return d

    def section_hash(self, *names: str) -> str:
        """Stable hash of some sections (for stage caches)."""
        import hashlib
        import json
        d = self.to_dict()
        payload = json.dumps({n: d[n] for n in names}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- validation

_CHOICES = {
    ("run", "language"): {"es", "en"},
    ("population", "missing_population"): {"district_median", "zero"},
    ("speeds", "mode"): {"roads+walk", "walk"},
    ("speeds", "grid_neighbours"): {8, 16},
    ("access", "decay"): {"step", "gaussian"},
    ("suitability", "normalisation"): {"minmax", "rank"},
    ("suitability", "model"): {"gradient_boosting", "random_forest", "logistic"},
    ("allocation", "solver"): {"auto", "greedy", "exact"},
    ("allocation", "group_by"): {"ugel", "province"},
    ("registry", "extension_centres_use"): {"both", "gaps", "parent_capacity", "none"},
    ("registry", "petition_candidates"): {"favour", "require", "include"},
    ("registry", "outcome"): {"retention", "completion", "certification", "placement", "enrolment"},
}
#: registry inputs (REGISTRY_CONTRACT.md): tables only, CSV or XLSX
REGISTRY_INPUTS = ("extension_centres", "petitions", "host_premises", "additional_cetpro", "candidate_exclusions",
                   "monitoring")
REGISTRY_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_POSITIVE = {("speeds", "walk_kmh_max"), ("allocation", "max_minutes"), ("allocation", "teacher_max_minutes"),
             ("speeds", "approximate_detour_factor"), ("access", "catchment_min"), ("allocation", "time_limit_s")}


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
            kwargs[name] = _build(ann, value, key + ".")
        else:
            kwargs[name] = _check_type(value, ann, key)
    return cls(**kwargs)


def _validate_registry_inputs(inputs: Inputs, reg: Registry) -> None:
    """Registry inputs are tables (CSV or XLSX, REGISTRY_CONTRACT.md); [registry] values in range."""
    if reg.petition_demand_weight < 0:
        raise ScenarioError(f"key 'registry.petition_demand_weight' must be >= 0, got {reg.petition_demand_weight}")
    if not 0 <= reg.min_retention <= 1:
        raise ScenarioError(f"key 'registry.min_retention' must be a share between 0 and 1, got {reg.min_retention}",
                            hint="e.g. 0.7 for 70 % of the enrolled still attending")
    if reg.min_centres < 4:
        raise ScenarioError(f"key 'registry.min_centres' must be >= 4, got {reg.min_centres}",
                            hint="grouped cross-validation needs several centres in at least 2 provinces")
    for key in REGISTRY_INPUTS:
        value = getattr(inputs, key)
        if value and Path(value).suffix.lower() not in REGISTRY_SUFFIXES:
            raise ScenarioError(f"input file for 'inputs.{key}' must be a CSV or XLSX table, got {value}",
                                hint="use the forms of `siting templates` or save the table as CSV UTF-8 "
                                     "(points as lon/lat columns or a ccpp_id)")


def _validate(sc: Scenario, base: Path) -> None:
    d = sc.to_dict()
    for (section, key), choices in _CHOICES.items():
        if d[section][key] not in choices:
            raise ScenarioError(f"key '{section}.{key}' = {d[section][key]!r} is not one of {sorted(map(str, choices))}")
    for section, key in _POSITIVE:
        if not d[section][key] > 0:
            raise ScenarioError(f"key '{section}.{key}' must be > 0, got {d[section][key]!r}")
    for cls_name, v in sc.speeds.road_kmh.items():
        if v <= 0:
            raise ScenarioError(f"key 'speeds.road_kmh.{cls_name}' must be > 0, got {v}")
    th = sc.access.thresholds_min
    if not th or sorted(th) != th or th[0] <= 0:
        raise ScenarioError("key 'access.thresholds_min' must be increasing positive minutes, e.g. [30, 60, 120]")
    if sc.allocation.n_sites < 0:
        raise ScenarioError("key 'allocation.n_sites' must be >= 0")
    if sc.population.target_group not in sc.population.age_groups:
        raise ScenarioError(f"key 'population.target_group' = {sc.population.target_group!r} is not in "
                            f"population.age_groups ({', '.join(sc.population.age_groups)})")
    for name, bounds in sc.population.age_groups.items():
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            raise ScenarioError(f"key 'population.age_groups.{name}' must be [min_age, max_age]")
    if not (sc.study_area.department.isdigit() and len(sc.study_area.department) == 2):
        raise ScenarioError("key 'study_area.department' must be a 2-digit INEI code such as \"06\"")
    # input files: resolve and check existence
    for f in dataclasses.fields(Inputs):
        value = getattr(sc.inputs, f.name)
        paths = value if isinstance(value, list) else [value]
        resolved = []
        for p in paths:
            if not p or p == "download":
                resolved.append(p)
                continue
            path = Path(p)
            if not path.is_absolute():
                path = (base / path).resolve()
            if not path.exists():
                raise ScenarioError(f"input file for 'inputs.{f.name}' not found: {path}",
                                    hint="fix the path (relative paths are read from the scenario's folder) "
                                         "or set it to \"\" if you do not have this input")
            resolved.append(str(path))
        setattr(sc.inputs, f.name, resolved if isinstance(value, list) else resolved[0])
    _validate_registry_inputs(sc.inputs, sc.registry)
    out = Path(sc.run.output_dir)
    if not out.is_absolute():
        sc.run.output_dir = str((base / out).resolve())
    cache = Path(sc.run.cache_dir)
    if not cache.is_absolute():
        sc.run.cache_dir = str((base / cache).resolve())


def scenario_from_dict(data: dict[str, Any], *, base_dir: str | Path = ".", source: str = "") -> Scenario:
    """Build and validate a :class:`Scenario` from a plain dict (as parsed from TOML)."""
    sc = _build(Scenario, {k: v for k, v in data.items() if k != "source"}, "")
    sc.source = source
    _validate(sc, Path(base_dir).resolve())
    return sc


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read a scenario TOML file.  ``overrides`` are ``"section.key"``-style values
    (written with ``__``: ``allocation__n_sites=5``) applied before validation."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"scenario file not found: {path}", hint="pass --scenario scenarios/cajamarca.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from exc
    for dotted, value in overrides.items():
        if "__" not in dotted:
            raise ScenarioError(f"override {dotted!r} must be written section__key, e.g. allocation__n_sites=5",
                                source=str(path))
        section, key = dotted.split("__", 1)
        data.setdefault(section, {})[key] = value
    return scenario_from_dict(data, base_dir=path.parent, source=str(path.resolve()))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else f'"{k}"'


def scenario_to_toml(sc: Scenario) -> str:
    """Serialise a resolved scenario to TOML (stable key order)."""
    lines = [f"# resolved scenario (from {sc.source or 'defaults'})"]
    for section, values in sc.to_dict().items():
        lines.append(f"\n[{section}]")
        for k, v in values.items():
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def save_scenario(sc: Scenario, path: str | Path) -> Path:
    """Write the resolved scenario atomically."""
    from .io import atomic_path
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(scenario_to_toml(sc), encoding="utf-8")
    return path
