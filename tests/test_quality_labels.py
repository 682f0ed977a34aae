"""Spanish labels of the data-quality problems and actions (``PROBLEM_ES``, ``ACTION_ES``).

The loaders record stable English problem codes; the Spanish outputs translate them.
- a static scan of ``src/siting`` resolves every problem code passed to
  ``QualityReport.add`` / ``add_many`` (literals and f-strings, whose placeholders are
  resolved from module constants, parameter defaults and the literal arguments at every
  call site) and requires a Spanish entry for each, so a new problem without a
  translation fails here;
- unit tests use a hand-written report (clearly a test fixture, not data);
- the integration test loads the shipped 8-UGEL Cajamarca scenario (real data, ~15 s).
"""
from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pandas as pd
import pytest

import siting
import siting.data
from siting.data.quality import (
    ACTION_ES,
    COLUMNS,
    PROBLEM_ES,
    QualityReport,
    action_label,
    problem_label,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "siting"


# ---------------------------------------------------------------- source scan
def _modules() -> dict[Path, ast.Module]:
    """Every module of the package except quality.py itself (add_many forwards its argument to add)."""
    return {p: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in sorted(SRC.rglob("*.py"))
            if p != SRC / "data" / "quality.py"}


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _problem_arg(call: ast.Call) -> ast.expr | None:
    """The ``problem`` argument of a ``.add(input, row, problem, ...)`` / ``.add_many(...)`` call."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr in ("add", "add_many")):
        return None
    if len(call.args) >= 3:
        return call.args[2]
    return next((k.value for k in call.keywords if k.arg == "problem"), None)  # set.add(x) etc.: None


def _called_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _parameter_values(func: ast.FunctionDef, name: str, modules: dict[Path, ast.Module]) -> set[object]:
    """Every value parameter ``name`` of ``func`` takes: its default and the literals at each call site."""
    params = func.args.posonlyargs + func.args.args
    kwonly = func.args.kwonlyargs
    values: set[object] = set()
    position = next((i for i, a in enumerate(params) if a.arg == name), None)
    defaults = dict(zip([a.arg for a in params][len(params) - len(func.args.defaults):], func.args.defaults))
    defaults.update({a.arg: d for a, d in zip(kwonly, func.args.kw_defaults) if d is not None})
    if name in defaults:
        values.add(ast.literal_eval(defaults[name]))
    for tree in modules.values():
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and _called_name(call) == func.name):
                continue
            arg = next((k.value for k in call.keywords if k.arg == name), None)
            if arg is None and position is not None and position < len(call.args):
                arg = call.args[position]
            if arg is None:
                assert name in defaults, f"{func.name}() called without {name} and it has no default"
                continue
            assert isinstance(arg, ast.Constant), (
                f"{func.name}(..., {name}=<not a literal>) at line {call.lineno}: the problem code it builds "
                "cannot be checked for a Spanish label; pass a literal")
            values.add(arg.value)
    return values


def _resolve(node: ast.expr, path: Path, tree: ast.Module, parents: dict, modules: dict) -> set[str]:
    """All concrete problem codes the expression ``node`` can produce."""
    where = f"{path.relative_to(ROOT)}:{node.lineno}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    assert isinstance(node, ast.JoinedStr), f"{where}: the problem code must be a literal or an f-string"
    func = node
    while func is not None and not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        func = parents.get(func)
    constants = {t.id: ast.literal_eval(a.value) for a in tree.body if isinstance(a, ast.Assign)
                 for t in a.targets if isinstance(t, ast.Name) and isinstance(a.value, ast.Constant)}
    parts: list[list[str]] = []
    for piece in node.values:
        if isinstance(piece, ast.Constant):
            parts.append([piece.value])
            continue
        assert isinstance(piece, ast.FormattedValue) and isinstance(piece.value, ast.Name), \
            f"{where}: only names can be placeholders of a problem code"
        name = piece.value.id
        spec = "" if piece.format_spec is None else "".join(
            v.value for v in piece.format_spec.values if isinstance(v, ast.Constant))
        arg_names = set() if func is None else {a.arg for a in func.args.posonlyargs + func.args.args
                                                + func.args.kwonlyargs}
        if name in arg_names:
            values = _parameter_values(func, name, modules)
        elif name in constants:
            values = {constants[name]}
        else:
            raise AssertionError(f"{where}: cannot resolve placeholder {{{name}}} of a problem code")
        parts.append(sorted(format(v, spec) for v in values))
    return {"".join(combo) for combo in itertools.product(*parts)}


@pytest.fixture(scope="module")
def source_problem_codes() -> dict[str, str]:
    """Every problem code used in ``src/siting`` -> the first place it is used."""
    modules = _modules()
    codes: dict[str, str] = {}
    n_calls = 0
    for path, tree in modules.items():
        parents = _parents(tree)
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and (arg := _problem_arg(call)) is not None:
                n_calls += 1
                for code in _resolve(arg, path, tree, parents, modules):
                    codes.setdefault(code, f"{path.relative_to(ROOT)}:{call.lineno}")
    assert n_calls >= 40, f"only {n_calls} add()/add_many() calls found: is the scan broken?"
    return codes


def test_every_problem_in_the_source_has_a_spanish_label(source_problem_codes: dict[str, str]) -> None:
    missing = {c: where for c, where in source_problem_codes.items() if c not in PROBLEM_ES}
    assert not missing, f"problem codes without a Spanish entry in PROBLEM_ES: {missing}"
    # the f-string codes are resolved to their concrete values, e.g. facilities' _drop_duplicates keys
    for code in ("duplicate cod_mod", "duplicate facility_id", "duplicate tambo_code", "duplicate codlocal",
                 "more than 10 km from the national list", "outside the department"):
        assert code in source_problem_codes


def test_no_stale_or_ambiguous_entries(source_problem_codes: dict[str, str]) -> None:
    stale = set(PROBLEM_ES) - set(source_problem_codes)
    assert not stale, f"PROBLEM_ES entries no loader produces any more: {stale}"
    labels = list(PROBLEM_ES.values())
    assert len(set(labels)) == len(labels), "two problems share a Spanish label"
    assert all(es != en and es.strip() == es and es for en, es in PROBLEM_ES.items())
    assert set(ACTION_ES) == {"kept", "dropped", "estimated", "fixed"}
    assert len(set(ACTION_ES.values())) == 4


def test_every_action_in_the_source_is_known() -> None:
    actions = set()
    for tree in _modules().values():
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and _problem_arg(call) is not None:
                for k in call.keywords:
                    if k.arg == "action":
                        assert isinstance(k.value, ast.Constant), "action must be a literal"
                        actions.add(k.value.value)
    assert actions and actions <= set(ACTION_ES), actions - set(ACTION_ES)


# ---------------------------------------------------------------- unit tests (fixture report)
def _fixture_report() -> QualityReport:
    """Test fixture: invented rows (not real data), one of them with an untranslated problem."""
    q = QualityReport()
    q.count("FIXTURE_ccpp", read=5, kept=4)
    q.add_many("FIXTURE_ccpp", ["0601010001", "0601010002"], "missing population", ["a", "b"], action="estimated")
    q.add("FIXTURE_ccpp", "0601010003", "duplicate ccpp_id", "first row kept", action="dropped")
    q.add("FIXTURE_ccpp", "0601010004", "FIXTURE problem without translation")
    q.add("FIXTURE_cetpro", "1234567", "duplicate some_new_key", action="dropped")
    q.add("FIXTURE_cetpro", "1234568", "more than 2.5 km from the national list", action="fixed")
    return q


def test_labels_functions() -> None:
    assert problem_label("zero enrolment") == "matrícula igual a cero"
    assert problem_label("zero enrolment", "en") == problem_label("zero enrolment", None) == "zero enrolment"
    assert problem_label("duplicate some_new_key") == "some_new_key duplicado"
    assert problem_label("more than 2.5 km from the national list") == \
        "a más de 2.5 km de su ubicación en el listado nacional"
    assert problem_label("FIXTURE unknown") == "FIXTURE unknown"  # never an error
    assert action_label("dropped") == "descartado" and action_label("dropped", "en") == "dropped"
    assert action_label("FIXTURE other") == "FIXTURE other"
    with pytest.raises(ValueError):
        problem_label("zero enrolment", "fr")


def test_table_and_summary_languages() -> None:
    q = _fixture_report()
    en, default, es = q.table("en"), q.table(), q.table("es")
    pd.testing.assert_frame_equal(en, default)
    assert list(es.columns) == list(en.columns) == COLUMNS
    assert list(en["problem"]) == [p["problem"] for p in q.problems]
    assert list(es["problem"]) == ["sin dato de población censal", "sin dato de población censal",
                                   "código de centro poblado (ccpp_id) duplicado",
                                   "FIXTURE problem without translation", "some_new_key duplicado",
                                   "a más de 2.5 km de su ubicación en el listado nacional"]
    assert list(es["action"]) == ["estimado", "estimado", "descartado", "conservado", "descartado", "corregido"]
    assert (es[["input", "row_id", "detail"]] == en[["input", "row_id", "detail"]]).all().all()
    # the stored rows are not modified by a translated view
    assert q.problems[0]["problem"] == "missing population" and q.problems[0]["action"] == "estimated"

    s_en, s_es = q.summary(), q.summary("es")
    pd.testing.assert_frame_equal(s_en, q.summary("en"))
    assert list(s_es.columns) == list(s_en.columns)
    num = ["input", "read", "kept", "flagged", "dropped"]
    pd.testing.assert_frame_equal(s_es[num], s_en[num])  # counts do not depend on the language
    ccpp_en, ccpp_es = (s.set_index("input").loc["FIXTURE_ccpp"] for s in (s_en, s_es))
    assert ccpp_en["flagged"] == 3 and ccpp_en["dropped"] == 1
    assert "missing population (2)" in ccpp_en["problems"]
    assert "sin dato de población censal (2)" in ccpp_es["problems"]
    assert "missing population" not in ccpp_es["problems"]
    for bad in ("ES", "fr"):
        with pytest.raises(ValueError):
            q.table(bad)
        with pytest.raises(ValueError):
            q.summary(bad)


def test_markdown_and_csv_in_each_language(tmp_path: Path) -> None:
    q = _fixture_report()
    md_es, md_en = q.to_markdown("es"), q.to_markdown("en")
    assert "| FIXTURE_ccpp | 0601010003 | código de centro poblado (ccpp_id) duplicado | first row kept | descartado |" \
        in md_es
    assert "| FIXTURE_ccpp | 0601010003 | duplicate ccpp_id | first row kept | dropped |" in md_en
    assert "missing population" not in md_es and "sin dato de población" not in md_en
    paths = q.write(tmp_path)  # Spanish by default
    csv = pd.read_csv(paths["csv"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(csv.columns) == COLUMNS
    assert csv["action"].tolist()[:3] == ["estimado", "estimado", "descartado"]


# ---------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def cajamarca_quality() -> QualityReport:
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml")
    return siting.data.load_data(sc, progress=False).quality


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_shipped_scenario_report_in_spanish_and_english(cajamarca_quality: QualityReport, tmp_path: Path) -> None:
    q = cajamarca_quality
    es_dir, en_dir = tmp_path / "es", tmp_path / "en"
    es_dir.mkdir()
    en_dir.mkdir()
    es = _read(q.write(es_dir, lang="es")["csv"])
    en = _read(q.write(en_dir, lang="en")["csv"])
    assert len(es) == len(en) == len(q.problems) > 100
    assert list(es.columns) == list(en.columns) == COLUMNS
    # Spanish: every problem and action is a Spanish label, none left in English
    assert set(es["problem"]) <= set(PROBLEM_ES.values()), set(es["problem"]) - set(PROBLEM_ES.values())
    assert set(es["action"]) <= set(ACTION_ES.values())
    # English: the stable codes, unchanged, and the Spanish file is their row-by-row translation
    assert set(en["problem"]) <= set(PROBLEM_ES), set(en["problem"]) - set(PROBLEM_ES)
    assert set(en["action"]) <= set(ACTION_ES)
    assert en["problem"].map(PROBLEM_ES).tolist() == es["problem"].tolist()
    assert en["action"].map(ACTION_ES).tolist() == es["action"].tolist()
    assert en[["input", "row_id", "detail"]].equals(es[["input", "row_id", "detail"]])
    # several kinds of problem of the real data are present (the test is not vacuous)
    assert len(set(en["problem"])) >= 5
    # summary CSV and Markdown carry the Spanish labels only
    s_es = _read(es_dir / "quality_summary.csv")
    s_en = _read(en_dir / "quality_summary.csv")
    assert list(s_es.columns) == list(s_en.columns)
    joined_es, joined_en = " ".join(s_es["problems"]), " ".join(s_en["problems"])
    md_es = (es_dir / "quality_report.md").read_text(encoding="utf-8")
    for code in set(en["problem"]):
        assert f"{code} (" in joined_en and f"{PROBLEM_ES[code]} (" in joined_es
        assert f"{code} (" not in joined_es
        assert f"| {code} |" not in md_es
    for code in set(en["problem"].head(2000)):  # the Markdown lists the first 2000 rows
        assert f"| {PROBLEM_ES[code]} |" in md_es
