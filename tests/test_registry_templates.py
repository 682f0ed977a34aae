"""XLSX forms of the registry (``siting templates``): structure checked with openpyxl, the
filled forms load exactly like the same rows as CSV, LibreOffice opens them.

Rows filled into the forms are those of the INVENTED fixtures (tests/fixtures/registry).
"""
from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import siting
from siting.cli import main
from siting.data import registry
from siting.data.quality import QualityReport
from siting.data.registry_spec import KINDS, SPECIALTIES
from siting.report.registry_templates import TemplateLists, template_name, write_template, write_templates

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "registry"


@pytest.fixture(scope="module")
def lists():
    return TemplateLists.from_scenario(siting.load_scenario(ROOT / "scenarios" / "cajamarca_13ugel.toml"))


@pytest.fixture(scope="module")
def forms(tmp_path_factory, lists):
    out = {}
    for lang in ("es", "en"):
        folder = tmp_path_factory.mktemp(f"forms_{lang}")
        out[lang] = write_templates(folder, lists=lists, lang=lang)
    return out


def test_lists_come_from_the_real_data(lists):
    assert len(lists.ugels) == 13 and "UGEL SAN IGNACIO" in lists.ugels
    codes = {c for c, _ in lists.cetpro}
    assert len(codes) == 19 and {"0522599", "0594721", "LOCAL-562284"} <= codes  # 17 of the base + 2 verified


def test_form_structure(forms, lists):
    for lang, paths in forms.items():
        assert set(paths) == set(KINDS)
        for kind, path in paths.items():
            spec = KINDS[kind]
            wb = openpyxl.load_workbook(path)
            data_sheet = spec.sheet_es if lang == "es" else spec.sheet_en
            assert wb.sheetnames == [data_sheet, "instrucciones" if lang == "es" else "instructions",
                                     "listas" if lang == "es" else "lists"]
            ws = wb[data_sheet]
            header = [c.value for c in ws[1]]
            assert header == [c.es if lang == "es" else c.name for c in spec.columns]
            example = [c.value for c in ws[2] if isinstance(c.value, str)]
            assert any(v.startswith("EJEMPLO" if lang == "es" else "EXAMPLE") for v in example)
            assert ws.max_row == 1001  # validation and formats on 1,000 rows
            instructions = " ".join(str(c.value) for row in wb.worksheets[1].iter_rows() for c in row if c.value)
            assert f"inputs.{kind}" in instructions
            for col in spec.columns:
                assert col.name in instructions or col.es in instructions
    wb = openpyxl.load_workbook(forms["es"]["extension_centres"])
    ws = wb["centros_extension"]
    rules = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    letter = {c.name: openpyxl.utils.get_column_letter(i + 1) for i, c in enumerate(KINDS["extension_centres"].columns)}
    assert rules[f"{letter['parent_cod_mod']}2"].formula1 == f"'listas'!$B$2:$B${len(lists.cetpro) + 1}"
    assert rules[f"{letter['specialties']}2"].formula1 == f"'listas'!$D$2:$D${len(SPECIALTIES) + 1}"
    assert rules[f"{letter['host_type']}2"].formula1 == "'listas'!$E$2:$E$5"
    assert ws[f"{letter['ccpp_id']}3"].number_format == "@"  # codes keep leading zeros
    lists_ws = wb["listas"]
    assert [lists_ws.cell(row=i, column=2).value for i in range(2, len(lists.cetpro) + 2)] == \
        [c for c, _ in lists.cetpro]
    assert [lists_ws.cell(row=i, column=5).value for i in range(2, 6)] == ["tambo", "municipalidad", "ie", "otro"]
    ugel = openpyxl.load_workbook(forms["es"]["additional_cetpro"])["cetpro_adicionales"]
    assert any(dv.formula1 == "'listas'!$A$2:$A$14" for dv in ugel.data_validations.dataValidation)


def test_text_from_data_is_never_a_formula(tmp_path):
    bad = TemplateLists(ugels=["UGEL X"], cetpro=[("1234567", '=HYPERLINK("http://x","y")')])
    path = write_template("extension_centres", tmp_path / "f.xlsx", lists=bad)
    cell = openpyxl.load_workbook(path)["listas"]["C2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def _fixture_rows(kind: str) -> list[list[str]]:
    lines = (FIX / f"fixture_registry_{kind}_INVENTED.csv").read_text(encoding="utf-8").splitlines()
    return list(csv.reader([ln for ln in lines if not ln.startswith("#")]))


@pytest.mark.parametrize("kind", ["petitions", "host_premises", "additional_cetpro", "candidate_exclusions",
                                  "monitoring", "extension_centres"])
def test_filled_form_loads_like_the_csv(forms, kind, tmp_path):
    header, *rows = _fixture_rows(kind)
    spec = KINDS[kind]
    path = tmp_path / template_name(kind)
    shutil.copy(forms["es"][kind], path)
    wb = openpyxl.load_workbook(path)
    ws = wb[spec.sheet_es]
    position = {h: i for i, h in enumerate(header)}
    for r, row in enumerate(rows, start=3):  # below the example row
        for j, col in enumerate(spec.columns, start=1):
            value = row[position[col.es]] if col.es in position else ""
            ws.cell(row=r, column=j, value=value or None)
    wb.save(path)
    q_csv, q_xlsx = QualityReport(), QualityReport()
    a = registry.read_registry(FIX / f"fixture_registry_{kind}_INVENTED.csv", kind, q_csv)
    b = registry.read_registry(path, kind, q_xlsx)
    cols = [c.name for c in spec.columns]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    # same problems at the same row number: the CSV's comment line and the form's example row both sit
    # between the header and the first data row
    pa = [(p["problem"], int(p["row_id"].rsplit(":", 1)[1])) for p in q_csv.problems]
    pb = [(p["problem"], int(p["row_id"].rsplit(":", 1)[1])) for p in q_xlsx.problems if p["problem"] != "example row"]
    assert pa == pb
    assert all(p["row_id"].startswith(spec.sheet_es + ":") for p in q_xlsx.problems)
    assert [p["row_id"] for p in q_xlsx.problems if p["problem"] == "example row"] == [f"{spec.sheet_es}:2"]


def test_blank_form_loads_as_empty_with_the_example_reported(forms):
    q = QualityReport()
    df = registry.read_registry(forms["en"]["monitoring"], "monitoring", q)
    assert len(df) == 0 and q.table()["problem"].tolist() == ["example row"]


def test_cli_templates(tmp_path, capsys):
    assert main(["templates", "--output", str(tmp_path / "f"), "--lang", "en"]) == 0
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == sorted(template_name(k, "en") for k in KINDS)
    assert not list((tmp_path / "f").glob(".*part*"))
    with pytest.raises(SystemExit):
        main(["templates"])  # --output is required


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_a_form(forms, tmp_path):
    profile = tmp_path / "lo_profile"
    res = subprocess.run(["libreoffice", "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                          "--convert-to", "pdf", "--outdir", str(tmp_path), str(forms["es"]["extension_centres"])],
                         capture_output=True, timeout=240)
    pdf = tmp_path / (Path(forms["es"]["extension_centres"]).stem + ".pdf")
    assert res.returncode == 0 and pdf.exists() and pdf.stat().st_size > 10_000
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "codigo_centro" in text and "inputs.extension_centres" in text and "UGEL SAN IGNACIO" in text
