"""Noisy objectives: the library's defaults against CMA-ES given the same surrogate.

Usage, from the repository root::

    python benchmarks/noisy.py                    # report seeds 0 to 4
    python benchmarks/noisy.py --seed0 100        # development seeds
    python benchmarks/noisy.py --code /tmp/before # another checkout's library
    python benchmarks/noisy.py --output docs/benchmarks_noisy.md  # the report

The problems are the rescaling grid's (`benchmarks.run`): the sphere, the
rotated quadratic of condition 1e3 and Rosenbrock, n = 50, with the
surrogate ``grad + (0.5 bias + 0.5 noise) |grad|``, and with Gaussian
noise added to every value of ``f``, of standard deviation ``level`` times
the initial gap ``f(x0) - f*`` (so the noise scales with ``f``), from a
stream of its own. Budget 200 n evaluations. Each method is judged by the
noise-free gap ``(f - f*) / (f(x0) - f*)`` at the point it returns: the
library's ``res.x``; CMA-ES's mean (``result.xfavorite``, the point pycma
recommends when ``f`` is noisy), sigma0 a tenth of the scale of x,
``ask(gradf=surrogate)``. Printed: per problem and noise level, the median
over seeds and the ratio of the library's median to CMA-ES's (below 1: the
library is closer to the optimum).

The adaptive mode's handling of noise was developed on seeds 100 to 104
of these problems; the report is on seeds 0 to 4, and on three problems
held out of every choice (`HeldOut`, seeds 200 to 202, budget 200 n):
a sum of log cosh, a sum of fourth powers and an axis-aligned ellipsoid
of condition 1e6.

A last section measures noise of another kind: minibatch losses
(`Minibatch`), a logistic regression whose f is the loss on a fresh
minibatch of B rows and whose surrogate is the gradient on another (B =
100 and 1000 of 2,000 rows, n = 50, budget 200 n), on seeds 300 to 302.
How the library chooses its final point with a noisy f was designed after
seeing seeds 200 to 202 of these losses; seeds 300 to 302 were not used
in any choice.
The noise there grows with the loss's spread over the rows, and f is not
quadratic. Adam on the minibatch gradients (learning rate 0.01, each
gradient counted as an evaluation) is the method such losses usually get,
and is shown beside CMA-ES. Each method is judged by the full-data loss at
the point it returns.
"""

import os
import platform
import sys
import time
import warnings
from multiprocessing import Pool

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from benchmarks._families import _unit  # noqa: E402
from benchmarks._scripts import parse_seeded, seeded_parser, use_checkout  # noqa: E402

PROBLEMS = (("sphere", "sphere", dict(n=50, bias=0.5, noise=0.5)),
            ("quadratic 1e3", "rotated", dict(n=50, cond=1e3, bias=0.5, noise=0.5)),
            ("Rosenbrock", "rosenbrock", dict(n=50, bias=0.5, noise=0.5)))
LEVELS = (1e-6, 1e-4, 1e-2)
METHODS = ("defaults", "cma_grad")
#: Problems none of the noise handling was chosen on, and their seeds.
HELD_OUT = (("log cosh", "logcosh", dict(n=50)), ("fourth powers", "pow4", dict(n=30)),
            ("ellipsoid 1e6", "ellipsoid", dict(n=20)))
HELD_OUT_SEEDS = (200, 201, 202)
#: Minibatch sizes of the minibatch losses, and their methods.
BATCHES = (100, 1000)
MINIBATCH_METHODS = ("defaults", "cma_grad", "adam")
MINIBATCH_SEEDS = (300, 301, 302)


