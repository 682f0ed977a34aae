"""Bilingual data-quality caveats: ``QualityReport.note(en, es=...)`` and ``notes_in(lang)``.

The unit tests use hand-written caveat texts (clearly test fixtures, not data); the
integration test loads the shipped 8-UGEL Cajamarca scenario (real data, ~20 s).
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

import siting
import siting.data
from siting.data.quality import QualityReport

ROOT = Path(__file__).resolve().parents[1]
DATA_PACKAGE = ROOT / "src" / "siting" / "data"
# Common English function words; none of them is a Spanish word, so a Spanish caveat
# containing one (surrounded by spaces) still has English text in it.
ENGLISH_MARKERS = (" the ", " are ", " have ", " has ", " is ", " and ", " with ", " only ", " of ", " by ")


def _fixture_report() -> QualityReport:
    """Test fixture: two invented caveats (not real data)."""
    q = QualityReport()
    q.note("FIXTURE: 3 places have no population.", es="FIXTURE: 3 centros poblados no tienen población.")
    q.note("FIXTURE: no road input.", es="FIXTURE: no hay insumo vial.")
    return q


def test_note_requires_spanish_keyword() -> None:
    q = QualityReport()
    with pytest.raises(TypeError):
        q.note("FIXTURE: English only.")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        q.note("FIXTURE: positional Spanish.", "FIXTURE: español posicional.")  # type: ignore[misc]
    with pytest.raises(TypeError):
        q.note("FIXTURE: empty Spanish.", es="  ")
    assert q.notes == [] and q.notes_in("es") == []


def test_notes_in_languages_order_and_duplicates() -> None:
    q = _fixture_report()
    # a repeated English caveat is ignored, even with another Spanish wording
    q.note("FIXTURE: no road input.", es="FIXTURE: otra redacción.")
    assert q.notes == ["FIXTURE: 3 places have no population.", "FIXTURE: no road input."]
    assert q.notes_in("en") == q.notes
    assert q.notes_in("es") == ["FIXTURE: 3 centros poblados no tienen población.", "FIXTURE: no hay insumo vial."]
    # notes_in returns a copy: editing it does not change the report
    q.notes_in("en").append("x")
    assert len(q.notes) == 2
    for bad in ("fr", "ES", "", "spanish"):
        with pytest.raises(ValueError):
            q.notes_in(bad)


def test_caveat_appended_directly_to_notes_is_kept_in_english() -> None:
    """Backward compatibility: code that appends to ``.notes`` still sees its caveat in every language."""
    q = _fixture_report()
    q.notes.append("FIXTURE: legacy caveat.")
    assert q.notes_in("es")[-1] == "FIXTURE: legacy caveat."
    assert len(q.notes_in("es")) == len(q.notes_in("en")) == 3


def test_markdown_and_write_use_the_language(tmp_path: Path) -> None:
    q = _fixture_report()
    md_es, md_en = q.to_markdown(), q.to_markdown("en")
    assert "- FIXTURE: no hay insumo vial." in md_es and "no road input" not in md_es
    assert "- FIXTURE: no road input." in md_en and "insumo vial" not in md_en
    for md in (md_es, md_en):  # the headers stay bilingual
        assert "## Advertencias / Caveats" in md
    with pytest.raises(ValueError):
        q.to_markdown("de")
    es_dir, en_dir = tmp_path / "es", tmp_path / "en"
    es_dir.mkdir()
    en_dir.mkdir()
    assert q.write(es_dir)["md"].read_text(encoding="utf-8") == md_es  # Spanish by default
    assert q.write(en_dir, lang="en")["md"].read_text(encoding="utf-8") == md_en
    with pytest.raises(ValueError):
        q.write(tmp_path, lang="pt")
    assert not (tmp_path / "quality_report.md").exists()  # nothing written for a bad language


def test_every_note_call_in_the_data_package_gives_spanish() -> None:
    """Static check over the source, so caveats not triggered by the shipped scenario are covered too.

    A caveat is either a direct ``quality.note(en, es=...)`` call or a ``_note(quality, key)``
    of the bilingual catalogue :data:`siting.i18n.MESSAGES` (whose keys must exist)."""
    from siting import i18n
    calls, keys = [], []
    for path in sorted(DATA_PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "note":
                calls.append((path.name, node.lineno, {k.arg for k in node.keywords}))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_note":
                keys.append((path.name, node.lineno, node.args[1].value))
    assert len(calls) + len(keys) >= 20  # the loaders' caveats (missing inputs, approximations)
    assert not [k for k in keys if k[2] not in i18n.MESSAGES], "unknown catalogue keys"
    assert all(en.strip() and es.strip() and en != es for en, es in i18n.MESSAGES.values())
    missing = [(name, line) for name, line, kw in calls if "es" not in kw]
    assert not missing, f"note() calls without a Spanish text: {missing}"


@pytest.fixture(scope="module")
def cajamarca_quality() -> QualityReport:
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml")
    return siting.data.load_data(sc, progress=False).quality


def _numbers(text: str) -> Counter:
    return Counter(re.findall(r"\d+(?:[.,]\d+)*", text))


def test_shipped_scenario_notes_are_spanish(cajamarca_quality: QualityReport) -> None:
    q = cajamarca_quality
    es, en = q.notes_in("es"), q.notes_in("en")
    assert en == q.notes and len(en) >= 8
    assert len(es) == len(en)
    for s, e in zip(es, en):
        assert s != e
        padded = f" {s.lower()} "
        found = [w for w in ENGLISH_MARKERS if w in padded]
        assert not found, f"English words {found} in Spanish caveat: {s}"
        # faithful translation: the same figures (counts, km, years, codes) in both languages
        assert _numbers(s) == _numbers(e), (s, e)
    # known caveats of the shipped data, in Spanish
    joined = " ".join(es)
    assert "UGEL SAN MIGUEL" in joined and "no tienen ningún CETPRO" in joined and "UGEL SAN PABLO" in joined
    assert "red vial vecinal" in joined and "empalme" in joined
    assert "modelo digital de elevación" in joined and "922 m" in joined
    assert "centros poblados no tienen población censal" in joined
    # the markdown report (Spanish by default) carries the Spanish caveats only
    md = q.to_markdown()
    assert all(f"- {s}" in md for s in es) and not any(e in md for e in en)
