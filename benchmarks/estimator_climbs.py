"""How the estimators climb: the length chosen by ``early_stopping='cv'``, and the step rule.

A study of two choices inside `GuidedESClassifier` / `GuidedESRegressor`,
on the tasks of `benchmarks/estimators.py` (the same data, folds,
preprocessing and scorers), measured by the test metric of the fit and by
its cost:

1. **When the fold climbs stop.** With ``early_stopping='cv'`` the fit
   climbs from each fold's start and scores the parameters after 1, 2, 4,
   ... ``max_iter`` iterations on the fold's rows left out; the climbs stop
   once at least ``CV_FIRST_STOP`` (7) checkpoints are scored, the
   one-standard-error choice has not moved over the last ``CV_PATIENCE``
   checkpoints and the mean score is not at its best (the library's rule,
   `ges_minimize.estimators._cv._out_of_patience`). These climbs are most
   of a fit's time. For each fit, the script runs the fold climbs to the
   end once, then refits with every checkpoint as the chosen count, so
   that any stopping rule can be replayed on the recorded scores and
   judged by the test metric of what it would choose. Rules: the
   library's; the same allowed to stop from the fourth checkpoint (the
   rule before the estimators' Adam warmed up); that without the "not at
   its best" guard; both with a patience of 2; and never stopping early.
   Cost: the iterations of the fold climbs (5 x the last checkpoint
   reached) plus the final climb's.
2. **The step rule.** The estimators step with Adam (a fixed rate on
   standardised parameters) whose step grows linearly over its first 30
   updates (a warm-up). Against it: Adam without the warm-up, with the
   library's stopping rule and with the rule before (the pair the
   estimators used until the warm-up), and the library's adaptive mode
   (``step='auto'``), once with the estimators' other settings (no metric,
   no self-guidance, no surrogate step) and once at the adaptive mode's
   own defaults (keeping the estimators' `sigma` and `n_pairs`), inside an
   otherwise unchanged fit.

Both parts replace functions of `ges_minimize.estimators` while they run
(the stopping rule, the count chosen, the optimiser built): they measure
alternatives to the library's choices, and change nothing outside this
process.

Run ``python benchmarks/estimator_climbs.py`` (shuffle seeds 12 and 13;
about 10 minutes on 2 cores; writes ``docs/benchmarks_estimator_climbs.md``)
or with ``--quick`` (seconds; numbers mean nothing). A run of some tasks,
one part or other seeds writes no file unless ``--output`` is given. The
warm-up and the later first stop were chosen on seeds 10, 11, 14 and 15,
seen on 12 and 13, and judged on 0, 1 and 2 (``--parts steps --seeds 0 1
2``), the shuffles of `benchmarks/estimators.py`.
"""

import argparse
import copy
import os
import platform
import sys
import time
import warnings
from multiprocessing import Pool

import numpy as np
import sklearn
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from benchmarks import _datasets, estimators as bench  # noqa: E402
from ges_minimize import Adam, GuidedES  # noqa: E402
from ges_minimize.estimators import _classes, _climb, _cv  # noqa: E402

REPORT = os.path.join(HERE, "docs", "benchmarks_estimator_climbs.md")
TASK_NAMES = [t.name for t in _datasets.TASKS]
#: Shuffle seeds of the report. No choice of the library was made on them;
#: the warm-up was measured on them before it was judged on seeds 0-2.
REPORT_SEEDS = [12, 13]


# -- stopping rules, replayed on the recorded scores (folds x checkpoints) -----------------
# A rule sees the scores so far and the checkpoints they were taken at.
_LIBRARY_RULE = _cv._out_of_patience


def _patience_rule(patience, guard):
    def rule(scores, reached):
        if scores.shape[1] <= patience:
            return False
        if guard and scores.mean(axis=0)[-1] >= scores.mean(axis=0).max():
            return False
        return (_cv.first_within_one_se(scores)
                == _cv.first_within_one_se(scores[:, :-patience]))
    return rule


LIBRARY = "library (patience 3, not at its best, from the 7th checkpoint)"
#: The library's rule until the estimators' Adam warmed up: it could stop
#: from the 4th checkpoint.
BEFORE = "the same from the 4th checkpoint (the rule before)"
RULES = {
    LIBRARY: lambda scores, reached: _LIBRARY_RULE(scores),
    BEFORE: _patience_rule(3, guard=True),
    "patience 3": _patience_rule(3, guard=False),
    "patience 2, not at its best": _patience_rule(2, guard=True),
    "patience 2": _patience_rule(2, guard=False),
    "never early": lambda scores, reached: False,
}


def replay(rule, scores, checkpoints):
    """The count `rule` chooses and the cost of the climbs it runs."""
    for j in range(1, scores.shape[1] + 1):
        if rule(scores[:, :j], checkpoints[:j]):
            break
    chosen = int(checkpoints[_cv.first_within_one_se(scores[:, :j])])
    return chosen, 5 * int(checkpoints[j - 1]) + chosen


