"""Replay: the resolved scenario.toml written into every run folder (tomli-w) reads back
equal, whatever its text holds, and ``siting run --scenario RUN/scenario.toml`` reproduces
the run's tables byte for byte (one real UGEL of the shipped data)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from siting.cli import main
from siting.scenario import load_scenario, save_scenario

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_scenario_round_trips(path, tmp_path):
    sc = load_scenario(path)
    out = save_scenario(sc, tmp_path / "scenario.toml")
    again = load_scenario(out)
    assert again.to_dict() == sc.to_dict()
    assert tomllib.loads(out.read_text(encoding="utf-8")) == sc.to_dict()


def test_multiline_reason_and_awkward_text_round_trip(tmp_path):
    reason = ('Primera línea: "comillas", barra \\ invertida,\nsegunda línea con tabulación\t y ñ;\n'
              "tercera ''' con triple comilla simple y \"\"\" doble")
    sc = load_scenario(ROOT / "scenarios" / "cajamarca.toml", study_area__reason=reason,
                       run__name="corrida\n# no es comentario")
    out = save_scenario(sc, tmp_path / "scenario.toml")
    again = load_scenario(out)
    assert again.study_area.reason == reason and again.run.name == "corrida\n# no es comentario"
    assert again.to_dict() == sc.to_dict()
    assert out.read_text(encoding="utf-8").startswith("# resolved scenario (from ")


def _one_ugel(tmp: Path) -> Path:
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8")
    text = text.replace("../data/raw/", f"{ROOT}/data/raw/")
    text = re.sub(r'ugels = \[.*?\]\n', 'ugels = ["UGEL SAN MARCOS"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{tmp / "first"}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{tmp / "cache"}"')
    text = text.replace("n_sites = 10", "n_sites = 3")
    text = re.sub(r'reason = ".*"', 'reason = """Una UGEL para la prueba de repetición:\nsegunda línea."""', text)
    path = tmp / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_replaying_the_resolved_scenario_reproduces_the_tables(tmp_path):
    assert main(["run", "--scenario", str(_one_ugel(tmp_path)), "--no-progress"]) == 0
    first = tmp_path / "first"
    resolved = first / "scenario.toml"
    assert "segunda línea" in load_scenario(resolved).study_area.reason
    second = tmp_path / "second"
    assert main(["run", "--scenario", str(resolved), "--output", str(second), "--no-progress"]) == 0
    tables = sorted(p.name for p in first.glob("*.csv"))
    assert {"places.csv", "proposals.csv", "candidates.csv", "access_by_district.csv"} <= set(tables)
    differ = [n for n in tables if (first / n).read_bytes() != (second / n).read_bytes()]
    assert not differ, f"replay changed {differ}"
    for book in ("acceso.xlsx", "candidatos.xlsx", "propuestas.xlsx"):  # the same day: identical workbooks too
        assert (first / book).read_bytes() == (second / book).read_bytes(), book
