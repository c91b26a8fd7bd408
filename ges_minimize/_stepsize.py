"""Step length and perturbation scale adapted from the values (``step='auto'``).

The adaptive mode of `GuidedES` moves the centre along the raw antithetic
estimate ``u = sum_i d_i v_i``, where ``v_i = eps_i / sigma`` and
``d_i = (f(x + eps_i) - f(x - eps_i)) / (2 sigma)``, by a step ``-eta u``
whose length ``eta`` is learnt from the values, never given by the user:

- For a quadratic (or any f at a scale where it is locally quadratic) the
  pair difference ``d_i`` is the exact directional derivative along
  ``v_i``, so the slope of ``f`` along the step ``delta = -eta u`` is known
  before the step is taken: ``D = grad f . delta = -eta sum_i d_i^2``.
- The next iteration's pairs are drawn around the new centre; the mean of
  their values, ``(f(x + eps) + f(x - eps)) / 2 = f(x) + O(sigma^2)``,
  estimates ``f`` there at no extra evaluation. With ``f`` before the step,
  the slope ``D`` and ``f`` after it, the parabola along the step gives the
  multiple ``tau`` of the step that would have been best
  (`line_search_ratio`).
- ``eta`` is multiplied by ``tau`` (clipped to ``[1/4, 4]``), and the
  next step also moves along the previous one by ``tau - 1`` of it: a line
  search along each step, one iteration late and free of evaluations.
- A step after which the estimate of ``f`` rose is taken back: the centre
  returns to where it was (the pairs drawn around the rejected centre are
  not used) and ``eta`` shrinks. The centre's estimated value therefore
  never increases, and the run cannot diverge. (With ``nonmonotone=M``
  a step is taken back only when the estimate rose above the largest
  value of the last ``M`` centres, the non-monotone rule of Grippo,
  Lampariello and Lucidi, and the run still cannot diverge.) At the first iteration and
  after a step taken back, ``f`` itself is evaluated at the centre (one
  extra evaluation): an estimate made with a ``sigma`` much larger than the
  problem's scale overstates ``f`` by ``O(sigma^2)`` and could let a bad
  step pass, which the exact value prevents for convex ``f``. When a
  metric is learnt (``metric='full'``, `ges_minimize._metric`), the centre
  is evaluated at every iteration, and the line search then also gives
  the curvature along each step.
- ``sigma`` follows the step length, ``sigma = AUTO_SIGMA_RATIO * |delta|``
  (changing by at most a factor 2 per iteration), so that the bias of the
  centre estimate, ``O(sigma^2)``, stays a small fraction of the decrease a
  step makes. When no pair resolves a difference (the values are equal to
  their precision, as on a plateau of a piecewise-constant objective),
  ``sigma`` doubles, as P-RGF's safeguard does [1]_.
- When ``f`` is noisy, its noise is estimated from values measured twice
  at one point (zero for a deterministic ``f``, which then runs exactly as
  without it). A pair difference must then exceed six standard deviations
  of one value to count as resolved, and ``sigma`` stays near the scale at
  which the pairs last rose above the noise. The pairs' second
  differences give the curvature of ``f``; a step that promised a
  decrease within one standard deviation is kept unless ``f`` rose beyond
  that, and the next length comes from the parabola with that curvature,
  over discounted sums of such steps (a line search fed the noise of
  single values shrinks the step to nothing). Where the pairs' mean stands
  in for ``f`` at the centre, the part the curvature adds to it is taken
  off; a trial point along the surrogate must beat the centre by three
  standard deviations; the metric learns only from second differences
  above six; and the values are declared flat after 20 doublings of
  ``sigma``, not 10.

- With two pairs or more and a guide, the first pair probes the moving
  average (decay 0.8) of the unit guiding directions instead of a random
  direction, while its squared slope ``d_1^2`` (a moving average) is at
  least 8 times that of the random pairs, and at every tenth iteration to
  measure it again. The average of recent surrogate gradients points along
  the valleys that the single ones zigzag across, and the exact slope along
  it lets the line search follow it, much as a search direction from a
  guiding prior does in P-RGF [1]_ and the evolution path does in CMA-ES
  [3]_. A guide no better than a random pair stops being probed.
- When the guide is not probed, the first pair may probe instead the
  moving average of the unit steps taken, with decay ``1 - 1/n`` (a memory
  of about ``n`` iterations, like the evolution paths of CMA-ES [3]_), from
  the ``n``-th iteration on, when it has that many steps to average. It is
  probed on the same terms (its squared slope at least 8 times the random
  pairs', measured again at every tenth iteration, five iterations after
  the guide's check). A surrogate with a steady bias is blind along one
  direction: the search drives the gradient into the part of space where
  the bias cancels the surrogate's signal (on the paper's quadratic the
  true gradient ends up nearly opposite to the bias, so each surrogate
  gradient carries little of it). The random pairs still see that part of
  the gradient, and the steps they cause, consistent in sign over many
  iterations, add up along it while their noise averages out. Probing the
  average lets the line search remove what the guide cannot, as a past
  descent direction does as a guide in [4]_.

- With surrogate gradients, the surrogate step: at every iteration while
  it succeeds, one more point is evaluated, ``x - r m / |m|``, where ``m``
  is the moving average of the unit guiding directions (the one the probe
  pair measures) and ``r`` a length of its own, starting at the length of
  the last step (the move it competes with). When ``f`` there is lower
  than the centre's value by more than half the decrease the step just
  made promises (the step's slope over two, the decrease of an exact line
  search on a parabola), the centre moves to that point instead of taking
  the step, ``r`` doubles, and ``sigma`` follows the length of that move
  as it follows a step's. Otherwise the step stands, and ``r`` halves if
  the trial was not even lower than the centre; the next trial waits
  twice as many iterations as the last one, up to ``AUTO_TRIAL_MAX_GAP``,
  so a useless surrogate costs about one evaluation in 16 iterations. The
  value at a point taken is known, so the next iteration compares its
  step with ``f`` itself there. An iteration evaluates at most one point
  besides its pairs: the first iteration and the one after a step taken
  back evaluate the centre and make no trial, and while a metric is
  learnt a trial takes the centre's place (the pairs' mean then stands in
  for ``f`` at the centre, and the metric learns nothing from that
  iteration). With bounds, where the centre is evaluated at every
  iteration, the surrogate step is off unless asked for.
  This is the injection of an external candidate into an evolution
  strategy, as a gradient step is injected into CMA-ES [5]_, with a step
  length found by success, not given: on a piecewise-constant objective a
  surrogate (a straight-through gradient, say) points across plateaus
  that pairs at the scale of the last steps do not resolve, and along a
  curved valley the average of recent surrogate gradients points along
  the valley farther than the line search along one estimate reaches.

- Where ``f`` has kinks, the line search along the estimate stops at the
  kinks nearest the centre, ``sigma`` follows the short steps down, and the
  slopes the pairs measure stay those of the kinks instead of vanishing
  with the step as they do where ``f`` is differentiable. ``sigma`` over
  the pairs' root-mean-square slope then falls far below its largest value
  in the run (on smooth test functions it fell at most 5.4e3 times below
  it, at kinks 1e5 to 1e12 times), and at 1e5 the adaptive mode hands the
  run to a covariance matrix adaptation evolution strategy
  (`ges_minimize._kink`), which ranks values and needs no slope [3]_.
  Where ``f`` is piecewise linear (an L1 or max norm), the hand-over comes
  within the first few dozen iterations: between kinks the pairs' second
  differences ``f(x + eps) + f(x - eps) - 2 f(x)`` vanish beside their
  first differences, where a differentiable ``f`` keeps them at about
  ``sigma`` over the distance to the minimum times the first ones, and
  once that is seen in a fifth of 20 iterations that measured ``f`` at
  the centre, a fall of 10 in ``sigma`` over the slopes is enough.

All of it is invariant to ``f -> a f + b`` (``a > 0``): ``tau`` is a ratio of
differences of ``f``, and ``eta`` starts so that the first step has the
length of the initial ``sigma``. A rescaling of ``x`` changes only how many
iterations ``sigma`` takes to reach the problem's scale (a factor 2 per
iteration).

References
----------
.. [1] S. Cheng, Y. Dong, T. Pang, H. Su and J. Zhu, "Improving black-box
   adversarial attacks with a transfer-based prior", NeurIPS 2019.
   arXiv:1906.06919.
.. [2] J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed.,
   Springer 2006, section 3.5 (interpolation in line searches).
.. [3] N. Hansen, "The CMA evolution strategy: a tutorial", 2016.
   arXiv:1604.00772.
.. [4] F. Meier, A. Mujika, M. M. Gauy and A. Steger, "Improving gradient
   estimation in evolutionary strategies with past descent directions",
   2019. arXiv:1910.05268.
.. [5] N. Hansen, "Injecting external solutions into CMA-ES", 2011.
   arXiv:1110.4181.
"""

