"""Data-quality report: every problem found in every input, with its row and reason.

Loaders call :meth:`QualityReport.add` for each flagged row and
:meth:`QualityReport.count` once per input (rows read / kept).  Nothing is dropped
silently: a row is either kept (possibly flagged) or dropped *with* an entry whose
``action`` is ``"dropped"``.

Study-level caveats (:meth:`QualityReport.note`) are bilingual: every call gives the
English text and its Spanish version (``es=``).  :attr:`QualityReport.notes` stays the
list of English texts (backward compatibility); :meth:`QualityReport.notes_in` returns
them in the language of an output (Spanish by default in every user-facing file).

Per-row problems and actions are recorded with stable English codes (``problem="zero
enrolment"``, ``action="kept"``); :data:`PROBLEM_ES` and :data:`ACTION_ES` give their Spanish
labels, applied by :meth:`QualityReport.table` / :meth:`QualityReport.summary` with
``lang="es"`` and therefore in every Spanish output (CSV, Markdown, ``siting data check``).
A problem text without a Spanish entry is written in English (never an error at run time);
``tests/test_quality_labels.py`` scans the source so that every problem has one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..i18n import LANGUAGES
from ..io import atomic_path, spreadsheet_safe_frame

COLUMNS = ["input", "row_id", "problem", "detail", "action"]

# English problem code (as passed to QualityReport.add / add_many) -> Spanish label.
PROBLEM_ES: dict[str, str] = {
    # centros poblados (data/population.py)
    "missing population": "sin dato de población censal",
    "district not in the projection table": "distrito ausente en la tabla de proyección de población",
    "no place of an area class with projected population":
        "ningún centro poblado del área (urbana/rural) con población proyectada",
    "invalid ccpp_id": "código de centro poblado (ccpp_id) inválido",
    "duplicate ccpp_id": "código de centro poblado (ccpp_id) duplicado",
    "UBIGEO differs from the code's first 6 digits": "UBIGEO distinto de los 6 primeros dígitos del código",
    "district code not in the boundary file": "código de distrito ausente en el archivo de límites",
    "point in another district than its code": "punto ubicado en un distrito distinto al de su código",
    "population not a finite number": "población no es un número válido",
    "zero population": "población censal igual a cero",
    "not in the national CCPP code list": "ausente en el listado nacional de centros poblados",
    "in the national list but not in the CCPP file":
        "figura en el listado nacional pero no en el archivo de centros poblados",
    "name differs from the national list": "nombre distinto al del listado nacional",
    "more than 10 km from the national list": "a más de 10 km de su ubicación en el listado nacional",
    "district not in the age x sex table": "distrito ausente en la tabla de edad y sexo",
    # límites y coordenadas (data/boundaries.py)
    "invalid polygon": "polígono inválido",
    "duplicate ubigeo": "ubigeo duplicado",
    "missing coordinates": "sin coordenadas",
    "latitude and longitude swapped": "latitud y longitud intercambiadas",
    "outside Peru": "fuera del territorio del Perú",
    "outside the department": "fuera del departamento",
    # red vial (data/roads.py)
    "not a line geometry": "la geometría no es una línea",
    "empty geometry": "geometría vacía",
    "unknown surface value": "tipo de superficie de rodadura no reconocido",
    "line of length 0": "línea de longitud 0",
    "route node without route code, POSICION or point": "nodo de ruta sin código de ruta, POSICION o punto",
    "repeated route node": "nodo de ruta repetido",
    "repeated POSICION": "POSICION repetida",
    "junction name not understood": "nombre de empalme no reconocido",
    "route with a single node": "ruta con un solo nodo",
    "national route with a single junction": "ruta nacional con un solo empalme",
    "junction far from its route": "empalme alejado de su ruta",
    "towns snapped onto the national route": "centros poblados ajustados sobre la ruta nacional",
    "junction with a route not in the data": "empalme con una ruta que no figura en los datos",
    "disconnected road component": "tramo de la red vial desconectado del resto",
    # locales educativos, tambos (data/facilities.py)
    "duplicate cod_mod": "código modular duplicado",
    "duplicate facility_id": "código de local (facility_id) duplicado",
    "duplicate tambo_code": "código de tambo duplicado",
    "duplicate codlocal": "código de local (codlocal) duplicado",
    "zero enrolment": "matrícula igual a cero",
    "point in another district than the base says": "punto ubicado en un distrito distinto al que indica el padrón",
    "UGEL differs from the district's UGEL": "UGEL distinta de la UGEL del distrito",
    "located at its centro poblado": "ubicado en las coordenadas de su centro poblado",
    "parent CETPRO not in the CETPRO list": "CETPRO sede ausente en la lista de CETPRO",
    # registro de la DRE/UGEL (data/registry*.py)
    "missing required value": "falta un dato obligatorio",
    "invalid cod_mod": "código modular inválido",
    "not a number": "no es un número",
    "negative number": "número negativo",
    "invalid date": "fecha inválida (se espera AAAA-MM-DD)",
    "invalid period": "periodo inválido (se espera AAAA o AAAA-MM)",
    "value not in the list": "valor fuera de la lista permitida",
    "specialty not in the template list": "especialidad fuera de la lista del formato",
    "example row": "fila de ejemplo del formato",
    "duplicate code": "código repetido en el archivo",
    "no location": "sin ubicación (ni código de centro poblado ni coordenadas)",
    "unknown ccpp_id": "código de centro poblado que no existe en el departamento",
    "provisional code": "código provisional asignado",
    "enrolment unknown": "matrícula desconocida",
    "teachers unknown": "número de docentes desconocido",
    "already in the school base": "ya figura en el padrón de instituciones educativas",
    "counts larger than the enrolment": "cifras mayores que la matrícula",
    "total differs from the sum of the groups": "el total difiere de la suma por sexo y edad",
    "duplicate centre and period": "centro y periodo repetidos",
    "unknown centre_id": "código de centro que no figura en los datos",
    # rainy-season closures (data/closures.py)
    "road_id not in the roads of the study area": "road_id que no es una vía del área de estudio",
}

# Problem codes built with an f-string whose value is not in PROBLEM_ES (another
# threshold, key or area): regular expression -> Spanish template (groups by number).
PROBLEM_PATTERNS_ES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"more than (\S+) km from the national list"),
     "a más de {0} km de su ubicación en el listado nacional"),
    (re.compile(r"duplicate (\S+)"), "{0} duplicado"),
)

ACTION_ES: dict[str, str] = {"kept": "conservado", "dropped": "descartado", "estimated": "estimado",
                             "fixed": "corregido"}


_MD_SPECIAL = re.compile(r"([\\`*\[\]|~$])")
_MD_BLOCK_START = re.compile(r"^(\s*)([-+=#]|\d+(?=[.)]))")


def md_text(value: object) -> str:
    """``value`` as inert Markdown text (for a paragraph, list item or table cell).

    Raw HTML is neutralised by writing ``&``, ``<`` and ``>`` as entities (rendered back
    as the same characters), the Markdown punctuation that builds links, images, code,
    emphasis, strike-through, math or table cells (``\\ ` * [ ] | ~ $``, and a leading
    ``-``, ``+``, ``=``, ``#`` or ``1.``) is backslash-escaped so it shows as typed, and line
    breaks become spaces so one value stays in its cell.  Codes such as ``ccpp_id`` and
    ``(2.5 km)`` stay as they are (an underscore inside a word is not emphasis).
    """
    text = "" if value is None else str(value)
    text = re.sub(r"[\r\n\u2028\u2029]+", " ", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)  # emphasis, not intraword codes
    m = _MD_BLOCK_START.match(text)
    if m and m.group(2)[0].isdigit():
        i = m.end()
        return text[:i] + "\\" + text[i:]
    return _MD_BLOCK_START.sub(lambda mt: mt.group(1) + "\\" + mt.group(2), text, count=1)


def _check_lang(lang: str | None) -> None:
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")


def problem_label(problem: str, lang: str | None = "es") -> str:
    """The text of a problem code in ``lang``; an unknown code is returned unchanged (English)."""
    _check_lang(lang)
    if lang != "es":
        return problem
    if problem in PROBLEM_ES:
        return PROBLEM_ES[problem]
    for pattern, template in PROBLEM_PATTERNS_ES:
        m = pattern.fullmatch(problem)
        if m:
            return template.format(*m.groups())
    return problem


def action_label(action: str, lang: str | None = "es") -> str:
    """The text of an action (``kept``, ``dropped``, ``estimated``, ``fixed``) in ``lang``."""
    _check_lang(lang)
    return ACTION_ES.get(action, action) if lang == "es" else action


@dataclass
class QualityReport:
    """Accumulates problems (one row each) and per-input row counts."""

    problems: list[dict] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # study-level caveats in English (missing inputs, approximations)
    notes_es: dict[str, str] = field(default_factory=dict)  # English caveat -> its Spanish version

    def add(self, input_name: str, row_id: object, problem: str, detail: str = "", action: str = "kept") -> None:
        """Record one problem.  ``action`` is ``"kept"``, ``"dropped"``, ``"estimated"`` or ``"fixed"``."""
        self.problems.append({"input": input_name, "row_id": str(row_id), "problem": problem,
                              "detail": detail, "action": action})

    def add_many(self, input_name: str, row_ids, problem: str, details=None, action: str = "kept") -> None:
        """Vectorised :meth:`add` for many rows with the same problem."""
        row_ids = list(row_ids)
        details = [""] * len(row_ids) if details is None else list(details)
        for rid, det in zip(row_ids, details):
            self.add(input_name, rid, problem, str(det), action)

    def count(self, input_name: str, *, read: int, kept: int) -> None:
        """Record how many rows an input had and how many the loader kept."""
        self.counts[input_name] = {"read": int(read), "kept": int(kept)}

    def note(self, en: str, *, es: str) -> None:
        """A study-level caveat that every dependent output must repeat, in English and Spanish.

        Both texts are required; a caveat whose English text was already noted is ignored.
        """
        if not isinstance(en, str) or not isinstance(es, str) or not en.strip() or not es.strip():
            raise TypeError("QualityReport.note(en, *, es=...) needs a non-empty English and Spanish text")
        if en not in self.notes:
            self.notes.append(en)
            self.notes_es[en] = es

    def notes_in(self, lang: str) -> list[str]:
        """The caveats in ``lang`` (``"es"`` or ``"en"``), in the order they were noted.

        A caveat appended directly to :attr:`notes` (without a Spanish version) is
        returned in English in both languages rather than lost.
        """
        if lang not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        if lang == "en":
            return list(self.notes)
        return [self.notes_es.get(n, n) for n in self.notes]

    # ------------------------------------------------------------------ views
    def table(self, lang: str | None = None) -> pd.DataFrame:
        """One row per problem (columns :data:`COLUMNS`).

        With ``lang="es"`` the ``problem`` and ``action`` values are the Spanish labels
        (:func:`problem_label`, :func:`action_label`); with ``"en"`` or ``None`` the English codes.
        """
        _check_lang(lang)
        t = pd.DataFrame(self.problems, columns=COLUMNS)
        if lang == "es" and len(t):
            t["problem"] = [problem_label(p, "es") for p in t["problem"]]
            t["action"] = [action_label(a, "es") for a in t["action"]]
        return t

    def summary(self, lang: str | None = None) -> pd.DataFrame:
        """One row per input: rows read, kept, flagged (distinct rows with a problem), dropped.

        ``problems`` lists each problem with its number of rows, in ``lang`` (see :meth:`table`).
        """
        _check_lang(lang)
        probs = self.table()
        if lang == "es" and len(probs):
            probs["problem"] = [problem_label(p, "es") for p in probs["problem"]]
        rows = []
        for name in sorted(set(self.counts) | set(probs["input"])):
            p = probs[probs["input"] == name]
            c = self.counts.get(name, {"read": 0, "kept": 0})
            rows.append({"input": name, "read": c["read"], "kept": c["kept"],
                         "flagged": p.loc[p["action"] != "dropped", "row_id"].nunique(),
                         "dropped": c["read"] - c["kept"],
                         "problems": ", ".join(f"{k} ({v})" for k, v in p["problem"].value_counts().items())})
        return pd.DataFrame(rows, columns=["input", "read", "kept", "flagged", "dropped", "problems"])

    def to_markdown(self, lang: str = "es") -> str:
        """The report as Markdown; headers are bilingual, caveats, problems and actions are in ``lang``."""
        notes = self.notes_in(lang)
        s = self.summary(lang)
        lines = ["# Reporte de calidad de datos / Data-quality report", ""]
        if notes:
            lines += ["## Advertencias / Caveats", ""] + [f"- {md_text(n)}" for n in notes] + [""]
        lines += ["## Resumen por insumo / Summary per input", "",
                  "| insumo | leídas | conservadas | marcadas | descartadas | problemas |",
                  "|---|---:|---:|---:|---:|---|"]
        for r in s.itertuples(index=False):
            lines.append(f"| {md_text(r.input)} | {r.read} | {r.kept} | {r.flagged} | {r.dropped} "
                         f"| {md_text(r.problems)} |")
        t = self.table(lang)
        lines += ["", f"## Problemas / Problems ({len(t)})", ""]
        if len(t):
            lines += ["| insumo | fila | problema | detalle | acción |", "|---|---|---|---|---|"]
            for r in t.head(2000).itertuples(index=False):
                cells = (r.input, r.row_id, r.problem, r.detail, r.action)
                lines.append("| " + " | ".join(md_text(c) for c in cells) + " |")
            if len(t) > 2000:
                lines.append(f"\n… {len(t) - 2000} more rows in quality_report.csv")
        return "\n".join(lines) + "\n"

    def write(self, folder: str | Path, *, lang: str = "es") -> dict[str, Path]:
        """Write ``quality_report.csv``, ``quality_summary.csv`` and ``quality_report.md`` in ``lang``.

        Caveats, problem and action values are in ``lang``; the CSV column names stay English.
        """
        self.notes_in(lang)  # validate the language before writing anything
        folder = Path(folder)
        out = {"csv": folder / "quality_report.csv", "summary": folder / "quality_summary.csv",
               "md": folder / "quality_report.md"}
        with atomic_path(out["csv"]) as tmp:
            spreadsheet_safe_frame(self.table(lang)).to_csv(tmp, index=False, encoding="utf-8-sig")
        with atomic_path(out["summary"]) as tmp:
            spreadsheet_safe_frame(self.summary(lang)).to_csv(tmp, index=False, encoding="utf-8-sig")
        with atomic_path(out["md"]) as tmp:
            tmp.write_text(self.to_markdown(lang), encoding="utf-8")
        return out
