"""Tests for ges_minimize.estimators._climb: minibatches, early stopping on a
validation part, and which centre a run returns."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import f1_score

from ges_minimize import Adam, GuidedESClassifier
from ges_minimize.estimators._climb import ADAM_WARMUP, make_optimizer, one_blas_thread


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer, 569 x 30, binary."""
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def blobs():
    from sklearn.datasets import make_blobs
    return make_blobs(n_samples=120, centers=3, cluster_std=1.5, random_state=0)


def test_minibatch_common_random_numbers(cancer):
    X, y = cancer
    batches = []

    def recorder(estimator, X_, y_):
        batches.append((X_[:, 0].tobytes(), np.bincount(y_, minlength=2)))
        return np.mean(estimator.predict(X_) == y_)

    n_pairs, n_iter = 2, 6
    GuidedESClassifier(recorder, batch_size=50, n_pairs=n_pairs, max_iter=n_iter,
                       cv=None, random_state=0).fit(X, y)
    per_iteration = 2 * n_pairs + 1
    iterations = [batches[1 + i * per_iteration: 1 + (i + 1) * per_iteration]
                  for i in range(n_iter)]
    for group in iterations:             # every point of an iteration: same rows
        assert len({rows for rows, _ in group}) == 1
        assert len(group[0][0]) == 50 * 8
        # stratified: 37% malignant in the data, so 19 of 50
        assert_array_equal(group[0][1], [19, 31])
    assert len({group[0][0] for group in iterations}) == n_iter  # new each time


def test_early_stopping(blobs):
    X, y = blobs
    clf = GuidedESClassifier(max_iter=200, early_stopping=True, n_iter_no_change=5,
                             validation_fraction=0.25, random_state=0).fit(X, y)
    assert clf.n_iter_ < 200
    assert clf.validation_curve_.shape == clf.objective_curve_.shape
    assert clf.validation_curve_[clf.best_iteration_] == clf.validation_curve_.max()
    with pytest.raises(ValueError, match="validation_fraction=0.5 leaves 1 training"):
        GuidedESClassifier(early_stopping=True,
                           validation_fraction=0.5).fit(X[:3], [0, 1, 0])


def test_best_selection_reaches_at_least_the_initialisation(cancer):
    X, y = cancer
    clf = GuidedESClassifier("f1", selection="best", random_state=0).fit(X, y)
    # the surrogate initialisation is the L2-regularised logistic regression
    assert clf.init_score_ > 0.98
    assert f1_score(y, clf.predict(X)) >= clf.init_score_
    assert f1_score(y, clf.predict(X)) == clf.objective_curve_.max()
    assert clf.objective_curve_[clf.best_iteration_] == clf.objective_curve_.max()


def test_selections_return_different_centres(cancer):
    X, y = cancer
    fit = lambda selection: GuidedESClassifier(
        "accuracy", max_iter=40, selection=selection, early_stopping=False,
        random_state=0).fit(X, y)
    average, best, last = fit("auto"), fit("best"), fit("last")
    assert average.best_iteration_ == 20         # centres 20..40 averaged
    assert last.best_iteration_ == 40
    # the same run: the last centre scores the last entry of the curve
    assert_array_equal(average.objective_curve_, last.objective_curve_)
    assert last.score(X, y) == pytest.approx(last.objective_curve_[-1])
    assert best.score(X, y) == pytest.approx(best.objective_curve_.max())
    assert not np.allclose(average.coef_, last.coef_)
    assert not np.allclose(average.coef_, best.coef_)


def test_one_blas_thread_limits_and_restores():
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info()
                if lib["user_api"] == "blas"]

    # from two threads, so that the limit to one shows whatever the
    # environment set
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        assert before and all(n == 2 for n in before)
        for _ in range(2):       # the second call reuses the cached controller
            with one_blas_thread():
                assert all(n == 1 for n in blas_threads())
            assert blas_threads() == before


@pytest.mark.parametrize("learning_rate, expected", [(None, 0.01), (0.05, 0.05)])
def test_estimators_adam_warms_up(learning_rate, expected):
    est = GuidedESClassifier("f1", learning_rate=learning_rate)
    es = make_optimizer(est, np.zeros(4), np.random.default_rng(0))
    assert isinstance(es.step, Adam)
    assert (es.step.learning_rate, es.step.warmup) == (expected, ADAM_WARMUP)
    assert ADAM_WARMUP == 30
    # the other rules are built by name, as the optimiser builds them
    sgd = make_optimizer(GuidedESClassifier("f1", step="sgd"), np.zeros(4),
                         np.random.default_rng(0))
    assert repr(sgd.step) == "SGD(learning_rate=0.2)"
