"""Tests for ges_minimize.estimators._ranking: the metrics of a ranking against
brute force and scikit-learn, their errors, and the estimators' fast path for
them equal to scikit-learn's scorer to 1e-12 (ties, sample weights)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import make_scorer, precision_recall_curve, roc_auc_score

from ges_minimize import GuidedESClassifier
from ges_minimize.estimators import _model, precision_at_top, recall_at_precision
from ges_minimize.estimators._objective import Data, NegativeScore


def _brute_recall_at_precision(y, s, w, min_precision):
    """Every distinct score as a threshold, one at a time."""
    best = 0.0
    for t in np.unique(s):
        called = s >= t
        tp, n_called = w[called & (y == 1)].sum(), w[called].sum()
        if n_called > 0 and tp / n_called >= min_precision:
            best = max(best, tp / w[y == 1].sum())
    return best


def _brute_precision_at_top(y, s, w, fraction):
    """Integer weights as repeated rows, ties averaged over every order:
    the boundary group of ties counts with its own share of positives."""
    rows_y = np.repeat(y, w.astype(int))
    rows_s = np.repeat(s, w.astype(int))
    k = fraction * rows_y.size
    taken, positives = 0.0, 0.0
    for value in np.unique(rows_s)[::-1]:
        group = rows_y[rows_s == value]
        take = min(group.size, k - taken)
        if take <= 0:
            break
        positives += take * group.mean()
        taken += take
    return positives / k


def _random_case(rng, trial):
    n = int(rng.integers(3, 50))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]                                   # both classes
    # every other case on a few levels: many ties
    s = rng.integers(0, 5, n).astype(float) if trial % 2 else rng.normal(size=n)
    w = rng.integers(1, 4, n).astype(float)
    return y, s, w


def test_metrics_equal_brute_force_with_ties_and_weights():
    rng = np.random.default_rng(0)
    for trial in range(200):
        y, s, w = _random_case(rng, trial)
        for level in (0.0, 0.3, 0.75, 1.0):
            assert recall_at_precision(y, s, min_precision=level, sample_weight=w) \
                == pytest.approx(_brute_recall_at_precision(y, s, w, level), abs=1e-12)
        for fraction in (0.05, 0.25, 0.5, 1.0):
            assert precision_at_top(y, s, fraction=fraction, sample_weight=w) \
                == pytest.approx(_brute_precision_at_top(y, s, w, fraction), abs=1e-12)


def test_recall_at_precision_agrees_with_the_precision_recall_curve():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = y + rng.normal(size=300)
    precision, recall, _ = precision_recall_curve(y, s)
    for level in (0.6, 0.8, 0.95):
        expected = recall[precision >= level].max()
        assert recall_at_precision(y, s, min_precision=level) == pytest.approx(
            expected, abs=1e-12)
    # no threshold that precise (the best sample is a negative): 0
    assert recall_at_precision([1, 0, 1], [0.1, 0.9, 0.2], min_precision=1.0) == 0.0


def test_a_weight_is_repeated_rows_and_row_order_does_not_matter():
    rng = np.random.default_rng(2)
    y, s, w = _random_case(rng, 1)
    w = w.astype(int)
    order = rng.permutation(y.size)
    for metric, kw in ((recall_at_precision, {"min_precision": 0.6}),
                       (precision_at_top, {"fraction": 0.3})):
        weighted = metric(y, s, sample_weight=w, **kw)
        repeated = metric(np.repeat(y, w), np.repeat(s, w), **kw)
        shuffled = metric(y[order], s[order], sample_weight=w[order], **kw)
        assert weighted == pytest.approx(repeated, abs=1e-12)
        assert weighted == pytest.approx(shuffled, abs=1e-12)


def test_labels_and_pos_label():
    y = np.array(["no", "yes", "yes", "no", "yes"])
    s = np.array([0.2, 0.9, 0.7, 0.6, 0.1])
    # the greater label, 'yes', is positive by default
    assert precision_at_top(y, s, fraction=0.4) == 1.0
    assert precision_at_top(y, s, fraction=0.4, pos_label="no") == 0.0
    assert precision_at_top(y, -s, fraction=0.4, pos_label="no") == 0.5
    assert recall_at_precision(y, s, min_precision=0.65) == pytest.approx(2 / 3)
    assert recall_at_precision(y, s, min_precision=0.6) == 1.0     # all 5: 3/5


@pytest.mark.parametrize("call, message", [
    (lambda: recall_at_precision([0, 1], [0.1, 0.2], min_precision=1.5),
     r"min_precision must be a real number in \[0.0, 1.0\], got 1.5"),
    (lambda: precision_at_top([0, 1], [0.1, 0.2], fraction=0),
     r"fraction must be a real number in \(0.0, 1.0\], got 0"),
    (lambda: precision_at_top([0, 1], [0.1, 0.2], fraction="half"),
     r"fraction must be a real number in \(0.0, 1.0\], got 'half'"),
    (lambda: precision_at_top([0, 1, 2], [0.1, 0.2, 0.3], fraction=0.5),
     r"y_true must hold two classes \(a binary task\), got 3"),
    (lambda: precision_at_top([1, 1], [0.1, 0.2], fraction=0.5),
     r"y_true holds only the class 1; with pos_label=None"),
    (lambda: precision_at_top([0, 1], [0.1, 0.2, 0.3], fraction=0.5),
     r"inconsistent numbers of samples"),
    (lambda: precision_at_top([0, 1], [0.1, np.nan], fraction=0.5),
     r"Input y_score contains NaN"),
    (lambda: precision_at_top([0, 1], [0.1, 0.2], fraction=0.5,
                              sample_weight=[1, -1]),
     r"sample_weight must be non-negative, got -1.0"),
    (lambda: precision_at_top([0, 1], [0.1, 0.2], fraction=0.5,
                              sample_weight=[0, 0]),
     r"sample_weight must not be all zero"),
    (lambda: recall_at_precision([0, 1], [0.1, 0.2], min_precision=0.5,
                                 sample_weight=[1, 0]),
     r"no positive sample with a positive weight"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- the fast path ------------------------------------------------------------------
SCORERS = [
    make_scorer(recall_at_precision, response_method="decision_function",
                min_precision=0.8),
    make_scorer(recall_at_precision, response_method="predict_proba",
                min_precision=0.6, pos_label=0),
    make_scorer(precision_at_top, response_method="decision_function", fraction=0.1),
    make_scorer(precision_at_top, response_method=("predict_proba",
                                                   "decision_function"),
                fraction=0.37, pos_label=0),
    make_scorer(roc_auc_score, response_method="decision_function", max_fpr=0.1),
    make_scorer(roc_auc_score, response_method=("decision_function",
                                                "predict_proba"), max_fpr=0.5),
    make_scorer(roc_auc_score, response_method="predict_proba"),
    "roc_auc",
]


def _objective(scoring, X, y, weights):
    """A prepared NegativeScore of a binary classifier, as a fit builds it."""
    est = GuidedESClassifier(scoring)
    est.classes_ = np.array([0, 1])
    codes = y
    mean, scale = _model.standardisation(X, weights)
    data = Data(X, _model.standardise(X, mean, scale), y, codes,
                codes[:, None].astype(float), weights)
    shapes = _model.layer_shapes(X.shape[1], (), 1)
    objective = NegativeScore(est._template(), est._scorer(), scoring, shapes,
                              (mean, scale, 0.0, 1.0))
    rng = np.random.default_rng(0)
    objective.prepare(rng.normal(size=_model.n_parameters(shapes)), data)
    return objective, data, shapes


@pytest.mark.parametrize("scoring", SCORERS, ids=str)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_fast_path_equals_the_scorer(scoring, ties, weighted):
    rng = np.random.default_rng(3)
    n = 80
    # features on three levels: many rows share their outputs (ties)
    X = (rng.integers(0, 3, (n, 2)).astype(float) if ties
         else rng.normal(size=(n, 3)))
    y = rng.integers(0, 2, n)
    weights = rng.integers(1, 4, n).astype(float) if weighted else np.ones(n)
    objective, data, shapes = _objective(scoring, X, y, weights)
    assert objective.mode == "ranking"
    for trial in range(6):
        thetas = rng.normal(size=(7, _model.n_parameters(shapes))) * (1 + 3 * (trial % 3))
        fast = objective.scores(thetas, data, "ranking")
        slow = objective.scores(thetas, data, "scorer")
        assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    if ties:        # the outputs did tie
        Z = objective.outputs(thetas, data)[0, :, 0]
        assert np.unique(Z).size < n / 2


def test_other_rankings_keep_the_scorer():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    others = [make_scorer(roc_auc_score, response_method="decision_function",
                          max_fpr=0.5, average="macro"),
              "average_precision"]
    for scoring in others:
        objective, _, _ = _objective(scoring, X, y, np.ones(40))
        assert objective.mode == "scorer"


def test_fit_with_a_ranking_scorer():
    """The fast path fits exactly as the scorer would, and the climb raises
    the recall at a precision of 0.95 on the training data."""
    X, y = load_breast_cancer(return_X_y=True)
    y = 1 - y                                         # malignant is positive
    scorer = make_scorer(recall_at_precision, response_method="decision_function",
                         min_precision=0.98)

    def by_hand(est, X_, y_):
        return recall_at_precision(y_, est.decision_function(X_), min_precision=0.98)

    common = dict(max_iter=30, early_stopping=False, random_state=0,
                  l2_regularization=0.1)
    fast = GuidedESClassifier(scorer, **common).fit(X, y)
    slow = GuidedESClassifier(by_hand, **common).fit(X, y)
    assert_array_equal(fast.objective_curve_, slow.objective_curve_)
    assert_allclose(fast.coef_, slow.coef_, rtol=1e-12)
    assert fast.objective_curve_[-1] > fast.init_score_
    # the metric ignores the intercept: the folds keep it
    assert fast.intercept_shift_ == 0
