"""Tests for ges_minimize.estimators' public estimators (_classes): the
scikit-learn contract, meta-estimators, bad input and reliability, seeding and
n_jobs, the fast path against the scorer, the practitioners' options, numbers
on real data and the examples. The other modules have their own
test_estimators_<module>.py."""
import pickle
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn
from joblib import parallel_config
from scipy import sparse
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, make_scorer, mean_pinball_loss
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from ges_minimize import GuidedESClassifier, GuidedESRegressor
from ges_minimize.estimators import _objective

ROOT = Path(__file__).resolve().parents[1]
MIN_SKLEARN = (1, 6)

@pytest.fixture(scope="module")
def cancer():
    """Breast cancer, 569 x 30, binary."""
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def digits_small():
    """600 digits, 10 classes."""
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, cluster_std=1.5, random_state=0)
    return X, y


# -- the scikit-learn contract ---------------------------------------------------
def _expected_failures(estimator):
    # as for scikit-learn's TunedThresholdClassifierCV: predict takes the
    # scorer's decisions on top of predict_proba's calibrated probabilities
    if isinstance(estimator, GuidedESClassifier):
        return {"check_classifiers_train": "Threshold at probability 0.5 "
                "does not hold"}
    # weights and repeated rows give starts equal up to rounding (1e-12),
    # which ten iterations of Adam on a score flat in some directions carry
    # to about 1e-9, above the check's atol: the same comparison at looser
    # tolerances is test_weights_equal_repeated_rows_up_to_rounding
    return {"check_sample_weight_equivalence_on_sparse_data":
            "equal up to rounding carried through the climb"}


@parametrize_with_checks([
    GuidedESClassifier(max_iter=10, random_state=0),
    GuidedESRegressor(max_iter=10, random_state=0),
    GuidedESClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0),
], expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_matrix])
def test_weights_equal_repeated_rows_up_to_rounding(container):
    # scikit-learn's check_sample_weight_equivalence, with tolerances for
    # the rounding that the climb carries from the start
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15).astype(float)
    w = rng.randint(0, 5, size=15)
    groups = np.repeat([0, 1, 2], 15)
    X_w, y_w = np.vstack([X, X, X]), np.hstack([y, y, y])
    w = np.hstack([w, np.ones(30, dtype=int)])
    X_r, y_r = X_w.repeat(w, axis=0), y_w.repeat(w)
    fits = [GuidedESRegressor(max_iter=10, random_state=0, cv=list(
                LeaveOneGroupOut().split(Xf, groups=g))).fit(container(Xf), yf, **kw)
            for Xf, yf, g, kw in [(X_w, y_w, groups, dict(sample_weight=w)),
                                  (X_r, y_r, groups.repeat(w), {})]]
    weighted, repeated = fits
    assert weighted.n_iter_ == repeated.n_iter_ == 10     # the climb ran
    assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-6, atol=1e-7)
    assert_allclose(weighted.cv_scores_, repeated.cv_scores_, rtol=1e-5)


@pytest.mark.parametrize("Estimator", [GuidedESClassifier, GuidedESRegressor])
def test_rows_of_weight_zero_are_fitted_as_removed(Estimator):
    # the first 60 of 200 rows weigh nothing: with cv=5's unshuffled folds,
    # whole test folds had no weight, and the fit failed on a NaN score
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = X @ [1.0, 2.0, 0.0, -1.0] + rng.standard_normal(200)
    scoring = None
    if Estimator is GuidedESClassifier:
        y, scoring = (y > 0).astype(int), make_scorer(f1_score)
    w = np.r_[np.zeros(60), np.ones(140)]
    w[100:110] = 0.0
    weighted = Estimator(scoring, max_iter=20, random_state=0).fit(X, y, sample_weight=w)
    removed = Estimator(scoring, max_iter=20, random_state=0).fit(X[w > 0], y[w > 0])
    assert_array_equal(weighted.predict(X), removed.predict(X))
    assert_array_equal(weighted.cv_scores_, removed.cv_scores_)


