"""Expected error of the Guided ES gradient estimate, and the best alpha and beta.

For a linear or quadratic objective the antithetic estimate of Guided ES has a
mean squared error that depends only on five numbers: the mixing ``alpha``,
the scale ``beta``, the correlation ``rho`` of the true gradient with the
guiding subspace, the dimensions ``n`` and ``k``, and the number of pairs
``P``. This module gives that error in closed form and minimises it.

Notation (Maheswaranathan et al., 2019), with ``|grad| = 1``:

- ``S = alpha / n * I + (1 - alpha) / k * U U^T``, the search covariance
  divided by ``sigma^2`` (trace 1). Its eigenvalues are ``alpha / n`` on the
  complement of ``span(U)`` and ``alpha / n + (1 - alpha) / k`` on it.
- ``rho^2 = |U^T grad|^2``, the share of the gradient inside the subspace.
- ``a = grad^T S grad`` and ``b = grad^T S^2 grad``.
"""

import numbers
from typing import NamedTuple

import numpy as np

from ._validation import check_int

__all__ = ["expected_squared_error", "optimal_beta", "optimal_hyperparameters",
           "OptimalHyperparameters"]

# A rho^2 within this relative distance of k / n counts as rho^2 <= k / n, so
# that rho = sqrt(k / n) computed in floating point gives alpha* = 1 exactly.
_BOUNDARY_RTOL = 1e-12
# When k == n the subspace is all of R^n and rho must be 1; allow rounding.
_FULL_SUBSPACE_ATOL = 1e-9


class OptimalHyperparameters(NamedTuple):
    """The error-minimising ``alpha`` and ``beta`` and the error they give."""

    alpha: float
    beta: float
    error: float


# ----------------------------------------------------------------------------
# Input checks: each error names the argument, the value and what was expected.

def _check_fraction(value, name):
    """A real number, or an array of them, in [0, 1]."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number in [0, 1], got {value!r}")
    if isinstance(value, numbers.Real):            # fast path for scalars
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        return value
    array = np.asarray(value, dtype=float)
    outside = ~((array >= 0.0) & (array <= 1.0))    # also catches NaN
    if outside.any():
        raise ValueError(f"{name} must be in [0, 1], got "
                         f"{float(array[outside].flat[0])!r} among its values")
    return array


def _check_positive(value, name):
    """A finite real number, or an array of them, greater than zero."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a positive real number, got {value!r}")
    if isinstance(value, numbers.Real):
        value = float(value)
        if not 0.0 < value < np.inf:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        return value
    array = np.asarray(value, dtype=float)
    bad = ~((array > 0.0) & (array < np.inf))
    if bad.any():
        raise ValueError(f"{name} must be a finite number > 0, got "
                         f"{float(array[bad].flat[0])!r} among its values")
    return array


def _check_setting(rho, n, k, n_pairs):
    """Checked ``(rho^2, n, k, P)``."""
    n = check_int(n, "n", 1)
    k = check_int(k, "k", 1, n)
    P = check_int(n_pairs, "n_pairs", 1)
    rho = _check_fraction(rho, "rho")
    if k == n:
        # U spans R^n, so |U^T grad| = |grad| = 1 whatever the gradient.
        if np.any(np.asarray(rho) < 1.0 - _FULL_SUBSPACE_ATOL):
            raise ValueError(
                f"rho must be 1 when k == n (the subspace is all of R^n), got "
                f"{float(np.min(rho))!r}")
        rho = 1.0 if np.ndim(rho) == 0 else np.ones_like(rho)
    return rho * rho, n, k, P


def _as_output(value):
    """A Python float for scalar results, the array otherwise."""
    return float(value) if np.ndim(value) == 0 else value


# ----------------------------------------------------------------------------
# The formulas. Written with arithmetic operators only, so they take floats
# (fast) and numpy arrays (broadcast) alike.

def _moments(alpha, rho_sq, n, k):
    """``a = grad^T S grad`` and ``b = grad^T S^2 grad`` for a unit gradient."""
    off_subspace = alpha / n                     # eigenvalue of S off span(U)
    on_subspace = alpha / n + (1 - alpha) / k    # eigenvalue of S on span(U)
    a = off_subspace * (1 - rho_sq) + on_subspace * rho_sq
    b = off_subspace**2 * (1 - rho_sq) + on_subspace**2 * rho_sq
    return a, b


