"""Time per iteration of the adaptive step against the fixed-rate rule.

Usage, from the repository root::

    python benchmarks/adaptive_overhead.py [--iterations N] [--repeats R]

On the paper's perturbed quadratic (n = 1000, m = 2000), one BLAS thread,
prints for each setting the library's own time per iteration (process time
of the ask/tell loop minus the time of the objective and surrogate calls)
and the objective's time, the minimum over interleaved repeats:

- ``step='auto'`` (the defaults: P = 2, k = 10, alpha = 0.75, self-guided);
- the fixed-rate rule with the same P, k and alpha (``step='sgd'``);
- the paper's settings (P = 1, k = 1).
"""

import argparse
import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._problems import FastQuadratic  # noqa: E402
from ges_minimize import PAPER_SETTINGS, GuidedES  # noqa: E402

SETTINGS = {
    "step='auto' (defaults)": dict(),
    "step='sgd', same P, k, alpha": dict(step="sgd", n_pairs=2, subspace_dim=10,
                                         alpha=0.75, learning_rate=0.2),
    "paper settings": dict(PAPER_SETTINGS),
}


def times_per_iteration(problem, iterations, options):
    """(own, objective) process seconds per iteration of an ask/tell loop."""
    problem.reset_noise()
    es = GuidedES(problem.x0, rng=0, **options)
    t_objective = 0.0
    start = time.process_time()
    for _ in range(iterations):
        t = time.process_time()
        g = problem.surrogate_grad(es.x)
        t_objective += time.process_time() - t
        es.add_surrogate_grad(g)
        points = es.ask()
        t = time.process_time()
        values = [problem.fun(p) for p in points]
        t_objective += time.process_time() - t
        es.tell(values)
    total = time.process_time() - start
    return (total - t_objective) / iterations, t_objective / iterations


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    best = {label: (np.inf, np.inf) for label in SETTINGS}
    with threadpool_limits(1):
        problem = FastQuadratic(n=1000, m=2000, seed=7)
        for _ in range(args.repeats):
            for label, options in SETTINGS.items():
                own, objective = times_per_iteration(problem, args.iterations, options)
                best[label] = (min(best[label][0], own), min(best[label][1], objective))
    ref = sum(best["step='sgd', same P, k, alpha"])
    print("| setting | own us / iteration | objective us / iteration | "
          "whole iteration / fixed-rate same P, k |")
    print("|---|---|---|---|")
    for label, (own, objective) in best.items():
        print(f"| {label} | {own * 1e6:.0f} | {objective * 1e6:.0f} | "
              f"{(own + objective) / ref:.2f} |")


if __name__ == "__main__":
    main()
