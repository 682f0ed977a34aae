"""Speeds: Tobler's hiking function and the road speed table (hand-computed values)."""
import math

import numpy as np
import pytest

from siting.errors import DataError
from siting.network.speeds import max_speed_kmh, road_speed_kmh, tobler_kmh, walk_minutes
from siting.scenario import Speeds


def test_tobler_hand_values():
    # flat: 6 * exp(-3.5 * 0.05) = 5.0366 km/h; maximum 6 km/h at dh/dx = -0.05
    assert tobler_kmh(0.0) == pytest.approx(6 * math.exp(-0.175), rel=1e-12)
    assert tobler_kmh(-0.05) == pytest.approx(6.0, rel=1e-12)
    assert tobler_kmh(0.10) == pytest.approx(6 * math.exp(-3.5 * 0.15), rel=1e-12)
    # uphill slower than the same slope downhill
    assert tobler_kmh(0.2) < tobler_kmh(-0.2)


def test_tobler_parameters_are_used():
    assert tobler_kmh(0.0, walk_kmh_max=4.0, tobler_slope_offset=0.0, tobler_decay=1.0) == pytest.approx(4.0)
    assert tobler_kmh(0.5, walk_kmh_max=4.0, tobler_slope_offset=0.0, tobler_decay=2.0) == pytest.approx(
        4.0 * math.exp(-1.0))


def test_walk_minutes_hand_computed():
    sp = Speeds()
    # 1 km flat: 60 / 5.0366 min
    assert walk_minutes(1000.0, 0.0, sp) == pytest.approx(60 / (6 * math.exp(-0.175)))
    # 1 km rising 100 m: slope 0.1
    assert walk_minutes(1000.0, 100.0, sp) == pytest.approx(60 / (6 * math.exp(-3.5 * 0.15)))
    # slope clipping: 100 m over 100 m clipped to 0.5
    assert walk_minutes(100.0, 100.0, sp, max_abs_slope=0.5) == pytest.approx(
        0.1 * 60 / (6 * math.exp(-3.5 * 0.55)))
    assert walk_minutes(0.0, 10.0, sp) == 0.0


def test_road_speed_table_and_unknown_class():
    table = Speeds().road_kmh
    assert road_speed_kmh("vecinal", table) == 20.0
    np.testing.assert_array_equal(road_speed_kmh(["trail", "national_paved"], table), [10.0, 60.0])
    with pytest.raises(DataError, match="autopista"):
        road_speed_kmh(["vecinal", "autopista"], table)


def test_max_speed():
    sp = Speeds()
    assert max_speed_kmh(sp) == 60.0
    assert max_speed_kmh(sp, mode="walk") == 6.0
    assert max_speed_kmh(sp, mode="walk", landcover_max=1.5) == 9.0