# -- optimisers of the step-rule part ------------------------------------------------------
_LIBRARY_OPTIMIZER = _climb.make_optimizer


def _library_optimizer_with(step):
    """The library's optimiser, with the step rule `step` (a name, or a
    function that makes a new rule object) in place of the estimator's."""
    def make(est, theta0, rng):
        shadow = copy.copy(est)
        shadow.step, shadow.learning_rate = step() if callable(step) else step, None
        return _LIBRARY_OPTIMIZER(shadow, theta0, rng)
    return make


def _adaptive_defaults(est, theta0, rng):
    return GuidedES(theta0, sigma=est.sigma, n_pairs=est.n_pairs, rng=rng)


ADAM = f"Adam, warm-up over {_climb.ADAM_WARMUP} updates (library)"
_plain_adam = _library_optimizer_with(Adam)
STEPS = {ADAM: _LIBRARY_OPTIMIZER,
         "Adam without warm-up": _plain_adam,
         "Adam without warm-up, climbs stop from the 4th checkpoint (before)": _plain_adam,
         "adaptive, estimators' settings": _library_optimizer_with("auto"),
         "adaptive, its defaults": _adaptive_defaults}
#: Step-rule variants that also change when the fold climbs may stop.
STOPPING_OF_STEPS = {
    "Adam without warm-up, climbs stop from the 4th checkpoint (before)":
        lambda scores: RULES[BEFORE](scores, None)}


def _use_optimizer(make):
    _classes.make_optimizer = _climb.make_optimizer = _cv.make_optimizer = make


# -- one fold ------------------------------------------------------------------------------
def _fit(task, budget, X_tr, y_tr, a_tr, X_te, y_te, a_te):
    with sklearn.config_context(enable_metadata_routing=task.kind == "amount"):
        est, seconds = bench._fit_guided_es(task, budget, X_tr, y_tr, a_tr)
    return (bench.test_metric(task, y_te, bench.guided_es_output(task, est, X_te), a_te),
            seconds)


def _stopping_fold(task, budget, *fold):
    """Recorded fold-climb scores, the test metric at every checkpoint, and
    the test metric of the library's own fit (which the replay of its rule
    must give)."""
    library = _fit(task, budget, *fold)[0]
    original, forced = _cv.cross_validate_n_iter, {}

    def full_then_forced(est, folds, data, objective, surrogate, selection, evaluate,
                         rng):
        args = (est, folds, data, objective, surrogate, selection, evaluate, rng)
        if "result" in forced:
            # the fold seeds the real function draws, so that the final
            # climb sees the same random numbers as in the library's fit
            rng.integers(np.iinfo(np.int64).max, size=len(folds))
        else:
            _cv._out_of_patience = lambda scores: False
            try:
                forced["result"] = original(*args)
            finally:
                _cv._out_of_patience = _LIBRARY_RULE
        _, checkpoints, scores = forced["result"]
        return forced["count"], checkpoints, scores

    _cv.cross_validate_n_iter = full_then_forced
    try:
        forced["count"], tests = 1, {}
        tests[1] = _fit(task, budget, *fold)[0]
        checkpoints = forced["result"][1]
        for count in checkpoints[1:].tolist():
            forced["count"] = count
            tests[count] = _fit(task, budget, *fold)[0]
    finally:
        _cv.cross_validate_n_iter = original
    return dict(checkpoints=checkpoints, scores=forced["result"][2], tests=tests,
                library=library)


def _steps_fold(task, budget, *fold):
    out = {}
    try:
        for name, make in STEPS.items():
            _use_optimizer(make)
            _cv._out_of_patience = STOPPING_OF_STEPS.get(name, _LIBRARY_RULE)
            out[name] = _fit(task, budget, *fold)
    finally:
        _use_optimizer(STEPS[ADAM])
        _cv._out_of_patience = _LIBRARY_RULE
    return out


def run_job(job):
    """Both parts on every fold of one task and one shuffle seed."""
    name, seed, quick, parts = job
    task = next(t for t in _datasets.TASKS if t.name == name)
    budget = bench.Budget(quick, seed)
    X, y, amount, numeric, categorical = task.load()
    if quick:
        X, y, amount = bench.quick_subset(X, y, amount, seed)
    kind = KFold if task.kind == "regression" else StratifiedKFold
    folds = []
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        for train, test in kind(2 if quick else 5, shuffle=True,
                                random_state=seed).split(X, y):
            pre = bench._preprocess(numeric, categorical).fit(X.iloc[train])
            fold = (pre.transform(X.iloc[train]), y[train],
                    None if amount is None else amount[train],
                    pre.transform(X.iloc[test]), y[test],
                    None if amount is None else amount[test])
            folds.append({
                "stopping": _stopping_fold(task, budget, *fold) if "stopping" in parts else None,
                "steps": _steps_fold(task, budget, *fold) if "steps" in parts else None})
    print(f"... {name} seed {seed} done", file=sys.stderr, flush=True)
    return name, folds


