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
"""

import numpy as np
from scipy.special import expit, softmax

__all__ = ["shift_output", "probabilities", "class_codes"]


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


def class_codes(Z):
    """Predicted class codes from raw outputs."""
    return (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else Z.argmax(axis=1)


def calibrated_start(estimator, first_fit):
    """Whether the start of this fit is a calibrated probability model."""
    init = estimator.init
    if init == "auto":
        init = "random" if estimator.surrogate_loss is None else "surrogate"
    return (first_fit and init == "surrogate"
            and estimator.surrogate_loss == "log_loss")
