"""Validation of a scenario once its TOML is read into the sections of :mod:`siting.scenario`.

Choices and positive values (:func:`_validate`), meaningful ranges with a warning for values
that are allowed but probably a mistake (:func:`_check_ranges`, :class:`ScenarioWarning`),
walking and road speeds, the study-area CRS, and the input paths (resolved against the
scenario's folder, each checked to exist).  Every refusal is a
:class:`~siting.errors.ScenarioError` naming the key and the figure it changes.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ScenarioError
from .i18n import LANGUAGES

if TYPE_CHECKING:
    from .scenario import Inputs, Scenario

_CHOICES: dict[tuple[str, str], set[Any]] = {
    ("run", "language"): set(LANGUAGES),
    ("run", "maps"): {"all", "region", "none"},
    ("population", "missing_population"): {"district_median", "zero"},
    ("speeds", "mode"): {"roads+walk", "walk"},
    ("speeds", "grid_neighbours"): {8, 16},
    ("access", "decay"): {"step", "gaussian"},
    ("access", "direction"): {"mean", "to", "from"},
    ("candidates", "population_rule"): {"own", "catchment"},
    ("allocation", "objective"): {"mclp", "pmedian", "pcenter", "fair"},
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
             ("speeds", "approximate_detour_factor"), ("access", "catchment_min"), ("allocation", "time_limit_s"),
             ("limits", "table_mb"), ("limits", "vector_mb"), ("limits", "raster_mb"), ("limits", "model_mb")}



def _file_fields(inputs: Inputs) -> list[dataclasses.Field]:
    """The fields of :class:`~siting.scenario.Inputs` that hold file paths (all but ``layers``)."""
    return [f for f in dataclasses.fields(inputs) if f.name != "layers"]


def _check_layers(inputs: Inputs) -> None:
    keys = [f.name for f in _file_fields(inputs)]
    unknown = sorted(set(inputs.layers) - set(keys))
    if unknown:
        raise ScenarioError(f"unknown key 'inputs.layers.{unknown[0]}'",
                            hint=f"[inputs.layers] names the layer or sheet of an input; valid keys: {', '.join(keys)}")


def _check_registry_inputs(inputs: Inputs) -> None:
    """Registry inputs are tables (CSV or XLSX, REGISTRY_CONTRACT.md)."""
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
            raise ScenarioError(f"key '{section}.{key}' = {d[section][key]!r} is not one of "
                                f"{sorted(map(str, choices))}")
    for section, key in _POSITIVE:
        if not d[section][key] > 0:
            raise ScenarioError(f"key '{section}.{key}' must be > 0, got {d[section][key]!r}")
    for cls_name, v in sc.speeds.road_kmh.items():
        if v <= 0:
            raise ScenarioError(f"key 'speeds.road_kmh.{cls_name}' must be > 0, got {v}")
    for cls_name, v in (sc.speeds.detour_factor_by_class or {}).items():
        if not v >= 1.0:
            raise ScenarioError(f"key 'speeds.detour_factor_by_class.{cls_name}' must be >= 1 (a rebuilt straight "
                                f"segment is never longer than the road), got {v}")
    th = sc.access.thresholds_min
    if not th or sorted(th) != th or th[0] <= 0:
        raise ScenarioError("key 'access.thresholds_min' must be increasing positive minutes, e.g. [30, 60, 120]")
    _check_ranges(sc)
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
    _check_layers(sc.inputs)
    _check_registry_inputs(sc.inputs)
    _check_seasons(sc)
    _resolve_paths(sc, base)


def _check_seasons(sc: Scenario) -> None:
    """Rainy-season multipliers: in (0, 1] (the rainy season is never faster) and for road classes
    of ``speeds.road_kmh``; the closed segments are a table or a vector file."""
    from .scenario import Seasons
    s, default = sc.seasons, Seasons().rainy_road_factor
    for name, f in s.rainy_road_factor.items():
        if name not in sc.speeds.road_kmh and name not in default:  # a default class absent from road_kmh is unused
            raise ScenarioError(f"key 'seasons.rainy_road_factor.{name}' is not a road class of speeds.road_kmh",
                                hint=f"road classes: {', '.join(sc.speeds.road_kmh)}")
        if not 0 < f <= 1:
            raise ScenarioError(f"key 'seasons.rainy_road_factor.{name}' must be in (0, 1], got {f!r} "
                                "(it multiplies the dry-season speed of that class)")
    if not 0 < s.rainy_walk_factor <= 1:
        raise ScenarioError(f"key 'seasons.rainy_walk_factor' must be in (0, 1], got {s.rainy_walk_factor!r} "
                            "(it multiplies every walking speed in the rainy season)")
    closed = sc.inputs.closed_segments
    if closed and Path(closed).suffix.lower() not in (*REGISTRY_SUFFIXES, ".gpkg", ".geojson", ".shp", ".fgb"):
        raise ScenarioError(f"input file for 'inputs.closed_segments' must be a CSV/XLSX table of road_id or a "
                            f"GeoPackage/GeoJSON of lines, got {closed}")


def _resolve_paths(sc: Scenario, base: Path) -> None:
    """Input files: resolve against ``base`` and check they exist; output and cache folders absolute."""
    for f in _file_fields(sc.inputs):
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
    out = Path(sc.run.output_dir)
    if not out.is_absolute():
        sc.run.output_dir = str((base / out).resolve())
    cache = Path(sc.run.cache_dir)
    if not cache.is_absolute():
        sc.run.cache_dir = str((base / cache).resolve())


class ScenarioWarning(UserWarning):
    """A scenario value that is allowed but probably a mistake (the message names the figure it changes)."""


#: ``(section, key, low, high, low_inclusive, what it changes)``; None = no bound
_RANGES: tuple[tuple[str, str, float | None, float | None, bool, str], ...] = (
    ("suitability", "sensitivity_runs", 1, None, True, "the Monte Carlo rank stability (rank_median, share_top_n)"),
    ("suitability", "dirichlet_concentration", 0, None, False, "the spread of the Monte Carlo weights"),
    ("suitability", "speed_jitter", 0, 1, True, "the travel-time samples of the sensitivity analysis"),
    ("suitability", "speed_samples", 0, None, True, "the travel-time samples of the sensitivity analysis"),
    ("candidates", "min_population", 0, None, True, "which places may host a centre"),
    ("candidates", "exclude_within_min", 0, None, True, "which places may host a centre"),
    ("candidates", "host_premises_within_m", 0, None, True, "which places may host a centre"),
    ("access", "gaussian_sigma_min", 0, None, True, "the E2SFCA ratios"),
    ("access", "far_from_road_km", 0, None, False, "the far_from_road flags"),
    ("access", "min_road_component_nodes", 0, None, True, "the small_road_component flags"),
    ("study_area", "buffer_km", 0, None, True, "the terrain and roads kept around the area"),
    ("speeds", "connector_walk_factor", 0, None, False, "every walking leg to and from a road"),
    ("speeds", "max_connector_slope", 0, None, False, "every walking leg to and from a road"),
    ("speeds", "road_connector_radius_m", 0, None, True, "which road nodes a place joins"),
    ("speeds", "tobler_decay", 0, None, False, "walking times"),
    ("allocation", "max_extensions_per_cetpro", 0, None, True, "the parent CETPRO capacity"),
    ("allocation", "weight_women", 0, None, True, "the demand weights of the allocation"),
    ("allocation", "weight_poverty", 0, None, True, "the demand weights of the allocation"),
    ("allocation", "curve_max_sites", 1, None, True, "the coverage-versus-N curve"),
    ("allocation", "min_per_ugel", 0, None, True, "the sites per UGEL"),
    ("allocation", "max_per_ugel", 0, None, True, "the sites per UGEL"),
    ("allocation", "budget", 0, None, True, "the number of sites the budget allows"),
    ("allocation", "cost_per_site", 0, None, False, "the number of sites the budget allows"),
    ("allocation", "coverage_target", 0, 1, True, "the number of sites chosen"),
    ("allocation", "suitability_weight", 0, None, True, "the suitability term of the objective"),
    ("allocation", "served_taper", 0, 1, True, "how soft 'already served' is near the threshold"),
    ("allocation", "near_threshold_margin", 0, 1, True, "which places are flagged near the threshold"),
    ("allocation", "near_optimal_gap", 0, 1, True, "which site sets count as near-optimal"),
    ("allocation", "near_optimal_max_sets", 0, None, True, "how many near-optimal sets are listed"),
    ("allocation", "equity_minutes", 0, None, False, "the coverage-equity trade-off"),
    ("allocation", "pareto_points", 0, None, True, "the coverage-equity trade-off"),
    ("registry", "petition_demand_weight", 0, None, True, "the demand petitions add to the allocation"),
    ("registry", "min_retention", 0, 1, True, "the centres `siting monitor` lists as below the retention"),
    ("registry", "min_centres", 4, None, True, "the centres the learned model needs (grouped cross-validation)"),
)
MAX_WALK_KMH, MAX_ROAD_KMH = 10.0, 130.0  # refused above (no walker / no road of the data is that fast)
WARN_WALK_KMH, WARN_ROAD_KMH = 7.0, 100.0  # warned above (Tobler's maximum is 6; Peru's limit is 100)


def _in_range(v: float, low: float | None, high: float | None, low_inclusive: bool) -> bool:
    import math

    if not math.isfinite(v):
        return False
    if low is not None and (v < low or (v == low and not low_inclusive)):
        return False
    return high is None or v <= high


def _check_ranges(sc: Scenario) -> None:
    """Refuse values outside their meaningful range and warn (:class:`ScenarioWarning`) about
    values that are allowed but probably a mistake; each message names the figure it changes.
    ``None`` (a setting left unset) is skipped."""

    d = sc.to_dict()
    for section, key, low, high, inclusive, what in _RANGES:
        v = d[section].get(key)
        if v is None or isinstance(v, bool):
            continue
        if not _in_range(float(v), low, high, inclusive):
            bound = (f"{'>=' if inclusive else '>'} {low:g}" if high is None else
                     f"between {low:g} and {high:g}")
            raise ScenarioError(f"key '{section}.{key}' must be {bound}, got {v!r} (it sets {what})")
    th = [float(x) for x in sc.access.thresholds_min]
    if any(not float(x).is_integer() for x in th):
        raise ScenarioError(f"key 'access.thresholds_min' must be whole minutes, got {th}",
                            hint="column names and labels such as population_beyond_60 are built from them")
    main = sc.access.main_threshold_min
    if main is not None and float(main) not in th:
        raise ScenarioError(f"key 'access.main_threshold_min' = {main!r} is not one of access.thresholds_min {th}",
                            hint="the headline figures and the women-men gap are read at that threshold")
    a = sc.allocation
    if a.max_per_ugel and a.min_per_ugel and a.max_per_ugel < a.min_per_ugel:
        raise ScenarioError(f"key 'allocation.max_per_ugel' = {a.max_per_ugel} is below allocation.min_per_ugel "
                            f"= {a.min_per_ugel}")
    for name, w in (sc.suitability.weights or {}).items():
        if not _in_range(float(w), 0, None, True):
            raise ScenarioError(f"key 'suitability.weights.{name}' must be >= 0, got {w!r} (it sets the score)")
    _check_speeds(sc)
    _check_crs(sc.study_area.crs)


def _check_speeds(sc: Scenario) -> None:
    """Walking and road speeds: refused outside what a walker or a road can do, warned when unusual."""
    import warnings

    walk = sc.speeds.walk_kmh_max
    if walk is not None and walk > MAX_WALK_KMH:
        raise ScenarioError(f"key 'speeds.walk_kmh_max' = {walk:g} km/h is not a walking speed (at most "
                            f"{MAX_WALK_KMH:g}); it sets every walking time")
    if walk is not None and walk > WARN_WALK_KMH:
        warnings.warn(f"speeds.walk_kmh_max = {walk:g} km/h is faster than Tobler's 6 km/h: every walking time "
                      "(and so who is beyond 60 min) gets shorter", ScenarioWarning, stacklevel=3)
    if sc.speeds.mode == "roads+walk" and not sc.speeds.road_kmh:
        raise ScenarioError("key 'speeds.road_kmh' is empty but speeds.mode is \"roads+walk\"",
                            hint="list a speed for every road class, or set speeds.mode = \"walk\"")
    for cls_name, v in sc.speeds.road_kmh.items():
        if v > MAX_ROAD_KMH or not _in_range(float(v), 0, None, False):
            raise ScenarioError(f"key 'speeds.road_kmh.{cls_name}' = {v:g} km/h is not a road speed (0 to "
                                f"{MAX_ROAD_KMH:g}); it sets every travel time on {cls_name} roads")
        if v > WARN_ROAD_KMH:
            warnings.warn(f"speeds.road_kmh.{cls_name} = {v:g} km/h is above Peru's 100 km/h limit: travel times "
                          f"on {cls_name} roads get shorter", ScenarioWarning, stacklevel=3)


def _check_crs(crs: str | None) -> None:
    """A study-area CRS must be projected, in metres (distances, cell sizes and speeds use it)."""
    if not crs:
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        c = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ScenarioError(f"key 'study_area.crs' = {crs!r} is not a coordinate reference system ({exc})",
                            hint='use a projected CRS in metres, e.g. "EPSG:32717" (UTM 17S) for Cajamarca') from exc
    units = {ax.unit_name for ax in c.axis_info}
    if c.is_geographic or not c.is_projected or not units <= {"metre", "meter"}:
        raise ScenarioError(f"key 'study_area.crs' = {crs!r} is not a projected CRS in metres "
                            f"({'degrees' if c.is_geographic else ', '.join(sorted(units)) or 'no units'}): "
                            "distances, the DEM cell size and every travel time would be wrong",
                            hint='use a projected CRS in metres, e.g. "EPSG:32717" (UTM 17S) for Cajamarca')
