"""``siting calibrate``: the fit on hand-built compositions, grouped folds, and the command on
REAL data (UGEL Cajamarca, the shipped observed trips).

The compositions of the fitting tests are INVENTED (made-up kilometres and minutes, with
parameters chosen by the test): the fit must recover them.  The real-data tests check that a
trip's composition from its traced path (siting.network.routes) adds up to its Dijkstra
minutes and agrees with an independent measurement (perturbing one speed at a time).
"""
from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from siting.calibration import fit as F
from siting.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
TRIPS = ROOT / "data" / "raw" / "travel" / "observed_trips.csv"
CLASSES = ("national_paved", "departmental_unpaved", "vecinal", "trail")
START = F.Params({"national_paved": 60.0, "departmental_unpaved": 30.0, "vecinal": 20.0, "trail": 10.0}, 1.3, 1.0)
TRUTH = F.Params({"national_paved": 40.0, "departmental_unpaved": 25.0, "vecinal": 15.0, "trail": 10.0}, 1.6, 1.2)


def invented_composition(n: int = 30, *, seed: int = 1, truth: F.Params = TRUTH, noise: float = 0.0) -> F.Composition:
    """INVENTED: ``n`` made-up trips; national km partly real line, partly approximate (so
    that the detour factor is identified), no km on 'trail'; observed = the model at
    ``truth`` times lognormal noise."""
    rng = np.random.default_rng(seed)
    km = np.zeros((n, len(CLASSES)))
    kma = np.zeros((n, len(CLASSES)))
    km[:, 0] = rng.uniform(0, 60, n)
    kma[:, 0] = rng.uniform(0, 60, n)
    km[:, 1] = rng.uniform(0, 30, n)
    kma[:, 2] = rng.uniform(0, 15, n)
    walk = rng.uniform(2, 40, n)
    on_foot = np.arange(n) % 5 == 0  # every fifth trip walked: no road km
    km[on_foot], kma[on_foot] = 0.0, 0.0
    comp = F.Composition(CLASSES, km, kma, walk, np.ones(n), on_foot)
    obs = F.predict(comp, truth) * np.exp(noise * rng.standard_normal(n))
    return dataclasses.replace(comp, observed=obs)


def test_predict_hand_computed():
    """INVENTED trip: 10 km real departmental line, 50 km approximate national, 10 walking minutes."""
    comp = F.Composition(CLASSES, np.array([[0.0, 10.0, 0.0, 0.0]]), np.array([[50.0, 0.0, 0.0, 0.0]]),
                         np.array([10.0]), np.array([1.0]))
    # 60 * 10 / 25 = 24 min;  60 * 1.6 * 50 / 40 = 120 min;  1.2 * 10 = 12 min
    assert F.predict(comp, TRUTH)[0] == pytest.approx(24.0 + 120.0 + 12.0)


def test_fit_recovers_known_parameters_and_leaves_the_uninformed_alone():
    comp = invented_composition()
    f = F.fit(comp, START, prior_sd=0.0)
    assert f.success
    for name, value in TRUTH.as_dict().items():
        if name != "trail":
            assert f.params.as_dict()[name] == pytest.approx(value, rel=1e-4), name
    assert f.params.speeds["trail"] == 10.0 and f.uninformed == ["trail"]
    assert set(f.fitted) == {"national_paved", "departmental_unpaved", "vecinal", "detour", "walk"}
    assert np.abs(f.residuals).max() < 1e-6
    one_walk = dataclasses.replace(comp, walking=np.arange(comp.n) == 0)  # a single walking trip: too few
    g = F.fit(one_walk, START, prior_sd=0.0)
    assert "walk" in g.uninformed and g.params.walk == START.walk


def test_fit_stays_inside_its_bounds():
    truth = dataclasses.replace(TRUTH, speeds={**TRUTH.speeds, "vecinal": 200.0})  # beyond the 60 km/h bound
    f = F.fit(invented_composition(truth=truth), START, prior_sd=0.0)
    lo, hi = F.BOUNDS["vecinal"]
    assert lo <= f.params.speeds["vecinal"] <= hi and f.params.speeds["vecinal"] == pytest.approx(hi, rel=1e-3)


def test_prior_pulls_towards_the_initial_values_only_where_data_are_silent():
    """When every national km is approximate only detour/speed is identified: the prior splits it."""
    comp = invented_composition()
    comp = dataclasses.replace(comp, km=comp.km * np.array([0, 1, 1, 1]))  # national: approximate km only
    comp = dataclasses.replace(comp, observed=F.predict(comp, TRUTH))
    f = F.fit(comp, START, prior=START, prior_sd=0.5)
    ratio = f.params.detour / f.params.speeds["national_paved"]
    assert ratio == pytest.approx(TRUTH.detour / TRUTH.speeds["national_paved"], rel=0.02)


