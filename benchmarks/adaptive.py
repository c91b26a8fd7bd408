"""Benchmark of ``alpha='auto'`` and of the self-guided mode.

Prints markdown tables:

1. The perturbed quadratic (n = 1000, m = 2000) in four surrogate regimes:
   ``useless`` (a fresh random direction, rho ~ 1/sqrt(n)), ``paper``
   (bias 1, noise 1.5, rho ~ 0.49 at a random point), ``accurate`` (bias 0.2,
   noise 0.25, rho ~ 0.95) and ``switch`` (useless for the first half of
   the run, accurate after). For each: ``alpha='auto'`` against every fixed
   alpha in {0, 0.1, 0.25, 0.5, 0.75, 1}, median f - f* over the seeds at
   20,000 evaluations, and the estimated rho beside the true one; once at
   the paper's settings (k = 1, lr 0.2) and once at the recommended ones
   (k = 10, lr 0.6), see ``--regime-k`` and ``--regime-lr``.
2. No surrogate at all (the quadratic, Rosenbrock and a shifted sphere, all
   at n = 1000): self-guided ES against vanilla ES and pycma's CMA-ES on the
   same budget.
3. The subspace dimension k, the learning rate and alpha on the paper's
   problem (k in {1, 3, 10, 20}, lr in {0.2, 0.4, 0.6}, alpha in {0.25,
   0.5, 0.75, 0.9, 'auto'}; 3 seeds by default), with median and range, the
   true rho
   ``|U^T grad| / |grad|`` of the guiding subspace over the second half of
   the run, and, for k = 1 and k = 10 at alpha 0.5, that rho, the rho of the
   newest surrogate, ``cos(grad, bias)``, ``|U^T bias|``, the estimated rho
   and f - f* along the trajectory. These runs go through `GuidedES`'s
   ask/tell loop in the order of `minimize_guided_es` (same results) so as to
   read ``GuidedES.basis``.

Run ``python benchmarks/adaptive.py`` (about 40 minutes on two cores for
tables 1 and 2; table 3 is 180 runs of 10,000 iterations, about 25 minutes on
two idle cores) or ``python benchmarks/adaptive.py --quick`` (a smoke run
with tiny budgets, whose numbers mean nothing). ``--only subspace`` with
``--ks``, ``--lrs``, ``--alphas`` runs part of table 3, and ``--cache DIR``
keeps each run of it so that later calls (a larger grid) reuse them.

The quadratic is evaluated cheaply but exactly: ``f(x) = x^T H x / 2 - c^T x
+ const`` with ``H = A^T A / m`` and ``c = A^T b / m`` computed once (the
same function as `ges_minimize.problems.PerturbedQuadratic`, with one
1000 x 1000 product instead of two 2000 x 1000 ones), and ``H x`` is carried
along the path of the centre: with one antithetic pair and SGD every move of
the centre is a multiple of the last perturbation, whose product with ``H``
was computed anyway (recomputed from scratch every 100 iterations, and
whenever the centre leaves that line).
"""

import argparse
import sys
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from ges_minimize import GuidedES, minimize_guided_es
from ges_minimize.problems import PerturbedQuadratic, Rosenbrock, Sphere

ALPHAS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
PAPER = dict(sigma=0.1, beta=2.0, n_pairs=1, subspace_dim=1, step="sgd",
             learning_rate=0.2)
#: (bias_scale, noise_scale) of each half of the run; None: a random direction
REGIMES = {
    "useless": (None, None),
    "paper": ((1.0, 1.5), (1.0, 1.5)),
    "accurate": ((0.2, 0.25), (0.2, 0.25)),
    "switch": (None, (0.2, 0.25)),
}