def test_explicit_folds_follow_the_rows_of_weight_zero_out():
    # folds given as indices of the rows passed to fit: mapped onto the rows
    # kept, so that the fit is the one on the data without the others
    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 3))
    y = X @ [1.0, -1.0, 0.5] + rng.standard_normal(90)
    w = np.ones(90)
    w[[3, 10, 47, 88]] = 0.0
    groups = np.repeat([0, 1, 2], 30)
    kept = w > 0
    weighted = GuidedESRegressor(max_iter=10, random_state=0, cv=list(
        LeaveOneGroupOut().split(X, groups=groups))).fit(X, y, sample_weight=w)
    removed = GuidedESRegressor(max_iter=10, random_state=0, cv=list(
        LeaveOneGroupOut().split(X[kept], groups=groups[kept]))).fit(X[kept], y[kept])
    assert_array_equal(weighted.predict(X), removed.predict(X))


def test_minimum_sklearn_version():
    version = tuple(int(p) for p in sklearn.__version__.split(".")[:2])
    assert version >= MIN_SKLEARN
    setup = (ROOT / "setup.py").read_text()
    assert f"scikit-learn>={MIN_SKLEARN[0]}.{MIN_SKLEARN[1]}" in setup


def test_pipeline_gridsearch_cross_val_score(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(),
                         GuidedESClassifier("balanced_accuracy", max_iter=10,
                                            random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.6)
    grid = GridSearchCV(pipe, {"guidedesclassifier__sigma": [0.1, 0.5]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["guidedesclassifier__sigma"] in (0.1, 0.5)
    assert grid.predict(X).shape == y.shape


def test_clone_and_pickle(blobs):
    X, y = blobs
    clf = GuidedESClassifier("f1_macro", hidden_layer_sizes=(5,), max_iter=10,
                             random_state=0).fit(X, y)
    assert not hasattr(clone(clf), "coefs_")
    assert clone(clf).get_params() == clf.get_params()
    again = pickle.loads(pickle.dumps(clf))
    assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_attributes_and_shapes(blobs, cancer):
    X, y = blobs
    clf = GuidedESClassifier(max_iter=7, early_stopping=False,
                             random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 2) and clf.intercept_.shape == (3,)
    assert clf.decision_function(X).shape == (120, 3)
    assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert clf.n_iter_ == 7 and clf.objective_curve_.shape == (8,)
    assert clf.objective_curve_[0] == clf.init_score_
    # the linear attributes are the model: decision = X coef^T + intercept
    assert_allclose(clf.decision_function(X), X @ clf.coef_.T + clf.intercept_)
    Xc, yc = cancer
    binary = GuidedESClassifier(max_iter=3, random_state=0).fit(Xc, yc)
    assert binary.coef_.shape == (1, 30) and binary.decision_function(Xc).shape == (569,)
    reg = GuidedESRegressor(max_iter=3, random_state=0).fit(*load_diabetes(return_X_y=True))
    assert reg.coef_.shape == (10,) and isinstance(reg.intercept_, float)


def test_string_labels_and_custom_scorer(blobs):
    X, y = blobs
    labels = np.array(["ant", "bee", "cat"])[y]
    cost = np.array([[0, 1, 1], [5, 0, 1], [1, 1, 0]])

    def neg_cost(y_true, y_pred):
        codes = np.searchsorted(["ant", "bee", "cat"], [y_true, y_pred])
        return -cost[codes[0], codes[1]].mean()

    clf = GuidedESClassifier(make_scorer(neg_cost), max_iter=20, random_state=0)
    clf.fit(X, labels)
    assert set(clf.predict(X)) <= {"ant", "bee", "cat"}
    assert clf.objective_curve_.max() >= clf.init_score_


def test_callable_scoring_receives_the_estimator(blobs):
    X, y = blobs
    seen = []

    def scorer(estimator, X_, y_):
        seen.append(type(estimator))
        return np.mean(estimator.predict(X_) == y_)

    GuidedESClassifier(scorer, max_iter=2, n_pairs=1, early_stopping=False,
                       cv=None, random_state=0).fit(X, y)
    # one call to check the scorer, then (2P + 1) per iteration and the end
    # (cv=None: no class offsets tuned on folds, which call it per candidate)
    assert len(seen) == 1 + 2 * 3 + 1
    assert set(seen) == {GuidedESClassifier}


# -- bad input ---------------------------------------------------------------------
def test_unknown_scoring_name(blobs):
    with pytest.raises(ValueError, match=r"scoring='acuracy'.*did you mean 'accuracy'"):
        GuidedESClassifier("acuracy").fit(*blobs)


def test_scorer_raising_is_named(blobs):
    def broken(estimator, X, y):
        raise RuntimeError("no database connection")

    with pytest.raises(ValueError, match="scoring=.*broken.*failed.*no database"):
        GuidedESClassifier(broken).fit(*blobs)


def test_metric_function_instead_of_scorer(blobs):
    with pytest.raises(ValueError, match="scoring=.*f1_score.*make_scorer"):
        GuidedESClassifier(f1_score).fit(*blobs)


@pytest.mark.parametrize("cls, loss", [(GuidedESClassifier, "squared_error"),
                                       (GuidedESRegressor, "log_loss")])
def test_surrogate_loss_of_the_other_task(blobs, cls, loss):
    with pytest.raises(ValueError, match=f"'surrogate_loss' parameter.*Got '{loss}'"):
        cls(surrogate_loss=loss).fit(*blobs)


def test_labels_the_scorer_cannot_handle(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="scoring='f1' failed.*multiclass"):
        GuidedESClassifier("f1").fit(X, y)
    names = np.array(["no", "yes"])[(y > 0).astype(int)]
    with pytest.raises(ValueError, match="scoring='f1' failed.*pos_label=1"):
        GuidedESClassifier("f1").fit(X, names)
    with pytest.raises(ValueError, match="scoring='accuracy' failed.*continuous"):
        GuidedESRegressor("accuracy").fit(X, X[:, 0])


def test_nan_and_single_class(blobs):
    X, y = blobs
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        GuidedESClassifier().fit(bad, y)
    with pytest.raises(ValueError, match="at least 2 classes.*only one class: 1"):
        GuidedESClassifier().fit(X, np.ones_like(y))


def test_other_bad_parameters(blobs):
    X, y = blobs

    def no_weights(estimator, X, y):
        return 0.0

    with pytest.raises(TypeError, match="does not accept sample_weight"):
        GuidedESClassifier(no_weights).fit(X, y, sample_weight=np.full(120, 2.0))
    with pytest.raises(ValueError, match="init='surrogate' needs a surrogate loss"):
        GuidedESClassifier(surrogate_loss=None, init="surrogate").fit(X, y)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must be.*\(3, 0\)"):
        GuidedESClassifier(hidden_layer_sizes=(3, 0)).fit(X, y)
    with pytest.raises(ValueError, match="'sigma' parameter.*Got -1"):
        GuidedESClassifier(sigma=-1).fit(X, y)
    with pytest.raises(ValueError, match=r"sample_weight must be non-negative"):
        GuidedESClassifier().fit(X, y, sample_weight=-np.ones(120))
    clf = GuidedESClassifier(max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start=True needs the layer shapes"):
        clf.set_params(hidden_layer_sizes=(3,)).fit(X, y)
    coef = clf.coef_.copy()
    with pytest.raises(ValueError, match=r"learning_rate=0.1 was given with "
                                         r"step='auto'"):
        clf.set_params(hidden_layer_sizes=(), step="auto", learning_rate=0.1).fit(X, y)
    assert_array_equal(clf.coef_, coef)                # the fit before, kept


def test_adaptive_step_option():
    X, y = load_diabetes(return_X_y=True)
    fit = lambda **kw: GuidedESRegressor("neg_mean_absolute_error", max_iter=40,
                                         random_state=0, **kw).fit(X, y)
    auto = fit(step="auto", early_stopping=False)
    # the adaptive mode of GuidedES steps; the climb moved from the start
    assert auto.n_iter_ == 40 and auto.objective_curve_.shape == (41,)
    assert auto.objective_curve_.max() > auto.init_score_
    adam = fit(early_stopping=False)
    assert not np.array_equal(auto.coef_, adam.coef_)
    assert_array_equal(fit(step="auto", early_stopping=False).coef_, auto.coef_)
    # and with the folds choosing the count
    cv = fit(step="auto")
    assert cv.n_iter_ in cv.cv_checkpoints_


# -- seeding, warm start, minibatches, early stopping --------------------------------
@pytest.mark.parametrize("extra", [{}, {"batch_size": 40}, {"early_stopping": True},
                                   {"hidden_layer_sizes": (6,)}])
def test_seed_repeats_a_fit_exactly(blobs, extra):
    X, y = blobs
    fit = lambda seed: GuidedESClassifier(max_iter=15, random_state=seed,
                                          **extra).fit(X, y)
    a, b, c = fit(3), fit(3), fit(4)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        assert_array_equal(Wa, Wb)
    assert_array_equal(a.objective_curve_, b.objective_curve_)
    assert not all(np.array_equal(Wa, Wc) for Wa, Wc in zip(a.coefs_, c.coefs_))


def _accuracy(estimator, X, y):
    """A plain callable: computed by the scorer itself, by the workers."""
    return float(np.mean(estimator.predict(X) == y))


@pytest.mark.parametrize("scoring", ["f1", _accuracy])
def test_n_jobs_does_not_change_the_result(cancer, monkeypatch, scoring):
    X, y = cancer
    started = []

    class Counting(_objective.BatchEvaluator):
        def __init__(self, *args, **kwargs):
            started.append(kwargs.get("n_jobs"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_objective, "BatchEvaluator", Counting)
    fit = lambda n_jobs: GuidedESClassifier(scoring, max_iter=5, random_state=0,
                                            n_jobs=n_jobs).fit(X, y)
    serial = fit(1)
    # the scorer's candidates go to one evaluator per fit; a fast metric is
    # computed in-process, n_jobs running the fold climbs
    assert started == ([] if scoring == "f1" else [1])
    assert_array_equal(fit(None).coef_, serial.coef_)
    with parallel_config(backend="threading"):
        threads = fit(2)
    processes = fit(2)                           # loky: pickled to workers
    for other in (threads, processes):
        assert_array_equal(other.coef_, serial.coef_)
        assert_array_equal(other.intercept_, serial.intercept_)
        assert_array_equal(other.objective_curve_, serial.objective_curve_)
        assert_array_equal(other.cv_scores_, serial.cv_scores_)


def test_warm_start_continues(blobs):
    X, y = blobs
    clf = GuidedESClassifier("accuracy", max_iter=10, warm_start=True,
                             random_state=0).fit(X, y)
    score = clf.score(X, y)
    clf.fit(X, y)
    assert clf.init_score_ == pytest.approx(score)


def test_sample_weight_reaches_the_scorer(blobs):
    X, y = blobs
    received = []

    def scorer(estimator, X_, y_, sample_weight=None):
        received.append(sample_weight)
        return np.average(estimator.predict(X_) == y_, weights=sample_weight)

    w = np.arange(1.0, 121.0)
    GuidedESClassifier(scorer, max_iter=1, n_pairs=1, early_stopping=False,
                       cv=None, random_state=0).fit(
        X, y, sample_weight=w)
    assert all(np.array_equal(r, w) for r in received)
    # the class offsets tuned on folds: the weights of the rows left out
    received.clear()
    GuidedESClassifier(scorer, max_iter=1, n_pairs=1, early_stopping=False,
                       random_state=0).fit(X, y, sample_weight=w)
    folds = [r for r in received if r.size < w.size]
    assert folds and all(np.all(np.isin(r, w)) for r in folds)
    assert {r.size for r in folds} == {24}


@pytest.mark.parametrize("scoring, callable_", [
    ("f1", lambda est, X, y: f1_score(y, est.predict(X))),
    (make_scorer(mean_pinball_loss, alpha=0.9, greater_is_better=False),
     lambda est, X, y: -mean_pinball_loss(y, est.predict(X), alpha=0.9))])
def test_fast_path_gives_the_scorer_result(cancer, scoring, callable_):
    """The same fit through the fast path and through the scorer itself (a
    plain callable, which only the scorer path can compute)."""
    X, y = cancer if isinstance(scoring, str) else load_diabetes(return_X_y=True)
    cls = GuidedESClassifier if isinstance(scoring, str) else GuidedESRegressor
    common = dict(max_iter=8, early_stopping=False, random_state=0)
    if cls is GuidedESRegressor:      # 'auto' would know the scorer's loss only
        common["surrogate_loss"] = "squared_error"
    a = cls(scoring, **common).fit(X, y)
    b = cls(callable_, **common).fit(X, y)
    assert_allclose(a.objective_curve_, b.objective_curve_, rtol=1e-12)
    # the two paths' scores may differ in their last bits, which the steps
    # carry into the coefficients (up to 3e-10 relative seen)
    assert_allclose(a.coef_, b.coef_, rtol=1e-8)


# -- numbers ---------------------------------------------------------------------------
def test_auto_penalty_starts_from_logistic_regression(cancer):
    """l2_regularization='auto' is LogisticRegression(C=1) on standardised X."""
    X, y = cancer
    lr = make_pipeline(StandardScaler(),
                       LogisticRegression(tol=1e-10, max_iter=10_000)).fit(X, y)
    scaler, logistic = lr[0], lr[1]
    # one tiny step and the last centre: the start itself
    clf = GuidedESClassifier(max_iter=1, learning_rate=1e-12, selection="last",
                             cv=None, random_state=0).fit(X, y)
    assert_allclose(clf.coef_, logistic.coef_ / scaler.scale_, rtol=1e-4,
                    atol=1e-6)
    assert_allclose(clf.decision_function(X), lr.decision_function(X),
                    rtol=1e-4, atol=1e-4)
    heavier = GuidedESClassifier(max_iter=1, learning_rate=1e-12,
                                 selection="last", cv=None,
                                 l2_regularization=10 / X.shape[0]).fit(X, y)
    assert np.abs(heavier.coef_).sum() < 0.7 * np.abs(clf.coef_).sum()


def _numeric_and_one_hot(seed, n=300):
    """Two standardised numeric columns and the one-hot columns of a
    categorical with a rare level (3% of rows): the usual pipeline's output."""
    rng = np.random.default_rng(seed)
    numeric = StandardScaler().fit_transform(rng.normal(size=(n, 2)))
    level = rng.choice(3, size=n, p=[0.6, 0.37, 0.03])
    X = np.hstack([numeric, np.eye(3)[level]])
    logit = numeric @ [1.0, -0.5] + np.array([0.0, 0.5, 2.0])[level]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y, logit


@pytest.mark.parametrize("make_sparse", [False, True])
def test_auto_penalty_leaves_indicators_unscaled(make_sparse):
    """With one-hot columns the start is LogisticRegression(C=1) on the
    pipeline's output as it is: an indicator is scaled by its range, not by
    its deviation (which for the rare level would leave its coefficient
    penalised about 30 times less)."""
    X, y, _ = _numeric_and_one_hot(0)
    lr = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    Xf = sparse.csr_matrix(X) if make_sparse else X
    clf = GuidedESClassifier(max_iter=1, learning_rate=1e-12, selection="last",
                             cv=None, random_state=0).fit(Xf, y)
    assert_allclose(clf.predict_proba(Xf), lr.predict_proba(X), atol=1e-6)


def test_auto_penalty_leaves_indicators_unscaled_for_ridge():
    from sklearn.linear_model import Ridge
    X, _, logit = _numeric_and_one_hot(1)
    y = logit + np.random.default_rng(1).normal(size=logit.size)
    ridge = Ridge(alpha=1.0).fit(X, y)
    reg = GuidedESRegressor(surrogate_loss="squared_error", max_iter=1,
                            learning_rate=1e-12, selection="last", cv=None,
                            random_state=0).fit(X, y)
    assert_allclose(reg.predict(X), ridge.predict(X), atol=1e-6)


def test_pure_es_and_random_start_improve(cancer):
    X, y = cancer
    clf = GuidedESClassifier("accuracy", surrogate_loss=None, max_iter=100,
                             random_state=0).fit(X, y)
    assert clf.init_score_ < 0.8 and clf.score(X, y) > 0.9


def test_sign_network_beats_chance(digits_small):
    X, y = digits_small
    X_tr, y_tr, X_te, y_te = X[:400], y[:400], X[400:], y[400:]
    clf = GuidedESClassifier(hidden_layer_sizes=(16,), max_iter=150,
                             random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.6       # chance is 0.1
    pure = GuidedESClassifier(hidden_layer_sizes=(16,), init="random",
                              surrogate_loss=None, max_iter=150,
                              random_state=0).fit(X_tr, y_tr)
    guided = GuidedESClassifier(hidden_layer_sizes=(16,), init="random",
                                max_iter=150, random_state=0).fit(X_tr, y_tr)
    assert guided.score(X_tr, y_tr) > pure.score(X_tr, y_tr) + 0.2


def test_regressor_reduces_mean_absolute_error():
    X, y = load_diabetes(return_X_y=True)
    ridge = dict(surrogate_loss="squared_error", random_state=0)
    reg = GuidedESRegressor("neg_mean_absolute_error", selection="best",
                            cv=None, **ridge).fit(X, y)
    mae = np.mean(np.abs(reg.predict(X) - y))
    assert mae == pytest.approx(-reg.objective_curve_.max())
    # from the ridge start, 43.28, most of the way to the least absolute
    # deviations optimum, 43.04
    assert mae < -reg.init_score_ - 0.1
    # the default returns the average of the centres: below the start too
    averaged = GuidedESRegressor("neg_mean_absolute_error", early_stopping=False,
                                 **ridge).fit(X, y)
    assert np.mean(np.abs(averaged.predict(X) - y)) < -averaged.init_score_ - 0.05
    # surrogate_loss='auto' starts from the absolute error's own (smoothed,
    # penalised) minimiser, within 0.05 of that optimum
    auto = GuidedESRegressor("neg_mean_absolute_error", max_iter=1, cv=None,
                             early_stopping=False, random_state=0).fit(X, y)
    assert auto.surrogate_loss_ == ("quantile", 0.5)
    assert -auto.init_score_ == pytest.approx(43.04, abs=0.05)
    # a pinball loss: its quantile; anything else: the squared error
    pinball = make_scorer(mean_pinball_loss, alpha=0.9, greater_is_better=False)
    auto = GuidedESRegressor(pinball, max_iter=1, cv=None, early_stopping=False,
                             random_state=0).fit(X, y)
    assert auto.surrogate_loss_ == ("quantile", 0.9)
    assert np.mean(y <= auto.predict(X)) == pytest.approx(0.9, abs=0.01)
    assert GuidedESRegressor(max_iter=1).fit(X, y).surrogate_loss_ == "squared_error"


# -- examples ---------------------------------------------------------------------------
@pytest.mark.parametrize("script", ["optimize_f1.py", "nondifferentiable_network.py"])
def test_examples_quick(script, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(sys, "argv", [script, "--quick", "--output",
                                      str(tmp_path / "figure.png")])
    runpy.run_path(str(ROOT / "examples" / script), run_name="__main__")
    assert (tmp_path / "figure.png").stat().st_size > 0
    assert capsys.readouterr().out.strip()


# -- reliability -------------------------------------------------------------------------
def test_scorer_turning_nan_is_named_and_leaves_the_estimator(blobs):
    X, y = blobs
    calls = []

    def nan_after_first(estimator, X_, y_):
        calls.append(1)
        return 0.5 if len(calls) == 1 else float("nan")

    clf = GuidedESClassifier(max_iter=2, random_state=0).fit(X, y)
    before = clf.coef_.copy()
    with pytest.raises(ValueError, match="scoring=.*nan_after_first.*returned nan"):
        clf.set_params(scoring=nan_after_first).fit(X, y)
    assert_array_equal(clf.coef_, before)          # the old fit is kept
    with pytest.raises(ValueError, match="returned nan"):
        GuidedESClassifier(nan_after_first, max_iter=2).fit(X[y < 2], y[y < 2])


def test_scorer_returning_a_string_is_rejected(blobs):
    def text(estimator, X, y):
        return "0.5"

    with pytest.raises(TypeError, match="scoring=.*text.*returned '0.5' of type str"):
        GuidedESClassifier(text, max_iter=2).fit(*blobs)


@pytest.mark.parametrize("factor", [1e154, 1e-150, 1e300])
def test_extreme_feature_scales_fit_as_unscaled(cancer, factor):
    X, y = cancer
    common = dict(max_iter=3, random_state=0)
    plain = GuidedESClassifier(**common).fit(X, y)
    scaled = GuidedESClassifier(**common).fit(X * factor, y)
    assert scaled.score(X * factor, y) == pytest.approx(plain.score(X, y))
    assert scaled.score(X * factor, y) > 0.95
    assert_allclose(scaled.coef_ * factor, plain.coef_, rtol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the R^2 scorer's overflow
def test_huge_target():
    X, y = load_diabetes(return_X_y=True)
    common = dict(max_iter=40, random_state=0, early_stopping=False, cv=None,
                  surrogate_loss="squared_error")     # a start the climb improves
    plain = GuidedESRegressor("neg_mean_absolute_error", **common).fit(X, y)
    huge = GuidedESRegressor("neg_mean_absolute_error", **common).fit(X, y * 1e154)
    # the same climb (up to Adam's epsilon, relative to the score's unit)
    assert_allclose(huge.predict(X) / 1e154, plain.predict(X), rtol=1e-3)
    assert huge.objective_curve_[-1] > huge.init_score_
    # and the same start from the absolute error's own surrogate
    common["surrogate_loss"] = "auto"
    plain = GuidedESRegressor("neg_mean_absolute_error", **common).fit(X, y)
    huge = GuidedESRegressor("neg_mean_absolute_error", **common).fit(X, y * 1e154)
    assert huge.init_score_ == pytest.approx(plain.init_score_ * 1e154, rel=1e-9)
    assert_allclose(huge.predict(X) / 1e154, plain.predict(X), rtol=1e-3)
    # R^2 squares the target: a clear error rather than a fit on NaN
    with pytest.raises(ValueError, match="squares overflow float64; rescale y"):
        GuidedESRegressor(max_iter=2).fit(X, y * 1e154)


# -- practitioners' options ----------------------------------------------------------------
def test_sparse_input_fits_as_dense(cancer):
    import scipy.sparse as sp
    X, y = cancer
    X = X * (np.random.default_rng(0).random(X.shape) < 0.5)      # real zeros
    common = dict(max_iter=10, random_state=0)
    dense = GuidedESClassifier("f1", **common).fit(X, y)
    sparse = GuidedESClassifier("f1", **common).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-9)
    assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))
    net = GuidedESClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    assert net.fit(sp.csr_matrix(X), y).predict(sp.csr_matrix(X)).shape == y.shape


def test_class_weight_is_a_sample_weight_per_class(blobs):
    X, y = blobs
    weights = {0: 3.0, 1: 1.0, 2: 0.5}
    common = dict(max_iter=5, random_state=0)
    by_class = GuidedESClassifier(class_weight=weights, **common).fit(X, y)
    by_sample = GuidedESClassifier(**common).fit(
        X, y, sample_weight=np.array([weights[c] for c in y]))
    assert_array_equal(by_class.coef_, by_sample.coef_)
    balanced = GuidedESClassifier(class_weight="balanced", **common).fit(X[:70], y[:70])
    assert balanced.coef_.shape == (3, 2)


def test_verbose_prints_iterations(cancer, capsys):
    X, y = cancer
    GuidedESClassifier("f1", max_iter=20, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "early_stopping='cv' chose" in out
    assert "fold 0 iteration    1  score" in out and "step" in out
    GuidedESClassifier("f1", max_iter=20, verbose=1, early_stopping=False,
                       random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in lines] == ["1", "10", "20"]
    GuidedESClassifier("f1", max_iter=3, verbose=0, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""

