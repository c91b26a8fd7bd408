"""The methods of the suite, each at its documented defaults, and how they are recorded.

A method is a `Method`: a key, a row label, who provides it (``"library"`` or
``"peer"``), what its curve measures, and ``run(problem, budget, seed)``
returning a `Trace`. `method_table` lists them for a family.

Initial step sizes
------------------
Peers that need one get a single rule for every problem: ``sigma0 =
problem.x_scale / 10`` (CMA-ES's sigma0, NGOpt's mutation scale, the
perturbation scale of SGES); Adam on the surrogate, one step per
evaluation, uses ``lr = sigma0 / 10``; Adam on the estimates of P-RGF and
SGES, one step per 10 to 22 evaluations, uses ``lr = sigma0``; P-RGF's
forward-difference step is ``sigma0 / 100``. ``x_scale`` is stated by each family (the per-coordinate
size of ``x0 - x*`` known from its construction) and moves with the
rescalings. The library gets nothing of it: it is called with its defaults.

What is recorded
----------------
- The library (``minimize_guided_es``): through its new-style callback,
  ``f - f*`` at the centre ``intermediate_result.x`` against
  ``intermediate_result.nfev``, at every iteration up to the 100th and every
  10th after that, as a running minimum (the library returns the best
  centre it knows), then at ``res.x`` and ``res.nfev``. If it stops by itself
  before the budget, its last value stands for the rest of the budget.
- Adam on the surrogate: ``f - f*`` at the iterate, one surrogate call
  counted as one evaluation.
- Every other peer: ``f - f*`` of the best point evaluated so far, after
  every evaluation (the usual convention for black-box optimisers).

Counting: one call of ``f`` is one evaluation; surrogate-gradient calls are
free for Guided ES, CMA-ES with ``gradf``, P-RGF and L-BFGS-B, as in the
Guided ES paper. Every peer is stopped at the budget exactly.
"""

import dataclasses
import functools
import warnings

import numpy as np
import scipy.optimize

from ges_minimize import minimize_guided_es

from ._adam import Adam
from .prgf import minimize_prgf
from .sges import minimize_sges

__all__ = ["Method", "Trace", "method_table", "PAPER", "RECORD_EVERY"]

CENTRE = "centre"
BEST = "best so far"
#: The library's centre is recorded at every iteration up to the 100th, then every 10th.
RECORD_EVERY = 10


@dataclasses.dataclass
class Trace:
    """``gap[i]`` is the recorded ``f - f*`` after ``evals[i]`` evaluations."""

    evals: np.ndarray
    gap: np.ndarray
    note: str = ""
    seconds: float = float("nan")
    cpu_seconds: float = float("nan")
    final: float = float("nan")        # gap at the returned point
    extra: dict = dataclasses.field(default_factory=dict)

    def at(self, budget):
        """The recorded gap after at most `budget` evaluations."""
        i = np.searchsorted(self.evals, budget, side="right") - 1
        return float(self.gap[max(i, 0)])

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
    key: str
    label: str
    source: str            # "library" or "peer"
    measures: str          # CENTRE or BEST
    run: object            # run(problem, budget, seed) -> Trace


class _BudgetExhausted(Exception):
    pass


class _Solved(Exception):
    pass


class _CountedObjective:
    """``f`` for a peer: counts calls, records each gap, stops at the budget.

    With ``stop_below`` set (the attack), the run ends at the first value
    below it.
    """

    def __init__(self, problem, budget, stop_below=None):
        self.problem, self.budget, self.stop_below = problem, budget, stop_below
        self.gaps = np.empty(budget)
        self.count = 0

    def __call__(self, x):
        if self.count >= self.budget:
            raise _BudgetExhausted
        x = np.asarray(x, dtype=float)
        f = self.problem.fun(x)
        self.gaps[self.count] = self.problem.gap(x) if self.problem.f_star is not None else f
        self.count += 1
        if self.stop_below is not None and f < self.stop_below:
            raise _Solved
        return f

    def trace(self, note):
        gaps = np.minimum.accumulate(self.gaps[:self.count])
        gap0 = self.problem.gap(self.problem.x0)
        t = Trace(np.arange(self.count + 1), np.concatenate([[gap0], gaps]), note)
        t.final = float(t.gap[-1])
        return t


