"""The decision layer: decisions for the scorer on top of a probability model.

A classifier keeps two models. The *decision model* (``coefs_``,
``intercepts_``) is the one Guided ES moved to maximise the scorer; its raw
output gives `decision_function` and `predict`. The *probability model*
(``proba_coefs_``, ``proba_intercepts_``) gives `predict_proba`: with the log
loss as surrogate and a surrogate start, it is that start, the
surrogate-loss minimiser (a logistic regression for a linear model), whose
probabilities keep its calibration. The decisions the scorer needs are taken
on top of it, as `sklearn.model_selection.TunedThresholdClassifierCV` moves
a threshold and leaves the probabilities alone; so ``predict`` need not be
the most probable class of ``predict_proba``. For several classes the
decisions tuned on folds are ``argmax(log p + offsets)``, offsets per class
added to the start's log-probabilities (`shift_output`). Without a calibrated start
(hinge or no surrogate loss, a random start), or when the scorer itself
judges probabilities (``neg_log_loss``, ``neg_brier_score``), the
probabilities are those of the decision model.

For several classes and a scorer linear in the weighted confusion matrix
(a cost per pair of classes, balanced accuracy), with a calibrated start,
the decisions follow the Bayes rule instead: the class of least expected
cost ``argmin_j sum_i p_i C[i, j]`` under the softmax probabilities ``p``
of the decision model's raw outputs (`bayes_codes`), with ``C`` the cost
matrix of the scorer (the negated gain of a score). The start then makes
the Bayes decisions of the logistic regression, and the climb moves its
parameters under the same rule. The decisions of a cost matrix that
charges every error alike (accuracy) are the most probable class, the
plain ``argmax`` (`is_argmax_cost`).
"""

import numpy as np
from scipy.special import expit, softmax

__all__ = ["shift_output", "probabilities", "class_codes", "bayes_codes",
           "is_argmax_cost"]


def shift_output(theta, offset):
    """`theta` with `offset` added to the intercepts of its outputs.

    `offset` is a float (one output) or one value per output: per-class
    offsets of the log-probabilities of a softmax model, since adding them
    to the intercepts adds them to every row's raw outputs, which are the
    log-probabilities up to a constant per row.
    """
    theta = theta.copy()
    theta[-np.size(offset):] += offset
    return theta


def probabilities(Z):
    """Class probabilities from raw outputs: logistic (one column) or softmax."""
    if Z.shape[1] == 1:
        p = expit(Z[:, 0])
        return np.column_stack([1.0 - p, p])
    return softmax(Z, axis=1)


def class_codes(Z, costs=None):
    """Predicted class codes from raw outputs ``(n, n_outputs)``: the sign (one
    column), the largest output, or, with `costs`, the Bayes rule
    (`bayes_codes`)."""
    if Z.shape[1] == 1:
        return (Z[:, 0] > 0).astype(int)
    return Z.argmax(axis=1) if costs is None else bayes_codes(Z, costs)


def bayes_codes(Z, costs):
    """Class codes of least expected cost under the softmax of raw outputs.

    `Z` ``(..., n_classes)`` holds raw outputs (any leading axes, such as
    candidates and rows); the decision of a row is
    ``argmin_j sum_i p_i costs[i, j]`` with ``p = softmax(z)``, the first
    such class on ties. `costs` ``(n_classes, n_classes)`` is the cost of
    predicting class ``j`` (column) for a sample of class ``i`` (row).
    """
    return (softmax(Z, axis=-1) @ costs).argmin(axis=-1)


def is_argmax_cost(costs):
    """Whether the Bayes rule of `costs` is the most probable class.

    It is when every error costs the same, at least as much as a right
    decision, up to a constant per true class (a row): then the expected
    cost of predicting ``j`` is a constant minus a positive multiple of
    ``p_j`` (or does not depend on ``j``).
    """
    excess = costs - np.diag(costs)[:, None]       # right decisions cost 0
    errors = excess[~np.eye(len(costs), dtype=bool)]
    return bool(np.ptp(errors) <= 1e-12 * max(1.0, np.max(np.abs(errors)))
                and errors[0] >= 0)


def calibrated_start(estimator, first_fit):
    """Whether the start of this fit is a calibrated probability model."""
    init = estimator.init
    if init == "auto":
        init = "random" if estimator.surrogate_loss is None else "surrogate"
    return (first_fit and init == "surrogate"
            and estimator.surrogate_loss == "log_loss")
