"""Online estimate of the guide's correlation ``rho`` and the ``'auto'`` rule.

Everything here works from quantities Guided ES computes anyway: the
perturbations it drew and the antithetic differences of the values it
received. No extra evaluation of ``f`` is made.

Model. Write ``u = eps / sigma`` for a (normalised) perturbation and
``d = (f(x + eps) - f(x - eps)) / (2 sigma)``, so that ``d = u . grad`` for a
quadratic ``f`` (and up to ``O(sigma^2)`` otherwise). Split the gradient into
its part inside the guiding subspace and the rest, ``grad = U a + r``, and the
perturbation likewise: ``w = U^T u`` (known, ``k``-dimensional) and the
orthogonal part ``sqrt(alpha / n) (I - U U^T) z_n`` (independent of ``w``).
Then

    d = w . a + nu,      nu ~ N(0, (alpha / n) |r|^2) independent of w,

and, averaging over the direction of ``a`` relative to the isotropic ``w``,

    E[d^2 | w] = A |w|^2 / k + R alpha / n,   A = |U^T grad|^2,  R = |r|^2.

Each pair is one observation of a linear regression of ``d^2`` on the two
known regressors ``|w|^2 / k`` and ``alpha / n``, with unknown coefficients
``A`` and ``R``; ``rho^2 = A / (A + R)``. Pairs whose subspace part ``|w|`` is
small are the ones that reveal ``R``, and weighted least squares with weights
``1 / E[d^2 | w]^2`` (the inverse variance of the square of a centred
Gaussian, with ``A`` and ``R`` from the previous fit) puts the weight on
them. (The exact conditional variance, which treats ``(w . a)^2`` as known,
gives the small-``|w|`` pairs still more weight; measured, that feedback made
the estimate unstable.) The normal equations are summed over iterations with an
exponential forgetting factor, so the estimate follows the correlation along
the trajectory, and a ratio of discounted sums carries no start-up bias (the
bias an exponential average initialised at zero would have, cf. Adam).

Nothing about ``R`` can be learnt when ``alpha = 0``: the ``'auto'`` rule
therefore never goes below a floor ``alpha_min``.

References
----------
.. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
   J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
   search with surrogate gradients", ICML 2019. arXiv:1806.10230.
"""

import math

import numpy as np

from .theory import optimal_beta, optimal_hyperparameters

__all__ = ["RhoEstimator", "auto_hyperparameters"]


