"""``minimize_guided_es``: the loop over `GuidedES`, in scipy's shape."""

import collections
import copy
import difflib
import enum
import inspect
import math
import numbers
import os
import pickle
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy
from scipy.optimize import OptimizeResult, OptimizeWarning

from ._evaluate import BatchEvaluator, as_scalar
from ._guided_es import AUTO_KINK_SLOPE, GuidedES
from ._validation import check_int, check_real

__all__ = ["minimize_guided_es", "Status"]

#: Consecutive iterations with no finite pair after which a run gives up.
MAX_NONFINITE_ITERATIONS = 10
#: A run has diverged when the estimate of f at its centre exceeds the best
#: estimate by this many times the first iteration's spread (the initial gap
#: to the best, or the first values' range if larger).
DIVERGENCE_FACTOR = 1e6
#: With a noisy f (`GuidedES.noise` > 0), the adaptive mode's final point is
#: chosen between the last centre and the best centre by the mean of this
#: many evaluations at each (fewer if the budget has fewer left), the best
#: centre only if lower by more than ``NOISY_FINAL_MARGIN`` standard errors
#: of the difference, from the spread of those values (the noise may differ
#: between the two points).
NOISY_FINAL_EVALUATIONS = 10
#: An adaptive run that stops as converged with its best value more than
#: this many times the first iteration's scale below its first estimate
#: has followed an f unbounded below (`Status.OVERFLOW`).
UNBOUNDED_FALL = 1e10
NOISY_FINAL_MARGIN = 2.0


class Status(enum.IntEnum):
    """Why a run of `minimize_guided_es` ended (``OptimizeResult.status``)."""

    FTARGET = 0
    MAXITER = 1
    MAXFEV = 2
    FTOL = 3
    XTOL = 4
    NONFINITE = 5
    CONVERGED = 6
    DIVERGED = 7
    MAXTIME = 8
    NONSMOOTH = 9
    OVERFLOW = 10
    CALLBACK = 99


MESSAGES = {
    Status.FTARGET: "The objective reached `ftarget`.",
    Status.MAXITER: "Maximum number of iterations has been exceeded.",
    Status.MAXFEV: "Maximum number of function evaluations has been exceeded.",
    Status.FTOL: "The objective decreased by less than `ftol` over the last "
                 "`patience` iterations.",
    Status.XTOL: "The centre moved by less than `xtol` at each of the last "
                 "`patience` iterations.",
    Status.NONFINITE: "The objective was non-finite at every evaluated point "
                      f"for {MAX_NONFINITE_ITERATIONS} consecutive iterations.",
    Status.CONVERGED: "Converged: the adapted step or sigma fell below the "
                      "precision of x, or the values of f stopped resolving "
                      "any scale tried, or stopped decreasing beyond their "
                      "precision.",
    Status.DIVERGED: "The run diverged: the estimate of f at the centre rose "
                     f"{DIVERGENCE_FACTOR:.0e} times its initial gap above the "
                     "best value; res.x is the best centre of the run. Lower "
                     "the learning rate, or use step='auto'.",
    Status.MAXTIME: "The wall-clock budget `maxtime` has been exceeded.",
    Status.NONSMOOTH: "Stopped where f is not differentiable: the adapted "
                      "sigma fell below the precision of x while the "
                      "slopes of f between the pairs stayed above "
                      f"{AUTO_KINK_SLOPE:g} of the largest measured. res.x may be "
                      "a minimum at a kink of f or at the edge of the region "
                      "where f is finite, or a point from which the random "
                      "pairs no longer find a descent; not a success.",
    Status.OVERFLOW: "Stopped: f is probably unbounded below (the step or "
                     "the differences of f left the floating-point range, "
                     "or f fell more than 1e10 times its initial scale "
                     "while the steps outgrew sigma), or its values exceed "
                     "1e308; res.x is the best centre of the run; not a "
                     "success.",
    Status.CALLBACK: "`callback` raised `StopIteration`.",
}
SUCCESS = {Status.FTARGET, Status.FTOL, Status.XTOL, Status.CONVERGED}

DEFAULT_MAXITER = 10_000


