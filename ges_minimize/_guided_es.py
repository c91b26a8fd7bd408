"""The ask/tell Guided ES optimizer."""

import copy
import math

import numpy as np

from ._adaptive import RhoEstimator, auto_hyperparameters
from ._core import antithetic_estimate, draw_perturbations
from ._stepsize import (AUTO_ALPHA, AUTO_MAX_FACTOR, AUTO_N_PAIRS,
                        AUTO_PROBE_DECAY, AUTO_PROBE_RECHECK,
                        AUTO_PROBE_THRESHOLD, AUTO_PROBE_WEIGHT,
                        AUTO_SIGMA_RATIO, AUTO_SUBSPACE_DIM, AUTO_TRIAL_MAX_GAP,
                        VALUE_PRECISION, line_search_ratio, resolved)
from ._kink import KinkSearch
from ._metric import METRIC_MAX_DIM, METRIC_X_RESOLUTION, Metric
from ._steps import make_step
from ._subspace import GuideBuffer, prescaled
from ._validation import (check_bounds, check_int, check_real, check_rng,
                          check_values, check_vector, check_x0)

__all__ = ["GuidedES", "PAPER_SETTINGS"]

#: The paper's settings for its perturbed quadratic (Maheswaranathan et al.
#: 2019): fixed-rate SGD. ``GuidedES(x0, **PAPER_SETTINGS)`` and
#: ``minimize_guided_es(..., **PAPER_SETTINGS)`` run the paper's method.
PAPER_SETTINGS = dict(sigma=0.1, alpha=0.5, beta=2.0, n_pairs=1,
                      subspace_dim=1, step="sgd", learning_rate=0.2)
#: Largest number of entries of the (P, n) perturbations of one iteration.
MAX_BATCH_ENTRIES = 2 ** 31
#: Consecutive iterations without a resolved difference (sigma doubling at
#: each) after which the adaptive mode declares the values flat.
AUTO_FLAT_ITERATIONS = 10
#: With a deterministic f, the adaptive mode has converged to the precision
#: of the values once this many iterations have passed without f at the
#: centre (measured exactly) falling by more than the values' precision,
#: and some scale tried since did not resolve: at a minimum whose value is
#: not zero, the differences vanish into the rounding of f before sigma
#: reaches the precision of x, and sigma cycles between a scale that does
#: not resolve and one that does.
AUTO_PRECISION_ITERATIONS = 30
#: ... if f at the centre is within this many times the values' precision
#: of the lowest value seen.
AUTO_PRECISION_BAND = 10.0
#: ... and if no pair of the last `AUTO_PRECISION_ITERATIONS` resolved
#: iterations (rechecks of held coordinates aside) differed by more than
#: this fraction of the values: at the precision of a smooth f the differences
#: that resolve are barely above `VALUE_PRECISION`; on a piecewise-constant
#: f, whose plateaus do not resolve either, they are the steps.
AUTO_PRECISION_RESOLUTION = 1e-10
#: When the adaptive mode converges, the root-mean-square slope of its pairs
#: above this fraction of the largest one the run measured means a kink,
#: not a minimum where f is differentiable: there the slopes vanish with
#: the distance to the minimum (on smooth test functions they end below
#: 2e-6 of their largest; stalled at a kink, above 0.02).
AUTO_KINK_SLOPE = 1e-3
#: The adaptive mode hands the run to `KinkSearch` once sigma over the
#: pairs' root-mean-square slope has fallen this many times below its
#: largest value in the run: sigma collapses while the slopes do not vanish,
#: the mark of a kink (where f is differentiable, sigma follows the steps
#: and the slopes vanish together).
AUTO_KINK_SWITCH = 1e5
#: ... or this many times while every step since the start was taken back
#: (the centre still at x0): where f is differentiable, a step along the
#: pairs' estimate lowers f once it is short enough, so a run that finds
#: no such step while sigma falls a thousandfold starts on a kink (a
#: vertex where several pieces of f meet, as ``max_i |x_i - c|`` from a
#: point where every coordinate ties; waiting for the fall of
#: `AUTO_KINK_SWITCH` there left differences below `AUTO_KINK_RESOLUTION`,
#: and the run stopped at x0).
AUTO_KINK_SWITCH_AT_START = 1e3
#: ... provided that the curvature the pairs measure at x0 (their second
#: differences over ``|eps|^2``) has grown this many times since the first
#: iteration: at a kink it grows like 1 / sigma; where f is smooth it
#: stays near the Hessian's (steps taken back only because the initial
#: sigma is far above the scale of x, as with x scaled by 1e-3).
AUTO_KINK_CURVATURE_GROWTH = 100.0
#: Without a surrogate, the run is handed to `KinkSearch` instead of
#: stopping where no step long enough to change f lowered it (the stop
#: ``'step'``), or once f at the centre has not fallen for this many
#: iterations: on a piecewise-constant f (a staircase) the line search
#: along the pairs' estimate stalls on a step of the stair, while a search
#: that ranks the values crosses them (if the pairs differed since f last
#: fell by at least `AUTO_KINK_RESOLUTION` of the values: more than the
#: rounding of an f computed in single precision).
AUTO_PLATEAU_STALL = 50
#: ... only up to this dimension (the search keeps an n x n covariance),
AUTO_KINK_MAX_DIM = 1000
#: ... if the slopes have grown at most this many times since that largest
#: value (at a kink they stay bounded; at a jump, or at the rounding of an
#: f computed in single precision, they grow like 1 / sigma),
AUTO_KINK_GROWTH = 40.0
#: ... and if the pairs' largest difference is at least this fraction of
#: the values (above the rounding of single precision).
AUTO_KINK_RESOLUTION = 1e-6
#: ... and if at least this fraction of the last `AUTO_KINK_WINDOW` line
#: searches were irregular: the value after the step off the parabola that
#: the value and slope before it predict (a ratio ``tau`` outside
#: [1/2, 2]). Along the steps a kink breaks that model; where f is smooth
#: except at its minimum (a norm ``|x - c|``), sigma over the slopes falls
#: with the distance while the model holds, and the line search keeps
#: converging faster than the search for kinks would.
AUTO_KINK_IRREGULAR = 0.28
AUTO_KINK_WINDOW = 100
#: The switch comes early, without waiting for sigma to collapse, once at
#: least this fraction of the last `AUTO_LINEAR_WINDOW` iterations that
#: measured f at the centre found f linear at the scale of the pairs: the
#: second difference of every pair that resolved a difference at most
#: `AUTO_LINEAR_PRECISION` of its first difference. f is then piecewise
#: linear (an L1 or max norm, the largest of affine functions): linear
#: between kinks, where the line search stops. Where f is differentiable
#: the pairs' second differences are about sigma over the distance to the
#: minimum times the first ones (0.05 to 0.15 on development problems, by
#: the rule sigma = step / 10); on them no iteration was found linear.
AUTO_LINEAR_SHARE = 0.2
AUTO_LINEAR_WINDOW = 20
AUTO_LINEAR_PRECISION = 1e-8
#: ... provided that sigma over the pairs' root-mean-square slope has
#: fallen at least this many times below its largest value (the line
#: search stops at kinks; on an f unbounded below along a ray, sigma grows).
AUTO_LINEAR_FALL = 10.0
#: The search for kinks stops with an overflow (f is probably unbounded
#: below) once its scale has grown this many times beyond its start, as
#: pycma's ``tolupsigma`` does.
AUTO_KINK_TOLUPSIGMA = 1e20
#: Noise of f (see `GuidedES.noise`): a pair difference counts as resolved
#: only above this many standard deviations of one value; a step whose
#: promised decrease is within this many (the band) cannot be judged by the
#: values; the estimate averages the latest samples, and the latest exact
#: values are kept to be compared with.
AUTO_NOISE_RESOLUTION = 6.0
AUTO_NOISE_BAND = 1.0
AUTO_NOISE_SAMPLES = 10
AUTO_NOISE_MEMORY = 3
#: Steps the noise does not let the values judge: the line search runs on
#: sums over them, discounted by this factor per step, and changes the step
#: length by at most this factor per iteration.
AUTO_NOISE_DECAY = 0.9
AUTO_NOISE_MAX_FACTOR = 2.0
#: With a noisy f, a trial point along the surrogate must also beat the
#: centre by this many standard deviations of one value.
AUTO_NOISE_TRIAL_MARGIN = 3.0
#: With a noisy f, sigma stays above the sigma at which the pairs last rose
#: above the noise, a floor that decays by this factor per step.
AUTO_NOISE_SIGMA_DECAY = 0.7
#: With a noisy f, the values are declared flat after this many iterations
#: in a row with no pair resolved (``sigma`` 2^20 times larger), not
#: `AUTO_FLAT_ITERATIONS`: before the noise is known, the first steps'
#: line search, fed noise, may have shrunk ``sigma`` far below the scale
#: the pairs need.
AUTO_NOISE_FLAT_ITERATIONS = 20
#: With bounds, the adaptive mode perturbs the coordinates it holds on a
#: bound only at every this many iterations (the rechecks, which make no
#: step, and whose pairs each move one held coordinate alone), to learn
#: whether to leave it; and at every iteration while it holds them all.
AUTO_BOUND_RECHECK = 10
#: With bounds, a run that converges with coordinates held on a bound
#: starts afresh from there this many times before it stops.
AUTO_BOUND_CHECKS = 2
#: With bounds, while every coordinate is held (a vertex of the box), sigma
#: shrinks this many times once each has been found at it, by its own
#: slope, to push outward.
AUTO_VERTEX_SHRINK = 10.0
#: The adaptive mode stops once sigma is below this fraction of its start.
AUTO_SIGMA_TOL = 1e-12
#: ... or below this fraction of the centre's largest coordinate.
AUTO_X_PRECISION = 1e-15
#: The adaptive mode divides the values of f by a power of two when the
#: first nonzero ones exceed ``2**VALUE_SCALE_EXPONENT`` (about 1.8e19) or
#: fall below its inverse; its rules square differences of values, which
#: left the floating-point range for values beyond about 1e150 (an
#: overflow) or below 1e-150 (a flat f, declared converged at x0).
VALUE_SCALE_EXPONENT = 64
#: Window of the non-monotone run that ``nonmonotone='auto'`` restarts with.
AUTO_RESTART_WINDOW = 30
#: Failed trials in a row, each half as long as the one before, whose rises
#: above the centre stay within a factor 2 of each other: ``f`` jumps at
#: the centre along the surrogate, whatever the length.
AUTO_JUMP_TRIALS = 4
#: ... and each of them above this fraction of the values: rises at the
#: values' rounding (a smooth f evaluated near its floating-point floor)
#: are not jumps.
AUTO_JUMP_PRECISION = 1e-10
#: Once a jump was seen, the run also restarts when, over this many
#: iterations, its best value fell by less than ...
AUTO_STALL_ITERATIONS = 50
#: ... this share of the fall from its first value.
AUTO_STALL_SHARE = 1e-3

#: alpha used by ``alpha='auto'`` until the rho estimate rests on enough pairs.
AUTO_ALPHA_START = 0.5
#: beta used by ``beta='auto'`` while rho is unknown.
AUTO_BETA_START = 1.0
#: Floor of ``alpha='auto'``: R (the gradient outside the guide) is only
#: observable through the full-space share of the search.
AUTO_ALPHA_MIN = 0.25
#: Second floor of ``alpha='auto'``: ``AUTO_OUTSIDE_SHARE * (1 - rho^2)``.
AUTO_OUTSIDE_SHARE = 0.75
#: ``alpha='auto'`` keeps the guide's share where the one-step optimum is
#: vanilla ES (see the class Notes).
AUTO_KEEP_GUIDE = True
#: Pairs (discounted) the rho estimate needs before 'auto' uses it.
AUTO_WARMUP = 20
#: Half-life, in iterations, of the rho estimator's memory.
AUTO_HALFLIFE = 300.0
#: Decay of the moving average of estimates that ``self_guided=True`` adds.
SELF_GUIDED_DECAY = 0.97


def _linear_here(f_plus, f_minus, f_centre, resolved_pairs):
    """Whether ``f`` is linear at the scale of an iteration's (finite)
    pairs: every pair that resolved a difference (`resolved_pairs`, from
    `resolved`) has a second difference ``f(x + eps) + f(x - eps) - 2 f(x)``
    at most `AUTO_LINEAR_PRECISION` of its first difference (False when
    none resolved one or ``f(x)`` is not finite)."""
    if not (np.isfinite(f_centre) and resolved_pairs.any()):
        return False
    f_plus, f_minus = f_plus[resolved_pairs], f_minus[resolved_pairs]
    second = np.abs(f_plus + f_minus - 2.0 * float(f_centre))
    return bool(np.all(second <= AUTO_LINEAR_PRECISION
                       * np.abs(f_plus - f_minus)))


def _median_curvature(eps, f_plus, f_minus, f_centre):
    """The median over the pairs of ``(f(x + eps) + f(x - eps) - 2 f(x)) /
    |eps|^2`` (None without ``f(x)`` or a pair of positive length)."""
    if f_centre is None or not np.isfinite(f_centre):
        return None
    length_sq = np.einsum("ij,ij->i", eps, eps)
    some = length_sq > 0
    if not some.any():
        return None
    second = f_plus[some] + f_minus[some] - 2.0 * float(f_centre)
    return float(np.median(second / length_sq[some]))


