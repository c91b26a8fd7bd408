"""Integer-coefficient scoring systems fitted with Guided ES.

A scoring system (a *risk score*) gives each feature a small integer number
of points; a sample's score is the sum of its points plus an integer
intercept, and its risk is ``P(y = 1 | x) = sigmoid(s * score)`` with one
real multiplier ``s > 0`` that calibrates the integer scale [1]_, [2]_.

The pieces, in the order of a fit:

- `fit_multiplier`: the multiplier ``s`` that minimises the log loss of
  given scores (a convex problem in one variable, solved by a safeguarded
  Newton method for many score vectors at once);
- `decode`: the integer model a vector of continuous *latent* parameters
  stands for (rounding, clipping to the point bound, keeping the largest
  latent values when the number of features is limited);
- `IntegerObjective`: the objective of an integer model (the log loss with
  its multiplier refitted, or minus a scikit-learn scorer) and the
  straight-through surrogate gradient that guides the search;
- `rescaled_rounding`: the start, a logistic regression rescaled so that its
  largest coefficient maps to a number of points and rounded, the scale
  chosen on the training data;
- `local_search`: single-coordinate +-1 moves until none improves;
- `GuidedESScoringSystem`: the scikit-learn classifier.

References
----------
.. [1] B. Ustun and C. Rudin, "Learning optimized risk scores", Journal of
   Machine Learning Research 20(150), 2019.
.. [2] J. Liu, C. Zhong, B. Li, M. Seltzer and C. Rudin, "FasterRisk: fast
   and accurate interpretable risk scores", NeurIPS 2022.
.. [3] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
   J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
   search with surrogate gradients", ICML 2019. arXiv:1806.10230.
.. [4] Y. Bengio, N. Leonard and A. Courville, "Estimating or propagating
   gradients through stochastic neurons for conditional computation",
   arXiv:1308.3432, 2013.
"""

import numbers

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (_check_sample_weight, check_is_fitted,
                                      validate_data)

from .._minimize import minimize_guided_es
from ._climb import one_blas_thread

__all__ = ["GuidedESScoringSystem", "fit_multiplier", "decode",
           "IntegerObjective", "rescaled_rounding", "local_search"]

#: Bracket of the multiplier ``s``: scores are in points, so a multiplier
#: above this makes every non-zero score a certain prediction.
MULTIPLIER_MAX = 1e4
MULTIPLIER_MIN = 1e-8
#: Safeguarded Newton iterations of `fit_multiplier`.
MULTIPLIER_ITERATIONS = 60
#: Number of scales tried by `rescaled_rounding`.
N_SCALES = 40
#: A local-search move must lower the objective by more than this (relative).
IMPROVEMENT_TOL = 1e-12
#: Upper bound on local-search moves (each lowers the objective).
MAX_MOVES = 100_000

_FITTED = ("points_", "intercept_points_", "multiplier_", "coef_",
           "intercept_", "classes_", "n_iter_", "init_objective_",
           "ges_objective_", "objective_", "n_moves_", "n_rounds_",
           "feature_names_in_", "n_features_in_")


# -- the multiplier ----------------------------------------------------------------
def _log_loss(T, y, w):
    """Weighted mean log loss of logits ``T`` (n, m), one value per column."""
    losses = np.logaddexp(0.0, T) - y[:, None] * T
    return w @ losses / w.sum()


