"""Prior-guided random gradient-free optimisation (P-RGF), written for the benchmark.

P-RGF (Cheng, Dong, Pang, Su, Zhu 2019) estimates a gradient from forward
differences along ``q`` random directions that are mixed with a *prior*
direction ``p`` (here: the normalised surrogate gradient). With ``alpha``
the cosine between ``p`` and the true gradient, ``D`` the dimension and the
random parts ``xi_i`` uniform unit vectors orthogonal to ``p``, the
directions are ``u_i = sqrt(lambda) p + sqrt(1 - lambda) xi_i`` and the
estimate is

    g = (1 / q) sum_i (f(x + s u_i) - f(x)) / s * u_i .

The mixing weight minimising ``min_b E|grad f - b g|^2`` for a locally linear
``f`` is, in closed form [1]_,

    lambda* = 0                                   if alpha^2 <= 1 / (D + 2q - 2)
    lambda* = 1                                   if alpha^2 >= (2q - 1) / (D + 2q - 2)
    lambda* = (1 - alpha^2) (alpha^2 (D + 2q - 2) - 1)
              / (2 alpha^2 D q - alpha^4 D (D + 2q - 2) - 1)   otherwise.

(`expected_error` gives the exact expectation, so that the formula can be
checked against a brute-force minimisation; it is exact when the ``xi_i``
are uniform on the unit sphere of the ``D - 1``-dimensional complement of
``p``.) ``alpha`` is unknown and is estimated at every iteration as in the
paper: the directional derivative along ``p`` divided by an estimate of
``|grad f|`` from forward differences along ``S`` uniform random unit
directions, ``|grad f|^2 ~ (D / S) sum_s d_s^2`` (since ``E (u . g)^2 =
|g|^2 / D``). When ``lambda* = 1`` all directions would equal ``p``, and the
estimate is the directional derivative along ``p`` alone, with no further
query.

Choices made here, not in the paper (which estimates gradients for an
attack with sign steps): the estimate drives an Adam step (Kingma and Ba
2015) with a fixed learning rate, so that no step length is tuned per
problem; ``q = 10`` and ``S = 10`` by default; ``f(x)`` is re-evaluated at
every new centre. Safeguard for a flat ``f`` at the resolution of ``s``
(piecewise-constant objectives): when every forward difference of the norm
estimate is exactly zero, ``s`` is doubled and the norm estimate repeated
(each retry's queries counted), at most ``max_sigma_doublings`` times per
iteration; the doubled ``s`` is kept for later iterations. This stands in
for the paper's guard on the sampling radius, whose exact form is not
reproduced here.

References
----------
.. [1] S. Cheng, Y. Dong, T. Pang, H. Su, J. Zhu, "Improving black-box
   adversarial attacks with a transfer-based prior", NeurIPS 2019,
   arXiv:1906.06919.
.. [2] D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization",
   ICLR 2015.
"""

import numpy as np

from ._adam import Adam

__all__ = ["optimal_lambda", "expected_error", "prgf_gradient", "minimize_prgf"]


def optimal_lambda(alpha, D, q):
    """The closed-form optimal mixing weight ``lambda*`` of P-RGF.

    Parameters
    ----------
    alpha : float
        Cosine between the prior direction and the true gradient (its sign
        does not matter).
    D : int
        Dimension, ``D >= 2``.
    q : int
        Number of random directions per estimate, ``q >= 1``.

    Returns
    -------
    float
        ``lambda*`` in [0, 1]: 0 when ``alpha^2 <= 1 / (D + 2q - 2)``, 1 when
        ``alpha^2 >= (2q - 1) / (D + 2q - 2)``, the interior formula of
        Cheng et al. (2019) in between.

    Examples
    --------
    >>> optimal_lambda(0.0, 1000, 10), optimal_lambda(1.0, 1000, 10)
    (0.0, 1.0)
    >>> round(optimal_lambda(0.1, 100, 10), 4)
    0.01
    """
    D, q = int(D), int(q)
    if D < 2 or q < 1:
        raise ValueError(f"need D >= 2 and q >= 1, got D={D}, q={q}")
    a2 = min(float(alpha) ** 2, 1.0)
    m = D + 2 * q - 2
    if a2 <= 1.0 / m:
        return 0.0
    if a2 >= (2 * q - 1) / m:
        return 1.0
    lam = (1 - a2) * (a2 * m - 1) / (2 * a2 * D * q - a2 * a2 * D * m - 1)
    return float(min(max(lam, 0.0), 1.0))


def expected_error(lam, alpha, D, q):
    """``min_b E|g* - b g|^2`` for a linear ``f`` with unit gradient ``g*``.

    With ``xi_i`` uniform on the unit sphere orthogonal to the prior ``p``,
    ``E[u u^T] = lambda p p^T + (1 - lambda) / (D - 1) (I - p p^T)``, so with
    ``A = g*^T E[u u^T] g* = lambda alpha^2 + (1 - lambda)(1 - alpha^2)/(D-1)``
    and ``B = |E[u u^T] g*|^2 = lambda^2 alpha^2 + (1-lambda)^2 (1-alpha^2)/(D-1)^2``
    the error of the best scaling is ``1 - A^2 / (A / q + (1 - 1/q) B)``.

    Parameters
    ----------
    lam : float or ndarray
        Mixing weight(s) in [0, 1].
    alpha : float
        Cosine of the prior with the gradient.
    D, q : int
        Dimension and number of directions.

    Returns
    -------
    float or ndarray
        The expected squared error of the best-scaled estimate (1 means
        useless).

    Examples
    --------
    >>> round(float(expected_error(1.0, 0.5, 100, 10)), 6)   # only the prior
    0.75
    """
    lam = np.asarray(lam, dtype=float)
    a2, d = float(alpha) ** 2, D - 1.0
    A = lam * a2 + (1 - lam) * (1 - a2) / d
    B = lam ** 2 * a2 + (1 - lam) ** 2 * (1 - a2) / d ** 2
    return 1.0 - A ** 2 / (A / q + (1 - 1.0 / q) * B)


