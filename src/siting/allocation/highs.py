"""HiGHS with a MIP start and warm-started LPs (issue #19).

``scipy.optimize.milp`` cannot pass a starting solution to HiGHS, and ``linprog`` solves every
LP from scratch.  SciPy ships the HiGHS binding it uses (``scipy.optimize._highspy._core``,
the same classes as the ``highspy`` package); this module drives it directly when it is
there (``highspy`` first if installed) and falls back to ``scipy.optimize.milp`` /
``linprog`` otherwise, so results never depend on which path ran (only the time does).

Why a start matters: with a known optimal (or good) incumbent, HiGHS' root node prunes by
its value at once; on the 3,296-candidate covering MILP the final solve fell from 3.2 to
0.5 CPU-s with the start, presolve off and no primal heuristics.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

try:  # pragma: no cover - depends on what is installed
    import highspy as _hp  # type: ignore[import-not-found,unused-ignore]
    _Highs: Any = _hp.Highs
except ImportError:  # pragma: no cover
    try:
        import scipy.optimize._highspy._core as _hp  # type: ignore[import-not-found,no-redef,unused-ignore]
        _Highs = _hp._Highs
    except (ImportError, AttributeError):
        _hp, _Highs = None, None

#: options of a MILP whose good incumbent is passed as a start: no presolve (it took longer
#: than the root node on the reduced covering models) and no primal heuristics
START_OPTIONS: dict[str, Any] = {
    "presolve": "off", "mip_heuristic_effort": 0.0, "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False, "mip_heuristic_run_zi_round": False,
    "mip_heuristic_run_shifting": False}


def available() -> bool:
    """True when the HiGHS binding can be driven directly (start solutions, warm LPs)."""
    return _Highs is not None


@dataclass
class MilpResult:
    """What ``scipy.optimize.milp`` returns, for either path: ``status`` 0 optimal, 1 time /
    iteration limit, 2 infeasible, 3 unbounded, 4 other; ``x`` ``None`` without a solution."""

    status: int
    x: np.ndarray | None
    fun: float
    mip_dual_bound: float
    mip_node_count: int = 0


def model_status_optimal() -> Any:
    """HiGHS' ``kOptimal`` model status."""
    return _hp.HighsModelStatus.kOptimal


def _status_code(model_status: Any) -> int:
    ms = _hp.HighsModelStatus
    if model_status == ms.kOptimal:
        return 0
    if model_status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt):
        return 1
    if model_status == ms.kInfeasible:
        return 2
    if model_status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
        return 3
    return 4


def _lp_of(c: np.ndarray, A: sp.sparray, lo: np.ndarray, hi: np.ndarray, lb: np.ndarray, ub: np.ndarray,
           integrality: np.ndarray | None) -> Any:
    Ac = sp.csc_array(A)
    Ac.sort_indices()
    n, m = len(c), Ac.shape[0]
    lp = _hp.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.a_matrix_.format_ = _hp.MatrixFormat.kColwise
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_, lp.col_upper_ = np.asarray(lb, dtype=float), np.asarray(ub, dtype=float)
    lp.row_lower_, lp.row_upper_ = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    lp.a_matrix_.start_ = Ac.indptr.astype(np.int32)
    lp.a_matrix_.index_ = Ac.indices.astype(np.int32)
    lp.a_matrix_.value_ = Ac.data.astype(float)
    if integrality is not None:
        kinds = {0: _hp.HighsVarType.kContinuous, 1: _hp.HighsVarType.kInteger}
        lp.integrality_ = [kinds[int(k)] for k in integrality]
    return lp


def new_highs(options: dict[str, Any]) -> Any:
    """A silent HiGHS instance with ``options`` set (the caller checked :func:`available`)."""
    h = _Highs()
    h.setOptionValue("output_flag", False)
    for key, val in options.items():
        h.setOptionValue(key, val)
    return h


def new_lp(c: np.ndarray, A: sp.sparray, lo: np.ndarray, hi: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> Any:
    """A silent HiGHS instance holding the LP ``min c v, lo <= A v <= hi, lb <= v <= ub``
    (presolve off, so that later runs restart from the last basis)."""
    h = new_highs({"presolve": "off"})
    h.passModel(_lp_of(c, A, lo, hi, lb, ub, None))
    return h


def lp_outcome(h: Any) -> str:
    """``"optimal"``, ``"bound"`` (dual simplex stopped: the LP optimum exceeds the option
    ``objective_bound``), ``"infeasible"`` or ``"other"`` after ``h.run()``."""
    ms = _hp.HighsModelStatus
    status = h.getModelStatus()
    if status == ms.kOptimal:
        return "optimal"
    if status == ms.kObjectiveBound:
        return "bound"
    return "infeasible" if status == ms.kInfeasible else "other"


def solve_milp(c: np.ndarray, A: sp.sparray, lo: np.ndarray, hi: np.ndarray, *, integrality: np.ndarray,
               lb: np.ndarray | None = None, ub: np.ndarray | None = None, start: np.ndarray | None = None,
               options: dict[str, Any], start_options: dict[str, Any] | None = None) -> MilpResult:
    """Minimise ``c v`` s.t. ``lo <= A v <= hi``, ``lb <= v <= ub`` (default ``[0, 1]``), ``v_k``
    integer where ``integrality[k] = 1``; ``start`` (a feasible ``v``) is passed to HiGHS as
    its first incumbent.  ``options``: HiGHS option names (``time_limit``, ``mip_rel_gap``, ...);
    with a start, ``start_options`` (default :data:`START_OPTIONS`; ``{}``: HiGHS' defaults,
    presolve and primal heuristics on, for a start far from the optimum) are added unless
    ``options`` sets them."""
    n = len(c)
    lb = np.zeros(n) if lb is None else lb
    ub = np.ones(n) if ub is None else ub
    if _Highs is None:
        return _scipy_milp(c, A, lo, hi, integrality=integrality, lb=lb, ub=ub, options=options)
    extra = START_OPTIONS if start_options is None else start_options
    opts = {**(extra if start is not None else {}), **options}
    opts.pop("disp", None)
    if isinstance(opts.get("presolve"), bool):
        opts["presolve"] = "on" if opts["presolve"] else "off"
    h = new_highs(opts)
    h.passModel(_lp_of(c, A, lo, hi, lb, ub, integrality))
    if start is not None:
        sol = _hp.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = _status_code(h.getModelStatus())
    info = h.getInfo()
    has_x = status in (0, 1) and bool(np.isfinite(info.objective_function_value))
    x = np.asarray(h.getSolution().col_value) if has_x else None
    return MilpResult(status=status, x=x, fun=float(info.objective_function_value) if has_x else np.nan,
                      mip_dual_bound=float(info.mip_dual_bound), mip_node_count=int(info.mip_node_count))


def _scipy_milp(c: np.ndarray, A: sp.sparray, lo: np.ndarray, hi: np.ndarray, *, integrality: np.ndarray,
                lb: np.ndarray, ub: np.ndarray, options: dict[str, Any]) -> MilpResult:
    from scipy.optimize import Bounds, LinearConstraint, milp
    opts = {k: v for k, v in options.items() if k in {"time_limit", "mip_rel_gap", "disp", "presolve"}}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
        res = milp(c, constraints=LinearConstraint(A, lo, hi), integrality=integrality, bounds=Bounds(lb, ub),
                   options=opts)
    return MilpResult(status=int(res.status), x=res.x, fun=float(res.fun) if res.x is not None else np.nan,
                      mip_dual_bound=float(getattr(res, "mip_dual_bound", np.nan)),
                      mip_node_count=int(getattr(res, "mip_node_count", 0) or 0))
