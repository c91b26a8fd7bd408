"""The methods compared, one entry each, and how their progress is recorded.

A method is a `Method`: a row label, who provides it (``"library"`` or
``"peer"``), what its curve measures, and ``run(problem, budget, seed)``
returning a `Trace`. Adding a method is adding one entry to the list built
by `method_table`.

What is recorded
----------------
- Evolution strategies of this library (Guided ES, vanilla ES) and gradient
  descent on the surrogate: ``f - f*`` at the *centre* (the current
  iterate) after every iteration, against the evaluations spent so far.
  The centre is what these methods return; the value is computed for the
  record only and not counted. To keep the cost of recording down it is
  taken at every iteration up to the 100th and at every 10th after that.
- Every other peer (scipy, pycma, nevergrad): ``f - f*`` of the best point
  evaluated so far, after every evaluation, the usual convention for
  black-box optimisers (and the more favourable one).

What is counted as an evaluation: one call of ``f``. Surrogate-gradient
calls are free for Guided ES and for L-BFGS-B (which gets the surrogate as
``jac``), as in the paper; for gradient descent on the surrogate, which
never calls ``f``, one surrogate call counts as one evaluation. Every peer
is stopped at the budget exactly (the wrapped ``f`` refuses to be called
more often).
"""

import dataclasses
import functools
import warnings

import numpy as np
import scipy.optimize

from ges_minimize import minimize_guided_es

__all__ = ["Method", "Trace", "method_table", "probe_auto_alpha"]

CENTRE = "centre"
#: Centres are recorded at every iteration up to the 100th, then at every 10th.
RECORD_EVERY = 10
BEST = "best so far"


@dataclasses.dataclass
class Trace:
    """``gap[i]`` is the recorded ``f - f*`` after ``evals[i]`` evaluations."""

    evals: np.ndarray
    gap: np.ndarray
    note: str = ""
    seconds: float = float("nan")
    cpu_seconds: float = float("nan")

    def at(self, budget):
        """The recorded gap after at most `budget` evaluations."""
        i = np.searchsorted(self.evals, budget, side="right") - 1
        return float(self.gap[i])

    def first_reaching(self, target):
        """Evaluations at which the gap first drops to `target` (inf if never)."""
        hit = np.flatnonzero(self.gap <= target)
        return int(self.evals[hit[0]]) if hit.size else np.inf

    def on_grid(self, grid):
        """Step-function values on an increasing grid of evaluation counts."""
        i = np.searchsorted(self.evals, grid, side="right") - 1
        out = self.gap[np.maximum(i, 0)].astype(float)
        out[i < 0] = np.nan
        return out


@dataclasses.dataclass(frozen=True)
class Method:
    label: str
    source: str            # "library" or "peer"
    measures: str          # CENTRE or BEST
    run: object            # run(problem, budget, seed) -> Trace
    seeds: int = None      # at most this many seeds (None: all)
    note: str = ""


class _BudgetExhausted(Exception):
    pass


class _CountedObjective:
    """``f`` for a peer: counts calls, records each gap, stops at the budget."""

    def __init__(self, problem, budget):
        self.problem = problem
        self.budget = budget
        self.gaps = np.empty(budget)
        self.count = 0

    def __call__(self, x):
        if self.count >= self.budget:
            raise _BudgetExhausted
        x = np.asarray(x, dtype=float)
        f = self.problem.fun(x)
        self.gaps[self.count] = f - self.problem.f_star
        self.count += 1
        return f

    def trace(self, note):
        gaps = np.minimum.accumulate(self.gaps[:self.count])
        gap0 = self.problem.gap(self.problem.x0)
        return Trace(np.arange(self.count + 1), np.concatenate([[gap0], gaps]),
                     note)


