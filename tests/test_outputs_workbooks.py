"""Workbooks and CSVs for planners, on one real UGEL of the shipped data (San Marcos) run
through the whole CLI chain, with five centros poblados RENAMED to formula payloads
(INVENTED names on real rows: ``=HYPERLINK(...)``, ``=cmd|...``, ``@SUM(1)``, ``+1``, ``-1+2``).

Checked: number formats per column kind and values rounded as shown (the CSVs keep full
precision), Spanish sheet names and a Léame sheet first (English with --lang en), coded
values in words, no cell is ever a formula (openpyxl data types, and LibreOffice converting
the workbook shows the literal text), CSV cells neutralised per OWASP, negative numbers
still numbers, byte-identical workbooks for identical inputs.
"""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from _xlsx_support import column_widths
from siting.cli import main
from siting.report import exports, labels
from siting.report import numbers as nb

ROOT = Path(__file__).resolve().parents[1]
UGEL = "UGEL SAN MARCOS"
#: INVENTED names given to real San Marcos rows (the first two are the top candidates)
# the first two are the first two proposals of San Marcos (3 sites): Tinyayoc and Liclic
PAYLOADS = {"0610070022": '=HYPERLINK("http://x","y")', "0610060030": "=cmd|' /C calc'!A0",
            "0610070001": "@SUM(1)", "0610070034": "+1", "0610070059": "-1+2"}


def hostile_scenario(tmp: Path, lang: str = "es", *, n_sites: int = 3) -> Path:
    """The shipped scenario on UGEL San Marcos, with the payload names in a copy of the CCPP file."""
    src = ROOT / "data" / "raw" / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv"
    ccpp = pd.read_csv(src, dtype=str, keep_default_na=False)
    for code, name in PAYLOADS.items():
        assert (ccpp["CCPP_ID"] == code).sum() == 1, code
        ccpp.loc[ccpp["CCPP_ID"] == code, "CENTRO_POBLADO"] = name
    fixture = tmp / "fixture_ccpp_INVENTED_formula_names.csv"
    ccpp.to_csv(fixture, index=False)
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8")
    text = text.replace("../data/raw/", f"{ROOT}/data/raw/")
    text = text.replace(f'"{ROOT}/data/raw/ccpp/inei_cpv2017_ccpp_poblacion_cajamarca.csv"', f'"{fixture}"')
    text = re.sub(r'ugels = \[.*?\]\n', f'ugels = ["{UGEL}"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{tmp / "run"}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{tmp / "cache"}"')
    text = text.replace("n_sites = 10", f"n_sites = {n_sites}").replace('language = "es"', f'language = "{lang}"')
    path = tmp / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile_es")
    assert main(["run", "--scenario", str(hostile_scenario(tmp)), "--no-progress"]) == 0
    return tmp / "run"


def _cells(path: Path):
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield ws.title, cell


def _header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


# =========================================================================== formats and rounding
def test_number_formats_by_column_kind_and_values_rounded_as_shown(run):
    wb = load_workbook(run / "acceso.xlsx")
    assert wb.sheetnames[0] == "Léame"
    ws = wb["Centros poblados"]
    head = _header(ws)
    places = pd.read_csv(run / "places.csv", dtype={"ccpp_id": str})
    expect = {"population": "#,##0", "pop_15_29": "#,##0", "minutes_nearest": "0", "altitude_m": "#,##0",
              "seats_per_1000_2sfca": "0.0"}
    for code, fmt in expect.items():
        col = head[labels.t(code)]
        cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
        numeric = [c for c in cells if c.data_type == "n"]
        assert numeric and all(c.number_format == fmt for c in numeric), code
        shown = np.array([c.value for c in numeric], dtype=float)
        full = places[code].to_numpy(dtype=float)[[c.row - 2 for c in numeric]]
        np.testing.assert_array_equal(shown, nb.display_round(full, nb.column_kind(code)))
    # the CSV keeps full precision: populations are not whole numbers there
    assert (places["population"] % 1 != 0).any()
    codes = ws.cell(row=2, column=head[labels.t("ccpp_id")])
    assert codes.data_type == "s" and re.fullmatch(r"\d{10}", codes.value)  # leading zero kept
    summary = wb["Resumen por UGEL"]
    h = _header(summary)
    share = summary.cell(row=2, column=h[labels.t("share_within_60")])
    assert share.number_format == "0.0%" and 0 < share.value < 1 and round(share.value, 3) == share.value
    assert summary.cell(row=3, column=1).value == "Total"  # the total row in words


def test_every_numeric_column_of_every_workbook_has_a_kind(run):
    """No numeric column of the pipeline's tables falls back to General (unrounded)."""
    unknown = set()
    for name in ("places", "access_by_district", "access_by_province", "access_by_ugel", "access_total",
                 "districts_ranked_unserved", "cetpro_supply", "candidates", "excluded_places", "weights",
                 "proposals", "coverage_curve", "before_after", "plan_measures", "plan_measures_by_district",
                 "priorities", "pareto_front"):
        df = pd.read_csv(run / f"{name}.csv", nrows=50)
        unknown |= {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
                    and not pd.api.types.is_bool_dtype(df[c]) and nb.column_kind(c) == "number"}
    assert not unknown


