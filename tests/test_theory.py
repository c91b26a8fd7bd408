"""Tests of ges_minimize.theory: the closed-form error against Monte Carlo and
against the explicit covariance, and the optima against numeric minimisers."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

from ges_minimize.theory import (expected_squared_error, optimal_beta,
                                 optimal_hyperparameters)


def make_problem(n, k, rho, rng):
    """An orthonormal U (n x k) and a unit gradient with |U^T grad| = rho."""
    U, _ = np.linalg.qr(rng.standard_normal((n, k)))
    inside = U @ rng.standard_normal(k)
    inside /= np.linalg.norm(inside)
    outside = rng.standard_normal(n)
    outside -= U @ (U.T @ outside)
    outside /= np.linalg.norm(outside)
    grad = rho * inside + math.sqrt(1 - rho**2) * outside
    return U, grad


def estimate_statistics(U, grad, alpha, n_pairs, n_draws, rng, sigma=0.1,
                        chunk=5_000):
    """Per-draw |h|^2 and h . grad of the beta = 1 Guided ES estimate h.

    The estimate is formed as the library forms it, from function values,
    g = beta / (2 sigma^2 P) sum_i eps_i (f(x + eps_i) - f(x - eps_i)), on a
    quadratic f(x) = grad . x + x^T diag(curv) x / 2 at x = 0 (gradient
    ``grad``); the curvature cancels in the antithetic differences.
    """
    n, k = U.shape
    curvature = np.linspace(0.5, 3.0, n)

    def f(x):
        return x @ grad + 0.5 * (x**2) @ curvature

    norms_sq, dots = [], []
    for start in range(0, n_draws, chunk):
        m = min(chunk, n_draws - start)
        # eps = sigma (sqrt(alpha/n) z_n + sqrt((1-alpha)/k) U z_k), in place;
        # a term whose weight is 0 is not drawn.
        if alpha > 0:
            eps = rng.standard_normal((m, n_pairs, n))
            eps *= sigma * math.sqrt(alpha / n)
        else:
            eps = np.zeros((m, n_pairs, n))
        if alpha < 1:
            z_k = rng.standard_normal((m * n_pairs, k))
            z_k *= sigma * math.sqrt((1 - alpha) / k)
            eps += (z_k @ U.T).reshape(m, n_pairs, n)
        diff = f(eps) - f(-eps)                               # (m, P)
        h = np.einsum("mp,mpn->mn", diff, eps) / (2 * sigma**2 * n_pairs)
        norms_sq.append(np.einsum("mn,mn->m", h, h))
        dots.append(h @ grad)
    return np.concatenate(norms_sq), np.concatenate(dots)


# ----------------------------------------------------------------------------
# The error formula.

N_DRAWS = {1: 200_000, 4: 100_000}   # estimates per P (800,000 / 400,000 f pairs)
MC_N, MC_K, MC_RHO = 50, 3, 0.6


@pytest.fixture(scope="module")
def monte_carlo():
    """Empirical squared errors for P in {1, 4} and alpha in {0, 0.5, 1}.

    Returns {(P, alpha): (norms_sq, dots)} from N_DRAWS[P] independent
    estimates each, with a fixed seed.
    """
    rng = np.random.default_rng(20190610)
    U, grad = make_problem(MC_N, MC_K, MC_RHO, rng)
    assert_allclose(np.linalg.norm(U.T @ grad), MC_RHO, rtol=1e-12)
    return {(P, alpha): estimate_statistics(U, grad, alpha, P, N_DRAWS[P], rng)
            for P in (1, 4) for alpha in (0.0, 0.5, 1.0)}


def _z_score(stats, alpha, beta, P, formula=expected_squared_error):
    """(empirical - predicted) / standard error of the empirical mean."""
    norms_sq, dots = stats
    errors = beta**2 * norms_sq - 2 * beta * dots + 1     # |beta h - grad|^2
    standard_error = errors.std(ddof=1) / math.sqrt(errors.size)
    predicted = formula(alpha, beta, MC_RHO, MC_N, MC_K, P)
    return (errors.mean() - predicted) / standard_error, standard_error / predicted


@pytest.mark.parametrize("P", [1, 4])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("beta", ["optimal", 0.5, 2.0, 5.0])
def test_error_matches_monte_carlo(monte_carlo, P, alpha, beta):
    # The empirical mean of 200,000 (P = 1) or 100,000 (P = 4) squared errors
    # has a standard error of 0.004 % to 0.6 % of the prediction here (with
    # this seed the largest |z| of the 24 cases is 2.7); the formula must
    # agree within 5 standard errors, which a correct formula fails with
    # probability ~6e-7 per case (if the mean were normal).
    if beta == "optimal":
        beta = optimal_beta(alpha, MC_RHO, MC_N, MC_K, P)
    z, relative_se = _z_score(monte_carlo[(P, alpha)], alpha, beta, P)
    assert relative_se < 0.01
    assert abs(z) < 5, f"z = {z:.2f}, relative SE = {relative_se:.2%}"


def test_monte_carlo_rejects_a_wrong_variance_term(monte_carlo):
    # Power check: the sample is large enough to reject plausible slips in
    # the variance term, e.g. (2b + a)/P (forgetting to subtract the mean),
    # or n * a / P (reading tr(Sigma) as n instead of 1).
    def with_variance(variance):
        def formula(alpha, beta, rho, n, k, P):
            off, on = alpha / n, alpha / n + (1 - alpha) / k
            a = off * (1 - rho**2) + on * rho**2
            b = off**2 * (1 - rho**2) + on**2 * rho**2
            return beta**2 * b - 2 * beta * a + 1 + beta**2 * variance(a, b, n) / P
        return formula

    wrong = [with_variance(lambda a, b, n: 2 * b + a),
             with_variance(lambda a, b, n: b + n * a)]
    for formula in wrong:
        z, _ = _z_score(monte_carlo[(1, 0.0)], 0.0, 2.0, 1, formula)
        assert abs(z) > 20


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("rho", [0.0, 0.2, 0.9])
@pytest.mark.parametrize("P", [1, 3])
def test_error_matches_explicit_covariance(alpha, rho, P):
    # Bias and variance from the n x n matrix S and Isserlis' theorem,
    # E[w w^T w w^T] = 2 S^2 + tr(S) S for w ~ N(0, S).
    n, k, beta = 12, 4, 1.7
    U, grad = make_problem(n, k, rho, np.random.default_rng(3))
    S = alpha / n * np.eye(n) + (1 - alpha) / k * U @ U.T
    bias = beta * S @ grad - grad
    second_moment = grad @ (2 * S @ S + np.trace(S) * S) @ grad
    variance = beta**2 / P * (second_moment - (S @ grad) @ (S @ grad))
    assert_allclose(expected_squared_error(alpha, beta, rho, n, k, P),
                    bias @ bias + variance, rtol=1e-12)


def test_error_is_one_when_search_misses_the_gradient():
    assert expected_squared_error(0.0, 3.0, 0.0, 10, 2, 1) == 1.0


# ----------------------------------------------------------------------------
# The optimal beta.

SETTINGS = [  # (rho, n, k, P)
    (0.0, 10, 1, 1), (0.3, 50, 3, 1), (0.6, 50, 3, 4), (0.95, 1000, 1, 1),
    (0.1, 1000, 10, 2), (1.0, 20, 5, 7), (0.5, 2, 1, 1),
]


@pytest.mark.parametrize("rho, n, k, P", SETTINGS)
@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 1.0])
def test_optimal_beta_minimises_the_error(alpha, rho, n, k, P):
    if alpha == 0.0 and rho == 0.0:
        pytest.skip("every beta gives error 1; covered separately")
    beta = optimal_beta(alpha, rho, n, k, P)
    error = expected_squared_error(alpha, beta, rho, n, k, P)
    for step in (1e-3, 1e-6):
        assert error <= expected_squared_error(alpha, beta * (1 + step), rho, n, k, P)
        assert error <= expected_squared_error(alpha, beta * (1 - step), rho, n, k, P)
    numeric = minimize_scalar(
        lambda b: expected_squared_error(alpha, b, rho, n, k, P),
        bounds=(1e-9, 10.0 * P * max(n, 1)), method="bounded",
        options={"xatol": 1e-12})
    assert_allclose(beta, numeric.x, rtol=1e-6, atol=1e-9)
    assert_allclose(error, 1 - beta * (alpha / n + (1 - alpha) * rho**2 / k),
                    rtol=1e-12)


def test_optimal_beta_closed_forms():
    # alpha = 1: P n / (n + P + 1) for any rho; alpha = 0: P k / (k + P + 1).
    for rho in (0.0, 0.4, 1.0):
        assert_allclose(optimal_beta(1.0, rho, 30, 2, 3), 3 * 30 / 34, rtol=1e-14)
        assert_allclose(optimal_beta(0.0, rho, 30, 2, 3), 3 * 2 / 6, rtol=1e-14)


# ----------------------------------------------------------------------------
# The optimal alpha.

def brute_force(rho, n, k, P):
    """Best error over a fine alpha grid, refined by a bounded search."""
    def error(alpha):
        return expected_squared_error(
            alpha, optimal_beta(alpha, rho, n, k, P), rho, n, k, P)

    grid = np.linspace(0.0, 1.0, 2001)
    errors = np.array([error(alpha) for alpha in grid])
    i = int(np.argmin(errors))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    refined = minimize_scalar(error, bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-12})
    candidates = [(errors[i], grid[i]), (refined.fun, refined.x),
                  (error(0.0), 0.0), (error(1.0), 1.0)]
    return min(candidates)


@pytest.mark.parametrize("rho, n, k, P", SETTINGS + [
    (0.2, 50, 3, 1), (0.33, 50, 3, 1), (0.4, 50, 3, 4), (0.06, 1000, 1, 1),
    (0.07, 1000, 1, 3), (0.15, 1000, 10, 1), (0.5, 20, 5, 2), (0.7, 3, 2, 1),
])
def test_optimal_hyperparameters_match_brute_force(rho, n, k, P):
    best = optimal_hyperparameters(rho, n, k, P)
    error, alpha = brute_force(rho, n, k, P)
    assert best.error <= error + 1e-12
    assert_allclose(best.error, error, atol=1e-9)
    assert 0.0 <= best.alpha <= 1.0
    assert best.beta == pytest.approx(optimal_beta(best.alpha, rho, n, k, P), rel=1e-12)
    assert best.error == pytest.approx(
        expected_squared_error(best.alpha, best.beta, rho, n, k, P), rel=1e-12)


def alpha_zero_threshold(n, k, P):
    """rho^2 from which alpha* = 0 (derived in optimal_hyperparameters)."""
    return (k + 2 * (P + 1)) / (n + 2 * (P + 1))


@pytest.mark.parametrize("n, k, P", [(50, 3, 1), (50, 3, 4), (1000, 1, 1),
                                     (1000, 10, 1), (100, 1, 10), (20, 5, 2)])
def test_phase_boundaries(n, k, P):
    edge = math.sqrt(k / n)
    for rho in (0.0, 0.5 * edge, edge * (1 - 1e-9), edge):
        assert optimal_hyperparameters(rho, n, k, P).alpha == 1.0
    assert optimal_hyperparameters(edge * (1 + 1e-6), n, k, P).alpha < 1.0

    zero = math.sqrt(alpha_zero_threshold(n, k, P))
    assert 0.0 < optimal_hyperparameters(zero * (1 - 1e-6), n, k, P).alpha < 1.0
    for rho in (zero, zero * (1 + 1e-9), 0.5 * (1 + zero), 0.999, 1.0):
        assert optimal_hyperparameters(rho, n, k, P).alpha == 0.0
    # DESIGN.md's sqrt((k + P + 1) / (n + P + 1)) lies inside the band.
    approximate = math.sqrt((k + P + 1) / (n + P + 1))
    assert edge < approximate < zero
    assert 0.0 < optimal_hyperparameters(approximate, n, k, P).alpha < 1.0


def test_alpha_falls_monotonically_across_the_band():
    n, k, P = 50, 3, 1
    rhos = np.linspace(math.sqrt(k / n), math.sqrt(alpha_zero_threshold(n, k, P)), 50)
    alphas = optimal_hyperparameters(rhos, n, k, P).alpha
    assert alphas[0] == 1.0 and alphas[-1] == 0.0
    assert np.all(np.diff(alphas) < 0)


def test_edge_cases():
    # k == n: the covariance is I / n for every alpha; rho is necessarily 1.
    best = optimal_hyperparameters(1.0, 8, 8, 2)
    assert best.alpha == 1.0
    assert_allclose(best.beta, 2 * 8 / 11, rtol=1e-14)
    assert_allclose(best.error, 1 - 2 / 11, rtol=1e-14)
    assert optimal_hyperparameters(1.0, 1, 1, 1).alpha == 1.0
    # rho = 0: vanilla ES with beta = P n / (n + P + 1).
    best = optimal_hyperparameters(0.0, 100, 2, 1)
    assert best == (1.0, pytest.approx(100 / 102), pytest.approx(1 - 1 / 102))
    # rho = 1: search only the subspace, error 1 - P / (k + P + 1).
    best = optimal_hyperparameters(1.0, 100, 2, 3)
    assert best == (0.0, pytest.approx(3 * 2 / 6), pytest.approx(1 - 3 / 6))
    # The guide helps: error at alpha* is below vanilla ES's once rho^2 > k/n.
    assert (optimal_hyperparameters(0.3, 100, 2, 1).error
            < expected_squared_error(1.0, 100 / 102, 0.3, 100, 2, 1))


def test_arrays_match_scalars():
    rhos = np.array([[0.0, 0.1, 0.25], [0.4, 0.8, 1.0]])
    best = optimal_hyperparameters(rhos, 50, 3, 2)
    assert best.alpha.shape == rhos.shape
    for index, rho in np.ndenumerate(rhos):
        scalar = optimal_hyperparameters(float(rho), 50, 3, 2)
        assert best.alpha[index] == scalar.alpha
        assert_allclose(best.beta[index], scalar.beta, rtol=1e-14)
        assert_allclose(best.error[index], scalar.error, rtol=1e-14)
    alphas = np.array([0.0, 0.5, 1.0])
    assert_allclose(optimal_beta(alphas, 0.0, 50, 3, 2),
                    [2 * 3 / 6, optimal_beta(0.5, 0.0, 50, 3, 2), 2 * 50 / 53])
    assert_allclose(expected_squared_error(0.5, np.array([1.0, 2.0]), rhos[1, :2], 50, 3, 2),
                    [expected_squared_error(0.5, b, r, 50, 3, 2)
                     for b, r in zip([1.0, 2.0], [0.4, 0.8])])
    assert isinstance(optimal_hyperparameters(0.3, 50, 3, 2).alpha, float)
    assert isinstance(expected_squared_error(0.5, 1.0, 0.3, 50, 3, 2), float)
    assert isinstance(optimal_beta(0.5, 0.3, 50, 3, 2), float)


# ----------------------------------------------------------------------------
# Input validation.

GOOD = dict(alpha=0.5, beta=1.0, rho=0.3, n=10, k=2, n_pairs=1)


@pytest.mark.parametrize("name, value, match", [
    ("rho", -0.1, r"rho must be in \[0, 1\], got -0.1"),
    ("rho", 1.5, r"rho must be in \[0, 1\], got 1.5"),
    ("rho", np.array([0.2, np.nan]), r"rho must be in \[0, 1\], got nan"),
    ("alpha", 1.01, r"alpha must be in \[0, 1\], got 1.01"),
    ("alpha", -1.0, r"alpha must be in \[0, 1\], got -1.0"),
    ("beta", 0.0, r"beta must be a finite number > 0, got 0.0"),
    ("beta", -2.0, r"beta must be a finite number > 0, got -2.0"),
    ("beta", np.inf, r"beta must be a finite number > 0, got inf"),
    ("n", 0, r"n must be an integer >= 1, got 0"),
    ("k", 0, r"k must be an integer in \[1, 10\], got 0"),
    ("k", 11, r"k must be an integer in \[1, 10\], got 11"),
    ("n_pairs", 0, r"n_pairs must be an integer >= 1, got 0"),
])
def test_bad_values_raise(name, value, match):
    arguments = dict(GOOD, **{name: value})
    with pytest.raises(ValueError, match=match):
        expected_squared_error(**arguments)
    if name != "beta":
        del arguments["beta"]
        with pytest.raises(ValueError, match=match):
            optimal_beta(**arguments)
        if name != "alpha":
            del arguments["alpha"]
            with pytest.raises(ValueError, match=match):
                optimal_hyperparameters(**arguments)


def test_rho_must_be_one_when_subspace_is_everything():
    with pytest.raises(ValueError, match=r"rho must be 1 when k == n"):
        optimal_hyperparameters(0.5, 4, 4, 1)
    # Rounding is tolerated.
    assert optimal_hyperparameters(1 - 1e-13, 4, 4, 1).alpha == 1.0


@pytest.mark.parametrize("name, value", [("n", 10.0), ("k", 2.5),
                                         ("n_pairs", True), ("rho", True)])
def test_wrong_types_raise(name, value):
    arguments = dict(GOOD, **{name: value})
    del arguments["alpha"], arguments["beta"]
    with pytest.raises(TypeError, match=name):
        optimal_hyperparameters(**arguments)
