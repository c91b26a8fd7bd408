"""Test problems with a biased surrogate gradient.

Each problem offers the true objective ``fun``, its exact gradient ``grad``
and a *surrogate* gradient built as in the perturbed-quadratic demo of
Maheswaranathan et al. (2019):

    surrogate_grad(x) = grad(x) + (bias_scale * bias + noise_scale * noise) * |grad(x)|

where ``bias`` is a random unit vector fixed when the problem is built and
``noise`` is a fresh random unit vector at every call.  The bias makes the
surrogate systematically wrong (gradient descent on it stalls), the noise
makes it noisy; both are scaled by ``|grad(x)|``, so the surrogate vanishes
exactly where the true gradient does.  In high dimension ``bias``, ``noise``
and ``grad`` are nearly orthogonal, so the cosine between surrogate and true
gradient is about ``1 / sqrt(1 + bias_scale**2 + noise_scale**2)``
(0.485 with the defaults).

Randomness.  Everything fixed (the data of the problem, then ``bias``) is
drawn from ``numpy.random.default_rng(seed)``; the surrogate noise comes from
a separate stream ``numpy.random.default_rng([seed, 1])``.  Building a
problem twice with one seed therefore gives identical data and an identical
sequence of surrogate gradients, and :meth:`reset_noise` restarts the noise
stream.  All problems pickle with the standard :mod:`pickle` module (the
pickle carries the current state of the noise stream).

References
----------
.. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi, J. Sohl-Dickstein,
   "Guided evolutionary strategies: augmenting random search with surrogate
   gradients", ICML 2019, arXiv:1806.10230.
"""
import numpy as np
from scipy.linalg import lstsq
from scipy.optimize import rosen, rosen_der

__all__ = ["PerturbedQuadratic", "Rosenbrock", "Sphere"]


def _unit_vector(rng, n):
    """A random unit vector of length ``n``, uniform on the sphere."""
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


class _BiasedSurrogateProblem:
    """Shared machinery: argument checks, the surrogate, the noise stream.

    A subclass sets ``n``, ``x0``, ``x_star``, ``f_star`` and implements
    ``_fun(x)`` and ``_grad(x)`` for an already-checked ``x``; it calls
    ``_init_surrogate(seed, rng, ...)`` after drawing its own data from
    ``rng``, so that ``bias`` is the last fixed draw.
    """

    def _init_surrogate(self, seed, rng, bias_scale, noise_scale):
        self.seed = seed
        self.bias_scale = float(bias_scale)
        self.noise_scale = float(noise_scale)
        self.bias = _unit_vector(rng, self.n)
        self.reset_noise()

    def _check(self, x, name="x"):
        x = np.asarray(x, dtype=float)
        if x.shape != (self.n,):
            raise ValueError(
                f"{name} has shape {x.shape}, expected shape ({self.n},)")
        return x

    def fun(self, x):
        """Objective value at ``x`` (a Python float)."""
        return float(self._fun(self._check(x)))

    def grad(self, x):
        """True gradient at ``x``, an array of shape ``(n,)``."""
        return self._grad(self._check(x))

    def surrogate_grad(self, x):
        """Biased, noisy gradient: ``g + (bias_scale*bias + noise_scale*noise)*|g|``.

        ``g`` is the true gradient at ``x`` and ``noise`` a fresh random unit
        vector from the problem's noise stream (one draw of ``n`` normals
        per call).
        """
        g = self.grad(x)
        noise = _unit_vector(self._noise_rng, self.n)
        return g + (self.bias_scale * self.bias
                    + self.noise_scale * noise) * np.linalg.norm(g)

    def reset_noise(self):
        """Restart the surrogate-noise stream, so a rerun repeats exactly."""
        self._noise_rng = np.random.default_rng([self.seed, 1])

    def cosine(self, v, x):
        """Cosine of the angle between ``v`` and the true gradient at ``x``.

        Parameters
        ----------
        v : array_like, shape (n,)
            Any direction, e.g. a surrogate or estimated gradient.
        x : array_like, shape (n,)
            Point at which the true gradient is taken.

        Returns
        -------
        float
            ``v . g / (|v| |g|)`` in [-1, 1]; ``nan`` if ``v`` or ``g`` is
            zero (at the minimiser, for instance).
        """
        v = self._check(v, "v")
        g = self.grad(x)
        denom = np.linalg.norm(v) * np.linalg.norm(g)
        return float(v @ g / denom) if denom > 0 else float("nan")

    def __repr__(self):
        m = f", m={self.m}" if hasattr(self, "m") else ""
        return (f"{type(self).__name__}(n={self.n}{m}, bias_scale="
                f"{self.bias_scale}, noise_scale={self.noise_scale}, "
                f"seed={self.seed})")