def _unit(v):
    return v / np.linalg.norm(v)


def prgf_gradient(fun, x, fx, prior, *, q, sigma, rng, n_norm=10,
                  max_sigma_doublings=10):
    """One P-RGF gradient estimate at `x`.

    Parameters
    ----------
    fun : callable
        The objective.
    x : ndarray, shape (D,)
        Where to estimate the gradient.
    fx : float
        ``fun(x)``, already known.
    prior : ndarray or None
        Prior direction (need not be normalised); None or zero means no prior
        (``lambda = 0``, plain random gradient-free estimate).
    q : int
        Random directions per estimate.
    sigma : float
        Forward-difference step.
    rng : numpy.random.Generator
    n_norm : int
        Random directions for the estimate of ``|grad f|``.
    max_sigma_doublings : int
        Safeguard: doublings of `sigma` tried when the norm estimate sees no
        change of ``f`` at all.

    Returns
    -------
    g : ndarray
        The estimate.
    info : dict
        ``alpha`` (estimated cosine), ``lam`` (mixing weight used), ``sigma``
        (after any doubling), ``nfev`` (calls of `fun` made).
    """
    D = x.size
    nfev = 0
    p = None
    if prior is not None and np.linalg.norm(prior) > 0 and np.all(np.isfinite(prior)):
        p = _unit(np.asarray(prior, dtype=float))
    alpha = 0.0
    if p is not None:
        for _ in range(max_sigma_doublings + 1):
            U = rng.standard_normal((n_norm, D))
            U /= np.linalg.norm(U, axis=1, keepdims=True)
            d = np.array([fun(x + sigma * u) - fx for u in U]) / sigma
            nfev += n_norm
            if np.any(d != 0):
                break
            sigma *= 2.0
        norm = np.sqrt(D * np.mean(d ** 2))
        dp = (fun(x + sigma * p) - fx) / sigma
        nfev += 1
        alpha = float(np.clip(dp / norm, -1.0, 1.0)) if norm > 0 else 0.0
        lam = optimal_lambda(alpha, D, q)
        if lam == 1.0:
            return dp * p, dict(alpha=alpha, lam=lam, sigma=sigma, nfev=nfev)
    else:
        lam = 0.0
    xi = rng.standard_normal((q, D))
    if p is not None:
        xi -= np.outer(xi @ p, p)
    xi /= np.linalg.norm(xi, axis=1, keepdims=True)
    u = np.sqrt(1.0 - lam) * xi
    if p is not None:
        u += np.sqrt(lam) * p
    diffs = np.array([fun(x + sigma * ui) - fx for ui in u]) / sigma
    nfev += q
    return diffs @ u / q, dict(alpha=alpha, lam=lam, sigma=sigma, nfev=nfev)


class _Exhausted(Exception):
    pass


def minimize_prgf(fun, x0, prior_grad=None, *, maxfev, sigma, learning_rate, q=10,
                  n_norm=10, rng=None, callback=None):
    """Minimise `fun` with P-RGF gradient estimates and Adam steps.

    Parameters
    ----------
    fun : callable
        Objective ``fun(x) -> float``.
    x0 : array_like, shape (D,)
        Start.
    prior_grad : callable or None
        ``prior_grad(x)``: the surrogate gradient at the centre, normalised
        into the prior direction (free: not counted).
    maxfev : int
        Calls of `fun` allowed; never exceeded (an iteration that would
        exceed it is cut short and its partial estimate dropped).
    sigma : float
        Initial forward-difference step (may be doubled by the safeguard).
    learning_rate : float
        Adam's step length.
    q, n_norm : int
        Directions of the estimate and of the norm estimate.
    rng : None, int or numpy.random.Generator
    callback : callable, optional
        ``callback(x, nfev, info)`` after every iteration.

    Returns
    -------
    dict
        ``x`` (last centre), ``nfev``, ``nit``, ``lam`` (mixing weights used,
        one per iteration).

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: float(x @ x)
    >>> res = minimize_prgf(f, np.ones(20), lambda x: 2 * x, maxfev=2000,
    ...                     sigma=1e-4, learning_rate=0.05, rng=0)
    >>> f(res["x"]) < 0.05 * f(np.ones(20))
    True
    """
    rng = np.random.default_rng(rng)
    x = np.array(x0, dtype=float)
    count = [0]

    def f(z):
        if count[0] >= maxfev:
            raise _Exhausted
        count[0] += 1
        return fun(z)

    adam = Adam(learning_rate)
    lams, nit = [], 0
    try:
        while True:
            fx = f(x)
            prior = prior_grad(x) if prior_grad is not None else None
            g, info = prgf_gradient(f, x, fx, prior, q=q, sigma=sigma, rng=rng,
                                    n_norm=n_norm)
            sigma = info["sigma"]
            x = adam.step(x, g)
            nit += 1
            lams.append(info["lam"])
            if callback is not None:
                callback(x, count[0], info)
    except _Exhausted:
        pass
    return dict(x=x, nfev=count[0], nit=nit, lam=np.array(lams))
