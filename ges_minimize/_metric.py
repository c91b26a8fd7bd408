"""The metric the adaptive mode learns from curvature (``metric='full'``).

The search runs in coordinates ``y`` with ``x = centre + A y``: a
perturbation drawn in ``y`` is ``A e`` in ``x``, and the guiding subspace in
``y`` is spanned by ``A^T g`` for the surrogate gradients ``g`` (the gradient
of ``y -> f(centre + A y)``). The raw estimate built from the perturbations
in ``x``, ``u = sum_i d_i A e_i / sigma``, is then ``A A^T`` times the
gradient: ``A A^T`` acts as an inverse Hessian, and the aim is
``A^T H A`` proportional to the identity.

Curvature. With ``f`` evaluated at the centre (the one extra evaluation per
iteration this mode costs), each antithetic pair gives the exact curvature
of a quadratic along its direction,

    h_i = (f(x + A e_i) + f(x - A e_i) - 2 f(x)) / |e_i|^2
        = e_i^T (A^T H A) e_i / |e_i|^2,

and the line search gives the curvature along the last step ``delta``,
``2 (f_after - f_before - slope)``, exact as well since the slope is.
Each iteration makes ``A^T H A`` more nearly isotropic along these
directions:

- the pairs' curvatures are pulled towards their geometric mean: along the
  orthonormalised pair directions ``v_i``, ``A <- A (I + sum_i (q_i - 1)
  v_i v_i^T)`` with ``q_i = (h_i / mean_geo(h))^(-RATE / 2)``, which keeps
  ``det A`` (``prod q_i = 1``);
- the step's curvature is pulled towards the pairs' (arithmetic) mean, which
  estimates ``trace(A^T H A) / n``, by the same rule with ``STEP_RATE``,
  then ``A`` is rescaled to ``det A = 1``.

A random direction's curvature averages over the whole spectrum, so the
pairs alone learn the metric in ``O(n^2)`` iterations, like the covariance
updates of CMA-ES; the step directions, which a gradient method takes
mostly along the stiffest directions, are what makes it faster. The idea of
estimating the curvature from mirrored pairs and the centre, and of
adapting the search distribution from it, is that of the Hessian
Estimation Evolution Strategy [1]_; the update rules here are the
project's own.

Safeguards: nothing is learnt from a pair whose second difference is not
positive or not resolved by the values' precision (non-convex or flat
``f``), nor from pairs too short beside the centre for ``x`` to resolve
them (``METRIC_X_RESOLUTION``); no factor changes by more than
``MAX_CHANGE`` in one iteration; and an update that would make the
condition number bound ``|A|_F |A^-1|_F / n`` exceed ``MAX_COND`` is
dropped.

References
----------
.. [1] T. Glasmachers and O. Krause, "The Hessian estimation evolution
   strategy", PPSN 2020. arXiv:2003.13256.
"""

import math

import numpy as np

from ._core import subspace_basis
from ._stepsize import VALUE_PRECISION

__all__ = ["Metric", "METRIC_MAX_DIM", "METRIC_X_RESOLUTION"]

#: ``metric='auto'`` learns a metric up to this dimension (it costs
#: ``O(n^2)`` operations and memory per iteration).
METRIC_MAX_DIM = 200
#: Share of the pairs' log-curvature ratios corrected at each iteration.
METRIC_RATE = 0.5
#: Share of the step's log-curvature ratio corrected at each iteration.
METRIC_STEP_RATE = 0.25
#: Largest change of a factor in one iteration.
METRIC_MAX_CHANGE = 2.0
#: Largest condition number bound ``|A|_F |A^-1|_F / n`` of the metric.
METRIC_MAX_COND = 1e4
#: A second difference counts when above this many times the values'
#: precision.
METRIC_RESOLUTION = 1.0
#: Pairs shorter than this times ``|centre|`` teach nothing: the rounding
#: of ``centre + eps`` would dominate their second differences.
METRIC_X_RESOLUTION = 1e-8