import math

import numpy as np

__all__ = ["line_search_ratio", "AUTO_N_PAIRS", "AUTO_SUBSPACE_DIM",
           "AUTO_ALPHA", "AUTO_SIGMA_RATIO", "AUTO_MAX_FACTOR",
           "AUTO_PROBE_DECAY", "AUTO_PROBE_THRESHOLD", "AUTO_PROBE_RECHECK",
           "AUTO_PROBE_WEIGHT", "AUTO_TRIAL_MAX_GAP"]

#: Antithetic pairs per iteration in the adaptive mode.
AUTO_N_PAIRS = 2
#: Surrogate gradients kept in the adaptive mode (at most n).
AUTO_SUBSPACE_DIM = 10
#: Share of the search variance on the full space in the adaptive mode.
AUTO_ALPHA = 0.75
#: ``sigma`` as a fraction of the last step's length.
AUTO_SIGMA_RATIO = 0.1
#: Largest factor by which ``eta`` changes in one iteration.
AUTO_MAX_FACTOR = 4.0
#: Decay of the moving average of unit guiding directions that the first
#: pair probes.
AUTO_PROBE_DECAY = 0.8
#: The probe pair is kept while its squared slope (moving average) is this
#: many times that of the random pairs.
AUTO_PROBE_THRESHOLD = 8.0
#: ... and used at every this many iterations whatever it was.
AUTO_PROBE_RECHECK = 10
#: Weight of the newest iteration in those moving averages.
AUTO_PROBE_WEIGHT = 0.2
#: Longest interval, in iterations, between two trials of the surrogate
#: step while they keep failing.
AUTO_TRIAL_MAX_GAP = 16
#: Relative precision below which a pair difference counts as zero.
VALUE_PRECISION = 1e-13


