"""Tests for the Bayes decisions of GuidedESClassifier: for several classes
and a scorer linear in the confusion matrix (a cost matrix, balanced
accuracy), ``predict`` is the class of least expected cost under the softmax
of the decision model's outputs, in the fast path as in ``predict``."""
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import balanced_accuracy_score, get_scorer, make_scorer
from sklearn.utils._param_validation import InvalidParameterError

from ges_minimize import GuidedESClassifier
from ges_minimize.estimators import _decision, _metrics, _model
from ges_minimize.estimators._objective import Data, NegativeScore

COST = np.random.default_rng(0).uniform(1, 10, (4, 4)) * (1 - np.eye(4))


def _cost(y_true, y_pred, sample_weight=None):
    return np.average(COST[y_true, y_pred], weights=sample_weight)


def _total_cost(y_true, y_pred, sample_weight=None):
    w = np.ones(len(y_true)) if sample_weight is None else sample_weight
    return float(w @ COST[y_true, y_pred])


COST_SCORER = make_scorer(_cost, greater_is_better=False)
START = dict(max_iter=1, learning_rate=1e-12, selection="last", random_state=0)


def _softmax_by_hand(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _bayes_by_hand(Z, C):
    """argmin_j sum_i p_i C[i, j], one row at a time."""
    return np.array([int(np.argmin(_softmax_by_hand(z) @ C)) for z in Z])


# -- the rule -----------------------------------------------------------------
def test_bayes_codes_are_the_rule_by_hand():
    rng = np.random.default_rng(0)
    for K in (3, 4, 6):
        C = rng.uniform(0, 5, (K, K))
        Z = 3 * rng.normal(size=(5, 40, K))
        codes = _decision.bayes_codes(Z, C)
        assert codes.shape == (5, 40)
        for s in range(5):
            assert_array_equal(codes[s], _bayes_by_hand(Z[s], C))
        assert_array_equal(_decision.class_codes(Z[0], C), codes[0])
    # a 0-1 cost (or a gain on the diagonal alone, all equal) is the argmax
    Z = rng.normal(size=(50, 3))
    assert_array_equal(_decision.bayes_codes(Z, 1 - np.eye(3)), Z.argmax(axis=1))


def test_which_costs_are_the_argmax():
    assert _decision.is_argmax_cost(1 - np.eye(4))
    assert _decision.is_argmax_cost(-np.eye(4))                 # accuracy's gain
    # a constant per true class changes no decision
    assert _decision.is_argmax_cost(2 * (1 - np.eye(3)) + [[1.0], [5.0], [-2.0]])
    assert not _decision.is_argmax_cost(COST)
    assert not _decision.is_argmax_cost(-np.diag([1.0, 2.0, 3.0]))
    assert not _decision.is_argmax_cost(np.eye(3) - 1)          # errors pay


def test_linear_gain_of_accuracy_and_balanced_accuracy():
    classes = np.arange(3)
    codes = np.array([0, 0, 0, 1, 2, 2])
    weights = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 1.0])
    gain = _metrics.linear_gain(balanced_accuracy_score, {}, classes)
    G = gain(codes, weights)
    # the priors of the weights: 4/7, 1/7, 2/7
    assert_allclose(G, np.diag(7.0 / (3 * np.array([4.0, 1.0, 2.0]))))
    rng = np.random.default_rng(0)
    for _ in range(5):
        pred = rng.integers(0, 3, codes.size)
        assert balanced_accuracy_score(codes, pred, sample_weight=weights) == \
            pytest.approx(np.average(G[codes, pred], weights=weights), abs=1e-12)
    assert _metrics.linear_gain(balanced_accuracy_score, {"adjusted": True},
                                classes) is not None
    from sklearn.metrics import accuracy_score, f1_score
    assert_array_equal(_metrics.linear_gain(accuracy_score, {}, classes)(
        codes, weights), np.eye(3))
    assert _metrics.linear_gain(f1_score, {"average": "macro"}, classes) is None


# -- the fast path ------------------------------------------------------------
def _objective(scoring, X, y, weights, K):
    """A prepared NegativeScore of a K-class linear model, as a fit builds it,
    switched to the Bayes decisions if the scorer allows."""
    est = GuidedESClassifier(scoring)
    est.classes_ = np.arange(K)
    codes = y.copy()
    mean, scale = _model.standardisation(X, weights)
    data = Data(X, _model.standardise(X, mean, scale), y, codes,
                np.eye(K)[codes], weights)
    shapes = _model.layer_shapes(X.shape[1], (), K)
    objective = NegativeScore(est._template(), est._scorer(), scoring, shapes,
                              (mean, scale, 0.0, 1.0))
    theta = np.random.default_rng(0).normal(size=_model.n_parameters(shapes))
    objective.prepare(theta, data)
    costs = objective.decide_by_costs(theta, data)
    return objective, data, shapes, costs


