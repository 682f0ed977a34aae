"""Reading Peruvian open-data tables: encodings, separators, thousands, lost zeros."""
from __future__ import annotations

import pandas as pd
import pytest

from siting.errors import DataError
from siting.io import atomic_path, read_table, to_number, zfill_code


def test_latin1_semicolon_thousands(tmp_path):
    # fixture: a hand-written table in the shape MINAM/INEI publish (Latin-1, ';', thousands ',')
    p = tmp_path / "fixture_latin1.csv"
    p.write_bytes("UBIGEO;DISTRITO;POB_TOTAL\n60101;CAJAMARCA;\"240,461\"\n60301;CELENDÍN;\"28,530\"\n".encode("latin-1"))
    df = read_table(p)
    assert list(df["DISTRITO"]) == ["CAJAMARCA", "CELENDÍN"]
    assert list(to_number(df["POB_TOTAL"])) == [240461.0, 28530.0]
    assert list(zfill_code(df["UBIGEO"], 6)) == ["060101", "060301"]


@pytest.mark.parametrize("raw, expected", [("1,234", 1234.0), ("1.234,5", 1234.5), ("1234.5", 1234.5),
                                            ("12,5", 12.5), ("x", float("nan")), ("-3", -3.0)])
def test_to_number(raw, expected):
    got = to_number(pd.Series([raw]))[0]
    assert (pd.isna(got) and pd.isna(expected)) or got == expected


def test_zfill_float_codes():
    assert list(zfill_code(pd.Series(["601010151.0", "60101"]), 10)) == ["0601010151", "0000060101"]


def test_empty_and_header_only(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="header but no rows"):
        read_table(tmp_path / "header.csv")
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "missing.csv")


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"