class Minibatch:
    """A logistic regression (n = 50, 2,000 Gaussian rows, labels from a
    random linear model plus unit noise, L2 penalty 1e-3) whose f is the
    loss on ``batch`` rows drawn afresh at each call and whose surrogate is
    the gradient on another such draw; ``gap`` is the full-data loss minus
    its minimum (L-BFGS-B). ``x0 = 0``."""

    x_scale = 1.0

    def __init__(self, batch, seed, n=50, rows=2000):
        from scipy.optimize import minimize
        rng = np.random.default_rng([seed, 5])
        self.A = rng.standard_normal((rows, n))
        self.y = np.where(self.A @ rng.standard_normal(n)
                          + rng.standard_normal(rows) > 0, 1.0, -1.0)
        self.batch, self.lam = batch, 1e-3
        self._draw = np.random.default_rng([seed, 6])
        self.x0 = np.zeros(n)
        rows_all = np.arange(rows)
        self.f_star = minimize(lambda x: self._loss(x, rows_all), self.x0,
                               jac=lambda x: self._grad(x, rows_all),
                               method="L-BFGS-B",
                               options=dict(gtol=1e-12, ftol=1e-15)).fun

    def _loss(self, x, i):
        return float(np.mean(np.logaddexp(0.0, -self.y[i] * (self.A[i] @ x)))
                     + self.lam * x @ x)

    def _grad(self, x, i):
        margin = self.y[i] * (self.A[i] @ x)
        return (self.A[i].T @ (-self.y[i] * np.exp(-np.logaddexp(0.0, margin)))
                / len(i) + 2.0 * self.lam * x)

    def _rows(self):
        return self._draw.integers(0, len(self.y), self.batch)

    def fun(self, x):
        return self._loss(x, self._rows())

    def surrogate_grad(self, x):
        return self._grad(x, self._rows())

    def gap(self, x):
        return self._loss(x, np.arange(len(self.y))) - self.f_star


def adam_on_surrogate(p, budget, learning_rate=0.01):
    """Adam (betas 0.9, 0.999, eps 1e-8) on `p`'s surrogate for `budget`
    steps; the last iterate."""
    x = p.x0.copy()
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, budget + 1):
        g = p.surrogate_grad(x)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x -= (learning_rate * (m / (1 - 0.9 ** t))
              / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8))
    return x


class HeldOut:
    """A problem of `HELD_OUT`, minimum ``f* = 0`` at a random ``x*``, with
    the surrogate ``grad + (0.5 bias + 0.5 noise) |grad|`` of the grid:
    ``sum log cosh(A (x - x*))`` with ``A`` 2n x n Gaussian over sqrt(n)
    (quadratic near ``x*``, linear far from it), ``sum (x - x*)^4``
    (no curvature at ``x*``), or ``sum d_i (x - x*)_i^2 / 2`` with ``d``
    from 1 to 1e6 (axis-aligned)."""

    x_scale = 1.0

    def __init__(self, kind, n, seed):
        rng = np.random.default_rng([seed, 3])
        self.kind, self.n = kind, n
        self.x_star = rng.standard_normal(n)
        self.bias = _unit(rng, n)
        self._noise = np.random.default_rng([seed, 4])
        self.A = rng.standard_normal((2 * n, n)) / np.sqrt(n)
        self.d = np.logspace(0, 6, n)
        self.x0 = np.zeros(n)

    def fun(self, x):
        r = x - self.x_star
        if self.kind == "logcosh":
            z = np.abs(self.A @ r)       # log cosh z, without overflow
            return float(np.sum(z + np.log1p(np.exp(-2.0 * z)) - np.log(2.0)))
        if self.kind == "pow4":
            return float(np.sum(r ** 4))
        return 0.5 * float(np.sum(self.d * r * r))

    gap = fun

    def grad(self, x):
        r = x - self.x_star
        if self.kind == "logcosh":
            return self.A.T @ np.tanh(self.A @ r)
        if self.kind == "pow4":
            return 4.0 * r ** 3
        return self.d * r

    def surrogate_grad(self, x):
        g = self.grad(x)
        direction = 0.5 * self.bias + 0.5 * _unit(self._noise, self.n)
        return g + direction * np.linalg.norm(g)


class Noisy:
    """`problem` with Gaussian noise of standard deviation ``level`` times
    the initial gap added to every value of ``f``."""

    def __init__(self, problem, level, seed):
        self.problem, self.level = problem, level
        self.scale = level * problem.gap(problem.x0)
        self._rng = np.random.default_rng([seed, 7])

    def fun(self, x):
        return self.problem.fun(x) + self.scale * self._rng.standard_normal()


