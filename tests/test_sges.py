"""Tests of the benchmark's Self-Guided ES (Liu, Li, Qian 2020)."""

import numpy as np
import pytest

from benchmarks.sges import minimize_sges, sges_perturbations, update_alpha


def test_perturbations_come_from_the_subspace_with_probability_alpha():
    rng = np.random.default_rng(0)
    n, k, P = 100, 3, 20_000
    U, _ = np.linalg.qr(rng.standard_normal((n, k)))
    eps, sub = sges_perturbations(n, P, 0.5, U, 0.3, rng)
    assert sub.mean() == pytest.approx(0.3, abs=0.01)
    # subspace ones lie in span(U), the others have a component outside
    resid = eps - (eps @ U) @ U.T
    assert np.abs(resid[sub]).max() < 1e-12
    assert np.all(np.linalg.norm(resid[~sub], axis=1) > 0.1 * 0.5)
    # both kinds have E|e|^2 = sigma^2
    sq = np.sum(eps ** 2, axis=1)
    assert sq[sub].mean() == pytest.approx(0.25, rel=0.03)
    assert sq[~sub].mean() == pytest.approx(0.25, rel=0.03)
    eps, sub = sges_perturbations(n, 10, 0.5, None, 0.3, rng)
    assert not sub.any()


def test_alpha_update_direction_and_clipping():
    sub = np.array([True, True, False, False])
    assert update_alpha(0.5, np.array([1, 1, 2, 2.0]), sub) == pytest.approx(0.5 * 1.005)
    assert update_alpha(0.5, np.array([3, 3, 2, 2.0]), sub) == pytest.approx(0.5 / 1.005)
    assert update_alpha(0.3, np.array([3, 3, 2, 2.0]), sub) == 0.3
    assert update_alpha(0.5, np.array([3, 3, 2, 2.0]), np.ones(4, bool)) == 0.5


def test_descends_a_quadratic_and_guides_itself():
    n = 30
    h = np.geomspace(1, 30, n)
    f = lambda x: 0.5 * float(h @ (x - 1) ** 2)
    x0 = np.zeros(n)
    res = minimize_sges(f, x0, maxfev=6000, sigma=0.01, learning_rate=0.02, rng=0)
    assert res["nfev"] <= 6000 and res["nfev"] > 6000 - 10
    assert f(res["x"]) < 0.01 * f(x0)
    assert res["alpha"].max() > 0.5 or res["alpha"].min() < 0.5     # it adapted
    again = minimize_sges(f, x0, maxfev=6000, sigma=0.01, learning_rate=0.02, rng=0)
    np.testing.assert_array_equal(res["x"], again["x"])