def minimize_guided_es(fun, x0, surrogate_grad=None, *, args=(), jac=None,
                       sigma=0.1, alpha=None, beta=2.0, n_pairs=None,
                       subspace_dim=None, step=None, learning_rate=None,
                       self_guided=None, estimate_rho=None, metric=None,
                       surrogate_step=None, nonmonotone=None, maxiter=None,
                       maxfev=None,
                       maxtime=None, ftarget=None, ftol=None, xtol=None,
                       patience=100, tol=None, bounds=None,
                       callback=None, rng=None, disp=False, n_jobs=None,
                       vectorized=False, checkpoint=None, checkpoint_every=1,
                       hess=None, hessp=None, constraints=(),
                       **unknown_options):
    """Minimise a function with Guided Evolutionary Strategies.

    Guided ES estimates the gradient from antithetic pairs of function
    values at perturbations drawn from a Gaussian elongated along the span
    of recent *surrogate gradients* — directions correlated with the true
    gradient but possibly biased — and follows the estimate with a step
    rule. It outperforms both descent on the biased surrogate and plain
    (vanilla) ES, which ignores it [1]_.

    Also usable as a custom method of `scipy.optimize.minimize`:
    ``minimize(fun, x0, method=minimize_guided_es, jac=grad, options={...})``.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``, the objective. With ``jac=True`` it
        returns ``(f, surrogate_gradient)``.
    x0 : array_like, shape (n,)
        Starting point; finite, inside `bounds`.
    surrogate_grad : callable, optional
        ``surrogate_grad(x, *args) -> array (n,)``. Without one (and without
        `jac`) the method is vanilla ES.
    args : tuple, optional
        Extra arguments of `fun` and `surrogate_grad`.
    jac : callable or bool, optional
        scipy's name for `surrogate_grad`; ``True`` means `fun` returns the
        value and the surrogate gradient together. Give `jac` or
        `surrogate_grad`, not both.
    step : {'auto', 'sgd', 'momentum', 'adam'} or object, optional
        Step rule. ``'auto'``, the default unless `learning_rate` is given,
        adapts the step length and `sigma` from the values evaluated and
        stops by itself once converged (`Status.CONVERGED`). ``'sgd'``,
        ``'momentum'`` and ``'adam'`` apply a fixed learning rate to the
        gradient estimate; an object with methods ``init(x) -> state`` and
        ``update(g, state) -> (delta, state)`` is a fixed-rate rule too.
        ``minimize_guided_es(..., **PAPER_SETTINGS)`` runs the paper's
        fixed-rate SGD.
    learning_rate : float, optional
        Learning rate of a fixed-rate rule (defaults 0.2 'sgd', 0.02
        'momentum', 0.01 'adam'); giving it without `step` selects 'sgd'.
        Not accepted with ``step='auto'``.
    sigma, alpha, beta, n_pairs, subspace_dim
        Parameters of the method, as in `GuidedES`: perturbation scale
        (0.1; the initial one with ``step='auto'``; in [1e-100, 1e100]),
        share of the variance outside the subspace (a number in [0, 1] or
        ``'auto'``), scale of the estimate for the fixed-rate rules (2, in
        (0, 1e100], or ``'auto'``), antithetic pairs ``P`` per iteration and
        number ``k`` of surrogate gradients kept (defaults depend on `step`,
        see `GuidedES`). ``alpha='auto'`` chooses alpha at every iteration
        from an online estimate of the guide's correlation ``rho`` with the
        true gradient, made from the values the method evaluates anyway.
    self_guided : bool, float or None, default None
        Also guide the search by a moving average of the method's own
        gradient estimates (Self-Guided ES; a float sets the average's
        decay, see `GuidedES`); usable without any surrogate. None: on with
        ``step='auto'``, off with the fixed-rate rules.
    estimate_rho : bool or None, default None
        Keep the online estimate ``rho`` (reported in the results); None:
        only when `alpha` or `beta` is ``'auto'`` (see `GuidedES`).
    metric : {'auto', 'full', 'none'} or None, default None
        Whether the adaptive step learns a metric from the curvature of
        ``f`` (one extra evaluation per iteration, at the centre). None or
        ``'auto'``: with ``step='auto'``, two pairs or more and
        ``2 <= n <= 200`` (see `GuidedES`).
    surrogate_step : bool or None, default None
        With ``step='auto'`` and a surrogate, also try, at every iteration
        while such trials succeed and at growing intervals (at most 16
        iterations) while they fail, a point along the moving average of the
        recent surrogate gradients, with a length of its own learnt from
        success (one more evaluation), and move there when it beats the
        step (see `GuidedES`). None: on with ``step='auto'`` and no
        `bounds` (with bounds the centre is evaluated at every iteration, and
        a trial would be a second extra evaluation).
    nonmonotone : int, 'auto' or None, default None
        With ``step='auto'``: a step (or a trial point) is kept unless ``f``
        there is above the largest value of the last `nonmonotone` centres
        (Grippo et al. 1986); 1 keeps only steps that do not raise ``f``.
        About 30 suits piecewise-constant objectives with a
        straight-through surrogate, such as networks with sign activations;
        it costs much on smooth problems. ``'auto'`` (None, with
        ``step='auto'``) is 1 with one restart from `x0` with a window of
        30 once the trials along the surrogate have shown that ``f`` jumps
        and the run has stopped or stalled (``res.n_restarts``; see
        `GuidedES`). With a window above 1, ``x`` is the lower of the last
        centre and the best one by the estimates (both evaluated, counted
        in ``nfev``).
    maxiter : int, optional
        Maximum number of iterations. Default 10,000, or unlimited when only
        `maxfev` is given.
    maxfev : int, optional
        Maximum number of evaluations of `fun`, counted as in ``nfev``
        (the final evaluation included); the run stops before an iteration
        that would exceed it.
    maxtime : float, optional
        Wall-clock budget in seconds, > 0: no iteration starts once this
        much time has passed since the call began (status
        `Status.MAXTIME`). The iteration under way and the final
        evaluation still run, so a run can take longer by about one
        iteration. A resumed run (see `checkpoint`) gets the budget anew.
    ftarget : float, optional
        Stop once ``f`` at the centre is at most `ftarget`: when the
        estimate of ``f`` there (see Notes) is at most `ftarget`, ``f`` is
        evaluated at the centre (counted in ``nfev``) and decides. With a
        fixed `sigma` the estimate stays above ``f`` by ``O(sigma^2)``, so a
        target below that bias is not seen.
    ftol : float, optional
        Stop when the mean of that estimate over the last `patience`
        iterations is lower than over the `patience` before by at most
        ``ftol * max(|f_old|, |f_new|, 1)``. Off by default.
    xtol : float, optional
        Stop when the centre moved by at most `xtol` (Euclidean norm) at
        each of the last `patience` iterations. Off by default.
    patience : int, default 100
        Window, in iterations, of the `ftol` and `xtol` tests.
    tol : float, optional
        Sets `ftol` and `xtol` where those are not given (scipy's ``tol``).
    bounds : None, sequence of (min, max) pairs, or scipy.optimize.Bounds
        Box constraints; ``None`` in a pair means unbounded. No evaluated
        point leaves the box (see `GuidedES` for how clipped pairs enter the
        estimate).
    callback : callable, optional
        Called after every iteration, either as
        ``callback(intermediate_result)`` (when its only parameter has that
        name) with an `OptimizeResult` holding ``x, fun, nit, nfev, njev``,
        or as ``callback(xk)``. Raising ``StopIteration`` ends the run with
        status 99, with the same result as the equivalent `maxiter`.
    rng : None, int or numpy.random.Generator
        Source of all randomness. A fixed seed repeats ``x``, ``fun``,
        ``nfev`` exactly.
    disp : bool, default False
        Print a progress table (iteration, evaluations, f, step length).
    n_jobs : int, optional
        Workers evaluating the ``2P`` points of an iteration, with joblib's
        meaning: ``None`` is serial unless an enclosing
        ``joblib.parallel_config`` sets ``n_jobs`` or a backend that is
        parallel by default (``backend="dask"``: all the client's workers);
        ``1`` is serial; ``-1`` all CPUs. The backend (loky processes by
        default, threads, dask, ray) is chosen with
        ``joblib.parallel_config``. ``x``, ``fun`` and ``nfev`` do not depend
        on `n_jobs` or the backend. Dispatch costs about 10 ms per
        iteration with loky and 25 ms with a local dask cluster, so workers
        pay only when one evaluation takes a few milliseconds or more
        (``benchmarks/parallel.py`` measures it).
    vectorized : bool, default False
        Whether `fun` evaluates a whole batch in one call, with the
        convention of ``scipy.optimize.differential_evolution``: ``x`` of
        shape ``(n, S)``, one point per column, returning an array of shape
        ``(S,)``.
    checkpoint : str or path-like, optional
        File holding the state of the run, rewritten every
        `checkpoint_every` iterations and when the run stops; its directory
        must exist (`FileNotFoundError` before any evaluation). Each write
        goes to a temporary file in the same directory, renamed over
        `checkpoint`, so the file is always a complete checkpoint, even if
        the process is killed. If the file exists when the run starts, the
        run resumes from it and returns what the uninterrupted run would
        have returned, bit for bit (``x``, ``fun``, ``nit``, ``nfev``). A
        file written by a run with another `x0`, other method options
        (`sigma`, `alpha`, `beta`, `n_pairs`, `subspace_dim`, `step`,
        `learning_rate`, `bounds`, `self_guided`, `estimate_rho`,
        `patience`, the kind of surrogate, `vectorized`) or another `rng`
        seed is refused with a ``ValueError``. The budgets and stopping
        tests (`maxiter`, `maxfev`, `maxtime`, `ftarget`, `ftol`, `xtol`)
        may differ, so a finished run can be continued with a larger
        `maxiter`. An exception from `fun` or a ``KeyboardInterrupt``
        propagates as usual; the file then holds the last saved state.
        The file is a pickle: resume only from files you trust. With
        ``rng=None`` a resumed run continues the saved generator.
    checkpoint_every : int, default 1
        Iterations between writes of `checkpoint`, >= 1. A write pickles
        the optimizer's state (``O(n k)`` numbers); for cheap objectives in
        many dimensions a larger period saves time, at the price of
        repeating up to that many iterations after an interruption.
    hess, hessp, constraints
        Accepted for `scipy.optimize.minimize`; Hessians are ignored with an
        `OptimizeWarning`, and constraints other than bounds are an error.
    **unknown_options
        Any other option gives an `OptimizeWarning` naming it and the
        closest valid name, and is ignored.

    Returns
    -------
    res : scipy.optimize.OptimizeResult
        ``x`` the final centre; ``fun`` its objective value (evaluated once
        at the end; in the adaptive mode with a noisy `fun`, ``x`` is the
        last or the best centre, chosen by ten more values at each, and
        ``fun`` the mean of those at ``x``);
        ``nit`` iterations; ``nfev`` evaluations of `fun`:
        ``2P`` per iteration, plus one at the centre in the iterations that
        evaluate it (every iteration with ``jac=True``, whose call gives the
        surrogate and the value at once; in the adaptive mode as
        `GuidedES.evaluates_centre` says), plus one at a trial point along
        the surrogate in the iterations that make one (adaptive mode, see
        `surrogate_step`), plus the final evaluation at ``x``; ``njev``
        calls of the surrogate gradient (one per iteration; with
        ``jac=True`` these are the same calls as the centre evaluations);
        ``status`` a `Status`; ``success``; ``message``; ``rho`` the
        online estimate of the correlation of the gradient with the guiding
        subspace at the last iteration (``nan`` without a subspace or
        unless `estimate_rho`);
        ``alpha`` and ``beta`` the values used at the last iteration;
        ``n_restarts`` the restarts of ``nonmonotone='auto'`` (0 or 1).
        The intermediate results given to a callback carry the same four
        fields, for the iteration just made.

    Notes
    -----
    Each iteration follows the paper's Algorithm 1: the surrogate gradient
    at the centre ``x_t`` joins the buffer of the ``k`` most recent ones,
    ``P`` perturbations are drawn around ``x_t``, ``f`` is evaluated at
    ``x_t +/- eps_i``, and the step rule moves ``x_t`` along the estimate.

    The fixed-rate rules do not evaluate ``f`` at the centre during the run
    (but for ``jac=True``, where the call is made for the gradient anyway);
    the adaptive mode does at its first iteration, after a step taken back,
    with bounds, and at every iteration while it learns a metric. The
    estimate used by `ftarget`, `ftol`, the divergence test and the
    ``disp`` table is the mean of the finite values of the iteration (the
    ``2P`` points, and the centre when it was evaluated),
    ``f(x_t) + O(sigma^2)`` (never below ``f(x_t)`` for convex ``f``);
    with ``jac=True`` it is ``f(x_t)`` exactly. ``intermediate_result.fun``
    given to a callback is ``f`` at ``intermediate_result.x``, evaluated
    (and counted in ``nfev``) only if the callback reads it, and only while
    the callback runs.

    Points where `fun` returns NaN or infinity leave their pair out of the
    estimate; after ten consecutive iterations without a finite pair the run
    stops with status `Status.NONFINITE`.

    ===========  ======  =============================================
    status       value   meaning
    ===========  ======  =============================================
    FTARGET      0       `ftarget` reached (success)
    MAXITER      1       `maxiter` reached
    MAXFEV       2       `maxfev` would be exceeded
    FTOL         3       `ftol` test met (success)
    XTOL         4       `xtol` test met (success)
    NONFINITE    5       no finite values for ten iterations
    CONVERGED    6       ``step='auto'`` converged (success)
    DIVERGED     7       the run diverged (fixed-rate rules only: the
                         adaptive mode takes back any step that made
                         f worse); ``x`` is its best centre
    MAXTIME      8       `maxtime` reached
    NONSMOOTH    9       ``step='auto'`` stopped where ``f`` is not
                         differentiable (its pairs' slopes did not
                         vanish): a kink that may or may not be a
                         minimum; not a success
    OVERFLOW     10      ``f`` is probably unbounded below: the step
                         or the differences of ``f`` overflowed, or
                         the adaptive mode stopped with ``f`` fallen
                         1e10 times its initial scale (or its values
                         exceed 1e308); ``x`` is its best centre; not
                         a success
    CALLBACK     99      the callback raised ``StopIteration``
    ===========  ======  =============================================

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.

    Examples
    --------
    A quadratic whose surrogate gradient carries a constant bias:

    >>> import numpy as np
    >>> from ges_minimize import minimize_guided_es
    >>> f = lambda x: 0.5 * np.sum((x - 1.0) ** 2)
    >>> biased = lambda x: (x - 1.0) + 0.5
    >>> res = minimize_guided_es(f, np.zeros(10), biased, n_pairs=4,
    ...                          maxiter=500, rng=0)
    >>> bool(res.fun < 1e-3), res.success
    (True, True)

    The same through `scipy.optimize.minimize`:

    >>> from scipy.optimize import minimize
    >>> res = minimize(f, np.zeros(10), method=minimize_guided_es, jac=biased,
    ...                options={"n_pairs": 4, "maxiter": 500, "rng": 0})
    >>> bool(res.fun < 1e-3)
    True

    Letting the method choose ``alpha``; the result reports the estimated
    correlation ``rho`` and the last ``alpha`` used:

    >>> res = minimize_guided_es(f, np.zeros(10), biased, alpha="auto",
    ...                          n_pairs=4, maxiter=500, rng=0)
    >>> bool(res.fun < 1e-3), 0 <= res.rho <= 1, 0 <= res.alpha <= 1
    (True, True, True)

    Without a surrogate, guided by its own recent estimates:

    >>> res = minimize_guided_es(f, np.zeros(10), self_guided=True,
    ...                          subspace_dim=3, n_pairs=4, maxiter=500, rng=0)
    >>> bool(res.fun < 1e-3)
    True
    """
    if unknown_options:
        warnings.warn(_unknown_options_message(unknown_options),
                      OptimizeWarning, stacklevel=_user_stacklevel())
    for name, value in (("hess", hess), ("hessp", hessp)):
        if value is not None:
            warnings.warn(f"minimize_guided_es does not use {name}; ignored",
                          OptimizeWarning, stacklevel=_user_stacklevel())
    if constraints is not None and len(constraints) != 0:
        raise ValueError(
            "constraints are not supported by minimize_guided_es (only "
            f"bounds are), got {constraints!r:.80}")
    fun, jac = _unwrap_memoize_jac(fun, jac)
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {fun!r:.80}")
    if not isinstance(args, tuple):
        args = (args,)
    objective, grad_at, fun_and_grad = _objective_and_surrogate(
        fun, surrogate_grad, jac)
    if fun_and_grad and vectorized:
        raise ValueError(
            "jac=True cannot be combined with vectorized=True: give the "
            "surrogate gradient as a separate callable")

    if tol is not None:
        tol = check_real(tol, "tol", low=0)
        ftol = tol if ftol is None else ftol
        xtol = tol if xtol is None else xtol
    ftol = None if ftol is None else check_real(ftol, "ftol", low=0)
    xtol = None if xtol is None else check_real(xtol, "xtol", low=0)
    ftarget = None if ftarget is None else check_real(ftarget, "ftarget")
    patience = check_int(patience, "patience", low=1)
    if maxiter is None:
        maxiter = math.inf if maxfev is not None else DEFAULT_MAXITER
    else:
        maxiter = check_int(maxiter, "maxiter", low=0)
    if maxfev is not None:
        maxfev = check_int(maxfev, "maxfev", low=1)
    if maxtime is not None:
        maxtime = check_real(maxtime, "maxtime", low=0, low_open=True)
    disp = _check_disp(disp)
    if checkpoint is not None:
        checkpoint = os.fspath(checkpoint)
        directory = os.path.dirname(os.path.abspath(checkpoint))
        if not os.path.isdir(directory):
            raise FileNotFoundError(
                f"checkpoint={checkpoint!r} is in {directory!r}, which is not "
                "an existing directory; create it, or give another path")
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", low=1)

    es = GuidedES(x0, sigma=sigma, alpha=alpha, beta=beta, n_pairs=n_pairs,
                  subspace_dim=subspace_dim, step=step,
                  learning_rate=learning_rate, bounds=bounds,
                  self_guided=self_guided, rng=rng, estimate_rho=estimate_rho,
                  metric=metric, surrogate_step=surrogate_step,
                  nonmonotone=nonmonotone)
    call_back = _wrap_callback(callback)
    identity = _run_identity(
        es, rng, x0=es.x, sigma=sigma, alpha=alpha, beta=beta,
        n_pairs=n_pairs, subspace_dim=subspace_dim, step=step,
        learning_rate=learning_rate, bounds=es.bounds,
        self_guided=self_guided, estimate_rho=estimate_rho,
        patience=patience, surrogate=(grad_at is not None, fun_and_grad),
        vectorized=bool(vectorized))
    with BatchEvaluator(objective, args, n_jobs=n_jobs,
                        vectorized=vectorized) as evaluate:
        loop = _Loop(es, evaluate, fun, args, grad_at, fun_and_grad)
        state = _RunState(patience)
        saver = None
        if checkpoint is not None:
            saver = _Checkpoint(checkpoint, checkpoint_every, identity)
            saved = saver.load()
            if saved is not None:
                es = saved.restore(loop, state)
        limits = _Limits(maxiter, maxfev, maxtime, ftarget, ftol, xtol,
                         patience)
        status = _run(loop, state, limits, call_back,
                      _Progress(disp, maxiter), saver)
        left = (math.inf if maxfev is None
                else maxfev - loop.nfev)
        x, f_final = _final_point(loop, status, left)
    nfev = loop.nfev
    if status in SUCCESS and not np.isfinite(f_final):
        status = Status.NONFINITE
    _Progress(disp, maxiter, header=False).final(es.nit, nfev, f_final, status)
    return OptimizeResult(x=x, fun=f_final, nit=es.nit, nfev=nfev,
                          njev=es.njev, status=status,
                          success=status in SUCCESS, message=MESSAGES[status],
                          sigma=es.sigma, step_norm=es.step_norm,
                          **_adaptive_fields(es))


