"""File-name slugs of area names (UGEL, province): safe, ASCII and collision-free.

Kept apart from :mod:`.static_maps` so that the report's HTML and workbooks can name their
files without importing matplotlib (issue #19).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def slug(text: str) -> str:
    """File-name-safe ASCII slug: ``"UGEL CELENDÍN"`` -> ``"ugel_celendin"``.

    Only ``[a-z0-9_]`` (no path separator, no dot), at most 60 characters.  Two names can
    share a slug: use :func:`unique_slugs` to name files."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")[:60].strip("_") or "area"


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """One collision-free file-name slug per distinct name.

    A name whose :func:`slug` no other name shares keeps it (``ugel_celendin``); names
    that share one (``"UGEL CELENDÍN"`` and ``"UGEL CELENDIN"``, or a name that slugs to
    ``"region"``, which the regional maps use) all get a code appended, the first 8 hex
    digits of the SHA-1 of the name (``ugel_celendin_3f2a91c0``), so the result depends on
    the name only, not on the order or on which other names collide with it.
    """
    import hashlib

    distinct = sorted({str(n) for n in names})
    base = {n: slug(n) for n in distinct}
    counts: dict[str, int] = {}
    for s in base.values():
        counts[s] = counts.get(s, 0) + 1
    out = {}
    for n in distinct:
        s = base[n]
        if counts[s] > 1 or s in _RESERVED_SLUGS:
            s = f"{s}_{hashlib.sha1(n.encode('utf-8')).hexdigest()[:8]}"
        out[n] = s
    return out


_RESERVED_SLUGS = frozenset({"region"})
