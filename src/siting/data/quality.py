"""Data-quality report: every problem found in every input, with its row and reason.

Loaders call :meth:`QualityReport.add` for each flagged row and
:meth:`QualityReport.count` once per input (rows read / kept).  Nothing is dropped
silently: a row is either kept (possibly flagged) or dropped *with* an entry whose
``action`` is ``"dropped"``.

Study-level caveats (:meth:`QualityReport.note`) are bilingual: every call gives the
English text and its Spanish version (``es=``).  :attr:`QualityReport.notes` stays the
list of English texts (backward compatibility); :meth:`QualityReport.notes_in` returns
them in the language of an output (Spanish by default in every user-facing file).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..io import atomic_path

COLUMNS = ["input", "row_id", "problem", "detail", "action"]
LANGUAGES = ("es", "en")


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
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.problems, columns=COLUMNS)

    def summary(self) -> pd.DataFrame:
        """One row per input: rows read, kept, flagged (distinct rows with a problem), dropped."""
        probs = self.table()
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
        """The report as Markdown; headers are bilingual, the caveats are written in ``lang``."""
        notes = self.notes_in(lang)
        s = self.summary()
        lines = ["# Reporte de calidad de datos / Data-quality report", ""]
        if notes:
            lines += ["## Advertencias / Caveats", ""] + [f"- {n}" for n in notes] + [""]
        lines += ["## Resumen por insumo / Summary per input", "",
                  "| insumo | leídas | conservadas | marcadas | descartadas | problemas |",
                  "|---|---:|---:|---:|---:|---|"]
        for r in s.itertuples(index=False):
            lines.append(f"| {r.input} | {r.read} | {r.kept} | {r.flagged} | {r.dropped} | {r.problems} |")
        t = self.table()
        lines += ["", f"## Problemas / Problems ({len(t)})", ""]
        if len(t):
            lines += ["| insumo | fila | problema | detalle | acción |", "|---|---|---|---|---|"]
            for r in t.head(2000).itertuples(index=False):
                lines.append(f"| {r.input} | {r.row_id} | {r.problem} | {r.detail} | {r.action} |")
            if len(t) > 2000:
                lines.append(f"\n… {len(t) - 2000} more rows in quality_report.csv")
        return "\n".join(lines) + "\n"

    def write(self, folder: str | Path, *, lang: str = "es") -> dict[str, Path]:
        """Write ``quality_report.csv``, ``quality_summary.csv`` and ``quality_report.md`` (caveats in ``lang``)."""
        self.notes_in(lang)  # validate the language before writing anything
        folder = Path(folder)
        out = {"csv": folder / "quality_report.csv", "summary": folder / "quality_summary.csv",
               "md": folder / "quality_report.md"}
        with atomic_path(out["csv"]) as tmp:
            self.table().to_csv(tmp, index=False, encoding="utf-8-sig")
        with atomic_path(out["summary"]) as tmp:
            self.summary().to_csv(tmp, index=False, encoding="utf-8-sig")
        with atomic_path(out["md"]) as tmp:
            tmp.write_text(self.to_markdown(lang), encoding="utf-8")
        return out