def _final_point(loop, status, left=math.inf):
    """The point returned and f there, evaluated (counted in ``nfev``).

    The last centre, unless the run diverged (then the best centre by the
    estimates) or, in the adaptive mode, unless the last centre turns out
    worse than the one before its step, or, with non-monotone acceptance,
    than the best centre by the estimates (then whichever is lowest). With
    a noisy f, see `_noisy_final_point`. `left` is the number of
    evaluations the budget has left.
    """
    es = loop.es
    if status in (Status.DIVERGED, Status.OVERFLOW):
        x = es.x_best.copy()
        return x, loop.value_at(x)
    if _chooses_noisy_final_point(es):
        return _noisy_final_point(loop, left)
    x = es.x
    f_x = loop.value_at(x)
    others = []
    last = es._last_step if es.adaptive else None
    if last is not None and not f_x <= es._unscaled(last[2]):
        others.append(last[3])
    if es._best_is_candidate():
        # the centre may have risen since, or (searching for kinks) be the
        # mean of points never evaluated there, or (started afresh to check
        # the coordinates held on bounds) have left a better point
        others.append(es.x_best)
    if es.nonsmooth_mode:
        others.append(es._kink_start)   # never worse than before the switch
    for other in others:
        if np.array_equal(other, x):
            continue
        other = other.copy()
        f_other = loop.value_at(other)
        if f_other < f_x or not np.isfinite(f_x):
            x, f_x = other, f_other
    return x, f_x