class RhoEstimator:
    """Online weighted least-squares estimate of ``rho = |U^T grad| / |grad|``.

    Parameters
    ----------
    halflife : float, default 300
        Half-life, in iterations, of the exponential forgetting of past
        pairs. Shorter follows changes faster, longer averages more noise
        away.
    max_information : float, default 200
        Cap on the information the fit holds about each coefficient, in
        pairs' worth (a pair whose variance is all in that coefficient's
        regressor counts about one). Pairs drawn with a small ``alpha`` carry
        far more information about ``A`` than pairs drawn with ``alpha``
        near 1; without a cap, stale pairs of the first kind would outweigh
        fresh ones of the second for thousands of iterations after the
        guide's quality changed. The cap keeps the current fit and shrinks
        its certainty, as the process noise of a Kalman filter would.

    Attributes
    ----------
    rho : float
        Current estimate in [0, 1]; ``nan`` before any pair with a non-empty
        subspace and ``alpha > 0`` has been seen.
    inside, outside : float
        The fitted ``A = |U^T grad|^2`` and ``R = |(I - U U^T) grad|^2``
        (weighted over the recent iterations); ``nan`` before the first fit.
    n_pairs_seen : float
        Discounted number of pairs the estimate rests on.

    Examples
    --------
    A linear ``f`` whose gradient has correlation 0.3 with a fixed guide:

    >>> import numpy as np
    >>> from ges_minimize._adaptive import RhoEstimator
    >>> rng = np.random.default_rng(0)
    >>> n, alpha = 50, 0.5
    >>> U = np.eye(n)[:, :1]
    >>> grad = 0.3 * U[:, 0] + np.sqrt(1 - 0.09) * np.eye(n)[:, 1]
    >>> est = RhoEstimator(halflife=2000)
    >>> for _ in range(2000):
    ...     u = (np.sqrt(alpha / n) * rng.standard_normal(n)
    ...          + np.sqrt(1 - alpha) * rng.standard_normal() * U[:, 0])
    ...     est.update(np.array([u @ grad]), (u @ U) ** 2, alpha / n)
    >>> round(est.rho, 1)
    0.3
    """

    def __init__(self, halflife=300.0, max_information=200.0):
        self.halflife = float(halflife)
        self.max_information = float(max_information)
        self.decay = 0.5 ** (1.0 / self.halflife)
        self._gram = np.zeros((2, 2))
        self._moment = np.zeros(2)
        self.n_pairs_seen = 0.0
        self.inside = math.nan
        self.outside = math.nan
        self.rho = math.nan

    def update(self, d, w_sq, alpha_over_n):
        """Add the pairs of one iteration and refit.

        Parameters
        ----------
        d : ndarray, shape (P,)
            Normalised antithetic differences ``(f_+ - f_-) / (2 sigma)``.
        w_sq : ndarray, shape (P,)
            ``|U^T u_i|^2 / k`` for the normalised perturbations ``u_i``.
        alpha_over_n : float
            ``alpha / n`` of the distribution the pairs were drawn from.
        """
        y = np.square(np.asarray(d, dtype=float))
        x1 = np.asarray(w_sq, dtype=float)
        x2 = float(alpha_over_n)
        if math.isnan(self.inside):
            scale = np.full(y.size, max(float(y.mean()), 1e-300))
        else:
            scale = self.inside * x1 + self.outside * x2
            scale = np.maximum(scale, 1e-12 * max(float(scale.max()), 1e-300))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            weight = 1.0 / (scale * scale)
        if not (np.isfinite(weight).all() and np.isfinite(y).all()
                and float(weight.max()) < 1e150):
            return          # values at machine precision: nothing to learn
        wx1 = weight * x1
        self._gram *= self.decay
        self._gram += [[wx1 @ x1, x2 * wx1.sum()],
                       [x2 * wx1.sum(), x2 * x2 * weight.sum()]]
        self._moment *= self.decay
        self._moment += [wx1 @ y, x2 * (weight @ y)]
        self.n_pairs_seen = self.decay * self.n_pairs_seen + y.size
        self._refit()

    def _refit(self):
        (g11, g12), (_, g22) = self._gram
        m1, m2 = self._moment
        with np.errstate(over="ignore", invalid="ignore"):
            det = g11 * g22 - g12 * g12
        if not np.isfinite(det) or g11 <= 0 or g22 <= 0 or det <= 1e-12 * g11 * g22:
            return                      # alpha = 0 so far: R not identified
        A = (g22 * m1 - g12 * m2) / det
        R = (g11 * m2 - g12 * m1) / det
        if A < 0:                       # non-negative least squares, 2 variables
            A, R = 0.0, m2 / g22
        elif R < 0:
            A, R = m1 / g11, 0.0
        if not A + R > 0:
            return
        self.inside, self.outside = float(A), float(R)
        self.rho = math.sqrt(self.inside / (self.inside + self.outside))
        # Cap the information on each coefficient at `max_information` pairs'
        # worth: keep the fit, shrink its certainty. A pair whose variance is
        # all in coefficient c's regressor x carries x^2 / (c x)^2 = 1 / c^2
        # of information on c, so gram_cc * c^2 counts pairs.
        info = np.diag(self._gram) * np.array([self.inside, self.outside]) ** 2
        with np.errstate(divide="ignore"):
            shrink = np.sqrt(np.minimum(1.0, self.max_information / info))
        if np.any(shrink < 1):
            self._gram *= np.outer(shrink, shrink)
            self._moment = self._gram @ np.array([self.inside, self.outside])


def auto_hyperparameters(rho, n, k, n_pairs, alpha=None, alpha_min=0.0,
                         outside_share=0.0, keep_guide=False):
    """Mixing ``alpha`` and scale ``beta`` for an estimated ``rho``.

    Parameters
    ----------
    rho : float
        Estimated correlation of the gradient with the guiding subspace;
        ``nan`` when unknown.
    n, k, n_pairs : int
        Dimension, current dimension of the subspace (0 allowed), pairs.
    alpha : float, optional
        A fixed ``alpha`` (only ``beta`` is chosen); ``None`` chooses both.
    alpha_min : float, default 0
        Floor on the chosen ``alpha``.
    outside_share : float, default 0
        A second floor, ``outside_share * (1 - rho^2)``: at least this share
        of the search goes to the full space, in proportion to the part of
        the gradient the subspace does not see.
    keep_guide : bool, default False
        Where the one-step optimum is vanilla ES (``alpha = 1``: ``rho^2``
        below the threshold of about ``k / n``), use the floors instead, so
        that the guide keeps a share of the search.

    Returns
    -------
    alpha, beta : float
        ``beta`` is ``nan`` when ``rho`` is unknown.
    """
    if k == 0 or k >= n:
        # the covariance is I / n whatever alpha: vanilla ES
        a = 1.0 / n
        beta = n_pairs * a / ((n_pairs + 1) * a * a + a)
        return (1.0 if alpha is None else alpha), beta
    if math.isnan(rho):
        return (1.0 if alpha is None else alpha), math.nan
    rho = min(max(rho, 0.0), 1.0)
    if alpha is None:
        best = optimal_hyperparameters(rho, n, k, n_pairs).alpha
        if keep_guide and best >= 1.0:
            best = 0.0
        alpha = max(best, alpha_min, outside_share * (1.0 - rho * rho))
    return alpha, optimal_beta(alpha, rho, n, k, n_pairs)
