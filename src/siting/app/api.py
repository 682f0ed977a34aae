"""The JSON interface of ``siting app`` (the page uses it; scripts and tests can too).

=======  =============================  ==================================================
method   path                           answer
=======  =============================  ==================================================
GET      /api/health                    ``{"status": "ok", "scenario", "places"}``
GET      /api/meta                      scenario, controls and their values, areas, caveats
GET      /api/layers                    map layers (places by band, CETPRO, roads, ...)
GET      /api/gaps                      people beyond each threshold by district (filters)
POST     /api/propose                   a what-if: body = ``section__key`` overrides
GET      /api/place/{ccpp_id}           minutes, nearest facility, legs, who serves it,
                                        what opening it alone would add
GET      /api/search?q=                 places by name or code
GET      /api/edits                     the data corrections of the session
POST     /api/edits/{kind}              add or replace one row (kinds: /api/edits)
DELETE   /api/edits/{kind}/{row_id}     remove one row
GET      /api/scenarios                 named scenarios and their comparison
POST     /api/scenarios                 ``{"name", "overrides"}``: keep a named scenario
DELETE   /api/scenarios/{name}          forget one
POST     /api/export                    ``{"overrides"}``: start writing the run folder
GET      /api/export/{job}              the export's state
GET      /api/export/{job}/zip          the run folder as a zip
=======  =============================  ==================================================

Every endpoint takes ``?lang=es|en`` for texts (default: the scenario's language).  A bad
key or value answers HTTP 422 with ``{"detail": <the message the CLI prints>}``; an
unknown place or what-if answers 404.  ``what_if=<id>`` (the ``id`` of a propose answer)
selects the what-if a place query, layer or gap table refers to (default: the scenario
as it is).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import FileResponse

from ..errors import UserError
from . import views
from .engine import Engine, WhatIf

router = APIRouter(prefix="/api")
JSONBody = Annotated[Any, Body()]  # any JSON value: checked here, so a bad one is a 422 with a clear message


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _lang(request: Request, lang: str | None) -> str:
    lang = lang or _engine(request).start().sc.run.language
    if lang not in ("es", "en"):
        raise HTTPException(422, detail=f"lang must be 'es' or 'en', got {lang!r}")
    return lang


def _what_if(request: Request, what_if: str | None) -> WhatIf:
    try:
        return _engine(request).get(what_if)
    except KeyError:
        raise HTTPException(404, detail=f"unknown what-if {what_if!r}: POST /api/propose first") from None


def user_error(exc: UserError) -> HTTPException:
    """A user's mistake as HTTP 422 with the CLI's message."""
    return HTTPException(422, detail=str(exc))


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    wi = _engine(request).start()
    return {"status": "ok", "scenario": wi.sc.run.name, "scenario_file": str(_engine(request).session_path),
            "places": int(len(wi.places))}


@router.get("/meta")
def meta(request: Request, lang: str | None = None) -> dict[str, Any]:
    eng = _engine(request)
    out = views.meta(eng, eng.start(), _lang(request, lang))
    out["edit_kinds"] = request.app.state.edits.kinds()
    out["password"] = bool(request.app.state.password)
    return out


@router.get("/layers")
def layers(request: Request, lang: str | None = None, what_if: str | None = None) -> dict[str, Any]:
    return views.layers(_what_if(request, what_if), _lang(request, lang))


@router.get("/gaps")
def gaps(request: Request, lang: str | None = None, what_if: str | None = None, ugel: str = "",
         province: str = "", ubigeo: str = "") -> dict[str, Any]:
    return views.gaps(_what_if(request, what_if), _lang(request, lang), ugel=ugel, province=province, ubigeo=ubigeo)


@router.post("/propose")
def propose(request: Request, overrides: JSONBody = None, lang: str | None = None) -> dict[str, Any]:
    eng = _engine(request)
    lang = _lang(request, lang)
    try:
        wi = eng.what_if(overrides if overrides is not None else {})
    except UserError as exc:
        raise user_error(exc) from None
    return views.proposals(wi, lang)


@router.get("/place/{ccpp_id}")
def place(request: Request, ccpp_id: str, lang: str | None = None, what_if: str | None = None) -> dict[str, Any]:
    wi = _what_if(request, what_if)
    try:
        return views.place(wi, ccpp_id, _lang(request, lang))
    except KeyError:
        raise HTTPException(404, detail=f"no centro poblado with code {ccpp_id!r} in the study area") from None


@router.get("/search")
def search(request: Request, q: str = Query(default="", max_length=100), what_if: str | None = None
           ) -> list[dict[str, Any]]:
    return views.search(_what_if(request, what_if), q)


# --------------------------------------------------------------------------- data corrections


@router.get("/edits")
def edits(request: Request) -> dict[str, Any]:
    return request.app.state.edits.describe()


@router.post("/edits/{kind}")
def add_edit(request: Request, kind: str, row: JSONBody, lang: str | None = None) -> dict[str, Any]:
    store = request.app.state.edits
    try:
        saved = store.put(kind, row)
    except UserError as exc:
        raise user_error(exc) from None
    return {"saved": saved, "edits": store.describe(), "scenario_file": str(_engine(request).session_path)}


@router.delete("/edits/{kind}/{row_id}")
def delete_edit(request: Request, kind: str, row_id: str) -> dict[str, Any]:
    store = request.app.state.edits
    try:
        store.delete(kind, row_id)
    except KeyError:
        raise HTTPException(404, detail=f"no row {row_id!r} in the {kind} corrections") from None
    except UserError as exc:
        raise user_error(exc) from None
    return {"edits": store.describe()}


# --------------------------------------------------------------------------- named scenarios


@router.get("/scenarios")
def scenarios(request: Request, lang: str | None = None) -> dict[str, Any]:
    return request.app.state.scenarios.compare(_lang(request, lang))


@router.post("/scenarios")
def add_scenario(request: Request, body: JSONBody, lang: str | None = None) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise HTTPException(422, detail='expected {"name": "...", "overrides": {...}}')
    try:
        request.app.state.scenarios.put(body["name"], body.get("overrides") or {})
    except UserError as exc:
        raise user_error(exc) from None
    return request.app.state.scenarios.compare(_lang(request, lang))


@router.delete("/scenarios/{name}")
def delete_scenario(request: Request, name: str, lang: str | None = None) -> dict[str, Any]:
    try:
        request.app.state.scenarios.delete(name)
    except KeyError:
        raise HTTPException(404, detail=f"no scenario named {name!r}") from None
    return request.app.state.scenarios.compare(_lang(request, lang))


# --------------------------------------------------------------------------- export


@router.post("/export")
def export(request: Request, body: JSONBody = None) -> dict[str, Any]:
    overrides = (body or {}).get("overrides", {}) if isinstance(body, dict) else None
    try:
        wi = _engine(request).what_if(overrides)
    except UserError as exc:
        raise user_error(exc) from None
    return request.app.state.exports.start(wi).describe()


@router.get("/export/{job}")
def export_state(request: Request, job: str) -> dict[str, Any]:
    try:
        return request.app.state.exports.get(job).describe()
    except KeyError:
        raise HTTPException(404, detail=f"no export {job!r}") from None


@router.get("/export/{job}/zip")
def export_zip(request: Request, job: str) -> FileResponse:
    try:
        j = request.app.state.exports.get(job)
    except KeyError:
        raise HTTPException(404, detail=f"no export {job!r}") from None
    if j.state != "done" or j.zip_path is None:
        raise HTTPException(409, detail=f"export {job} is {j.state}: {j.message}")
    return FileResponse(j.zip_path, media_type="application/zip", filename=j.zip_path.name)
