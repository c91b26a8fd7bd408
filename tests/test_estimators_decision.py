"""Tests for ges_minimize.estimators._decision: calibrated probabilities with
the scorer's decisions on top."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ges_minimize import GuidedESClassifier


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer, 569 x 30, binary."""
    return load_breast_cancer(return_X_y=True)


def test_predict_proba_is_the_calibrated_start(cancer):
    X, y = cancer
    cost = make_scorer(lambda t, p: -np.mean(10.0 * ((t == 0) & (p == 1))
                                             + 1.0 * ((t == 1) & (p == 0))))
    clf = GuidedESClassifier(cost, max_iter=10, random_state=0).fit(X, y)
    lr = make_pipeline(StandardScaler(),
                       LogisticRegression(tol=1e-10, max_iter=10_000)).fit(X, y)
    assert_allclose(clf.predict_proba(X), lr.predict_proba(X), atol=1e-4)
    # the decisions are the scorer's: fewer 'benign' calls than p > 0.5
    assert clf.bayes_shift_ + clf.intercept_shift_ < 0
    assert clf.predict(X).mean() < (clf.predict_proba(X)[:, 1] > 0.5).mean()
    # without a probability model (hinge), or for a scorer of probabilities,
    # the decision model's probabilities
    hinge = GuidedESClassifier(surrogate_loss="hinge", max_iter=3,
                               random_state=0).fit(X, y)
    assert_array_equal(hinge.predict_proba(X).argmax(axis=1),
                       np.searchsorted(hinge.classes_, hinge.predict(X)))
    logloss = GuidedESClassifier("neg_log_loss", max_iter=3, early_stopping=False,
                                 random_state=0).fit(X, y)
    assert_array_equal(logloss.proba_coefs_[0], logloss.coefs_[0])


@pytest.mark.parametrize("n_classes", [2, 3, 4, 9])
def test_fast_softmax_and_arg_extremes_are_numpys(n_classes):
    # the Bayes decisions of every candidate use these: the same numbers as
    # scipy's softmax and numpy's argmin / argmax, ties to the first
    from scipy.special import softmax
    from ges_minimize.estimators import _decision
    rng = np.random.default_rng(n_classes)
    Z = 5 * rng.normal(size=(3, 200, n_classes))
    assert_array_equal(_decision.softmax_last(Z), softmax(Z, axis=-1))
    for M in (Z, np.round(Z), np.zeros_like(Z)):          # with many ties
        assert_array_equal(_decision.argmin_last(M), M.argmin(axis=-1))
        assert_array_equal(_decision.argmax_last(M), M.argmax(axis=-1))
    M = Z.copy()
    M[0, 0, -1] = np.nan                 # not finite: numpy's own rule
    assert_array_equal(_decision.argmin_last(M), M.argmin(axis=-1))
    C = rng.random((n_classes, n_classes))
    assert_array_equal(_decision.bayes_codes(Z, C),
                       (softmax(Z, axis=-1) @ C).argmin(axis=-1))