# -- library methods ----------------------------------------------------------------
def run_guided_es(problem, budget, seed, *, guided=True, n_pairs=1, **options):
    """`minimize_guided_es` for ``budget // (2 P)`` iterations; centre recorded."""
    evals, gaps = [0], [problem.gap(problem.x0)]

    def callback(intermediate_result):
        if intermediate_result.nit <= 100 or intermediate_result.nit % RECORD_EVERY == 0:
            evals.append(intermediate_result.nfev)
            gaps.append(problem.gap(intermediate_result.x))

    with warnings.catch_warnings():
        warnings.simplefilter("error", scipy.optimize.OptimizeWarning)
        res = minimize_guided_es(
            problem.fun, problem.x0,
            problem.surrogate_grad if guided else None,
            n_pairs=n_pairs, maxiter=budget // (2 * n_pairs), callback=callback,
            rng=seed, **options)
    return Trace(np.array(evals), np.array(gaps),
                 f"{res.nit} iterations; the final evaluation at x is not counted")


def probe_auto_alpha():
    """None if ``alpha='auto'`` is accepted by the installed library, else why not."""
    try:
        minimize_guided_es(lambda x: float(x @ x), np.ones(4), lambda x: 2 * x,
                           alpha="auto", subspace_dim=2, maxiter=3, rng=0)
    except Exception as exc:   # TypeError/ValueError from the argument checks
        return f"{type(exc).__name__}: {exc}"
    return None


# -- peers --------------------------------------------------------------------
def run_surrogate_descent(problem, budget, seed, *, learning_rate):
    """x <- x - lr * surrogate(x), one evaluation per surrogate call."""
    x = problem.x0.copy()
    evals, gaps = [0], [problem.gap(x)]
    note = f"lr = {learning_rate:g}"
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, budget + 1):
            x -= learning_rate * problem.surrogate_grad(x)
            if t <= 100 or t % RECORD_EVERY == 0 or t == budget:
                evals.append(t)
                gaps.append(problem.gap(x))
                if not np.isfinite(gaps[-1]) or gaps[-1] > 1e12:
                    note += f"; diverged after {t} steps"
                    gaps[-1] = np.inf
                    evals.append(budget)
                    gaps.append(np.inf)
                    break
    note += f"; best recorded along the path {min(gaps):.3g}"
    return Trace(np.array(evals), np.array(gaps), note)


def run_scipy(problem, budget, seed, *, method):
    """`scipy.optimize.minimize` with the evaluation budget as its limit."""
    f = _CountedObjective(problem, budget)
    if method == "L-BFGS-B":
        kwargs = dict(jac=problem.surrogate_grad,
                      options={"maxfun": budget, "maxiter": budget})
    elif method == "Nelder-Mead":
        kwargs = dict(options={"maxfev": budget, "maxiter": budget,
                               "adaptive": True})
    else:
        kwargs = dict(options={"maxfev": budget})
    try:
        res = scipy.optimize.minimize(f, problem.x0, method=method, **kwargs)
        note = f"stopped: {res.message}"
    except _BudgetExhausted:
        note = "ran to the budget"
    return f.trace(note)


def run_cma(problem, budget, seed, *, sigma0):
    """pycma's CMA-ES (default options) through ask/tell."""
    import cma
    f = _CountedObjective(problem, budget)
    es = cma.CMAEvolutionStrategy(problem.x0, sigma0,
                                  {"seed": seed + 1, "maxfevals": budget,
                                   "verbose": -9})
    note = "ran to the budget"
    try:
        while not es.stop():
            X = es.ask()
            es.tell(X, [f(x) for x in X])
        note = f"stopped: {dict(es.stop())}"
    except _BudgetExhausted:
        pass
    return f.trace(f"sigma0 = {sigma0:g}, population {es.popsize}; {note}")


