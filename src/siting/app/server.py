"""The web server of ``siting app``: FastAPI over the engine, the page and its vendored assets.

:func:`build_app` makes the ASGI application (JSON interface of :mod:`siting.app.api`,
the page from ``app/static``, Leaflet from ``report/static``: nothing is loaded from the
internet).  :func:`serve` is the command: it loads the scenario (data and graph once),
answers the scenario as it is, then serves until Ctrl-C.  :class:`BackgroundServer` runs
the same server in a thread on a free port (tests and the benchmark).

Safety: bound to loopback by default.  Any other address needs a password
(``--password`` or ``SITING_APP_PASSWORD``), and then every request needs it (HTTP Basic,
any user name).  Without a password only ``localhost`` host names are answered (so a web
page elsewhere cannot reach the app through DNS rebinding), and a state-changing request
from another origin is refused.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import secrets
import socket
import threading
import time
import webbrowser
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from ..errors import UserError
from .engine import Engine

STATIC = Path(__file__).with_name("static")
VENDOR = Path(__file__).resolve().parents[1] / "report" / "static"
PASSWORD_ENV = "SITING_APP_PASSWORD"
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _authorised(header: str | None, password: str) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        user_pass = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    given = user_pass.split(":", 1)[1] if ":" in user_pass else user_pass
    return secrets.compare_digest(given.encode(), password.encode())


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]")[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def build_app(engine: Engine, *, password: str | None = None, check_host: bool = True) -> FastAPI:
    """The ASGI application over ``engine`` (already started or started on first request)."""
    from . import api
    from .compare import ScenarioBook
    from .edits import EditStore
    from .export import Exports

    app = FastAPI(title="siting app", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.engine = engine
    app.state.password = password or None
    app.state.edits = EditStore(engine)
    app.state.scenarios = ScenarioBook(engine)
    app.state.exports = Exports(engine)
    app.include_router(api.router)
    app.add_middleware(GZipMiddleware, minimum_size=2000)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if app.state.password and not _authorised(request.headers.get("authorization"), app.state.password):
            return Response("password required", status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="siting", charset="UTF-8"'})
        if check_host and not app.state.password and \
                _host_name(request.headers.get("host", "")) not in LOCAL_NAMES:
            return JSONResponse({"detail": "this app answers only on localhost"}, status_code=403)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("origin")
            if origin and origin.split("://", 1)[-1] != request.headers.get("host", ""):
                return JSONResponse({"detail": "cross-origin request refused"}, status_code=403)
        response = await call_next(request)
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'")
        return response

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/vendor", StaticFiles(directory=VENDOR), name="vendor")
    return app


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror})",
                            hint="another program (or another siting app) uses it: pass --port with another "
                                 "number") from None


class BackgroundServer:
    """``siting app`` in a thread on a free port (tests, benchmark).  Use as a context manager."""

    def __init__(self, engine: Engine, *, host: str = "127.0.0.1", port: int | None = None,
                 password: str | None = None):
        import uvicorn
        self.host, self.port = host, port or free_port(host)
        self.app = build_app(engine, password=password)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        self.thread.start()
        t0 = time.time()
        while not self.server.started:
            if time.time() - t0 > timeout or not self.thread.is_alive():
                raise RuntimeError("the app server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.exports.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(scenario: str | Path, *, host: str = "127.0.0.1", port: int = 8765, password: str | None = None,
          open_browser: bool = True, lang: str | None = None, progress: bool = True) -> int:
    """``siting app``: load once, then serve the workbench until Ctrl-C."""
    import uvicorn
    password = password or os.environ.get(PASSWORD_ENV) or None
    if not is_loopback(host) and not password:
        raise UserError(f"--host {host} makes the app reachable from other machines: it needs a password",
                        hint=f"pass --password SECRET (or set {PASSWORD_ENV}), or keep the default --host 127.0.0.1")
    _check_port(host, port)
    t0 = time.time()
    engine = Engine(scenario, overrides={"run__language": lang} if lang else None, progress=progress)
    wi = engine.start()
    shown = "localhost" if is_loopback(host) else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/" + (f"?lang={lang}" if lang else "")
    print(f"siting app: {engine.session_path.name}, {len(wi.places):,} centros poblados, listo en "
          f"{time.time() - t0:.1f} s / ready in {time.time() - t0:.1f} s", flush=True)
    print(f"  abra / open {url}   (Ctrl-C para salir / to quit)", flush=True)
    app = build_app(engine, password=password, check_host=not password)
    if open_browser:
        threading.Timer(0.8, lambda: webbrowser.open(url)).start()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C or kill: stopping the server is the normal end
        pass
    finally:
        app.state.exports.close()
    print("siting app: detenido / stopped", flush=True)
    return 0
