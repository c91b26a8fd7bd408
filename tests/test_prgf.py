"""Tests of the benchmark's P-RGF (Cheng et al. 2019): the closed-form mixing
weight at its boundaries and against a brute-force minimisation of the
expected error, the estimate's statistics, and descent on a quadratic."""

import numpy as np
import pytest

from benchmarks.prgf import expected_error, minimize_prgf, optimal_lambda, prgf_gradient


@pytest.mark.parametrize("D, q", [(50, 5), (100, 10), (1000, 50), (3072, 50)])
def test_lambda_boundaries(D, q):
    m = D + 2 * q - 2
    low, high = 1 / m, (2 * q - 1) / m
    assert optimal_lambda(np.sqrt(low) * (1 - 1e-9), D, q) == 0.0
    assert optimal_lambda(np.sqrt(high) * (1 + 1e-9), D, q) == 1.0
    assert optimal_lambda(-1.0, D, q) == 1.0          # the sign of alpha is irrelevant
    # continuous at both boundaries
    assert optimal_lambda(np.sqrt(low) * (1 + 1e-9), D, q) == pytest.approx(0, abs=1e-5)
    assert optimal_lambda(np.sqrt(high) * (1 - 1e-9), D, q) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("D, q", [(50, 5), (100, 10), (1000, 50)])
@pytest.mark.parametrize("a2", [0.001, 0.02, 0.05, 0.1, 0.3, 0.9])
def test_lambda_minimises_the_expected_error(D, q, a2):
    grid = np.linspace(0, 1, 100_001)
    errors = expected_error(grid, np.sqrt(a2), D, q)
    lam = optimal_lambda(np.sqrt(a2), D, q)
    assert lam == pytest.approx(grid[np.argmin(errors)], abs=2e-5)
    assert expected_error(lam, np.sqrt(a2), D, q) <= errors.min() + 1e-12


def test_expected_error_matches_monte_carlo():
    """The expectation formula against sampled estimates of a linear f."""
    rng = np.random.default_rng(0)
    D, q, lam, alpha = 40, 4, 0.3, 0.5
    p = np.zeros(D)
    p[0] = 1.0
    g = np.zeros(D)
    g[0], g[1] = alpha, np.sqrt(1 - alpha ** 2)
    ests = []
    for _ in range(20_000):
        xi = rng.standard_normal((q, D))
        xi[:, 0] = 0
        xi /= np.linalg.norm(xi, axis=1, keepdims=True)
        u = np.sqrt(lam) * p + np.sqrt(1 - lam) * xi
        ests.append((u @ g) @ u / q)
    ests = np.array(ests)
    b = (ests @ g).mean() / np.mean(np.sum(ests ** 2, axis=1))
    mc = np.mean(np.sum((g - b * ests) ** 2, axis=1))
    assert mc == pytest.approx(expected_error(lam, alpha, D, q), rel=0.02)


def test_bad_arguments():
    with pytest.raises(ValueError):
        optimal_lambda(0.5, 1, 10)
    with pytest.raises(ValueError):
        optimal_lambda(0.5, 100, 0)


def test_gradient_estimate_uses_prior_and_counts_queries():
    rng = np.random.default_rng(1)
    D = 200
    grad = rng.standard_normal(D)
    f = lambda x: float(grad @ x)                            # linear: exact differences
    # a perfect prior: lambda* = 1, the estimate is the gradient, 10 + 1 queries
    g, info = prgf_gradient(f, np.zeros(D), 0.0, grad, q=10, sigma=1e-3, rng=rng)
    assert info["lam"] == 1.0 and info["nfev"] == 11
    np.testing.assert_allclose(g, grad, rtol=1e-8)
    # a useless prior (orthogonal): lambda 0, 10 + 1 + q queries
    prior = rng.standard_normal(D)
    prior -= (prior @ grad) / (grad @ grad) * grad
    g, info = prgf_gradient(f, np.zeros(D), 0.0, prior, q=10, sigma=1e-3, rng=rng)
    assert info["lam"] == 0.0 and info["nfev"] == 21
    assert abs(info["alpha"]) < 1e-6
    # the random estimate points along the gradient on average: cosine > 0
    assert g @ grad > 0


def test_estimated_alpha_is_close_in_high_dimension():
    rng = np.random.default_rng(2)
    D = 500
    grad = rng.standard_normal(D)
    noise = rng.standard_normal(D)
    prior = grad / np.linalg.norm(grad) + noise / np.linalg.norm(noise)   # cos ~ 0.707
    true = prior @ grad / np.linalg.norm(prior) / np.linalg.norm(grad)
    f = lambda x: float(grad @ x)
    alphas = [prgf_gradient(f, np.zeros(D), 0.0, prior, q=10, sigma=1e-3, rng=rng,
                            n_norm=50)[1]["alpha"] for _ in range(20)]
    assert np.median(alphas) == pytest.approx(true, rel=0.2)


def test_sigma_safeguard_doubles_on_a_flat_function():
    f = lambda x: float(np.floor(10 * x[0]))                # steps of width 0.1
    rng = np.random.default_rng(3)
    g, info = prgf_gradient(f, np.full(5, 0.05), 0.0, np.ones(5), q=3, sigma=1e-3,
                            rng=rng, n_norm=4)
    assert info["sigma"] > 1e-3 and info["nfev"] > 4 + 1


def test_descends_a_quadratic_and_repeats_with_a_seed():
    rng = np.random.default_rng(4)
    D = 50
    h = np.geomspace(1, 10, D)
    f = lambda x: 0.5 * float(h @ (x - 1) ** 2)
    surrogate = lambda x: h * (x - 1) + 0.5 * np.linalg.norm(h * (x - 1)) * rng.standard_normal(D) / np.sqrt(D)
    x0 = np.zeros(D)
    res = minimize_prgf(f, x0, surrogate, maxfev=3000, sigma=1e-4, learning_rate=0.05,
                        rng=0)
    assert res["nfev"] <= 3000
    assert f(res["x"]) < 0.02 * f(x0)
    assert np.all((res["lam"] >= 0) & (res["lam"] <= 1)) and res["lam"].max() > 0
    # without a prior it still descends, more slowly
    plain = minimize_prgf(f, x0, None, maxfev=3000, sigma=1e-4, learning_rate=0.05, rng=0)
    assert f(plain["x"]) < f(x0)
    again = minimize_prgf(f, x0, None, maxfev=3000, sigma=1e-4, learning_rate=0.05, rng=0)
    np.testing.assert_array_equal(plain["x"], again["x"])
