"""Labelled sites for the learned suitability model (optional input ``inputs.labels``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import read_table, to_number, zfill_code

#: columns of a labels table that stay text (codes and names)
TEXT_COLUMNS = frozenset({"ccpp_id", "site_id", "ubigeo", "province", "province_code", "district", "name", "ugel"})


def load_labels(path: str | Path, *, outcome: str = "outcome") -> pd.DataFrame:
    """Read a labelled-sites table (CSV/XLSX): ``ccpp_id`` or ``site_id``, a grouping column
    (``province`` / ``district``), the feature columns, and the ``outcome`` column
    (number, or 0/1 / good/bad).  Numeric-looking columns are converted to numbers."""
    df = read_table(path)
    if outcome not in df.columns:
        raise DataError(f"the labels table has no '{outcome}' column", source=str(path),
                        hint="add the outcome of each site (enrolment, retention, or good/bad)")
    text = df[outcome].astype("string").str.strip().str.lower()
    if text.isin(["good", "bad", "bueno", "malo"]).all():
        df[outcome] = text.isin(["good", "bueno"]).astype(int)
    for col in df.columns:
        if col in TEXT_COLUMNS:
            continue
        num = to_number(df[col])
        if num.notna().sum() == df[col].notna().sum():
            df[col] = num
    if "ccpp_id" in df.columns:
        df["ccpp_id"] = zfill_code(df["ccpp_id"], 10)
    bad = df[outcome].isna()
    if bad.any():
        raise DataError(f"row {int(np.flatnonzero(bad.to_numpy())[0]) + 2}: the outcome is empty or not a number",
                        source=str(path))
    return df
