"""``minimize_guided_es``: the loop over `GuidedES`, in scipy's shape."""

import collections
import enum
import inspect
import math
import warnings

import numpy as np
from scipy.optimize import OptimizeResult, OptimizeWarning

from ._evaluate import BatchEvaluator, as_scalar
from ._guided_es import GuidedES
from ._validation import check_int, check_real

__all__ = ["minimize_guided_es", "Status"]

#: Consecutive iterations with no finite pair after which a run gives up.
MAX_NONFINITE_ITERATIONS = 10
#: A run has diverged when the estimate of f at its centre exceeds the best
#: estimate by this many times the first iteration's spread (the initial gap
#: to the best, or the first values' range if larger).
DIVERGENCE_FACTOR = 1e6


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
    Status.CONVERGED: "Converged: the adapted step and sigma fell below the "
                      "precision of x, or the values of f stopped resolving "
                      "any scale tried.",
    Status.DIVERGED: "The run diverged: the estimate of f at the centre rose "
                     f"{DIVERGENCE_FACTOR:.0e} times its initial gap above the "
                     "best value; res.x is the best centre of the run. Lower "
                     "the learning rate, or use step='auto'.",
    Status.CALLBACK: "`callback` raised `StopIteration`.",
}
SUCCESS = {Status.FTARGET, Status.FTOL, Status.XTOL, Status.CONVERGED}

DEFAULT_MAXITER = 10_000


def minimize_guided_es(fun, x0, surrogate_grad=None, *, args=(), jac=None,
                       sigma=0.1, alpha=None, beta=2.0, n_pairs=None,
                       subspace_dim=None, step=None, learning_rate=None,
                       self_guided=False, estimate_rho=None, maxiter=None,
                       maxfev=None, ftarget=None, ftol=None,
                       xtol=None, patience=100, tol=None, bounds=None,
                       callback=None, rng=None, disp=False, n_jobs=None,
                       vectorized=False, hess=None,
                       hessp=None, constraints=(), **unknown_options):
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
    sigma, alpha, beta, n_pairs, subspace_dim, step, learning_rate
        Parameters of the method, as in `GuidedES`: perturbation scale
        (0.1), share of the variance outside the subspace (0.5, or
        ``'auto'``), scale of the estimate (2, or ``'auto'``), antithetic
        pairs ``P`` per iteration (1), number ``k`` of surrogate gradients
        kept (1), step rule ('sgd') and its learning rate (rule default, 0.2
        for 'sgd'). The defaults are the paper's settings for its perturbed
        quadratic. ``alpha='auto'`` chooses alpha at every iteration from an
        online estimate of the guide's correlation ``rho`` with the true
        gradient, made from the values the method evaluates anyway (see
        `GuidedES`).
    self_guided : bool or float, default False
        Also guide the search by a moving average of the method's own
        gradient estimates (Self-Guided ES; a float sets the average's
        decay, see `GuidedES`); usable without any surrogate.
    estimate_rho : bool or None, default None
        Keep the online estimate ``rho`` (reported in the results); None:
        only when `alpha` or `beta` is ``'auto'`` (see `GuidedES`).
    maxiter : int, optional
        Maximum number of iterations. Default 10,000, or unlimited when only
        `maxfev` is given.
    maxfev : int, optional
        Maximum number of evaluations of `fun`, counted as in ``nfev``
        (the final evaluation included); the run stops before an iteration
        that would exceed it.
    ftarget : float, optional
        Stop once the estimate of ``f`` at the centre (``fun`` of the
        intermediate result, see Notes) is at most `ftarget`.
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
    hess, hessp, constraints
        Accepted for `scipy.optimize.minimize`; Hessians are ignored with an
        `OptimizeWarning`, and constraints other than bounds are an error.
    **unknown_options
        Any other option gives an `OptimizeWarning` naming it.

    Returns
    -------
    res : scipy.optimize.OptimizeResult
        ``x`` the final centre; ``fun`` its objective value (evaluated once
        at the end); ``nit`` iterations; ``nfev`` evaluations of `fun`:
        ``2P`` per iteration, plus one per iteration for the surrogate call
        when ``jac=True``, plus the final evaluation at ``x``; ``njev``
        calls of the surrogate gradient (one per iteration; with
        ``jac=True`` these are the same calls as the centre evaluations);
        ``status`` a `Status`; ``success``; ``message``; ``rho`` the
        online estimate of the correlation of the gradient with the guiding
        subspace at the last iteration (``nan`` without a subspace or
        unless `estimate_rho`);
        ``alpha`` and ``beta`` the values used at the last iteration. The
        intermediate results given to a callback carry the same three
        fields, for the iteration just made.

    Notes
    -----
    Each iteration follows the paper's Algorithm 1: the surrogate gradient
    at the centre ``x_t`` joins the buffer of the ``k`` most recent ones,
    ``P`` perturbations are drawn around ``x_t``, ``f`` is evaluated at
    ``x_t +/- eps_i``, and the step rule moves ``x_t`` along the estimate.

    The method does not evaluate ``f`` at the centre during the run (but for
    ``jac=True``, where the call is made for the gradient anyway). The
    ``fun`` given to callbacks and used by `ftarget` and `ftol` is then the
    mean of the finite values at the ``2P`` points, ``f(x_t) + O(sigma^2)``
    (never below ``f(x_t)`` for convex ``f``); with ``jac=True`` it is
    ``f(x_t)`` exactly.

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
    >>> bool(res.fun < 1e-3), res.nit, res.nfev
    (True, 500, 4001)

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
        warnings.warn(
            "Unknown solver options: " + ", ".join(sorted(unknown_options)),
            OptimizeWarning, stacklevel=2)
    for name, value in (("hess", hess), ("hessp", hessp)):
        if value is not None:
            warnings.warn(f"minimize_guided_es does not use {name}; ignored",
                          OptimizeWarning, stacklevel=2)
    if constraints is not None and len(constraints) != 0:
        raise ValueError(
            "constraints are not supported by minimize_guided_es (only "
            f"bounds are), got {constraints!r:.80}")
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

    es = GuidedES(x0, sigma=sigma, alpha=alpha, beta=beta, n_pairs=n_pairs,
                  subspace_dim=subspace_dim, step=step,
                  learning_rate=learning_rate, bounds=bounds,
                  self_guided=self_guided, rng=rng, estimate_rho=estimate_rho)
    call_back = _wrap_callback(callback)
    with BatchEvaluator(objective, args, n_jobs=n_jobs,
                        vectorized=vectorized) as evaluate:
        loop = _Loop(es, evaluate, fun, args, grad_at, fun_and_grad)
        status = _run(loop, maxiter, maxfev, ftarget, ftol, xtol, patience,
                      call_back, _Progress(disp, maxiter))
        x, f_final = _final_point(loop, status)
    nfev = loop.nfev
    if status in SUCCESS and not np.isfinite(f_final):
        status = Status.NONFINITE
    _Progress(disp, maxiter, header=False).final(es.nit, nfev, f_final, status)
    return OptimizeResult(x=x, fun=f_final, nit=es.nit, nfev=nfev,
                          njev=es.njev, status=status,
                          success=status in SUCCESS, message=MESSAGES[status],
                          sigma=es.sigma, step_norm=es.step_norm,
                          **_adaptive_fields(es))


