"""Tests of `GuidedESScoringSystem` and the pieces of its fit."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize_scalar
from scipy.special import expit
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from ges_minimize import GuidedESScoringSystem
from ges_minimize.estimators._scoring_system import (
    MULTIPLIER_MAX, MULTIPLIER_MIN, IntegerObjective, _moves, decode,
    fit_multiplier, local_search)


def binary_task(n=1500, d=10, seed=0):
    """Binary features and targets from a logistic model with real weights."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < rng.uniform(0.2, 0.6, d)).astype(float)
    beta = rng.normal(size=d)
    y = (rng.random(n) < expit(X @ beta - 0.5)).astype(int)
    return X, y


def integer_log_loss(X, y, points, intercept):
    """Log loss of an integer model with its multiplier fitted by scipy."""
    z = X @ points + intercept

    def loss(s):
        return log_loss(y, expit(s * z), labels=[0, 1])

    res = minimize_scalar(loss, bounds=(1e-6, 50.0), method="bounded",
                          options={"xatol": 1e-10})
    return res.fun, res.x


# -- the pieces ---------------------------------------------------------------------
def test_fit_multiplier_matches_scipy():
    rng = np.random.default_rng(1)
    Z = rng.integers(-6, 7, size=(400, 3)).astype(float)
    y = (rng.random(400) < expit(0.4 * Z[:, 0])).astype(float)
    s = fit_multiplier(Z, y, np.ones(400))
    for j in range(3):
        res = minimize_scalar(
            lambda v: log_loss(y, expit(v * Z[:, j]), labels=[0, 1]),
            bounds=(1e-6, 50), method="bounded", options={"xatol": 1e-12})
        if res.x > 1e-3:                          # an informative score
            assert_allclose(s[j], res.x, rtol=1e-6)
    assert_allclose(s[0], 0.4, atol=0.15)


def test_fit_multiplier_ends_of_the_bracket():
    y = np.array([0.0, 1.0, 0.0, 1.0])
    anti = np.array([[1.0], [-1.0], [1.0], [-1.0]])     # ordered against y
    separating = np.array([[-1.0], [1.0], [-1.0], [1.0]])
    zero = np.zeros((4, 1))
    assert fit_multiplier(anti, y, np.ones(4))[0] == MULTIPLIER_MIN
    assert fit_multiplier(zero, y, np.ones(4))[0] == MULTIPLIER_MIN
    assert fit_multiplier(separating, y, np.ones(4))[0] == MULTIPLIER_MAX


def test_decode_rounds_clips_and_keeps_the_largest():
    Theta = np.array([[0.4, 2.6, -9.0, 0.51, -0.49, 1.2],
                      [-1.5, 0.2, 0.3, -0.3, 4.4, -4.6]])
    points, intercepts = decode(Theta, 3, None)
    assert_array_equal(points, [[3, -3, 1, 0, 1], [0, 0, 0, 3, -3]])
    assert_array_equal(intercepts, [0, -2])
    points, _ = decode(Theta, 3, 2)
    assert_array_equal(points, [[3, -3, 0, 0, 0], [0, 0, 0, 3, -3]])
    assert points.dtype == np.int64


def test_moves_respect_bounds_and_sparsity():
    moves = _moves(np.array([2, 0, -2, 1]), 2, 3)
    assert sorted(moves) == sorted([(0, -1), (0, 1), (1, -1), (3, 1),
                                    (4, -1), (4, 1)])
    moves = _moves(np.array([2, 0, -2, 0]), 2, 3)      # room for one more
    assert (2, 1) in moves and (4, -1) in moves


def test_objective_values_are_cached_and_exact():
    X, y = binary_task(300, 4)
    objective = IntegerObjective(X, y.astype(float), np.ones(300))
    points = np.array([[1, -1, 0, 2], [0, 0, 1, 1], [1, -1, 0, 2]])
    values, s = objective.values(points, np.array([0, -1, 0]))
    assert objective.n_models == 2
    assert values[0] == values[2] and s[0] == s[2]
    expected, _ = integer_log_loss(X, y, points[1], -1)
    assert_allclose(values[1], expected, rtol=1e-9)


# -- the estimator ------------------------------------------------------------------
def test_points_are_bounded_integers_and_sparse():
    X, y = binary_task()
    clf = GuidedESScoringSystem(max_points=3, max_features=4, max_iter=50,
                                random_state=0).fit(X, y)
    assert clf.points_.dtype == np.int64 and clf.points_.shape == (10,)
    assert np.all(np.abs(clf.points_) <= 3)
    assert 1 <= np.count_nonzero(clf.points_) <= 4
    assert isinstance(clf.intercept_points_, int)
    assert clf.multiplier_ > 0
    assert clf.objective_ <= clf.ges_objective_ <= clf.init_objective_
    score = clf.decision_function(X)
    assert_array_equal(score, X @ clf.points_ + clf.intercept_points_)
    assert_array_equal(score, np.rint(score))
    assert_allclose(clf.predict_proba(X)[:, 1], expit(clf.multiplier_ * score))
    assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
    assert_array_equal(clf.predict(X), (score > 0).astype(int))
    assert_allclose(clf.coef_[0], clf.multiplier_ * clf.points_)


