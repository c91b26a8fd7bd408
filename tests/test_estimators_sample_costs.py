"""Tests for example-dependent costs (``sample_costs``): each sample's Bayes
decision under its own costs (_decision.sample_bayes_codes), the mean cost as
the score (_objective's 'sample_costs' mode), the start making the logistic
regression's per-sample Bayes decisions, `score` as minus the mean cost,
routing through a pipeline and cross-validation, and clear errors that
leave the estimator as it was."""
import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from scipy.special import softmax
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ges_minimize import GuidedESClassifier
from ges_minimize.estimators._decision import bayes_codes, sample_bayes_codes

REVIEW = 20.0


def loan_costs(amount):
    """A missed default loses half its amount, a review costs REVIEW: one
    2 x 2 matrix per sample, true class by row, decision by column."""
    C = np.zeros((amount.size, 2, 2))
    C[:, 1, 0] = 0.5 * amount
    C[:, 0, 1] = C[:, 1, 1] = REVIEW
    return C


def mean_cost(C, y, pred, weights=None):
    paid = C[np.arange(y.size), y, pred]
    return np.average(paid, weights=weights)


@pytest.fixture(scope="module")
def loans():
    X, y = make_classification(800, 6, weights=[0.85], flip_y=0.05, random_state=3)
    amount = np.random.default_rng(3).lognormal(4.0, 0.8, y.size)
    return X, y, loan_costs(amount)


def test_sample_bayes_codes_are_each_rows_least_expected_cost():
    rng = np.random.default_rng(0)
    for K in (2, 3, 4):
        n = 50
        C = rng.uniform(0, 5, (n, K, K))
        if K == 2:
            z = rng.normal(0, 2, (3, n, 1))
            p = np.concatenate([1 / (1 + np.exp(z)), 1 / (1 + np.exp(-z))], axis=2)
        else:
            z = rng.normal(0, 2, (3, n, K))
            p = softmax(z, axis=2)
        expected = np.array([[np.argmin(p[s, k] @ C[k]) for k in range(n)]
                             for s in range(3)])
        assert_array_equal(sample_bayes_codes(z, C), expected)
        assert_array_equal(sample_bayes_codes(z[0], C), expected[0])
    # one cost matrix for every row: the Bayes rule of that matrix
    z = rng.normal(0, 2, (40, 3))
    C = rng.uniform(0, 5, (3, 3))
    assert_array_equal(sample_bayes_codes(z, np.tile(C, (40, 1, 1))), bayes_codes(z, C))
    # ties go to the first class: p = 1/2 and equal stakes
    assert_array_equal(sample_bayes_codes(np.zeros((2, 1)),
                                          np.tile(1 - np.eye(2), (2, 1, 1))), [0, 0])


def test_the_start_makes_the_logistic_regressions_per_sample_bayes_decisions(loans):
    X, y, C = loans
    clf = GuidedESClassifier(max_iter=1, early_stopping=False, cv=None,
                             random_state=0).fit(X, y, sample_costs=C)
    assert clf.decision_rule_ == "sample_bayes"
    Xs = StandardScaler().fit_transform(X)
    p = LogisticRegression(tol=1e-10).fit(Xs, y).predict_proba(Xs)[:, 1]
    bayes = (p * (C[:, 1, 0] - C[:, 1, 1]) > (1 - p) * (C[:, 0, 1] - C[:, 0, 0]))
    assert clf.init_score_ == pytest.approx(-mean_cost(C, y, bayes.astype(int)),
                                            rel=1e-12)
    # predict_proba is that logistic regression's
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], p, atol=1e-5)


def test_the_score_is_the_weighted_mean_cost_of_predict(loans):
    X, y, C = loans
    w = np.random.default_rng(1).uniform(0.5, 2.0, y.size)
    clf = GuidedESClassifier(max_iter=40, early_stopping=False, cv=None,
                             selection="last", random_state=0)
    clf.fit(X, y, sample_weight=w, sample_costs=C)
    pred = np.searchsorted(clf.classes_, clf.predict(X, sample_costs=C))
    assert clf.objective_curve_[-1] == pytest.approx(-mean_cost(C, y, pred, w),
                                                     rel=1e-12)
    # the climb lowered the training cost from the start's
    assert clf.objective_curve_.max() > clf.init_score_
    # the same seed, the same fit; other costs, another fit
    again = GuidedESClassifier(max_iter=40, early_stopping=False, cv=None,
                               selection="last", random_state=0)
    again.fit(X, y, sample_weight=w, sample_costs=C)
    assert_array_equal(again.coef_, clf.coef_)
    other = GuidedESClassifier(max_iter=40, early_stopping=False, cv=None,
                               selection="last", random_state=0)
    other.fit(X, y, sample_weight=w, sample_costs=C[::-1].copy())
    assert not np.array_equal(other.coef_, clf.coef_)


