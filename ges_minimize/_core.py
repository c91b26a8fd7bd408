"""The numerical core of Guided ES, in the paper's notation.

Pure functions of arrays and an explicit ``numpy.random.Generator``: the
orthonormal basis of the guiding subspace, the sampler of perturbations, and
the antithetic gradient estimate. Nothing here keeps state.

Notation (Maheswaranathan et al., 2019):

- ``n``: dimension of the parameters; ``k``: dimension of the guiding subspace;
  ``P``: number of antithetic pairs.
- ``U`` (n x k): orthonormal basis of the span of the recent surrogate
  gradients.
- ``Sigma = alpha / n * I + (1 - alpha) / k * U U^T``, trace 1.
- ``eps = sigma * (sqrt(alpha / n) z_n + sqrt((1 - alpha) / k) U z_k)``.
- ``g = beta / (2 sigma^2 P) * sum_i eps_i (f(x + eps_i) - f(x - eps_i))``.
"""

import numpy as np
import scipy.linalg

__all__ = ["subspace_basis", "sample_perturbations", "antithetic_estimate"]


def subspace_basis(gradients):
    """Orthonormal basis of the span of a buffer of surrogate gradients.

    Parameters
    ----------
    gradients : array_like, shape (n, m)
        The ``m`` most recent surrogate gradients as columns (``m`` may be
        zero). All-zero columns are ignored.

    Returns
    -------
    U : ndarray, shape (n, r)
        Orthonormal columns spanning the same space as the non-zero columns
        of `gradients`; ``r`` is its numerical rank, so collinear gradients
        contribute one direction and an empty or all-zero buffer gives
        ``r = 0``. Never contains a zero column.

    Notes
    -----
    Each column is first scaled to unit length, so that the rank decision
    does not depend on the gradients' magnitudes, then a thin QR factorisation
    with column pivoting is taken. A direction is kept when its diagonal entry
    of ``R`` exceeds ``max(n, m) * eps * |R[0, 0]|``, the tolerance of
    `numpy.linalg.matrix_rank`.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import subspace_basis
    >>> G = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 0.0]])
    >>> U = subspace_basis(G)   # two collinear columns and a zero column
    >>> U.shape
    (3, 1)
    >>> np.allclose(np.abs(U[:, 0]), [2 ** -0.5, 0, 2 ** -0.5])
    True
    """
    G = np.asarray(gradients, dtype=float)
    if G.ndim != 2:
        raise ValueError(
            f"gradients must be a 2-D array (n, m), got shape {G.shape}")
    n = G.shape[0]
    norms = np.linalg.norm(G, axis=0)
    if G.shape[1] and np.all((norms > 1e-150) & (norms < 1e150)):
        G = G / norms                        # one pass when no norm is extreme
    else:                                    # rescale first: no under/overflow
        scale = np.max(np.abs(G), axis=0) if G.size else np.zeros(G.shape[1])
        G = G[:, scale > 0] / scale[scale > 0]
        G /= np.linalg.norm(G, axis=0)
    if G.shape[1] <= 1:
        return G                             # one direction: already a basis
    Q, R, _ = scipy.linalg.qr(G, mode="economic", pivoting=True,
                              overwrite_a=True, check_finite=False)
    diag = np.abs(np.diag(R))
    tol = max(G.shape) * np.finfo(float).eps * diag[0]
    rank = int(np.count_nonzero(diag > tol))
    return Q[:, :rank]


def sample_perturbations(U, n_pairs, sigma, alpha, rng, n=None):
    """Draw perturbations from the guiding distribution ``N(0, sigma^2 Sigma)``.

    Parameters
    ----------
    U : ndarray, shape (n, k)
        Orthonormal basis of the guiding subspace. With ``k = 0`` the
        distribution is the isotropic one of vanilla ES, whatever `alpha`.
    n_pairs : int
        Number ``P`` of perturbations (one per antithetic pair).
    sigma : float
        Overall scale of the perturbations.
    alpha : float
        Share of the variance spent on the full space, in [0, 1]; the rest,
        ``1 - alpha``, goes to the subspace.
    rng : numpy.random.Generator
        Source of randomness. Draws ``z_n`` (P x n) first, then ``z_k``
        (P x k) when ``k > 0`` and ``alpha < 1``.
    n : int, optional
        Dimension; defaults to ``U.shape[0]``.

    Returns
    -------
    eps : ndarray, shape (P, n)
        One perturbation per row:
        ``sigma * (sqrt(alpha / n) z_n + sqrt((1 - alpha) / k) U z_k)``.

    Notes
    -----
    Costs O(n k P) operations and O(n P) memory: the covariance
    ``Sigma = alpha / n I + (1 - alpha) / k U U^T`` is never formed.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import sample_perturbations
    >>> U = np.eye(4)[:, :1]
    >>> eps = sample_perturbations(U, 100_000, 1.0, 0.0, np.random.default_rng(0))
    >>> np.round(eps.var(axis=0), 2)     # all the variance along U
    array([1., 0., 0., 0.])
    """
    U = np.asarray(U, dtype=float)
    n = U.shape[0] if n is None else n

    def add_combination(out, z):
        out += z @ U.T

    return draw_perturbations(rng, n_pairs, n, U.shape[1], sigma, alpha,
                              add_combination)


def draw_perturbations(rng, n_pairs, n, k, sigma, alpha, add_combination):
    """`sample_perturbations` for a basis given as an operation.

    ``add_combination(out, z)`` must add ``z @ U.T`` to `out` (P x n) in
    place, for ``z`` of shape (P, k). Draws ``z_n`` first, then ``z_k`` when
    ``k > 0`` and ``alpha < 1``; each element of the result is scaled once.
    """
    if k == 0:
        alpha = 1.0
    eps = rng.standard_normal((n_pairs, n))
    eps *= sigma * np.sqrt(alpha / n)
    if alpha < 1.0:
        z_k = rng.standard_normal((n_pairs, k))
        z_k *= sigma * np.sqrt((1.0 - alpha) / k)
        add_combination(eps, z_k)
    return eps


def antithetic_estimate(eps, f_plus, f_minus, sigma, beta):
    """Antithetic estimate of the gradient from P pairs of evaluations.

    Parameters
    ----------
    eps : ndarray, shape (P, n)
        The perturbations (or, for pairs that bounds clipped, the half-chords
        ``(x_plus - x_minus) / 2``).
    f_plus, f_minus : ndarray, shape (P,)
        ``f(x + eps_i)`` and ``f(x - eps_i)``.
    sigma, beta : float
        Scale of the perturbations and of the estimate.

    Returns
    -------
    g : ndarray, shape (n,)
        ``beta / (2 sigma^2 P) * sum_i eps_i (f_plus_i - f_minus_i)``.
        For a quadratic f, ``E[g] = beta * Sigma @ grad f(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import antithetic_estimate
    >>> eps = np.array([[0.1, 0.0], [0.0, 0.1]])
    >>> f = lambda x: 3.0 * x[0] - x[1]          # gradient (3, -1)
    >>> antithetic_estimate(eps, np.array([f(e) for e in eps]),
    ...                     np.array([f(-e) for e in eps]), 0.1, 2.0)
    array([ 3., -1.])
    """
    n_pairs = eps.shape[0]
    return (beta / (2.0 * sigma**2 * n_pairs)) * ((f_plus - f_minus) @ eps)