def fit_multiplier(Z, y, w):
    """Multipliers ``s > 0`` of least log loss for score vectors.

    Minimises ``L(s) = sum_i w_i log(1 + exp(s z_i)) - y_i s z_i`` over
    ``s`` in ``[MULTIPLIER_MIN, MULTIPLIER_MAX]`` for each column ``z`` of
    `Z`. ``L`` is convex, so its derivative is increasing: a Newton step
    that leaves the bracket where the derivative changes sign is replaced by
    bisection.

    Parameters
    ----------
    Z : ndarray, shape (n_samples, m)
        Scores, one column per model.
    y : ndarray, shape (n_samples,)
        Targets in {0, 1}.
    w : ndarray, shape (n_samples,)
        Sample weights, >= 0 with a positive sum.

    Returns
    -------
    s : ndarray, shape (m,)
        The multipliers. A score vector with no information (all zero, or
        ordered against the targets) gets the lower end of the bracket.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> s = fit_multiplier(z, np.array([0.0, 1.0, 0.0, 1.0]), np.ones(4))
    >>> float(s[0]) > 0
    True
    """
    m = Z.shape[1]
    W = w.sum()

    def derivatives(s):
        P = expit(Z * s)
        d1 = w @ ((P - y[:, None]) * Z) / W
        d2 = w @ (P * (1.0 - P) * Z * Z) / W
        return d1, d2

    lo = np.full(m, MULTIPLIER_MIN)
    hi = np.full(m, MULTIPLIER_MAX)
    d1_lo, _ = derivatives(lo)
    d1_hi, _ = derivatives(hi)
    s = np.ones(m)
    for _ in range(MULTIPLIER_ITERATIONS):
        d1, d2 = derivatives(s)
        lo = np.where(d1 < 0, s, lo)
        hi = np.where(d1 > 0, s, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = s - d1 / d2
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        s_new = np.where(inside, newton, 0.5 * (lo + hi))
        done = np.abs(s_new - s) <= 1e-12 * s
        s = s_new
        if done.all():
            break
    # at an end of the bracket the optimum is that end (the lower one for a
    # score without information, whose derivative is zero everywhere)
    s = np.where(d1_hi <= 0, MULTIPLIER_MAX, s)
    s = np.where(d1_lo >= 0, MULTIPLIER_MIN, s)
    return s


# -- latent parameters -> integer model --------------------------------------------
def decode(Theta, max_points, max_features):
    """The integer models that latent parameter vectors stand for.

    Each row ``theta = (theta_0, theta_1, ..., theta_d)`` gives the intercept
    ``round(theta_0)`` and the points ``clip(round(theta_j), -max_points,
    max_points)``. With `max_features` set, only the `max_features` non-zero
    points with the largest ``|theta_j|`` are kept (ties to the lower
    index); the others are set to zero.

    Parameters
    ----------
    Theta : ndarray, shape (m, n_features + 1)
    max_points : int
    max_features : int or None

    Returns
    -------
    points : ndarray of int64, shape (m, n_features)
    intercepts : ndarray of int64, shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> points, b = decode(np.array([[-2.4, 0.6, -7.0, 0.2]]), 5, 1)
    >>> points.tolist(), b.tolist()
    ([[0, -5, 0]], [-2])
    """
    Theta = np.atleast_2d(Theta)
    intercepts = np.rint(Theta[:, 0]).astype(np.int64)
    latent = Theta[:, 1:]
    points = np.clip(np.rint(latent), -max_points, max_points).astype(np.int64)
    if max_features is not None and max_features < points.shape[1]:
        magnitude = np.where(points != 0, np.abs(latent), -np.inf)
        order = np.argsort(-magnitude, axis=1, kind="stable")
        dropped = order[:, max_features:]
        np.put_along_axis(points, dropped, 0, axis=1)
    return points, intercepts


# -- the objective -------------------------------------------------------------------
class IntegerObjective:
    """The objective of integer models and its straight-through surrogate.

    The value of an integer model ``(points, intercept)`` is its weighted
    log loss on the training data with the multiplier refitted
    (`fit_multiplier`), or, given a scorer, minus the scorer of the model
    with that multiplier. Either is piecewise constant in the latent
    parameters.

    The surrogate gradient at latent parameters ``theta`` is the gradient of
    the log loss of the continuous model ``sigmoid(s (x . theta_1: +
    theta_0))`` with respect to ``theta``, evaluated at the decoded integer
    model and its multiplier ``s``: the straight-through estimator [4]_
    through the rounding.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)
        Targets in {0, 1}.
    w : ndarray, shape (n_samples,)
        Sample weights.
    scorer : callable or None
        ``scorer(estimator, X, y, sample_weight=w)``; None for the log loss.
    template : GuidedESScoringSystem or None
        The estimator that `scorer` is called on (its fitted attributes are
        filled in for each model); needed with a scorer.
    y_labels : ndarray, shape (n_samples,), optional
        The original class labels, which `scorer` compares with the
        predictions; needed with a scorer.
    """

    def __init__(self, X, y, w, scorer=None, template=None, y_labels=None):
        self.X, self.y, self.w = X, y, w
        self.scorer, self.template = scorer, template
        self.y_labels = y_labels
        self._cache = {}

    @property
    def n_models(self):
        """Number of distinct integer models evaluated."""
        return len(self._cache)

    def scores(self, points, intercepts):
        """Scores of the models (rows of `points`), shape (n_samples, m)."""
        return self.X @ points.T.astype(np.float64) + intercepts.astype(np.float64)

    def _compute(self, points, intercepts):
        Z = self.scores(points, intercepts)
        s = fit_multiplier(Z, self.y, self.w)
        if self.scorer is None:
            return _log_loss(Z * s, self.y, self.w), s
        values = np.empty(Z.shape[1])
        for i in range(Z.shape[1]):
            est = self.template
            est._set_model(points[i], intercepts[i], s[i])
            values[i] = -self.scorer(est, self.X, self.y_labels,
                                     sample_weight=self.w)
        return values, s

    def values(self, points, intercepts):
        """Objective values and multipliers of integer models (rows).

        A model is computed once: its value and multiplier are kept, so that
        a model met again gets exactly the same value, whatever the batch.
        """
        keys = [p.tobytes() + int(b).to_bytes(8, "little", signed=True)
                for p, b in zip(points, intercepts)]
        new = {}
        for i, key in enumerate(keys):
            if key not in self._cache and key not in new:
                new[key] = i
        if new:
            rows = np.fromiter(new.values(), dtype=np.intp, count=len(new))
            values, s = self._compute(points[rows], intercepts[rows])
            for key, value, si in zip(new, values, s):
                self._cache[key] = (float(value), float(si))
        found = [self._cache[key] for key in keys]
        return (np.array([v for v, _ in found]), np.array([si for _, si in found]))

    def surrogate_grad(self, points, intercept, s):
        """Gradient of the continuous log loss at an integer model."""
        z = self.X @ points.astype(np.float64) + intercept
        r = self.w * (expit(s * z) - self.y) / self.w.sum()
        return s * np.concatenate(([r.sum()], self.X.T @ r))


# -- the start -----------------------------------------------------------------------
def rescaled_rounding(coef, intercept, objective, max_points, max_features):
    """Rescale a linear model to points, round it, and pick the best scale.

    The coefficients are multiplied by ``f = t / max|coef|`` for `N_SCALES`
    targets ``t`` evenly spaced from 1 to ``max_points + 1/2`` (the
    largest coefficient then maps to ``t`` points), rounded (`decode`),
    and the scale
    whose integer model has the lowest objective (with the multiplier
    refitted) is kept.

    Parameters
    ----------
    coef : ndarray, shape (n_features,)
    intercept : float
    objective : IntegerObjective
    max_points : int
    max_features : int or None

    Returns
    -------
    latent : ndarray, shape (n_features + 1,)
        The rescaled, unrounded parameters (intercept first) of the best
        scale; `decode` gives its integer model.
    value : float
        Its objective value.
    """
    largest = np.max(np.abs(coef)) if coef.size else 0.0
    if largest == 0.0:
        factors = np.ones(1)
    else:
        factors = np.linspace(1.0, max_points + 0.5, N_SCALES) / largest
    theta = np.concatenate(([intercept], coef))
    Theta = factors[:, None] * theta
    points, intercepts = decode(Theta, max_points, max_features)
    values, _ = objective.values(points, intercepts)
    best = int(np.argmin(values))
    return Theta[best], float(values[best])


# -- the finish ----------------------------------------------------------------------
def _moves(points, max_points, max_features):
    """Feasible single-coordinate moves: (coordinate, delta) pairs.

    Coordinate 0 is the intercept (unbounded); coordinate ``j >= 1`` the
    points of feature ``j - 1``, kept in ``[-max_points, max_points]`` and,
    with `max_features`, not made non-zero when the limit is reached.
    """
    full = max_features is not None and np.count_nonzero(points) >= max_features
    moves = [(0, -1), (0, 1)]
    for j, p in enumerate(points, start=1):
        for delta in (-1, 1):
            if abs(p + delta) > max_points or (full and p == 0):
                continue
            moves.append((j, delta))
    return moves


def local_search(points, intercept, objective, max_points, max_features):
    """Steepest descent over single-coordinate +-1 moves of an integer model.

    At each step every feasible move (`_moves`) is evaluated with its
    multiplier refitted, and the best is made if it lowers the objective by
    more than a relative ``IMPROVEMENT_TOL``; the search stops when none
    does, so the result is a local optimum under these moves.

    Returns
    -------
    points, intercept, value, multiplier, n_moves
    """
    points = np.asarray(points, dtype=np.int64).copy()
    intercept = int(intercept)
    values, s = objective.values(points[None], np.array([intercept]))
    value, multiplier = float(values[0]), float(s[0])
    n_moves = 0
    while n_moves < MAX_MOVES:
        moves = _moves(points, max_points, max_features)
        cand_points = np.repeat(points[None], len(moves), axis=0)
        cand_intercepts = np.full(len(moves), intercept, dtype=np.int64)
        for i, (j, delta) in enumerate(moves):
            if j == 0:
                cand_intercepts[i] += delta
            else:
                cand_points[i, j - 1] += delta
        values, s = objective.values(cand_points, cand_intercepts)
        best = int(np.argmin(values))
        if not values[best] < value - IMPROVEMENT_TOL * max(1.0, abs(value)):
            break
        points, intercept = cand_points[best], int(cand_intercepts[best])
        value, multiplier = float(values[best]), float(s[best])
        n_moves += 1
    return points, intercept, value, multiplier, n_moves


# -- the estimator ---------------------------------------------------------------------
class GuidedESScoringSystem(ClassifierMixin, BaseEstimator):
    """A points-based risk score with integer coefficients, fitted by Guided ES.

    The model gives feature ``j`` an integer number of points ``lambda_j``
    in ``[-max_points, max_points]`` (at most `max_features` of them
    non-zero) and has an integer intercept ``lambda_0``. The score of a
    sample is ``lambda . x + lambda_0`` and its risk
    ``P(y = 1 | x) = sigmoid(s * score)``, with one real multiplier
    ``s > 0`` that calibrates the integer scale, as in FasterRisk [2]_.
    Features are usually binary (thresholds, categories), so that the model
    reads as a score card: add the points of the rows that apply.

    The fit minimises the objective of the *integer* model (the log loss
    with the multiplier refitted for every candidate, or minus `scoring`),
    which is piecewise constant in continuous parameters:

    1. **Start.** A logistic regression (L2, inverse strength `C`) is
       fitted; with `max_features`, the features with the largest
       ``|coef_j| * std(x_j)`` are kept and the regression is refitted on
       them. Its coefficients are rescaled so that the largest maps to
       between 1 and ``max_points`` points and rounded, the scale chosen for
       the lowest objective on the training data (`rescaled_rounding`).
    2. **Guided ES** [3]_ moves *latent* parameters, one real number per
       point and one for the intercept, in units of points: the integer
       model is their rounding, clipped to ``+-max_points``, keeping the
       `max_features` largest when the number of features is limited (a
       feature outside the model enters when its latent value overtakes
       one inside). The search starts at the rescaled, unrounded
       regression; its perturbations are drawn mostly along the
       straight-through gradient of the log loss (the gradient of the
       continuous model, evaluated at the rounded one), and its pair
       differences are differences of the true integer objective. The best
       integer model evaluated is kept.
    3. **Local search.** From that model, the best single-coordinate +-1
       move of a point or of the intercept (within the bounds and the
       sparsity limit, the multiplier refitted) is made until none lowers
       the objective; the result is a local optimum of the integer problem
       under these moves. Its multiplier is fitted to it.
    4. **Rounds.** Steps 2 and 3 are repeated, Guided ES starting at the
       last local optimum (with a fresh draw of perturbations), up to
       `n_rounds` times, until a round does not lower the objective: from a
       local optimum the search can still find the moves of several
       coordinates at once (a swap of features, a change of scale) that
       single moves cannot.

    Every step keeps the best model so far, so the objective of the result
    is never above that of the rescaled rounding it starts from. The
    defaults (`max_iter`, `n_pairs`, `sigma`, `n_rounds`) were chosen on
    development data sets apart from those the benchmark reports
    (``benchmarks/scoring_systems.py``).

    Parameters
    ----------
    max_points : int, default=5
        Largest absolute number of points of a feature, >= 1.
    max_features : int or None, default=None
        Largest number of features with non-zero points, >= 1; None (or a
        number at least the number of features) for no limit.
    scoring : str, callable or None, default=None
        What the fit maximises, as a scikit-learn scorer; None minimises the
        log loss of the integer model. The multiplier is always the one of
        least log loss for the given points.
    C : float, default=1.0
        Inverse L2 strength of the logistic regression of the start (as in
        `sklearn.linear_model.LogisticRegression`), > 0.
    max_iter : int, default=100
        Guided ES iterations per round, >= 0 (0: rescaled rounding then one
        local search).
    n_pairs : int, default=4
        Antithetic pairs per Guided ES iteration, >= 1.
    sigma : float, default=0.5
        Initial perturbation scale of the latent parameters, in points,
        > 0 (the adaptive step of `minimize_guided_es` adapts it).
    n_rounds : int, default=5
        Rounds of Guided ES followed by the local search, >= 1; each round
        after the first starts Guided ES at the previous local optimum, and
        the rounds stop at the first that does not lower the objective.
    local_search : bool, default=True
        Whether to finish each round with the +-1 local search.
    random_state : int, RandomState instance or None, default=None
        Seeds the Guided ES perturbations; a fixed value repeats a fit
        exactly.
    verbose : int, default=0
        Print the objective after each stage (and every 20 Guided ES
        iterations when > 1).

    Attributes
    ----------
    points_ : ndarray of int64, shape (n_features_in_,)
        Points of each feature.
    intercept_points_ : int
        The integer intercept.
    multiplier_ : float
        The multiplier ``s`` of the risk ``sigmoid(s * score)``.
    coef_ : ndarray, shape (1, n_features_in_)
        ``multiplier_ * points_``: the equivalent logistic model.
    intercept_ : ndarray, shape (1,)
        ``multiplier_ * intercept_points_``.
    classes_ : ndarray, shape (2,)
        The two class labels; the second is the positive class.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings.
    n_iter_ : int
        Guided ES iterations made (over all rounds).
    n_rounds_ : int
        Rounds made.
    init_objective_, ges_objective_, objective_ : float
        Objective (lower is better) of the rescaled rounding, of the best
        model found by the first round of Guided ES, and of the result.
    n_moves_ : int
        Moves made by the local search.

    See Also
    --------
    GuidedESClassifier : real coefficients maximising any scorer.

    References
    ----------
    .. [1] B. Ustun and C. Rudin, "Learning optimized risk scores", Journal
       of Machine Learning Research 20(150), 2019.
    .. [2] J. Liu, C. Zhong, B. Li, M. Seltzer and C. Rudin, "FasterRisk:
       fast and accurate interpretable risk scores", NeurIPS 2022.
    .. [3] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting
       random search with surrogate gradients", ICML 2019.
       arXiv:1806.10230.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize.estimators import GuidedESScoringSystem
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, size=(500, 6)).astype(float)
    >>> logit = 1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.5 * X[:, 2] - 0.5
    >>> y = (rng.random(500) < 1 / (1 + np.exp(-logit))).astype(int)
    >>> clf = GuidedESScoringSystem(max_points=3, max_features=3,
    ...                             random_state=0).fit(X, y)
    >>> clf.points_.tolist(), clf.intercept_points_
    ([3, -2, 1, 0, 0, 0], -1)
    >>> print(clf.score_card())
    feature    points
    ---------  ------
    x0             +3
    x1             -2
    x2             +1
    intercept      -1
    <BLANKLINE>
    score  risk
    -----  ------
       -3   12.8%
       -2   21.8%
       -1   34.5%
       +0   50.0%
       +1   65.5%
       +2   78.2%
       +3   87.2%
    >>> clf.predict_proba(X[:2]).round(3)       # sigmoid(multiplier_ * score)
    array([[0.345, 0.655],
           [0.655, 0.345]])
    """

    _parameter_constraints = {
        "max_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_features": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "scoring": [str, callable, None],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_pairs": [Interval(numbers.Integral, 1, None, closed="left")],
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_rounds": [Interval(numbers.Integral, 1, None, closed="left")],
        "local_search": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, max_points=5, max_features=None, *, scoring=None, C=1.0,
                 max_iter=100, n_pairs=4, sigma=0.5, n_rounds=5,
                 local_search=True, random_state=None, verbose=0):
        self.max_points = max_points
        self.max_features = max_features
        self.scoring = scoring
        self.C = C
        self.max_iter = max_iter
        self.n_pairs = n_pairs
        self.sigma = sigma
        self.n_rounds = n_rounds
        self.local_search = local_search
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the points, the intercept and the multiplier.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Features, usually binary.
        y : array-like, shape (n_samples,)
            Two class labels.
        sample_weight : array-like, shape (n_samples,), optional
            Non-negative weights of the samples in the objective and in the
            start's logistic regression.

        Returns
        -------
        self
        """
        before = dict(self.__dict__)
        try:
            with one_blas_thread():
                return self._fit(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, sample_weight):
        scorer = self._scorer()
        for name in _FITTED:
            self.__dict__.pop(name, None)
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if classes.size != 2:
            raise ValueError(
                f"Only binary classification is supported: y must have exactly "
                f"2 classes, got {classes.size} ({classes.tolist()!r})")
        w = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                 ensure_non_negative=True)
        t = codes.astype(np.float64)
        if np.unique(codes[w > 0]).size < 2:
            raise ValueError(
                "GuidedESScoringSystem needs samples of both classes with a "
                "positive sample_weight, but only one class has any")
        self.classes_ = classes
        template = None
        if scorer is not None:            # the estimator the scorer sees
            template = object.__new__(type(self))
            template.__dict__.update(self.__dict__)
            # it sees the validated array, which has no feature names
            template.__dict__.pop("feature_names_in_", None)
        objective = IntegerObjective(X, t, w, scorer, template, y)
        n_features = X.shape[1]
        max_features = self.max_features
        if max_features is not None and max_features >= n_features:
            max_features = None
        M = self.max_points
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)

        # 1. the start: rescaled rounding of a logistic regression
        coef, intercept = self._start(X, t, w, max_features)
        theta0, value0 = rescaled_rounding(coef, intercept, objective, M,
                                           max_features)
        self._say(f"rescaled rounding: objective {value0:.6g}")

        # 2. and 3., in rounds: Guided ES on the latent parameters, then the
        # local search; the next round starts Guided ES at the local optimum
        seeds = np.random.default_rng(seed)
        theta, value = theta0, value0
        n_iter, n_moves, ges_value = 0, 0, value0
        for round_ in range(self.n_rounds):
            theta_ges, value_ges, nit = self._guided_es(
                objective, theta, value, max_features, seeds)
            n_iter += nit
            if round_ == 0:
                ges_value = value_ges
            self._say(f"round {round_ + 1}: Guided ES ({nit} iterations) "
                      f"objective {value_ges:.6g}")
            points, intercepts = decode(theta_ges[None], M, max_features)
            points, intercept = points[0], int(intercepts[0])
            moves = 0
            if self.local_search:
                points, intercept, value_ls, _, moves = local_search(
                    points, intercept, objective, M, max_features)
                self._say(f"round {round_ + 1}: local search ({moves} moves) "
                          f"objective {value_ls:.6g}")
            else:
                value_ls = value_ges
            n_moves += moves
            improved = value_ls < value - IMPROVEMENT_TOL * max(1.0, abs(value))
            theta = np.concatenate(([intercept], points)).astype(np.float64)
            value = value_ls
            if not improved or self.max_iter == 0:
                break
        points, intercepts = decode(theta[None], M, max_features)
        values, s = objective.values(points, intercepts)

        self._set_model(points[0], int(intercepts[0]), float(s[0]))
        self.n_iter_ = n_iter
        self.n_rounds_ = round_ + 1
        self.init_objective_ = value0
        self.ges_objective_ = ges_value
        self.objective_ = float(values[0])
        self.n_moves_ = n_moves
        return self

    def _guided_es(self, objective, theta0, value0, max_features, seeds):
        """Guided ES from `theta0`: the best latent vector seen, its value and
        the number of iterations."""
        if self.max_iter == 0:
            return theta0, value0, 0
        M = self.max_points
        best = {"value": value0, "theta": theta0}

        def fun(Thetas):                    # (d + 1, S) -> (S,)
            points, intercepts = decode(Thetas.T, M, max_features)
            values, _ = objective.values(points, intercepts)
            i = int(np.argmin(values))
            if values[i] < best["value"] - IMPROVEMENT_TOL * max(1.0, abs(best["value"])):
                best["value"], best["theta"] = float(values[i]), Thetas[:, i].copy()
            return values

        def surrogate(theta):
            points, intercepts = decode(theta[None], M, max_features)
            s = objective.values(points, intercepts)[1][0]
            return objective.surrogate_grad(points[0], intercepts[0], s)

        def callback(intermediate_result):
            if self.verbose > 1 and intermediate_result.nit % 20 == 0:
                self._say(f"iteration {intermediate_result.nit}: best "
                          f"objective {best['value']:.6g}")

        n = theta0.size
        bounds = [(None, None)] + [(-M - 0.5, M + 0.5)] * (n - 1)
        # the largest rescaled coefficient may round to just outside the box;
        # clipping it changes no decoded model
        theta0 = np.concatenate((theta0[:1], np.clip(theta0[1:], -M - 0.5, M + 0.5)))
        res = minimize_guided_es(
            fun, theta0, surrogate, sigma=self.sigma, n_pairs=self.n_pairs,
            subspace_dim=min(10, n), maxiter=self.max_iter, bounds=bounds,
            vectorized=True, rng=int(seeds.integers(2 ** 31)),
            surrogate_step=False, nonmonotone=1, callback=callback)
        return best["theta"], best["value"], int(res.nit)

    def _start(self, X, t, w, max_features):
        """Coefficients and intercept of the logistic regression of the start."""
        def logistic(columns):
            lr = LogisticRegression(C=self.C, max_iter=1000)
            lr.fit(X[:, columns], t, sample_weight=w)
            coef = np.zeros(X.shape[1])
            coef[columns] = lr.coef_[0]
            return coef, float(lr.intercept_[0])

        coef, intercept = logistic(np.arange(X.shape[1]))
        if max_features is not None:
            mean = w @ X / w.sum()
            std = np.sqrt(w @ (X - mean) ** 2 / w.sum())
            keep = np.argsort(-np.abs(coef) * std, kind="stable")[:max_features]
            coef, intercept = logistic(np.sort(keep))
        return coef, intercept

    def _scorer(self):
        if self.scoring is None:
            return None
        if isinstance(self.scoring, str) and self.scoring not in get_scorer_names():
            raise ValueError(
                f"scoring={self.scoring!r} is not a scikit-learn scorer name "
                f"(see sklearn.metrics.get_scorer_names())")
        return check_scoring(self, self.scoring)

    def _set_model(self, points, intercept, multiplier):
        self.points_ = np.asarray(points, dtype=np.int64).copy()
        self.intercept_points_ = int(intercept)
        self.multiplier_ = float(multiplier)
        self.coef_ = self.multiplier_ * self.points_[None].astype(np.float64)
        self.intercept_ = np.array([self.multiplier_ * self.intercept_points_])

    def _say(self, message):
        if self.verbose:
            print(f"[GuidedESScoringSystem] {message}", flush=True)

    # -- prediction ----------------------------------------------------------------
    def decision_function(self, X):
        """The score ``points_ . x + intercept_points_`` of each sample.

        Integer-valued for integer features; positive scores predict the
        second class.
        """
        check_is_fitted(self, "points_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.points_.astype(np.float64) + self.intercept_points_

    def predict_proba(self, X):
        """Risks ``[1 - p, p]`` with ``p = sigmoid(multiplier_ * score)``."""
        score = self.decision_function(X)
        p = expit(self.multiplier_ * score)
        return np.column_stack((1.0 - p, p))

    def predict_log_proba(self, X):
        """Logarithm of `predict_proba`."""
        score = self.decision_function(X)
        z = self.multiplier_ * score
        return np.column_stack((-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)))

    def predict(self, X):
        """The second class where the score is positive, else the first."""
        score = self.decision_function(X)
        return self.classes_[(score > 0).astype(int)]

    def score_card(self, feature_names=None):
        """The fitted model as a printable score card.

        Lists the features with non-zero points and the intercept, then the
        risk of every total score from the lowest to the highest reachable
        with features in {0, 1} (at most 61 rows).

        Parameters
        ----------
        feature_names : sequence of str, optional
            Names of the features; default `feature_names_in_` if defined,
            else ``x0, x1, ...``.

        Returns
        -------
        str
        """
        check_is_fitted(self, "points_")
        if feature_names is None:
            feature_names = getattr(self, "feature_names_in_", None)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(self.n_features_in_)]
        feature_names = [str(name) for name in feature_names]
        if len(feature_names) != self.n_features_in_:
            raise ValueError(
                f"feature_names has {len(feature_names)} names, expected "
                f"{self.n_features_in_} (n_features_in_)")
        rows = [(name, int(p)) for name, p in zip(feature_names, self.points_)
                if p != 0]
        width = max([len("feature"), len("intercept")]
                    + [len(name) for name, _ in rows])
        lines = [f"{'feature':<{width}}  points", f"{'-' * width}  ------"]
        lines += [f"{name:<{width}}  {p:>+6d}" for name, p in rows]
        lines.append(f"{'intercept':<{width}}  {self.intercept_points_:>+6d}")
        low = self.intercept_points_ + int(self.points_[self.points_ < 0].sum())
        high = self.intercept_points_ + int(self.points_[self.points_ > 0].sum())
        if high - low <= 60:
            lines += ["", "score  risk", "-----  ------"]
            for score in range(low, high + 1):
                risk = expit(self.multiplier_ * score)
                lines.append(f"{score:>+5d}  {100 * risk:5.1f}%")
        return "\n".join(lines)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
