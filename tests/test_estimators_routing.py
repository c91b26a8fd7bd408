"""Tests for the estimators' metadata routing (_classes, _objective): metadata
requested by the scorer reach it subset with the rows wherever the data are
(folds, minibatches, the validation part), through meta-estimators too; clear
errors otherwise; an example-dependent cost is climbed."""
import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from ges_minimize import GuidedESClassifier, GuidedESRegressor

FEE = 5.0


def loan_cost(y_true, y_pred, amount):
    """A missed default (1 called 0) costs its amount, a false alarm a fee."""
    missed = (y_true == 1) & (y_pred == 0)
    alarm = (y_true == 0) & (y_pred == 1)
    return np.mean(np.where(missed, amount, 0.0) + np.where(alarm, FEE, 0.0))


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@pytest.fixture(scope="module")
def loans():
    X, y = make_classification(600, 6, weights=[0.8], random_state=0)
    amount = np.random.default_rng(0).lognormal(3.0, 1.0, y.size)
    return X, y, amount


def test_extra_fit_params_without_routing_are_an_error(loans):
    X, y, amount = loans
    clf = GuidedESClassifier(max_iter=2, random_state=0)
    with pytest.raises(ValueError, match=r"GuidedESClassifier.fit got the keyword "
                       r"arguments \['amount'\], metadata for the scorer; passing "
                       r"them needs scikit-learn's metadata routing"):
        clf.fit(X, y, amount=amount)
    assert not hasattr(clf, "coefs_")
    with pytest.raises(ValueError, match=r"GuidedESRegressor.fit got the keyword"):
        GuidedESRegressor(max_iter=2).fit(X, amount, amount=amount)


def test_unrequested_metadata_is_an_error_and_leaves_the_estimator(loans, routing):
    X, y, amount = loans
    clf = GuidedESClassifier(max_iter=2, random_state=0).fit(X, y)
    coef = clf.coef_.copy()
    unrequested = make_scorer(loan_cost, greater_is_better=False)
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \{'amount'\}"):
        clf.fit(X, y, amount=amount)             # 'accuracy' takes no amount
    clf.set_params(scoring=unrequested)
    with pytest.raises(ValueError, match=r"\[amount\] are passed but are not "
                       r"explicitly set as requested or not requested"):
        clf.fit(X, y, amount=amount)
    assert_array_equal(clf.coef_, coef)


@pytest.mark.parametrize("settings", [
    {},                                            # folds of cv, the fold climbs
    {"batch_size": 100, "early_stopping": False},  # minibatches
    {"early_stopping": True, "n_iter_no_change": 3},   # the validation part
])
# 'predict': the metric called on the predictions ('labels'); the other is
# not recognised and goes through the scorer itself ('scorer')
@pytest.mark.parametrize("response", ["predict", ("decision_function", "predict")])
def test_metadata_follow_the_rows(settings, response, routing):
    """The scorer gets each row's own entry: `row` is the index of the
    sample, and the target of a regressor is unique per sample."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=200)
    sizes = []

    def error(y_true, y_pred, row):
        assert_array_equal(y_true, y[row.astype(int)])
        sizes.append(len(row))
        return np.mean(np.abs(y_true - y_pred))

    scorer = make_scorer(error, greater_is_better=False,
                         response_method=response).set_score_request(row=True)
    reg = GuidedESRegressor(scorer, max_iter=10, random_state=0, **settings)
    reg.fit(X, y, row=np.arange(200.0))
    expected = {(): {160, 200}, ("batch_size", "early_stopping"): {100, 200},
                ("early_stopping", "n_iter_no_change"): {20, 180}}[tuple(settings)]
    assert expected <= set(sizes)


def test_an_example_dependent_cost_is_climbed(loans, routing):
    X, y, amount = loans
    scorer = make_scorer(loan_cost, greater_is_better=False).set_score_request(
        amount=True)
    common = dict(max_iter=60, early_stopping=False, random_state=0)
    # from the logistic regression's own threshold, the climb cuts the cost
    # by more than 40% (the scores are minus the cost)
    plain = GuidedESClassifier(scorer, cv=None, **common).fit(X, y, amount=amount)
    assert plain.objective_curve_[-1] > 0.6 * plain.init_score_
    # the threshold tuned on folds for the cost already does much of it
    tuned = GuidedESClassifier(scorer, **common).fit(X, y, amount=amount)
    assert tuned.intercept_shift_ > 0
    assert tuned.init_score_ > 0.6 * plain.init_score_
    # the same seed, the same fit; other amounts, another fit
    again = GuidedESClassifier(scorer, cv=None, **common).fit(X, y, amount=amount)
    assert_array_equal(again.coef_, plain.coef_)
    other = GuidedESClassifier(scorer, cv=None, **common).fit(
        X, y, amount=amount[::-1].copy())
    assert not np.array_equal(other.coef_, plain.coef_)


def test_meta_estimators_route_to_the_scorer(loans, routing):
    X, y, amount = loans
    scorer = make_scorer(loan_cost, greater_is_better=False).set_score_request(
        amount=True)
    clf = GuidedESClassifier(scorer, max_iter=5, random_state=0)
    result = cross_validate(clf, X, y, scoring=scorer, cv=3,
                            params={"amount": amount})
    # each fold's estimator was fitted with its own rows' amounts, and its
    # test cost is that of the test rows' amounts
    for k, (train, test) in enumerate(StratifiedKFold(3).split(X, y)):
        fold = clone(clf).fit(X[train], y[train], amount=amount[train])
        assert result["test_score"][k] == -loan_cost(
            y[test], fold.predict(X[test]), amount[test])
    search = GridSearchCV(clf, {"n_pairs": [2, 3]}, scoring=scorer, cv=3).fit(
        X, y, amount=amount)
    best = search.best_estimator_
    refit = GuidedESClassifier(scorer, max_iter=5, random_state=0,
                               n_pairs=best.n_pairs).fit(X, y, amount=amount)
    assert_array_equal(best.coef_, refit.coef_)
    routing_ = clf.get_metadata_routing()
    assert "amount" in str(routing_)
