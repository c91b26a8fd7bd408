"""Metrics of many candidate models at once, for the estimators' inner loop.

A scikit-learn scorer validates its inputs at each call, which costs far more
than the metric; Guided ES scores ``2P + 1`` parameter vectors per
iteration. The functions here compute, for a stack of candidates, the value
of a scikit-learn metric from their weighted confusion matrices
(classification) or from their predictions (regression), in one pass.

`classification_metric` and `regression_metric` recognise the metric
functions of scikit-learn (with their keyword arguments) behind a scorer
made by `sklearn.metrics.make_scorer` or named by a string; `probe_cost`
recognises any other metric that is a mean (or a sum) of a cost per pair
(true class, predicted class), by measuring that cost and checking it;
`linear_gain` gives the gain per pair of the metrics that are linear in the
confusion matrix of given rows (accuracy, balanced accuracy), for the Bayes
decisions of the classifier (`_decision`). The
estimators then check every one of them against the real scorer before
using it (`_objective`), and fall back to the scorer otherwise.

A classification metric takes ``cm`` of shape ``(S, K, K)``, the weighted
confusion matrices of ``S`` candidates (rows true class, columns predicted
class, in the order of ``classes_``), and returns ``S`` values; a
regression metric takes ``y_true`` ``(n,)``, predictions ``(S, n)`` and
weights ``(n,)``.
"""

import numpy as np
from sklearn import metrics as skm

__all__ = ["confusion_matrices", "classification_metric", "regression_metric",
           "loss_of_scorer", "probe_cost", "cost_metric", "linear_gain"]


def confusion_matrices(true, pred, weights, n_classes):
    """Weighted confusion matrices ``(S, K, K)`` of class codes.

    `true` ``(n,)`` and `pred` ``(S, n)`` hold codes in ``0 .. K - 1``.
    With unit weights the counts are integers, counted without the weights
    (for two classes, from the sum of the predicted codes and their product
    with the true ones), the same numbers several times as fast.
    """
    S = pred.shape[0]
    K2 = n_classes * n_classes
    unit = bool(np.all(weights == 1.0))
    if unit and n_classes == 2:
        # codes are 0 / 1: integer sums and products count them exactly
        actual = true.astype(np.intp, copy=False)
        tp = pred @ actual
        fp = pred.sum(axis=1) - tp
        positives = np.count_nonzero(actual)
        fn = positives - tp
        tn = true.size - positives - fp
        return np.stack([np.stack([tn, fp], axis=1),
                         np.stack([fn, tp], axis=1)], axis=1).astype(float)
    cells = (np.arange(S)[:, None] * K2 + true * n_classes + pred).ravel()
    if unit:
        counts = np.bincount(cells, minlength=S * K2).astype(float)
    else:
        counts = np.bincount(cells, weights=np.tile(weights, S), minlength=S * K2)
    return counts.reshape(S, n_classes, n_classes)


