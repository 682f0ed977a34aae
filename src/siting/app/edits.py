"""Data corrections a planner knows better, saved as plain files the CLI reads.

Each kind of correction is one CSV file in ``<scenario stem>_ediciones/`` beside the
scenario, in the column format of ``REGISTRY_CONTRACT.md`` (the loaders of
``siting.data`` read it), plus ``<stem>_ediciones.toml``: the original scenario with
those ``inputs.*`` keys pointing at the edited files, so::

    siting run --scenario scenarios/cajamarca_ediciones.toml

replays the session.  Nothing in ``data/raw`` is ever written: when the scenario already
has a file for a kind, the edited copy starts from its rows.  Every change is checked by
reloading the data (the same loaders ``siting run`` uses); a change the loaders refuse is
rolled back and its message returned.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..data import registry_spec
from ..errors import DataError, UserError
from ..io import atomic_path, read_table
from ..scenario import Inputs
from .engine import Engine


@dataclass(frozen=True)
class EditKind:
    """One kind of correction: its scenario key, columns and identifier."""

    key: str  # inputs.<key>
    columns: tuple[str, ...]
    required: tuple[str, ...]
    id_column: str
    id_prefix: str  # automatic identifiers: <prefix>001, <prefix>002...
    located: bool  # needs ccpp_id or lon + lat
    es: str
    en: str
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    numeric: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()


def _from_spec(name: str, id_prefix: str) -> EditKind:
    """An edit kind from the registry's format (``siting.data.registry_spec``, REGISTRY_CONTRACT.md)."""
    k = registry_spec.KINDS[name]
    choices = tuple((c.name, tuple(c.choices)) for c in k.columns if c.choices)
    return EditKind(name, tuple(c.name for c in k.columns), tuple(k.required), k.id_column or "ccpp_id", id_prefix,
                    k.located, k.title_es, k.title_en, choices,
                    tuple(c.name for c in k.columns if c.type in ("count", "lon", "lat")),
                    tuple(c.name for c in k.columns if c.type == "date"))


