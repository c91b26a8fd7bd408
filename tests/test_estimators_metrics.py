"""Tests for ges_minimize.estimators._metrics and _objective: every fast way
of scoring the candidates equals the scorer, to 1e-12, on random cases."""
import numpy as np
import pytest
from sklearn.metrics import (confusion_matrix, fbeta_score, f1_score, get_scorer,
                             jaccard_score, make_scorer, matthews_corrcoef,
                             mean_pinball_loss, precision_score, recall_score)

from ges_minimize import GuidedESClassifier, GuidedESRegressor
from ges_minimize.estimators import _metrics, _model
from ges_minimize.estimators._objective import Data, NegativeScore


def _cost_from_confusion(y_true, y_pred, sample_weight=None):
    """A cost computed with scikit-learn's confusion_matrix (5 per FN, 1 per FP)."""
    cm = confusion_matrix(y_true, y_pred, labels=[0, 1], sample_weight=sample_weight)
    return -(5.0 * cm[1, 0] + cm[0, 1]) / cm.sum()


def _distance(y_true, y_pred, sample_weight=None):
    return -np.average(np.abs(np.asarray(y_true) - np.asarray(y_pred)),
                       weights=sample_weight)


def _median_error(y_true, y_pred, sample_weight=None):  # the 'labels' mode
    r = np.abs(y_true - y_pred)
    if sample_weight is None:
        return -np.median(r)
    return -np.sum(r * sample_weight) ** 0.5


BINARY = ["accuracy", "balanced_accuracy", "f1", "precision", "recall", "jaccard",
          "matthews_corrcoef", "f1_macro", "f1_weighted", "f1_micro",
          "precision_macro", "recall_weighted", "jaccard_macro",
          make_scorer(fbeta_score, beta=2),
          make_scorer(fbeta_score, beta=0.5, pos_label=0),
          make_scorer(precision_score, zero_division=1),
          make_scorer(recall_score, average="macro"),
          make_scorer(_cost_from_confusion)]
MULTICLASS = ["accuracy", "balanced_accuracy", "f1_macro", "f1_weighted",
              "precision_macro", "recall_macro", "jaccard_weighted",
              "matthews_corrcoef", make_scorer(f1_score, average="micro"),
              make_scorer(_distance)]
REGRESSION = ["r2", "neg_mean_absolute_error", "neg_mean_squared_error",
              "neg_root_mean_squared_error",
              make_scorer(mean_pinball_loss, alpha=0.9, greater_is_better=False),
              make_scorer(_median_error)]
EXPECTED_MODE = {"_median_error": "labels"}


def _objective(est, scoring, X, y, weights, n_out):
    """A prepared NegativeScore at random parameters, as a fit builds it."""
    rng = np.random.default_rng(0)
    if hasattr(est, "classes_"):
        codes = np.searchsorted(est.classes_, y)
        Ys = (codes[:, None] if n_out == 1 else np.eye(n_out)[codes]).astype(float)
    else:
        codes, Ys = None, y[:, None]
    mean, scale = _model.standardisation(X, weights)
    data = Data(X, _model.standardise(X, mean, scale), y, codes, Ys, weights)
    shapes = _model.layer_shapes(X.shape[1], (), n_out)
    scaling = (mean, scale, 0.0, 1.0) if codes is not None else (mean, scale, 1.0, 2.0)
    est.scoring = scoring
    objective = NegativeScore(est._template(), est._scorer(), scoring, shapes,
                              scaling)
    theta = rng.normal(size=_model.n_parameters(shapes))
    objective.prepare(theta, data)
    return objective, data, shapes


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize("task, scoring", [("binary", s) for s in BINARY]
                         + [("multiclass", s) for s in MULTICLASS]
                         + [("regression", s) for s in REGRESSION])
