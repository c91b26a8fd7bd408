"""Part 3: overhead of the library, and how an iteration scales with n.

Overhead: `minimize_guided_es` against `bare_loop`, the same iteration
written as a plain numpy loop (buffer of the k latest surrogate gradients,
thin QR, one draw of ``z_n`` and ``z_k``, ``2P`` evaluations, antithetic
estimate, SGD step), on a cheap objective so that the method's own cost is
what is timed. Both run the same number of iterations from the same start.

Scaling: time per iteration and peak traced memory (`tracemalloc`, which
sees numpy's buffers) of `minimize_guided_es` for n = 10^3 .. 10^6 at
k = 10, P = 10, next to the cost of drawing the same random numbers
(``P x n`` and ``P x k`` standard normals), of the library's update of
the subspace basis for one new gradient, and of a full QR of the buffer.

Everything runs on one BLAS thread (the caller sets it). Timings are the
minimum over interleaved repeats, the usual defence against a busy machine.
"""

import collections
import time
import tracemalloc

import numpy as np
import scipy.linalg

from ges_minimize import minimize_guided_es, subspace_basis
from ges_minimize._subspace import GuideBuffer

__all__ = ["CheapProblem", "bare_loop", "measure_overhead", "measure_scaling"]

SETTINGS = dict(sigma=0.1, alpha=0.5, beta=2.0, learning_rate=0.2)


class CheapProblem:
    """``f(x) = |x - 1|^2 / 2`` with the biased surrogate ``x - 1 + 0.5``: O(n) each."""

    def __init__(self, n):
        self.n = n
        self.x0 = np.zeros(n)

    def fun(self, x):
        d = x - 1.0
        return 0.5 * float(d @ d)

    def surrogate_grad(self, x):
        return x - 0.5


def bare_loop(fun, grad, x0, iterations, *, k, P, sigma, alpha, beta,
              learning_rate, rng):
    """Guided ES as a bare numpy loop (SGD step); returns the final centre."""
    n = x0.size
    x = x0.copy()
    buffer = collections.deque(maxlen=k)
    for _ in range(iterations):
        buffer.append(grad(x))
        U = scipy.linalg.qr(np.column_stack(buffer), mode="economic")[0]
        eps = np.sqrt(alpha / n) * rng.standard_normal((P, n))
        eps += np.sqrt((1 - alpha) / U.shape[1]) * (rng.standard_normal((P, U.shape[1])) @ U.T)
        eps *= sigma
        points = np.concatenate([x + eps, x - eps])
        f = np.array([fun(p) for p in points])
        g = beta / (2 * sigma**2 * P) * ((f[:P] - f[P:]) @ eps)
        x -= learning_rate * g
    return x


def _library(problem, iterations, k, P, seed):
    return minimize_guided_es(problem.fun, problem.x0, problem.surrogate_grad,
                              n_pairs=P, subspace_dim=k, maxiter=iterations,
                              rng=seed, **SETTINGS).x


def _bare(problem, iterations, k, P, seed):
    return bare_loop(problem.fun, problem.surrogate_grad, problem.x0, iterations,
                     k=k, P=P, rng=np.random.default_rng(seed), **SETTINGS)


def _timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def _interleaved(runs, repeats):
    """Best time of each zero-argument callable over interleaved repeats, and its output."""
    best = [np.inf] * len(runs)
    outs = [None] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            t, outs[i] = _timed(run)
            best[i] = min(best[i], t)
    return best, outs


