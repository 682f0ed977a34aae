"""District indicators (poverty, HDI) and community petitions: the optional tables the
suitability criteria and the demand weights read.  Loaded and validated by
:func:`siting.data.load_data`, so ``siting data check`` checks them too."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import read_table, to_number, zfill_code

_INDICATOR_ALIASES = {
    "ubigeo": ("ubigeo", "inei", "UBIGEO"),
    "poverty": ("poverty", "poverty_pct", "pct_pobreza_total"),
    "hdi": ("hdi", "idh", "idh_2019"),
}


def district_indicator_table(df: pd.DataFrame, *, source: str = "district_indicators") -> pd.DataFrame:
    """Normalise a district-indicator table to columns ``ubigeo`` (6 chars), ``poverty`` and ``hdi``.

    Accepts the English names or those of ``ubigeo_distrito_aumentado.csv``
    (``inei``, ``pct_pobreza_total``, ``idh_2019``).  A missing indicator becomes NaN;
    a missing code column raises :class:`DataError`.  Applying it twice changes nothing.
    """
    out = pd.DataFrame(index=df.index)
    for target, names in _INDICATOR_ALIASES.items():
        col = next((n for n in names if n in df.columns), None)
        if col is None:
            if target == "ubigeo":
                raise DataError("no district code column (expected one of: ubigeo, inei)", source=source,
                                hint="add a 6-digit INEI ubigeo column")
            out[target] = np.nan
        elif target == "ubigeo":
            out[target] = zfill_code(df[col], 6)
        else:
            out[target] = to_number(df[col])
    return out.drop_duplicates("ubigeo").reset_index(drop=True)


def load_district_indicators(path: str | Path) -> pd.DataFrame:
    """:func:`district_indicator_table` of the file ``inputs.district_indicators``."""
    return district_indicator_table(read_table(path), source=str(path))


def load_petitions(path: str | Path) -> pd.DataFrame:
    """Read an optional community-petitions CSV: one row per request, column ``ccpp_id``
    (10 digits; leading zeros restored).  Other columns (date, organisation, …) are kept."""
    df = read_table(path)
    cols = {c.lower(): c for c in df.columns}
    if "ccpp_id" not in cols:
        raise DataError("the petitions table has no 'ccpp_id' column", source=str(path),
                        hint="one row per petition with the 10-digit INEI code of the centro poblado in 'ccpp_id'")
    df = df.rename(columns={cols["ccpp_id"]: "ccpp_id"})
    df["ccpp_id"] = zfill_code(df["ccpp_id"], 10)
    bad = df["ccpp_id"].isna() | ~df["ccpp_id"].str.fullmatch(r"\d{10}", na=False)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataError(f"row {row}: ccpp_id {df['ccpp_id'].iloc[row - 2]!r} is not a 10-digit code", source=str(path))
    return df