def _resolve_seed(seed):
    """An int seed; ``None`` draws fresh entropy (kept, so runs can repeat)."""
    return np.random.SeedSequence().entropy if seed is None else int(seed)


class PerturbedQuadratic(_BiasedSurrogateProblem):
    """The perturbed quadratic of Guided ES [1]_: least squares with a biased gradient.

    ``f(x) = |A x - b|^2 / (2 m)`` with ``A ~ randn(m, n)``, ``b ~ randn(m)``,
    started from ``x0 = 0``.  The surrogate gradient is
    ``grad + (bias_scale * bias + noise_scale * noise) * |grad|``, see the
    module docstring.

    Parameters
    ----------
    n : int, default 1000
        Number of variables.
    m : int, default 2000
        Number of residuals (rows of ``A``).
    bias_scale : float, default 1.0
        Length of the fixed bias relative to ``|grad|``.
    noise_scale : float, default 1.5
        Length of the fresh noise relative to ``|grad|``.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng``; draws, in order, ``A``
        (``standard_normal((m, n))``), ``b`` (``standard_normal(m)``) and
        ``bias`` (a normalised ``standard_normal(n)``).  The noise stream
        is ``default_rng([seed, 1])``.  ``None`` picks a fresh seed and
        stores it in ``self.seed``.

    Attributes
    ----------
    A : ndarray, shape (m, n)
    b : ndarray, shape (m,)
    bias : ndarray, shape (n,)
        Fixed unit vector.
    x0 : ndarray, shape (n,)
        Zeros.
    x_star : ndarray, shape (n,)
        Least-squares minimiser (``scipy.linalg.lstsq``, driver ``gelsy``).
    f_star : float
        ``fun(x_star)``.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi,
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019, arXiv:1806.10230,
       section 4.1 and figure 1.

    Examples
    --------
    >>> import numpy as np
    >>> p = PerturbedQuadratic(n=50, m=100, seed=0)
    >>> p.A.shape, p.b.shape
    ((100, 50), (100,))
    >>> abs(p.fun(p.x_star) - p.f_star) < 1e-12
    True
    >>> round(p.cosine(p.grad(p.x0), p.x0), 6)
    1.0
    >>> g1 = p.surrogate_grad(p.x0)
    >>> p.reset_noise()
    >>> bool(np.array_equal(g1, p.surrogate_grad(p.x0)))
    True
    """

    def __init__(self, n=1000, m=2000, bias_scale=1.0, noise_scale=1.5,
                 seed=0):
        self.n, self.m = int(n), int(m)
        seed = _resolve_seed(seed)
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((self.m, self.n))
        self.b = rng.standard_normal(self.m)
        self._init_surrogate(seed, rng, bias_scale, noise_scale)
        self.x0 = np.zeros(self.n)
        # QR with column pivoting: robust to a rank-deficient A (m < n gives
        # the minimum-norm solution), about twice as fast as the SVD driver.
        self.x_star = lstsq(self.A, self.b, lapack_driver="gelsy")[0]
        self.f_star = float(self._fun(self.x_star))
        # grad = H x - c with H = A^T A / m: one n x n product per call
        # instead of two m x n ones.
        self._H = self.A.T @ self.A / self.m
        self._c = self.A.T @ self.b / self.m

    def _fun(self, x):
        r = self.A @ x - self.b
        return r @ r / (2 * self.m)

    def _grad(self, x):
        return self._H @ x - self._c


