"""Tests for ges_minimize.estimators._cv: the tuned intercept, the one-SE rule,
the number of iterations chosen on folds and when the fold climbs stop."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits,
                              make_blobs, make_classification)
from sklearn.metrics import (balanced_accuracy_score, get_scorer, make_scorer,
                             mean_pinball_loss)

from ges_minimize import GuidedESClassifier, GuidedESRegressor
from ges_minimize.estimators import _cv
from ges_minimize.estimators._cv import first_within_one_se as _first_within_one_se


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer, 569 x 30, binary."""
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def blobs3():
    """300 rows, 3 balanced, well separated classes."""
    return make_blobs(n_samples=300, centers=3, cluster_std=1.0, random_state=0)


def test_cv_tunes_the_intercept_for_the_scorer(cancer):
    X, y = cancer
    # a malignant tumour (class 0) called benign (1) costs 10, the converse 1
    # (at 5, the folds' gains from the shift are within their noise: no shift)
    cost = make_scorer(lambda t, p: -np.mean(10.0 * ((t == 0) & (p == 1))
                                             + 1.0 * ((t == 1) & (p == 0))))
    common = dict(max_iter=1, learning_rate=1e-12, selection="last",
                  random_state=0)
    tuned = GuidedESClassifier(cost, **common).fit(X, y)
    plain = GuidedESClassifier(cost, cv=None, **common).fit(X, y)
    sign = GuidedESClassifier(cost, cv=None, decision="argmax", **common).fit(X, y)
    assert not hasattr(plain, "intercept_shift_")
    assert not hasattr(sign, "bayes_shift_")
    # without folds, the Bayes threshold of the costs: p > 10 / 11
    assert plain.bayes_shift_ == pytest.approx(np.log(1 / 10), rel=1e-12)
    assert_allclose(plain.intercept_ - sign.intercept_, plain.bayes_shift_,
                    rtol=1e-9)
    # the folds move it further when they agree on it; either way, fewer
    # 'benign' calls than at p > 0.5: the intercept moves down, the
    # weights stay
    assert tuned.intercept_shift_ != 0
    assert tuned.bayes_shift_ + tuned.intercept_shift_ < 0
    assert_allclose(tuned.coef_, plain.coef_, rtol=1e-6)
    assert_allclose(tuned.intercept_ - plain.intercept_, tuned.intercept_shift_,
                    rtol=1e-6)
    assert tuned.predict(X).mean() < sign.predict(X).mean()
    # decision='argmax' tunes the shift from p > 0.5 to the same place
    tuned_sign = GuidedESClassifier(cost, decision="argmax", **common).fit(X, y)
    assert_allclose(tuned_sign.intercept_, tuned.intercept_, rtol=1e-6)
    # for accuracy the logistic regression's own threshold is as good
    assert GuidedESClassifier("accuracy", **common).fit(X, y).intercept_shift_ == 0
    # a regressor for the 0.9 quantile from a least-squares start: shifted up
    Xd, yd = load_diabetes(return_X_y=True)
    pinball = make_scorer(mean_pinball_loss, alpha=0.9, greater_is_better=False)
    reg = GuidedESRegressor(pinball, surrogate_loss="squared_error",
                            **common).fit(Xd, yd)
    assert reg.intercept_shift_ > 0.5             # in units of std(y)
    assert np.mean(yd <= reg.predict(Xd)) == pytest.approx(0.9, abs=0.05)
    # from the pinball loss's own start ('auto'), little is left to shift
    reg = GuidedESRegressor(pinball, **common).fit(Xd, yd)
    assert abs(reg.intercept_shift_) < 0.1
    assert np.mean(yd <= reg.predict(Xd)) == pytest.approx(0.9, abs=0.05)
    # tiny data: fewer folds than cv (one per sample of the largest class)
    tiny = GuidedESClassifier(max_iter=2, random_state=0).fit(X[:6], [0, 1, 0, 1, 0, 1])
    assert np.isfinite(tiny.intercept_shift_)
    # a multiclass model has no single intercept to tune, but an offset per
    # class
    digits = GuidedESClassifier(max_iter=2, random_state=0).fit(
        *load_digits(return_X_y=True))
    assert not hasattr(digits, "intercept_shift_")
    assert digits.class_offsets_.shape == (10,)