class FastQuadratic:
    """`PerturbedQuadratic` evaluated through ``H = A^T A / m``.

    Parameters
    ----------
    seed : int
        Seed of the `PerturbedQuadratic` (its ``A``, ``b`` and bias).
    regime : tuple
        ``(first, second)`` surrogate of each half of `n_calls`: a pair
        ``(bias_scale, noise_scale)``, or None for a random direction scaled
        by ``|grad|``.
    n_calls : int
        Surrogate calls of a whole run; the regime switches at half.
    """

    REFRESH = 100

    def __init__(self, seed, regime=((1.0, 1.5), (1.0, 1.5)), n_calls=10_000):
        p = PerturbedQuadratic(seed=seed)
        self.n = p.n
        self.H, self.c = p._H, p._c       # A^T A / m and A^T b / m, made once
        self.const = p.b @ p.b / (2 * p.m)
        self.bias = p.bias
        self.x0 = p.x0
        self.f_star = self.value(p.x_star)
        self.regime = regime
        self.half = n_calls // 2
        self.calls = 0
        self.noise_rng = np.random.default_rng([seed, 1])
        self.true_rho = []          # |cos(surrogate, grad)| at each call
        self._line = None           # (x, Hx, e, He, age)

    def _hx(self, x):
        """``H @ x``, from the cached line through the last centre if on it."""
        if self._line is not None:
            x0, hx0, e, he, age = self._line
            d = x - x0
            s = (d @ e) / (e @ e)
            resid = d - s * e
            if age < self.REFRESH and resid @ resid <= 1e-24 * (x @ x + d @ d):
                return hx0 + s * he, age + 1
        return self.H @ x, 0

    def value(self, x):
        return 0.5 * x @ (self.H @ x) - self.c @ x + self.const

    def fun(self, X):
        """Vectorized: ``X`` of shape (n, 2) holds ``x + e`` and ``x - e``."""
        if X.ndim == 1 or X.shape[1] == 1:      # one point: the final value
            return self.value(X) if X.ndim == 1 else np.array([self.value(X[:, 0])])
        x = 0.5 * (X[:, 0] + X[:, 1])
        e = 0.5 * (X[:, 0] - X[:, 1])
        hx, age = self._hx(x)
        he = self.H @ e
        self._line = (x, hx, e, he, age)
        base = 0.5 * x @ hx - self.c @ x + self.const
        lin = e @ (hx - self.c)
        quad = 0.5 * e @ he
        return np.array([base + lin + quad, base - lin + quad])

    def grad(self, x):
        hx, _ = self._hx(x)
        return hx - self.c

    def surrogate_grad(self, x):
        g = self.grad(x)
        kind = self.regime[0 if self.calls < self.half else 1]
        self.calls += 1
        noise = self.noise_rng.standard_normal(self.n)
        noise /= np.linalg.norm(noise)
        norm = np.linalg.norm(g)
        if kind is None:
            s = noise * norm
        else:
            s = g + (kind[0] * self.bias + kind[1] * noise) * norm
        self.true_rho.append(abs(s @ g) / (np.linalg.norm(s) * norm))
        return s


# -- runs -------------------------------------------------------------------

def _quadratic_run(regime, seed, iters, options):
    """f - f*, the mean alpha, and (estimated, true) rho averaged by quarters."""
    prob = FastQuadratic(seed, REGIMES[regime], n_calls=iters)
    est, alphas = [], []

    def record(intermediate_result):
        est.append(intermediate_result.rho)
        alphas.append(intermediate_result.alpha)

    opts = dict(PAPER)
    opts.update(options)
    res = minimize_guided_es(prob.fun, prob.x0, prob.surrogate_grad,
                             vectorized=True, maxiter=iters, rng=seed,
                             callback=record, **opts)
    quarters = np.array_split(np.arange(len(est)), 4)
    est, true = np.array(est), np.array(prob.true_rho)
    with warnings.catch_warnings():         # alpha = 0: rho is never estimated
        warnings.simplefilter("ignore", RuntimeWarning)
        rho = [(float(np.nanmean(est[q])), float(np.mean(true[q]))) for q in quarters]
    return res.fun - prob.f_star, float(np.mean(alphas)), rho


def _no_surrogate_run(name, method, seed, budget):
    """f - f* after `budget` evaluations for one method on one problem."""
    if name == "quadratic":
        prob = FastQuadratic(seed)
        fun, x0, f_star, vec, lr = prob.fun, prob.x0, prob.f_star, True, 0.2
    elif name == "sphere":
        prob = Sphere(n=1000, seed=seed)
        fun, x0, f_star, vec, lr = prob.fun, prob.x0, 0.0, False, 0.2
    else:
        prob = Rosenbrock(n=1000, seed=seed)
        fun, x0, f_star, vec, lr = prob.fun, prob.x0, 0.0, False, 1e-4
    if method == "cma":
        import cma
        value = prob.value if name == "quadratic" else fun
        es = cma.CMAEvolutionStrategy(x0, 0.5, {
            "maxfevals": budget, "seed": seed + 1, "verbose": -9,
            "CMA_diagonal": True})
        while not es.stop():
            pop = es.ask()
            es.tell(pop, [value(p) for p in pop])
        return es.result.fbest - f_star
    opts = dict(PAPER, learning_rate=lr, alpha=1.0)
    if method == "self":
        opts.update(alpha="auto", self_guided=True, subspace_dim=1)
    elif method == "self-raw":
        opts.update(alpha="auto", self_guided=0.0, subspace_dim=10)
    res = minimize_guided_es(fun, x0, vectorized=vec, maxiter=budget // 2,
                             rng=seed, **opts)
    return res.fun - f_star


