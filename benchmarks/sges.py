"""Self-Guided Evolution Strategies (SGES), written for the benchmark.

SGES (Liu, Li, Qian 2020) has no surrogate: it guides its own search by the
subspace spanned by its ``k`` most recent gradient *estimates*. Each of the
``P`` antithetic perturbations is drawn, independently, from the guiding
subspace with probability ``alpha`` and from the whole space otherwise, and
``alpha`` adapts: after every iteration it grows if the perturbations drawn
from the subspace did better (lower mean of ``min(f(x + e), f(x - e))``)
than those drawn from the whole space, and shrinks otherwise, within
``[alpha_min, alpha_max]``. Before ``k`` estimates have been gathered the
perturbations come from the whole space only (vanilla ES).

As implemented here (the paper's scheme; the constants and the step rule
are this module's stated choices):

- perturbations ``e = sigma * z / sqrt(n)`` (whole space) or ``e = sigma *
  U w / sqrt(k)`` (subspace; ``U`` an orthonormal basis of the last ``k``
  estimates, by a thin QR), so that both kinds have ``E|e|^2 = sigma^2``;
- the antithetic estimate ``g = 1 / (2 P) sum_i (f(x + e_i) - f(x - e_i))
  e_i / |e_i|^2``, a finite-difference directional derivative per pair;
- ``alpha`` starts at 0.5, is multiplied or divided by 1.005 per iteration
  and clipped to [0.3, 0.7];
- the step is Adam's (Kingma and Ba 2015) with a fixed learning rate, the
  same rule as for the benchmark's P-RGF, so that no learning rate is
  tuned per problem; ``sigma`` is fixed.

References
----------
.. [1] F.-Y. Liu, Z.-N. Li, C. Qian, "Self-guided evolution strategies with
   historical estimated gradients", IJCAI 2020, pp. 1474-1480.
.. [2] D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization",
   ICLR 2015.
"""

import collections

import numpy as np

from ._adam import Adam

__all__ = ["sges_perturbations", "update_alpha", "minimize_sges"]


def sges_perturbations(n, P, sigma, U, alpha, rng):
    """Draw `P` SGES perturbations and which of them came from the subspace.

    Parameters
    ----------
    n, P : int
        Dimension and number of antithetic pairs.
    sigma : float
        Perturbation scale (``E|e|^2 = sigma^2`` for both kinds).
    U : ndarray, shape (n, k), or None
        Orthonormal basis of the guiding subspace (None: whole space only).
    alpha : float
        Probability of drawing a perturbation from the subspace.
    rng : numpy.random.Generator

    Returns
    -------
    eps : ndarray, shape (P, n)
    from_subspace : ndarray of bool, shape (P,)
    """
    eps = sigma * rng.standard_normal((P, n)) / np.sqrt(n)
    if U is None:
        return eps, np.zeros(P, dtype=bool)
    k = U.shape[1]
    from_subspace = rng.random(P) < alpha
    m = int(from_subspace.sum())
    if m:
        eps[from_subspace] = sigma * rng.standard_normal((m, k)) @ U.T / np.sqrt(k)
    return eps, from_subspace


def update_alpha(alpha, best_values, from_subspace, *, factor=1.005,
                 alpha_min=0.3, alpha_max=0.7):
    """SGES's adaptive sampling probability.

    Parameters
    ----------
    alpha : float
        Current probability of sampling from the subspace.
    best_values : ndarray, shape (P,)
        ``min(f(x + e_i), f(x - e_i))`` per pair.
    from_subspace : ndarray of bool, shape (P,)
        Which pairs were drawn from the subspace.
    factor, alpha_min, alpha_max : float
        Multiplicative change and clipping range.

    Returns
    -------
    float
        ``alpha * factor`` if the subspace pairs did better on average,
        ``alpha / factor`` if the whole-space pairs did, unchanged when one
        kind is missing; clipped to ``[alpha_min, alpha_max]``.

    Examples
    --------
    >>> import numpy as np
    >>> update_alpha(0.5, np.array([1.0, 3.0]), np.array([True, False]))
    0.5025
    >>> update_alpha(0.7, np.array([1.0, 3.0]), np.array([True, False]))
    0.7
    """
    from_subspace = np.asarray(from_subspace, dtype=bool)
    if from_subspace.all() or not from_subspace.any():
        return alpha
    sub = float(np.mean(best_values[from_subspace]))
    full = float(np.mean(best_values[~from_subspace]))
    alpha = alpha * factor if sub < full else alpha / factor
    return float(np.clip(alpha, alpha_min, alpha_max))


class _Exhausted(Exception):
    pass


def minimize_sges(fun, x0, *, maxfev, sigma, learning_rate, k=10, n_pairs=5,
                  alpha0=0.5, rng=None, callback=None):
    """Minimise `fun` with Self-Guided ES and Adam steps.

    Parameters
    ----------
    fun : callable
        Objective.
    x0 : array_like, shape (n,)
    maxfev : int
        Calls of `fun` allowed; never exceeded (an incomplete last iteration
        is dropped).
    sigma : float
        Perturbation scale.
    learning_rate : float
        Adam's step length.
    k : int
        Number of past estimates spanning the guiding subspace.
    n_pairs : int
        Antithetic pairs per iteration.
    alpha0 : float
        Initial probability of sampling from the subspace.
    rng : None, int or numpy.random.Generator
    callback : callable, optional
        ``callback(x, nfev, alpha)`` after every iteration.

    Returns
    -------
    dict
        ``x`` (last centre), ``nfev``, ``nit``, ``alpha`` (its value after each
        iteration).

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: float(x @ x)
    >>> res = minimize_sges(f, np.ones(10), maxfev=4000, sigma=0.01,
    ...                     learning_rate=0.02, rng=0)
    >>> f(res["x"]) < 0.01 * f(np.ones(10))
    True
    """
    rng = np.random.default_rng(rng)
    x = np.array(x0, dtype=float)
    n = x.size
    count = [0]

    def f(z):
        if count[0] >= maxfev:
            raise _Exhausted
        count[0] += 1
        return fun(z)

    history = collections.deque(maxlen=k)
    adam = Adam(learning_rate)
    alpha, alphas, nit = alpha0, [], 0
    try:
        while True:
            U = None
            if len(history) == k:
                U, _ = np.linalg.qr(np.array(history).T)
            eps, from_subspace = sges_perturbations(n, n_pairs, sigma, U, alpha, rng)
            plus = np.array([f(x + e) for e in eps])
            minus = np.array([f(x - e) for e in eps])
            sq = np.einsum("ij,ij->i", eps, eps)
            g = ((plus - minus) / (2 * sq)) @ eps / n_pairs
            if U is not None:
                alpha = update_alpha(alpha, np.minimum(plus, minus), from_subspace)
            if np.all(np.isfinite(g)) and np.any(g != 0):
                history.append(g)
                x = adam.step(x, g)
            nit += 1
            alphas.append(alpha)
            if callback is not None:
                callback(x, count[0], alpha)
    except _Exhausted:
        pass
    return dict(x=x, nfev=count[0], nit=nit, alpha=np.array(alphas))