def _sigma0(problem):
    return problem.x_scale / 10.0


def _attack(problem):
    return getattr(problem, "stop_below", None) is not None


# -- the library ----------------------------------------------------------------
PAPER = dict(sigma=0.1, alpha=0.5, beta=2.0, n_pairs=1, subspace_dim=1,
             step="sgd", learning_rate=0.2)


def run_library(problem, budget, seed, *, guided=True, **options):
    """`minimize_guided_es` with `options` only (none: the library's defaults)."""
    surrogate = problem.surrogate_grad if guided else None
    if _attack(problem):          # success at the first query below 0, every query counted
        f = _CountedObjective(problem, budget, stop_below=problem.stop_below)
        note = ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = minimize_guided_es(f, problem.x0, surrogate, maxfev=budget,
                                         rng=seed, **options)
            note = f"stopped by itself: {res.message}"
        except (_Solved, _BudgetExhausted):
            pass
        return f.trace(note)
    best = problem.gap(problem.x0)
    evals, gaps = [0], [best]

    def callback(intermediate_result):
        nonlocal best
        if intermediate_result.nit <= 100 or intermediate_result.nit % RECORD_EVERY == 0:
            best = min(best, problem.gap(intermediate_result.x))
            evals.append(intermediate_result.nfev)
            gaps.append(best)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = minimize_guided_es(problem.fun, problem.x0, surrogate, maxfev=budget,
                                     callback=callback, rng=seed, **options)
    except Exception as exc:                    # a failing library is reported, not hidden
        t = Trace(np.array(evals), np.array(gaps), f"failed: {type(exc).__name__}: {exc}")
        t.final = float(gaps[-1])
        return t
    final = problem.gap(res.x)
    evals.append(min(res.nfev, budget))
    gaps.append(min(best, final))
    t = Trace(np.array(evals), np.array(gaps),
              f"{res.nit} iterations, {res.nfev} evaluations; status {res.status}"
              + (" (stopped by itself before the budget)" if res.nfev < budget - 2 * 10
                 else ""))
    t.final = float(final)
    t.extra["status"] = int(res.status)
    return t


# -- peers ---------------------------------------------------------------------
def run_adam_surrogate(problem, budget, seed):
    """Adam on the surrogate, lr = sigma0 / 10; one surrogate call = one evaluation."""
    lr = _sigma0(problem) / 10
    adam = Adam(lr)
    x = problem.x0.copy()
    evals, gaps = [0], [problem.gap(x)]
    note = f"lr = {lr:.3g}"
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, budget + 1):
            x = adam.step(x, problem.surrogate_grad(x))
            if t <= 100 or t % RECORD_EVERY == 0 or t == budget:
                evals.append(t)
                gaps.append(problem.gap(x))
                if not np.isfinite(gaps[-1]):
                    note += f"; diverged after {t} steps"
                    gaps[-1] = np.inf
                    break
    tr = Trace(np.array(evals), np.array(gaps, dtype=float), note)
    tr.final = float(gaps[-1])
    return tr


def _counted(problem, budget):
    return _CountedObjective(problem, budget, getattr(problem, "stop_below", None))


def run_scipy(problem, budget, seed, *, method):
    """`scipy.optimize.minimize` at its defaults, the budget as its limit."""
    f = _counted(problem, budget)
    if method == "L-BFGS-B":
        kwargs = dict(jac=problem.surrogate_grad,
                      options={"maxfun": budget, "maxiter": budget})
    else:
        kwargs = dict(options={"maxfev": budget})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = scipy.optimize.minimize(f, problem.x0, method=method, **kwargs)
        note = f"stopped: {res.message}"
    except (_BudgetExhausted, _Solved):
        note = "ran to the budget"
    return f.trace(note)