def _in_one_thread(function, *args):
    with threadpool_limits(1):
        return function(*args)


def _parallel(jobs, n_jobs):
    """Results in order; each also logged to stderr as it arrives."""
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_in_one_thread)(*job) for job in jobs)
    out = []
    for job, result in zip(jobs, results):
        print(job[1:], result, file=sys.stderr, flush=True)
        out.append(result)
    return out


def _fmt(value):
    return "0 (<1e-12)" if value < 1e-12 else f"{value:.2e}"


def regimes_table(seeds, iters, n_jobs, k=1, lr=0.2):
    base = dict(subspace_dim=k, learning_rate=lr)
    configs = [("auto", dict(base, alpha="auto"))] + [
        (f"{a:g}", dict(base, alpha=a)) for a in ALPHAS]
    jobs = [(_quadratic_run, regime, seed, iters, opts)
            for regime in REGIMES for _, opts in configs for seed in seeds]
    out = iter(_parallel(jobs, n_jobs))
    print(f"\n### alpha='auto' vs fixed alpha: median f - f* over {len(seeds)} "
          f"seeds, {2 * iters} evaluations (k = {k}, P = 1, beta 2, SGD lr {lr:g})\n")
    print("| regime | auto | " + " | ".join(f"alpha={n}" for n, _ in configs[1:])
          + " | auto / best fixed | auto / vanilla | mean alpha of auto |")
    print("|---" * (len(configs) + 4) + "|")
    rho_rows = []
    for regime in REGIMES:
        medians, auto_alpha = [], None
        for name, _ in configs:
            runs = [next(out) for _ in seeds]
            medians.append(float(np.median([r[0] for r in runs])))
            if name == "auto":
                auto_alpha = np.mean([r[1] for r in runs])
                rho_rows.append((regime, np.mean([r[2] for r in runs], axis=0)))
        floor = 1e-12
        best = max(min(medians[1:]), floor)
        ratio_best = max(medians[0], floor) / best
        ratio_vanilla = max(medians[0], floor) / max(medians[-1], floor)
        print(f"| {regime} | " + " | ".join(_fmt(m) for m in medians)
              + f" | {ratio_best:.2f} | {ratio_vanilla:.2f} | {auto_alpha:.2f} |")
    print("\nEstimated rho (alpha='auto' runs) vs true |cos(surrogate, grad)| at "
          "the centre, mean over each quarter of the run and over seeds:\n")
    print("| regime | Q1 est / true | Q2 | Q3 | Q4 |")
    print("|---|---|---|---|---|")
    for regime, rho in rho_rows:
        print(f"| {regime} | " + " | ".join(f"{e:.3f} / {t:.3f}" for e, t in rho) + " |")


def no_surrogate_table(seeds, budget, n_jobs):
    problems = ("quadratic", "rosenbrock", "sphere")
    methods = ("vanilla", "self", "self-raw", "cma")
    jobs = [(_no_surrogate_run, p, m, s, budget)
            for p in problems for m in methods for s in seeds]
    out = iter(_parallel(jobs, n_jobs))
    print(f"\n### No surrogate, n = 1000: median f - f* over {len(seeds)} seeds, "
          f"{budget} evaluations\n")
    print("vanilla ES: alpha 1; self-guided: alpha='auto', self_guided=True "
          "(moving average of the estimates, decay 0.97), k = 1; self-guided, raw "
          "estimates: alpha='auto', self_guided=0.0, k = 10; all sigma 0.1, beta 2, "
          "P = 1, SGD lr 0.2 (Rosenbrock 1e-4: at 1e-3 every ES run diverged). "
          "CMA-ES: pycma, diagonal covariance (sep-CMA-ES), sigma0 0.5, "
          "default population.\n")
    print("| problem | vanilla ES | self-guided ES | self-guided, raw estimates "
          "| sep-CMA-ES |")
    print("|---|---|---|---|---|")
    for p in problems:
        cells = [_fmt(float(np.median([next(out) for _ in seeds]))) for _ in methods]
        print(f"| {p} | " + " | ".join(cells) + " |")


#: The grid of the subspace table (paper regime, sigma 0.1, beta 2, P = 1, SGD).
SUBSPACE_KS = (1, 3, 10, 20)
SUBSPACE_LRS = (0.2, 0.4, 0.6)
SUBSPACE_ALPHAS = (0.25, 0.5, 0.75, 0.9, "auto")
#: Configurations whose correlation along the trajectory is printed in full.
TRAJECTORY = [(k, lr, 0.5) for k in (1, 10) for lr in SUBSPACE_LRS]
#: Window edges, as fractions of the run, over which that correlation is averaged.
WINDOW_EDGES = (0.0, 0.001, 0.01, 0.1, 0.5, 1.0)