# -- tables --------------------------------------------------------------------------------
def _signed(task, value):
    return value if task.greater_is_better else -value


def _diff(values, base):
    d = np.asarray(values) - np.asarray(base)
    se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("nan")
    return f"{d.mean():+.4g} ± {se:.2g}"


def stopping_rows(task, folds):
    rows, base = [], None
    for rule_name, rule in RULES.items():
        raw, costs = [], []
        for f in folds:
            chosen, cost = replay(rule, f["scores"], f["checkpoints"])
            raw.append(f["tests"][chosen])
            costs.append(cost)
        signed = [_signed(task, v) for v in raw]
        base = signed if base is None else base
        rows.append([task.name, rule_name, f"{np.mean(costs):.0f}", f"{np.mean(raw):.4g}",
                     "—" if signed is base else _diff(signed, base)])
    replayed = [f["tests"][replay(RULES[LIBRARY], f["scores"], f["checkpoints"])[0]]
                for f in folds]
    matches = sum(r == f["library"] for r, f in zip(replayed, folds))
    rows[0][1] += f" (replay = library's fit: {matches}/{len(folds)})"
    return rows


def steps_rows(task, folds):
    rows = []
    library = ADAM
    base = [_signed(task, f[library][0]) for f in folds]
    base_time = np.mean([f[library][1] for f in folds])
    for name in STEPS:
        raw = [f[name][0] for f in folds]
        seconds = np.mean([f[name][1] for f in folds])
        rows.append([task.name, name, f"{np.mean(raw):.4g}",
                     "—" if name == library else _diff([_signed(task, v) for v in raw], base),
                     f"{seconds:.3f}", f"{seconds / base_time:.2f}x"])
    return rows


def _table(lines, title, header, rows):
    lines += ["", f"## {title}", "", "| " + " | ".join(header) + " |",
              "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=REPORT_SEEDS,
                        help="shuffle seeds of the 5-fold CV (one shuffle each)")
    parser.add_argument("--tasks", nargs="*", default=TASK_NAMES)
    parser.add_argument("--parts", nargs="*", default=["stopping", "steps"],
                        choices=["stopping", "steps"])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run in seconds (numbers mean nothing)")
    parser.add_argument("--output", default=None,
                        help="markdown file (default: docs/benchmarks_estimator_climbs.md "
                             "for a full run, none otherwise)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tasks) - set(TASK_NAMES))
    if unknown:
        parser.error(f"unknown tasks {unknown}; known: {TASK_NAMES}")
    jobs = [(name, seed, args.quick, tuple(args.parts))
            for name in args.tasks for seed in args.seeds]
    start = time.perf_counter()
    with Pool(args.jobs) as pool:
        done = pool.map(run_job, jobs, chunksize=1)
    seconds = time.perf_counter() - start
    folds = {}
    for name, task_folds in done:
        folds.setdefault(name, []).extend(task_folds)
    tasks = [t for t in _datasets.TASKS if t.name in folds]
    n_folds = 2 if args.quick else 5
    lines = ["# How the estimators climb: when the fold climbs stop, and the step rule",
             "", "*Generated by `benchmarks/estimator_climbs.py`; do not edit by hand.*", "",
             f"- command: `{' '.join(['python', 'benchmarks/estimator_climbs.py', *argv])}` "
             "from the repository root",
             f"- wall time: {seconds / 60:.1f} min on {args.jobs} worker processes, "
             "every fit on one thread",
             f"- machine: {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores; Python {platform.python_version()}, "
             f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
             f"- shuffle seeds: {args.seeds}; {n_folds} folds each, so "
             f"{len(args.seeds) * n_folds} fits per task", "",
             "Test metrics are means over the fits, in the metric's own units "
             "(costs and losses: lower is better). Differences are paired, fit by "
             "fit, against the library's choice, ± their standard error, and "
             "oriented so that positive means better than the library's, "
             "whatever the metric's direction. See the script's docstring for "
             "what is replayed and how."]
    if "stopping" in args.parts:
        _table(lines, "When the fold climbs of early_stopping='cv' stop: iterations "
                      "run (fold climbs and final climb) and test metric",
               ["task", "rule", "iterations", "test metric", "better than the library by"],
               [row for t in tasks for row in stopping_rows(
                   t, [f["stopping"] for f in folds[t.name]])])
    if "steps" in args.parts:
        _table(lines, "The step rule of the climbs: test metric and fit time",
               ["task", "step rule", "test metric", "better than Adam by",
                "fit time (s)", "time ratio"],
               [row for t in tasks for row in steps_rows(
                   t, [f["steps"] for f in folds[t.name]])])
    text = "\n".join(lines) + "\n"
    print(text)
    full = (not args.quick and set(args.tasks) == set(TASK_NAMES)
            and set(args.parts) == {"stopping", "steps"} and args.seeds == REPORT_SEEDS)
    output = args.output or (REPORT if full else None)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"(written {output})")


if __name__ == "__main__":
    main()