class Metric:
    """The factor ``A`` (and its inverse) of ``x = centre + A y``.

    Parameters
    ----------
    n : int
        Dimension; ``A`` starts as the identity.

    Attributes
    ----------
    A, A_inv : ndarray, shape (n, n)
        The factor and its inverse. Updates replace them (never write into
        them), so a shallow copy of the object is a snapshot.
    n_updates : int
        Iterations whose curvature changed ``A``.

    Examples
    --------
    On a quadratic of condition 100, the curvatures measured along random
    pairs and the centre make ``A^T H A`` better conditioned:

    >>> import numpy as np
    >>> from ges_minimize._metric import Metric
    >>> rng = np.random.default_rng(0)
    >>> H = np.diag(np.geomspace(1.0, 100.0, 10))
    >>> f = lambda x: 0.5 * x @ H @ x
    >>> metric = Metric(10)
    >>> for _ in range(500):
    ...     e = 0.1 * rng.standard_normal((2, 10))
    ...     eps = metric.to_x(e)
    ...     f_plus = np.array([f(p) for p in eps])
    ...     f_minus = np.array([f(-p) for p in eps])
    ...     _ = metric.update(e, f_plus, f_minus, f(np.zeros(10)))
    >>> bool(np.linalg.cond(metric.A.T @ H @ metric.A) < 20)
    True
    """

    def __init__(self, n):
        self.n = int(n)
        self.A = np.eye(self.n)
        self.A_inv = np.eye(self.n)
        self.n_updates = 0

    # -- coordinates -------------------------------------------------------
    def to_x(self, e):
        """Perturbations ``e`` (P, n) in ``y`` as rows in ``x``: ``e A^T``."""
        return e @ self.A.T

    def guide_basis(self, rows):
        """Orthonormal basis (n, r) of the span of ``A^T g`` for the rows
        ``g`` of `rows` (m, n), the guiding gradients."""
        return subspace_basis(self.A.T @ rows.T)

    def covector(self, g):
        """A gradient ``g`` in ``x`` as one in ``y``: ``A^T g``."""
        return self.A.T @ g

    def vector(self, v):
        """A displacement ``v`` in ``x`` as one in ``y``: ``A^-1 v``."""
        return self.A_inv @ v

    def restricted(self, e, held):
        """The rows of `e` (P, n) projected, orthogonally in ``y``, onto the
        directions that leave the coordinates `held` (a boolean mask) of
        ``x`` where they are: ``e (I - B^T (B B^T)^-1 B)`` with ``B`` the
        rows `held` of ``A``. Rows drawn from a standard normal distribution
        become the perturbations in ``x`` conditioned on those coordinates
        staying fixed (the conditional Gaussian), not the perturbations
        with those coordinates cut off."""
        B = self.A[held]
        # (B B^T is positive definite, its condition at most that of A
        # squared, which the updates keep below about 1e8)
        coefficients = np.linalg.solve(B @ B.T, B @ e.T)
        return e - coefficients.T @ B

    def gradient_of(self, u):
        """The gradient ``(A A^T)^-1 u`` whose preconditioned form is ``u``."""
        return self.A_inv.T @ (self.A_inv @ u)

    # -- learning ------------------------------------------------------------
    def update(self, e, f_plus, f_minus, f_centre, step=None, noise=0.0):
        """Learn from one iteration's pairs (and the last step's curvature).

        Parameters
        ----------
        e : ndarray, shape (P, n)
            The perturbations in ``y`` (P >= 2; only the first ``n`` count
            when ``P > n``).
        f_plus, f_minus : ndarray, shape (P,)
            ``f`` at ``x + A e_i`` and ``x - A e_i``, finite.
        f_centre : float
            ``f(x)``, finite.
        step : tuple (delta, curvature), optional
            The last step in ``x`` and ``delta^T H delta`` measured along it.
        noise : float, default 0
            A second difference must exceed it (a multiple of the noise of
            one value of ``f``) to teach anything.

        Returns
        -------
        bool
            Whether ``A`` changed.
        """
        if e.shape[0] > self.n:          # more pairs than dimensions
            e, f_plus, f_minus = e[:self.n], f_plus[:self.n], f_minus[:self.n]
        second = f_plus + f_minus - 2.0 * f_centre
        scale = np.maximum(np.maximum(np.abs(f_plus), np.abs(f_minus)),
                           abs(f_centre))
        if not np.all(second > np.maximum(METRIC_RESOLUTION * VALUE_PRECISION
                                          * scale, noise)):
            return False                 # not convex here, or not resolved
        norms_sq = np.einsum("ij,ij->i", e, e)
        curvature = second / norms_sq
        # relative to their mean first, so that the logarithms are those of
        # ratios: a run on 2^k f repeats the run on f bit for bit
        mean = float(curvature.mean())
        log_h = np.log(curvature / mean)
        limit = math.log(METRIC_MAX_CHANGE)
        log_q = np.clip(-0.5 * METRIC_RATE * (log_h - log_h.mean()),
                        -limit, limit)
        log_q -= log_q.mean()            # determinant 1
        V, R = np.linalg.qr(e.T)
        V *= np.sign(np.diag(R))
        q = np.exp(log_q)
        # A <- A (I + V diag(q - 1) V^T), then along the step A <- A (I +
        # (qs - 1) v v^T), then a scale c; both kept as one low-rank change
        # A + L R^T (and A^-1 + Li Ri^T), which costs a few passes over A
        AV = self.A @ V
        VtAi = V.T @ self.A_inv
        L, Rt = [AV * (q - 1.0)], [V.T]
        Li, Rit = [V * (1.0 / q - 1.0)], [VtAi]
        c = 1.0
        if step is not None:
            delta, along = step
            Aid = self.A_inv @ delta
            s = Aid + Li[0] @ (V.T @ Aid)           # the step in y, A1^-1 delta
            s_sq = float(s @ s)
            if along > 0 and s_sq > 0:
                ratio = math.log(along / s_sq / mean)
                log_qs = min(max(-0.5 * METRIC_STEP_RATE * ratio, -limit), limit)
                qs = math.exp(log_qs)
                v = s / math.sqrt(s_sq)
                A1v = self.A @ v + L[0] @ (V.T @ v)
                vA1i = v @ self.A_inv + (v @ Li[0]) @ VtAi
                L.append((qs - 1.0) * A1v[:, None])
                Rt.append(v[None, :])
                Li.append((1.0 / qs - 1.0) * v[:, None])
                Rit.append(vA1i[None, :])
                c = math.exp(-log_qs / self.n)          # determinant 1
        A = np.hstack(L) @ np.vstack(Rt)
        A += self.A
        A_inv = np.hstack(Li) @ np.vstack(Rit)
        A_inv += self.A_inv
        if c != 1.0:
            A *= c
            A_inv *= 1.0 / c
        bound = np.linalg.norm(A) * np.linalg.norm(A_inv) / self.n
        if not (np.isfinite(bound) and bound <= METRIC_MAX_COND):
            return False
        self.A, self.A_inv = A, A_inv
        self.n_updates += 1
        return True
