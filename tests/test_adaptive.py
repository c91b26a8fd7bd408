"""alpha='auto', beta='auto', the online rho estimator and the self-guided mode."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from ges_minimize import GuidedES, minimize_guided_es
from ges_minimize._adaptive import RhoEstimator, auto_hyperparameters


def _linear_problem(n, k, rho, seed):
    """A linear f whose gradient has correlation `rho` with a known basis."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((n, k)))[0]
    perp = rng.standard_normal(n)
    perp -= U @ (U.T @ perp)
    perp /= np.linalg.norm(perp)
    a = rng.standard_normal(k)
    grad = rho * U @ (a / np.linalg.norm(a)) + np.sqrt(1 - rho**2) * perp
    return U, grad


def _run_linear(U, grad, n_iter, seed, surrogate=None, **kwargs):
    """Ask/tell on f(x) = grad . x with the columns of U (or `surrogate`) as guide."""
    n, k = U.shape
    es = GuidedES(np.zeros(n), subspace_dim=k, learning_rate=0.01, rng=seed,
                  estimate_rho=True, **kwargs)
    alphas = []
    for _ in range(n_iter):
        if surrogate is None:
            for j in range(k):
                es.add_surrogate_grad(U[:, j])
        else:
            es.add_surrogate_grad(surrogate())
        points = es.ask()
        es.tell(points @ grad)
        alphas.append(es.current_alpha)
    return es, np.array(alphas)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_rho_estimate_converges_on_a_linear_function(rho):
    # k = 1, alpha = 0.5, 1500 iterations (half-life 300, information capped
    # at about 200 pairs): every seed within 0.15 of the truth, and their
    # median within 0.05.
    U, grad = _linear_problem(60, 1, rho, seed=3)
    estimates = [_run_linear(U, grad, 1500, seed)[0].rho for seed in range(3)]
    assert np.all(np.abs(np.array(estimates) - rho) < 0.15), estimates
    assert abs(np.median(estimates) - rho) < 0.05, estimates


def test_rho_estimator_alone_with_a_larger_subspace():
    # k = 3: pairs with a small subspace component are rarer, so it takes
    # more pairs; with 6000 the estimate is within 0.1.
    rng = np.random.default_rng(0)
    n, k, rho, alpha = 60, 3, 0.6, 0.5
    U, grad = _linear_problem(n, k, rho, seed=1)
    est = RhoEstimator(halflife=6000)
    for _ in range(6000):
        u = (np.sqrt(alpha / n) * rng.standard_normal(n)
             + np.sqrt((1 - alpha) / k) * U @ rng.standard_normal(k))
        est.update(np.array([u @ grad]), np.array([np.sum((U.T @ u) ** 2) / k]),
                   alpha / n)
    assert abs(est.rho - rho) < 0.1, est.rho


@pytest.mark.parametrize("alpha", [0.5, 0.9])
def test_rho_estimate_with_default_memory_at_k_10(alpha):
    # n = 1000, k = 10, rho = 0.1 (a random subspace's correlation), the
    # default half-life and information cap, 2000 pairs: the mean estimate
    # over the last 1000 is within 0.03 of the truth. (The cap once counted
    # information in units of (A + R)^2 instead of A^2 and R^2, which
    # capped the subspace coefficient far too early and gave about 0.34.)
    rng = np.random.default_rng(0)
    n, k, rho = 1000, 10, 0.1
    U, grad = _linear_problem(n, k, rho, seed=2)
    est = RhoEstimator()
    seen = []
    for _ in range(2000):
        u = (np.sqrt(alpha / n) * rng.standard_normal(n)
             + np.sqrt((1 - alpha) / k) * U @ rng.standard_normal(k))
        est.update(np.array([u @ grad]), np.array([np.sum((U.T @ u) ** 2) / k]),
                   alpha / n)
        seen.append(est.rho)
    assert abs(np.mean(seen[1000:]) - rho) < 0.03, np.mean(seen[1000:])


def test_auto_ignores_a_useless_surrogate_and_follows_an_exact_one():
    n = 60
    U, grad = _linear_problem(n, 1, 1.0, seed=0)
    noise = np.random.default_rng(7)
    _, alphas = _run_linear(U, grad, 1500, 0, alpha="auto",
                            surrogate=lambda: noise.standard_normal(n))
    late = alphas[-500:]
    # rho ~ 0: the floor 0.75 (1 - rho^2), not vanilla ES (see GuidedES Notes)
    assert 0.7 < np.median(late) <= 0.75 and late.mean() > 0.7, (np.median(late), late.mean())
    _, alphas = _run_linear(U, grad, 1500, 0, alpha="auto",
                            surrogate=lambda: grad)
    assert np.max(alphas[-500:]) <= 0.26      # the floor, 0.25, or near it


def test_auto_rule_follows_theory_and_its_floors():
    n, k, P = 1000, 1, 1
    assert auto_hyperparameters(0.01, n, k, P)[0] == 1.0   # rho^2 < k / n
    alpha, _ = auto_hyperparameters(0.01, n, k, P, outside_share=0.75, keep_guide=True)
    assert alpha == pytest.approx(0.75 * (1 - 1e-4))
    assert auto_hyperparameters(1.0, n, k, P, alpha_min=0.05)[0] == 0.05
    alpha, _ = auto_hyperparameters(0.5, n, k, P, alpha_min=0.05, outside_share=0.5)
    assert alpha == pytest.approx(0.5 * (1 - 0.25))
    assert auto_hyperparameters(np.nan, n, k, P)[0] == 1.0   # nothing known yet
    assert auto_hyperparameters(0.3, n, 0, P)[0] == 1.0      # no subspace
    assert auto_hyperparameters(0.3, n, n, P)[0] == 1.0      # k = n: alpha moot


