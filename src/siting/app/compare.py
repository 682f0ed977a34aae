"""Named scenarios kept side by side: sites in common, coverage, women and youth reached,
and the coverage-versus-N curve of each.

A named scenario is a set of what-if overrides on top of the session's scenario; the
book is saved as ``escenarios.json`` in the session's ``<stem>_ediciones/`` folder so
it survives a restart (an export of any of them is a replayable run folder).
"""
from __future__ import annotations

import json
import threading
import unicodedata
from typing import Any

from ..errors import ScenarioError
from ..io import atomic_path
from .engine import Engine, WhatIf
from .views import clean

MAX_SCENARIOS = 12


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 60 or any(unicodedata.category(c).startswith("C") for c in name):
        raise ScenarioError("a scenario name has 1 to 60 printable characters")
    return name


def summary(wi: WhatIf) -> dict[str, Any]:
    """The figures compared across scenarios (all from the proposals and before/after tables)."""
    g = wi.sc.population.target_group
    ba = wi.before_after
    total = ba[ba["ugel"] == "total"].iloc[0] if "ugel" in ba.columns and (ba["ugel"] == "total").any() \
        else ba.iloc[-1]
    p = wi.proposals
    target_total = float(wi.places[f"pop_{g}"].sum())
    after = float(total.get(f"pop_{g}_within_after", float("nan")))
    return clean({
        "n_sites": int(len(p)), "objective": wi.solution["objective"], "solver": wi.solution["solver"],
        "gap": wi.solution["gap"], "threshold": wi.sc.allocation.max_minutes,
        "teacher_max_minutes": wi.sc.allocation.teacher_max_minutes, "target_group": g,
        "new_population": float(p["new_population"].sum()), "new_women": float(p["new_women"].sum()),
        "new_target": float(p["new_target"].sum()), "new_women_target": float(p["new_women_target"].sum()),
        "target_within_before": total.get(f"pop_{g}_within_before"), "target_within_after": after,
        "target_share_after": after / target_total if target_total else None,
        "sites": [str(c) for c in p["ccpp_id"]],
        "curve": [[int(n), float(c)] for n, c in zip(wi.curve["n_sites"], wi.curve["covered_target"])],
    })


class ScenarioBook:
    """Named what-ifs of a session (at most :data:`MAX_SCENARIOS`)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self.items: dict[str, dict[str, Any]] = {}
        path = self.path
        if path.exists():
            try:
                self.items = {str(k): dict(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
            except (ValueError, AttributeError):
                self.items = {}

    @property
    def path(self):
        return self.engine.edits_dir / "escenarios.json"

    def _save(self) -> None:
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.items, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")

    def put(self, name: str, overrides: dict[str, Any]) -> WhatIf:
        name = _check_name(name)
        wi = self.engine.what_if(overrides)  # validates (ScenarioError -> 422)
        with self._lock:
            if name not in self.items and len(self.items) >= MAX_SCENARIOS:
                raise ScenarioError(f"at most {MAX_SCENARIOS} named scenarios", hint="delete one first")
            self.items[name] = dict(wi.overrides)
            self._save()
        return wi

    def delete(self, name: str) -> None:
        with self._lock:
            del self.items[name]
            self._save()

    def compare(self, lang: str) -> dict[str, Any]:
        """Every named scenario's summary, the sites they share and the union of sites."""
        rows = []
        for name, overrides in list(self.items.items()):
            try:
                wi = self.engine.what_if(overrides)
            except ScenarioError as exc:  # e.g. a key the session's scenario no longer accepts
                rows.append({"name": name, "overrides": overrides, "error": str(exc)})
                continue
            rows.append({"name": name, "overrides": overrides, "id": wi.id, **summary(wi)})
        ok = [r for r in rows if "sites" in r]
        common = [[len(set(a["sites"]) & set(b["sites"])) for b in ok] for a in ok]
        sites: dict[str, dict[str, Any]] = {}
        names = self.engine.start().places.set_index("ccpp_id")["name"]
        for r in ok:
            for rank, cid in enumerate(r["sites"], start=1):
                sites.setdefault(cid, {"ccpp_id": cid, "name": clean(names.get(cid)), "ranks": {}})["ranks"][
                    r["name"]] = rank
        in_all = set.intersection(*(set(r["sites"]) for r in ok)) if ok else set()
        return {"scenarios": rows, "common": common, "names": [r["name"] for r in ok],
                "sites": sorted(sites.values(), key=lambda s: (-len(s["ranks"]), min(s["ranks"].values()))),
                "in_all": sorted(in_all)}
