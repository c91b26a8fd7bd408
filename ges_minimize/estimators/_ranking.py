"""Metrics of a ranking that do not decompose over samples.

`recall_at_precision` and `precision_at_top` judge the scores of a binary
classifier through the order they put the samples in, as
`sklearn.metrics.roc_auc_score` with ``max_fpr`` (the partial area under
the ROC curve, McClish's standardisation [1]_) does. None of them is a mean
of a loss per sample: they need the whole ranking.

Each is computed for a stack of candidate scores at once (one sort per
candidate), which is how the estimators score the ``2P + 1`` candidates of
an iteration; the public functions are that computation for one candidate.
`ranking_metric` recognises these three metric functions, with their keyword
arguments, behind a scorer made by `sklearn.metrics.make_scorer`.

Ties between scores are treated as scikit-learn's curves treat them: rows
with equal scores are on the same side of every threshold.

References
----------
.. [1] D. K. McClish, "Analyzing a portion of the ROC curve", Medical
   Decision Making 9(3), 190-195, 1989.
"""

import numbers

import numpy as np
from sklearn import metrics as skm
from sklearn.utils import check_array, check_consistent_length, column_or_1d

__all__ = ["recall_at_precision", "precision_at_top", "ranking_metric"]


# -- the stacked computation --------------------------------------------------------
class _Ranked:
    """Candidates' rows sorted by decreasing score, with cumulative weights.

    `scores` ``(S, n)``; `positive` ``(n,)`` booleans; `weights` ``(n,)``.
    ``tp``, ``fp`` and ``total`` are the weights of the positives, negatives
    and all rows ranked at or above each position; ``last`` marks the last
    row of each group of tied scores (where a threshold can fall).
    """

    def __init__(self, scores, positive, weights):
        # the metrics read the sums at the ends of groups of tied scores
        # only, which the order within a group does not change (but for the
        # rounding of non-integer weights): numpy's default sort, several
        # times faster than a stable one, serves
        order = np.argsort(-scores, axis=1)
        ranked = np.take_along_axis(scores, order, axis=1)
        w = weights[order]
        pos = np.where(positive[order], w, 0.0)
        self.tp = np.cumsum(pos, axis=1)
        self.fp = np.cumsum(w - pos, axis=1)
        self.total = np.cumsum(w, axis=1)
        self.last = np.ones(ranked.shape, dtype=bool)
        self.last[:, :-1] = ranked[:, :-1] != ranked[:, 1:]


def recall_at_precision_many(positive, scores, weights, min_precision):
    """`recall_at_precision` of each row of `scores` ``(S, n)``."""
    r = _Ranked(scores, positive, weights)
    n_positive = r.tp[:, -1]
    called = r.tp + r.fp
    precision = np.divide(r.tp, called, out=np.zeros_like(r.tp), where=called > 0)
    ok = r.last & (called > 0) & (precision >= min_precision)
    return np.max(np.where(ok, r.tp, 0.0), axis=1) / n_positive


def precision_at_top_many(positive, scores, weights, fraction):
    """`precision_at_top` of each row of `scores` ``(S, n)``."""
    r = _Ranked(scores, positive, weights)
    S, n = r.tp.shape
    capacity = fraction * r.total[:, -1]
    rows = np.arange(S)
    # the group of tied rows in which the top `fraction` of the weight ends
    end = np.argmax(r.last & (r.total >= capacity[:, None]), axis=1)
    start_flag = np.ones((S, n), dtype=bool)
    start_flag[:, 1:] = r.last[:, :-1]
    starts = np.maximum.accumulate(np.where(start_flag, np.arange(n), 0), axis=1)
    before = starts[rows, end] - 1
    has_before = before >= 0
    before = np.maximum(before, 0)
    tp_before = np.where(has_before, r.tp[rows, before], 0.0)
    w_before = np.where(has_before, r.total[rows, before], 0.0)
    # the boundary group counts in proportion of the weight it has room for:
    # the mean precision over the ways of breaking its ties
    share = (capacity - w_before) / (r.total[rows, end] - w_before)
    top_tp = tp_before + share * (r.tp[rows, end] - tp_before)
    return top_tp / capacity


