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
plain ``argmax`` (`is_argmax_cost`). For two classes the Bayes rule is a
threshold on the log-odds: the start's intercept is shifted by it
(`bayes_shift`), and the threshold tuned on folds starts from there.
"""

import numpy as np
from scipy.special import expit

from ._model import softmax_parts

__all__ = ["shift_output", "probabilities", "softmax_last", "argmin_last",
           "argmax_last", "class_codes", "bayes_codes", "sample_bayes_codes",
           "mean_costs", "bayes_shift", "is_argmax_cost", "check_sample_costs"]


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
    return softmax_last(Z)


def softmax_last(Z):
    """The softmax along the last axis of finite raw outputs `Z`.

    The numbers of ``scipy.special.softmax(Z, axis=-1)``, from the same
    operations in the same order, with the reductions over the few classes
    done a class at a time (`softmax_parts`): scoring the candidates of an
    iteration under the Bayes rule spent most of its time in them.
    """
    _, E, total = softmax_parts(Z)
    return E / total[..., None]


def argmin_last(M, largest=False):
    """``M.argmin(axis=-1)`` (``argmax`` with `largest`), the first on ties;
    a column at a time when `M` is finite and has two or three columns
    (faster than numpy along so short a last axis; not from four on)."""
    K = M.shape[-1]
    if K > 3 or not np.isfinite(M).all():
        return M.argmax(axis=-1) if largest else M.argmin(axis=-1)
    better_than, keep = (np.greater, np.maximum) if largest else (np.less, np.minimum)
    best = M[..., 0].copy()
    codes = np.zeros(best.shape, dtype=np.intp)
    for k in range(1, K):
        np.copyto(codes, k, where=better_than(M[..., k], best))
        keep(best, M[..., k], out=best)
    return codes


def argmax_last(M):
    """``M.argmax(axis=-1)``, the first on ties (see `argmin_last`)."""
    return argmin_last(M, largest=True)


def class_codes(Z, costs=None):
    """Predicted class codes from raw outputs ``(n, n_outputs)``: the sign (one
    column), the largest output, or, with `costs`, the Bayes rule
    (`bayes_codes`)."""
    if Z.shape[1] == 1:
        return (Z[:, 0] > 0).astype(int)
    return argmax_last(Z) if costs is None else bayes_codes(Z, costs)


def bayes_codes(Z, costs):
    """Class codes of least expected cost under the softmax of raw outputs.

    `Z` ``(..., n_classes)`` holds raw outputs (any leading axes, such as
    candidates and rows); the decision of a row is
    ``argmin_j sum_i p_i costs[i, j]`` with ``p = softmax(z)``, the first
    such class on ties. `costs` ``(n_classes, n_classes)`` is the cost of
    predicting class ``j`` (column) for a sample of class ``i`` (row).
    """
    return argmin_last(softmax_last(Z) @ costs)


def sample_bayes_codes(Z, costs):
    """Class codes of least expected cost under costs of each sample's own.

    `Z` ``(..., n, n_outputs)`` holds raw outputs of ``n`` rows (any leading
    axes, such as candidates); `costs` ``(n, n_classes, n_classes)`` holds,
    for each row, the cost of predicting class ``j`` for a sample of class
    ``i``. With one output (two classes), the second class is predicted
    when ``p (C[1, 0] - C[1, 1]) > (1 - p) (C[0, 1] - C[0, 0])`` with ``p``
    the logistic of the output, tested on the output itself against the
    log of the ratio of the two differences (`_log_odds_bounds`); otherwise
    ``argmin_j sum_i p_i C[i, j]`` under the softmax. Ties go to the first
    class.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize.estimators._decision import sample_bayes_codes
    >>> C = np.array([[[0.0, 1.0], [1.0, 0.0]],      # errors cost alike
    ...               [[0.0, 1.0], [9.0, 0.0]]])     # a missed positive costs 9
    >>> Z = np.array([[-1.0], [-1.0]])              # p = 0.27 for both rows
    >>> sample_bayes_codes(Z, C)
    array([0, 1])
    """
    if Z.shape[-1] == 1:
        lower, upper = _log_odds_bounds(costs)
        z = Z[..., 0]
        return ((z > lower) & (z < upper)).astype(np.intp)
    expected = np.einsum("...ni,nij->...nj", softmax_last(Z), costs)
    return argmin_last(expected)


def mean_costs(costs, codes, P, weights):
    """Weighted mean cost of each row of decisions `P` ``(S, n)`` (class
    codes), each sample ``k`` of true class ``codes[k]`` paying
    ``costs[k, codes[k], P[s, k]]``; shape ``(S,)``. For two classes, as
    one product of the decisions with the rows' extra cost of the second
    class."""
    owed = costs[np.arange(codes.shape[0]), codes]           # (n, K)
    if owed.shape[1] == 2:
        total = owed[:, 0] @ weights + P @ ((owed[:, 1] - owed[:, 0]) * weights)
    else:
        total = np.take_along_axis(owed[None], P[..., None], axis=2)[..., 0] @ weights
    return total / weights.sum()


def _log_odds_bounds(costs):
    """Per row, the open interval of log-odds ``z`` on which the second class
    has the smaller expected cost, ``p a > (1 - p) b`` with ``a = C[1, 0] -
    C[1, 1]``, ``b = C[0, 1] - C[0, 0]`` and ``p`` the logistic of ``z``:
    ``z > log(b / a)`` when both are positive, ``z < log(b / a)`` when both
    are negative, every ``z`` when ``a >= 0 >= b`` but for ``a = b = 0``,
    and none when ``a <= 0 <= b``."""
    a = costs[:, 1, 0] - costs[:, 1, 1]       # flagging a positive saves
    b = costs[:, 0, 1] - costs[:, 0, 0]       # flagging a negative costs
    n = a.shape[0]
    lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(b / a)
    both = (a > 0) & (b > 0)
    lower[both] = t[both]
    negative = (a < 0) & (b < 0)
    upper[negative] = t[negative]
    never = ((a <= 0) & (b >= 0)) | ((a == 0) & (b == 0))
    lower[never] = np.inf
    return lower, upper


def check_sample_costs(sample_costs, n_samples, n_classes):
    """`sample_costs` as a float array ``(n_samples, n_classes, n_classes)``,
    or a ValueError naming the argument, its shape and what was expected."""
    try:
        costs = np.asarray(sample_costs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"sample_costs must be an array of real numbers of shape "
            f"({n_samples}, {n_classes}, {n_classes}); got {exc}") from exc
    expected = (n_samples, n_classes, n_classes)
    if costs.shape != expected:
        raise ValueError(
            f"sample_costs must have shape {expected} (a cost of predicting "
            f"class j for a sample of class i, for each of the {n_samples} "
            f"samples), got shape {costs.shape}")
    bad = np.flatnonzero(~np.isfinite(costs).all(axis=(1, 2)))
    if bad.size:
        raise ValueError(
            f"sample_costs must be finite; sample {bad[0]} has "
            f"{costs[bad[0]].tolist()}")
    return costs


def bayes_shift(costs):
    """Shift of the log-odds that makes their sign the Bayes decision.

    For two classes with costs ``C[i, j]`` of predicting ``j`` for a sample
    of class ``i``, predicting the second class has the smaller expected
    cost when ``p (C[1, 0] - C[1, 1]) > (1 - p) (C[0, 1] - C[0, 0])``, that
    is when the log-odds ``z = log(p / (1 - p))`` exceed
    ``log(a / b)``, with ``a = C[0, 1] - C[0, 0]`` and
    ``b = C[1, 0] - C[1, 1]``; the shift ``log(b / a)`` added to ``z`` makes
    that test ``z + shift > 0``. None when the rule is the plain sign (the
    errors cost alike), or when an error costs nothing more than the right
    decision (then one class is always best, which no threshold expresses
    on the log-odds scale), or for a non-finite cost.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize.estimators._decision import bayes_shift
    >>> C = np.array([[0.0, 1.0], [5.0, 0.0]])     # a missed positive costs 5
    >>> print(round(bayes_shift(C), 4), round(float(np.log(5)), 4))
    1.6094 1.6094
    >>> bayes_shift(1 - np.eye(2)) is None           # accuracy: the sign
    True
    """
    costs = np.asarray(costs, dtype=float)
    if costs.shape != (2, 2) or not np.all(np.isfinite(costs)):
        return None
    a = costs[0, 1] - costs[0, 0]
    b = costs[1, 0] - costs[1, 1]
    if not (a > 0 and b > 0) or is_argmax_cost(costs):
        return None
    return float(np.log(b / a))


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
