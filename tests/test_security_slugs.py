"""Issue #21, collisions: two UGELs whose file-name slugs collide get one report and one set
of print maps each (never one silently overwriting the other).  Real places of UGEL San
Marcos, split by district into two groups named ``UGEL CELENDÍN`` and ``UGEL CELENDIN``
(FIXTURE names: the two spellings slug to the same ``ugel_celendin``)."""
from __future__ import annotations

import hashlib
import re

import numpy as np

from siting.access import place_table
from siting.report import html_report, static_maps


def test_unique_slugs_by_hand():
    names = ["UGEL CELENDÍN", "UGEL CELENDIN", "UGEL CAJAMARCA", "Región"]
    slugs = static_maps.unique_slugs(names)
    assert slugs["UGEL CAJAMARCA"] == "ugel_cajamarca"  # no collision: the plain slug
    code = hashlib.sha1("UGEL CELENDÍN".encode()).hexdigest()[:8]
    assert slugs["UGEL CELENDÍN"] == f"ugel_celendin_{code}"
    assert slugs["UGEL CELENDIN"].startswith("ugel_celendin_") and slugs["UGEL CELENDIN"] != slugs["UGEL CELENDÍN"]
    assert slugs["Región"].startswith("region_")  # "region" names the regional maps
    assert static_maps.unique_slugs(reversed(names)) == slugs  # independent of the order
    assert len(set(slugs.values())) == len(names)


def _number(value: float) -> str:
    """A regular expression for a whole number with any thousands separator (``41,022``, ``41 022``)."""
    return r"\b" + f"{value:,.0f}".replace(",", r"\D?") + r"\b"


def _two_colliding_ugels(san_marcos):
    places = place_table(san_marcos.gaps, san_marcos.sc).copy()
    districts = san_marcos.data.districts.copy()
    first = sorted(districts["district"])[: len(districts) // 2]
    names = np.where(districts["district"].isin(first), "UGEL CELENDÍN", "UGEL CELENDIN")
    districts["ugel"] = names
    places["ugel"] = places["district"].map(dict(zip(districts["district"], names)))
    return places, districts


def test_colliding_ugels_get_a_report_each(san_marcos, tmp_path):
    places, _ = _two_colliding_ugels(san_marcos)
    written = html_report.write_reports(tmp_path, places=places, lang="es")
    pages = {u: p for u, p in written.items() if u != "region"}
    assert set(pages) == {"UGEL CELENDÍN", "UGEL CELENDIN"}
    assert len({p.name for p in pages.values()}) == 2  # two files, not one overwritten
    for ugel, path in pages.items():
        text = path.read_text(encoding="utf-8")
        own = places.loc[places["ugel"] == ugel, "population"].sum()
        other = places.loc[places["ugel"] != ugel, "population"].sum()
        assert ugel in text and re.search(_number(own), text)  # its own population card
        assert not re.search(_number(other), text)  # not the other one's
    region = written["region"].read_text(encoding="utf-8")
    assert all(p.name in region for p in pages.values())  # the region page links both


def test_colliding_ugels_get_their_own_print_maps(san_marcos, tmp_path):
    places, districts = _two_colliding_ugels(san_marcos)
    maps = static_maps.write_static_maps(tmp_path, places=places, districts=districts, formats=("png",),
                                         crs=san_marcos.data.crs)
    ugel_keys = sorted(k for k in maps if k.startswith("proposals_ugel"))
    assert len(ugel_keys) == 2 and all(k.startswith("proposals_ugel_celendin_") for k in ugel_keys)
    files = [maps[k][0] for k in ugel_keys]
    assert files[0] != files[1] and all(f.exists() for f in files)
    assert files[0].read_bytes() != files[1].read_bytes()  # two different areas drawn