def _window_edges(iters):
    return sorted({0} | {max(1, round(e * iters)) for e in WINDOW_EDGES})


def _subspace_run(seed, iters, alpha, k, lr):
    """One paper-regime run through `GuidedES`, with the true rho recorded.

    The loop is that of `minimize_guided_es` (surrogate gradient at the
    centre first, then ask and tell), so the run is the same. At every
    iteration, with the basis ``U`` that shapes that iteration's
    perturbations and the true gradient ``g`` at the centre, it records
    ``|U^T g| / |g|`` (the true rho of the guiding subspace), the rho of the
    newest surrogate alone, ``cos(g, bias)``, ``|U^T bias|`` (how much of the
    fixed bias direction the subspace holds) and the estimated rho.

    Returns f - f* at the end, an array (windows, 5) of those five means over
    each window of `_window_edges`, and f - f* at the end of each window.
    """
    prob = FastQuadratic(seed, REGIMES["paper"], n_calls=iters)
    opts = dict(PAPER, alpha=alpha, subspace_dim=k, learning_rate=lr,
                estimate_rho=True)
    es = GuidedES(prob.x0, rng=seed, **opts)
    edges = _window_edges(iters)
    trace = np.full((iters, 5), np.nan)
    gaps = []
    for t in range(iters):
        es.add_surrogate_grad(prob.surrogate_grad(es.x))
        g = prob.grad(es.x)
        U = es.basis
        g_norm = np.linalg.norm(g)
        trace[t, :4] = (np.linalg.norm(U.T @ g) / g_norm, prob.true_rho[-1],
                        (g @ prob.bias) / g_norm, np.linalg.norm(U.T @ prob.bias))
        es.tell(prob.fun(es.ask().T))
        trace[t, 4] = es.rho
        if t + 1 in edges:
            gaps.append(prob.value(es.x) - prob.f_star)
    with warnings.catch_warnings():     # no rho estimate at iteration 1
        warnings.simplefilter("ignore", RuntimeWarning)
        windows = np.array([np.nanmean(trace[a:b], axis=0)
                            for a, b in zip(edges[:-1], edges[1:])])
    return prob.value(es.x) - prob.f_star, windows, gaps


def _cached_subspace_run(cache, seed, iters, alpha, k, lr):
    """`_subspace_run`, its result kept in the directory `cache` if not None.

    The key is the arguments only: empty the directory after changing the
    problem or the optimizer.
    """
    if cache is None:
        return _subspace_run(seed, iters, alpha, k, lr)
    import os
    import pickle
    path = os.path.join(cache, f"subspace-{seed}-{iters}-{alpha}-{k}-{lr}.pkl")
    if os.path.exists(path):
        with open(path, "rb") as file:
            return pickle.load(file)
    result = _subspace_run(seed, iters, alpha, k, lr)
    os.makedirs(cache, exist_ok=True)
    with open(path + ".tmp", "wb") as file:
        pickle.dump(result, file)
    os.replace(path + ".tmp", path)
    return result