def test_one_standard_error_rule():
    # column 2 is best on average, but the folds disagree: column 0 is
    # within one standard error of it
    noisy = np.array([[0.90, 0.91, 0.99], [0.95, 0.94, 0.91], [0.92, 0.93, 0.94]])
    assert _first_within_one_se(noisy) == 0
    # every fold gains the same from column 0 to 1 to 2: no noise, the best
    steady = np.array([[0.90, 0.92, 0.95], [0.80, 0.82, 0.85], [0.70, 0.72, 0.75]])
    assert _first_within_one_se(steady) == 2
    # ties with the best count as within
    assert _first_within_one_se(np.array([[0.5, 0.6, 0.6], [0.4, 0.5, 0.5]])) == 1
    # one fold: no spread to measure, the best
    assert _first_within_one_se(np.array([[0.5, 0.7, 0.6]])) == 1


def test_cv_early_stopping_chooses_the_iterations(cancer):
    X, y = cancer
    fit = lambda **kw: GuidedESClassifier("f1", early_stopping="cv", max_iter=100,
                                          random_state=0, **kw).fit(X, y)
    clf = fit()
    checkpoints = clf.cv_checkpoints_
    grid = np.unique(np.round(np.geomspace(1, 100, 10)).astype(int))
    assert_array_equal(checkpoints, grid[:checkpoints.size])
    assert clf.cv_scores_.shape == (5, checkpoints.size)
    # the climbs stopped before 100 iterations only because the choice had
    # not changed over the last CV_PATIENCE checkpoints, the last not the
    # best, and not before CV_FIRST_STOP checkpoints
    patience = _cv.CV_PATIENCE
    assert _cv.CV_FIRST_STOP <= checkpoints.size < grid.size
    assert (_first_within_one_se(clf.cv_scores_)
            == _first_within_one_se(clf.cv_scores_[:, :-patience]))
    assert clf.cv_scores_[:, -1].mean() < clf.cv_scores_.mean(axis=0).max()
    assert clf.n_iter_ == checkpoints[_first_within_one_se(clf.cv_scores_)]
    assert clf.objective_curve_.shape == (clf.n_iter_ + 1,)
    again = fit()
    assert_array_equal(again.coef_, clf.coef_)
    assert_array_equal(again.cv_scores_, clf.cv_scores_)
    # a start far from the best (a heavily penalised logistic regression):
    # the folds show that climbing pays
    far = fit(l2_regularization=1000.0)
    assert far.n_iter_ > 1
    assert_array_equal(far.cv_checkpoints_, grid)     # it kept rising
    chosen = far.cv_checkpoints_ == far.n_iter_
    assert far.cv_scores_[:, chosen].mean() > far.cv_scores_[:, 0].mean()
    # without folds, max_iter iterations
    plain = fit(cv=None)
    assert plain.n_iter_ == 100 and not hasattr(plain, "cv_scores_")


def test_fold_climbs_in_workers_stop_where_the_serial_ones_do(cancer):
    # the workers run the first CV_FIRST_STOP checkpoints in one go, then one
    # at a time; the climbs stop after that first leg, as in one process
    X, y = cancer
    fit = lambda n_jobs: GuidedESClassifier("f1", max_iter=100, random_state=0,
                                            n_jobs=n_jobs).fit(X, y)
    serial, parallel = fit(None), fit(2)
    assert _cv.CV_FIRST_STOP < serial.cv_checkpoints_.size < 10
    assert_array_equal(parallel.cv_checkpoints_, serial.cv_checkpoints_)
    assert_array_equal(parallel.cv_scores_, serial.cv_scores_)
    assert_array_equal(parallel.coef_, serial.coef_)


def test_patience_stops_only_when_the_choice_held_and_the_score_fell():
    assert _cv.CV_FIRST_STOP == 7
    flat = np.array([[0.90, 0.91, 0.90, 0.90, 0.89, 0.90, 0.89],
                     [0.92, 0.91, 0.92, 0.91, 0.92, 0.91, 0.92]])
    assert _cv._out_of_patience(flat)
    rising = np.array([[0.80, 0.81, 0.83, 0.85, 0.86, 0.86, 0.87],
                       [0.70, 0.74, 0.72, 0.76, 0.80, 0.81, 0.82]])
    assert not _cv._out_of_patience(rising)
    # the choice held over the last 3 of 6, but 7 are needed
    assert not _cv._out_of_patience(flat[:, :6])


# -- class offsets (several classes) ----------------------------------------------
COST = np.random.default_rng(0).uniform(1, 10, (4, 4)) * (1 - np.eye(4))


def _cost(y_true, y_pred):
    return np.mean(COST[y_true, y_pred])


