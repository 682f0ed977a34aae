"""``siting app``: the planner's workbench, a local web application over the stages.

    siting app [--scenario FILE] [--port 8765] [--host 127.0.0.1] [--no-browser] [--password P] [--lang en]

Modules: :mod:`~siting.app.engine` (the one adapter to the stages, with the stage
caches), :mod:`~siting.app.views` (JSON views of the results), :mod:`~siting.app.api`
(the JSON interface), :mod:`~siting.app.edits` (data corrections saved as files the CLI
reads), :mod:`~siting.app.compare` (named scenarios), :mod:`~siting.app.export` (the run
folder as a zip), :mod:`~siting.app.server` (FastAPI + uvicorn, password, static page).
See ``docs/APP.md``.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_app_command(sub) -> None:
    """Add the ``app`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("app", help="the planner's workbench: a local web app (Spanish by default; --lang en)")
    p.add_argument("--scenario", type=Path, help="scenario TOML file (default: scenarios/cajamarca.toml)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs --password)")
    p.add_argument("--password", help="password every request needs (or set SITING_APP_PASSWORD)")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.add_argument("--lang", choices=["es", "en"], help="language of texts (default: the scenario's, es)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars while loading")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=run_app)


def run_app(args: argparse.Namespace) -> int:
    """Run ``siting app`` with parsed arguments."""
    from ..errors import UserError
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UserError("siting app needs FastAPI and uvicorn", hint="pip install 'siting[app]'") from None
    from ..cli import shipped_scenario
    from .server import serve
    return serve(args.scenario or shipped_scenario(), host=args.host, port=args.port, password=args.password,
                 open_browser=not args.no_browser, lang=args.lang, progress=not args.no_progress)