def subspace_table(seeds, iters, n_jobs, ks=SUBSPACE_KS, lrs=SUBSPACE_LRS,
                   alphas=SUBSPACE_ALPHAS, cache=None):
    configs = [(k, lr) for k in ks for lr in lrs]
    keys = [(k, lr, a) for k, lr in configs for a in alphas]
    jobs = [(_cached_subspace_run, cache, seed, iters, a, k, lr)
            for k, lr, a in keys for seed in seeds]
    # the most expensive (largest k) first, so the two workers end together
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][5])
    done = _parallel([jobs[i] for i in order], n_jobs)
    results = [None] * len(jobs)
    for i, r in zip(order, done):
        results[i] = r
    runs = {key: results[j * len(seeds):(j + 1) * len(seeds)]
            for j, key in enumerate(keys)}

    print(f"\n### Subspace dimension k, learning rate and alpha, paper regime "
          f"(n = 1000, bias 1, noise 1.5): f - f* after {2 * iters} "
          f"evaluations, median [min, max] over {len(seeds)} seeds\n")
    print("sigma 0.1, beta 2, P = 1, SGD; surrogate at the centre before each "
          "sample, as in `minimize_guided_es`.\n")
    print("| k | lr | " + " | ".join(f"alpha={a}" for a in alphas)
          + " | best |")
    print("|---" * (len(alphas) + 3) + "|")
    best_all = None
    for k, lr in configs:
        cells, medians = [], []
        for a in alphas:
            gaps = [r[0] for r in runs[k, lr, a]]
            med = float(np.median(gaps))
            medians.append(med)
            cells.append(f"{_fmt(med)} [{_fmt(min(gaps))}, {_fmt(max(gaps))}]")
            if best_all is None or med < best_all[0]:
                best_all = (med, k, lr, a)
        best = alphas[int(np.argmin(medians))]
        print(f"| {k} | {lr} | " + " | ".join(cells) + f" | {best} |")
    med, k, lr, a = best_all
    print(f"\nBest cell: k = {k}, lr = {lr}, alpha = {a}: median {_fmt(med)}.")

    half = len(_window_edges(iters)) - 2          # the last window: 2nd half
    print("\nTrue rho |U^T grad| / |grad| of the guiding subspace over the "
          "second half of the run (mean over the iterations, median over "
          "the seeds):\n")
    print("| k | lr | " + " | ".join(f"alpha={a}" for a in alphas) + " |")
    print("|---" * (len(alphas) + 2) + "|")
    for k, lr in configs:
        cells = [f"{np.median([r[1][half, 0] for r in runs[k, lr, a]]):.3f}"
                 for a in alphas]
        print(f"| {k} | {lr} | " + " | ".join(cells) + " |")

    edges = _window_edges(iters)
    names = ("true rho of U", "rho of newest surrogate", "cos(grad, bias)",
             "abs(U^T bias)", "estimated rho")
    print("\nAlong the trajectory (mean over each window of iterations, then "
          f"over the seeds; 1/sqrt(n) = {1 / np.sqrt(1000):.3f}):\n")
    print("| k | lr | alpha | quantity | " + " | ".join(
        f"it {a + 1}-{b}" for a, b in zip(edges[:-1], edges[1:])) + " |")
    print("|---" * (len(edges) + 3) + "|")
    for k, lr, a in TRAJECTORY:
        if (k, lr, a) not in runs:
            continue
        rs = runs[k, lr, a]
        windows = np.mean([r[1] for r in rs], axis=0)
        for q, name in enumerate(names):
            print(f"| {k} | {lr} | {a} | {name} | "
                  + " | ".join(f"{v:.3f}" for v in windows[:, q]) + " |")
        gaps = np.median([r[2] for r in rs], axis=0)
        print(f"| {k} | {lr} | {a} | f - f* at window end (median) | "
              + " | ".join(_fmt(v) for v in gaps) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 seeds, 300 iterations, a corner of "
                             "the subspace grid")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per cell (default 5; 3 for the subspace "
                             "table, whose grid is 32 configurations)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--only", choices=("regimes", "no-surrogate", "subspace"))
    parser.add_argument("--regime-k", type=int, nargs="+", default=[1, 10],
                        help="regimes table: subspace dimensions, one table each "
                             "(default 1 and 10)")
    parser.add_argument("--regime-lr", type=float, nargs="+", default=[0.2, 0.6],
                        help="regimes table: the learning rate of each k "
                             "(default 0.2 and 0.6)")
    parser.add_argument("--ks", type=int, nargs="+", default=SUBSPACE_KS,
                        help="subspace table: subspace dimensions")
    parser.add_argument("--lrs", type=float, nargs="+", default=SUBSPACE_LRS,
                        help="subspace table: learning rates")
    parser.add_argument("--alphas", nargs="+", default=SUBSPACE_ALPHAS,
                        help="subspace table: alphas (numbers or 'auto')")
    parser.add_argument("--cache", default=None,
                        help="subspace table: directory keeping each run's "
                             "result, so that a later call reuses it")
    args = parser.parse_args()
    seeds = range(2 if args.quick else args.seeds or 5)
    subspace_seeds = range(2 if args.quick else args.seeds or 3)
    iters = 300 if args.quick else 10_000
    start = time.perf_counter()
    if args.only in (None, "regimes"):
        for k, lr in zip(args.regime_k, args.regime_lr):
            regimes_table(seeds, iters, args.n_jobs, k, lr)
    if args.only in (None, "no-surrogate"):
        no_surrogate_table(seeds, 2 * iters, args.n_jobs)
    if args.only in (None, "subspace"):
        alphas = [a if a == "auto" else float(a) for a in args.alphas]
        ks, lrs = tuple(args.ks), tuple(args.lrs)
        if args.quick:                 # a corner of the grid is enough to smoke
            ks, lrs, alphas = ks[::len(ks) - 1], lrs[-1:], alphas[-2:]
        subspace_table(subspace_seeds, iters, args.n_jobs, ks, lrs,
                       tuple(alphas), args.cache)
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
