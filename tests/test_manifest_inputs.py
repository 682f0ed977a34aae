"""The run manifest's list of input files (``siting.manifest.input_paths``): ``[inputs.layers]``
names layers of those files, not a file, and must not break a run that sets it (the error of a
GeoPackage with two layers tells the user to set it)."""
from __future__ import annotations

from pathlib import Path

import siting
from siting.manifest import input_hashes, input_paths

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "cajamarca.toml"


def test_layers_are_not_input_files():
    plain = siting.load_scenario(SCENARIO)
    with_layers = siting.load_scenario(SCENARIO, inputs__layers={"school_base": "cetpro"})
    assert input_paths(with_layers) == input_paths(plain)
    assert "layers" not in input_hashes(with_layers) and len(input_hashes(with_layers)) == len(input_paths(plain))
    assert input_paths(plain)["roads[0]"].name == "mtc_red_vial_departamental_cajamarca.gpkg"