def test_objective_is_the_integer_models_log_loss():
    X, y = binary_task()
    clf = GuidedESScoringSystem(max_features=5, max_iter=30,
                                random_state=0).fit(X, y)
    expected, s = integer_log_loss(X, y, clf.points_, clf.intercept_points_)
    assert_allclose(clf.objective_, expected, rtol=1e-8)
    assert_allclose(clf.multiplier_, s, rtol=1e-5)
    assert_allclose(clf.objective_, log_loss(y, clf.predict_proba(X)), rtol=1e-12)


def test_start_is_the_rescaled_rounding():
    # without Guided ES and local search the result is the start itself
    X, y = binary_task()
    clf = GuidedESScoringSystem(max_iter=0, local_search=False).fit(X, y)
    assert clf.objective_ == clf.init_objective_
    assert clf.n_iter_ == 0 and clf.n_moves_ == 0
    assert np.max(np.abs(clf.points_)) >= 1


def test_result_is_a_local_optimum_under_unit_moves():
    X, y = binary_task(600, 6, seed=3)
    clf = GuidedESScoringSystem(max_points=4, max_features=4, max_iter=40,
                                random_state=0).fit(X, y)
    value = clf.objective_
    n_checked = 0
    for j in range(-1, 6):
        for delta in (-1, 1):
            points, intercept = clf.points_.copy(), clf.intercept_points_
            if j < 0:
                intercept += delta
            else:
                points[j] += delta
                if abs(points[j]) > 4 or np.count_nonzero(points) > 4:
                    continue
            moved, _ = integer_log_loss(X, y, points, intercept)
            assert moved >= value - 1e-9, (j, delta)
            n_checked += 1
    assert n_checked >= 6


def test_local_search_improves_a_bad_model_to_a_local_optimum():
    X, y = binary_task(500, 5, seed=4)
    objective = IntegerObjective(X, y.astype(float), np.ones(500))
    start = np.zeros(5, dtype=np.int64)
    start_value = objective.values(start[None], np.array([3]))[0][0]
    points, intercept, value, s, n_moves = local_search(start, 3, objective,
                                                        3, None)
    assert value < start_value - 0.01 and n_moves >= 3
    for j, delta in _moves(points, 3, None):
        p, b = points.copy(), intercept
        if j == 0:
            b += delta
        else:
            p[j - 1] += delta
        assert objective.values(p[None], np.array([b]))[0][0] >= value


def test_recovers_an_integer_model():
    rng = np.random.default_rng(5)
    X = (rng.random((20000, 4)) < 0.5).astype(float)
    true_points, true_intercept = np.array([2, -1, 0, 1]), -1
    y = (rng.random(20000) < expit(X @ true_points + true_intercept)).astype(int)
    clf = GuidedESScoringSystem(max_points=2, max_iter=20,
                                random_state=0).fit(X, y)
    assert_array_equal(clf.points_, true_points)
    assert clf.intercept_points_ == true_intercept
    assert_allclose(clf.multiplier_, 1.0, atol=0.1)


def test_seeded_fits_are_equal():
    X, y = binary_task()
    fits = [GuidedESScoringSystem(max_features=5, max_iter=60,
                                  random_state=7).fit(X, y) for _ in range(2)]
    other = GuidedESScoringSystem(max_features=5, max_iter=60, n_rounds=1,
                                  random_state=7).fit(X, y)
    assert_array_equal(fits[0].points_, fits[1].points_)
    assert fits[0].intercept_points_ == fits[1].intercept_points_
    assert fits[0].multiplier_ == fits[1].multiplier_
    assert fits[0].objective_ == fits[1].objective_
    assert fits[0].n_iter_ == fits[1].n_iter_ == 60 * fits[0].n_rounds_
    assert other.n_rounds_ == 1 and other.n_iter_ == 60