@pytest.mark.parametrize("scoring, metric", [
    (COST_SCORER, lambda t, p, w: -_cost(t, p, w)),
    (make_scorer(_total_cost, greater_is_better=False),
     lambda t, p, w: -_total_cost(t, p, w)),
    ("balanced_accuracy",
     lambda t, p, w: balanced_accuracy_score(t, p, sample_weight=w)),
    (make_scorer(balanced_accuracy_score, adjusted=True),
     lambda t, p, w: balanced_accuracy_score(t, p, sample_weight=w, adjusted=True)),
], ids=["cost", "total_cost", "balanced_accuracy", "adjusted"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fast_path_decisions_are_the_bayes_rule(scoring, metric, weighted):
    rng = np.random.default_rng(1)
    n, p, K = 80, 3, 4
    X = rng.normal(size=(n, p))
    y = rng.integers(0, K, n)
    weights = rng.integers(1, 4, n).astype(float) if weighted else np.ones(n)
    objective, data, shapes, costs = _objective(scoring, X, y, weights, K)
    assert costs is not None and objective.costs is costs
    if isinstance(scoring, str) or scoring._score_func is balanced_accuracy_score:
        prior = np.bincount(y, weights=weights) / weights.sum()
        assert_allclose(costs, -np.diag(1.0 / (K * prior)), rtol=1e-12)
    else:
        assert_allclose(costs, COST, rtol=1e-10, atol=1e-10)
    for trial in range(6):
        thetas = rng.normal(size=(7, _model.n_parameters(shapes))) * (1 + 2 * (trial % 3))
        fast = objective.scores(thetas, data, objective.mode)
        by_hand = []
        for s, theta in enumerate(thetas):
            (W, b), = objective.layers(theta)      # on the original inputs
            decisions = _bayes_by_hand(X @ W + b, costs)
            assert_array_equal(objective.predictions(thetas[s:s + 1], data)[0],
                               decisions)
            by_hand.append(metric(y, decisions, weights if weighted else None))
        assert_allclose(fast, by_hand, rtol=1e-12, atol=1e-12)
        # the scorer on the model of each candidate agrees: predict decides alike
        assert_allclose(objective.scores(thetas, data, "scorer"), by_hand,
                        rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize("scoring", ["accuracy", "f1_macro", "matthews_corrcoef",
                                     "precision_macro"])
def test_other_metrics_keep_the_largest_output(scoring):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(80, 3)), rng.integers(0, 4, 80)
    objective, _, _, costs = _objective(scoring, X, y, np.ones(80), 4)
    assert costs is None and objective.costs is None
    assert objective.mode == "confusion"


# -- the estimator ------------------------------------------------------------
@pytest.fixture(scope="module")
def multinomial4():
    """4,000 rows of a multinomial logistic model (calibrated logistic
    regression), 4 classes of about 50/25/15/10%, split in halves."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 3))
    Z = X @ rng.normal(size=(3, 4)) + [0.0, -0.7, -1.2, -1.6]
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    y = (rng.random(4000)[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
    return X[:2000], X[2000:], y[:2000], y[2000:]


def test_a_cost_matrix_gives_the_bayes_decisions(multinomial4):
    Xtr, Xte, ytr, yte = multinomial4
    clf = GuidedESClassifier(COST_SCORER, **START).fit(Xtr, ytr)
    assert clf.decision_rule_ == "bayes"
    assert_allclose(clf.cost_matrix_, COST, rtol=1e-10, atol=1e-10)
    # no class offsets on top of the Bayes decisions
    assert not hasattr(clf, "class_offsets_")
    # predict is the Bayes rule on the softmax of the decision model
    Z = clf.decision_function(Xte)
    assert_array_equal(clf.predict(Xte), _bayes_by_hand(Z, COST))
    # the start unmoved: the decision model is the probability model, so
    # predict is the Bayes decision on predict_proba (the logistic regression)
    P = clf.predict_proba(Xte)
    assert_allclose(_decision.probabilities(Z), P, atol=1e-9)
    assert_array_equal(clf.predict(Xte), np.argmin(P @ COST, axis=1))
    assert clf.init_score_ == pytest.approx(-_cost(ytr, clf.predict(Xtr)))
    # on new data it costs less than the most probable class
    plain = GuidedESClassifier(COST_SCORER, cv=None, decision="argmax",
                               **START).fit(Xtr, ytr)
    assert plain.decision_rule_ == "argmax"
    assert_allclose(plain.predict_proba(Xte), P, atol=1e-9)
    assert _cost(yte, clf.predict(Xte)) < 0.95 * _cost(yte, plain.predict(Xte))


def test_no_class_offsets_on_the_bayes_decisions(imbalanced4):
    """Even where the logistic regression's probabilities are off (its model
    is not the data's), the start's decisions are its Bayes decisions."""
    Xtr, Xte, ytr, yte = imbalanced4
    clf = GuidedESClassifier(COST_SCORER, **START).fit(Xtr, ytr)
    assert clf.decision_rule_ == "bayes" and not hasattr(clf, "class_offsets_")
    P = clf.predict_proba(Xte)
    assert_array_equal(clf.predict(Xte), np.argmin(P @ COST, axis=1))
    # the same decisions as without cv
    plain = GuidedESClassifier(COST_SCORER, cv=None, **START).fit(Xtr, ytr)
    assert_array_equal(plain.predict(Xte), clf.predict(Xte))


def test_the_climb_moves_the_parameters_under_the_bayes_rule(imbalanced4):
    Xtr, _, ytr, _ = imbalanced4
    start = GuidedESClassifier(COST_SCORER, **START).fit(Xtr, ytr)
    clf = GuidedESClassifier(COST_SCORER, max_iter=100, early_stopping=False,
                             random_state=0).fit(Xtr, ytr)
    assert clf.decision_rule_ == "bayes"
    assert clf.init_score_ == pytest.approx(start.init_score_)
    assert -_cost(ytr, clf.predict(Xtr)) > clf.init_score_
    assert_array_equal(clf.predict(Xtr), _bayes_by_hand(clf.decision_function(Xtr),
                                                         clf.cost_matrix_))
    # predict_proba stays the start's
    assert_allclose(clf.predict_proba(Xtr), start.predict_proba(Xtr), atol=1e-12)
    # early_stopping='cv' chooses the length under the same rule
    cv = GuidedESClassifier(COST_SCORER, max_iter=30, random_state=0).fit(Xtr, ytr)
    assert cv.decision_rule_ == "bayes"
    assert cv.n_iter_ in cv.cv_checkpoints_
    assert cv.cv_scores_.shape[0] == 5


@pytest.mark.parametrize("scoring", [
    "balanced_accuracy", make_scorer(balanced_accuracy_score, adjusted=True)],
    ids=["balanced_accuracy", "adjusted"])
def test_balanced_accuracy_is_recognised(imbalanced4, scoring):
    Xtr, Xte, ytr, yte = imbalanced4
    clf = GuidedESClassifier(scoring, **START).fit(Xtr, ytr)
    assert clf.decision_rule_ == "bayes"
    prior = np.bincount(ytr) / ytr.size
    assert_allclose(clf.cost_matrix_, -np.diag(1 / (4 * prior)), rtol=1e-12)
    # the decision argmax p_i / prior_i
    P = clf.predict_proba(Xte)
    assert_array_equal(clf.predict(Xte), np.argmax(P / prior, axis=1))
    plain = GuidedESClassifier(scoring, cv=None, decision="argmax",
                               **START).fit(Xtr, ytr)
    scorer = get_scorer(scoring)
    assert scorer(clf, Xte, yte) > scorer(plain, Xte, yte) + 0.05


def test_what_keeps_the_largest_output(imbalanced4):
    Xtr, _, ytr, _ = imbalanced4
    X, y = Xtr[:600], ytr[:600]
    fit = lambda scoring, **kw: GuidedESClassifier(scoring, **{**START, **kw}).fit(X, y)
    # accuracy: its Bayes decision is the most probable class, with offsets
    acc = fit("accuracy")
    assert acc.decision_rule_ == "argmax" and hasattr(acc, "class_offsets_")
    assert not hasattr(acc, "cost_matrix_")
    # metrics that are not linear in the confusion matrix
    for scoring in ("f1_macro", "neg_log_loss"):
        assert fit(scoring).decision_rule_ == "argmax"
    # off the Bayes path, decision='auto' is decision='argmax', to the bit
    for scoring in ("accuracy", "f1_macro"):
        climbed = dict(max_iter=15, learning_rate=None, selection="auto")
        auto, argmax = fit(scoring, **climbed), fit(scoring, decision="argmax", **climbed)
        assert_array_equal(auto.coef_, argmax.coef_)
        assert_array_equal(auto.intercept_, argmax.intercept_)
    # no calibrated probability model: hinge, no surrogate, a random start
    assert fit(COST_SCORER, surrogate_loss="hinge").decision_rule_ == "argmax"
    assert fit(COST_SCORER, surrogate_loss=None).decision_rule_ == "argmax"
    assert fit(COST_SCORER, init="random").decision_rule_ == "argmax"
    # a scorer the fast path does not recognise: a callable
    assert fit(lambda est, X_, y_: -_cost(y_, est.predict(X_))).decision_rule_ \
        == "argmax"
    # switched off
    off = fit(COST_SCORER, decision="argmax")
    assert off.decision_rule_ == "argmax" and hasattr(off, "class_offsets_")
    # two classes: the sign of the log-odds shifted to the Bayes threshold,
    # then the threshold tuned on the folds from there
    binary_cost = make_scorer(lambda t, p: np.mean(np.where(t, 5.0, 1.0) * (t != p)),
                              greater_is_better=False)
    binary = GuidedESClassifier(binary_cost, **START).fit(X, y == 0)
    assert binary.decision_rule_ == "argmax" and hasattr(binary, "intercept_shift_")
    assert binary.bayes_shift_ == pytest.approx(np.log(5.0), rel=1e-12)
    assert not hasattr(binary, "cost_matrix_")
    # ... but not for accuracy, whose threshold is p = 1/2
    assert not hasattr(GuidedESClassifier("accuracy", **START).fit(X, y == 0),
                       "bayes_shift_")


def test_seeded_bayes_fits_are_reproducible(imbalanced4):
    Xtr, Xte, ytr, _ = imbalanced4
    X, y = Xtr[:800], ytr[:800]
    fit = lambda **kw: GuidedESClassifier(COST_SCORER, max_iter=20,
                                          random_state=3, **kw).fit(X, y)
    first, again = fit(), fit()
    assert first.decision_rule_ == "bayes"
    assert_array_equal(first.coef_, again.coef_)
    assert_array_equal(first.intercept_, again.intercept_)
    assert_array_equal(first.cv_scores_, again.cv_scores_)
    assert_array_equal(first.predict(Xte), again.predict(Xte))
    # a pickled fit decides alike
    assert_array_equal(pickle.loads(pickle.dumps(first)).predict(Xte),
                       first.predict(Xte))
    # whatever n_jobs (the fold climbs in workers)
    parallel = fit(n_jobs=2)
    assert_array_equal(parallel.coef_, first.coef_)
    assert_array_equal(parallel.cv_scores_, first.cv_scores_)


def test_warm_start_keeps_the_bayes_rule(imbalanced4):
    Xtr, _, ytr, _ = imbalanced4
    X, y = Xtr[:600], ytr[:600]
    clf = GuidedESClassifier(COST_SCORER, max_iter=5, early_stopping=False,
                             warm_start=True, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    clf.fit(X, y)
    assert clf.decision_rule_ == "bayes"
    assert_allclose(clf.cost_matrix_, COST, rtol=1e-10, atol=1e-10)
    assert_allclose(clf.predict_proba(X), proba)


def test_decision_is_validated(imbalanced4):
    Xtr, _, ytr, _ = imbalanced4
    with pytest.raises(InvalidParameterError, match="'decision' parameter.*'bayes'"):
        GuidedESClassifier(COST_SCORER, decision="bayes").fit(Xtr[:50], ytr[:50])


def test_binary_bayes_shift_is_the_threshold_of_the_costs(imbalanced4):
    # the rule: predict the second class when z > log(a / b)
    C = np.array([[0.5, 3.0], [2.0, -1.0]])        # a = 2.5, b = 3
    shift = _decision.bayes_shift(C)
    assert shift == pytest.approx(np.log(3.0 / 2.5), rel=1e-12)
    z = np.linspace(-3, 3, 601)
    p = 1 / (1 + np.exp(-z))
    by_hand = (np.column_stack([1 - p, p]) @ C).argmin(axis=1)
    inside = np.abs(z - np.log(2.5 / 3.0)) > 1e-9  # off the tie itself
    assert_array_equal((z + shift > 0)[inside], by_hand[inside] == 1)
    # no threshold: equal errors, an error that costs nothing extra, NaN
    for bad in (2 * (1 - np.eye(2)), np.array([[0.0, 0.0], [1.0, 0.0]]),
                np.array([[0.0, np.nan], [1.0, 0.0]]), np.ones((3, 3))):
        assert _decision.bayes_shift(bad) is None
    # balanced accuracy: the threshold is the prior of the second class
    Xtr, _, ytr, _ = imbalanced4
    X, y = Xtr[:600], (ytr[:600] == 0)
    clf = GuidedESClassifier("balanced_accuracy", **START).fit(X, y)
    prior = y.mean()
    assert clf.bayes_shift_ == pytest.approx(np.log((1 - prior) / prior), rel=1e-9)
    # with weights, the weighted prior
    w = np.where(y, 3.0, 1.0)
    weighted = GuidedESClassifier("balanced_accuracy", **START).fit(X, y, sample_weight=w)
    wprior = w[y].sum() / w.sum()
    assert weighted.bayes_shift_ == pytest.approx(np.log((1 - wprior) / wprior),
                                                  rel=1e-9)
