"""Overhead of the library against a bare numpy loop of the same math.

Times ``minimize_guided_es`` on the paper's perturbed quadratic (n = 1000,
m = 2000, paper settings) against a plain loop written out with numpy in this
file, in the same process, interleaving the two and keeping the fastest of
``--repeats`` runs of each. A second row uses a cheap objective (a sphere,
n = 1000) where the library's own bookkeeping is all that differs.

    python benchmarks/overhead.py [--iterations 10000] [--repeats 3]

Prints a markdown table with the ratio library / bare loop (target <= 1.15).
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from ges_minimize import minimize_guided_es
from ges_minimize.problems import PerturbedQuadratic

SETTINGS = dict(sigma=0.1, alpha=0.5, beta=2.0, n_pairs=1, subspace_dim=1,
                learning_rate=0.2)


def bare_loop(fun, surrogate_grad, x0, iterations, seed, sigma, alpha, beta,
              n_pairs, subspace_dim, learning_rate):
    """Guided ES written out with numpy only (k = 1 guiding direction)."""
    assert subspace_dim == 1
    rng = np.random.default_rng(seed)
    x = np.array(x0, dtype=float)
    n = x.size
    scale = beta / (2 * sigma**2 * n_pairs)
    for _ in range(iterations):
        g_s = surrogate_grad(x)
        u = g_s / np.linalg.norm(g_s)
        eps = np.sqrt(alpha / n) * rng.standard_normal((n_pairs, n))
        eps += np.sqrt(1 - alpha) * rng.standard_normal((n_pairs, 1)) * u
        eps *= sigma
        f_plus = np.array([fun(x + e) for e in eps])
        f_minus = np.array([fun(x - e) for e in eps])
        x -= learning_rate * scale * ((f_plus - f_minus) @ eps)
    return x


def library(fun, surrogate_grad, x0, iterations, seed, **settings):
    return minimize_guided_es(fun, x0, surrogate_grad, maxiter=iterations,
                              rng=seed, **settings).x


def _time(run, *args, **kwargs):
    start = time.perf_counter()
    x = run(*args, **kwargs)
    return time.perf_counter() - start, x


class _Sphere:
    def __init__(self, n):
        self.c = np.random.default_rng(1).standard_normal(n)
        self.bias = np.random.default_rng(2).standard_normal(n) * 0.1

    def fun(self, x):
        d = x - self.c
        return 0.5 * float(d @ d)

    def surrogate_grad(self, x):
        return x - self.c + self.bias


def measure(name, fun, grad, x0, iterations, repeats, reset=None):
    times = {"library": [], "bare": []}
    finals = {}
    for _ in range(repeats):
        for label, run in (("library", library), ("bare", bare_loop)):
            if reset is not None:
                reset()
            t, x = _time(run, fun, grad, x0, iterations, 0, **SETTINGS)
            times[label].append(t)
            finals[label] = x
    lib, bare = min(times["library"]), min(times["bare"])
    same = np.allclose(finals["library"], finals["bare"], rtol=1e-6, atol=1e-9)
    return (f"| {name} | {iterations} | {1e6 * lib / iterations:.1f} | "
            f"{1e6 * bare / iterations:.1f} | {lib / bare:.3f} | "
            f"{'yes' if same else 'NO'} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with threadpool_limits(1):
        problem = PerturbedQuadratic(seed=0)
        rows.append(measure("perturbed quadratic n=1000", problem.fun,
                            problem.surrogate_grad, problem.x0,
                            args.iterations, args.repeats,
                            reset=problem.reset_noise))
        sphere = _Sphere(1000)
        rows.append(measure("cheap sphere n=1000", sphere.fun,
                            sphere.surrogate_grad, np.zeros(1000),
                            args.iterations, args.repeats))
    print("| objective | iterations | library us/iter | bare numpy us/iter "
          "| ratio | same x |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print("\nTarget: ratio <= 1.15 on the perturbed quadratic.")


if __name__ == "__main__":
    main()
