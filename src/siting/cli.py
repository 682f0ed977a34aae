"""The ``siting`` command.

    siting data check [--scenario FILE]   load and validate every input; quality report
    siting access     --scenario FILE     travel-time access gaps
    siting score      --scenario FILE     candidate localities and suitability
    siting propose    --scenario FILE [--n N] [--objective mclp|pmedian|pcenter|fair]
                                          choose and rank new extension centres
    siting report     --scenario FILE     maps, HTML report and exports
    siting run        --scenario FILE [--rainy]   the whole chain (--rainy: also the rainy season)
    siting demo                           the whole chain on the shipped Cajamarca data
    siting national --scenario scenarios/peru_national.toml [--engine dask --scheduler ADDR | --scheduler-file F]
                                          whole Peru: nearest district capital, gaps by department
    siting app [--scenario FILE] [--port 8765] [--no-browser]
                                          the planner's workbench: a local web app
    siting templates  --output DIR [--lang es|en]   XLSX forms of the DRE/UGEL registry
    siting monitor    --scenario FILE [--min-retention 0.7]   indicators of the monitoring records
    siting backtest   --scenario FILE     rank of each existing extension centre, recomputed without it
    siting validate-times --scenario FILE --trips FILE [--output DIR]   modelled vs observed trip times
    siting calibrate  --scenario FILE --trips FILE --output DIR [--folds K]   fit speeds to observed trips

User mistakes end with one clear message and exit status 2 (``--debug`` shows the
traceback); internal errors keep their traceback.
"""
from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError
from .i18n import LANGUAGES

if TYPE_CHECKING:
    from .scenario import Scenario


def shipped_scenario() -> Path:
    """The Cajamarca scenario shipped with the repository (and the source archive).

    Looked for in ``$SITING_HOME``, the source tree this module runs from, and the current
    folder (and its parents).  An installed wheel carries no data (28 MB of real inputs):
    the error says in one line where to get them.
    """
    here = Path(__file__).resolve()
    bases = [Path(os.environ["SITING_HOME"])] if os.environ.get("SITING_HOME") else []
    bases += [here.parents[2], Path.cwd(), *Path.cwd().parents]
    for base in bases:
        p = base / "scenarios" / "cajamarca.toml"
        if p.exists():
            return p
    raise UserError("the demo data are not installed with the package: run `siting demo` inside a copy of the siting "
                    "source (repository or sdist: scenarios/ and data/raw/), or set SITING_HOME to one")


def check_output_arg(path: Path | None) -> None:
    """Refuse ``--output`` naming an existing file, or a folder below a file (one message, exit 2)."""
    if path is None:
        return
    path = Path(path).absolute()
    if path.exists() and not path.is_dir():
        raise UserError("--output is an existing file, not a folder", source=str(path),
                        hint="give a folder (it is created if missing), e.g. --output runs/my_run")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"--output cannot be created: {parent} is a file, not a folder", source=str(path),
                                hint="give a folder whose parents are folders, e.g. --output runs/my_run")
            return


def _check_n(args: argparse.Namespace) -> None:
    """``--n 0`` asks for nothing: an impossible request (exit 2) before any work (a negative
    ``--n`` is refused by the scenario's own check, with the message the app shows too)."""
    n = getattr(args, "n", None)
    if n == 0:
        from .report.labels import t
        lang = getattr(args, "lang", None) or "es"
        raise UserError(t("cli.n_zero", lang).format(n=n), hint=t("cli.n_zero_hint", lang))


def _load(args: argparse.Namespace) -> Scenario:
    from .scenario import load_scenario
    check_output_arg(getattr(args, "output", None))
    _check_n(args)
    overrides = {}
    if getattr(args, "lang", None):
        overrides["run__language"] = args.lang
    if getattr(args, "output", None):
        overrides["run__output_dir"] = str(Path(args.output).resolve())
    if getattr(args, "n", None) is not None:
        overrides["allocation__n_sites"] = args.n
    if getattr(args, "objective", None):
        overrides["allocation__objective"] = args.objective
    if getattr(args, "rainy", False):
        overrides["seasons__rainy"] = True
    if getattr(args, "maps", None):
        overrides["run__maps"] = args.maps
    path = args.scenario or shipped_scenario()
    return load_scenario(path, **overrides)


