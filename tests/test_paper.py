"""The paper's headline demo: the perturbed quadratic (n = 1000, m = 2000).

Maheswaranathan et al. (2019), Figure 1: after 10,000 iterations with one
antithetic pair (20,000 evaluations) Guided ES reaches f - f* of about 0.003,
vanilla ES about 0.036 and gradient descent on the surrogate about 0.06.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from ges_minimize import minimize_guided_es
from ges_minimize.problems import PerturbedQuadratic

PAPER = dict(sigma=0.1, beta=2.0, n_pairs=1, subspace_dim=1, step="sgd",
             learning_rate=0.2, maxiter=10_000, rng=0)


@pytest.fixture(scope="module")
def results():
    with threadpool_limits(1):        # a 2000 x 1000 matvec is faster on one thread
        problem = PerturbedQuadratic(seed=0)
        guided = minimize_guided_es(problem.fun, problem.x0, problem.surrogate_grad,
                                    alpha=0.5, **PAPER)
        vanilla = minimize_guided_es(problem.fun, problem.x0, alpha=1.0, **PAPER)
        problem.reset_noise()
        x, best = problem.x0.copy(), np.inf
        for _ in range(20_000):           # one surrogate call per evaluation
            x -= 0.01 * problem.surrogate_grad(x)
            best = min(best, problem.fun(x))
    return problem.f_star, guided, vanilla, best


def test_guided_es_reaches_the_papers_accuracy(results):
    f_star, guided, _, _ = results
    assert guided.nfev == 20_001 and guided.njev == 10_000
    assert guided.fun - f_star <= 0.006


def test_vanilla_es_and_surrogate_descent_are_clearly_worse(results):
    f_star, guided, vanilla, best_descent = results
    gap = guided.fun - f_star
    assert vanilla.fun - f_star >= 3 * gap
    # even the best point of descent on the surrogate, over its whole run
    assert best_descent - f_star >= 5 * gap