def _sphere_run(n_iter, **kwargs):
    f = lambda x: 0.5 * float(x @ x)
    es = GuidedES(np.ones(8), n_pairs=2, subspace_dim=2, rng=11, **kwargs)
    for _ in range(n_iter):
        es.add_surrogate_grad(es.x + 0.5)
        es.tell([f(p) for p in es.ask()])
    return es


@pytest.mark.parametrize("kwargs", [dict(alpha="auto"),
                                    dict(alpha="auto", beta="auto"),
                                    dict(alpha=0.5, self_guided=True, estimate_rho=True)])
def test_seeded_and_pickle_resume_bit_identical(kwargs):
    full = _sphere_run(60, **kwargs)
    again = _sphere_run(60, **kwargs)
    assert_array_equal(again.x, full.x)
    part = _sphere_run(25, **kwargs)
    resumed = pickle.loads(pickle.dumps(part))
    f = lambda x: 0.5 * float(x @ x)
    for _ in range(35):
        resumed.add_surrogate_grad(resumed.x + 0.5)
        resumed.tell([f(p) for p in resumed.ask()])
    assert_array_equal(resumed.x, full.x)
    assert resumed.rho == full.rho and resumed.current_alpha == full.current_alpha


def test_results_carry_rho_alpha_beta():
    f = lambda x: 0.5 * float(x @ x)
    seen = []
    res = minimize_guided_es(f, np.ones(10), lambda x: x + 0.3, alpha="auto",
                             beta="auto", maxiter=50, rng=0,
                             callback=lambda intermediate_result: seen.append(
                                 intermediate_result))
    assert len(seen) == 50
    for r in seen:
        assert 0 <= r.alpha <= 1 and r.beta > 0
    assert 0 <= seen[-1].rho <= 1
    assert (res.rho, res.alpha, res.beta) == (seen[-1].rho, seen[-1].alpha,
                                             seen[-1].beta)
    fixed = minimize_guided_es(f, np.ones(10), lambda x: x + 0.3, step="sgd",
                               maxiter=20, rng=0)
    assert (fixed.alpha, fixed.beta) == (0.5, 2.0) and np.isnan(fixed.rho)
    tracked = minimize_guided_es(f, np.ones(10), lambda x: x + 0.3, step="sgd",
                                 maxiter=20, rng=0, estimate_rho=True)
    assert 0 <= tracked.rho <= 1
    assert_array_equal(tracked.x, fixed.x)      # tracking rho does not move x
    vanilla = minimize_guided_es(f, np.ones(10), maxiter=20, rng=0)
    assert np.isnan(vanilla.rho)


def test_self_guided_fills_the_buffer_with_its_own_estimates():
    f = lambda x: 0.5 * float(x @ x)
    es = GuidedES(np.ones(6), subspace_dim=3, self_guided=True, step="sgd",
                  rng=0)
    assert es.basis.shape == (6, 0)
    for i in range(1, 5):
        x = es.x
        es.tell([f(p) for p in es.ask()])
        assert es.basis.shape == (6, min(i, 3))
        # the newest estimate is in the span (the update was -0.2 * g)
        step = es.x - x
        U = es.basis
        assert np.linalg.norm(step - U @ (U.T @ step)) < 1e-10 * np.linalg.norm(step)
    assert es.njev == 0


@pytest.mark.parametrize("self_guided, decay", [(0.5, 0.5), (0.0, 0.0), (True, 0.97)])
def test_self_guided_direction_is_a_moving_average_of_the_estimates(self_guided, decay):
    f = lambda x: 0.5 * float(x @ x) + x[0]
    es = GuidedES(np.ones(6), subspace_dim=1, self_guided=self_guided,
                  step="sgd", rng=1)
    m = np.zeros(6)
    for _ in range(4):
        x = es.x
        es.tell([f(p) for p in es.ask()])
        m = decay * m + (x - es.x) / 0.2          # SGD: the estimate g
        U = es.basis
        assert U.shape == (6, 1)
        assert_allclose(abs(U[:, 0] @ m), np.linalg.norm(m), rtol=1e-12)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(alpha="automatic"), ValueError, r"alpha must be a number or 'auto', got 'automatic'"),
    (dict(beta="best"), ValueError, r"beta must be a number or 'auto', got 'best'"),
    (dict(alpha=1.5), ValueError, r"alpha must be a finite number in \[0, 1\], got 1.5"),
    (dict(estimate_rho="yes"), TypeError,
     r"estimate_rho must be True, False or None, got 'yes'"),
    (dict(self_guided="yes"), TypeError,
     r"self_guided must be True, False or a decay in \[0, 1\), got 'yes'"),
    (dict(self_guided=1.0), ValueError, r"self_guided must be .* in \[0, 1\), got 1.0"),
])
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        GuidedES(np.ones(3), **kwargs)
    with pytest.raises(error, match=match):
        minimize_guided_es(lambda x: float(x @ x), np.ones(3), maxiter=1, **kwargs)