def _follow(sigma, length):
    """The next sigma of the adaptive mode after a move of `length` (in the
    coordinates of the search): ``AUTO_SIGMA_RATIO`` of it, within a factor
    2 of the current `sigma`."""
    return min(max(AUTO_SIGMA_RATIO * length, sigma / 2), 2 * sigma)


def _auto_or(value, name, bounds):
    if isinstance(value, str):
        if value == "auto":
            return value
        raise ValueError(f"{name} must be a number or 'auto', got {value!r}")
    return check_real(value, name, **bounds)


class GuidedES:
    """Guided Evolutionary Strategies as an ask/tell optimizer.

    Each iteration asks for ``f`` at ``2P`` points ``x +/- eps_i`` drawn
    from a Gaussian elongated along the span of the ``k`` most recent
    surrogate gradients, and moves the centre ``x`` with a step rule applied
    to the antithetic gradient estimate.

    Parameters
    ----------
    x0 : array_like, shape (n,)
        Starting centre; finite, inside `bounds`.
    sigma : float, default 0.1
        Scale of the perturbations, in [1e-100, 1e100]: fixed with a
        fixed-rate `step`;
        with ``step='auto'`` the initial scale, after which it follows the
        adapted step length (see Notes).
    alpha : float or 'auto', optional
        Share of the search variance spent on the full space, in [0, 1]:
        ``alpha = 1`` is vanilla ES, ``alpha = 0`` searches only inside the
        guiding subspace. ``'auto'`` sets it at every iteration from the
        online estimate of ``rho`` (see Notes). Default 0.75 with
        ``step='auto'``, the paper's 0.5 otherwise.
    beta : float or 'auto', default 2.0
        Scale of the gradient estimate, in (0, 1e100], for the fixed-rate rules (the
        adaptive step learns its length and does not use it). ``'auto'``
        uses, at every iteration, the ``beta`` of least expected squared
        error for the current ``alpha`` and estimated ``rho``
        (`ges_minimize.theory.optimal_beta`).
    n_pairs : int, optional
        Number ``P`` of antithetic pairs per iteration, >= 1. Default 2 with
        ``step='auto'``, the paper's 1 otherwise.
    subspace_dim : int, optional
        Number ``k`` of recent surrogate gradients kept, in [1, n]. Each
        guiding direction gets ``(1 - alpha) / k`` of the search variance.
        Default ``min(10, n)`` with ``step='auto'``, the paper's 1
        otherwise; the user guide's hyperparameter page measures the
        choice.
    step : {'auto', 'sgd', 'momentum', 'adam'} or object, optional
        ``'auto'`` (the default unless `learning_rate` is given) adapts the
        step length and `sigma` from the values (see Notes). The others are
        fixed-rate rules applied to the estimate ``g``; an object with
        methods ``init(x) -> state`` and ``update(g, state) -> (delta,
        state)`` is one too (see `make_step`).
    learning_rate : float, optional
        Step size of a fixed-rate rule (defaults: 0.2 'sgd', 0.02
        'momentum', 0.01 'adam'). Giving it without `step` selects 'sgd';
        it cannot be combined with ``step='auto'``.
    bounds : None, sequence of (min, max) pairs, or scipy.optimize.Bounds
        Box constraints; ``None`` entries mean unbounded. No point asked for
        ever leaves the box and the centre is projected back onto it.
    self_guided : bool, float or None, default None
        Guide the search by the method's own past gradient estimates
        (Self-Guided ES [2]_, [3]_): after every update, an exponential
        moving average of the estimates, ``m <- decay * m + g``, joins the
        guiding buffer. ``True`` uses ``decay = SELF_GUIDED_DECAY`` (0.97,
        a memory of about 30 iterations); a float in [0, 1) sets the decay
        (0 adds each estimate alone). Surrogate gradients, if any are
        given, share the same buffer of `subspace_dim` vectors. None (the
        default): on with ``step='auto'``, off with the fixed-rate rules
        (the paper's method). See Notes.
    rng : None, int or numpy.random.Generator
        Source of all randomness; a fixed seed repeats a run exactly.
    estimate_rho : bool or None, default None
        Keep the online estimate `rho` up to date. It costs a projection of
        the perturbations on the subspace (``O(n k P)``, about a tenth of an
        iteration's own time at n = 10^6) and a small fit per iteration.
        None: only when `alpha` or `beta` is ``'auto'``, which need it.
    metric : {'auto', 'full', 'none'} or None, default None
        ``'full'`` learns, in the adaptive mode, a metric ``x = centre + A
        y`` from the curvature of ``f`` and searches in ``y``: ``A A^T``
        approaches the inverse Hessian up to a factor, which removes the
        ill-conditioning that slows every method without second-order
        information (see Notes). It evaluates ``f`` at the centre at every
        iteration (``2P + 1`` values per `tell`) and costs ``O(n^2)``
        operations and memory per iteration. ``'none'`` searches in ``x``
        itself. None or ``'auto'``: ``'full'`` with ``step='auto'``, two
        pairs or more and ``2 <= n <= METRIC_MAX_DIM`` (200), else
        ``'none'``. ``'full'`` needs ``step='auto'``; with one pair it
        learns nothing (curvatures are compared with each other). With
        `bounds`, the perturbations of the iterations that hold coordinates
        on a bound are those of the metric conditioned on the held
        coordinates (drawn in ``y`` and projected onto the directions that
        leave them fixed), and pairs the box clips teach it nothing.
    surrogate_step : bool or None, default None
        In the adaptive mode, once a surrogate gradient has been given, add
        to some asks a trial point along the moving average of the recent
        guiding directions (one more value, the last row), and move the
        centre there when ``f`` is lower there by more than the step
        promises (see Notes). None: on with ``step='auto'`` and no
        `bounds` (with bounds the centre is evaluated at every iteration,
        and a trial would be a second extra evaluation); True needs
        ``step='auto'``.
    nonmonotone : int, 'auto' or None, default None
        In the adaptive mode, how many of the latest centres a step (or a
        trial point along the surrogate) is judged against: it is kept if
        ``f`` there is not above the largest of their values, the
        non-monotone rule of Grippo, Lampariello and Lucidi [6]_. 1 keeps
        only steps that do not raise ``f``, which the step length's
        adaptation relies on for smooth problems; about 30 lets a
        piecewise-constant objective with a straight-through surrogate (a
        network with sign activations) follow the surrogate through the
        rises that its moves cause. ``'auto'`` (None, with
        ``step='auto'``): 1, and one restart from `x0` with a window of 30
        once the trials along the surrogate have shown that ``f`` jumps
        and the run has stopped or stalled (see Notes). None with a
        fixed-rate rule is 1; other values need ``step='auto'``.

    Attributes
    ----------
    x : ndarray, shape (n,)
        Current centre (a copy).
    nit : int
        Number of updates made (calls of `tell`).
    nfev : int
        Number of function values received by `tell` (``2P`` per call, plus
        one when the call included the centre, see `evaluates_centre`, and
        one when it included a trial point, see `evaluates_trial`).
    njev : int
        Number of surrogate gradients received.
    n_valid_pairs : int
        Pairs with two finite values in the last update.
    fun_estimate : float
        Mean of the finite values of the last update (``nan`` if none), a
        cheap stand-in for ``f(x)`` that costs no evaluation.
    step_norm : float
        Euclidean length of the last move of the centre.
    rho : float
        Online estimate of ``rho = |U^T grad f| / |grad f|``, the
        correlation of the true gradient with the guiding subspace (``nan``
        until one iteration with a non-empty subspace and ``alpha > 0``, and
        always ``nan`` when `estimate_rho` is off).
    current_alpha, current_beta : float
        The ``alpha`` of the last `ask` and the ``beta`` of the last `tell`
        (equal to `alpha` and `beta` unless those are ``'auto'``).
    sigma0 : float
        The initial `sigma`; `sigma` is the current one.
    adaptive : bool
        Whether the step is ``'auto'``.
    x_best, f_best : ndarray, float
        The centre with the lowest `fun_estimate` so far, and that estimate.
    n_reverted : int
        Steps taken back by the adaptive mode (after which ``f`` rose).
    n_surrogate_steps : int
        Trial points along the surrogate that the centre moved to.
    nonmonotone : int or str
        The window as given (an int), or ``'auto'``.
    n_restarts : int
        Restarts made by ``nonmonotone='auto'`` (0 or 1).
    noise : float
        Adaptive mode: the estimated standard deviation of one value of
        ``f``, from values measured twice at the same point (the centre
        evaluated again after a step taken back, a trial point returned
        to), the root mean square of the latest ``AUTO_NOISE_SAMPLES``
        differences over ``sqrt(2)``; 0 for a deterministic ``f``. Pair
        differences within ``AUTO_NOISE_RESOLUTION`` times it do not count
        as resolved (``sigma`` doubles, and stays above that scale, a
        floor decaying by ``AUTO_NOISE_SIGMA_DECAY`` per step); a step that
        promised a decrease within ``AUTO_NOISE_BAND`` times it is kept
        unless ``f`` rose beyond that, and its line search runs on the
        curvature the pairs measure, over discounted sums of such steps;
        where the pairs' mean stands in for ``f`` at the centre, the part
        that curvature adds is taken off; a trial point along the surrogate
        must beat the centre by ``AUTO_NOISE_TRIAL_MARGIN`` times it; the
        metric learns from second differences above
        ``AUTO_NOISE_RESOLUTION`` times it; and the values are flat after
        ``AUTO_NOISE_FLAT_ITERATIONS`` doublings of ``sigma``.
    metric : str
        ``'full'`` or ``'none'``, as resolved from the argument.
    converged : None or str
        Set by the adaptive mode once it has converged: ``'sigma'`` (sigma
        below ``AUTO_SIGMA_TOL`` of its start or below the precision of the
        centre; at a vertex of the box, where sigma shrinks
        ``AUTO_VERTEX_SHRINK`` times whenever every coordinate has been
        found at it to push outward, below ``AUTO_SIGMA_TOL`` alone),
        ``'step'`` (``AUTO_FLAT_ITERATIONS`` steps in a row too
        short to move the centre beyond that precision: no step long enough
        to change f made it lower, as on a piecewise-constant f) or
        ``'flat'`` (no pair difference resolved for
        ``AUTO_FLAT_ITERATIONS`` iterations while sigma doubled),
        ``'precision'`` (with a deterministic f, every coordinate held on a
        bound found since by its own slope to push outward,
        ``AUTO_PRECISION_ITERATIONS`` iterations without f at the
        centre falling by more than the values' precision, some scale
        tried since not resolving and every pair difference of the latest
        iterations that resolved, or of those since f last fell, within
        ``AUTO_PRECISION_RESOLUTION`` of the values (pairs clipped by the
        box aside; not tested after a fresh start to check the bounds, whose
        wide pairs would fill both): a minimum whose value
        is not zero, where the differences vanish into the rounding of f
        before sigma reaches the precision of x; at a vertex of the box,
        every coordinate held, a scale not resolving since the run reached
        it), or
        ``'kink'`` where ``'sigma'`` would be said but the
        root-mean-square slope of the last pairs is still above
        ``AUTO_KINK_SLOPE`` of the largest the run measured: ``f`` is not
        differentiable there (a kink or a jump), a minimum or not; at a
        minimum where ``f`` is differentiable the slopes vanish.

    Notes
    -----
    **Adaptive step (the default).** With ``step='auto'`` the centre
    moves along the raw estimate ``u = sum_i d_i eps_i / sigma`` (``d_i``
    the pair difference over ``2 sigma``) by ``-eta u``. The slope of ``f``
    along the step, ``-eta sum_i d_i^2``, is exact for a quadratic; the mean
    of the next pairs' values estimates ``f`` at the new centre; the
    parabola through both values and the slope gives the best multiple of
    the step, by which ``eta`` is multiplied (clipped to [1/4, 4]), and the
    next step also moves by the missing part of the last one. A step after
    which the estimate rose is taken back. ``sigma`` is a tenth of the last
    step's length (changing by at most a factor 2 per iteration) and
    doubles when no pair resolves a difference. With two pairs or more, the
    first pair probes the moving average of the recent guiding directions
    while its slope stays well above the random pairs', or else, on the same
    terms, the moving average of the steps taken over about the last ``n``
    iterations, which finds the gradient a steadily biased surrogate is
    blind to.

    **Kinks (`nonsmooth_mode`).** Where ``f`` is continuous but not
    differentiable (an L1 or max norm, a sum of absolute residuals), the
    line search stops at the kinks nearest the centre and ``sigma`` follows
    the short steps down while the pairs' slopes stay those of the kinks.
    Once ``sigma`` over the pairs' root-mean-square slope has fallen
    ``AUTO_KINK_SWITCH`` (1e5) times below its largest value in the run
    (or only ``AUTO_LINEAR_FALL`` (10) times where ``f`` is piecewise
    linear: in at least ``AUTO_LINEAR_SHARE`` of the last
    ``AUTO_LINEAR_WINDOW`` iterations that measured ``f`` at the centre,
    every pair's second difference vanished beside its first, to
    ``AUTO_LINEAR_PRECISION``), without bounds, with a deterministic ``f``
    and ``n <= 1000``, while the
    slopes have grown at most ``AUTO_KINK_GROWTH`` times since (not a jump,
    nor the rounding of single precision), the pairs' differences are above
    ``AUTO_KINK_RESOLUTION`` of the values, no trial has shown jumps and at
    least ``AUTO_KINK_IRREGULAR`` of the last ``AUTO_KINK_WINDOW`` line
    searches found f off the parabola they fitted (a norm ``|x - c|`` is
    smooth but at its minimum: its line searches stay regular and keep
    converging), the run is handed to `ges_minimize._kink.KinkSearch`, a
    covariance matrix adaptation evolution strategy started at the centre
    with the ``sigma`` that was last in step with the slopes; each
    iteration then asks ``4 + floor(3 ln n)`` points (`population_size`)
    and the surrogate is no longer used. A run that stops there has status
    ``NONSMOOTH``, not a success; a search whose scale grows
    ``AUTO_KINK_TOLUPSIGMA`` (1e20) times beyond its start raises
    ``FloatingPointError`` (``f`` is probably unbounded below), which
    `minimize_guided_es` reports as ``OVERFLOW``.

    **Surrogate step (``surrogate_step``, on by default with
    ``step='auto'`` and no bounds).** With surrogate gradients, an
    iteration may also evaluate ``x - r m / |m|``, ``m`` the moving
    average of the unit guiding directions: if ``f`` there is below the
    centre's value by more than half the decrease the step promises, the
    centre moves there instead, and ``r`` doubles; else ``r`` halves when
    the point was not even below the centre, and the next trial waits
    twice as long (at most 16 iterations). The first trial is as long as
    the last step. Such a trial takes the place of the centre's
    evaluation, so that an iteration evaluates at most one point besides
    its pairs. It follows the surrogate across plateaus that the
    pairs do not resolve (a straight-through gradient on a
    piecewise-constant objective) and along curved valleys, much as
    injected gradient steps do in CMA-ES [5]_. See
    `ges_minimize._stepsize` for the details and the references.

    **Non-monotone acceptance (``nonmonotone``).** By default a step after
    which ``f`` rose is taken back. With ``nonmonotone=M``, a step or a
    trial point is kept unless ``f`` there is above the largest value of
    the last ``M`` centres, so ``f`` at the centre may rise for a while but
    never above its value ``M`` centres earlier, and the run still cannot
    diverge; the point returned by `minimize_guided_es` is then the best
    centre of the run. On a network with sign activations the loss is flat
    in the first layer's weights between the jumps: moves along the
    straight-through gradient first raise the loss and pay off only once
    the other weights have followed, which the monotone rule never lets
    happen. On smooth problems the rule costs much (the step length's
    adaptation learns from the steps taken back). So the default,
    ``'auto'``, is monotone and watches the trials along the surrogate:
    when four failed trials in a row, each half as long as the one before,
    rose above the centre by amounts within a factor 2 of each other and
    above the values' rounding (near a minimum of a smooth ``f`` the rise
    shrinks like the length squared), ``f`` jumps along the surrogate;
    once the run has then converged, or its best value has fallen by less
    than a thousandth of its fall so far over 50 iterations, it starts
    again from `x0` with a window of 30, keeping its counts and its best
    centre (`n_restarts`).
    Smooth problems never show such jumps and run exactly as with
    ``nonmonotone=1``.

    **Metric (``metric='full'``, the default for n <= 200).** Each pair
    and the centre give the curvature of ``f`` along the pair's direction,
    ``(f(x + eps) + f(x - eps) - 2 f(x)) / |eps|^2`` (exact for a
    quadratic), and the line search gives it along the last step. After
    each iteration the factor ``A`` is stretched or shrunk along those
    directions so that the curvatures in ``y`` move towards their mean, at
    constant ``det A``; perturbations are drawn in ``y`` (around the guide
    ``A^T g``) and mapped by ``A``, so the step along the raw estimate is a
    preconditioned one. The idea of learning the search distribution from
    such curvature estimates is that of the Hessian estimation evolution
    strategy [4]_. Pairs with a second difference that is not positive or
    not resolved teach nothing; the condition number of ``A`` is capped at
    about 1e4. See `ges_minimize._metric`.

    **Order of a surrogate gradient.** In the paper's Algorithm 1 the
    surrogate gradient at ``x_t`` shapes the perturbations drawn around
    ``x_t``. Give it with `add_surrogate_grad` before `ask` to follow that
    order exactly (as `minimize_guided_es` does). Giving it to `tell`
    instead adds it to the buffer after the update, so it shapes the next
    iteration; this suits loops where the surrogate comes out of the same
    computation as the values.

    **Subspace.** The guiding basis ``U`` spans the non-zero gradients in the
    buffer; with ``r < k`` independent directions so far, the subspace share
    of the variance is spread over those ``r`` (``(1 - alpha) / r`` each).
    With an empty buffer the perturbations are those of vanilla ES. The basis
    is updated from the buffer's Gram matrix at ``O(n k)`` cost per new
    gradient, not recomputed (``O(n k^2)``) as `subspace_basis` does; a
    direction adding less than 1e-4 of the buffer's largest singular value
    counts as dependent.

    **Bounds.** ``x + eps`` and ``x - eps`` are clipped to the box. For a
    clipped pair the estimate uses the half-chord ``(x_plus - x_minus) / 2``
    in place of ``eps``: a central difference along the direction that was
    actually probed, exact for linear ``f``.

    **Non-finite values.** A pair with a NaN or infinite value is left out of
    the estimate, which then averages over the remaining pairs. When no pair
    is finite the centre and the step rule's state do not move. The centre
    never becomes non-finite.

    **alpha='auto'.** The antithetic difference of a pair,
    ``d = (f(x + eps) - f(x - eps)) / (2 sigma)``, equals ``u . grad f``
    with ``u = eps / sigma`` for a quadratic ``f``. Splitting ``grad f``
    into ``U a`` (inside the subspace) and ``r`` (outside) gives
    ``E[d^2 | w] = |a|^2 |w|^2 / k + |r|^2 alpha / n`` with ``w = U^T u``
    known, a linear regression whose two coefficients give
    ``rho^2 = |a|^2 / (|a|^2 + |r|^2)``. It is fitted by weighted least
    squares over the pairs of past iterations, forgotten with a half-life
    of 300 iterations, so ``rho`` is the correlation along the trajectory
    actually followed, at no extra evaluation (see `RhoEstimator`).
    Each `ask` then uses the ``alpha`` of least expected squared error for
    that ``rho`` (`ges_minimize.theory.optimal_hyperparameters`), but never
    less than ``max(AUTO_ALPHA_MIN, AUTO_OUTSIDE_SHARE * (1 - rho^2))``
    (0.25 and 0.75), and where that optimum is vanilla ES it takes the
    floors instead. With one pair the optimum is nearly all or nothing:
    vanilla ES (``alpha = 1``) for ``rho^2 <= k / n``, the subspace alone
    (``alpha = 0``) from ``(k + 4) / (n + 4)``, and a steep fall in the
    narrow band between, so the floors decide in most of the range. They
    exist because that optimum is myopic:

    - ``R`` is observed only through the full-space share of the search;
    - a subspace carrying a persistent bias stops being informative once
      the run has followed it: along the paper's runs the guide's
      correlation falls to about that of a random subspace, below the
      threshold, yet at 20,000 evaluations alpha = 0.75 ended 6x (k = 1,
      lr 0.2) to 7x (k = 10, lr 0.6) closer to the minimum than vanilla ES;
    - the per-direction share ``(1 - alpha) / k`` multiplies the step along
      each guide, whose curvature is above the average when the guide is
      aligned with the gradient (``grad f = H e`` weighs the stiff
      directions), so a small ``alpha`` can turn a learning rate that is
      stable for vanilla ES into a divergent one: with an accurate
      surrogate (k = 10, lr 0.6) fixed alpha 0 and 0.1 diverged and 0.25
      converged.

    With these floors ``'auto'`` stayed within 1.13x of the best fixed alpha
    in hindsight, and below vanilla ES, in the four surrogate regimes of
    ``benchmarks/adaptive.py`` at both the paper's and the recommended
    settings. The first iterations, before the estimate rests on
    ``AUTO_WARMUP`` pairs, use ``alpha = 0.5``.

    **Self-guided mode.** With one pair, an estimate points along the single
    direction just probed, and the step along it removes most of the
    gradient's component there: a buffer of raw estimates guides the search
    to where the gradient no longer is. Their moving average, on the other
    hand, sums ``E[g] = beta Sigma grad f`` over the iterations while the
    noise of the single probes adds up only as a square root, so its
    correlation with the gradient grows with its memory as long as the
    gradient turns slowly. Without any surrogate (n = 1000, 20,000
    evaluations, sigma 0.1, beta 2, P = 1, SGD, median of 5 seeds,
    ``benchmarks/adaptive.py --only no-surrogate``) the moving average
    (decay 0.97, ``k = 1``, ``alpha='auto'``) against vanilla ES and the raw
    estimates (``k = 10``): paper's quadratic 3.6e-3, 1.6e-2 and 1.7e-2;
    shifted sphere 5.5e-2, 0.31 and 0.42; Rosenbrock (lr 1e-4) 8.2e3,
    3.2e4 and 3.4e4. It helps where the learning rate is held
    below the line-search step (curvature, noise); where each step already
    removes the gradient along the probe, nothing is left to follow.

    **Checkpoints.** The object pickles (a custom step rule must too); a run
    resumed from a pickle taken after any `tell` repeats the uninterrupted
    run bit for bit.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.
    .. [2] F.-Y. Liu, Z.-N. Li and C. Qian, "Self-guided evolution
       strategies with historical estimated gradients", IJCAI 2020.
    .. [3] F. Meier, A. Mujika, M. M. Gauy and A. Steger, "Improving
       gradient estimation in evolutionary strategies with past descent
       directions", 2019. arXiv:1910.05268.
    .. [4] T. Glasmachers and O. Krause, "The Hessian estimation evolution
       strategy", PPSN 2020. arXiv:2003.13256.
    .. [5] N. Hansen, "Injecting external solutions into CMA-ES", 2011.
       arXiv:1110.4181.
    .. [6] L. Grippo, F. Lampariello and S. Lucidi, "A nonmonotone line
       search technique for Newton's method", SIAM Journal on Numerical
       Analysis 23(4), 707-716, 1986.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import GuidedES
    >>> f = lambda x: 0.5 * np.sum(x ** 2)
    >>> es = GuidedES(np.ones(5), sigma=0.1, learning_rate=0.2, n_pairs=2, rng=0)
    >>> for _ in range(300):
    ...     es.add_surrogate_grad(es.x + 0.3)       # a biased gradient
    ...     points = es.ask()                        # shape (4, 5)
    ...     es.tell([f(p) for p in points])
    >>> bool(f(es.x) < 1e-3), es.nit, es.nfev
    (True, 300, 1200)
    """

    def __init__(self, x0, *, sigma=0.1, alpha=None, beta=2.0, n_pairs=None,
                 subspace_dim=None, step=None, learning_rate=None, bounds=None,
                 self_guided=None, rng=None, estimate_rho=None, metric=None,
                 surrogate_step=None, nonmonotone=None):
        x = check_x0(x0)
        n = x.size
        self.n = n
        if step is None:
            step = "sgd" if learning_rate is not None else "auto"
        if (isinstance(step, str) and step != "auto"
                and step.lower() not in ("sgd", "momentum", "adam")):
            raise ValueError(
                "step must be 'auto' (the default), one of 'sgd', 'momentum', "
                "'adam', or an object with methods init(x) and update(g, "
                f"state), got {step!r}")
        self.adaptive = isinstance(step, str) and step == "auto"
        if self.adaptive:
            if learning_rate is not None:
                raise ValueError(
                    "learning_rate applies to the fixed-rate step rules "
                    "('sgd', 'momentum', 'adam'); step='auto' adapts the "
                    f"step length itself, got learning_rate={learning_rate!r:.80}")
            defaults = dict(alpha=AUTO_ALPHA, n_pairs=AUTO_N_PAIRS,
                            subspace_dim=min(AUTO_SUBSPACE_DIM, n))
        else:
            defaults = dict(alpha=PAPER_SETTINGS["alpha"],
                            n_pairs=PAPER_SETTINGS["n_pairs"],
                            subspace_dim=PAPER_SETTINGS["subspace_dim"])
        alpha = defaults["alpha"] if alpha is None else alpha
        n_pairs = defaults["n_pairs"] if n_pairs is None else n_pairs
        subspace_dim = (defaults["subspace_dim"] if subspace_dim is None
                        else subspace_dim)
        # sigma**2 and 1/sigma**2 enter the estimate and the rho fit, times
        # values and coordinates: 1e+-100 keeps them within the float range
        self.sigma = check_real(sigma, "sigma", low=1e-100, high=1e100)
        self.sigma0 = self.sigma
        self.alpha = _auto_or(alpha, "alpha", dict(low=0, high=1))
        self.beta = _auto_or(beta, "beta", dict(low=0, low_open=True,
                                                high=1e100))
        if self_guided is None:
            self_guided = self.adaptive
        if isinstance(self_guided, (bool, np.bool_)):
            self._self_decay = SELF_GUIDED_DECAY if self_guided else None
        else:
            try:
                self._self_decay = check_real(self_guided, "self_guided",
                                              low=0, high=1, high_open=True)
            except TypeError:
                raise TypeError(
                    "self_guided must be True, False or a decay in [0, 1), "
                    f"got {self_guided!r:.80}") from None
        self.self_guided = self_guided
        self._self_direction = None
        self.n_pairs = check_int(n_pairs, "n_pairs", low=1)
        if self.n_pairs * n > MAX_BATCH_ENTRIES:
            raise ValueError(
                f"n_pairs={self.n_pairs} with n={n} asks for batches of "
                f"{2 * self.n_pairs} x {n} numbers, more than "
                f"{2 * MAX_BATCH_ENTRIES:.0e}; choose a smaller n_pairs")
        self.subspace_dim = check_int(subspace_dim, "subspace_dim", low=1, high=n)
        self.step = None if self.adaptive else make_step(step, learning_rate)
        self.bounds = check_bounds(bounds, n)
        if self.bounds is not None:
            lb, ub = self.bounds
            outside = np.flatnonzero((x < lb) | (x > ub))
            if outside.size:
                i = outside[0]
                raise ValueError(
                    f"x0 must lie inside bounds: x0[{i}] = {float(x[i])!r} is "
                    f"outside [{float(lb[i])!r}, {float(ub[i])!r}]")
        # coordinates whose bounds are equal: held where they are, never
        # rechecked (None where there is none)
        self._fixed = (None if self.bounds is None or not np.any(
            self.bounds[0] == self.bounds[1]) else self.bounds[0] == self.bounds[1])
        self.rng = check_rng(rng)
        self._x = x
        self._step_state = None if self.adaptive else self.step.init(x)
        self._guide = GuideBuffer(n, self.subspace_dim)
        self._pending = None
        if estimate_rho is None:
            estimate_rho = self.alpha == "auto" or self.beta == "auto"
        elif not isinstance(estimate_rho, (bool, np.bool_)):
            raise TypeError("estimate_rho must be True, False or None, got "
                            f"{estimate_rho!r:.80}")
        if not estimate_rho and (self.alpha == "auto" or self.beta == "auto"):
            raise ValueError(
                "alpha='auto' and beta='auto' need the rho estimate; "
                "estimate_rho=False cannot be combined with them")
        self.estimate_rho = bool(estimate_rho)
        self._rho_estimator = RhoEstimator(halflife=AUTO_HALFLIFE)
        self.rho = np.nan
        self.current_alpha = AUTO_ALPHA_START if self.alpha == "auto" else self.alpha
        self.current_beta = AUTO_BETA_START if self.beta == "auto" else self.beta
        self.nit = 0
        self.nfev = 0
        self.njev = 0
        self.n_valid_pairs = 0
        self.fun_estimate = np.nan
        self.step_norm = np.nan
        self.x_best = x.copy()
        self.f_best = np.inf
        self.f_first = np.nan
        self.first_spread = np.nan
        self.n_reverted = 0
        self.converged = None
        # adaptive mode: step per unit of the raw estimate, the last step
        # (slope, increment, estimate of f before it, centre before it), and
        # the number of consecutive iterations without a resolved difference
        self._eta = None
        self._last_step = None
        self._flat_run = 0
        self._tiny_run = 0
        # ... the iteration of the last decrease of f at the centre beyond
        # the values' precision, that value, and the last iteration whose
        # pairs did not resolve (`AUTO_PRECISION_ITERATIONS`)
        self._gain_it, self._gain_value, self._flat_it = 0, math.inf, -1
        # ... and the pairs' largest relative difference in each of the latest
        # iterations that resolved, and the largest since f last fell
        self._resolutions = []
        self._resolution_since_gain = 0.0
        self._precision_stop = True
        # adaptive mode: the largest root-mean-square pair slope measured
        self._slope_max = 0.0
        # ... with bounds, the fresh starts made to check a convergence
        self._bound_checks = 0
        # ... the largest sigma over that slope, and the search for kinks
        self._slope_ratio_max = self._slope_at_max = 0.0
        self._kink_search = None
        self._kink_switch = True
        # ... whether each of the latest line searches was irregular
        self._irregular = []
        # ... and whether f was linear at the pairs' scale, at each of the
        # latest iterations that measured f at the centre
        self._linear = []
        # ... and the curvature the first pairs measured at x0
        self._start_curvature = None
        # with bounds: the coordinates the pairs of a recheck probe, one
        # each, and where the turn of the held ones is
        self._coordinate_rechecks = self._vertex_shrinks = True
        self._recheck_coords, self._recheck_turn = None, 0
        # ... and the last iteration at which each was found to push
        # outward (held on its own slope)
        self._verified_it = np.full(self.n, -1)
        # ... and, while every coordinate is held, the sigma of the rechecks,
        # the iteration from which they have used it and the first one
        self._vertex_sigma, self._vertex_it, self._vertex_from = None, 0, 0
        # ... and whether the box clipped a pair of the pending ask
        self._pairs_clipped = False
        self._exact_centre_needed = self.adaptive
        # adaptive mode: the latest exact values of f (point, value), and the
        # squared differences of values measured twice at the same point,
        # from which the noise of f is estimated (zero for a deterministic f)
        self._exact_values = []
        self._noise_samples = []
        self._noise = 0.0
        # ... the exponent of the power of two that divides every value of f
        # in the adaptive mode's computations (chosen at the first nonzero
        # value, see `_exponent_for`)
        self._value_exponent = None
        # ... the discounted sums of the line search over the steps the
        # noise did not let the values judge, and the floor under sigma
        self._noisy_ls = (0.0, 0.0)
        self._noise_sigma = 0.0
        # ... and the discounted mean of the curvatures the pairs measure
        self._pair_curvature = 0.0
        # with bounds: coordinates on a bound that the estimate pushes out
        self._blocked = None
        self._masked_ask = False
        # the moving average of the unit guiding directions, which the first
        # pair probes, and of the squared pair slopes: the probe's, the others'
        self._guide_average = None
        self._probe_gain = np.nan
        self._random_gain = np.nan
        # ... and the moving average of the unit steps taken, the other
        # direction it may probe; which one the pending ask probes ('guide',
        # 'path' or None)
        self._step_path = None
        self._path_gain = np.nan
        self._probe_kind = None
        # adaptive mode: the metric x = centre + A y (the search runs in y),
        # and the last step with the curvature measured along it
        if metric is None:
            metric = "auto"
        if not (isinstance(metric, str) and metric in ("auto", "full", "none")):
            raise ValueError(
                f"metric must be 'auto', 'full' or 'none', got {metric!r:.80}")
        if metric == "auto":
            metric = ("full" if self.adaptive
                      and 2 <= n <= METRIC_MAX_DIM and self.n_pairs >= 2
                      else "none")
        if metric == "full" and not self.adaptive:
            raise ValueError(
                f"metric='full' needs step='auto', got step={step!r:.80}")
        self.metric = metric
        self._metric = Metric(n) if metric == "full" else None
        self._step_curvature = None
        # adaptive mode, with surrogate gradients: the trial point along
        # their moving average (length, interval in iterations, the next
        # iteration to make one, the pending point), the value of the centre
        # with the decrease the last step promises, which a trial must beat,
        # and f at the centre when a trial was taken
        if surrogate_step is None:
            # with bounds the centre is evaluated at every iteration: a
            # trial point would be a second extra evaluation
            surrogate_step = self.adaptive and self.bounds is None
        if not isinstance(surrogate_step, (bool, np.bool_)):
            raise TypeError("surrogate_step must be True, False or None, got "
                            f"{surrogate_step!r:.80}")
        if surrogate_step and not self.adaptive:
            raise ValueError(
                "surrogate_step=True needs step='auto', got "
                f"step={step!r:.80}")
        self.surrogate_step = bool(surrogate_step)
        self.n_surrogate_steps = 0
        self._surrogate_seen = False
        self._trial_length = None
        self._trial_gap = 1
        self._trial_next = 0
        self._pending_trial = None
        self._trial_reference = None
        self._centre_value = None
        # the values of the latest centres, the largest of which a step
        # may reach (non-monotone acceptance)
        if nonmonotone is None:
            nonmonotone = "auto" if self.adaptive else 1
        if isinstance(nonmonotone, str):
            if nonmonotone != "auto":
                raise ValueError(
                    "nonmonotone must be None, 'auto' or an integer >= 1, "
                    f"got {nonmonotone!r:.80}")
        else:
            nonmonotone = check_int(nonmonotone, "nonmonotone", low=1)
        if nonmonotone != 1 and not self.adaptive:
            raise ValueError(
                f"nonmonotone={nonmonotone!r} needs step='auto', got "
                f"step={step!r:.80}")
        self.nonmonotone = nonmonotone
        self._window_size = 1 if nonmonotone == "auto" else nonmonotone
        self._window = []
        # nonmonotone='auto': the rises of the latest failed trials in a
        # row, whether they showed a jump, and what a restart needs
        self.n_restarts = 0
        self._rises = []
        self._jump_seen = False
        self._stall_mark = np.inf     # the best value AUTO_STALL_ITERATIONS ago
        self._x0 = x.copy()
        self._settings = dict(
            sigma=sigma, alpha=alpha, beta=beta, n_pairs=n_pairs,
            subspace_dim=subspace_dim, step=step, learning_rate=learning_rate,
            bounds=bounds, self_guided=self_guided, estimate_rho=estimate_rho,
            metric=metric, surrogate_step=surrogate_step)

    def __setstate__(self, state):
        # objects pickled before the surrogate step existed resume as they
        # ran, without it
        if "surrogate_step" not in state:
            state.update(surrogate_step=False, n_surrogate_steps=0,
                         _surrogate_seen=False, _trial_length=None,
                         _trial_gap=1, _trial_next=0, _pending_trial=None,
                         _trial_reference=None, _centre_value=None)
        # ... and before non-monotone acceptance, monotone
        if "nonmonotone" not in state:
            state.update(nonmonotone=1, _window_size=1, _window=[],
                         n_restarts=0, _rises=[], _jump_seen=False,
                         _stall_mark=np.inf)
        # ... and before the noise estimate, as for a deterministic f
        if "noise" in state:
            state["_noise"] = state.pop("noise")
        if "_noise" not in state:
            state.update(_exact_values=[], _noise_samples=[], _noise=0.0,
                         _noisy_ls=(0.0, 0.0), _noise_sigma=0.0,
                         _pair_curvature=0.0)
        # ... and before the values were scaled, unscaled
        state.setdefault("_value_exponent", 0)
        # ... and before the kink test, without it
        state.setdefault("_slope_max", 0.0)
        state.setdefault("_bound_checks", AUTO_BOUND_CHECKS)
        # ... and before the switch to a search for kinks, without it
        state.setdefault("_slope_ratio_max", 0.0)
        state.setdefault("_slope_at_max", 0.0)
        state.setdefault("_kink_search", None)
        state.setdefault("_kink_switch", False)
        state.setdefault("_irregular", [])
        # ... and before the early switch where f is piecewise linear
        state.setdefault("_linear", [])
        # ... and before the switch on a kink at x0, without it
        state.setdefault("_start_curvature", math.inf)
        # ... and before the stop at the precision of the values, without it
        state.setdefault("_precision_stop", False)
        state.setdefault("_gain_it", 0)
        state.setdefault("_gain_value", math.inf)
        # ... and before the test of the pairs since f last fell as well
        state.setdefault("_resolution_since_gain", math.inf)
        state.setdefault("_flat_it", -1)
        state.setdefault("_resolutions", [])
        # ... and before the rechecks along coordinates, with random pairs
        state.setdefault("_coordinate_rechecks", False)
        state.setdefault("_recheck_coords", None)
        state.setdefault("_recheck_turn", 0)
        state.setdefault("_verified_it", np.full(state["n"], -1))
        # ... and before sigma shrank at a vertex (it stayed as it was)
        state.setdefault("_vertex_shrinks", False)
        state.setdefault("_vertex_sigma", None)
        state.setdefault("_vertex_it", 0)
        state.setdefault("_vertex_from", 0)
        state.setdefault("_pairs_clipped", False)
        state.setdefault("_fixed", None)
        self.__dict__.update(state)

    # -- state -------------------------------------------------------------
    @property
    def x(self):
        """Current centre (a copy)."""
        return self._x.copy()

    @property
    def nonsmooth_mode(self):
        """Whether the adaptive mode has handed the run to its search for
        kinks (`ges_minimize._kink.KinkSearch`): once sigma, following the
        steps down, has fallen ``AUTO_KINK_SWITCH`` times below the pairs'
        slopes' scale while those slopes did not vanish, or only
        ``AUTO_LINEAR_FALL`` times where the pairs found ``f`` piecewise
        linear (see the class Notes). Each iteration then asks
        `population_size` points, ranked by their values."""
        return self._kink_search is not None

    @property
    def population_size(self):
        """Points an iteration evaluates besides the centre and a trial
        point: the ``2P`` of the pairs, or in `nonsmooth_mode` the search
        for kinks' population (``4 + floor(3 ln n)``, and nothing else)."""
        if self._kink_search is not None:
            return self._kink_search.population_size
        return 2 * self.n_pairs

    @property
    def basis(self):
        """Orthonormal basis ``U`` (n x r) of the guiding subspace (a copy)."""
        return self._guide.basis()

    # -- surrogate gradients -------------------------------------------------
    def add_surrogate_grad(self, surrogate_grad):
        """Add a surrogate gradient to the guiding buffer.

        Parameters
        ----------
        surrogate_grad : array_like, shape (n,)
            A surrogate gradient, finite. The oldest one in the buffer drops
            out once `subspace_dim` are held. An all-zero vector is counted
            in `njev` but adds no direction.

        Notes
        -----
        Points already asked for and not yet told keep their perturbations;
        the new basis applies from the next `ask`.
        """
        g = check_vector(surrogate_grad, "surrogate_grad", self.n)
        self.njev += 1
        if not np.any(g):
            return
        self._push_direction(g)
        self._surrogate_seen = True

    def _push_direction(self, g):
        """Append a non-zero vector to the buffer and update the basis."""
        self._guide.push(g)
        if self.adaptive:
            g, norm = prescaled(g)
            unit = g / norm
            self._guide_average = (unit if self._guide_average is None else
                                   AUTO_PROBE_DECAY * self._guide_average + unit)

    # -- ask / tell ----------------------------------------------------------
    def ask(self):
        """The ``2P`` points to evaluate next.

        Returns
        -------
        points : ndarray, shape (2P + c + t, n)
            Rows ``0 .. P-1`` are ``x + eps_i`` and rows ``P .. 2P-1`` are
            ``x - eps_i`` (clipped to the bounds). In the adaptive mode the
            next row (``c = 1``) may hold the centre ``x`` itself (see
            `evaluates_centre`) and a last row (``t = 1``) a trial point
            along the surrogate (see `evaluates_trial`). Asking again
            before `tell` returns the same points.
        """
        if self._kink_search is not None:
            if self._pending is None:
                points = self._kink_search.ask(self.rng)
                self._pending = ("kink", points)
            return self._pending[1].copy()
        if self._pending is None:
            alpha = self._choose_alpha()
            k = self._guide.rank
            if self._metric is None:
                eps = draw_perturbations(self.rng, self.n_pairs, self.n, k,
                                         self.sigma, alpha,
                                         self._guide.add_combination)
            else:
                # drawn in y, around the guide A^T G
                U_y = (self._metric.guide_basis(self._guide.rows()) if k
                       else np.zeros((self.n, 0)))
                k = U_y.shape[1]

                def add_combination(out, z):
                    out += z @ U_y.T

                e = draw_perturbations(self.rng, self.n_pairs, self.n, k,
                                       self.sigma, alpha, add_combination)
            # (not when every coordinate is held: nothing would move)
            self._masked_ask = (self._blocked is not None and self._blocked.any()
                                and not self._blocked.all()
                                and self.nit % AUTO_BOUND_RECHECK != 0)
            self._probe_kind = self._wants_probe(k)
            if self._probe_kind is not None:
                # the first pair probes the average guiding direction itself,
                # or the average direction of the steps taken
                g = (self._guide_average if self._probe_kind == "guide"
                     else self._step_path)
                if self._metric is None:
                    eps[0] = g * (self.sigma / np.linalg.norm(g))
                else:
                    g = (self._metric.covector(g) if self._probe_kind == "guide"
                         else self._metric.vector(g))
                    e[0] = g * (self.sigma / np.linalg.norm(g))
            if self._metric is not None:
                if self._masked_ask:
                    # the search stays on the faces the held coordinates
                    # lie on, with the metric's shape within them
                    e = self._metric.restricted(e, self._blocked)
                eps = self._metric.to_x(e)
            if self._masked_ask:
                eps[:, self._blocked] = 0.0   # coordinates held on a bound
            self._recheck_coords = self._coordinates_to_recheck()
            if self._recheck_coords is not None:
                # a recheck probes held coordinates one by one: a pair along
                # a coordinate gives its own one-sided slope at the bound,
                # where random pairs mixed it with the slopes of the others
                eps = np.zeros((self.n_pairs, self.n))
                eps[np.arange(self.n_pairs), self._recheck_coords] = self.sigma
                self._probe_kind = None
            raw_eps = eps
            self._pending_trial = self._next_trial(alpha)
            if self._pending_trial is not None and self._trial_length is None:
                self._trial_length = self._next_trial_length()
            points = self._points_around(raw_eps)
            self._pairs_clipped = False
            if self.bounds is not None:
                half = self.n_pairs
                eps = 0.5 * (points[:half] - points[half:2 * half])
                # pairs clipped to the box are not symmetric about the
                # centre: their second differences are no curvatures, and
                # their differences no measure of the values' precision
                self._pairs_clipped = not (
                    np.array_equal(points[:half], self._x + raw_eps)
                    and np.array_equal(points[half:2 * half], self._x - raw_eps))
            learn = (self._metric is not None and self._recheck_coords is None
                     and not self._pairs_clipped)
            if k and self.estimate_rho:
                w = self._guide.project(eps) if self._metric is None else e @ U_y
                w_sq = np.einsum("ij,ij->i", w, w) / (k * self.sigma**2)
            else:
                w_sq = np.zeros(self.n_pairs)
            self._pending = (eps, raw_eps, alpha if k else 1.0, w_sq, k)
            # (None where the metric has nothing to learn from the pairs)
            self._pending_y = e if learn else None
            return points
        return self._points_around(self._pending[1])

    @property
    def evaluates_centre(self):
        """Whether `ask` adds the centre as a row after the pairs.

        In the adaptive mode: at the first iteration and after a step was
        taken back, so that the next step is judged against ``f`` itself
        there (an estimate made with a ``sigma`` far larger than the
        problem's scale overstates ``f`` by ``O(sigma^2)`` and could let a
        bad step pass); at every iteration with bounds, where clipped pairs
        do not estimate ``f`` at the centre; and at every iteration while a
        metric is learnt (``metric='full'``), except one that evaluates a
        trial point instead (`evaluates_trial`): the mean of the pairs'
        values then stands in for the centre's, and the metric learns
        nothing from that iteration. Never when the centre is a trial point
        just taken, whose value is known (`centre_value`).
        """
        return self._asks_centre()

    def _asks_centre(self, with_trial=None):
        """`evaluates_centre` for an ask that adds a trial point or not
        (None: as `evaluates_trial` says, asked only when it matters)."""
        if (not self.adaptive or self._centre_value is not None
                or self._kink_search is not None):
            return False
        if self.bounds is not None or self._exact_centre_needed:
            return True
        if self._metric is None:
            return False
        return not (self.evaluates_trial if with_trial is None else with_trial)

    @property
    def centre_value(self):
        """``f`` at the centre when the last `tell` moved it to a trial
        point along the surrogate (whose value is then known), else None."""
        return None if self._centre_value is None else self._unscaled(self._centre_value)

    @property
    def noise(self):
        """The estimated standard deviation of one value of ``f`` (adaptive
        mode; 0 for a deterministic ``f``): see the class's attributes."""
        return self._unscaled(self._noise)

    @staticmethod
    def _exponent_for(values):
        """The exponent ``e`` by which the adaptive mode divides the values
        of ``f`` (by ``2**e``) once `values` hold a finite nonzero one (None
        before): 0 while the largest lies within ``2**±VALUE_SCALE_EXPONENT``,
        else that of the largest, which brings the values near 1. Its
        rules square differences of values, which would underflow or
        overflow for values near the ends of the floating-point range;
        dividing by a power of two is exact, and they are invariant to it,
        so this changes no run whose values are of ordinary size."""
        sizes = np.abs(values[np.isfinite(values)])
        largest = float(sizes.max()) if sizes.size else 0.0
        if largest == 0.0:
            return None
        exponent = math.frexp(largest)[1]
        return 0 if abs(exponent) <= VALUE_SCALE_EXPONENT else exponent

    def _unscaled(self, value):
        """`value`, in the adaptive mode's units, in those of ``f``."""
        return float(np.ldexp(value, self._value_exponent or 0))

    @property
    def evaluates_trial(self):
        """Whether the next `ask` adds a trial point along the surrogate as
        its last row (see `surrogate_step`): once a surrogate gradient has
        been given, unless ``alpha = 1`` (vanilla ES, which ignores the
        surrogate), at every iteration while the trials succeed, then at
        intervals that double with each failure, up to
        ``AUTO_TRIAL_MAX_GAP`` iterations. An iteration that must evaluate
        the centre for its safety (the first, or the one after a step taken
        back) makes no trial; the trial waits for the next iteration. So,
        without bounds, an iteration evaluates at most one point besides
        its pairs."""
        if self._pending is not None:
            return self._pending_trial is not None
        return self._next_trial() is not None

    def _next_trial(self, alpha=None):
        """The trial point the next `ask` adds, or None (see
        `evaluates_trial`); `alpha` that ask's, if already chosen."""
        if self._kink_search is not None:
            return None
        if not (self.surrogate_step and self.nit >= self._trial_next
                and self._surrogate_seen and self._guide_average is not None):
            return None
        if self._centre_value is None and self._exact_centre_needed:
            return None
        if not (self._alpha_now() if alpha is None else alpha) < 1:
            return None
        unit = self._guide_average / np.linalg.norm(self._guide_average)
        trial = self._x - self._next_trial_length() * unit
        if self.bounds is not None:
            np.clip(trial, *self.bounds, out=trial)
        return None if np.array_equal(trial, self._x) else trial

    def _next_trial_length(self):
        """``r``: learnt once a trial was made; the first trial is as long
        as the last step (``sigma`` before any), the move it competes
        with."""
        if self._trial_length is None:
            return max(self.sigma, self.step_norm)
        return self._trial_length

    def _wants_probe(self, k):
        """Which direction this iteration's first pair probes, if any.

        Only in the adaptive mode, with two pairs or more, a guide and
        ``alpha < 1`` (``alpha = 1`` is vanilla ES, which ignores it). Two
        candidates: ``'guide'``, the moving average of the unit guiding
        directions, and ``'path'``, the moving average (decay ``1 - 1/n``)
        of the unit steps taken, from the ``n``-th iteration on. Each is
        probed at one iteration in every ``AUTO_PROBE_RECHECK`` to measure
        its squared slope (a moving average) again; at the others, the
        guide while its squared slope is at least ``AUTO_PROBE_THRESHOLD``
        times that of the random pairs, else the path on the same terms,
        else neither (``None``).
        """
        if not (self.adaptive and self.n_pairs >= 2 and k
                and self.current_alpha < 1 and self._guide_average is not None):
            return None
        phase = self.nit % AUTO_PROBE_RECHECK
        if phase == 0 or np.isnan(self._probe_gain):
            return "guide"
        # the path averages over about n iterations: not before it has them
        path = self._step_path is not None and self.nit >= self.n
        if path and (
                phase == AUTO_PROBE_RECHECK // 2 or np.isnan(self._path_gain)):
            return "path"
        bar = AUTO_PROBE_THRESHOLD * self._random_gain
        if self._probe_gain >= bar:
            return "guide"
        if path and self._path_gain >= bar:
            return "path"
        return None

    def _points_around(self, eps):
        """A new array of ``x + eps`` over ``x - eps``, clipped to the box."""
        half = self.n_pairs
        points = np.empty((2 * half, self.n))
        np.add(self._x, eps, out=points[:half])
        np.subtract(self._x, eps, out=points[half:])
        if self.bounds is not None:
            np.clip(points, *self.bounds, out=points)
        extra = []
        if self._asks_centre(self._pending_trial is not None):
            extra.append(self._x)
        if self._pending_trial is not None:
            extra.append(self._pending_trial)
        if extra:
            points = np.vstack([points] + extra)
        return points

    def _choose_alpha(self):
        """The alpha of the next sample: fixed, or from the rho estimate."""
        self.current_alpha = self._alpha_now()
        return self.current_alpha

    def _alpha_now(self):
        """The alpha the next sample would be drawn with (no state change)."""
        if self.alpha != "auto":
            return self.alpha
        if self._rho_estimator.n_pairs_seen < AUTO_WARMUP:
            return AUTO_ALPHA_START
        alpha, _ = auto_hyperparameters(
            self.rho, self.n, self._guide.rank, self.n_pairs,
            alpha_min=AUTO_ALPHA_MIN, outside_share=AUTO_OUTSIDE_SHARE,
            keep_guide=AUTO_KEEP_GUIDE)
        return alpha

    def tell(self, values, surrogate_grad=None):
        """Make one update from the values at the points of the last `ask`.

        Parameters
        ----------
        values : array_like, shape (2P + c + t,)
            ``f`` at the rows of the last `ask`, in the same order. NaN and
            infinite values are allowed (see Notes of the class).
        surrogate_grad : array_like, shape (n,), optional
            The surrogate gradient at the centre the points were asked
            around. It joins the buffer after this update and so guides the
            next `ask` (see the class Notes for the alternative order).

        Raises
        ------
        RuntimeError
            If `ask` was not called since the last `tell`.
        TypeError, ValueError
            For values or a surrogate gradient that are not real numbers or
            have the wrong shape, or a non-finite surrogate gradient.
        FloatingPointError
            If a fixed-rate step rule returns a non-finite step, the
            adaptive step or the pairs' differences leave the
            floating-point range, or the search for kinks grows its scale
            ``AUTO_KINK_TOLUPSIGMA`` times beyond its start (``f`` is
            probably unbounded below).
            After any error the state is exactly as before the call.
        """
        if self._pending is None:
            raise RuntimeError("tell() called without a pending ask(); call ask() first")
        if self._kink_search is not None:
            self._tell_kink(values, surrogate_grad)
            return
        f = self._check_values(values)
        if surrogate_grad is not None:
            surrogate_grad = check_vector(surrogate_grad, "surrogate_grad", self.n)
        exponent = self._value_exponent
        if self.adaptive and exponent is None:
            exponent = self._exponent_for(f)
        if exponent:
            f = np.ldexp(f, -exponent)
        eps, _, alpha, w_sq, k = self._pending
        trial = self._pending_trial
        with_centre = self._asks_centre(trial is not None)
        f_centre = f[2 * self.n_pairs] if with_centre else self._centre_value
        f_trial = None if trial is None else f[-1]
        f = f[:2 * self.n_pairs]
        half = self.n_pairs
        f_plus, f_minus = f[:half], f[half:]
        valid = np.isfinite(f_plus) & np.isfinite(f_minus)
        n_valid = int(np.count_nonzero(valid))
        probe_valid = self._probe_kind is not None and bool(valid[0])
        if n_valid < half:
            eps, f_plus, f_minus = eps[valid], f_plus[valid], f_minus[valid]
            w_sq = w_sq[valid]
        centre = self._x                      # the centre the points were around
        update_rho = bool(n_valid and k and alpha > 0 and self.estimate_rho)
        saved = dict(self.__dict__)           # the updates replace, not mutate
        if update_rho:                        # ... but for these
            saved["_rho_estimator"] = copy.deepcopy(self._rho_estimator)
        if self._metric is not None:
            saved["_metric"] = copy.copy(self._metric)
        self._value_exponent = exponent
        try:
            if update_rho:
                with np.errstate(over="ignore", invalid="ignore"):
                    # an overflow here raises below, where the step is made
                    self._rho_estimator.update(
                        (f_plus - f_minus) / (2 * self.sigma), w_sq,
                        alpha / self.n)
                self.rho = self._rho_estimator.rho
            if self.adaptive:
                sigma = self.sigma
                if with_centre:
                    self._note_exact(centre, f_centre)
                if trial is not None:
                    self._note_exact(trial, f_trial)
                self._centre_value = None
                # the perturbations in the coordinates of the search
                e_search = (eps if self._pending_y is None or not self._noise
                            else self._pending_y[valid])
                g = self._adaptive_update(eps, f_plus, f_minus, n_valid,
                                          f_centre, probe_valid, e_search)
                if self._kink_search is not None:
                    pass            # handed to the search for kinks just now
                elif self._metric is not None:
                    self._learn_metric(eps, f_plus, f_minus, f_centre,
                                       n_valid, centre)
                if trial is not None and self._kink_search is None:
                    self._judge_trial(trial, f_trial, centre, sigma,
                                      saved["_step_path"])
                if (self._jump_seen and self.nonmonotone == "auto"
                        and not self.n_restarts
                        and (self.converged is not None or self._stalled())):
                    self._restart()
                    g = None       # the direction of the run left behind
            else:
                g = self._fixed_rate_update(eps, f_plus, f_minus, n_valid, k,
                                            alpha)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        if f_centre is not None and np.isfinite(f_centre):
            f = np.append(f, f_centre)
        finite = f[np.isfinite(f)]
        self.fun_estimate = (self._unscaled(finite.mean()) if finite.size
                             else np.nan)
        if n_valid:
            if np.isnan(self.f_first):
                self.f_first = self.fun_estimate
                self.first_spread = self._unscaled(np.ptp(finite))
            if self.fun_estimate < self.f_best and self._kink_search is None:
                self.f_best, self.x_best = self.fun_estimate, centre
        centre_value = self.centre_value
        if centre_value is not None and centre_value < self.f_best:
            self.f_best, self.x_best = centre_value, self._x
        self.n_valid_pairs = n_valid
        self.nit += 1
        self.nfev += 2 * half + with_centre + (trial is not None)
        self._pending = None
        self._pending_trial = None
        if self._self_decay is not None and g is not None and np.any(g):
            if self._metric is not None:
                g = self._metric.gradient_of(g)     # u = A A^T grad
            if self._self_direction is None:
                self._self_direction = g.copy()
            else:
                self._self_direction *= self._self_decay
                self._self_direction += g
            if np.any(self._self_direction):
                self._push_direction(self._self_direction)
        if surrogate_grad is not None:
            self.add_surrogate_grad(surrogate_grad)

    def _search_length(self, delta):
        """Length of a move ``delta`` of the centre in the coordinates the
        perturbations are drawn in (``y`` with a metric, else ``x``), the
        scale that ``sigma`` follows."""
        if self._metric is not None:
            delta = self._metric.vector(delta)
        return float(np.linalg.norm(delta))

    def _learn_metric(self, eps, f_plus, f_minus, f_centre, n_valid, centre):
        """Update the metric from this iteration's curvatures (all pairs
        and the centre finite, the pairs long enough beside the centre for
        the rounding of ``x + eps`` not to dominate their second
        differences; the step's curvature if the line search measured
        it)."""
        step, self._step_curvature = self._step_curvature, None
        if (n_valid < self.n_pairs or self.n_pairs < 2 or f_centre is None
                or not np.isfinite(f_centre) or self._pending_y is None):
            return
        shortest = float(np.sqrt(np.min(np.einsum("ij,ij->i", eps, eps))))
        if shortest <= METRIC_X_RESOLUTION * float(np.linalg.norm(centre)):
            return
        self._metric.update(self._pending_y, f_plus, f_minus, float(f_centre),
                            step, self._noise_floor())

    def _track_probe(self, d_sq, probe_valid):
        """Update the moving averages of the squared pair slopes."""
        def average(old, new):
            w = AUTO_PROBE_WEIGHT
            return new if np.isnan(old) else (1 - w) * old + w * new

        if probe_valid:
            if self._probe_kind == "path":
                self._path_gain = average(self._path_gain, float(d_sq[0]))
            else:
                self._probe_gain = average(self._probe_gain, float(d_sq[0]))
            d_sq = d_sq[1:]
        if d_sq.size:
            self._random_gain = average(self._random_gain, float(d_sq.mean()))

    def _fixed_rate_update(self, eps, f_plus, f_minus, n_valid, k, alpha):
        """The paper's update: the step rule applied to the estimate."""
        if not n_valid:
            self.step_norm = 0.0
            return None
        beta = self._choose_beta(alpha, k)
        with np.errstate(over="ignore", invalid="ignore"):
            g = antithetic_estimate(eps, f_plus, f_minus, self.sigma, beta)
            delta, step_state = self.step.update(g, self._step_state)
            x_new = self._x + delta
        if self.bounds is not None:
            np.clip(x_new, *self.bounds, out=x_new)
        if not np.isfinite(x_new).all():
            raise FloatingPointError(
                "the update produced a non-finite centre; the step rule "
                f"{self.step!r} returned a non-finite step")
        self.step_norm = float(np.linalg.norm(x_new - self._x))
        self._x, self._step_state = x_new, step_state
        return g

    def _adaptive_update(self, eps, f_plus, f_minus, n_valid, f_centre,
                         probe_valid, e_search):
        """``step='auto'``: see `ges_minimize._stepsize` for the rule."""
        sigma = self.sigma
        last = self._last_step
        if not n_valid or (f_centre is not None and not np.isfinite(f_centre)):
            # nothing finite around this centre: go back if it was a step
            self._trial_reference = (math.inf, 0.0)
            if last is not None:
                self._x = last[3]
                self._eta /= AUTO_MAX_FACTOR
                self.n_reverted += 1
                self._exact_centre_needed = True
                self._trial_reference = (last[2], 0.0)
            self._last_step = None
            self.sigma = sigma / 2
            self.step_norm = 0.0
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            d = (f_plus - f_minus) / (2 * sigma)
            u = d @ eps
            u /= sigma
            norm_u = float(np.linalg.norm(u))
            d_sq = d * d
        if not (np.isfinite(norm_u) and np.isfinite(d_sq).all()):
            raise FloatingPointError(
                "the pair differences of f overflowed at sigma = "
                f"{sigma!r}; the objective's values exceed the "
                "floating-point range")
        slope_per_u = float(d @ d) / norm_u**2 if norm_u else 0.0
        # f at the centre: evaluated with bounds (clipped pairs are not
        # symmetric about it), else the mean of the pairs' values
        f_here = (float(np.mean(0.5 * (f_plus + f_minus))) if f_centre is None
                  else float(f_centre))
        if self._noise > 0 and self.bounds is None:
            f_here = self._track_curvature(e_search, f_plus, f_minus, f_centre,
                                           f_here)
        factor, slope_after = 1.0, 0.0
        extend = last is not None and last[4]
        if last is not None:
            slope, delta_last, f_before, x_before, _ = last
            tau, slope_after = line_search_ratio(f_before, f_here, slope)
            self._irregular = (self._irregular[1 - AUTO_KINK_WINDOW:]
                               + [not 0.5 <= tau <= 2.0])
            if self._metric is not None and last[4] and f_centre is not None:
                # f before and after the step exact, the slope too: the
                # curvature along it
                self._step_curvature = (delta_last,
                                        2.0 * (f_here - f_before - slope))
            factor = min(max(tau, 1.0 / AUTO_MAX_FACTOR), AUTO_MAX_FACTOR)
            # f_before is the window's last value (but in a pickle from
            # before the window existed, whose window starts empty)
            ceiling = max(self._window + [f_before])
            # a step that promised less than the noise of f lets one
            # measure cannot be judged by the values alone: it is kept
            # unless f rose beyond the noise, and the line search runs on
            # sums over such steps
            band = AUTO_NOISE_BAND * self._noise
            if band > 0 and -slope <= band:
                ceiling += band
                extend = False
                self._step_curvature = None
                if self._pair_curvature > 0:
                    # the curvature the pairs measure, in place of the one
                    # two noisy values imply
                    curvature = (self._pair_curvature
                                 * self._search_length(delta_last) ** 2)
                else:
                    curvature = 2.0 * (f_here - f_before - slope)
                factor = self._noisy_line_search(slope, curvature)
            if not f_here <= ceiling:
                # the step made f worse: take it back, shorter next time
                self._trial_reference = (f_before, 0.0)
                self._eta *= factor
                self._x = x_before
                self._last_step = None
                self.n_reverted += 1
                self._exact_centre_needed = True
                self.sigma = _follow(sigma,
                                     self._search_length(delta_last) * factor)
                self.step_norm = float(np.linalg.norm(delta_last))
                return None
        self._window = self._remember(f_here)
        self._note_gain(f_here)
        ceiling = max(self._window)
        self._trial_reference = (ceiling, 0.0)
        self._note_start_curvature(eps, f_plus, f_minus, f_centre)
        resolved_pairs = resolved(f_plus, f_minus, self._noise_floor())
        if not resolved_pairs.any() or norm_u == 0:
            lower = self._lower_pair_point(eps, f_plus, f_minus, f_centre)
            if lower is not None:
                # symmetric about the centre but lower on both sides: a
                # maximum or a saddle, not a plateau; move to the lowest
                self._move_to_known_point(*lower)
                return None
            # the values do not resolve this scale: search wider
            self._flat_run += 1
            self._flat_it = self.nit
            self._last_step = None
            self.sigma = self._within_box(2 * sigma)
            if self._noise > 0:
                # the noise, not a plateau: sigma keeps near this scale
                self._noise_sigma = self.sigma
            self.step_norm = 0.0
            if self._flat_run >= (AUTO_NOISE_FLAT_ITERATIONS if self._noise > 0
                                  else AUTO_FLAT_ITERATIONS):
                self.converged = "flat"
            return None
        self._flat_run = 0
        if (self._precision_stop and self._recheck_coords is None
                and not self._pairs_clipped):
            # (a recheck's pairs measure slopes into the bounds, and pairs
            # clipped to the box differ by their asymmetry: neither measures
            # the resolution of the free coordinates)
            resolution = self._resolution(f_plus, f_minus)
            self._resolutions = (
                self._resolutions[1 - AUTO_PRECISION_ITERATIONS:] + [resolution])
            self._resolution_since_gain = max(self._resolution_since_gain,
                                              resolution)
        slope_rms = math.sqrt(float(np.mean(d_sq)))
        self._slope_max = max(self._slope_max, slope_rms)
        if slope_rms > 0 and self._may_search_kinks():
            ratio = sigma / slope_rms
            if ratio > self._slope_ratio_max:
                self._slope_ratio_max, self._slope_at_max = ratio, slope_rms
            if f_centre is not None:
                self._linear = (self._linear[1 - AUTO_LINEAR_WINDOW:]
                                + [_linear_here(f_plus, f_minus, f_centre,
                                                resolved_pairs)])
            linear = (len(self._linear) == AUTO_LINEAR_WINDOW
                      and sum(self._linear) >= AUTO_LINEAR_SHARE * AUTO_LINEAR_WINDOW
                      and ratio * AUTO_LINEAR_FALL < self._slope_ratio_max)
            fall = self._slope_ratio_max / ratio
            if ((linear or fall > AUTO_KINK_SWITCH
                 or (fall > AUTO_KINK_SWITCH_AT_START
                     and self._kink_at_start(eps, f_plus, f_minus, f_centre)))
                    and slope_rms <= AUTO_KINK_GROWTH * self._slope_at_max
                    and (sum(self._irregular) >= AUTO_KINK_IRREGULAR
                         * len(self._irregular) > 0)
                    and self._resolution(f_plus, f_minus) >= AUTO_KINK_RESOLUTION):
                # sigma collapsed, the slopes did not: a kink
                self._start_kink_search(slope_rms, f_centre)
                return None
        self._track_probe(d_sq, probe_valid)
        grad_u = u.copy() if self.bounds is not None else u
        if self._eta is None:
            self._eta = sigma / norm_u           # the first step is sigma long
        else:
            self._eta *= factor
        exact = True              # whether the slope below is exact
        if self.bounds is not None:
            # no step into a bound the centre already lies on (projection);
            # such coordinates are not perturbed either, but at every
            # AUTO_BOUND_RECHECK-th iteration, which tells whether to leave
            lb, ub = self.bounds
            at_ub, at_lb = self._x >= ub, self._x <= lb
            blocked = (at_ub & (u < 0)) | (at_lb & (u > 0))
            if self._fixed is not None:
                blocked |= self._fixed
            rechecking = (not self._masked_ask and self._blocked is not None
                          and bool(self._blocked.any()))
            if self._masked_ask:
                blocked |= self._blocked & (at_ub | at_lb)
            elif rechecking and self._recheck_coords is not None:
                # only the coordinates probed are decided, by their slopes
                # (a pair that measured nothing, not finite or flat, leaves
                # its coordinate as it was)
                probed = self._recheck_coords[u[self._recheck_coords] != 0]
                decided = blocked[probed]
                blocked = self._blocked & (at_ub | at_lb)
                blocked[probed] = decided
                # held on their own measured slopes, since this iteration
                # (a new array: `tell` restores the state after an error)
                verified = self._verified_it.copy()
                verified[probed[decided]] = self.nit
                self._verified_it = verified
            self._blocked = blocked
            vertex = (self._vertex_shrinks and rechecking
                      and self._recheck_coords is not None and blocked.all())
            if not vertex:
                self._vertex_sigma = None
            if rechecking:
                # a recheck only tells which coordinates to hold: its pairs
                # also perturb the held ones, whose slopes into the bound
                # swamp the estimate of the others, and a step along it
                # was mostly taken back, each time shrinking the step
                # length until the run stalled with a coordinate held in
                # error; along coordinates, its estimate is no direction to
                # guide by either
                self._last_step = None
                self.step_norm = 0.0
                if vertex:
                    self._settle_vertex()
                return None if self._recheck_coords is not None else u
            if blocked.any():
                u[blocked] = 0.0
                exact = not self._masked_ask
        delta = -self._eta * u
        slope = -self._eta * float(d @ d)
        if extend:
            delta += (factor - 1.0) * last[1]
            slope += (factor - 1.0) * slope_after
        x_new = self._x + delta
        if self.bounds is not None:
            np.clip(x_new, *self.bounds, out=x_new)
            taken = x_new - self._x
            if not exact or not np.array_equal(taken, delta):
                # the slope along the step taken, from the estimate
                # grad f ~ slope_per_u * u (before its projection)
                exact = False
                if self._metric is None:
                    slope = slope_per_u * float(grad_u @ taken)
                else:
                    # (the estimate is a preconditioned gradient)
                    g_est = self._metric.gradient_of(grad_u)
                    along = float(g_est @ grad_u)
                    slope = (float(d @ d) / along * float(g_est @ taken)
                             if along > 0 else 0.0)
            delta = taken
        with np.errstate(over="ignore"):
            length = float(np.linalg.norm(delta))
        if not (np.isfinite(length) and np.isfinite(slope)):
            raise FloatingPointError(
                "the adaptive step overflowed: the objective's values or "
                "their differences exceed the floating-point range")
        self._last_step = (slope, delta, f_here, self._x, exact)
        self._trial_reference = (ceiling, 0.5 * slope)
        if length > 0:
            unit = delta / length
            self._step_path = (unit if self._step_path is None else
                               (1.0 - 1.0 / self.n) * self._step_path + unit)
        self._exact_centre_needed = False
        self._x = x_new
        self.step_norm = length
        self._noise_sigma *= AUTO_NOISE_SIGMA_DECAY
        self.sigma = max(_follow(sigma, self._search_length(delta)),
                         self._noise_sigma)
        x_scale = float(np.max(np.abs(x_new)))
        self._tiny_run = self._tiny_run + 1 if length <= AUTO_X_PRECISION * x_scale else 0
        if (self.sigma <= AUTO_SIGMA_TOL * self.sigma0
                or self.sigma <= AUTO_X_PRECISION * x_scale):
            self.converged = self._kink_or("sigma", slope_rms)
        elif ((self._tiny_run >= AUTO_FLAT_ITERATIONS
               or self.nit - self._gain_it >= AUTO_PLATEAU_STALL)
              and not self._surrogate_seen and self._slope_ratio_max > 0
              and self._may_search_kinks()
              and self._resolution_since_gain >= AUTO_KINK_RESOLUTION):
            # no step long enough to change f lowered it, and no surrogate
            # to follow across the steps of a staircase (whose pairs differ
            # by the steps since f last fell: not by the rounding of an f
            # computed in single precision, whose run has converged)
            self._x = self._last_step[3]     # the centre before the step
            self._start_kink_search(slope_rms, f_centre)
            return None
        elif self._tiny_run >= AUTO_FLAT_ITERATIONS:
            self.converged = "step"
        elif (self._precision_stop and self._noise == 0
              and self._flat_it >= self._gain_it
              and self.nit - self._gain_it >= AUTO_PRECISION_ITERATIONS
              and self._holds_verified()
              and (min(max(self._resolutions, default=0.0),
                       self._resolution_since_gain)
                   <= AUTO_PRECISION_RESOLUTION or self._bound_checks > 0)
              and f_here <= self._gain_value
              + AUTO_PRECISION_BAND * VALUE_PRECISION * abs(f_here)):
            # (not where a step along the surrogate, judged against the
            # pairs' mean at a wide sigma, has left the lowest value seen)
            self.converged = "precision"
        self._check_bounds_if_converged()
        return u

    def _tell_kink(self, values, surrogate_grad):
        """`tell` in `nonsmooth_mode`."""
        search = self._kink_search
        f = check_values(values, "values", (search.population_size,))
        if surrogate_grad is not None:
            surrogate_grad = check_vector(surrogate_grad, "surrogate_grad", self.n)
        points = self._pending[1]
        saved = dict(self.__dict__)
        saved["_kink_search"] = copy.deepcopy(search)
        try:
            before = search.mean
            search.tell(f)
            if not search.scale <= AUTO_KINK_TOLUPSIGMA * search.initial_sigma:
                raise FloatingPointError(
                    "the search for kinks grew its scale more than "
                    f"{AUTO_KINK_TOLUPSIGMA:g} times beyond its start, to "
                    f"{search.scale!r}: f is probably unbounded below")
            self._x = search.mean.copy()
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        finite = np.isfinite(f)
        if finite.any():
            i = int(np.argmin(np.where(finite, f, np.inf)))
            if f[i] < self.f_best:
                self.f_best, self.x_best = float(f[i]), points[i].copy()
            self.fun_estimate = float(np.mean(f[finite]))
            flat = np.ptp(f[finite]) <= VALUE_PRECISION * float(np.max(np.abs(f[finite])))
        else:
            self.fun_estimate, flat = np.nan, False
        self.n_valid_pairs = int(np.count_nonzero(finite)) // 2
        self._centre_value = None              # f at the mean is not known
        self.step_norm = float(np.linalg.norm(search.mean - before))
        self.sigma = search.sigma
        self._flat_run = self._flat_run + 1 if flat else 0
        x_scale = float(np.max(np.abs(self._x)))
        if (search.scale <= AUTO_X_PRECISION * x_scale
                or search.scale <= AUTO_SIGMA_TOL * self.sigma0
                or self._flat_run >= AUTO_FLAT_ITERATIONS):
            self.converged = "kink"
        self.nit += 1
        self.nfev += search.population_size
        self._pending = None
        if surrogate_grad is not None:
            self.add_surrogate_grad(surrogate_grad)

    def _check_bounds_if_converged(self):
        """`_check_bounds_again` if the run has just converged while it
        holds coordinates on a bound, fewer than `AUTO_BOUND_CHECKS` times
        so far."""
        if (self.converged is not None and self._blocked is not None
                and self._blocked.any()
                and self._bound_checks < AUTO_BOUND_CHECKS):
            self._check_bounds_again()

    def _check_bounds_again(self):
        """Converged with coordinates held on a bound: up to
        `AUTO_BOUND_CHECKS` times in a run, start the search afresh from
        here, every coordinate free and the initial sigma, rather than stop:
        a coordinate held in error by noisy estimates, with the step length
        collapsed around it, looks converged."""
        self._bound_checks += 1
        # the precision stop starts afresh too: f is measured falling again
        # from the wider scale, down to the lowest value seen before
        self._gain_it, self._gain_value = self.nit, math.inf
        self.converged = None
        self._blocked = self._vertex_sigma = None
        self.sigma = self._within_box(self.sigma0)
        self._eta = None
        self._last_step = None
        self._tiny_run = self._flat_run = 0
        self._exact_centre_needed = True

    def _kink_or(self, reason, slope_rms):
        """`reason`, or ``'kink'`` when the pairs' slopes have not vanished:
        above `AUTO_KINK_SLOPE` of the largest the run measured. (Not
        applied to ``'step'``: an f computed in single precision, say, is
        piecewise constant at the scale of its last steps, and there the
        pairs measure its rounding, not a kink.)"""
        largest = self._slope_max       # 0 in pickles from before the test
        if largest > 0 and slope_rms > AUTO_KINK_SLOPE * largest:
            return "kink"
        return reason

    def _lower_pair_point(self, eps, f_plus, f_minus, f_centre):
        """The move to the lowest point of the pairs, and f there, if it lies
        below ``f`` at the centre beyond the values' precision and noise
        (None otherwise, without ``f`` at the centre, or with pairs clipped
        to the box, which are not the centre plus and minus `eps`).
        Antithetic differences vanish at a point about which f is
        symmetric, a maximum or a saddle (``(|x|^2 - 1)^2`` from 0), where
        the values were flat to them while every pair was below the
        centre; the run stopped there as converged."""
        if self._pairs_clipped or f_centre is None or not np.isfinite(f_centre):
            return None
        values = np.concatenate([f_plus, f_minus])    # the finite pairs
        i = int(np.argmin(values))
        margin = max(VALUE_PRECISION * abs(float(f_centre)), self._noise_floor())
        if not values[i] < float(f_centre) - margin:
            return None
        delta = eps[i] if i < len(f_plus) else -eps[i - len(f_plus)]
        return delta.copy(), float(values[i])

    def _move_to_known_point(self, delta, value):
        """Move the centre by `delta` to a point where ``f = value`` was
        measured (no step to judge, no evaluation of the centre needed)."""
        self._x = self._x + delta
        self._centre_value = value
        self._window = self._remember(value)
        self._note_gain(value)
        self._last_step = None
        self._exact_centre_needed = False
        self._flat_run = 0
        self.step_norm = float(np.linalg.norm(delta))
        self.converged = None

    def _may_search_kinks(self):
        """Whether the run may be handed to `KinkSearch`: the switch on,
        without bounds, with a deterministic f, ``n <= AUTO_KINK_MAX_DIM``,
        and no jump seen (those runs keep the non-monotone restart)."""
        return (self._kink_switch and self.bounds is None and self._noise == 0
                and self.n <= AUTO_KINK_MAX_DIM and not self._jump_seen)

    def _start_kink_search(self, slope_rms, f_centre):
        """Hand the run to `KinkSearch`, from this centre at the scale sigma
        had when it was last in step with the slopes; `f_centre` is f at
        the centre (None if not measured)."""
        self._kink_search = KinkSearch(
            self._x, self._slope_ratio_max * min(slope_rms, self._slope_at_max))
        # from here on the best point is the best evaluated one (the
        # estimates that chose x_best so far may be below f there): the
        # centre, if its value is known
        exact = f_centre is not None and np.isfinite(f_centre)
        self.f_best = self._unscaled(f_centre) if exact else np.inf
        self.x_best = self._x.copy()
        self._kink_start = self._x.copy()
        self._last_step = None
        self.step_norm = 0.0

    def _kink_at_start(self, eps, f_plus, f_minus, f_centre):
        """Whether the centre is still x0 and the pairs' curvature there,
        the median of ``(f(x + eps) + f(x - eps) - 2 f(x)) / |eps|^2``
        (measured when ``f(x)`` is), has grown `AUTO_KINK_CURVATURE_GROWTH`
        times since the first iteration (called once sigma has fallen
        `AUTO_KINK_SWITCH_AT_START` times below its scale in step with the
        slopes)."""
        start = self._start_curvature
        # (not in a pickle from before the test, whose start is infinite)
        if start is None or start == math.inf or not np.array_equal(self._x, self._x0):
            return False
        curvature = _median_curvature(eps, f_plus, f_minus, f_centre)
        return bool(curvature is not None
                    and curvature > AUTO_KINK_CURVATURE_GROWTH * start)

    def _note_start_curvature(self, eps, f_plus, f_minus, f_centre):
        """Record the pairs' curvature at x0 at the first iteration that
        measures it (see `_kink_at_start`); positive ones only."""
        if self._start_curvature is None and self.bounds is None:
            curvature = _median_curvature(eps, f_plus, f_minus, f_centre)
            if curvature is not None:
                self._start_curvature = curvature if curvature > 0 else math.inf

    @staticmethod
    def _resolution(f_plus, f_minus):
        """The pairs' largest difference over the largest value (> 0 where
        some difference is)."""
        return float(np.max(np.abs(f_plus - f_minus))
                     / max(np.max(np.abs(f_plus)), np.max(np.abs(f_minus))))

    def _within_box(self, sigma):
        """`sigma`, at most the diagonal of a bounded box: pairs longer than
        the box are clipped to chords across it, whose differences say
        nothing of the slope at the centre."""
        if self.bounds is None:
            return sigma
        diagonal = float(np.linalg.norm(self.bounds[1] - self.bounds[0]))
        # (a box of one point, every coordinate fixed, has no scale to keep)
        return min(sigma, diagonal) if 0 < diagonal < math.inf else sigma

    def _noise_floor(self):
        """The smallest difference of values that is not noise:
        `AUTO_NOISE_RESOLUTION` standard deviations of one value (0 for a
        deterministic ``f``)."""
        return AUTO_NOISE_RESOLUTION * self._noise

    def _noisy_line_search(self, slope, curvature):
        """The factor of the step length after a step that the noise of
        ``f`` did not let the values judge (its promised decrease `slope`
        and the curvature of ``f`` along it, ``delta^T H delta``): the
        minimum of the parabola of `line_search_ratio`, with discounted
        sums over such steps (each scaled to a unit step length) in place
        of one step's slope and curvature, so that the noise averages
        out."""
        eta = self._eta
        decay = AUTO_NOISE_DECAY
        s_slope, s_curvature = self._noisy_ls
        s_slope = decay * s_slope - slope / eta
        s_curvature = decay * s_curvature + curvature / eta ** 2
        self._noisy_ls = (s_slope, s_curvature)
        best = s_slope / s_curvature if s_curvature > 0 else math.inf
        return min(max(best / eta, 1.0 / AUTO_NOISE_MAX_FACTOR),
                   AUTO_NOISE_MAX_FACTOR)

    def _track_curvature(self, e, f_plus, f_minus, f_centre, f_here):
        """With a noisy ``f``: update `_pair_curvature`, the discounted mean
        of the curvatures ``(f(x + eps) + f(x - eps) - 2 f(x)) / |e|^2``
        that the pairs measure when ``f`` at the centre is known (`e` the
        perturbations in the coordinates of the search, ``y`` with a
        metric); return `f_here`, or, when the mean of the pairs' values
        stands in for ``f`` at the centre, that mean less the part the
        curvature adds to it. The noise asks for a ``sigma`` large beside
        the distance to the optimum, where the pairs measure the curvature
        well and the mean of their values overstates ``f`` at the centre
        by far more than the noise."""
        size = np.einsum("ij,ij->i", e, e)
        if f_centre is None:
            if self._pair_curvature > 0:
                f_here -= 0.5 * self._pair_curvature * float(size.mean())
            return f_here
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            h = (f_plus + f_minus - 2.0 * float(f_centre)) / size
        if h.size and np.isfinite(h).all():
            w = AUTO_NOISE_DECAY
            mean = float(h.mean())
            self._pair_curvature = (mean if self._pair_curvature == 0.0
                                    else w * self._pair_curvature + (1 - w) * mean)
        return f_here

    def _note_exact(self, x, value):
        """Record ``f(x) = value`` measured exactly; when ``f`` was already
        measured at this very point, the difference of the two values is a
        sample of the noise of ``f``, and `noise` (the standard deviation
        of one value) is estimated again from the latest
        `AUTO_NOISE_SAMPLES` samples. Lists are replaced, not mutated
        (`tell` restores the state after an error)."""
        if not np.isfinite(value):
            return
        self._note_gain(value)
        for x_seen, f_seen in self._exact_values:
            if np.array_equal(x_seen, x):
                samples = self._noise_samples + [0.5 * (value - f_seen) ** 2]
                self._noise_samples = samples[-AUTO_NOISE_SAMPLES:]
                self._noise = math.sqrt(float(np.mean(self._noise_samples)))
                break
        self._exact_values = (self._exact_values
                              + [(x.copy(), float(value))])[-AUTO_NOISE_MEMORY:]

    def _holds_verified(self):
        """Whether no coordinate is held on a bound, or every held one was
        found, by its own slope in a recheck since f last fell, to push
        outward (a minimum on the box's faces, not a coordinate held in
        error)."""
        if self._blocked is None or not self._blocked.any():
            return True
        if not self._coordinate_rechecks:
            return False
        return bool(np.all(self._verified_it[self._blocked & self._free()]
                           >= self._gain_it))

    def _free(self):
        """The coordinates that the bounds leave free to move (all but
        those whose two bounds are equal)."""
        return np.ones(self.n, dtype=bool) if self._fixed is None else ~self._fixed

    def _settle_vertex(self):
        """With every coordinate held on a bound (each iteration a recheck,
        the centre fixed): once each has been found at this sigma, by its
        own slope, to push outward, shrink sigma `AUTO_VERTEX_SHRINK` times
        (a one-sided difference over a wide sigma can rise where the slope
        at the bound points inward), and stop as ``'sigma'`` once sigma is
        below `AUTO_SIGMA_TOL` of its start, or as ``'precision'`` once the
        differences have vanished into the rounding of f at some scale."""
        if self._vertex_sigma is None:
            self._vertex_from = self.nit
        if self.sigma != self._vertex_sigma:
            self._vertex_sigma, self._vertex_it = self.sigma, self.nit
        if not np.all(self._verified_it[self._free()] >= self._vertex_it):
            return
        if (self._precision_stop and self._noise == 0
                and self._flat_it >= self._vertex_from):
            self.converged = "precision"
        else:
            self.sigma /= AUTO_VERTEX_SHRINK
            if self.sigma <= AUTO_SIGMA_TOL * self.sigma0:
                self.converged = "sigma"
        self._check_bounds_if_converged()

    def _coordinates_to_recheck(self):
        """With bounds, in an iteration that rechecks the coordinates held on
        a bound (every `AUTO_BOUND_RECHECK`-th, or every one while all are
        held), the coordinate each pair probes: the held ones in turn (but
        those whose bounds are equal). Else None."""
        if (not self.adaptive or self.bounds is None or self._masked_ask
                or self._blocked is None
                or not self._blocked.any() or not self._coordinate_rechecks):
            return None
        held = np.flatnonzero(self._blocked & self._free())
        if not held.size:
            return None
        turn = (self._recheck_turn + np.arange(self.n_pairs)) % held.size
        self._recheck_turn = int((self._recheck_turn + self.n_pairs) % held.size)
        return held[turn]

    def _best_is_candidate(self):
        """Whether the final point of a run is chosen among candidates that
        include the best centre `x_best` (adaptive mode: with non-monotone
        acceptance, searching for kinks, or after a fresh start to check
        the coordinates held on bounds, each of which can leave a better
        point behind)."""
        return bool(self.adaptive and (
            self._window_size > 1 or self.nonsmooth_mode
            or (self._precision_stop and self._bound_checks > 0)))

    def _note_gain(self, value):
        """Record the iteration if `value`, a value of f measured at the
        centre or a trial point, or the pairs' estimate of f at the centre,
        is below the lowest so far by more than the values' precision."""
        if value < self._gain_value - VALUE_PRECISION * abs(value):
            self._gain_value, self._gain_it = float(value), self.nit
            self._resolution_since_gain = 0.0

    def _remember(self, value):
        """The window of the latest centres' values with `value` added (a
        new list: `tell` restores the state after an error)."""
        return (self._window + [value])[-self._window_size:]

    def _note_rise(self, rise, scale):
        """Record the rise of a failed trial (the next one is half as long)
        and whether the latest `AUTO_JUMP_TRIALS` show a jump: rises within
        a factor 2 of each other while the length fell 2^3 times. Near a
        minimum of a smooth ``f`` they would shrink like the length
        squared. A rise not above `AUTO_JUMP_PRECISION` of `scale` (the
        size of the values compared) is rounding, and one not above
        `AUTO_NOISE_RESOLUTION` times the noise of ``f`` is noise: either
        starts afresh."""
        floor = max(AUTO_JUMP_PRECISION * scale, self._noise_floor())
        if not (np.isfinite(rise) and rise > floor):
            self._rises = []
            return
        rises = (self._rises + [float(rise)])[-AUTO_JUMP_TRIALS:]
        self._rises = rises
        if len(rises) == AUTO_JUMP_TRIALS and min(rises) >= 0.5 * max(rises):
            self._jump_seen = True

    def _stalled(self):
        """Whether the best value fell by less than `AUTO_STALL_SHARE` of
        its fall from the first value over the last `AUTO_STALL_ITERATIONS`
        iterations (checked at every such interval)."""
        if (self.nit + 1) % AUTO_STALL_ITERATIONS:
            return False
        mark, self._stall_mark = self._stall_mark, self.f_best
        return mark - self.f_best <= AUTO_STALL_SHARE * (self.f_first - self.f_best)

    def _restart(self):
        """``nonmonotone='auto'``: start again from ``x0`` with the
        non-monotone rule over `AUTO_RESTART_WINDOW` centres, keeping the
        counts, the best centre and the generator."""
        fresh = GuidedES(self._x0, rng=self.rng,
                         nonmonotone=AUTO_RESTART_WINDOW, **self._settings)
        state = fresh.__dict__
        for name in ("nit", "nfev", "njev", "x_best", "f_best", "f_first",
                     "first_spread", "n_reverted", "n_surrogate_steps",
                     "nonmonotone", "_jump_seen", "_stall_mark",
                     "_exact_values", "_noise_samples", "_noise",
                     "_value_exponent"):
            state[name] = self.__dict__[name]
        state["n_restarts"] = self.n_restarts + 1
        state["_gain_it"] = self.nit
        self.__dict__.clear()
        self.__dict__.update(state)

    def _judge_trial(self, trial, f_trial, centre, sigma, step_path):
        """The surrogate step (see `ges_minimize._stepsize`): move to the
        trial point, asked for around `centre` with perturbations of scale
        `sigma`, if ``f`` there is below the centre's value by more than
        half the decrease that the step just made promises; adapt the
        trial's length and how often it is made. `step_path` is the path
        of the steps taken before this iteration's step, which is restored
        when the trial point is taken instead of that step."""
        reference, gain = self._trial_reference
        margin = AUTO_NOISE_TRIAL_MARGIN * self._noise     # 0 without noise
        if np.isfinite(f_trial) and f_trial < reference + gain - margin:
            delta = trial - centre
            self._x = trial
            self._last_step = None
            # the step it replaces leaves the path of the steps taken; the
            # move does not join it (it follows the guide, and the path is
            # there to find what the guide misses)
            self._step_path = step_path
            self._centre_value = float(f_trial)
            self._window = self._remember(self._centre_value)
            self._exact_centre_needed = False
            self._trial_length *= 2.0
            self._trial_gap = 1
            self.n_surrogate_steps += 1
            self.step_norm = float(np.linalg.norm(delta))
            self.sigma = _follow(sigma, self._search_length(delta))
            self._tiny_run = self._flat_run = 0
            self.converged = None
            self._rises = []
        else:
            if not f_trial < reference:       # not even below the centre
                self._trial_length *= 0.5
                self._note_rise(f_trial - reference,
                                max(abs(f_trial), abs(reference)))
            else:
                self._rises = []
            self._trial_gap = min(2 * self._trial_gap, AUTO_TRIAL_MAX_GAP)
        self._trial_next = self.nit + self._trial_gap

    def _choose_beta(self, alpha, k):
        """The beta of this update: fixed, or optimal for alpha and rho."""
        self.current_beta = self.beta
        if self.beta == "auto":
            _, beta = auto_hyperparameters(self.rho, self.n, k, self.n_pairs,
                                           alpha=alpha)
            self.current_beta = AUTO_BETA_START if np.isnan(beta) else beta
        return self.current_beta

    def _check_values(self, values):
        with_trial = self._pending_trial is not None
        rows = 2 * self.n_pairs + self._asks_centre(with_trial) + with_trial
        return check_values(values, "values", (rows,))