KINDS: dict[str, EditKind] = {k.key: k for k in (
    _from_spec("extension_centres", "APP-CE-"),
    _from_spec("additional_cetpro", "NEW-"),
    # Programa PAIS format, unchanged (REGISTRY_CONTRACT.md): a place code is turned into its coordinates
    EditKind("tambos", ("CODIGO_PLATAFORMA", "TAMBO", "UBIGEO", "LATITUD", "LONGITUD"), ("TAMBO",),
             "CODIGO_PLATAFORMA", "APP-TAMBO-", True, "Tambos (Programa PAIS)", "Tambos (Programa PAIS)",
             numeric=("LATITUD", "LONGITUD")),
    _from_spec("host_premises", "APP-LOCAL-"),
    _from_spec("petitions", ""),
    _from_spec("candidate_exclusions", ""),
)}
_CCPP = re.compile(r"^\d{10}$")
_CODMOD = re.compile(r"^\d{7}$")
_COORDS = {"lon", "lat", "LATITUD", "LONGITUD"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataError(f"value {value!r} must be text or a number")
    return str(value).strip()


class EditStore:
    """The session's corrections: read, add/replace, delete; each change reloads the engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ files
    @property
    def folder(self) -> Path:
        return self.engine.edits_dir

    def kinds(self) -> list[dict[str, Any]]:
        """Every kind with whether the installed scenario format has its key."""
        supported = {f for f in Inputs.__dataclass_fields__}
        return [{"kind": k.key, "es": k.es, "en": k.en, "columns": list(k.columns), "required": list(k.required),
                 "id_column": k.id_column, "located": k.located, "supported": k.key in supported,
                 "choices": {c: list(v) for c, v in k.choices}} for k in KINDS.values()]

    def path(self, kind: str) -> Path:
        return self.folder / f"{kind}.csv"

    def _original_toml(self) -> dict[str, Any]:
        return tomllib.loads(self.engine.original_path.read_text(encoding="utf-8"))

    def _original_file(self, kind: str) -> Path | None:
        value = self._original_toml().get("inputs", {}).get(kind, "")
        if not value:
            return None
        p = Path(value)
        return p if p.is_absolute() else (self.engine.original_path.parent / p).resolve()

    def table(self, kind: str) -> pd.DataFrame:
        """The current rows of ``kind`` (the edited copy, else the scenario's own file)."""
        spec = KINDS[kind]
        src = self.path(kind) if self.path(kind).exists() else self._original_file(kind)
        if src is None or not src.exists():
            return pd.DataFrame(columns=list(spec.columns))
        df = read_table(src).fillna("")
        return df.astype(str)

    def describe(self) -> dict[str, Any]:
        out = []
        for info in self.kinds():
            rows = self.table(info["kind"]) if info["supported"] else pd.DataFrame()
            out.append({**info, "rows": rows.to_dict("records"), "edited": self.path(info["kind"]).exists(),
                        "file": str(self.path(info["kind"]))})
        return {"folder": str(self.folder), "scenario_file": str(self.engine.edits_path),
                "active": self.engine.edits_path.exists(),
                "replay": f"siting run --scenario {self.engine.edits_path}", "kinds": out}

    # ------------------------------------------------------------------ validation
    def _kind(self, kind: str) -> EditKind:
        if kind not in KINDS:
            raise UserError(f"unknown kind of correction {kind!r}", hint=f"one of: {', '.join(KINDS)}")
        if kind not in Inputs.__dataclass_fields__:
            raise UserError(f"this version of siting has no scenario key inputs.{kind}",
                            hint="update siting; the other corrections work")
        return KINDS[kind]

    def _place(self, ccpp_id: str):
        places = self.engine.start().places
        hit = places[places["ccpp_id"].astype(str) == ccpp_id]
        if not len(hit):
            raise DataError(f"ccpp_id {ccpp_id} is not a centro poblado of the study area",
                            hint="click the place on the map or search it by name")
        return hit.iloc[0]

    def _check_values(self, spec: EditKind, row: dict[str, str]) -> None:
        for col in spec.required:
            if col != spec.id_column and not row.get(col):  # an empty identifier is numbered
                raise DataError(f"column '{col}' is required", source=spec.key)
        for col, allowed in spec.choices:
            if row.get(col) and row[col] not in allowed:
                raise DataError(f"column '{col}' = {row[col]!r} is not one of {', '.join(allowed)}", source=spec.key)
        for col in set(spec.numeric) & set(row):
            if row[col]:
                try:
                    v = float(row[col])
                except ValueError:
                    raise DataError(f"column '{col}' = {row[col]!r} is not a number", source=spec.key) from None
                if col not in _COORDS and v < 0:
                    raise DataError(f"column '{col}' must be >= 0", source=spec.key)
        for col in spec.dates:
            if row.get(col):
                try:
                    dt.date.fromisoformat(row[col])
                except ValueError:
                    raise DataError(f"column '{col}' = {row[col]!r} is not a date YYYY-MM-DD",
                                    source=spec.key) from None
        if row.get("parent_cod_mod"):
            known = set(self.engine.start().base.cetpro["cod_mod"].astype(str))
            if not _CODMOD.match(row["parent_cod_mod"]) or row["parent_cod_mod"] not in known:
                raise DataError(f"parent_cod_mod {row['parent_cod_mod']!r} is not a CETPRO of the study area",
                                source=spec.key, hint="choose the parent CETPRO from the list")
        if spec.key == "additional_cetpro" and row.get("cod_mod") and not (
                _CODMOD.match(row["cod_mod"]) or registry_spec.PROVISIONAL_CODE.match(row["cod_mod"])):
            raise DataError(f"cod_mod {row['cod_mod']!r} must have 7 digits or be a provisional code like NEW-001",
                            source=spec.key)

    def _locate(self, spec: EditKind, row: dict[str, str]) -> None:
        """Check the place code; Tambos (Programa PAIS format) get the place's coordinates."""
        cc = row.get("ccpp_id", "")
        if cc:
            if not _CCPP.match(cc.zfill(10)):
                raise DataError(f"ccpp_id {cc!r} is not a 10-digit INEI code", source=spec.key)
            row["ccpp_id"] = cc.zfill(10)
            place = self._place(row["ccpp_id"])
            if spec.key == "tambos":
                row.update(LATITUD=f"{place.geometry.y:.6f}", LONGITUD=f"{place.geometry.x:.6f}",
                           UBIGEO=str(place["ubigeo"]))
                row.pop("ccpp_id")
        lon, lat = ("LONGITUD", "LATITUD") if spec.key == "tambos" else ("lon", "lat")
        if spec.located and not cc and not (row.get(lon) and row.get(lat)):
            raise DataError("give the centro poblado (ccpp_id) or both coordinates", source=spec.key)

    def normalise(self, kind: str, row: Any) -> dict[str, str]:
        """A validated row of ``kind`` (all values text, in the file's columns)."""
        spec = self._kind(kind)
        if not isinstance(row, dict):
            raise DataError("a correction is a JSON object of column: value", source=kind)
        allowed = set(spec.columns) | ({"ccpp_id"} if kind == "tambos" else set())
        unknown = sorted(set(row) - allowed)
        if unknown:
            raise DataError(f"unknown column {unknown[0]!r}", source=kind, hint=f"columns: {', '.join(spec.columns)}")
        out = {k: _text(v) for k, v in row.items()}
        if kind == "petitions" and not out.get("date"):
            out["date"] = dt.date.today().isoformat()
        self._locate(spec, out)
        self._check_values(spec, out)
        return out

    # ------------------------------------------------------------------ changes
    def put(self, kind: str, row: Any) -> dict[str, str]:
        """Add ``row``, or replace the row with the same identifier; reload; roll back on error."""
        with self._lock:
            new = self.normalise(kind, row)
            spec = KINDS[kind]
            table = self.table(kind)
            for col in new:
                if col not in table.columns:
                    table[col] = ""
            if not new.get(spec.id_column):
                new[spec.id_column] = self._next_id(spec, table)
            keep = table[table[spec.id_column].astype(str) != new[spec.id_column]] \
                if spec.id_column in table.columns else table
            table = pd.concat([keep, pd.DataFrame([new])], ignore_index=True).fillna("")
            self._commit(kind, table)
            return new

    def delete(self, kind: str, row_id: str) -> None:
        """Remove the row(s) with identifier ``row_id``; reload; roll back on error."""
        with self._lock:
            spec = self._kind(kind)
            table = self.table(kind)
            if spec.id_column not in table.columns or not (table[spec.id_column].astype(str) == row_id).any():
                raise KeyError(row_id)
            self._commit(kind, table[table[spec.id_column].astype(str) != row_id])

    def _next_id(self, spec: EditKind, table: pd.DataFrame) -> str:
        used = set(table[spec.id_column].astype(str)) if spec.id_column in table.columns else set()
        i = 1
        while f"{spec.id_prefix}{i:03d}" in used:
            i += 1
        return f"{spec.id_prefix}{i:03d}"

    def _commit(self, kind: str, table: pd.DataFrame) -> None:
        targets = [self.path(kind), self.engine.edits_path]
        before = {p: (p.read_bytes() if p.exists() else None) for p in targets}
        try:
            if len(table):
                with atomic_path(self.path(kind)) as tmp:
                    table.to_csv(tmp, index=False, encoding="utf-8")
            elif self.path(kind).exists():
                self.path(kind).unlink()
            self.write_scenario()
            self.engine.reload()
        except UserError:
            for p, content in before.items():
                if content is None:
                    p.unlink(missing_ok=True)
                else:
                    with atomic_path(p) as tmp:
                        tmp.write_bytes(content)
            self.engine.reload()
            raise

    def write_scenario(self) -> Path | None:
        """``<stem>_ediciones.toml``: the original scenario with the edited inputs (removed
        when no correction is left)."""
        path = self.engine.edits_path
        edited = {k: self.path(k) for k in KINDS if self.path(k).exists()}
        if not edited:
            path.unlink(missing_ok=True)
            return None
        data = self._original_toml()
        inputs = data.setdefault("inputs", {})
        for k, p in edited.items():
            inputs[k] = f"{self.folder.name}/{p.name}"
        run = data.setdefault("run", {})
        run["name"] = f"{run.get('name', 'siting')}-ediciones"
        if run.get("output_dir"):
            run["output_dir"] = f"{run['output_dir']}_ediciones"
        import tomli_w

        header = (f"# siting: scenario {self.engine.original_path.name} with the data corrections of "
                  f"{self.folder.name}/ (written by `siting app`; replay with `siting run --scenario {path.name}`).")
        text = header.replace("\n", " ") + "\n" + tomli_w.dumps(data)
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path