def test_rounds_and_verbose_output(capsys):
    X, y = binary_task(800, 12, seed=10)
    clf = GuidedESScoringSystem(max_points=2, max_features=3, max_iter=30,
                                n_rounds=4, random_state=0, verbose=1).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[GuidedESScoringSystem] rescaled rounding: "
                             "objective ")
    assert sum("Guided ES (30 iterations)" in line for line in out) == clf.n_rounds_
    assert sum("local search" in line for line in out) == clf.n_rounds_
    assert 1 <= clf.n_rounds_ <= 4 and clf.n_iter_ == 30 * clf.n_rounds_
    last = float(out[-1].rsplit(" ", 1)[1])
    assert_allclose(last, clf.objective_, rtol=1e-5)
    GuidedESScoringSystem(max_iter=5, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


def test_scoring_is_maximised_and_the_multiplier_stays_calibrated():
    X, y = binary_task(800, 6, seed=6)
    clf = GuidedESScoringSystem(max_features=3, scoring="roc_auc", max_iter=10,
                                random_state=0).fit(X, y)
    auc = roc_auc_score(y, clf.decision_function(X))
    assert_allclose(clf.objective_, -auc, rtol=1e-12)
    assert clf.objective_ <= clf.init_objective_
    _, s = integer_log_loss(X, y, clf.points_, clf.intercept_points_)
    assert_allclose(clf.multiplier_, s, rtol=1e-5)


def test_sample_weight_zero_drops_rows():
    X, y = binary_task(600, 5, seed=8)
    w = np.r_[np.ones(400), np.zeros(200)]
    weighted = GuidedESScoringSystem(max_iter=20, random_state=0).fit(
        X, y, sample_weight=w)
    expected, _ = integer_log_loss(X[:400], y[:400], weighted.points_,
                                   weighted.intercept_points_)
    assert_allclose(weighted.objective_, expected, rtol=1e-8)


def test_feature_names_and_score_card():
    X, y = binary_task(800, 4, seed=9)
    names = ["age > 60", "smoker", "diabetes", "male"]
    clf = GuidedESScoringSystem(max_points=3, max_iter=10, random_state=0).fit(
        pd.DataFrame(X, columns=names), y)
    assert_array_equal(clf.feature_names_in_, names)
    lines = clf.score_card().splitlines()
    card = "\n".join(lines)
    for name, points in zip(names, clf.points_):
        rows = [line.split() for line in lines if line.startswith(name)]
        if points == 0:
            assert rows == []
        else:
            assert rows == [name.split() + [f"{points:+d}"]]
    assert ["intercept", f"{clf.intercept_points_:+d}"] in [
        line.split() for line in lines]
    low = clf.intercept_points_ + clf.points_[clf.points_ < 0].sum()
    risk = 100 * expit(clf.multiplier_ * low)
    assert f"{low:>+5d}  {risk:5.1f}%" in card
    custom = clf.score_card(["a", "b", "c", "d"])
    assert "age > 60" not in custom
    with pytest.raises(ValueError, match="feature_names has 2 names, expected 4"):
        clf.score_card(["a", "b"])


# -- errors -------------------------------------------------------------------------
@pytest.mark.parametrize("params, match", [
    ({"max_points": 0}, "'max_points' parameter of GuidedESScoringSystem must be"),
    ({"max_features": 0}, "'max_features' parameter"),
    ({"C": -1.0}, "'C' parameter"),
    ({"max_iter": -1}, "'max_iter' parameter"),
    ({"sigma": 0.0}, "'sigma' parameter"),
    ({"n_rounds": 0}, "'n_rounds' parameter"),
])
def test_bad_parameters(params, match):
    X, y = binary_task(100, 3)
    with pytest.raises(InvalidParameterError, match=match):
        GuidedESScoringSystem(**params).fit(X, y)


def test_bad_scoring_name():
    X, y = binary_task(100, 3)
    with pytest.raises(ValueError, match="scoring='aucc' is not a scikit-learn"):
        GuidedESScoringSystem(scoring="aucc").fit(X, y)


def test_multiclass_and_one_class_are_refused():
    X, _ = binary_task(90, 3)
    with pytest.raises(ValueError, match="Only binary classification is "
                                         r"supported: y must have exactly 2 "
                                         r"classes, got 3 \(\[0, 1, 2\]\)"):
        GuidedESScoringSystem().fit(X, np.arange(90) % 3)
    y = np.arange(90) % 2
    with pytest.raises(ValueError, match="samples of both classes with a "
                                         "positive sample_weight"):
        GuidedESScoringSystem().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="Negative values in data passed to "
                                         "`sample_weight`"):
        GuidedESScoringSystem().fit(X, y, sample_weight=-np.ones(90))


def test_an_error_leaves_the_estimator_as_it_was():
    X, y = binary_task(300, 4)
    clf = GuidedESScoringSystem(max_iter=10, random_state=0).fit(X, y)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v)
              for k, v in clf.__dict__.items()}
    with pytest.raises(ValueError, match="Only binary classification"):
        clf.fit(X[:, :3], np.arange(300) % 3)
    assert set(clf.__dict__) == set(before)
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(clf.__dict__[key], value)
        else:
            assert clf.__dict__[key] == value
    assert clf.n_features_in_ == 4
    clf.predict(X)                                    # still usable


def test_predict_before_fit_and_wrong_width():
    from sklearn.exceptions import NotFittedError
    X, y = binary_task(200, 4)
    with pytest.raises(NotFittedError):
        GuidedESScoringSystem().predict(X)
    clf = GuidedESScoringSystem(max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but "
                                         "GuidedESScoringSystem is expecting 4"):
        clf.predict_proba(X[:, :3])


@parametrize_with_checks([GuidedESScoringSystem(max_iter=20, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