def _chooses_noisy_final_point(es):
    """Whether the run's final point is chosen as `_noisy_final_point`
    says: the adaptive mode, with noise measured, not searching for kinks."""
    return es.adaptive and es.noise > 0 and not es.nonsmooth_mode


def _noisy_final_point(loop, left):
    """With a noisy f: the last centre or the best centre by the run's
    estimates, and the mean of `NOISY_FINAL_EVALUATIONS` values of f there.

    A centre that moved on noisy comparisons may have drifted away from the
    best one the run passed; the best by the estimates was selected among
    many noisy values, so it is taken only if its mean is lower by
    `NOISY_FINAL_MARGIN` standard errors of the difference.
    """
    es = loop.es
    x, best = es.x, es.x_best
    same = np.array_equal(x, best)
    m = int(max(1, min(NOISY_FINAL_EVALUATIONS, left // (1 if same else 2))))
    f_x, var_x = loop.mean_value_at(x, m)
    if same:
        return x, f_x
    f_best, var_best = loop.mean_value_at(best.copy(), m)
    margin = NOISY_FINAL_MARGIN * math.sqrt((var_x + var_best) / m)
    if f_best < f_x - margin or not np.isfinite(f_x):
        return best.copy(), f_best
    return x, f_x


class _Loop:
    """One iteration of the paper's Algorithm 1 over a `GuidedES`."""

    def __init__(self, es, evaluate, fun, args, grad_at, fun_and_grad):
        self.es = es
        self.evaluate = evaluate
        self.fun = fun
        self.args = args
        self.grad_at = grad_at
        self.fun_and_grad = fun_and_grad
        self.extra_nfev = 0          # evaluations outside the pairs
        self._known = None           # (x, f(x)) of the last centre evaluated
        self.callback_reads_fun = False

    @property
    def nfev(self):
        return self.es.nfev + self.extra_nfev

    @property
    def fevs_per_iteration(self):
        """Evaluations the next iteration makes."""
        es = self.es
        trial = es.evaluates_trial and (self.grad_at is not None
                                        or self.fun_and_grad)
        return (es.population_size + trial
                + (1 if self.fun_and_grad or es.evaluates_centre else 0))

    def value_at(self, x):
        """``f(x)``, evaluated (and counted) unless it is already known."""
        if self._known is not None and np.array_equal(self._known[0], x):
            return self._known[1]
        if self.fun_and_grad:
            f, _ = _split_fun_and_grad(self.fun(x, *self.args))
        else:
            f = float(self.evaluate(x[None, :])[0])
        self.extra_nfev += 1
        self._known = (x.copy(), f)
        return f

    def mean_value_at(self, x, m):
        """The mean and the variance of `m` values of ``f(x)`` (a noisy
        ``f``), evaluated and counted: of the finite ones (NaN if none is;
        a variance of 0 for a single value)."""
        if m == 1:
            return self.value_at(x), 0.0
        if self.fun_and_grad:
            values = [_split_fun_and_grad(self.fun(x, *self.args))[0]
                      for _ in range(m)]
        else:
            values = self.evaluate(np.repeat(x[None, :], m, axis=0))
        self.extra_nfev += m
        values = np.asarray(values, dtype=float)
        finite = values[np.isfinite(values)]
        if not finite.size:
            return np.nan, 0.0
        return (float(finite.mean()),
                float(finite.var(ddof=1)) if finite.size > 1 else 0.0)

    def iterate(self):
        """Surrogate at the centre, sample, evaluate, update; return f_now.

        ``f_now`` is ``f`` at the centre the points were drawn around when
        it is known (``jac=True``), else the estimate `GuidedES.fun_estimate`.
        """
        es = self.es
        if self.fun_and_grad:
            x = es.x
            f_centre, g = _split_fun_and_grad(self.fun(x, *self.args))
            self.extra_nfev += 1
            self._known = (x, f_centre)
            es.add_surrogate_grad(g)
        elif self.grad_at is not None:
            es.add_surrogate_grad(self.grad_at(es.x, *self.args))
        points = es.ask()
        reuse = self.fun_and_grad and es.evaluates_centre
        if reuse:
            # the row after the pairs is the centre, whose value came with
            # the gradient
            c = 2 * es.n_pairs
            values = np.insert(self.evaluate(np.delete(points, c, axis=0)),
                               c, f_centre)
        else:
            values = self.evaluate(points)
        try:
            es.tell(values)
        except FloatingPointError:
            # the state is as before the tell, but the values were computed
            self.extra_nfev += len(values) - reuse
            raise
        if reuse:
            self.extra_nfev -= 1        # tell counted that call's value
        if es.centre_value is not None:
            self._known = (es.x, es.centre_value)
        return f_centre if self.fun_and_grad else es.fun_estimate


class _IntermediateResult(OptimizeResult):
    """An intermediate result whose ``fun``, ``f(x)``, is evaluated (and
    counted in ``nfev``) only if the callback reads it."""

    def __init__(self, loop, **fields):
        super().__init__(**fields)
        self._loop = loop

    def __missing__(self, key):
        if key != "fun":
            raise KeyError(key)
        if self._loop is None:
            raise KeyError(
                "fun: f at x is evaluated on demand, and only during the "
                "callback; read it there")
        self._loop.callback_reads_fun = True
        value = self._loop.value_at(self["x"])
        self["fun"] = value
        return value

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(*e.args) from None

    def __reduce__(self):
        return OptimizeResult, (dict(self),)


class _Limits(collections.namedtuple(
        "_Limits", "maxiter maxfev maxtime ftarget ftol xtol patience")):
    """The stopping criteria of a run."""


class _RunState:
    """The loop's own state between iterations (saved in a checkpoint)."""

    def __init__(self, patience):
        self.history = collections.deque(maxlen=2 * patience)  # f estimates
        self.steps = collections.deque(maxlen=patience)        # step lengths
        self.nonfinite_run = 0
        # f at the centre from the last iteration; None before the first
        self.f_now = None


def _run(loop, state, limits, call_back, progress, saver=None):
    """Iterate until a stopping test is met; return its `Status`.

    A checkpoint holds the state after an iteration and its callback, before
    its stopping tests, so a resumed run starts with those tests.
    """
    status = None if state.f_now is None else _stop_test(loop, state, limits)
    start = time.monotonic()
    while status is None:
        status = _budget_test(loop, limits, start)
        if status is not None:
            break
        status = _iteration(loop, state, call_back, progress)
        if status is not None:       # the callback stopped it, or overflow
            return status
        if saver is not None and loop.es.nit % saver.every == 0:
            saver.save(loop, state)
        status = _stop_test(loop, state, limits)
    if saver is not None:
        saver.save(loop, state)
    return status


def _budget_test(loop, limits, start):
    """`Status` if the next iteration would exceed a budget, else None."""
    es = loop.es
    if es.nit >= limits.maxiter:
        return Status.MAXITER
    # evaluations kept for the end: the final point and, in the adaptive
    # mode, possibly the centre before the last step (and the best centre,
    # with non-monotone acceptance, searching for kinks or after a fresh
    # start, and then, searching for kinks, the centre at the switch too);
    # and one for f at the centre if the callback reads it or ftarget may
    # need it
    final = 1 + es.adaptive + es._best_is_candidate() + es.nonsmooth_mode
    if _chooses_noisy_final_point(es):
        final = 2 * NOISY_FINAL_EVALUATIONS
    centre_checks = limits.ftarget is not None and not loop.fun_and_grad
    reserve = final + (loop.callback_reads_fun or centre_checks)
    if (limits.maxfev is not None
            and loop.nfev + loop.fevs_per_iteration + reserve > limits.maxfev):
        return Status.MAXFEV
    if (limits.maxtime is not None
            and time.monotonic() - start >= limits.maxtime):
        return Status.MAXTIME
    return None


def _iteration(loop, state, call_back, progress):
    """One iteration and its callback; `Status.CALLBACK` if it stopped the
    run, `Status.OVERFLOW` if the update overflowed."""
    es = loop.es
    try:
        f_now = loop.iterate()
    except FloatingPointError:
        return Status.OVERFLOW
    progress.row(es, loop.nfev, f_now)
    state.nonfinite_run = state.nonfinite_run + 1 if es.n_valid_pairs == 0 else 0
    if np.isfinite(f_now):
        state.history.append(f_now)
    state.steps.append(es.step_norm)
    state.f_now = f_now
    if call_back is not None:
        intermediate = _IntermediateResult(
            loop, x=es.x, nit=es.nit, nfev=loop.nfev, njev=es.njev,
            sigma=es.sigma, step_norm=es.step_norm, **_adaptive_fields(es))
        if loop.fun_and_grad:
            intermediate["fun"] = f_now
        try:
            call_back(intermediate)
        except StopIteration:
            return Status.CALLBACK
        finally:
            intermediate._loop = None
    return None


def _stop_test(loop, state, limits):
    """`Status` if a test met after the last iteration ends the run."""
    es, f_now = loop.es, state.f_now
    ftarget = limits.ftarget
    if (ftarget is not None and np.isfinite(f_now) and f_now <= ftarget
            and loop.value_at(es.x) <= ftarget):
        return Status.FTARGET
    if state.nonfinite_run >= MAX_NONFINITE_ITERATIONS:
        return Status.NONFINITE
    if _diverged(es):
        return Status.DIVERGED
    if es.converged is not None and _fell_without_bound(es):
        return Status.OVERFLOW
    if es.converged == "kink":
        return Status.NONSMOOTH
    if es.converged is not None:
        return Status.CONVERGED
    if limits.ftol is not None and _ftol_met(state.history, limits.patience,
                                             limits.ftol):
        return Status.FTOL
    steps = state.steps
    if (limits.xtol is not None and len(steps) == limits.patience
            and max(steps) <= limits.xtol):
        return Status.XTOL
    return None


class _Checkpoint:
    """A run's state in a file, written atomically, read back to resume."""

    FORMAT = "ges_minimize.minimize_guided_es checkpoint"
    VERSION = 1

    def __init__(self, path, every, identity):
        self.path = path
        self.every = every
        self.identity = identity

    def save(self, loop, state):
        """Write the state after the last iteration: a temporary file in the
        same directory, then renamed over `path` (never a partial file)."""
        content = dict(
            format=self.FORMAT, version=self.VERSION, identity=self.identity,
            es=loop.es,
            loop=dict(extra_nfev=loop.extra_nfev, known=loop._known,
                      callback_reads_fun=loop.callback_reads_fun),
            state=dict(history=list(state.history), steps=list(state.steps),
                       nonfinite_run=state.nonfinite_run, f_now=state.f_now))
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp",
                                   dir=directory)
        try:
            with os.fdopen(fd, "wb") as file:
                pickle.dump(content, file, protocol=pickle.HIGHEST_PROTOCOL)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load(self):
        """The saved state (a `_Saved`), or None if there is no file yet."""
        if not os.path.exists(self.path):
            return None
        try:
            with open(self.path, "rb") as file:
                content = pickle.load(file)
        except Exception as exc:
            raise ValueError(
                f"checkpoint={self.path!r} exists but could not be read as a "
                f"checkpoint of minimize_guided_es ({type(exc).__name__}: "
                f"{exc}); delete it or give another path") from exc
        if (not isinstance(content, dict)
                or content.get("format") != self.FORMAT):
            raise ValueError(
                f"checkpoint={self.path!r} is not a checkpoint of "
                "minimize_guided_es; delete it or give another path")
        if content.get("version") != self.VERSION:
            raise ValueError(
                f"checkpoint={self.path!r} has format version "
                f"{content.get('version')!r}; this version of ges_minimize "
                f"reads version {self.VERSION}")
        saved = content["identity"]
        for name, value in self.identity.items():
            old = saved.get(name, _ABSENT.get(name, "<absent>"))
            if not _same(old, value):
                raise ValueError(
                    f"checkpoint={self.path!r} was written by a different "
                    f"run: {name} was {_short(old)} there and is "
                    f"{_short(value)} here; give the same x0 and options to "
                    "resume, or another checkpoint path to start afresh")
        return _Saved(content)


#: The value taken for an option that an older checkpoint lacks: its default,
#: so that a run resumed with the arguments it was started with matches (the
#: optimizer saved in it resumes as it ran, see `GuidedES.__setstate__`).
_ABSENT = {"nonmonotone": "auto"}


class _Saved:
    """The content of a checkpoint, ready to be put back into a run."""

    def __init__(self, content):
        self.content = content

    def restore(self, loop, state):
        """Put the saved state into `loop` and `state`; return the
        `GuidedES`."""
        c = self.content
        loop.es = c["es"]
        loop.extra_nfev = c["loop"]["extra_nfev"]
        loop._known = c["loop"]["known"]
        loop.callback_reads_fun = c["loop"]["callback_reads_fun"]
        state.history.extend(c["state"]["history"])
        state.steps.extend(c["state"]["steps"])
        state.nonfinite_run = c["state"]["nonfinite_run"]
        state.f_now = c["state"]["f_now"]
        return loop.es


def _run_identity(es, rng, **options):
    """What a checkpoint must match: x0 and the options that shape the run
    (resolved by `GuidedES`), and the generator's state before the run."""
    identity = dict(
        x0=options.pop("x0"), step="auto" if es.adaptive else repr(es.step),
        sigma=es.sigma0, alpha=es.alpha, beta=es.beta,
        n_pairs=es.n_pairs, subspace_dim=es.subspace_dim,
        self_guided=es._self_decay, estimate_rho=es.estimate_rho,
        bounds=options["bounds"], patience=options["patience"],
        surrogate=options["surrogate"], vectorized=options["vectorized"],
        metric=es.metric,     # resolved: by default it follows from n and n_pairs
        surrogate_step=es.surrogate_step, nonmonotone=es.nonmonotone,
        rng=None if rng is None else copy.deepcopy(es.rng.bit_generator.state))
    return identity


def _same(a, b):
    """Equality of checkpoint identities (arrays, tuples, dicts, scalars)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _unwrap_memoize_jac(fun, jac):
    """``(fun, True)`` for scipy's ``jac=True`` wrapping, else as given.

    `scipy.optimize.minimize` wraps a ``fun`` returning ``(f, g)`` in a
    ``MemoizeJac`` and passes its ``derivative`` as ``jac``; calling that
    at the centre re-evaluates ``fun`` behind the method's back. Unwrapped,
    every call of ``fun`` is made, and counted, here.
    """
    try:
        from scipy.optimize._optimize import MemoizeJac
    except ImportError:          # a scipy that moved or dropped the class
        return fun, jac
    owner = getattr(jac, "__self__", None)
    if (isinstance(owner, MemoizeJac) and owner is fun
            and getattr(jac, "__func__", None) is MemoizeJac.derivative):
        return owner.fun, True
    return fun, jac


def _option_names():
    params = inspect.signature(minimize_guided_es).parameters
    return [name for name, p in params.items()
            if p.kind is p.KEYWORD_ONLY or name == "surrogate_grad"]


def _unknown_options_message(unknown):
    names = _option_names()
    parts = []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, names, n=1)
        parts.append(f"{name} (did you mean {close[0]!r}?)" if close
                     else name)
    return ("Unknown solver options: " + ", ".join(parts)
            + "; ignored (see minimize_guided_es for the options)")


_SKIPPED_DIRS = (os.path.dirname(os.path.abspath(__file__)) + os.sep,
                 os.path.dirname(os.path.abspath(scipy.__file__)) + os.sep)


def _user_stacklevel():
    """The `stacklevel`, for a warning raised in the caller of this
    function, of the first frame outside ges_minimize and scipy (the user's
    line, whether the call came directly or through
    `scipy.optimize.minimize`)."""
    frame = sys._getframe(1)
    level = 1
    while (frame.f_back is not None
           and os.path.abspath(frame.f_code.co_filename).startswith(
               _SKIPPED_DIRS)):
        frame = frame.f_back
        level += 1
    return level


def _check_disp(disp):
    if isinstance(disp, (bool, np.bool_, numbers.Integral)):
        return bool(disp)
    raise TypeError(f"disp must be a bool (or an int), got {_short(disp)}")


def _fell_without_bound(es):
    """Whether the best value of an adaptive run lies more than
    `UNBOUNDED_FALL` times the first iteration's scale (its values' spread,
    or the size of its estimate if larger) below that estimate. On an f
    unbounded below (``-|x|^2``) the steps grow faster than sigma may
    follow, and sigma falls below the precision of x: that stop is no
    convergence, to a minimum or to a kink."""
    scale = max(es.first_spread, abs(es.f_first))
    return bool(es.adaptive and np.isfinite(es.f_best) and scale > 0
                and es.f_first - es.f_best > UNBOUNDED_FALL * scale)


def _diverged(es):
    """Whether the centre's estimate rose far above the best one (never in
    the adaptive mode, which takes back every step after which f rose: the
    estimate is then made around a centre that was left, and one wild step
    on a loss with jumps would otherwise end the run as diverged)."""
    if es.adaptive:
        return False
    spread = max(es.first_spread, es.f_first - es.f_best)
    return bool(spread > 0 and np.isfinite(es.fun_estimate)
                and es.fun_estimate - es.f_best > DIVERGENCE_FACTOR * spread)


def _adaptive_fields(es):
    """The estimated rho, the alpha and beta of the last iteration and the
    number of restarts."""
    return dict(rho=es.rho, alpha=es.current_alpha, beta=es.current_beta,
                n_restarts=es.n_restarts)


def _objective_and_surrogate(fun, surrogate_grad, jac):
    """(objective, surrogate callable or None, whether fun returns (f, g))."""
    if jac is False:
        jac = None
    if jac is not None and surrogate_grad is not None:
        raise ValueError(
            "give the surrogate gradient as surrogate_grad or as jac (scipy's "
            "name for it), not both")
    if surrogate_grad is None:
        surrogate_grad = jac
    if surrogate_grad is True:
        return _FirstOutput(fun), None, True
    if surrogate_grad is None or callable(surrogate_grad):
        return fun, surrogate_grad, False
    raise TypeError(
        "surrogate_grad (jac) must be a callable, True (fun returns "
        f"(f, gradient)) or None, got {surrogate_grad!r:.80}; finite "
        "differences are not a surrogate gradient")


class _FirstOutput:
    """``fun(x)[0]`` for a ``fun`` returning ``(f, g)`` (picklable)."""

    def __init__(self, fun):
        self.fun = fun

    def __call__(self, x, *args):
        return _split_fun_and_grad(self.fun(x, *args))[0]


def _split_fun_and_grad(out):
    try:
        f, g = out
    except (TypeError, ValueError):
        raise ValueError(
            "with jac=True, fun must return a pair (f, surrogate_gradient), "
            f"got {out!r:.80}") from None
    return as_scalar(f), g


def _wrap_callback(callback):
    """Call either style of scipy callback with an intermediate result."""
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r:.80}")
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):       # builtins without a signature
        return lambda res: callback(np.copy(res.x))
    if set(signature.parameters) == {"intermediate_result"}:
        return lambda res: callback(intermediate_result=res)
    try:
        signature.bind(None)
    except TypeError:
        raise TypeError(
            "callback must accept one argument, as callback(xk) or "
            f"callback(intermediate_result), got {_short(callback)} with "
            f"signature {signature}") from None
    return lambda res: callback(np.copy(res.x))


def _ftol_met(history, patience, ftol):
    if len(history) < 2 * patience:
        return False
    values = np.fromiter(history, float)
    old, new = values[:patience].mean(), values[patience:].mean()
    return old - new <= ftol * max(abs(old), abs(new), 1.0)


class _Progress:
    """The ``disp=True`` table: iterations 1-3, then every tenth of the run.

    Columns: iteration, evaluations, the estimate of f at the centre (the
    mean of the iteration's values; f itself with ``jac=True``), sigma and
    the length of the last step.
    """

    def __init__(self, disp, maxiter, header=True):
        self.disp = bool(disp)
        if self.disp and header:
            span = maxiter if math.isfinite(maxiter) else 1000
            self.every = max(1, 10 ** int(math.log10(max(span, 10)) - 1))
            print(f"{'iter':>8} {'nfev':>10} {'f (centre est.)':>16} "
                  f"{'sigma':>11} {'step':>11}")

    def row(self, es, nfev, f):
        nit = es.nit
        if self.disp and (nit <= 3 or nit % self.every == 0):
            print(f"{nit:8d} {nfev:10d} {f:16.9g} {es.sigma:11.4g} "
                  f"{es.step_norm:11.4g}")

    def final(self, nit, nfev, f, status):
        if self.disp:
            print(f"{'final':>8} {nfev:10d} {f:16.9g}  f(res.x); {nit} "
                  f"iterations. {MESSAGES[status]}")
