"""The notebooks (issue #17, item 11): a papermill ``parameters`` cell in each, no broken link,
one interactive map cell; notebook 02 executed with parameters (one real UGEL, San Marcos)
the way papermill does it (a cell of assignments injected after the ``parameters`` cell).

nbmake runs the notebooks with their defaults (pyproject ``--nbmake``); this test checks that
the parameters really reach the run."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PARAMETERS = {"SCENARIO_FILE", "UGELS", "LANG", "N_SITES"}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_one_parameters_cell_first(path):
    cells = _cells(path)
    tagged = [i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    assert len(tagged) == 1 and tagged[0] == code[0]  # before the cell that uses the parameters
    tree = ast.parse(_source(cells[tagged[0]]))
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert assigned == PARAMETERS and all(isinstance(n, ast.Assign) for n in tree.body)
    setup = _source(cells[code[1]])
    assert all(name in setup for name in PARAMETERS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_relative_link_of_the_notebooks_exists(path):
    for cell in _cells(path):
        if cell["cell_type"] != "markdown":
            continue
        text = _source(cell)
        for target in re.findall(r"\]\(([^)#\s]+)\)", text):
            if not re.match(r"https?://", target):
                assert (path.parent / target).resolve().exists(), f"{path.name}: broken link {target}"
        for named in re.findall(r"`([\w./-]+\.(?:md|toml|csv))`", text):  # paths named in code spans
            assert (ROOT / named).exists() or (path.parent / named).exists(), f"{path.name}: no {named}"
    assert "PROVENANCE" not in path.read_text(encoding="utf-8")


def test_one_interactive_map_cell():
    cells = [c for p in NOTEBOOKS for c in _cells(p) if "folium_map.render_page" in _source(c)]
    assert len(cells) == 1 and "srcdoc" in _source(cells[0])


def test_notebook_02_runs_with_parameters_for_one_ugel(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = ROOT / "notebooks" / "02_propuestas.ipynb"
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = 'UGELS = ["UGEL SAN MARCOS"]\nN_SITES = 2\nLANG = "en"\n'
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]}))
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = {i: c.get("outputs", []) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    text = "\n".join(o.get("text", "") for outs in outputs.values() for o in outs if o.get("name") == "stdout")
    assert "N = 2 sitios" in text  # the first printed summary shows the injected N
    proposals = [c for c in nb.cells if c.cell_type == "code" and "plan.proposals[[" in c.source][0]
    table = proposals.outputs[-1]["data"]["text/plain"]
    assert "UGEL SAN MARCOS" in table and "UGEL CAJAMARCA" not in table
    html = [o["data"]["text/html"] for outs in outputs.values() for o in outs
            if o.get("output_type") == "execute_result" and "text/html" in o.get("data", {})
            and "srcdoc=" in o["data"]["text/html"]]
    assert len(html) == 1 and "Access to technical-productive education: UGEL SAN MARCOS" in html[0]