def test_scores_and_proposals_sheet(run):
    wb = load_workbook(run / "propuestas.xlsx")
    assert wb.sheetnames == ["Léame", "Propuestas", "Curva de cobertura", "Antes y después", "Medidas del plan",
                             "Medidas por distrito", "Prioridades", "Frente de Pareto"]  # the last four: #18
    ws = wb["Propuestas"]
    head = _header(ws)
    assert ws.cell(row=2, column=head[labels.t("score")]).number_format == "0.000"
    assert ws.cell(row=2, column=head[labels.t("teacher_minutes")]).number_format == "0"
    assert ws.cell(row=2, column=head[labels.t("new_target")]).number_format == "#,##0"
    assert ws.freeze_panes == "D2"  # header and rank, code, name stay in view
    status = {ws.cell(row=r, column=head[labels.t("parent_status")]).value for r in range(2, ws.max_row + 1)}
    assert "asignado" in status and "assigned" not in status
    top = ws.cell(row=2, column=head[labels.t("top_criteria")]).value
    assert "unserved_target" not in top and labels.t("unserved_target") in top
    curve = wb["Curva de cobertura"]
    assert curve.cell(row=2, column=_header(curve)[labels.t("share")]).number_format == "0.0%"
    for ws in wb.worksheets[1:]:
        shown = column_widths(ws)
        widths = [shown[c.column] for c in ws[1]]
        assert all(8 <= w <= 60 for w in widths)
        assert all(c.font.bold and c.alignment.wrap_text for c in ws[1])


def test_candidates_workbook_values_in_words(run):
    wb = load_workbook(run / "candidatos.xlsx")
    assert wb.sheetnames[:4] == ["Léame", "Candidatos", "Excluidos", "Pesos"]
    ex = wb["Excluidos"]
    h = _header(ex)
    reasons = [ex.cell(row=r, column=h[labels.t("reason")]).value for r in range(2, ex.max_row + 1)]
    assert not any("already_served" in r or "population_below_min" in r for r in reasons)
    assert any("población menor al mínimo" in r for r in reasons)
    details = [ex.cell(row=r, column=h[labels.t("reason_detail")]).value for r in range(2, ex.max_row + 1)]
    assert any(re.search(r"min a un CETPRO o centro de extensión \(≤ 60\)", d) for d in details)
    w = wb["Pesos"]
    assert labels.t("poverty") in [c.value for c in w["A"]]


def test_readme_sheet_says_run_date_scenario_caveats(run):
    ws = load_workbook(run / "acceso.xlsx")["Léame"]
    items = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(1, ws.max_row + 1)}
    assert items["Corrida"] == "cajamarca-8ugel"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", items["Fecha"])
    assert items["Escenario"].startswith("scenario.toml") and "siting run --scenario" in items["Escenario"]
    assert items["Ámbito"] == UGEL and items["Población objetivo"] == "15 a 29 años"
    assert items["Umbrales de tiempo"] == "30, 60, 120 min"
    texts = [ws.cell(row=r, column=2).value or "" for r in range(1, ws.max_row + 1)]
    assert any("CSV" in t and "precisión completa" in t for t in texts)
    assert any("centros de extensión" in t for t in texts)  # a data caveat of this run
    sheets = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert "Centros poblados" in sheets and "Acceso por distrito" in sheets


def test_english_run_has_english_sheets(tmp_path):
    assert main(["propose", "--scenario", str(hostile_scenario(tmp_path, "en", n_sites=2)), "--no-progress"]) == 0
    wb = load_workbook(tmp_path / "run" / "propuestas.xlsx")
    assert wb.sheetnames == ["Read me", "Proposals", "Coverage curve", "Before and after", "Plan measures",
                             "Measures by district", "Priorities", "Pareto front"]  # the last four: #18
    measures = wb["Plan measures"]
    groups = {measures.cell(row=r, column=_header(measures)["Population group"]).value
              for r in range(2, measures.max_row + 1)}
    assert "Target population (youth)" in groups and "target" not in groups  # coded values in words
    ws = wb["Proposals"]
    head = _header(ws)
    status = {ws.cell(row=r, column=head[labels.t("parent_status", "en")]).value for r in range(2, ws.max_row + 1)}
    assert status <= {"assigned", labels.t("status.parents_full", "en"),
                      labels.t("status.no_parent_within_limit", "en")}
    readme = wb["Read me"]
    assert readme["A4"].value == "Workbook" and readme["B5"].value == "cajamarca-8ugel"


