"""``siting.suitability.ranks.rank_values`` against ``scipy.stats.rankdata`` (the reference it
replaces, issue #19): real Cajamarca populations (many ties among small places) and random
arrays with heavy ties, 1-D and along either axis of 2-D arrays."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from siting.suitability.ranks import rank_values



@pytest.mark.parametrize("method", ["average", "min"])
def test_real_populations_equal_scipy(method):
    from siting.scenario import load_scenario
    sc = load_scenario("scenarios/cajamarca.toml")
    from siting.data import load_data
    pop = load_data(sc, progress=False).places["population"].to_numpy(float)
    assert len(pop) > 3000 and len(np.unique(pop)) < len(pop)  # real ties
    for values in (pop, -pop):
        np.testing.assert_array_equal(rank_values(values, method=method), rankdata(values, method=method))


@pytest.mark.parametrize("method", ["average", "min"])
@pytest.mark.parametrize("axis", [0, 1])
def test_random_ties_2d_equal_scipy(method, axis):
    rng = np.random.default_rng(7)
    for shape in [(1, 1), (5, 1), (1, 6), (40, 13), (257, 31)]:
        x = rng.integers(0, 4, size=shape).astype(float) / 3.0  # heavy ties
        got = rank_values(x, method=method, axis=axis)
        np.testing.assert_array_equal(got, rankdata(x, method=method, axis=axis))


def test_flat_empty_and_infinite():
    assert rank_values(np.array([]), method="min").shape == (0,)
    assert rank_values(np.empty((0, 3)), method="min", axis=0).shape == (0, 3)
    x = np.array([np.inf, -np.inf, 0.0, np.inf, 2.0])
    np.testing.assert_array_equal(rank_values(x), rankdata(x))
    np.testing.assert_array_equal(rank_values([[3.0, 1.0], [1.0, 1.0]]), rankdata([[3.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="method"):
        rank_values([1.0], method="dense")  # type: ignore[arg-type]


def test_hand_computed_case():
    # values 10, 20, 20, 30, 20: the three 20s hold sorted positions 1-3 -> average rank 3, min rank 2
    x = pd.Series([10.0, 20.0, 20.0, 30.0, 20.0]).to_numpy()
    np.testing.assert_array_equal(rank_values(x), [1.0, 3.0, 3.0, 5.0, 3.0])
    np.testing.assert_array_equal(rank_values(x, method="min"), [1.0, 2.0, 2.0, 5.0, 2.0])