def _error(a, b, beta, P):
    """``E|g - grad|^2``: squared bias plus the trace of the covariance."""
    return beta**2 * b - 2 * beta * a + 1 + beta**2 * (b + a) / P


def _error_at_optimal_beta(a, b, P):
    return 1 - P * a**2 / ((P + 1) * b + a)


def _optimal_alpha(rho_sq, n, k, P):
    """The minimiser over alpha in [0, 1] of the error at beta*(alpha)."""
    if k == n or rho_sq * n <= k * (1 + _BOUNDARY_RTOL):
        return 1.0
    # With a = a0 + a1 alpha and D = (P+1) b + a = d0 + d1 alpha + d2 alpha^2,
    # the error at beta* is 1 - P a^2 / D, and d(a^2 / D)/d alpha = 0 reads
    # a (2 a' D - a D') = 0. The alpha^2 terms of 2 a' D - a D' cancel, so the
    # stationary point solves a linear equation.
    # Expanding _moments with u = 1/n, v = 1/k gives the coefficients of
    # a = a0 + a1 alpha and b = b0 + b1 alpha + b2 alpha^2.
    u, v = 1 / n, 1 / k
    a0, a1 = rho_sq * v, u - rho_sq * v
    b0 = rho_sq * v**2
    b1 = 2 * rho_sq * v * (u - v)
    b2 = u**2 * (1 - rho_sq) + rho_sq * (u - v)**2
    d0, d1, d2 = (P + 1) * b0 + a0, (P + 1) * b1 + a1, (P + 1) * b2
    candidates = [1.0, 0.0]
    denominator = 2 * a0 * d2 - a1 * d1
    if denominator != 0:
        stationary = (2 * a1 * d0 - a0 * d1) / denominator
        if 0 < stationary < 1:
            candidates.append(stationary)
    # min() keeps the first of equal errors, so ties go to alpha = 1.
    return min(candidates, key=lambda alpha: _error_at_optimal_beta(
        *_moments(alpha, rho_sq, n, k), P))


# ----------------------------------------------------------------------------
# Public API.

def expected_squared_error(alpha, beta, rho, n, k, n_pairs):
    r"""Expected squared error of the Guided ES gradient estimate.

    The relative mean squared error ``E|g - grad|^2 / |grad|^2`` of the
    antithetic estimate ``g`` for a linear or quadratic objective, where it
    does not depend on ``sigma`` or on the curvature.

    Parameters
    ----------
    alpha : float or array_like
        Mixing weight in [0, 1]: 1 is vanilla ES, 0 searches only inside the
        guiding subspace.
    beta : float or array_like
        Scale of the estimate, > 0.
    rho : float or array_like
        ``|U^T grad| / |grad|`` in [0, 1], the correlation of the true
        gradient with the guiding subspace. Must be 1 when ``k == n``.
    n : int
        Dimension of the parameters, >= 1.
    k : int
        Dimension of the guiding subspace, in [1, n].
    n_pairs : int
        Number ``P`` of antithetic pairs, >= 1.

    Returns
    -------
    float or ndarray
        ``E|g - grad|^2 / |grad|^2``; an array when an argument is an array
        (the arguments broadcast).

    Raises
    ------
    ValueError
        If an argument is outside the range given above.
    TypeError
        If `n`, `k` or `n_pairs` is not an integer.

    See Also
    --------
    optimal_beta, optimal_hyperparameters

    Notes
    -----
    Write the perturbations as ``eps_i = sigma w_i`` with ``w_i ~ N(0, S)``,
    ``S = alpha/n I + (1 - alpha)/k U U^T`` (trace 1). For linear or
    quadratic ``f``, ``f(x + eps) - f(x - eps) = 2 eps^T grad`` exactly, so

    .. math:: g = \frac{\beta}{P} \sum_{i=1}^P w_i w_i^T \nabla f.

    With ``|grad| = 1``, let :math:`a = \nabla f^T S \nabla f` and
    :math:`b = \nabla f^T S^2 \nabla f`; from the eigenvalues of ``S``,

    .. math::

        a = \frac{\alpha}{n} + \frac{(1 - \alpha) \rho^2}{k}, \qquad
        b = \left(\frac{\alpha}{n}\right)^2 (1 - \rho^2)
            + \left(\frac{\alpha}{n} + \frac{1 - \alpha}{k}\right)^2
              \rho^2.

    The mean is :math:`E g = \beta S \nabla f`, so the squared bias is
    :math:`\beta^2 b - 2 \beta a + 1`. For Gaussian ``w``,
    :math:`E[w w^T w w^T] = 2 S^2 + \mathrm{tr}(S) S` (Isserlis), and
    ``tr(S) = 1``, so :math:`E|w w^T \nabla f|^2 = 2b + a` and one pair
    contributes variance :math:`(2b + a) - b = b + a`. Averaging ``P``
    independent pairs,

    .. math::

        E|g - \nabla f|^2 = \beta^2 b - 2 \beta a + 1
                              + \frac{\beta^2}{P} (b + a).

    This derivation confirms the formula in the project's DESIGN.md; the
    ``tr(S) a`` term of the variance reduces to ``a`` only because the
    covariance is normalised to trace 1.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.

    Examples
    --------
    >>> from ges_minimize.theory import expected_squared_error
    >>> round(expected_squared_error(alpha=0.5, beta=2.0, rho=0.5, n=100, k=1,
    ...                              n_pairs=1), 4)
    1.5102

    With ``rho = 0`` and ``alpha = 0`` the search never leaves a subspace
    orthogonal to the gradient, so the estimate is zero and the error is 1:

    >>> expected_squared_error(alpha=0.0, beta=2.0, rho=0.0, n=100, k=1,
    ...                        n_pairs=1)
    1.0
    """
    rho_sq, n, k, P = _check_setting(rho, n, k, n_pairs)
    alpha = _check_fraction(alpha, "alpha")
    beta = _check_positive(beta, "beta")
    a, b = _moments(alpha, rho_sq, n, k)
    return _as_output(_error(a, b, beta, P))


