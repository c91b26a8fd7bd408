"""The cross-validated start and length of a fit.

On the folds of ``cv``: the start's output intercept is shifted by the
amount that maximises the scorer on out-of-fold outputs (`tuned_offset`),
or, for several classes, offsets per class of its log-probabilities are
tuned by a coordinate search on them (`tuned_class_offsets`), unless the
decisions follow the Bayes rule of the scorer's costs (`_decision`); and
``early_stopping='cv'`` chooses the number of iterations from the
out-of-fold scores of climbs on each fold (`cross_validate_n_iter`), by the
one-standard-error rule (`first_within_one_se`).
"""

import numbers

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import check_cv

from . import _model
from ._climb import Climb, Monitor, make_optimizer
from ._decision import shift_output
from ._objective import evaluator, outputs_data

__all__ = ["cross_validate_start", "cross_validate_n_iter", "first_within_one_se",
           "weighted_quantiles", "tuned_offset", "tuned_class_offsets",
           "class_offset_search"]

#: Candidate shifts of the output intercept scored on out-of-fold outputs.
OFFSET_CANDIDATES = 101
#: Candidate values of one class's offset per step of the coordinate search.
CLASS_OFFSET_CANDIDATES = 51
#: Most sweeps over the classes of the coordinate search.
CLASS_OFFSET_SWEEPS = 5
#: Iteration counts (geometrically spaced from 1) compared by ``early_stopping='cv'``.
CV_CHECKPOINTS = 10


def cross_validate_start(est, theta0, origin, shapes, data, surrogate, objective,
                         base_shift=0.0, rows=None):
    """The start with its intercept tuned, and the folds of ``est.cv``.

    The initial model is refitted on the folds (stratified for a
    classifier). For a model with one output (binary classifier,
    regressor), the shift of the intercept that maximises the scorer on the
    folds' out-of-fold outputs is added to `theta0`, as
    `TunedThresholdClassifierCV` tunes a threshold (`tuned_offset`). For
    several classes, offsets per class added to the out-of-fold outputs
    (the log-probabilities of a softmax start, up to a constant per row)
    are tuned for the scorer (`tuned_class_offsets`) and added to the
    output intercepts; not for a scorer of probabilities, for which there
    are no decisions to tune, nor when the objective decides by the Bayes
    rule of the scorer's costs (``objective.costs``) or of costs per sample
    (``objective.sample_bayes``), already the best decisions on the
    calibrated probabilities of the start: what those miss
    is left to the climb, which moves the intercepts with the other
    parameters and is judged on the same folds. Each fold's start gets the
    offsets tuned on the other folds' outputs (for several classes, zeros
    if the fit's offsets are zeros), so that its rows left out judge it as
    new data (offsets tuned on them would favour the start over any climb
    from it).
    `base_shift` (the Bayes threshold of two classes, already in `theta0`)
    is added to each fold's refitted start, so that the tuned shift is
    relative to it.
    Returns `theta0`, the shift or the offsets (or None) and a list of
    ``(train, test, start)`` per fold, or None with fewer than 2 folds or
    nothing to use them for.
    """
    n_outputs = shapes[-1][1]
    tune = n_outputs == 1 or (not objective.uses_proba and objective.costs is None
                              and not objective.sample_bayes)
    if not tune and est.early_stopping != "cv":
        return theta0, None, None
    cv = est.cv
    if isinstance(cv, numbers.Integral):
        # at most as many folds as the largest class has samples
        cv = min(cv, np.unique(est._strata(data.y), return_counts=True)[1].max())
        if cv < 2:
            return theta0, None, None
    splits = check_cv(cv, data.y, classifier=est._is_classifier()).split(
        np.zeros((len(data), 1)), data.y)
    if rows is not None and not isinstance(cv, numbers.Integral) and not hasattr(cv, "split"):
        splits = _splits_on_rows(splits, rows)
    covered = np.zeros(len(data), dtype=bool)
    folds = []
    for train, test in splits:
        covered[test] = True
        start = _fold_start(theta0, origin, shapes, data.take(train), surrogate)
        if base_shift:
            start = shift_output(start, base_shift)
        folds.append((train, test, start))
    if not covered.all():
        raise ValueError(
            f"cv={est.cv!r} must leave out every sample in one of its "
            f"test folds; {np.sum(~covered)} samples are in none")
    if not tune:
        return theta0, None, folds
    if n_outputs != 1:
        parts = [(test, objective.outputs(start[None], data.take(test))[0])
                 for _, test, start in folds]
        offset, fold_offsets = tuned_class_offsets(est, parts, data, objective)
        folds = [(train, test, shift_output(start, fold_offset))
                 for (train, test, start), fold_offset in zip(folds, fold_offsets)]
        return shift_output(theta0, offset), offset, folds
    parts = [(test, objective.outputs(start[None], data.take(test))[0, :, 0])
             for _, test, start in folds]
    offset = tuned_offset(est, parts, data, objective)
    theta0 = shift_output(theta0, offset)
    if est.early_stopping == "cv":
        folds = [(train, test, shift_output(start, tuned_offset(
                     est, parts[:k] + parts[k + 1:], data, objective)))
                 for k, (train, test, start) in enumerate(folds)]
    return theta0, offset, folds