def partial_auc_many(positive, scores, weights, max_fpr):
    """`sklearn.metrics.roc_auc_score` with `max_fpr` of each row of `scores`.

    The ROC curve of each candidate has a point at the end of every group
    of tied scores (the straight line across a group is the mean over the
    ways of ordering it); the area under it up to ``fpr = max_fpr`` is
    standardised as McClish proposed, 0.5 for a random and 1 for a perfect
    ranking (the plain area with `max_fpr` None or 1).
    """
    r = _Ranked(scores, positive, weights)
    S, n = r.tp.shape
    rows = np.arange(S)[:, None]
    # every position holds the point of the latest group end at or above it,
    # so that the curve moves only at group ends
    latest = np.maximum.accumulate(np.where(r.last, np.arange(n), -1), axis=1)
    seen = latest >= 0
    latest = np.maximum(latest, 0)
    fpr = np.where(seen, r.fp[rows, latest], 0.0) / r.fp[:, -1:]
    tpr = np.where(seen, r.tp[rows, latest], 0.0) / r.tp[:, -1:]
    fpr = np.hstack([np.zeros((S, 1)), fpr])
    tpr = np.hstack([np.zeros((S, 1)), tpr])
    x0, x1, y0, y1 = fpr[:, :-1], fpr[:, 1:], tpr[:, :-1], tpr[:, 1:]
    if max_fpr is None or max_fpr == 1:
        return np.sum((x1 - x0) * (y1 + y0) / 2.0, axis=1)
    # each segment of the curve clipped at fpr = max_fpr
    inside = x1 <= max_fpr
    across = (x0 < max_fpr) & ~inside
    width = np.where(inside, x1 - x0, np.where(across, max_fpr - x0, 0.0))
    slope = np.divide(y1 - y0, x1 - x0, out=np.zeros_like(x0), where=across)
    y_end = np.where(inside, y1, y0 + (max_fpr - x0) * slope)
    area = np.sum(width * (y0 + y_end) / 2.0, axis=1)
    min_area, max_area = 0.5 * max_fpr ** 2, max_fpr
    return 0.5 * (1 + (area - min_area) / (max_area - min_area))


# -- the public metrics ---------------------------------------------------------------
def _check_inputs(y_true, y_score, sample_weight, pos_label):
    """Validated ``(positive, scores, weights)`` for the public metrics."""
    y_true = column_or_1d(check_array(y_true, ensure_2d=False, dtype=None,
                                      input_name="y_true"))
    y_score = column_or_1d(check_array(y_score, ensure_2d=False,
                                       dtype=np.float64, input_name="y_score"))
    check_consistent_length(y_true, y_score)
    if sample_weight is None:
        weights = np.ones(y_true.shape[0])
    else:
        weights = column_or_1d(check_array(sample_weight, ensure_2d=False,
                                           dtype=np.float64,
                                           input_name="sample_weight"))
        check_consistent_length(y_true, weights)
        if np.any(weights < 0):
            raise ValueError(f"sample_weight must be non-negative, got "
                             f"{float(weights.min())!r}")
        if not np.any(weights > 0):
            raise ValueError("sample_weight must not be all zero")
    labels = np.unique(y_true)
    if labels.size > 2:
        raise ValueError(
            f"y_true must hold two classes (a binary task), got {labels.size}: "
            f"{labels.tolist()[:10]!r}")
    if pos_label is None:
        if labels.size != 2:
            raise ValueError(
                f"y_true holds only the class {labels[0].tolist()!r}; with "
                "pos_label=None the positive class is the greater of two, so "
                "give pos_label")
        pos_label = labels[1]
    return y_true == pos_label, y_score, weights


def _check_real(value, name, low, high, low_closed):
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and (low <= value if low_closed else low < value) and value <= high)
    if not ok:
        bracket = "[" if low_closed else "("
        raise ValueError(f"{name} must be a real number in {bracket}{low}, "
                         f"{high}], got {value!r}")
    return float(value)


