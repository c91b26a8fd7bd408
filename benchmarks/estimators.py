"""Benchmark of the scikit-learn estimators (GuidedESClassifier, GuidedESRegressor).

Prints markdown tables:

1. Classification, 5-fold cross-validation repeated on ``--repeats``
   shuffles, on breast cancer (binary), a synthetic imbalanced binary task
   (2,400 rows, 10% positive: F2 and a 10:1 cost) and digits (10 classes),
   for each metric the classifier is told to maximise (accuracy, F1 or
   macro-F1, balanced accuracy, and a cost): Guided ES vs
   `LogisticRegression` vs `LogisticRegression` in a
   `TunedThresholdClassifierCV` tuned for the same metric (binary only),
   with fit times, the ratio of Guided ES's to the tuned logistic
   regression's, and the Brier score of ``predict_proba`` against the
   logistic regression's (binary).
2. Regression, the same cross-validation on diabetes: mean absolute error
   and pinball loss (quantile 0.9), Guided ES vs `HuberRegressor` and
   `QuantileRegressor`.
3. Initialisation: Guided ES started from the surrogate-loss minimiser vs a
   random start, same budget.
4. A sign-activation network on digits: Guided ES vs straight-through
   gradient descent (surrogate only) vs pure ES, from the same random start
   and with the same number of iterations.

Every model sees the same folds, so each baseline row also gives the paired
difference from Guided ES, fold by fold: its mean and standard error (the
folds of one shuffle are not independent, so the error is a rough guide).

Run ``python benchmarks/estimators.py`` (about half an hour on two cores) or
``python benchmarks/estimators.py --quick`` (seconds; a smoke run on small
subsets with tiny budgets whose numbers mean nothing).
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits,
                              make_classification)
from sklearn.linear_model import HuberRegressor, LogisticRegression, QuantileRegressor
from sklearn.metrics import fbeta_score, make_scorer, mean_pinball_loss
from sklearn.model_selection import (KFold, StratifiedKFold, TunedThresholdClassifierCV,
                                     cross_validate, train_test_split)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ges_minimize import GuidedESClassifier, GuidedESRegressor
from ges_minimize.estimators import _model
from ges_minimize._steps import Adam


# -- metrics ---------------------------------------------------------------------
def malignant_cost(y_true, y_pred):
    """Breast cancer: a missed malignant tumour (true 0, predicted 1) costs 5,
    a false alarm (true 1, predicted 0) costs 1. Mean cost per patient."""
    return np.mean(5.0 * ((y_true == 0) & (y_pred == 1))
                   + 1.0 * ((y_true == 1) & (y_pred == 0)))


def digit_distance(y_true, y_pred):
    """Digits: an error costs the distance between the digits, |true - pred|."""
    return np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred)))


BINARY_METRICS = {
    "accuracy": "accuracy",
    "F1": "f1",
    "balanced accuracy": "balanced_accuracy",
    "cost (5 FN + FP)": make_scorer(malignant_cost, greater_is_better=False),
}
def missed_positive_cost(y_true, y_pred):
    """Imbalanced task: a missed positive costs 10, a false alarm 1."""
    return np.mean(10.0 * ((y_true == 1) & (y_pred == 0))
                   + 1.0 * ((y_true == 0) & (y_pred == 1)))


IMBALANCED_METRICS = {
    "F2": make_scorer(fbeta_score, beta=2),
    "cost (10 FN + FP)": make_scorer(missed_positive_cost, greater_is_better=False),
}


def imbalanced(seed=0):
    """2,400 x 20 (8 informative), 10% positive, 3% of the labels flipped."""
    return make_classification(n_samples=2400, n_features=20, n_informative=8,
                               weights=[0.9, 0.1], flip_y=0.03, class_sep=0.8,
                               random_state=seed)


MULTICLASS_METRICS = {
    "accuracy": "accuracy",
    "macro-F1": "f1_macro",
    "balanced accuracy": "balanced_accuracy",
    "cost abs(true - pred)": make_scorer(digit_distance, greater_is_better=False),
}
PINBALL_QUANTILE = 0.9
REGRESSION_METRICS = {
    "MAE": ("neg_mean_absolute_error", 0.5),
    f"pinball {PINBALL_QUANTILE}": (
        make_scorer(mean_pinball_loss, alpha=PINBALL_QUANTILE,
                    greater_is_better=False), PINBALL_QUANTILE),
}


def _logistic():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))


def _cv_scores(estimator, X, y, scoring, cvs, brier=False):
    """Test scores of every fold of every splitter in `cvs`; mean fit time;
    with `brier`, the mean Brier score of ``predict_proba`` (binary)."""
    scorers = {"score": scoring}
    if brier:
        scorers["brier"] = "neg_brier_score"
    runs = [cross_validate(estimator, X, y, scoring=scorers, cv=cv) for cv in cvs]
    return (np.concatenate([res["test_score"] for res in runs]),
            np.mean([res["fit_time"].mean() for res in runs]),
            -np.mean([res["test_brier"] for res in runs]) if brier else None)


def _compare(rows, data, label, results, loss, digits, reference=None):
    """Table rows for `results` [(model, (scores, fit time, Brier))], Guided
    ES first: mean ± std (the loss for a loss), best in bold, each baseline's
    paired difference from Guided ES (positive: Guided ES better), the fit
    time and its ratio to the `reference` model's, and the Brier score (and
    its ratio to the first baseline's, the logistic regression) when
    measured."""
    sign = -1.0 if loss else 1.0
    means = [sign * scores.mean() for _, (scores, _, _) in results]
    best = (min if loss else max)(means)
    ours = results[0][1][0]
    times = dict((model, seconds) for model, (_, seconds, _) in results)
    base_brier = results[1][1][2] if len(results) > 1 else None
    for (model, (scores, seconds, brier)), mean in zip(results, means):
        score = f"{mean:.{digits}f} ± {scores.std():.{digits}f}"
        if mean == best:
            score = f"**{score}**"
        if model == results[0][0]:
            gain = "—"
        else:
            d = ours - scores           # in the scorer's terms: greater is better
            gain = f"{d.mean():+.{digits}f} ± {d.std(ddof=1) / np.sqrt(d.size):.{digits}f}"
        ratio = (f"{seconds / times[reference]:.1f}x" if reference in times
                 else "—")
        calibration = ("—" if brier is None else
                       f"{brier:.4f} ({brier / base_brier:.3f}x)")
        rows.append([data, label, model, score, gain, f"{seconds:.3f}", ratio,
                     calibration])


def _progress(*what):
    print("...", *what, file=sys.stderr, flush=True)


def _table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _splitters(kind, quick, seed, repeats):
    n_splits = 2 if quick else 5
    return [kind(n_splits, shuffle=True, random_state=seed + r)
            for r in range(1 if quick else repeats)]


# -- 1. classification -------------------------------------------------------------
def classification(quick, seed, repeats, options):
    datasets = [("breast cancer", load_breast_cancer(return_X_y=True), BINARY_METRICS),
                ("imbalanced", imbalanced(), IMBALANCED_METRICS),
                ("digits", load_digits(return_X_y=True), MULTICLASS_METRICS)]
    budget = {**(dict(max_iter=5) if quick else {}), **options}
    rows = []
    for name, (X, y), metrics in datasets:
        if quick:
            X, _, y, _ = train_test_split(X, y, train_size=200, stratify=y,
                                          random_state=seed)
        cvs = _splitters(StratifiedKFold, quick, seed, repeats)
        for label, scoring in metrics.items():
            _progress(name, label)
            models = [("GuidedESClassifier",
                       GuidedESClassifier(scoring, random_state=seed, **budget)),
                      ("LogisticRegression", _logistic())]
            if len(np.unique(y)) == 2:
                models.append(("LR + TunedThreshold",
                               TunedThresholdClassifierCV(_logistic(), scoring=scoring,
                                                          cv=2 if quick else 5)))
            binary = len(np.unique(y)) == 2
            results = [(model, _cv_scores(est, X, y, scoring, cvs, brier=binary))
                       for model, est in models]
            reference = "LR + TunedThreshold" if binary else "LogisticRegression"
            _compare(rows, name, label, results, label.startswith("cost"), 4,
                     reference)
    _table(f"Classification: 5-fold CV x {len(cvs)} shuffle(s), test score of "
           "the metric each model maximises (cost: lower is better; best in "
           "bold); fit time and its ratio to LR + TunedThreshold's (binary) or "
           "LogisticRegression's (multiclass); Brier score of predict_proba "
           "and its ratio to LogisticRegression's (binary)",
           ["data", "metric", "model", "mean ± std", "Guided ES better by",
            "fit time (s)", "time ratio", "Brier (ratio)"], rows)


# -- 2. regression ---------------------------------------------------------------------
def regression(quick, seed, repeats, options):
    X, y = load_diabetes(return_X_y=True)
    budget = {**(dict(max_iter=5) if quick else {}), **options}
    cvs = _splitters(KFold, quick, seed, repeats)
    rows = []
    for label, (scoring, quantile) in REGRESSION_METRICS.items():
        _progress("diabetes", label)
        models = [
            ("GuidedESRegressor", GuidedESRegressor(scoring, random_state=seed,
                                                    **budget)),
            ("HuberRegressor", make_pipeline(StandardScaler(),
                                             HuberRegressor(max_iter=1000))),
            (f"QuantileRegressor(q={quantile})",
             make_pipeline(StandardScaler(),
                           QuantileRegressor(quantile=quantile, alpha=0.0))),
        ]
        results = [(model, _cv_scores(est, X, y, scoring, cvs))
                   for model, est in models]
        _compare(rows, "diabetes", label, results, True, 2, models[2][0])
    _table(f"Regression: 5-fold CV x {len(cvs)} shuffle(s), test loss (lower is "
           "better; best in bold); fit time and its ratio to QuantileRegressor's",
           ["data", "loss", "model", "mean ± std", "Guided ES better by",
            "fit time (s)", "time ratio", "Brier (ratio)"], rows)


# -- 3. initialisation -----------------------------------------------------------------
def initialisation(quick, seed, repeats, options):
    budget = dict(max_iter=5) if quick else {}
    cases = [("breast cancer", load_breast_cancer(return_X_y=True), "f1"),
             ("digits", load_digits(return_X_y=True), "accuracy")]
    rows = []
    for name, (X, y), scoring in cases:
        if quick:
            X, _, y, _ = train_test_split(X, y, train_size=200, stratify=y,
                                          random_state=seed)
        cv = StratifiedKFold(2 if quick else 5, shuffle=True, random_state=seed)
        for init in ("surrogate", "random"):
            _progress(name, f"init={init}")
            # the same budget for both starts (random starts skip cv anyway)
            est = GuidedESClassifier(scoring, init=init, early_stopping=False,
                                     random_state=seed, **budget)
            res = cross_validate(est, X, y, scoring=scoring, cv=cv,
                                 return_estimator=True)
            start = np.mean([e.init_score_ for e in res["estimator"]])
            end = np.mean([e.objective_curve_.max() for e in res["estimator"]])
            rows.append([name, scoring, init, f"{start:.4f}", f"{end:.4f}",
                         f"{res['test_score'].mean():.4f} ± {res['test_score'].std():.4f}",
                         f"{res['fit_time'].mean():.2f}"])
    _table("Initialisation: training score at the start and at the end, "
           "5-fold CV test score",
           ["data", "metric", "init", "train start", "train end", "test",
            "fit time (s)"], rows)


# -- 4. sign network ---------------------------------------------------------------------
def _straight_through(X, y, hidden, n_iter, seed, learning_rate=0.01):
    """Adam on the straight-through gradient of the log loss (surrogate only)."""
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


def sign_network(quick, seed, repeats, options):
    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:400], y[:400]
    hidden = (16,) if quick else (32,)
    n_iter = 10 if quick else 1000
    seeds = [seed] if quick else [seed, seed + 1, seed + 2]
    n_pairs = 5
    results = {}
    for s in seeds:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=s)
        _progress("sign network", f"split {s}")
        common = dict(hidden_layer_sizes=hidden, init="random", max_iter=n_iter,
                      n_pairs=n_pairs, random_state=s)
        for label, est in [("Guided ES", GuidedESClassifier(**common)),
                           ("pure ES", GuidedESClassifier(surrogate_loss=None, **common))]:
            t = time.perf_counter()
            est.fit(X_tr, y_tr)
            results.setdefault(label, []).append(
                (est.score(X_tr, y_tr), est.score(X_te, y_te), time.perf_counter() - t))
        t = time.perf_counter()
        with threadpool_limits(limits=1, user_api="blas"):   # as the estimators do
            predict = _straight_through(X_tr, y_tr, hidden, n_iter, s)
        results.setdefault("surrogate only (straight-through Adam)", []).append(
            (np.mean(predict(X_tr) == y_tr), np.mean(predict(X_te) == y_te),
             time.perf_counter() - t))
    budgets = {"Guided ES": (n_iter * (2 * n_pairs + 1), n_iter),
               "pure ES": (n_iter * (2 * n_pairs + 1), 0),
               "surrogate only (straight-through Adam)": (0, n_iter)}
    rows = []
    for label, runs in results.items():
        train, test, seconds = np.array(runs).T
        nfev, ngrad = budgets[label]
        rows.append([label, f"{nfev}", f"{ngrad}", f"{train.mean():.4f}",
                     f"{test.mean():.4f} ± {test.std():.4f}", f"{seconds.mean():.2f}"])
    _table(f"Sign network {X.shape[1]}-{'-'.join(map(str, hidden))}-10 on digits, "
           f"{n_iter} iterations from the same random start, {len(seeds)} "
           "split(s) 70/30: accuracy",
           ["method", "score evaluations", "surrogate gradients", "train",
            "test", "fit time (s)"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run in seconds (numbers mean nothing)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3,
                        help="shuffles of the 5-fold cross-validation (seed, seed + 1, ...)")
    parser.add_argument("--early-stopping", choices=["cv", "false"], default="cv",
                        help="early_stopping of the Guided ES models in the "
                             "classification and regression tables")
    parser.add_argument("--only", choices=["classification", "regression",
                                           "initialisation", "network"])
    args = parser.parse_args(argv)
    sections = {"classification": classification, "regression": regression,
                "initialisation": initialisation, "network": sign_network}
    options = dict(early_stopping="cv" if args.early_stopping == "cv" else False)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # convergence chatter of the baselines
        for name, run in sections.items():
            if args.only in (None, name):
                run(args.quick, args.seed, args.repeats, options)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
