"""The ``siting validate-times`` and ``siting calibrate`` subcommands (added to the CLI by
:func:`add_commands`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..i18n import LANGUAGES


def _scenario(path: Path, lang: str | None):
    from ..scenario import load_scenario
    return load_scenario(path, **({"run__language": lang} if lang else {}))


def _cmd_validate(args: argparse.Namespace) -> int:
    from .validate import validate_times
    sc = _scenario(args.scenario, args.lang)
    validate_times(sc, args.trips, output=args.output, lang=sc.run.language, progress=not args.no_progress)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import calibrate
    from .labels import text
    from .report import write_outputs
    from .validate import summarise, summary_lines
    sc = _scenario(args.scenario, args.lang)
    lang = sc.run.language
    cal = calibrate(sc, args.trips, folds=args.folds, iterations=args.iterations, repeats=args.repeats,
                    bootstrap_draws=args.bootstrap, prior_sd=args.prior_sd,
                    progress=not args.no_progress)
    target = args.target or args.scenario
    files = write_outputs(cal, Path(args.output), scenario=args.scenario, target=target, trips=args.trips,
                          scenario_out=args.scenario_out, lang=lang)
    for what, table in (("before", cal.before), ("after", cal.after)):
        print(f"[{text(what, lang)}] " + " | ".join(summary_lines(summarise(table), lang)[1:2]))
    print(text("scenario_written", lang, file=files["scenario"]))
    print(text("written", lang, file=files["report"]))
    return 0


def add_commands(sub) -> None:
    """Add ``validate-times`` and ``calibrate`` to the CLI's subparsers."""
    v = sub.add_parser("validate-times", help="modelled against observed travel times of real trips "
                                              "(writes trip_validation.csv)")
    v.add_argument("--scenario", type=Path, required=True, help="scenario TOML file")
    v.add_argument("--trips", type=Path, required=True, help="observed trips CSV (data/raw/travel/observed_trips.csv)")
    v.add_argument("--output", type=Path, help="folder for the tables (default: the scenario's run.output_dir)")
    v.add_argument("--lang", choices=list(LANGUAGES), help="language of the messages (default: the scenario's, es)")
    v.add_argument("--no-progress", action="store_true", help="hide progress bars")
    v.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    v.set_defaults(func=_cmd_validate)
    c = sub.add_parser("calibrate", help="fit road speeds, detour factor and walking to observed trips; "
                                         "writes a calibrated scenario and its report")
    c.add_argument("--scenario", type=Path, required=True, help="scenario TOML whose graph routes the trips")
    c.add_argument("--trips", type=Path, required=True, help="observed trips CSV")
    c.add_argument("--output", type=Path, required=True, help="folder for the report and the calibrated scenario")
    c.add_argument("--folds", type=int, default=5, help="cross-validation folds, grouped by origin-destination pair")
    c.add_argument("--repeats", type=int, default=10, help="repetitions of the cross-validation fold draw "
                                                           "(default 10)")
    c.add_argument("--iterations", type=int, default=3, help="fit / re-route rounds (default 3)")
    c.add_argument("--bootstrap", type=int, default=200, help="bootstrap draws for the intervals (default 200)")
    c.add_argument("--prior-sd", type=float, default=0.5, help="sd (log scale) of the weak pull to the scenario's "
                                                               "values; 0 = plain least squares (default 0.5)")
    c.add_argument("--target", type=Path, help="scenario whose [speeds] are replaced (default: --scenario)")
    c.add_argument("--scenario-out", type=Path, help="where to write the calibrated scenario "
                                                     "(default: OUTPUT/<target stem>_calibrated.toml)")
    c.add_argument("--lang", choices=list(LANGUAGES), help="language of the report (default: the scenario's, es)")
    c.add_argument("--no-progress", action="store_true", help="hide progress bars")
    c.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    c.set_defaults(func=_cmd_calibrate)