def test_defaults_with_folds_and_several_classes(loans):
    X, y, C = loans
    clf = GuidedESClassifier(max_iter=30, random_state=0).fit(X, y, sample_costs=C)
    assert clf.decision_rule_ == "sample_bayes"
    assert clf.predict(X, sample_costs=C).shape == y.shape
    X3, y3 = make_classification(600, 6, n_informative=4, n_classes=3, random_state=0)
    scale = np.random.default_rng(0).uniform(1, 5, (y3.size, 1, 1))
    C3 = scale * np.array([[0, 1, 2], [5, 0, 1], [10, 5, 0]], dtype=float)
    clf = GuidedESClassifier(max_iter=30, random_state=0).fit(X3, y3, sample_costs=C3)
    assert clf.decision_rule_ == "sample_bayes"
    assert not hasattr(clf, "class_offsets_")   # the Bayes rule needs none
    Z = clf.decision_function(X3)
    assert_array_equal(clf.predict(X3, sample_costs=C3),
                       clf.classes_[[np.argmin(softmax(Z[k]) @ C3[k])
                                     for k in range(y3.size)]])


def test_decision_argmax_ignores_the_costs_in_predict(loans):
    X, y, C = loans
    clf = GuidedESClassifier(max_iter=5, decision="argmax", random_state=0)
    clf.fit(X, y, sample_costs=C)
    assert clf.decision_rule_ == "argmax"
    assert_array_equal(clf.predict(X), (clf.decision_function(X) > 0).astype(int))


def test_bad_costs_are_errors_that_leave_the_estimator(loans):
    X, y, C = loans
    clf = GuidedESClassifier(max_iter=2, random_state=0).fit(X, y)
    before = clf.coef_.copy()
    with pytest.raises(ValueError, match=r"sample_costs must have shape "
                       r"\(800, 2, 2\).*got shape \(800, 4\)"):
        clf.fit(X, y, sample_costs=C.reshape(800, 4))
    bad = C.copy()
    bad[7, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"sample_costs must be finite; sample 7"):
        clf.fit(X, y, sample_costs=bad)
    with pytest.raises(ValueError, match=r"sample_costs define the score, so "
                       r"scoring must be None, got scoring='f1'"):
        clf.set_params(scoring="f1").fit(X, y, sample_costs=C)
    clf.set_params(scoring=None)
    assert_array_equal(clf.coef_, before)
    assert clf.decision_rule_ == "argmax"
    with pytest.raises(ValueError, match=r"predict got sample_costs, but this "
                       r"classifier decides by decision_rule_='argmax'"):
        clf.predict(X, sample_costs=C)
    clf.fit(X, y, sample_costs=C)
    with pytest.raises(ValueError, match=r"fitted with sample_costs.*predict needs "
                       r"sample_costs"):
        clf.predict(X)
    with pytest.raises(ValueError, match=r"shape \(10, 2, 2\).*got shape \(800, 2, 2\)"):
        clf.predict(X[:10], sample_costs=C)


def test_a_pipeline_routes_the_costs_to_fit_and_predict(loans):
    X, y, C = loans
    with sklearn.config_context(enable_metadata_routing=True):
        clf = GuidedESClassifier(max_iter=5, random_state=0)
        clf.set_fit_request(sample_costs=True).set_predict_request(sample_costs=True)
        pipe = make_pipeline(StandardScaler(), clf).fit(X, y, sample_costs=C)
        pred = pipe.predict(X, sample_costs=C)
    alone = GuidedESClassifier(max_iter=5, random_state=0).fit(
        StandardScaler().fit_transform(X), y, sample_costs=C)
    assert_array_equal(pred, alone.predict(StandardScaler().fit_transform(X),
                                           sample_costs=C))


def test_score_is_minus_the_mean_cost_and_cross_validation_routes_it(loans):
    X, y, C = loans
    clf = GuidedESClassifier(max_iter=5, random_state=0).fit(X, y, sample_costs=C)
    pred = clf.predict(X, sample_costs=C)
    w = np.linspace(0.5, 1.5, y.size)
    assert clf.score(X, y, sample_costs=C) == pytest.approx(
        -mean_cost(C, y, pred), rel=1e-12)
    assert clf.score(X, y, sample_weight=w, sample_costs=C) == pytest.approx(
        -mean_cost(C, y, pred, w), rel=1e-12)
    with pytest.raises(ValueError, match="predict needs sample_costs"):
        clf.score(X, y)                          # accuracy needs decisions
    with pytest.raises(ValueError, match=r"y holds the label 7, not among "
                       r"classes_ \[0, 1\]"):
        clf.score(X, np.where(y == 1, 7, 0), sample_costs=C)
    # a classifier fitted without costs: the cost of its own decisions
    plain = GuidedESClassifier(max_iter=5, random_state=0).fit(X, y)
    assert plain.score(X, y, sample_costs=C) == pytest.approx(
        -mean_cost(C, y, plain.predict(X)), rel=1e-12)
    assert plain.score(X, y) == np.mean(plain.predict(X) == y)
    # cross-validation routes the costs to fit and to score
    with sklearn.config_context(enable_metadata_routing=True):
        est = GuidedESClassifier(max_iter=5, random_state=0)
        est.set_fit_request(sample_costs=True).set_score_request(sample_costs=True)
        result = cross_validate(est, X, y, cv=3, params={"sample_costs": C})
    for k, (train, test) in enumerate(StratifiedKFold(3).split(X, y)):
        fold = GuidedESClassifier(max_iter=5, random_state=0).fit(
            X[train], y[train], sample_costs=C[train])
        assert result["test_score"][k] == fold.score(X[test], y[test],
                                                     sample_costs=C[test])