def _maps_arg(p: argparse.ArgumentParser, *, default_text: str) -> None:
    p.add_argument("--maps", choices=["all", "region", "none"],
                   help=f"static maps (PNG/PDF) to draw: region + every UGEL, region only, or none "
                        f"(overrides run.maps; default: {default_text})")


def _cmd(stage: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        sc = _load(args)
        from . import pipeline
        result = getattr(pipeline, stage)(sc, progress=not args.no_progress)
        short = getattr(result, "shortfall", None)
        if short is not None:  # fewer sites than asked: said, the run kept, exit 2
            from .report.labels import t
            lang = sc.run.language
            print(f"siting: {short.message(lang)}\n  -> {t('shortfall.kept', lang).format(placed=short.placed)}",
                  file=sys.stderr)
            return 2
        return 0
    return run


def _cmd_national(args: argparse.Namespace) -> int:
    sc = _load(args)
    from .national import run_national
    run_national(sc, engine=args.engine, scheduler=args.scheduler, scheduler_file=args.scheduler_file,
                 n_workers=args.workers, memory_limit=args.memory_limit, resolution_m=args.resolution_m,
                 max_minutes=args.max_minutes, progress=not args.no_progress)
    return 0


def _cmd_templates(args: argparse.Namespace) -> int:  # registry forms (siting.report.registry_templates)
    from .report.registry_templates import TemplateLists, write_templates
    check_output_arg(args.output)
    sc = _load(argparse.Namespace(scenario=args.scenario, lang=None, output=None, n=None))
    paths = write_templates(args.output, lists=TemplateLists.from_scenario(sc), lang=args.lang or sc.run.language)
    print("\n".join(str(p) for p in paths.values()))
    return 0


def _cmd_monitor(args: argparse.Namespace) -> int:  # registry monitoring (siting.monitoring)
    from .monitoring import monitor
    monitor(_load(args), min_retention=args.min_retention, progress=not args.no_progress)
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:  # registry ground truth (siting.monitoring.backtest)
    from .monitoring.backtest import run_backtest
    run_backtest(_load(args), progress=not args.no_progress)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="siting", description=__doc__.split("\n\n")[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"siting {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, scenario_required: bool) -> None:
        p.add_argument("--scenario", type=Path, required=scenario_required,
                       help="scenario TOML file (default for `demo`/`data check`: scenarios/cajamarca.toml)")
        p.add_argument("--lang", choices=list(LANGUAGES), help="language of outputs (default: the scenario's, es)")
        p.add_argument("--output", type=Path, help="run folder (overrides run.output_dir)")
        p.add_argument("--no-progress", action="store_true", help="hide progress bars")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    data = sub.add_parser("data", help="input data commands")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="load and validate all inputs, write the quality report")
    common(check, scenario_required=False)
    check.set_defaults(func=_cmd("data_check"))

    for name, stage, help_text in [
        ("access", "access", "travel-time access gaps by place, district, province and UGEL"),
        ("score", "score", "candidate localities and their suitability"),
        ("propose", "propose", "choose and rank new extension centres with a parent CETPRO"),
        ("report", "report", "maps, HTML report and exports"),
        ("run", "run", "the whole chain: data, access, score, propose, report"),
    ]:
        p = sub.add_parser(name, help=help_text)
        common(p, scenario_required=True)
        p.add_argument("--rainy", action="store_true",
                       help="also compute access in the rainy season (sets seasons.rainy = true): a second graph with "
                            "the [seasons] speeds and inputs.closed_segments closed, dry against rainy by UGEL")
        if name in {"report", "run"}:
            _maps_arg(p, default_text="the scenario's run.maps, all")
        if name in {"propose", "run"}:
            p.add_argument("--n", type=int, help="number of new sites (overrides allocation.n_sites)")
            p.add_argument("--objective", choices=["mclp", "pmedian", "pcenter", "fair"],
                           help="what chooses the sites (overrides allocation.objective, default mclp): maximal "
                                "covering, least weighted minutes, least worst minutes, fairest worst district")
        p.set_defaults(func=_cmd(stage))

    nat = sub.add_parser("national", help="whole Peru: nearest district capital for every centro poblado, "
                                          "gaps by department")
    common(nat, scenario_required=True)
    nat.add_argument("--engine", choices=["serial", "dask"], default="serial")
    nat.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: "
                                         "--scheduler-file, DASK_SCHEDULER_ADDRESS, dask config, else a local cluster)")
    nat.add_argument("--scheduler-file", help="JSON file written by `dask scheduler --scheduler-file PATH` "
                                              "(docs/CLUSTER.md)")
    nat.add_argument("--workers", type=int, default=2, help="workers of the local Dask cluster")
    nat.add_argument("--memory-limit", help="memory limit of each local Dask worker, e.g. 4GB")
    nat.add_argument("--resolution-m", type=float,
                     help="cell size of the grid in metres (default: the DEM's own); finer is a scale test, "
                          "not better data")
    nat.add_argument("--max-minutes", type=float, default=720.0,
                     help="times above this are reported as beyond the limit (default 720)")
    nat.set_defaults(func=_cmd_national)

    tpl = sub.add_parser("templates", help="XLSX forms of the DRE/UGEL registry (extension centres, petitions, ...)")
    tpl.add_argument("--output", type=Path, required=True, help="folder for the forms")
    tpl.add_argument("--lang", choices=["es", "en"], help="language of the forms (default: the scenario's, es)")
    tpl.add_argument("--scenario", type=Path, help="scenario whose UGELs and CETPRO fill the lists "
                                                   "(default: scenarios/cajamarca.toml)")
    tpl.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    tpl.set_defaults(func=_cmd_templates)
    mon = sub.add_parser("monitor", help="indicators per centre and period from inputs.monitoring (XLSX, HTML)")
    common(mon, scenario_required=True)
    mon.add_argument("--min-retention", type=float, help="list centres below this retention (default "
                                                         "registry.min_retention, 0.7)")
    mon.set_defaults(func=_cmd_monitor)
    bt = sub.add_parser("backtest", help="where the existing extension centres fall in the tool's ranking "
                                         "computed without each of them")
    common(bt, scenario_required=True)
    bt.set_defaults(func=_cmd_backtest)

    demo = sub.add_parser("demo", help="the whole chain on the shipped Cajamarca data")
    common(demo, scenario_required=False)
    demo.add_argument("--n", type=int, help="number of new sites")
    _maps_arg(demo, default_text="region")
    demo.set_defaults(maps="region")
    demo.set_defaults(func=_cmd("run"))

    from .calibration.commands import add_commands as add_calibration_commands  # observed trips (#14)
    add_calibration_commands(sub)
    from .app import add_app_command  # the planner's workbench (siting.app)
    add_app_command(sub)
    return parser