# =========================================================================== formula injection
def test_formula_names_are_text_cells_in_every_workbook(run):
    found = {name: 0 for name in PAYLOADS.values()}
    for book in ("acceso.xlsx", "candidatos.xlsx", "propuestas.xlsx"):
        for sheet, cell in _cells(run / book):
            assert cell.data_type != "f", f"{book}/{sheet}!{cell.coordinate} is a formula: {cell.value!r}"
            if cell.value in found:
                found[cell.value] += 1
                assert cell.data_type == "s" and cell.quotePrefix, (book, sheet, cell.coordinate)
    assert all(found.values()), found  # every payload reached a workbook, unchanged and readable
    assert found['=HYPERLINK("http://x","y")'] >= 3  # places, candidates, proposals


def test_negative_numbers_stay_numbers(run, tmp_path):
    """Negative numbers next to the payloads: numbers in the workbook and in the CSV."""
    places = pd.read_csv(run / "places.csv", dtype={"ccpp_id": str, "ubigeo": str})
    places["name"] = places["name"].str.lstrip("'")  # as the stage produced them
    places["gap_women_men_beyond_60"] = -0.05  # a share difference (women better off)
    places["altitude_m"] = -places["altitude_m"]
    book = exports.write_xlsx({"places": places}, tmp_path / "t.xlsx")
    ws = load_workbook(book)["Centros poblados"]
    head = _header(ws)
    gap = ws.cell(row=2, column=head[labels.t("gap_women_men_beyond_60")])
    alt = ws.cell(row=2, column=head[labels.t("altitude_m")])
    assert (gap.data_type, gap.value, gap.number_format) == ("n", -0.05, "0.0%")
    assert alt.data_type == "n" and alt.value < 0
    back = pd.read_csv(exports.write_csv(places, tmp_path / "t.csv", lang=None), dtype={"ccpp_id": str})
    assert (back["gap_women_men_beyond_60"] == -0.05).all() and (back["altitude_m"] < 0).all()
    assert set(back.loc[back["ccpp_id"].isin(list(PAYLOADS)), "name"]) == {"'" + p for p in PAYLOADS.values()}


def test_csv_cells_are_neutralised_per_owasp(run):
    with open(run / "places.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["ccpp_id"]: r for r in csv.DictReader(fh)}
    for code, name in PAYLOADS.items():
        assert rows[code]["name"] == "'" + name  # readable, never evaluated
    other = next(r for c, r in rows.items() if c not in PAYLOADS)
    assert not other["name"].startswith("'")
    raw = (run / "proposals.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")" in raw  # CSV-quoted, with the apostrophe
    for path in sorted(run.glob("*.csv")):  # every table of the run, the quality report included
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for field in row:
                    assert not field.startswith(("=", "+", "@", "\t", "\r")), (path.name, field)
                    assert not re.match(r"-(?![\d.])", field), (path.name, field)  # "-1.5" is a number
    quality = (run / "quality_report.csv").read_text(encoding="utf-8-sig")
    assert "@SUM(1)" in quality  # the payloads reached the quality report (name differs from the national list)


LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(LIBREOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc)")
def test_libreoffice_shows_the_literal_text(run, tmp_path):
    """LibreOffice converts the proposals workbook (every sheet to CSV, and to PDF): the
    names are the literal text, never a formula's result (``y``, ``1``, ``3``)."""
    out = tmp_path / "lo"
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    book = tmp_path / "propuestas.xlsx"
    shutil.copy(run / "propuestas.xlsx", book)
    for target in ("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "pdf"):
        subprocess.run([LIBREOFFICE, profile, "--headless", "--norestore", "--convert-to", target, "--outdir",
                        str(out), str(book)], check=True, capture_output=True, timeout=180)
    with open(out / "propuestas-Propuestas.csv", encoding="utf-8", newline="") as fh:
        names = [r[2] for r in csv.reader(fh)][1:]
    proposed = set(names) & set(PAYLOADS.values())  # the proposals that carry a payload name
    assert len(proposed) >= 2 and '=HYPERLINK("http://x","y")' in proposed, names  # literal, never computed
    text = subprocess.run(["pdftotext", "-layout", str(out / "propuestas.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert all(name in text for name in proposed)


# =========================================================================== determinism
def test_workbook_is_byte_identical_for_identical_inputs(run, tmp_path):
    places = pd.read_csv(run / "places.csv", dtype={"ccpp_id": str, "ubigeo": str})
    readme = exports.ReadMe(run="r", scenario="s.toml", date="2025-01-01", caveats=("nota",))
    a = exports.write_xlsx({"places": places}, tmp_path / "a" / "acceso.xlsx", readme=readme)
    b = exports.write_xlsx({"places": places}, tmp_path / "b" / "acceso.xlsx", readme=readme)
    assert a.read_bytes() == b.read_bytes()


def test_run_date_follows_source_date_epoch(monkeypatch):
    from siting.report.workbook import run_date
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run_date() == "2023-11-14"