def line_search_ratio(f_before, f_after, slope):
    """The best multiple of a step, from the parabola along it.

    Parameters
    ----------
    f_before, f_after : float
        ``f`` at the start and at the end of a step ``delta``.
    slope : float
        ``grad f . delta`` at the start, < 0 (a descent step).

    Returns
    -------
    tau : float
        Minimiser of the parabola ``phi(t) = f_before + slope t + q t^2 / 2``
        through ``phi(1) = f_after``: ``tau = -slope / q`` with
        ``q = 2 (f_after - f_before - slope)``; ``inf`` when ``q <= 0``
        (``f`` along the step is linear or concave: the step was not too
        long).
    slope_after : float
        ``phi'(1) = slope + q``, the slope along ``delta`` at its end.

    Examples
    --------
    >>> from ges_minimize._stepsize import line_search_ratio
    >>> f = lambda t: (t - 0.25) ** 2          # along a step from t = 0 to 1
    >>> line_search_ratio(f(0.0), f(1.0), -0.5)
    (0.25, 1.5)
    """
    q = 2.0 * (f_after - f_before - slope)
    tau = -slope / q if q > 0 else math.inf
    return tau, slope + q


def resolved(f_plus, f_minus, noise=0.0):
    """Whether each pair's difference is above the values' precision and
    above `noise` (a multiple of the standard deviation of one value)."""
    scale = np.maximum(np.abs(f_plus), np.abs(f_minus))
    return np.abs(f_plus - f_minus) > np.maximum(VALUE_PRECISION * scale, noise)
