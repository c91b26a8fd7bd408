"""NumPy versions of common scikit-learn scorers, for the estimators' inner loop.

A scikit-learn scorer spends milliseconds validating its inputs at each call,
far more than the metric costs; Guided ES calls it thousands of times per
fit. For the scorer names listed here the estimators compute the same value
from a weighted confusion matrix (classification) or from the residuals
(regression) in microseconds. They check the equality against the real
scorer on the training data before using a fast version, and fall back to
the scorer otherwise.

Each classification function takes the weighted confusion matrix ``cm``
(rows true class, columns predicted class, in the order of ``classes_``)
and the index ``pos`` of the label 1 (None when there is none); each
regression function takes ``y_true``, ``y_pred`` and ``weights``.
"""

import numpy as np

__all__ = ["CLASSIFICATION", "REGRESSION", "confusion_matrix"]


def confusion_matrix(true, pred, weights, n_classes):
    """Weighted confusion matrix of class codes in ``0 .. n_classes - 1``."""
    cells = np.bincount(true * n_classes + pred, weights=weights,
                        minlength=n_classes * n_classes)
    return cells.reshape(n_classes, n_classes)


def _ratio(num, den):
    """num / den, 0 where den is 0 (scikit-learn's zero_division='warn')."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def _per_class(cm):
    tp = np.diag(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    present = (support > 0) | (predicted > 0)      # unique_labels(y_true, y_pred)
    return tp, support, predicted, present


def accuracy(cm, pos):
    return np.trace(cm) / cm.sum()


def balanced_accuracy(cm, pos):
    tp, support, _, _ = _per_class(cm)
    seen = support > 0
    return np.mean(tp[seen] / support[seen])


def _binary(kind):
    def score(cm, pos):
        if pos is None or cm.shape[0] != 2:
            raise ValueError("binary metric needs two classes and the label 1")
        tp = cm[pos, pos]
        predicted, support = cm[:, pos].sum(), cm[pos, :].sum()
        if kind == "precision":
            return float(_ratio(tp, predicted))
        if kind == "recall":
            return float(_ratio(tp, support))
        return float(_ratio(2 * tp, predicted + support))
    return score


def _averaged(kind, average):
    def score(cm, pos):
        tp, support, predicted, present = _per_class(cm)
        if kind == "precision":
            values = _ratio(tp, predicted)
        elif kind == "recall":
            values = _ratio(tp, support)
        else:
            values = _ratio(2 * tp, predicted + support)
        if average == "macro":
            return float(np.mean(values[present]))
        total = support[present].sum()
        return float(values[present] @ support[present] / total) if total else 0.0
    return score


CLASSIFICATION = {
    "accuracy": accuracy,
    "balanced_accuracy": balanced_accuracy,
    "f1": _binary("f1"),
    "precision": _binary("precision"),
    "recall": _binary("recall"),
    "f1_micro": accuracy,          # single-label: micro averages are accuracy
    "precision_micro": accuracy,
    "recall_micro": accuracy,
    **{f"{kind}_{average}": _averaged(kind, average)
       for kind in ("f1", "precision", "recall")
       for average in ("macro", "weighted")},
}


def _r2(y_true, y_pred, weights):
    mean = np.average(y_true, weights=weights)
    residual = weights @ (y_true - y_pred) ** 2
    total = weights @ (y_true - mean) ** 2
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1.0 - residual / total


def _neg_mean_absolute_error(y_true, y_pred, weights):
    return -np.average(np.abs(y_true - y_pred), weights=weights)


def _neg_mean_squared_error(y_true, y_pred, weights):
    return -np.average((y_true - y_pred) ** 2, weights=weights)


def _neg_root_mean_squared_error(y_true, y_pred, weights):
    return -np.sqrt(-_neg_mean_squared_error(y_true, y_pred, weights))


REGRESSION = {
    "r2": _r2,
    "neg_mean_absolute_error": _neg_mean_absolute_error,
    "neg_mean_squared_error": _neg_mean_squared_error,
    "neg_root_mean_squared_error": _neg_root_mean_squared_error,
}