def recall_at_precision(y_true, y_score, *, min_precision, pos_label=None,
                        sample_weight=None):
    """Largest recall of a threshold on `y_score` whose precision reaches
    `min_precision`.

    Every distinct score is a threshold: the samples scoring at or above it
    are called positive. Among the thresholds whose precision (the
    weighted share of positives among the samples called positive) is at
    least `min_precision`, the largest recall (the weighted share of the
    positives called positive) is returned; 0 if no threshold reaches that
    precision. Tied scores are on the same side of every threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels.
    y_score : array-like of shape (n_samples,)
        Scores, greater for the positive class (`decision_function`, or the
        probability of the positive class).
    min_precision : float in [0, 1]
        The precision a threshold must reach.
    pos_label : int, float, bool or str, default=None
        The positive class; None is the greater of the two classes of
        `y_true` (as `sklearn.metrics.roc_auc_score` takes it).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; a weight k counts as k copies of the sample.

    Returns
    -------
    recall : float
        In [0, 1].

    Raises
    ------
    ValueError
        For inputs of different lengths, non-finite scores, more than two
        classes, negative or all-zero weights, `min_precision` outside
        [0, 1], or no positive sample of positive weight.

    See Also
    --------
    sklearn.metrics.precision_recall_curve : All the (precision, recall)
        pairs of the thresholds.

    Examples
    --------
    >>> from ges_minimize.estimators import recall_at_precision
    >>> y = [0, 0, 1, 1, 0, 1]
    >>> score = [0.1, 0.4, 0.35, 0.8, 0.7, 0.9]
    >>> recall_at_precision(y, score, min_precision=1.0)   # the top 2
    0.6666666666666666
    >>> recall_at_precision(y, score, min_precision=0.6)   # the top 5: 3/5
    1.0
    """
    min_precision = _check_real(min_precision, "min_precision", 0.0, 1.0, True)
    positive, y_score, weights = _check_inputs(y_true, y_score, sample_weight,
                                               pos_label)
    if not np.any(weights[positive] > 0):
        raise ValueError(
            "y_true has no positive sample with a positive weight; the recall "
            "is undefined")
    return float(recall_at_precision_many(positive, y_score[None], weights,
                                          min_precision)[0])


def precision_at_top(y_true, y_score, *, fraction, pos_label=None,
                     sample_weight=None):
    """Precision among the top `fraction` of the samples by `y_score`.

    The samples are ranked by decreasing score and the first `fraction` of
    the total weight is taken (``fraction * n_samples`` samples without
    weights; a fractional sample counts in part); the weighted share of
    positives among them is returned. Ties: a group of tied scores that
    straddles the cut counts in proportion to the weight the cut leaves
    for it, with its own share of positives, which is the mean precision
    over the ways of ordering the tied samples; so the value does not
    depend on the order of the samples.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels.
    y_score : array-like of shape (n_samples,)
        Scores, greater for the positive class.
    fraction : float in (0, 1]
        Share of the samples (of their total weight) at the top.
    pos_label : int, float, bool or str, default=None
        The positive class; None is the greater of the two classes of
        `y_true`.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; a weight k counts as k copies of the sample.

    Returns
    -------
    precision : float
        In [0, 1].

    Raises
    ------
    ValueError
        For inputs of different lengths, non-finite scores, more than two
        classes, negative or all-zero weights, or `fraction` outside (0, 1].

    Examples
    --------
    >>> from ges_minimize.estimators import precision_at_top
    >>> y = [0, 0, 1, 1, 0, 1]
    >>> score = [0.1, 0.4, 0.35, 0.8, 0.7, 0.9]
    >>> precision_at_top(y, score, fraction=0.5)          # 0.9, 0.8, 0.7
    0.6666666666666666
    >>> # 1.5 samples at the top, in a tie of two with one positive
    >>> precision_at_top([0, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0], fraction=0.25)
    0.5
    """
    fraction = _check_real(fraction, "fraction", 0.0, 1.0, False)
    positive, y_score, weights = _check_inputs(y_true, y_score, sample_weight,
                                               pos_label)
    return float(precision_at_top_many(positive, y_score[None], weights,
                                       fraction)[0])


# -- recognising them behind a scorer -------------------------------------------------
def ranking_metric(score_func, kwargs):
    """``metric(positive, scores (S, n), weights) -> (S,)`` computing
    ``score_func(y_true, y_score, **kwargs)``, or None.

    `score_func` must be `recall_at_precision`, `precision_at_top` or
    `sklearn.metrics.roc_auc_score` with keyword arguments handled here
    (``pos_label`` is the caller's: it decides `positive`).
    """
    kwargs = {k: v for k, v in kwargs.items() if k != "pos_label"}
    try:
        if score_func is recall_at_precision and set(kwargs) == {"min_precision"}:
            level = _check_real(kwargs["min_precision"], "min_precision", 0.0, 1.0, True)
            return lambda p, s, w: recall_at_precision_many(p, s, w, level)
        if score_func is precision_at_top and set(kwargs) == {"fraction"}:
            level = _check_real(kwargs["fraction"], "fraction", 0.0, 1.0, False)
            return lambda p, s, w: precision_at_top_many(p, s, w, level)
        if score_func is skm.roc_auc_score and set(kwargs) <= {"max_fpr"}:
            max_fpr = kwargs.get("max_fpr")
            if max_fpr is not None:
                max_fpr = _check_real(max_fpr, "max_fpr", 0.0, 1.0, False)
            return lambda p, s, w: partial_auc_many(p, s, w, max_fpr)
    except ValueError:
        return None
    return None
