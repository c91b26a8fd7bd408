"""The numerical core: subspace basis, sampler statistics, estimator mean."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from ges_minimize import antithetic_estimate, sample_perturbations, subspace_basis


def _assert_orthonormal(U):
    assert_allclose(U.T @ U, np.eye(U.shape[1]), atol=1e-12)


def test_basis_spans_independent_gradients():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((20, 4))
    U = subspace_basis(G)
    assert U.shape == (20, 4)
    _assert_orthonormal(U)
    # every gradient lies in span(U)
    assert_allclose(U @ (U.T @ G), G, atol=1e-12)


def test_basis_drops_collinear_and_zero_columns():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 30))
    G = np.column_stack([a, 3.0 * a, np.zeros(30), b, -1e-6 * b, a + b])
    U = subspace_basis(G)
    assert U.shape == (30, 2)
    _assert_orthonormal(U)
    assert_allclose(U @ (U.T @ a), a, atol=1e-10)
    assert_allclose(U @ (U.T @ b), b, atol=1e-10)


def test_basis_is_scale_invariant_for_tiny_gradients():
    rng = np.random.default_rng(2)
    G = 1e-200 * rng.standard_normal((10, 3))
    assert subspace_basis(G).shape == (10, 3)


@pytest.mark.parametrize("G", [np.zeros((7, 0)), np.zeros((7, 3))])
def test_empty_or_zero_buffer_gives_no_direction(G):
    U = subspace_basis(G)
    assert U.shape == (7, 0)


def test_basis_rejects_non_matrix():
    with pytest.raises(ValueError, match="2-D"):
        subspace_basis(np.ones(5))


def _empirical_cov(eps):
    return eps.T @ eps / eps.shape[0]


@pytest.mark.parametrize("k_present, alpha", [(1, 0.5), (3, 0.25), (2, 0.9), (3, 0.0)])
def test_sample_covariance_matches_sigma(k_present, alpha):
    """Empirical covariance vs sigma^2 (alpha/n I + (1-alpha)/k U U^T).

    With N samples each entry's standard error is at most
    sigma^2 * sqrt(2 / N) * max diag(Sigma); the tolerance is 6 of those.
    ``k_present < 3`` stands for the start of a run with a buffer of k = 3
    that holds fewer gradients so far: ``k`` is then the number present.
    """
    n, sigma, N = 6, 0.3, 400_000
    rng = np.random.default_rng(3)
    U = subspace_basis(rng.standard_normal((n, k_present)))
    eps = sample_perturbations(U, N, sigma, alpha, np.random.default_rng(4))
    assert eps.shape == (N, n)
    Sigma = alpha / n * np.eye(n) + (1 - alpha) / k_present * U @ U.T
    expected = sigma**2 * Sigma
    se = sigma**2 * np.sqrt(2.0 / N) * np.max(np.diag(Sigma))
    assert_allclose(_empirical_cov(eps), expected, atol=6 * se)
    assert_allclose(np.trace(Sigma), 1.0)


def test_empty_basis_samples_vanilla_es():
    n, sigma, N = 5, 2.0, 300_000
    eps = sample_perturbations(np.zeros((n, 0)), N, sigma, 0.1,
                               np.random.default_rng(5))
    se = sigma**2 / n * np.sqrt(2.0 / N)
    assert_allclose(_empirical_cov(eps), sigma**2 / n * np.eye(n), atol=6 * se)


def test_sampler_is_reproducible_and_low_memory():
    U = subspace_basis(np.random.default_rng(6).standard_normal((100_000, 10)))
    a = sample_perturbations(U, 3, 0.1, 0.5, np.random.default_rng(7))
    b = sample_perturbations(U, 3, 0.1, 0.5, np.random.default_rng(7))
    assert a.shape == (3, 100_000)  # an n x n matrix would need 80 GB here
    np.testing.assert_array_equal(a, b)


def test_estimate_mean_is_beta_sigma_grad():
    """On a quadratic, E[g] = beta * Sigma @ grad f(x) exactly.

    Draws 400,000 pairs; the tolerance is 6 standard errors of the mean,
    estimated from the per-pair contributions.
    """
    n, k, sigma, alpha, beta = 8, 2, 0.5, 0.3, 2.0
    rng = np.random.default_rng(8)
    M = rng.standard_normal((n, n))
    H = M @ M.T / n + np.eye(n)
    c = rng.standard_normal(n)
    f = lambda X: 0.5 * np.einsum("...i,ij,...j->...", X, H, X) + X @ c
    x = rng.standard_normal(n)
    grad = H @ x + c
    U = subspace_basis(rng.standard_normal((n, k)))
    eps = sample_perturbations(U, 400_000, sigma, alpha, rng)
    f_plus, f_minus = f(x + eps), f(x - eps)
    g = antithetic_estimate(eps, f_plus, f_minus, sigma, beta)
    per_pair = beta / (2 * sigma**2) * eps * (f_plus - f_minus)[:, None]
    se = per_pair.std(axis=0) / np.sqrt(eps.shape[0])
    Sigma = alpha / n * np.eye(n) + (1 - alpha) / k * U @ U.T
    expected = beta * Sigma @ grad
    assert np.all(np.abs(g - expected) < 6 * se)
    assert_allclose(g, per_pair.mean(axis=0), rtol=1e-10)


def test_estimate_averages_over_pairs():
    """The 1/P: P copies of one pair give the one-pair estimate."""
    eps = np.array([[0.1, -0.2, 0.3]])
    one = antithetic_estimate(eps, np.array([2.0]), np.array([1.0]), 0.1, 2.0)
    many = antithetic_estimate(np.repeat(eps, 5, axis=0), np.full(5, 2.0),
                               np.full(5, 1.0), 0.1, 2.0)
    assert_allclose(many, one, rtol=1e-14)
    assert_allclose(one, 2.0 / (2 * 0.01) * eps[0] * 1.0)