def run_ngopt(problem, budget, seed):
    """nevergrad's NGOpt with the evaluation budget; one worker."""
    import nevergrad as ng
    f = _CountedObjective(problem, budget)
    param = ng.p.Array(init=problem.x0)
    param.random_state = np.random.RandomState(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = ng.optimizers.NGOpt(parametrization=param, budget=budget,
                                  num_workers=1)
        try:
            for _ in range(budget):
                cand = opt.ask()
                opt.tell(cand, f(cand.value))
        except _BudgetExhausted:
            pass
    chosen = getattr(getattr(opt, "optim", None), "name", None) or "?"
    return f.trace(f"NGOpt chose {chosen}")


# -- the table ------------------------------------------------------------------------
PAPER = dict(sigma=0.1, alpha=0.5, beta=2.0, n_pairs=1, subspace_dim=1,
             step="sgd", learning_rate=0.2)
#: The best cell of the grid of ``benchmarks/adaptive.py --only subspace``
#: (k in {1, 3, 10, 20, 30}, lr in {0.2, 0.4, 0.6, 0.8}, alpha in {0.25, 0.5,
#: 0.75, 0.9}; 3 seeds) within a few percent, with the smaller k.
RECOMMENDED = dict(PAPER, subspace_dim=10, learning_rate=0.6, alpha=0.75)


def _settings(options):
    return (f"k={options['subspace_dim']}, lr={options['learning_rate']:g}"
            + (f", alpha={options['alpha']:g}" if options["alpha"] != PAPER["alpha"] else ""))

GD_LEARNING_RATES = (0.002, 0.005, 0.01, 0.02)


def method_table(*, cma_sigma0=0.1, gd_rates=GD_LEARNING_RATES, auto_alpha=True,
                 seed_caps=None):
    """The methods, in report order.

    Parameters
    ----------
    cma_sigma0 : float
        Initial step size of CMA-ES.
    gd_rates : sequence of float
        Learning rates tried for gradient descent on the surrogate (one row
        each; the report names the best).
    auto_alpha : bool
        Include ``alpha='auto'`` if the library accepts it; the row is
        dropped with a note otherwise (see `probe_auto_alpha`).
    seed_caps : dict, optional
        Fewer seeds for some rows, to bound the run time: keys ``"gd"`` (each
        learning rate of the sweep), ``"nelder_mead"``, ``"cma"``,
        ``"ngopt"``; values the number of seeds (default: all).
    """
    caps = dict(seed_caps or {})
    p = functools.partial
    methods = [
        Method("Guided ES, paper settings (k=1, lr=0.2)", "library", CENTRE,
               p(run_guided_es, **PAPER)),
        Method(f"Guided ES, recommended ({_settings(RECOMMENDED)})", "library", CENTRE,
               p(run_guided_es, **RECOMMENDED)),
    ]
    skipped = {}
    if auto_alpha:
        label = f"Guided ES, alpha='auto' ({_settings(dict(RECOMMENDED, alpha=PAPER['alpha']))})"
        why = probe_auto_alpha()
        if why is None:
            methods.append(Method(label, "library", CENTRE,
                                  p(run_guided_es, **dict(RECOMMENDED, alpha="auto"))))
        else:
            skipped[label] = f"not run: the installed library refuses it ({why})"
    methods.append(Method("Vanilla ES (alpha=1, lr=0.2)", "peer", CENTRE,
                          p(run_guided_es, guided=False, **dict(PAPER, alpha=1.0))))
    for lr in gd_rates:
        methods.append(Method(f"GD on surrogate, lr={lr:g}", "peer", CENTRE,
                              p(run_surrogate_descent, learning_rate=lr),
                              seeds=caps.get("gd")))
    methods += [
        Method("scipy Powell", "peer", BEST, p(run_scipy, method="Powell")),
        Method("scipy Nelder-Mead (adaptive)", "peer", BEST,
               p(run_scipy, method="Nelder-Mead"), seeds=caps.get("nelder_mead")),
        Method("scipy L-BFGS-B (jac=surrogate)", "peer", BEST,
               p(run_scipy, method="L-BFGS-B")),
        Method(f"pycma CMA-ES (sigma0={cma_sigma0:g})", "peer", BEST,
               p(run_cma, sigma0=cma_sigma0), seeds=caps.get("cma")),
        Method("nevergrad NGOpt", "peer", BEST, run_ngopt, seeds=caps.get("ngopt")),
    ]
    return methods, skipped