@pytest.mark.parametrize("weighted", [False, True])
def test_fast_path_equals_the_scorer(task, scoring, weighted):
    rng = np.random.default_rng(1)
    n, p = 60, 3
    X = rng.normal(size=(n, p))
    n_classes = {"binary": 2, "multiclass": 4, "regression": None}[task]
    if task == "regression":
        est, y, n_out = GuidedESRegressor(), rng.normal(size=n), 1
    else:
        est = GuidedESClassifier()
        y = rng.integers(0, n_classes, n)
        est.classes_ = np.arange(n_classes)
        n_out = 1 if n_classes == 2 else n_classes
    weights = rng.integers(1, 4, n).astype(float) if weighted else np.ones(n)
    objective, data, shapes = _objective(est, scoring, X, y, weights, n_out)
    name = getattr(getattr(scoring, "_score_func", None), "__name__", "")
    assert objective.mode == EXPECTED_MODE.get(
        name, "residuals" if task == "regression" else "confusion")
    for trial in range(6):
        # random candidates, some far out (a class never predicted)
        thetas = rng.normal(size=(7, _model.n_parameters(shapes))) * (1 + 3 * (trial % 3))
        fast = objective.scores(thetas, data, objective.mode)
        slow = objective.scores(thetas, data, "scorer")
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_probe_finds_a_cost_and_rejects_what_is_not_one():
    rng = np.random.default_rng(0)
    classes = np.array([3, 7, 9])
    C = rng.random((3, 3))
    code = {3: 0, 7: 1, 9: 2}

    def cost(t, p, w):
        return np.average(C[[code[a] for a in t], [code[b] for b in p]], weights=w)

    found, form = _metrics.probe_cost(cost, classes, True, rng)
    assert form == "mean"
    np.testing.assert_allclose(found, C, atol=1e-12)
    f1 = lambda t, p, w: f1_score(t == 7, p == 7)
    assert _metrics.probe_cost(f1, classes, False, rng) is None


def test_unknown_keyword_arguments_are_not_guessed():
    classes = np.array([0, 1])
    assert _metrics.classification_metric(f1_score, {"labels": [1]}, classes) is None
    assert _metrics.classification_metric(f1_score, {"average": "samples"},
                                          classes) is None
    assert _metrics.classification_metric(fbeta_score, {}, classes) is None
    assert _metrics.regression_metric(mean_pinball_loss,
                                      {"multioutput": "raw_values"}) is None
    assert _metrics.classification_metric(matthews_corrcoef, {}, classes) is not None
    assert _metrics.classification_metric(jaccard_score, {"pos_label": 2},
                                          classes) is None


def test_a_scorer_of_probabilities_keeps_the_scorer():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    est = GuidedESClassifier()
    est.classes_ = np.array([0, 1])
    objective, _, _ = _objective(est, "neg_log_loss", X, y, np.ones(40), 1)
    assert objective.mode == "scorer" and objective.uses_proba
    assert get_scorer("neg_log_loss")._response_method == "predict_proba"


def test_loss_of_scorer_recognises_the_absolute_and_pinball_losses():
    loss = _metrics.loss_of_scorer
    assert loss(get_scorer("neg_mean_absolute_error")) == ("quantile", 0.5)
    assert loss(make_scorer(mean_pinball_loss, alpha=0.8,
                            greater_is_better=False)) == ("quantile", 0.8)
    assert loss(make_scorer(mean_pinball_loss, greater_is_better=False)) == ("quantile", 0.5)
    # not a loss to minimise, other kwargs, other metrics, plain callables
    assert loss(make_scorer(mean_pinball_loss, alpha=0.8)) is None
    assert loss(make_scorer(mean_pinball_loss, alpha=1.0, greater_is_better=False)) is None
    assert loss(make_scorer(mean_pinball_loss, alpha=0.8, greater_is_better=False,
                            multioutput="raw_values")) is None
    for name in ("r2", "neg_mean_squared_error", "neg_median_absolute_error"):
        assert loss(get_scorer(name)) is None
    assert loss(lambda est, X, y: 0.0) is None


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("unit", [True, False])
def test_confusion_matrices_equal_scikit_learns(n_classes, unit):
    # every path (unit weights of two classes, unit weights, weights) gives
    # scikit-learn's weighted confusion matrix of each candidate
    rng = np.random.default_rng(n_classes + 10 * unit)
    true = rng.integers(0, n_classes, 300)
    pred = rng.integers(0, n_classes, (4, 300))
    pred[0] = n_classes - 1                  # one candidate predicts one class
    w = np.ones(300) if unit else rng.random(300) * 3
    got = _metrics.confusion_matrices(true, pred, w, n_classes)
    assert got.dtype == float and got.shape == (4, n_classes, n_classes)
    for s in range(4):
        expected = confusion_matrix(true, pred[s], labels=np.arange(n_classes),
                                    sample_weight=w)
        if unit:
            np.testing.assert_array_equal(got[s], expected)
        else:
            np.testing.assert_allclose(got[s], expected, rtol=1e-12)