def test_grouped_folds_never_split_a_group_and_cover_every_trip_once():
    groups = ["a", "a", "b", "c", "c", "c", "d", "e", "e", "f"]
    folds = F.grouped_folds(groups, 4, seed=3)
    assert len(folds) == 4
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(groups)))
    for test in folds:
        inside = {groups[i] for i in test}
        outside = {groups[i] for i in np.setdiff1d(np.arange(len(groups)), test)}
        assert not inside & outside
    assert len(F.grouped_folds(groups, 50)) == 6  # capped at the number of groups


def test_cross_validation_error_falls_when_the_start_is_wrong():
    comp = invented_composition(n=40, noise=0.1)
    groups = [f"pair{i // 2}" for i in range(comp.n)]  # two trips per pair
    cv = F.cross_validate(comp, START, groups=groups, k=5, repeats=3, prior_sd=0.5)
    assert cv.error_after < 0.5 * cv.error_before
    for rep in range(3):  # the two trips of a pair always share their fold
        assert (cv.fold[rep, 0::2] == cv.fold[rep, 1::2]).all()


def test_bootstrap_interval_covers_the_truth():
    comp = invented_composition(n=40, noise=0.05)
    iv = F.bootstrap(comp, START, groups=[f"p{i}" for i in range(comp.n)], n=40, prior_sd=0.0).set_index("parameter")
    for name in ("national_paved", "departmental_unpaved", "vecinal", "detour", "walk"):
        assert iv.loc[name, "low"] <= TRUTH.as_dict()[name] <= iv.loc[name, "high"], name


# --------------------------------------------------------------------------- real data (UGEL Cajamarca)


@pytest.fixture(scope="module")
def ugel(tmp_path_factory):
    import siting
    from siting.data import trips
    tmp = tmp_path_factory.mktemp("calibrate_ugel")
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml", study_area__ugels=["UGEL CAJAMARCA"],
                              run__output_dir=str(tmp / "run"), run__cache_dir=str(tmp / "cache"))
    data = siting.load_data(sc, progress=False)
    m = trips.match_trips(trips.read_trips(TRIPS), data.places, crs=data.crs)
    used = m[m["matched"] & (m["road_state"] == "current")].reset_index(drop=True)
    return SimpleNamespace(sc=sc, data=data, used=used, tmp=tmp)


def test_route_composition_adds_up_and_agrees_with_perturbation(ugel):
    from siting.calibration.composition import perturbation_composition, route_composition
    from siting.calibration.validate import route_trips
    minutes, graph, walk = route_trips(ugel.sc, ugel.data, matched=ugel.used)
    rc = route_composition(ugel.used, speeds=ugel.sc.speeds, graph=graph, walk_graph=walk)
    assert np.allclose(rc.minutes, minutes, rtol=1e-9)  # the traced paths are the Dijkstra paths
    assert np.abs(rc.closure).max() < 1e-6  # parts add up to the total
    pc = perturbation_composition(ugel.sc, ugel.data, matched=ugel.used, base_minutes=minutes)
    assert np.allclose(pc.minutes_by_class, rc.minutes_by_class, atol=0.05)
    assert np.allclose(pc.walk_min, rc.walk_min, atol=0.05)


def test_calibrate_command_on_real_trips_writes_a_loadable_scenario(ugel, capsys):
    import siting
    from siting.cli import main
    out = ugel.tmp / "cal"
    scen = ugel.tmp / "ugel.toml"
    import tomli_w
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8").replace('"../', f'"{ROOT}/')
    toml = tomllib.loads(text)  # the shipped scenario, real inputs by absolute path, on UGEL Cajamarca
    toml["study_area"]["ugels"] = ["UGEL CAJAMARCA"]
    toml["run"].update(cache_dir=str(ugel.tmp / "cache"), output_dir=str(ugel.tmp / "run"))
    scen.write_text(tomli_w.dumps(toml), encoding="utf-8")
    code = main(["calibrate", "--scenario", str(scen), "--trips", str(TRIPS), "--output", str(out), "--folds", "3",
                 "--iterations", "2", "--repeats", "2", "--bootstrap", "10", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Validación cruzada" in printed and "Escenario calibrado" in printed
    cal = siting.load_scenario(out / "ugel_calibrated.toml")
    params = __import__("pandas").read_csv(out / "calibration_parameters.csv").set_index("parameter")
    assert cal.speeds.road_kmh["national_paved"] == pytest.approx(params.loc["national_paved", "after"], abs=0.05)
    assert cal.speeds.road_kmh["trail"] == 10.0 and not params.loc["trail", "informed"]  # no trip informs it
    assert cal.inputs.ccpp == siting.load_scenario(scen).inputs.ccpp
    report = (out / "calibration_report.md").read_text(encoding="utf-8")
    assert "Viajes excluidos del ajuste" in report and "se dejan en su valor" in report
    trips_table = __import__("pandas").read_csv(out / "calibration_trips.csv")
    assert set(trips_table["row"]) == set(ugel.used["row"])


def test_the_source_scenario_is_never_overwritten(tmp_path):
    from siting.calibration.report import write_scenario
    target = tmp_path / "s.toml"
    target.write_text("[run]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(UserError):
        write_scenario(SimpleNamespace(), target=target, out=target, trips=TRIPS)