def _fold_start(theta0, origin, shapes, train, surrogate):
    """The initial parameters refitted on one training fold.

    The surrogate minimiser is refitted from the same origin (from
    `theta0` for a linear model: the minimiser of a convex loss does not
    depend on where L-BFGS starts).
    """
    if len(shapes) == 1:
        return _model.minimize_surrogate(surrogate, theta0, train)
    return _model.straight_through_descent(surrogate, origin, train)


def tuned_offset(est, parts, data, objective):
    """Shift of the output intercept that maximises the out-of-fold score.

    `parts` holds, per fold, its rows left out and their outputs ``z``
    (standardised) by the fold's start. They are scored as the model
    ``z + offset`` for offsets at quantiles of the decision values (a
    classifier: thresholds) or of the residuals (a regressor), and 0, fold
    by fold; among those of best mean score, the median offset is taken. It
    is kept only if it beats no shift by more than one standard error of the
    fold-wise differences: a shift the folds cannot tell from none would
    only add their noise.
    """
    rows = np.concatenate([test for test, _ in parts])
    z = np.concatenate([z_fold for _, z_fold in parts])
    levels = np.linspace(0.0, 1.0, OFFSET_CANDIDATES)
    if est._is_classifier():
        offsets = -weighted_quantiles(z, data.weights[rows], levels)
    else:
        residuals = data.Ys[rows, 0] - z
        offsets = weighted_quantiles(residuals, data.weights[rows], levels)
    offsets = np.unique(np.append(offsets, 0.0))
    on_z = objective.on_outputs(est._template())
    candidates = np.vstack([np.ones_like(offsets), offsets])
    scores = np.array([-on_z(candidates, outputs_data(data.take(test), z_fold))
                       for test, z_fold in parts])
    pooled = scores.sum(axis=0)       # ~ the mean over the folds
    best = pooled >= pooled.max() - 1e-12 * max(1.0, abs(pooled.max()))
    offset = float(offsets[best][(best.sum() - 1) // 2])
    pair = np.column_stack([scores[:, offsets == 0.0][:, 0],
                            scores[:, offsets == offset][:, 0]])
    return [0.0, offset][first_within_one_se(pair)]


def tuned_class_offsets(est, parts, data, objective):
    """Offsets per class of the outputs that maximise the out-of-fold score.

    `parts` holds, per fold, its rows left out and their outputs ``Z``
    ``(n_rows, n_classes)`` (for the log loss, the log-probabilities up to a
    constant per row) by the fold's start. The decision is
    ``argmax(Z + offsets)``, the first class's offset fixed at 0; the
    offsets are searched for on all the folds' outputs
    (`class_offset_search`), and once more leaving out each fold in turn.
    They are kept only if they beat zero offsets by more than one standard
    error of the fold-wise differences, as the binary shift
    (`tuned_offset`), with each fold judging the offsets searched for
    without it: with several free offsets, a comparison on the rows that
    chose them would favour them. Returns the offsets (zeros if not kept)
    and, per fold, the offsets of the fold's start (those searched for
    without the fold, or zeros).
    """
    K = parts[0][1].shape[1]
    scorer = _OffsetScores(est, parts, data, objective)
    offsets = class_offset_search(scorer, range(len(parts)))
    held_out = [class_offset_search(scorer, [i for i in range(len(parts)) if i != k])
                for k in range(len(parts))]
    zeros = np.zeros(K)
    pair = np.array([scorer(np.vstack([zeros, held_out[k]]), [k])[0]
                     for k in range(len(parts))])
    if first_within_one_se(pair) == 0:
        return zeros, [zeros] * len(parts)
    return offsets, held_out


class _OffsetScores:
    """Scores of offset vectors on the folds' outputs (see `tuned_class_offsets`)."""

    def __init__(self, est, parts, data, objective):
        self.K = parts[0][1].shape[1]
        self.parts = parts
        self.weights = data.weights
        self.on_z = objective.on_outputs(est._template(), self.K)
        self.fold_data = [outputs_data(data.take(test), z) for test, z in parts]

    def __call__(self, offsets, folds):
        """Scores (folds x candidates) of the rows of `offsets` on `folds`."""
        if self.on_z.mode == "confusion":
            # a metric of the decisions alone: argmax(Z + offsets), exactly
            # what the model Z @ I + offsets decides
            return np.array([self.on_z.scores_of_codes(
                (self.parts[k][1][None] + offsets[:, None, :]).argmax(axis=2),
                self.fold_data[k]) for k in folds])
        identity = np.tile(np.eye(self.K).ravel(), (len(offsets), 1))
        candidates = np.hstack([identity, offsets]).T     # theta = [I, offsets]
        return np.array([-self.on_z(candidates, self.fold_data[k]) for k in folds])


def class_offset_search(scores, folds):
    """The offsets of best pooled score on `folds`, by a coordinate search.

    For one class at a time, with the others fixed, the score is piecewise
    constant in its offset and changes only where a row's decision
    switches to or from that class, at ``max_(k != j)(Z_k + o_k) - Z_j``;
    candidate offsets at quantiles of those switch points (and the current
    offset) are all scored at once, and the best pooled score taken (the
    current offset if it is among the best, else the median of the best).
    Sweeps over the classes repeat until none moves. A line search over the
    switch points suits the piecewise-constant score better than a random
    search such as Guided ES: it needs no random numbers, cannot stop
    between two switch points, and is cheap, since each candidate costs
    one count of the decisions.
    """
    folds = list(folds)
    Z = np.concatenate([scores.parts[k][1] for k in folds])
    weights = np.concatenate([scores.weights[scores.parts[k][0]] for k in folds])
    levels = np.linspace(0.0, 1.0, CLASS_OFFSET_CANDIDATES)
    offsets = np.zeros(scores.K)
    for _ in range(CLASS_OFFSET_SWEEPS):
        moved = False
        for j in range(1, scores.K):
            rival = np.max(np.delete(Z + offsets, j, axis=1), axis=1)
            values = np.unique(np.append(
                weighted_quantiles(rival - Z[:, j], weights, levels), offsets[j]))
            trials = np.tile(offsets, (values.size, 1))
            trials[:, j] = values
            pooled = scores(trials, folds).sum(axis=0)
            best = pooled >= pooled.max() - 1e-12 * max(1.0, abs(pooled.max()))
            if best[values == offsets[j]].any():
                continue
            offsets[j] = values[best][(best.sum() - 1) // 2]
            moved = True
        if not moved:
            break
    return offsets


def cross_validate_n_iter(est, folds, data, objective, surrogate, selection,
                          evaluate, rng):
    """Number of iterations chosen on out-of-fold scores (one-SE rule).

    Each fold's start climbs on the fold's training rows; the parameters
    the fit would return after 1, 2, 4, ... (geometrically spaced, up to
    `max_iter`) iterations are scored on the rows left out. The smallest
    count whose mean score is within one standard error of the best
    count's (the standard error of the fold-wise differences) is chosen:
    fewer iterations unless more pay on new data. The climbs advance
    together from checkpoint to checkpoint, and stop once `CV_FIRST_STOP`
    checkpoints are scored, the choice has not changed over the
    `CV_PATIENCE` latest checkpoints and the latest is not the best so
    far (a longer count is chosen only if it beats the shorter ones by more
    than a standard error, and the mean score is no longer rising). The
    fold climbs are independent: with ``n_jobs`` they run in parallel,
    each from its own seed, so the result does not depend on ``n_jobs``.
    Returns the count, the checkpoints scored and their scores (folds x
    checkpoints).
    """
    # at least one iteration: scikit-learn's contract wants n_iter_ >= 1
    checkpoints = np.unique(np.round(np.geomspace(
        1, est.max_iter, CV_CHECKPOINTS)).astype(int))
    seeds = rng.integers(np.iinfo(np.int64).max, size=len(folds))
    climbs, tests = [], []
    for k, ((train, test, start), seed) in enumerate(zip(folds, seeds)):
        fold_rng = np.random.default_rng(seed)
        train_data = data.take(train)
        full_batch = est._full_batch(len(train))
        climbs.append(Climb(
            est, make_optimizer(est, start, fold_rng), objective, surrogate,
            train_data, None, full_batch,
            Monitor(est.n_iter_no_change, est.tol, full_batch, selection),
            fold_rng, est.max_iter, label=f" fold {k}"))
        tests.append(data.take(test))
    parallel = est.n_jobs not in (None, 1)
    # the checkpoints a climb runs through before its parameters are scored:
    # one at a time, but the first CV_FIRST_STOP together where the climbs
    # run in workers (the climbs cannot stop before; each dispatch sends
    # the climbs and their data to the workers and back)
    first = CV_FIRST_STOP if parallel else 1
    legs = [checkpoints[:first].tolist()] + [[t] for t in checkpoints[first:].tolist()]
    columns = []
    with (Parallel(n_jobs=est.n_jobs) if parallel else _Nothing()) as pool:
        for leg in legs:
            if parallel:
                advanced = pool(delayed(_advance)(climb_k, leg) for climb_k in climbs)
                climbs = [climb_k for climb_k, _ in advanced]
                thetas = [fold_thetas for _, fold_thetas in advanced]
            else:
                thetas = [[climb_k.run(evaluate, until=t) for t in leg]
                          for climb_k in climbs]
            stopped = False
            for j in range(len(leg)):
                columns.append([-objective(fold_thetas[j][:, None], test)[0]
                                for fold_thetas, test in zip(thetas, tests)])
                stopped = _out_of_patience(np.array(columns).T)
                if stopped:
                    break
            if stopped:
                break
    scores = np.array(columns).T
    checkpoints = checkpoints[:scores.shape[1]]
    return int(checkpoints[first_within_one_se(scores)]), checkpoints, scores


#: Checkpoints in a row that leave the one-SE choice unchanged and stop the
#: fold climbs of ``early_stopping='cv'``.
CV_PATIENCE = 3
#: The fold climbs may stop only once this many checkpoints are scored (45
#: iterations with the default ``max_iter=300``): while Adam warms up, its
#: steps are short and the scores can stay flat before they rise.
CV_FIRST_STOP = 7


def _splits_on_rows(splits, rows):
    """Folds given as indices of the rows passed to `fit` (`cv` an iterable
    of ``(train, test)``), mapped onto the rows the fit kept, `rows` (those
    of positive weight), the others left out; a fold left with no training
    or no test row is dropped."""
    last = int(rows.max())
    position = np.full(last + 1, -1)
    position[rows] = np.arange(rows.size)
    for train, test in splits:
        # (rows past the last kept one were all left out)
        train, test = (position[i[i <= last]]
                       for i in (np.asarray(train), np.asarray(test)))
        train, test = train[train >= 0], test[test >= 0]
        if train.size and test.size:
            yield train, test


def _out_of_patience(scores):
    """Whether at least `CV_FIRST_STOP` checkpoints (columns) are scored, the
    one-SE choice on `scores` is the one it was `CV_PATIENCE` checkpoints
    ago, and the latest checkpoint is not the best."""
    if scores.shape[1] < max(CV_FIRST_STOP, CV_PATIENCE + 1):
        return False
    mean = scores.mean(axis=0)
    rising = mean[-1] >= mean.max()
    return not rising and (first_within_one_se(scores)
                           == first_within_one_se(scores[:, :-CV_PATIENCE]))


def _advance(climb_k, untils):
    """Run a fold's climb in a worker through the checkpoints `untils`; its
    state and its parameters at each."""
    with evaluator(climb_k.objective, climb_k.fit_data, 1) as evaluate:
        thetas = [climb_k.run(evaluate, until=t) for t in untils]
    return climb_k, thetas


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def first_within_one_se(scores):
    """The first column of `scores` (folds x candidates, candidates from the
    simplest) whose mean is within one standard error of the best column's.

    The standard error is that of the fold-wise differences from the best
    column, so that what all folds share does not count as noise.
    """
    mean = scores.mean(axis=0)
    best = int(np.argmax(mean))
    if len(scores) < 2:                   # no spread to measure
        return best
    se = np.std(scores - scores[:, [best]], axis=0, ddof=1) / np.sqrt(len(scores))
    return int(np.flatnonzero(mean >= mean[best] - se)[0])


def weighted_quantiles(values, weights, levels):
    """Quantiles of the inverted weighted CDF (a weight k counts as k rows)."""
    values, weights = values[weights > 0], weights[weights > 0]
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    rows = np.searchsorted(cumulative, levels * cumulative[-1], side="left")
    return values[order][np.minimum(rows, values.size - 1)]