def _final_point(loop, status):
    """The point returned and f there, evaluated (counted in ``nfev``).

    The last centre, unless the run diverged (then the best centre by the
    estimates) or, in the adaptive mode, unless the last centre turns out
    worse than the one before its step (then whichever of the two is lower).
    """
    es = loop.es
    if status == Status.DIVERGED:
        x = es.x_best.copy()
        return x, loop.value_at(x)
    x = es.x
    f_x = loop.value_at(x)
    last = es._last_step if es.adaptive else None
    if last is not None and not f_x <= last[2]:
        x_before = last[3].copy()
        f_before = loop.value_at(x_before)
        if f_before < f_x or not np.isfinite(f_x):
            return x_before, f_before
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
        self.fevs_per_iteration = 2 * es.n_pairs + (1 if fun_and_grad else 0)
        self._known = None           # (x, f(x)) of the last centre evaluated
        self.callback_reads_fun = False

    @property
    def nfev(self):
        return self.es.nfev + self.extra_nfev

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
        es.tell(self.evaluate(es.ask()))
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


def _run(loop, maxiter, maxfev, ftarget, ftol, xtol, patience, call_back,
         progress):
    """Iterate until a stopping test is met; return its `Status`."""
    es = loop.es
    history = collections.deque(maxlen=2 * patience)
    steps = collections.deque(maxlen=patience)
    nonfinite_run = 0
    # evaluations kept for the end: the final point and, in the adaptive
    # mode, possibly the centre before the last step
    final = 2 if es.adaptive else 1
    centre_checks = ftarget is not None and not loop.fun_and_grad
    while True:
        if es.nit >= maxiter:
            return Status.MAXITER
        # and one for f at the centre if the callback reads it or ftarget
        # may need it
        reserve = final + (loop.callback_reads_fun or centre_checks)
        if maxfev is not None and loop.nfev + loop.fevs_per_iteration + reserve > maxfev:
            return Status.MAXFEV
        f_now = loop.iterate()
        progress.row(es, loop.nfev, f_now)
        nonfinite_run = nonfinite_run + 1 if es.n_valid_pairs == 0 else 0
        if np.isfinite(f_now):
            history.append(f_now)
        steps.append(es.step_norm)
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
        if (ftarget is not None and np.isfinite(f_now) and f_now <= ftarget
                and loop.value_at(es.x) <= ftarget):
            return Status.FTARGET
        if nonfinite_run >= MAX_NONFINITE_ITERATIONS:
            return Status.NONFINITE
        if _diverged(es):
            return Status.DIVERGED
        if es.converged is not None:
            return Status.CONVERGED
        if ftol is not None and _ftol_met(history, patience, ftol):
            return Status.FTOL
        if xtol is not None and len(steps) == patience and max(steps) <= xtol:
            return Status.XTOL


def _diverged(es):
    """Whether the centre's estimate rose far above the best one."""
    spread = max(es.first_spread, es.f_first - es.f_best)
    return bool(spread > 0 and np.isfinite(es.fun_estimate)
                and es.fun_estimate - es.f_best > DIVERGENCE_FACTOR * spread)


def _adaptive_fields(es):
    """The estimated rho and the alpha and beta of the last iteration."""
    return dict(rho=es.rho, alpha=es.current_alpha, beta=es.current_beta)


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
        params = set(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = set()
    if params == {"intermediate_result"}:
        return lambda res: callback(intermediate_result=res)
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