def optimal_beta(alpha, rho, n, k, n_pairs):
    r"""Scale ``beta`` that minimises the expected squared error.

    Parameters
    ----------
    alpha : float or array_like
        Mixing weight in [0, 1].
    rho : float or array_like
        ``|U^T grad| / |grad|`` in [0, 1]; must be 1 when ``k == n``.
    n : int
        Dimension of the parameters, >= 1.
    k : int
        Dimension of the guiding subspace, in [1, n].
    n_pairs : int
        Number ``P`` of antithetic pairs, >= 1.

    Returns
    -------
    float or ndarray
        The minimiser ``beta* > 0`` of `expected_squared_error` over ``beta``.

    Raises
    ------
    ValueError
        If an argument is outside the range given above.
    TypeError
        If `n`, `k` or `n_pairs` is not an integer.

    See Also
    --------
    expected_squared_error, optimal_hyperparameters

    Notes
    -----
    The error is a convex quadratic in ``beta``; setting its derivative
    :math:`2 \beta b - 2a + 2 \beta (b + a) / P` to zero gives

    .. math:: \beta^* = \frac{P a}{(P + 1) b + a}, \qquad
              E|g - \nabla f|^2 = 1 - \frac{P a^2}{(P + 1) b + a}
              = 1 - a \beta^*.

    With ``a`` and ``b`` as in `expected_squared_error`. With ``alpha = 1``
    (vanilla ES) this is :math:`\beta^* = P n / (n + P + 1)`; with
    ``alpha = 0`` it is :math:`P k / (k + P + 1)` for every ``rho > 0``.
    At ``alpha = 0, rho = 0`` the estimate is identically zero and every
    ``beta`` gives error 1; the value returned there is the ``alpha = 0``
    one, :math:`P k / (k + P + 1)`, so the result is continuous in ``rho``.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.

    Examples
    --------
    For vanilla ES the optimal scale is ``P n / (n + P + 1)``, whatever
    ``rho``:

    >>> from ges_minimize.theory import optimal_beta
    >>> round(optimal_beta(alpha=1.0, rho=0.3, n=100, k=1, n_pairs=1), 6)
    0.980392
    >>> round(optimal_beta(alpha=0.5, rho=0.5, n=100, k=1, n_pairs=4), 4)
    1.1585
    """
    rho_sq, n, k, P = _check_setting(rho, n, k, n_pairs)
    alpha = _check_fraction(alpha, "alpha")
    a, b = _moments(alpha, rho_sq, n, k)
    if np.ndim(a) == 0:
        beta = P * a / ((P + 1) * b + a) if a > 0 else P * k / (k + P + 1)
        return float(beta)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a > 0, P * a / ((P + 1) * b + a), P * k / (k + P + 1))