def run_one(job):
    """(problem, level, seed, method, relative gap at the returned point, nfev)."""
    label, factory, kwargs, level, seed, method, budget = job
    if factory == "minibatch":
        p = noisy = Minibatch(level, seed)      # the level is the batch size
    elif factory in ("logcosh", "pow4", "ellipsoid"):
        p = HeldOut(factory, kwargs["n"], seed)
    else:
        from benchmarks.run import build
        p = build(factory, kwargs, seed)
    budget = budget or 200 * p.x0.size
    if factory != "minibatch":
        noisy = Noisy(p, level, seed)
    if method == "adam":
        x, nfev = adam_on_surrogate(p, budget), budget
    elif method == "defaults":
        from ges_minimize import minimize_guided_es
        res = minimize_guided_es(noisy.fun, p.x0, p.surrogate_grad, maxfev=budget,
                                 rng=seed)
        x, nfev = res.x, res.nfev
    else:
        import cma
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            es = cma.CMAEvolutionStrategy(p.x0, p.x_scale / 10,
                                          {"seed": seed + 1, "maxfevals": budget,
                                           "verbose": -9})
            while not es.stop():
                X = es.ask(gradf=p.surrogate_grad)
                es.tell(X, [noisy.fun(x) for x in X])
        x, nfev = es.result.xfavorite, es.result.evaluations
    return label, level, seed, method, float(p.gap(x) / p.gap(p.x0)), int(nfev)


def minibatch_table(rows):
    """Markdown table of the minibatch losses: medians per batch size and
    method, and the ratios of the library's median to the others'."""
    lines = ["| minibatch rows | library defaults (range) | CMA-ES with gradf "
             "(range) | Adam on the surrogate (range) | defaults / CMA-ES | "
             "defaults / Adam |", "|---|---|---|---|---|---|"]
    for batch in BATCHES:
        med, cells = {}, {}
        for method in MINIBATCH_METHODS:
            values = [r[4] for r in rows if r[0] == "minibatch" and r[1] == batch
                      and r[3] == method]
            med[method] = float(np.median(values)) if values else np.nan
            cells[method] = (f"{med[method]:.3g} ({min(values):.2g} - "
                             f"{max(values):.2g})" if values else "n/a")
        lines.append(f"| {batch} | {cells['defaults']} | {cells['cma_grad']} | "
                     f"{cells['adam']} | {med['defaults'] / med['cma_grad']:.3g} | "
                     f"{med['defaults'] / med['adam']:.3g} |")
    return "\n".join(lines)


def table(rows, problems=PROBLEMS):
    """Markdown table: medians per problem and level, and the ratio."""
    lines = ["| problem | noise (of the initial gap) | library defaults (range) | "
             "CMA-ES with gradf (range) | defaults / CMA-ES |", "|---|---|---|---|---|"]
    for label, _, _ in problems:
        for level in LEVELS:
            med, cells = {}, {}
            for method in METHODS:
                values = [r[4] for r in rows
                          if r[0] == label and r[1] == level and r[3] == method]
                med[method] = float(np.median(values)) if values else np.nan
                cells[method] = (f"{med[method]:.3g} ({min(values):.2g} - "
                                 f"{max(values):.2g})" if values else "n/a")
            ratio = med["defaults"] / med["cma_grad"]
            lines.append(f"| {label} | {level:g} | {cells['defaults']} | "
                         f"{cells['cma_grad']} | {ratio:.3g} |")
    return "\n".join(lines)


