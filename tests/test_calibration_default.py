"""The shipped scenarios run on the calibrated speeds and say so (issue #14 item 5), and the
detour factor of a rebuilt class is fitted from observed road kilometres."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import siting
from siting.calibration import fit as F
from siting.data import note_speeds
from siting.data.quality import QualityReport

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["cajamarca.toml", "cajamarca_13ugel.toml", "cajamarca_ahp.toml", "cajamarca_calibrated.toml"]


def _notes(sc) -> tuple[list[str], list[str]]:
    # roads of two classes present (a minimal table: note_speeds reads only road_class)
    roads, q = pd.DataFrame({"road_class": ["national_unknown", "vecinal"]}), QualityReport()
    note_speeds(sc, roads=roads, quality=q)
    note_speeds(sc, roads=roads, quality=q)  # once per report
    return q.notes_in("es"), q.notes_in("en")


def test_speeds_note_tells_where_speeds_come_from():
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml")
    assert sc.speeds.calibration
    es, en = _notes(sc)
    assert len(es) == 1 and "calibrados con viajes observados" in es[0]
    assert "calibration_report.md" in es[0] and "national_unknown 49.3 km/h" in es[0]
    assert "rodeo/detour national_unknown 1.61" in es[0] and "trail" not in es[0]  # only classes present
    assert en[0].startswith("Road speeds and detour factors calibrated")
    assumed = siting.load_scenario(ROOT / "scenarios" / "cajamarca_13ugel_assumed.toml")
    assert assumed.speeds.calibration == ""
    es, en = _notes(assumed)
    assert "valores supuestos" in es[0] and "national_unknown 60 km/h" in es[0]
    assert en[0].startswith("Road speeds are assumed")


def test_calibration_key_does_not_change_the_graph_key():
    from siting.network.graph import _speeds_key

    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml")
    import dataclasses

    other = dataclasses.replace(sc.speeds, calibration="")
    assert _speeds_key(other) == _speeds_key(sc.speeds)
    assert _speeds_key(dataclasses.replace(sc.speeds, detour_factor_by_class={})) != _speeds_key(sc.speeds)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_use_the_calibrated_speeds(name):
    """Every shipped Cajamarca scenario carries the 'after' column of the shipped calibration."""
    path = ROOT / "scenarios" / name
    sc = siting.load_scenario(path)
    table = pd.read_csv(ROOT / "docs" / "calibration" / "calibration_parameters.csv").set_index("parameter")
    after = table["after"].to_dict()
    for c, v in sc.speeds.road_kmh.items():
        assert v == pytest.approx(after[c]), c
    assert sc.speeds.approximate_detour_factor == pytest.approx(after[F.DETOUR])
    assert sc.speeds.detour_factor_by_class == {"national_unknown": pytest.approx(after["detour_national_unknown"])}
    assert (path.parent / sc.speeds.calibration).resolve() == (ROOT / "docs/calibration/calibration_report.md")
    assert (path.parent / sc.speeds.calibration).is_file()


def test_class_detour_is_recovered_from_road_distances():
    """Hand-made compositions (INVENTED numbers): class "nat" is all rebuilt (approximate) km,
    true ``d_nat = 1.7`` and ``v_nat = 45`` km/h; two trips give a time only, two a road
    distance only, one both.  ``t = 60 d kma / v``, ``D = d kma``: the fit recovers both."""
    kma = np.array([[50.0, 0.0], [80.0, 0.0], [120.0, 0.0], [30.0, 0.0], [64.0, 0.0]])
    d, v = 1.7, 45.0
    minutes = 60.0 * d * kma[:, 0] / v
    observed = np.array([minutes[0], minutes[1], np.nan, np.nan, minutes[4]])
    distance = np.array([np.nan, np.nan, d * 120.0, d * 30.0, d * 64.0])
    comp = F.Composition(("nat", "vec"), np.zeros_like(kma), kma, np.zeros(5), observed, None, distance)
    start = F.Params({"nat": 60.0, "vec": 20.0}, 1.3, 1.0, {"nat": 1.3})
    assert sorted(F.informed(comp, start)) == ["detour_nat", "nat"]  # not the generic detour, not vec
    f = F.fit(comp, start, prior_sd=0.0)
    assert f.params.detour_by_class["nat"] == pytest.approx(d, rel=1e-5)
    assert f.params.speeds["nat"] == pytest.approx(v, rel=1e-5)
    assert f.params.speeds["vec"] == 20.0 and f.params.detour == 1.3
    np.testing.assert_allclose(F.predict_km(comp, f.params)[2:], distance[2:], rtol=1e-5)
    # without the distances the time rows identify only d / v: the fit stays on that ratio
    times_only = F.Composition(("nat", "vec"), np.zeros_like(kma), kma, np.zeros(5), observed)
    g = F.fit(times_only, start, prior_sd=0.0)
    assert "detour_nat" not in g.fitted
    assert g.params.detour_by_class["nat"] / g.params.speeds["nat"] == pytest.approx(d / v, rel=1e-3)