def optimal_hyperparameters(rho, n, k, n_pairs):
    r"""Mixing ``alpha`` and scale ``beta`` of least expected squared error.

    Minimises `expected_squared_error` jointly over ``alpha`` in [0, 1] and
    ``beta > 0``, in closed form.

    Parameters
    ----------
    rho : float or array_like
        ``|U^T grad| / |grad|`` in [0, 1]; must be 1 when ``k == n``.
    n : int
        Dimension of the parameters, >= 1.
    k : int
        Dimension of the guiding subspace, in [1, n].
    n_pairs : int
        Number ``P`` of antithetic pairs, >= 1.

    Returns
    -------
    OptimalHyperparameters
        Named tuple ``(alpha, beta, error)``: the optimal mixing, the optimal
        scale at that mixing, and the relative squared error they give.
        Floats for a scalar `rho`, arrays of its shape otherwise.

    Raises
    ------
    ValueError
        If an argument is outside the range given above.
    TypeError
        If `n`, `k` or `n_pairs` is not an integer.

    See Also
    --------
    expected_squared_error, optimal_beta

    Notes
    -----
    At :math:`\beta^*` the error is :math:`1 - P a^2 / D` with
    :math:`D = (P + 1) b + a`; ``a`` is linear and ``D`` quadratic in
    ``alpha``. Its stationarity condition :math:`2 a' D = a D'` is linear in
    ``alpha`` (the quadratic terms cancel), so the optimum is the better of
    ``alpha = 0``, ``alpha = 1`` and that one stationary point.

    The phases, for ``k < n``:

    - :math:`\rho^2 \le k / n`: :math:`\alpha^* = 1` exactly. Then
      :math:`a` does not decrease with ``alpha`` and
      :math:`b / a^2 \ge 1` (Cauchy-Schwarz, ``|grad| = 1``) with equality at
      ``alpha = 1``, so ``alpha = 1`` minimises both terms of
      :math:`D / a^2 = (P + 1) b / a^2 + 1 / a`. A guide no better aligned
      than a random ``k``-dimensional subspace is not worth using.
    - :math:`k / n < \rho^2 < (k + 2(P + 1)) / (n + 2(P + 1))`:
      :math:`0 < \alpha^* < 1`, falling continuously from 1 to 0.
    - :math:`\rho^2 \ge (k + 2(P + 1)) / (n + 2(P + 1))`:
      :math:`\alpha^* = 0`. This threshold is exact (the stationary point
      reaches 0 there); the approximation
      :math:`\rho \approx \sqrt{(k + P + 1) / (n + P + 1)}` in DESIGN.md
      underestimates it.

    A ``rho^2`` within a relative ``1e-12`` of ``k / n`` counts as on the
    boundary, so ``rho = sqrt(k / n)`` gives ``alpha = 1`` despite rounding.
    When ``k == n`` every ``alpha`` gives the same covariance ``I / n``; the
    result is then ``alpha = 1``.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.

    Examples
    --------
    >>> from ges_minimize.theory import optimal_hyperparameters
    >>> best = optimal_hyperparameters(rho=0.1, n=1000, k=1, n_pairs=1)
    >>> best.alpha, round(best.beta, 4), round(best.error, 4)
    (0.0, 0.3333, 0.9967)
    >>> best = optimal_hyperparameters(rho=0.05, n=1000, k=1, n_pairs=1)
    >>> round(best.alpha, 4), round(best.beta, 4), round(best.error, 4)
    (0.8058, 0.8709, 0.9989)

    A guide weaker than a random direction is ignored:

    >>> optimal_hyperparameters(rho=0.01, n=1000, k=1, n_pairs=1).alpha
    1.0
    """
    rho_sq, n, k, P = _check_setting(rho, n, k, n_pairs)
    if np.ndim(rho_sq) == 0:
        alpha = _optimal_alpha(rho_sq, n, k, P)
        a, b = _moments(alpha, rho_sq, n, k)
        return OptimalHyperparameters(
            float(alpha), float(P * a / ((P + 1) * b + a)),
            float(_error_at_optimal_beta(a, b, P)))
    alpha = np.array([_optimal_alpha(float(r), n, k, P) for r in rho_sq.flat])
    alpha = alpha.reshape(rho_sq.shape)
    a, b = _moments(alpha, rho_sq, n, k)
    return OptimalHyperparameters(alpha, P * a / ((P + 1) * b + a),
                                  _error_at_optimal_beta(a, b, P))