# decision='argmax': the offsets of the log-probabilities (for a cost matrix
# or balanced accuracy, 'auto' takes the Bayes decisions instead, tested in
# test_estimators_bayes.py)
START = dict(max_iter=1, learning_rate=1e-12, selection="last", random_state=0,
             decision="argmax")


@pytest.mark.parametrize("scoring", ["balanced_accuracy", "f1_macro",
                                     make_scorer(_cost, greater_is_better=False)],
                         ids=["balanced_accuracy", "f1_macro", "cost"])
def test_class_offsets_beat_the_most_probable_class_on_new_data(imbalanced4, scoring):
    Xtr, Xte, ytr, yte = imbalanced4
    tuned = GuidedESClassifier(scoring, **START).fit(Xtr, ytr)
    plain = GuidedESClassifier(scoring, cv=None, **START).fit(Xtr, ytr)
    assert not hasattr(tuned, "intercept_shift_")
    offsets = tuned.class_offsets_
    assert offsets.shape == (4,) and offsets[0] == 0
    # the rare classes are called more often than their probability says
    assert np.all(offsets[1:] > 0.2)
    scorer = get_scorer(scoring)
    assert scorer(tuned, Xte, yte) > scorer(plain, Xte, yte) + 0.05 * abs(
        scorer(plain, Xte, yte))
    # predict_proba is the start's; the decisions are argmax(log p + offsets)
    assert_allclose(tuned.predict_proba(Xte), plain.predict_proba(Xte), atol=1e-6)
    log_p = np.log(tuned.predict_proba(Xte))
    shift = tuned.decision_function(Xte) - log_p
    assert_allclose(shift - shift[:, :1], np.tile(offsets, (len(Xte), 1)), atol=1e-6)
    assert_array_equal(tuned.predict(Xte), np.argmax(log_p + offsets, axis=1))


def test_class_offsets_for_balanced_accuracy_are_the_log_priors():
    """For calibrated probabilities the decision argmax p_i / prior_i
    maximises the balanced accuracy: offsets log(prior_0 / prior_i)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 2))
    Z = X @ np.array([[0.0, 1.5, -0.5], [0.0, 0.5, 1.5]]) + [0.0, -1.5, -2.5]
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    y = (rng.random(6000)[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
    prior = np.bincount(y) / y.size
    clf = GuidedESClassifier("balanced_accuracy", **START).fit(X, y)
    assert_allclose(clf.class_offsets_, np.log(prior[0] / prior), atol=0.2)


def test_class_offsets_only_when_they_pay(blobs3):
    X, y = blobs3
    # balanced, well separated classes: the most probable class is as good
    acc = GuidedESClassifier("accuracy", **START).fit(X, y)
    assert_array_equal(acc.class_offsets_, np.zeros(3))
    # a scorer of probabilities has no decisions to tune
    assert not hasattr(GuidedESClassifier("neg_log_loss", **START).fit(X, y),
                       "class_offsets_")
    assert not hasattr(GuidedESClassifier(cv=None, **START).fit(X, y),
                       "class_offsets_")


def test_the_climb_improves_on_the_class_offsets(imbalanced4):
    Xtr, _, ytr, _ = imbalanced4
    cost = make_scorer(_cost, greater_is_better=False)
    start = GuidedESClassifier(cost, **START).fit(Xtr, ytr)
    clf = GuidedESClassifier(cost, max_iter=100, early_stopping=False,
                             random_state=0, decision="argmax").fit(Xtr, ytr)
    assert_array_equal(clf.class_offsets_, start.class_offsets_)
    # the climb starts from the tuned decisions, and lowers the cost
    assert clf.init_score_ == pytest.approx(-_cost(ytr, start.predict(Xtr)))
    assert -_cost(ytr, clf.predict(Xtr)) > clf.init_score_ + 0.01


def test_class_offsets_through_the_scorer_are_the_same():
    """The offsets scored from the decisions' counts equal those scored by
    calling the scorer on the model of the outputs, to the bit."""
    X, y = make_classification(300, 5, n_informative=4, n_redundant=0, n_classes=3,
                               weights=[0.7, 0.2, 0.1], random_state=0)

    def balanced(est, X_, y_):
        return balanced_accuracy_score(y_, est.predict(X_))

    fast = GuidedESClassifier("balanced_accuracy", cv=3, **START).fit(X, y)
    slow = GuidedESClassifier(balanced, cv=3, **START).fit(X, y)
    assert np.any(fast.class_offsets_ != 0)
    assert_array_equal(fast.class_offsets_, slow.class_offsets_)