def _ratio(num, den, zero_division):
    """num / den, `zero_division` where den is 0."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def _accuracy(cm):
    return np.trace(cm, axis1=1, axis2=2) / cm.sum(axis=(1, 2))


def _balanced_accuracy(cm):
    tp = np.diagonal(cm, axis1=1, axis2=2)
    support = cm.sum(axis=2)
    seen = support[0] > 0                  # the same true labels for all
    return np.mean(tp[:, seen] / support[:, seen], axis=1)


def _matthews(cm):
    t, p = cm.sum(axis=2), cm.sum(axis=1)
    c = np.trace(cm, axis1=1, axis2=2)
    s = cm.sum(axis=(1, 2))
    cov_tp = c * s - np.sum(t * p, axis=1)
    cov_pp = s ** 2 - np.sum(p * p, axis=1)
    cov_tt = s ** 2 - np.sum(t * t, axis=1)
    den = cov_tt * cov_pp
    return _ratio(cov_tp, np.sqrt(den), 0.0)


def _prf(kind, average, beta, pos, zero_division):
    """precision / recall / F-beta / Jaccard of a stack of confusion matrices."""
    beta2 = beta * beta

    def value(tp, predicted, support):
        if kind == "precision":
            return _ratio(tp, predicted, zero_division)
        if kind == "recall":
            return _ratio(tp, support, zero_division)
        if kind == "jaccard":
            return _ratio(tp, predicted + support - tp, zero_division)
        return _ratio((1 + beta2) * tp, beta2 * support + predicted, zero_division)

    def score(cm):
        tp = np.diagonal(cm, axis1=1, axis2=2)
        support, predicted = cm.sum(axis=2), cm.sum(axis=1)
        if average == "binary":
            return value(tp[:, pos], predicted[:, pos], support[:, pos])
        # unique_labels(y_true, y_pred): the labels seen in either
        present = (support > 0) | (predicted > 0)
        if average == "micro":
            return value(*(np.sum(a * present, axis=1) for a in (tp, predicted, support)))
        values = value(tp, predicted, support)
        if average == "macro":
            return np.sum(values * present, axis=1) / present.sum(axis=1)
        total = np.sum(support * present, axis=1)
        return _ratio(np.sum(values * support * present, axis=1), total,
                      zero_division)
    return score


def _kwargs_subset(kwargs, allowed):
    return set(kwargs) <= set(allowed)


def classification_metric(score_func, kwargs, classes):
    """``metric(cm) -> (S,)`` computing ``score_func(y, pred, **kwargs)``, or None.

    `score_func` must be one of scikit-learn's confusion-matrix metrics with
    keyword arguments this module handles; anything else gives None.
    """
    K = len(classes)
    if score_func is skm.accuracy_score:
        if kwargs.get("normalize", True) is not True or not _kwargs_subset(
                kwargs, ["normalize"]):
            return None
        return _accuracy
    if score_func is skm.balanced_accuracy_score:
        if kwargs.get("adjusted", False) or not _kwargs_subset(kwargs, ["adjusted"]):
            return None
        return _balanced_accuracy
    if score_func is skm.matthews_corrcoef:
        return _matthews if not kwargs else None
    kinds = {skm.f1_score: "f", skm.fbeta_score: "f", skm.precision_score: "precision",
             skm.recall_score: "recall", skm.jaccard_score: "jaccard"}
    kind = next((k for f, k in kinds.items() if f is score_func), None)
    if kind is None:
        return None
    if not _kwargs_subset(kwargs, ["average", "pos_label", "beta", "zero_division",
                                   "labels"]) or kwargs.get("labels") is not None:
        return None
    beta = kwargs.get("beta", 1.0) if score_func is skm.fbeta_score else 1.0
    if score_func is skm.fbeta_score and "beta" not in kwargs:
        return None
    zero_division = kwargs.get("zero_division", "warn")
    zero_division = 0.0 if zero_division == "warn" else zero_division
    if not isinstance(zero_division, (int, float)) or zero_division not in (0, 1):
        return None
    average = kwargs.get("average", "binary")
    if average not in ("binary", "micro", "macro", "weighted"):
        return None
    pos = None
    if average == "binary":
        if K != 2:
            return None
        where = np.flatnonzero(classes == kwargs.get("pos_label", 1))
        if where.size != 1:
            return None
        pos = int(where[0])
    return _prf(kind, average, beta, pos, zero_division)


def _pinball(alpha):
    def loss(y, P, w):
        diff = y - P
        sign = (diff >= 0).astype(diff.dtype)
        values = alpha * sign * diff - (1 - alpha) * (1 - sign) * diff
        return values @ w / w.sum()
    return loss


def _mae(y, P, w):
    return np.abs(y - P) @ w / w.sum()


def _mse(y, P, w):
    return (y - P) ** 2 @ w / w.sum()


def _r2(y, P, w):
    mean = w @ y / w.sum()
    residual = (y - P) ** 2 @ w
    total = w @ (y - mean) ** 2
    if total == 0:
        return np.where(residual == 0, 1.0, 0.0)
    return 1.0 - residual / total


def regression_metric(score_func, kwargs):
    """``metric(y, P, w) -> (S,)`` computing ``score_func(y, p, **kwargs)``, or None."""
    if kwargs.get("multioutput", "uniform_average") != "uniform_average":
        return None
    kwargs = {k: v for k, v in kwargs.items() if k != "multioutput"}
    if score_func is skm.mean_absolute_error and not kwargs:
        return _mae
    if score_func is skm.mean_squared_error and not kwargs:
        return _mse
    if score_func is skm.root_mean_squared_error and not kwargs:
        return lambda y, P, w: np.sqrt(_mse(y, P, w))
    if score_func is skm.r2_score and kwargs.get("force_finite", True) and \
            _kwargs_subset(kwargs, ["force_finite"]):
        return _r2
    if score_func is skm.mean_pinball_loss and _kwargs_subset(kwargs, ["alpha"]):
        return _pinball(float(kwargs.get("alpha", 0.5)))
    return None


def loss_of_scorer(scorer):
    """The convex loss a regression scorer averages, as a surrogate loss
    (``('quantile', alpha)``, alpha 0.5 for the absolute error), or None.

    Recognised: ``mean_absolute_error`` and ``mean_pinball_loss`` (with
    `alpha`) behind a scorer that calls ``predict`` and negates them (as
    ``'neg_mean_absolute_error'`` and ``make_scorer(...,
    greater_is_better=False)`` do).
    """
    func = getattr(scorer, "_score_func", None)
    kwargs = getattr(scorer, "_kwargs", None)
    if (not isinstance(kwargs, dict) or getattr(scorer, "_sign", None) != -1
            or getattr(scorer, "_response_method", None) != "predict"
            or kwargs.get("multioutput", "uniform_average") != "uniform_average"):
        return None
    kwargs = {k: v for k, v in kwargs.items() if k != "multioutput"}
    if func is skm.mean_absolute_error and not kwargs:
        return ("quantile", 0.5)
    if func is skm.mean_pinball_loss and _kwargs_subset(kwargs, ["alpha"]):
        alpha = float(kwargs.get("alpha", 0.5))
        # at 0 or 1 the loss has no minimiser without the penalty
        return ("quantile", alpha) if 0.0 < alpha < 1.0 else None
    return None


def probe_cost(metric, classes, weighted, rng, n_checks=5):
    """The cost matrix ``C`` if ``metric(y_true, y_pred)`` is a mean (or sum)
    of ``C[true, pred]``, checked on random cases; else None.

    `metric(y_true, y_pred, sample_weight)` takes labels in `classes`
    (``sample_weight`` None when not `weighted`). Returns ``(C, form)`` with
    form 'mean' (weighted mean of the costs) or 'sum'.
    """
    K = len(classes)
    t0, p0 = np.divmod(np.arange(K * K), K)      # every pair once
    n0 = K * K

    def call(t, p, w=None):
        value = metric(classes[t], classes[p], w)
        return float(value)

    try:
        base = call(t0, p0, np.ones(n0) if weighted else None)
        with_pair = np.array([[call(np.append(t0, a), np.append(p0, b),
                                    np.ones(n0 + 1) if weighted else None)
                               for b in range(K)] for a in range(K)])
        candidates = {"mean": with_pair * (n0 + 1) - base * n0,
                      "sum": with_pair - base}
        for _ in range(n_checks):
            n = int(rng.integers(5, 40))
            t, p = rng.integers(0, K, n), rng.integers(0, K, n)
            w = rng.integers(1, 4, n).astype(float) if weighted else np.ones(n)
            value = call(t, p, w if weighted else None)
            for form, C in list(candidates.items()):
                total = w @ C[t, p]
                guess = total / w.sum() if form == "mean" else total
                if not abs(guess - value) <= 1e-10 * max(1.0, abs(value)):
                    del candidates[form]
            if not candidates:
                return None
    except Exception:
        return None
    form, C = next(iter(candidates.items()))
    return C, form


def cost_metric(C, form):
    """``metric(cm) -> (S,)`` for a cost matrix found by `probe_cost`."""
    def score(cm):
        total = np.sum(cm * C, axis=(1, 2))
        return total / cm.sum(axis=(1, 2)) if form == "mean" else total
    return score


def linear_gain(score_func, kwargs, classes):
    """``gain(codes, weights) -> G`` for a metric linear in the confusion matrix.

    For accuracy and balanced accuracy (``adjusted`` or not) of scikit-learn,
    on rows of class codes `codes` and weights `weights`, the metric is an
    increasing affine function of ``sum(cm * G)``: ``G`` ``(K, K)`` is the
    gain per pair (true class, predicted class) as a weighted mean over the
    rows, the identity for accuracy and ``diag(1 / (K' * prior_i))`` for
    balanced accuracy (``K'`` classes of positive weight, ``prior_i`` the
    share of class ``i`` in the weights; 0 for a class of no weight).
    Anything else gives None (a metric found by `probe_cost` is its own
    gain, the cost matrix).
    """
    K = len(classes)
    if score_func is skm.accuracy_score and _kwargs_subset(kwargs, ["normalize"]):
        return lambda codes, weights: np.eye(K)
    if score_func is skm.balanced_accuracy_score and _kwargs_subset(
            kwargs, ["adjusted"]):
        def gain(codes, weights):
            support = np.bincount(codes, weights=weights, minlength=K)
            seen = support > 0
            share = np.zeros(K)
            share[seen] = weights.sum() / (seen.sum() * support[seen])
            return np.diag(share)
        return gain
    return None