def run_cma(problem, budget, seed, *, with_gradient):
    """pycma CMA-ES at its default options, sigma0 = x_scale / 10; the
    surrogate (if any) through ``ask(gradf=...)``."""
    import cma
    f = _counted(problem, budget)
    sigma0 = _sigma0(problem)
    note = "ran to the budget"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = cma.CMAEvolutionStrategy(problem.x0, sigma0,
                                      {"seed": seed + 1, "maxfevals": budget,
                                       "verbose": -9})
        try:
            while not es.stop():
                X = es.ask(gradf=problem.surrogate_grad) if with_gradient else es.ask()
                es.tell(X, [f(x) for x in X])
            note = f"stopped: {dict(es.stop())}"
        except (_BudgetExhausted, _Solved):
            pass
    return f.trace(f"sigma0 = {sigma0:.3g}, population {es.popsize}; {note}")


def run_ngopt(problem, budget, seed):
    """nevergrad's NGOpt with the budget, one worker, mutation sigma = x_scale / 10."""
    import nevergrad as ng
    f = _counted(problem, budget)
    param = ng.p.Array(init=problem.x0).set_mutation(sigma=_sigma0(problem))
    param.random_state = np.random.RandomState(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = ng.optimizers.NGOpt(parametrization=param, budget=budget, num_workers=1)
        failed = ""
        try:
            for _ in range(budget):
                cand = opt.ask()
                opt.tell(cand, f(cand.value))
        except (_BudgetExhausted, _Solved):
            pass
        except Exception as exc:   # nevergrad's own errors: the run ends there, reported
            failed = f"; nevergrad failed after {f.count} evaluations ({type(exc).__name__}: {exc})"
    chosen = getattr(getattr(opt, "optim", None), "name", None) or "?"
    return f.trace(f"NGOpt chose {chosen}{failed}")


def run_prgf(problem, budget, seed):
    """P-RGF (benchmarks/prgf.py): q = 10, S = 10, Adam lr = sigma0 (it takes one
    step per 12 to 22 evaluations),
    forward-difference step sigma0 / 100."""
    f = _counted(problem, budget)
    s0 = _sigma0(problem)
    try:
        minimize_prgf(f, problem.x0, problem.surrogate_grad, maxfev=budget + 1,
                      sigma=s0 / 100, learning_rate=s0, rng=seed)
    except (_BudgetExhausted, _Solved):
        pass
    return f.trace("q = 10, S = 10, Adam lr = %.3g" % s0)


def run_sges(problem, budget, seed):
    """Self-Guided ES (benchmarks/sges.py): k = 10, P = 5, sigma = sigma0,
    Adam lr = sigma0 (one step per 10 evaluations)."""
    f = _counted(problem, budget)
    s0 = _sigma0(problem)
    try:
        minimize_sges(f, problem.x0, maxfev=budget + 1, sigma=s0, learning_rate=s0,
                      rng=seed)
    except (_BudgetExhausted, _Solved):
        pass
    return f.trace("k = 10, P = 5, sigma = %.3g, Adam lr = %.3g" % (s0, s0))


# -- the tables ----------------------------------------------------------------
#: Library rows that only some families run (their spec's ``extra``).
NONMONOTONE_WINDOW = 30
EXTRA_LABELS = {"nonmonotone": f"Guided ES, nonmonotone={NONMONOTONE_WINDOW}"}


def method_table(kind, extra=()):
    """The methods for a family, in report order.

    Parameters
    ----------
    kind : {"surrogate", "none", "useless", "alpha", "rescaling"}
        ``"surrogate"``: families with a surrogate gradient; ``"none"``: the
        no-surrogate family; ``"useless"``: a surrogate independent of the
        gradient, against vanilla ES with the library's adaptive step
        (``alpha=1``); ``"alpha"``: the defaults, ``alpha='auto'`` and fixed
        alphas; ``"rescaling"``: the rescaling grid (the library's
        defaults and CMA-ES with ``gradf`` only).
    extra : sequence of str
        Keys of `EXTRA_LABELS`: library rows added after the defaults
        (``"nonmonotone"``: non-monotone acceptance over the last 30
        centres, the option suggested for piecewise-constant objectives).
    """
    p = functools.partial
    table = _method_table(kind)
    extras = {"nonmonotone": Method("nonmonotone", EXTRA_LABELS["nonmonotone"], "library",
                                    CENTRE, p(run_library, nonmonotone=NONMONOTONE_WINDOW))}
    return table[:1] + [extras[key] for key in extra] + table[1:]


def _method_table(kind):
    p = functools.partial
    lib_defaults = Method("defaults", "Guided ES, library defaults", "library", CENTRE,
                          run_library)
    cma_grad = Method("cma_grad", "pycma CMA-ES, ask(gradf=surrogate)", "peer", BEST,
                      p(run_cma, with_gradient=True))
    if kind == "rescaling":
        return [lib_defaults, cma_grad]
    cma = Method("cma", "pycma CMA-ES", "peer", BEST, p(run_cma, with_gradient=False))
    ngopt = Method("ngopt", "nevergrad NGOpt", "peer", BEST, run_ngopt)
    powell = Method("powell", "scipy Powell", "peer", BEST, p(run_scipy, method="Powell"))
    if kind == "alpha":
        return [lib_defaults,
                Method("auto", "Guided ES, alpha='auto'", "library", CENTRE,
                       p(run_library, alpha="auto"))] + [
            Method(f"alpha{a:g}", f"Guided ES, alpha={a:g}", "library", CENTRE,
                   p(run_library, alpha=a)) for a in (0.25, 0.5, 0.9)] + [cma_grad]
    if kind == "useless":
        return [
            lib_defaults,
            Method("vanilla_auto", "Vanilla ES, library defaults with alpha=1 (no surrogate)",
                   "library", CENTRE, p(run_library, guided=False, alpha=1.0)),
            Method("defaults_none", "Guided ES, library defaults (no surrogate)", "library",
                   CENTRE, p(run_library, guided=False)),
            cma_grad, cma]
    if kind == "none":
        return [
            Method("defaults", "Guided ES, library defaults (no surrogate)", "library",
                   CENTRE, p(run_library, guided=False)),
            Method("self_guided", "Guided ES, self_guided=True", "library", CENTRE,
                   p(run_library, guided=False, self_guided=True)),
            Method("vanilla_paper", "Vanilla ES, paper settings (alpha=1)", "library",
                   CENTRE, p(run_library, guided=False, **dict(PAPER, alpha=1.0))),
            Method("sges", "Self-Guided ES (SGES)", "peer", BEST, run_sges),
            cma, ngopt, powell]
    return [
        lib_defaults,
        Method("paper", "Guided ES, paper settings", "library", CENTRE,
               p(run_library, **PAPER)),
        Method("auto", "Guided ES, alpha='auto'", "library", CENTRE,
               p(run_library, alpha="auto")),
        Method("vanilla_paper", "Vanilla ES, paper settings (alpha=1)", "library", CENTRE,
               p(run_library, guided=False, **dict(PAPER, alpha=1.0))),
        cma_grad, cma,
        Method("prgf", "P-RGF (prior = surrogate)", "peer", BEST, run_prgf),
        Method("adam", "Adam on the surrogate", "peer", CENTRE, run_adam_surrogate),
        Method("lbfgsb", "scipy L-BFGS-B (jac=surrogate)", "peer", BEST,
               p(run_scipy, method="L-BFGS-B")),
        ngopt, powell]