def measure_overhead(n=1000, iterations=10_000, quadratic_iterations=None,
                     wide_iterations=None, repeats=3):
    """Rows: objective, k, P, iterations, library and bare seconds per
    iteration, their ratio, and whether both loops end at the same x.

    The k = 1, P = 1 rows reuse the measurement of
    ``benchmarks/overhead.py`` (its bare loop, its library call, its two
    objectives: the paper's perturbed quadratic and a cheap sphere) when that
    module is present; the k = 10, P = 10 row uses `bare_loop` above.
    """
    rows = []
    try:
        from . import overhead as shared
    except ImportError:
        shared = None
    if shared is not None:
        from ges_minimize.problems import PerturbedQuadratic
        quadratic = PerturbedQuadratic(n=n, m=2 * n, seed=0)
        sphere = shared._Sphere(n)
        cases = [("perturbed quadratic (paper)", quadratic, quadratic_iterations or iterations),
                 ("cheap sphere", sphere, iterations)]
        for name, prob, its in cases:
            x0 = np.zeros(n)
            reset = getattr(prob, "reset_noise", lambda: None)

            def lib(prob=prob, its=its, x0=x0, reset=reset):
                reset()
                return shared.library(prob.fun, prob.surrogate_grad, x0, its, 0,
                                      **shared.SETTINGS)

            def bare(prob=prob, its=its, x0=x0, reset=reset):
                reset()
                return shared.bare_loop(prob.fun, prob.surrogate_grad, x0, its, 0,
                                        **shared.SETTINGS)

            (t_lib, t_bare), (x_lib, x_bare) = _interleaved([lib, bare], repeats)
            rows.append(dict(objective=name, source="benchmarks/overhead.py", n=n,
                             k=1, P=1, iterations=its, library=t_lib / its,
                             bare=t_bare / its, ratio=t_lib / t_bare,
                             same=bool(np.allclose(x_lib, x_bare, rtol=1e-6, atol=1e-9))))
    problem = CheapProblem(n)
    configs = [(10, 10)] if shared is not None else [(1, 1), (10, 10)]
    for k, P in configs:
        its = wide_iterations if (k, P) != (1, 1) and wide_iterations else iterations
        (t_lib, t_bare), (x_lib, x_bare) = _interleaved(
            [lambda: _library(problem, its, k, P, 0),
             lambda: _bare(problem, its, k, P, 0)], repeats)
        rows.append(dict(objective="cheap sphere", source="benchmarks/_scaling.py",
                         n=n, k=k, P=P, iterations=its,
                         library=t_lib / its, bare=t_bare / its,
                         ratio=t_lib / t_bare,
                         same=f"no (different but equivalent basis); final f "
                              f"{problem.fun(x_lib):.3g} vs {problem.fun(x_bare):.3g}"))
    return rows


def _per_iteration(fn, iterations, repeats):
    best = np.inf
    for _ in range(repeats):
        t, _ = _timed(fn)
        best = min(best, t)
    return best / iterations


def measure_scaling(ns=(10**3, 10**4, 10**5, 10**6), k=10, P=10,
                    work=2 * 10**7, min_iterations=5, max_iterations=2000,
                    repeats=2):
    """Rows: n, seconds per iteration (library, objective calls, random draws,
    subspace basis) and peak traced memory of a short run."""
    rows = []
    for n in ns:
        it = int(np.clip(work // n, min_iterations, max_iterations))
        problem = CheapProblem(n)
        rng = np.random.default_rng(0)
        x = rng.standard_normal(n)
        points = rng.standard_normal((2 * P, n))
        G = rng.standard_normal((n, k))

        def library():
            _library(problem, it, k, P, 0)

        def objective():
            for _ in range(it):
                problem.surrogate_grad(x)
                for p in points:
                    problem.fun(p)

        def draws():
            for _ in range(it):
                rng.standard_normal((P, n))
                rng.standard_normal((P, k))

        guide = GuideBuffer(n, k)
        for g in G.T:
            guide.push(g)

        def basis():
            for i in range(it):
                guide.push(G[:, i % k])

        def qr_basis():
            for _ in range(it):
                subspace_basis(G)

        t_lib = _per_iteration(library, it, repeats)
        t_obj = _per_iteration(objective, it, repeats)
        t_rand = _per_iteration(draws, it, repeats)
        t_basis = _per_iteration(basis, it, repeats)
        t_qr = _per_iteration(qr_basis, it, repeats)
        del points, G
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        _library(problem, 3, k, P, 0)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        rows.append(dict(n=n, k=k, P=P, iterations=it, library=t_lib,
                         objective=t_obj, own=t_lib - t_obj, random=t_rand,
                         basis=t_basis, qr_basis=t_qr, ratio=(t_lib - t_obj) / t_rand,
                         peak=peak, peak_units=peak / (8.0 * n * (k + P))))
    return rows


def profile_library(n=1000, iterations=2000, k=1, P=1, top=8):
    """Where `minimize_guided_es` spends its time on the cheap objective.

    Returns rows (function, own microseconds per iteration, share of the
    total) for the `top` functions by own time under `cProfile` (whose own
    overhead inflates every share a little).
    """
    import cProfile
    import pstats

    problem = CheapProblem(n)
    prof = cProfile.Profile()
    prof.enable()
    _library(problem, iterations, k, P, 0)
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())
    rows = []
    for (path, line, name), v in sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]:
        where = name if path == "~" else f"{path.split('site-packages/')[-1].split('/work/main/')[-1]}:{line} {name}"
        rows.append(dict(function=where, calls=v[1] / iterations,
                         own=v[2] / iterations, share=v[2] / total))
    return dict(n=n, k=k, P=P, iterations=iterations, rows=rows)