class Rosenbrock(_BiasedSurrogateProblem):
    """The n-dimensional Rosenbrock function with a biased surrogate gradient.

    ``f(x) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2``
    (``scipy.optimize.rosen``), minimum 0 at ``x = ones(n)``.  The surrogate
    is built as for :class:`PerturbedQuadratic` [1]_.

    Parameters
    ----------
    n : int, default 10
        Number of variables, at least 2.
    bias_scale, noise_scale : float, default 1.0 and 1.5
        As in :class:`PerturbedQuadratic`.
    seed : int or None, default 0
        ``default_rng(seed)`` draws ``bias`` only; the noise stream is
        ``default_rng([seed, 1])``.

    Attributes
    ----------
    x0 : ndarray, shape (n,)
        The classic start ``(-1.2, 1, -1.2, 1, ...)``.
    x_star : ndarray, shape (n,)
        Ones.
    f_star : float
        0.0.
    bias : ndarray, shape (n,)
        Fixed unit vector.

    References
    ----------
    .. [1] N. Maheswaranathan et al., "Guided evolutionary strategies:
       augmenting random search with surrogate gradients", ICML 2019,
       arXiv:1806.10230.

    Examples
    --------
    >>> p = Rosenbrock(n=4)
    >>> p.x0
    array([-1.2,  1. , -1.2,  1. ])
    >>> round(p.fun(p.x0), 6), p.fun(p.x_star)
    (532.4, 0.0)
    """

    def __init__(self, n=10, bias_scale=1.0, noise_scale=1.5, seed=0):
        self.n = int(n)
        if self.n < 2:
            raise ValueError(f"n={n} is too small, Rosenbrock needs n >= 2")
        seed = _resolve_seed(seed)
        self._init_surrogate(seed, np.random.default_rng(seed), bias_scale,
                             noise_scale)
        self.x0 = np.where(np.arange(self.n) % 2 == 0, -1.2, 1.0)
        self.x_star = np.ones(self.n)
        self.f_star = 0.0

    def _fun(self, x):
        return rosen(x)

    def _grad(self, x):
        return rosen_der(x)


class Sphere(_BiasedSurrogateProblem):
    """A shifted sphere ``f(x) = |x - c|^2 / 2`` with a biased surrogate gradient.

    The centre ``c`` is a fixed standard-normal vector; the minimum is 0 at
    ``x = c``.  The surrogate is built as for :class:`PerturbedQuadratic`
    [1]_.

    Parameters
    ----------
    n : int, default 10
        Number of variables.
    bias_scale, noise_scale : float, default 1.0 and 1.5
        As in :class:`PerturbedQuadratic`.
    seed : int or None, default 0
        ``default_rng(seed)`` draws, in order, ``c``
        (``standard_normal(n)``) and ``bias``; the noise stream is
        ``default_rng([seed, 1])``.

    Attributes
    ----------
    c : ndarray, shape (n,)
        Centre.
    x0 : ndarray, shape (n,)
        Zeros.
    x_star : ndarray, shape (n,)
        Equal to ``c``.
    f_star : float
        0.0.
    bias : ndarray, shape (n,)
        Fixed unit vector.

    References
    ----------
    .. [1] N. Maheswaranathan et al., "Guided evolutionary strategies:
       augmenting random search with surrogate gradients", ICML 2019,
       arXiv:1806.10230.

    Examples
    --------
    >>> import numpy as np
    >>> p = Sphere(n=5)
    >>> p.fun(p.x_star)
    0.0
    >>> bool(np.allclose(p.grad(p.x0), -p.c))
    True
    """

    def __init__(self, n=10, bias_scale=1.0, noise_scale=1.5, seed=0):
        self.n = int(n)
        seed = _resolve_seed(seed)
        rng = np.random.default_rng(seed)
        self.c = rng.standard_normal(self.n)
        self._init_surrogate(seed, rng, bias_scale, noise_scale)
        self.x0 = np.zeros(self.n)
        self.x_star = self.c.copy()
        self.f_star = 0.0

    def _fun(self, x):
        d = x - self.c
        return 0.5 * (d @ d)

    def _grad(self, x):
        return x - self.c