def main(argv=None):
    parser = seeded_parser(__doc__, 0, "first seed (0: the report's; 100 and up: "
                           "development)", "200 n")
    parser.add_argument("--no-held-out", action="store_true",
                        help="skip the held-out problems (seeds 200 to 202)")
    parser.add_argument("--only", choices=METHODS, help="run one method only")
    args = parse_seeded(parser, argv)
    code = use_checkout(args.code, HERE)
    methods = (args.only,) if args.only else METHODS
    jobs = [(label, factory, kwargs, level, seed, method, args.budget)
            for label, factory, kwargs in PROBLEMS for level in LEVELS
            for seed in range(args.seed0, args.seed0 + args.seeds)
            for method in methods]
    if not args.no_held_out:
        jobs += [(label, factory, kwargs, level, seed, method, args.budget)
                 for label, factory, kwargs in HELD_OUT for level in LEVELS
                 for seed in HELD_OUT_SEEDS for method in methods]
        jobs += [("minibatch", "minibatch", {}, batch, seed, method, args.budget)
                 for batch in BATCHES for seed in MINIBATCH_SEEDS
                 for method in MINIBATCH_METHODS
                 if args.only is None or method == args.only]
    start = time.perf_counter()
    with Pool(args.jobs) as pool:
        rows = pool.map(run_one, jobs)
    wall = (time.perf_counter() - start) / 60
    head = (f"seeds {args.seed0} to {args.seed0 + args.seeds - 1}, budget "
            f"{args.budget or '200 n'}, library from {code}")
    print(head + "\n")
    print(table(rows))
    if not args.no_held_out:
        print("\nheld out, seeds " + ", ".join(map(str, HELD_OUT_SEEDS)) + "\n")
        print(table(rows, HELD_OUT))
        print("\nminibatch losses, seeds " + ", ".join(map(str, MINIBATCH_SEEDS))
              + "\n")
        print(minibatch_table(rows))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(report(rows, args, wall))
    return rows


def report(rows, args, wall):
    """The markdown report of a run: how it was made, and the table."""
    import cma
    import ges_minimize
    command = "python benchmarks/noisy.py" + "".join(
        f" {flag} {value}" for flag, value in (("--seeds", args.seeds),
                                               ("--seed0", args.seed0),
                                               ("--budget", args.budget))
        if value != {"--seeds": 5, "--seed0": 0, "--budget": None}[flag])
    command += " --no-held-out" if args.no_held_out else ""
    held_out = [] if args.no_held_out else [
        "## Problems held out of every choice", "",
        "Seeds " + ", ".join(map(str, HELD_OUT_SEEDS)) + "; the problems of "
        "`HeldOut` (a sum of log cosh over 2n random projections, n = 50; a "
        "sum of fourth powers, n = 30; an axis-aligned ellipsoid of "
        "condition 1e6, n = 20), none of them quadratic but the last.", "",
        table(rows, HELD_OUT), "",
        "## Minibatch losses", "",
        "Seeds " + ", ".join(map(str, MINIBATCH_SEEDS)) + "; `Minibatch`: a "
        "logistic regression, n = 50, whose f is the loss on a fresh "
        "minibatch and whose surrogate is the gradient on another. The gap "
        "is that of the full-data loss, relative to its value at x0; Adam "
        "is run for as many gradients as the budget has evaluations. How "
        "the library chooses its final point with a noisy f was designed "
        "after seeing seeds 200 to 202; these seeds were not used in any "
        "choice.", "",
        minibatch_table(rows), ""]
    return "\n".join([
        "# Noisy objectives: Guided ES against CMA-ES with the same surrogate",
        "",
        f"*Generated by `{command} --output docs/benchmarks_noisy.md` "
        "(`benchmarks/noisy.py`, whose docstring describes the problems and "
        "the methods); do not edit by hand.*",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"wall time {wall:.1f} min, {args.jobs} workers",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; ges_minimize "
        f"{ges_minimize.__version__}, numpy {np.__version__}, cma {cma.__version__}",
        f"- budget {args.budget or '200 n'} evaluations per run",
        "",
        "Median over seeds (and range) of the noise-free gap "
        "`(f - f*) / (f(x0) - f*)` at "
        "the point each method returns (the library's `res.x`, CMA-ES's mean). "
        "The noise is Gaussian, added to every value of f, with a standard "
        "deviation of the given fraction of the initial gap.",
        "",
        "## The rescaling grid's problems",
        "",
        f"Seeds {args.seed0} to {args.seed0 + args.seeds - 1} (the noise "
        "handling was developed on seeds 100 to 104 of these problems).",
        "",
        table(rows),
        "",
        *held_out])


if __name__ == "__main__":
    main()