def _term_as_interrupt(signum, frame) -> None:  # pragma: no cover - exercised by the interrupt test
    raise KeyboardInterrupt


#: operating-system errors that are the user's environment, not a bug: one message, exit 2
_OS_ERRORS = {
    errno.ENOSPC: ("the disk is full", "free some space or write the run elsewhere with --output"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space or write the run elsewhere with --output"),
    errno.EACCES: ("permission denied", "choose folders you can write into (--output, run.cache_dir)"),
    errno.EPERM: ("operation not permitted", "choose folders you can write into (--output, run.cache_dir)"),
    errno.EROFS: ("the file system is read-only", "write the run elsewhere with --output"),
    errno.ENOTDIR: ("a path component is a file, not a folder", "check --output and the paths of the scenario"),
    errno.EISDIR: ("a folder is in the way of a file", "check --output and the paths of the scenario"),
    errno.ENAMETOOLONG: ("a file name is too long", "use a shorter --output path"),
}


def _os_error_message(exc: OSError) -> str | None:
    known = _OS_ERRORS.get(exc.errno or -1)
    if known is None:
        return None
    what, hint = known
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{what} ({exc.strerror or exc})\n  -> {hint}; nothing of this run was kept in the output folder"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from .scenario import ScenarioWarning
    if issubclass(category, ScenarioWarning):
        print(f"siting: warning: {message}", file=sys.stderr)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def _abort_runs() -> None:
    """Drop the staging folders and locks of runs an error ended (the folder keeps the previous run)."""
    from .manifest import abort_active_runs
    abort_active_runs()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _term_as_interrupt)  # `kill` cleans up like Ctrl-C
    os.environ.setdefault("MPLBACKEND", "Agg")  # maps are files: no display needed
    warnings.showwarning = _show_warning
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        _abort_runs()
        if args.debug:
            raise
        print(f"siting: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        _abort_runs()
        message = _os_error_message(exc)
        if message is None or args.debug:
            raise
        print(f"siting: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _abort_runs()
        print("siting: interrupted; no partial output was kept; the travel-time graph is cached, so a rerun "
              "resumes from it", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = _default_showwarning


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
