"""The search the adaptive mode switches to where ``f`` has kinks.

The adaptive step of `GuidedES` moves along a gradient estimate by a line
search. Where ``f`` is continuous but not differentiable (an L1 or max norm,
a sum of absolute residuals), the line search stops at the kinks nearest
the centre, ``sigma`` follows the short steps down, and the run stalls far
from the minimum while the slopes of ``f`` between its pairs stay those of
the kinks. The adaptive mode detects that regime (see
`GuidedES.nonsmooth_mode`) and hands the rest of the run to `KinkSearch`, a
covariance matrix adaptation evolution strategy, which compares values only
by their ranks and adapts the shape and scale of its samples from the
selected ones, and so needs no slope: it converges linearly on functions
such as these.

The updates follow the equations of Hansen's tutorial [1]_ (weighted
recombination of the better half, cumulative step-size adaptation, rank-one
and rank-mu updates of the covariance), with its default constants.

References
----------
.. [1] N. Hansen, "The CMA evolution strategy: a tutorial", 2016.
   arXiv:1604.00772.
"""

import math

import numpy as np

__all__ = ["KinkSearch"]


class KinkSearch:
    """A (mu/mu_w, lambda) evolution strategy with covariance adaptation.

    Parameters
    ----------
    mean : ndarray, shape (n,)
        Start of the search.
    sigma : float
        Initial step size, > 0.

    Attributes
    ----------
    mean : ndarray
        Centre of the search distribution.
    sigma : float
        Step size; the samples are ``mean + sigma * B D z``.
    initial_sigma : float
        `sigma` at the start.
    population_size : int
        Points per iteration, ``4 + floor(3 ln n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize._kink import KinkSearch
    >>> search = KinkSearch(np.ones(5), 0.5)
    >>> rng = np.random.default_rng(0)
    >>> for _ in range(300):
    ...     points = search.ask(rng)
    ...     search.tell(np.abs(points).sum(axis=1))
    >>> bool(np.abs(search.mean).sum() < 1e-6)
    True
    """

    def __init__(self, mean, sigma):
        n = self.n = mean.size
        self.mean = np.array(mean, dtype=float)
        self.sigma = self.initial_sigma = float(sigma)
        lam = self.population_size = 4 + int(3 * math.log(n))
        mu = self._mu = lam // 2
        w = math.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
        self._weights = w / w.sum()
        mueff = self._mueff = 1.0 / float(np.sum(self._weights ** 2))
        self._cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
        self._cs = (mueff + 2) / (n + mueff + 5)
        self._c1 = 2 / ((n + 1.3) ** 2 + mueff)
        self._cmu = min(1 - self._c1,
                        2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
        self._damps = (1 + 2 * max(0.0, math.sqrt((mueff - 1) / (n + 1)) - 1)
                       + self._cs)
        self._chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
        self._pc = np.zeros(n)
        self._ps = np.zeros(n)
        self._C = np.eye(n)
        self._B = np.eye(n)
        self._D = np.ones(n)
        self._count = 0
        self._eigen_at = 0
        self._z = self._y = None

    def __setstate__(self, state):
        # a search pickled before `initial_sigma` existed: no test of growth
        state.setdefault("initial_sigma", math.inf)
        self.__dict__.update(state)

    @property
    def scale(self):
        """Largest standard deviation of the samples along a coordinate
        axis of their principal frame, ``sigma * max(D)``."""
        return self.sigma * float(self._D.max())

    def ask(self, rng):
        """`population_size` points drawn around `mean` with `rng`."""
        self._z = rng.standard_normal((self.population_size, self.n))
        self._y = (self._z * self._D) @ self._B.T
        return self.mean + self.sigma * self._y

    def tell(self, values):
        """Update from the values at the last `ask`'s points (NaN and
        infinite values rank last)."""
        values = np.where(np.isfinite(values), values, np.inf)
        n, mu, w = self.n, self._mu, self._weights
        if not np.isfinite(values).any():
            self.sigma /= 2                 # nothing finite: search closer
            return
        best = np.argsort(values, kind="stable")[:mu]
        y_w = w @ self._y[best]
        z_w = w @ self._z[best]
        self.mean = self.mean + self.sigma * y_w
        cs, cc = self._cs, self._cc
        self._ps = ((1 - cs) * self._ps
                    + math.sqrt(cs * (2 - cs) * self._mueff) * (self._B @ z_w))
        self._count += 1
        norm_ps = float(np.linalg.norm(self._ps))
        h_sigma = (norm_ps / math.sqrt(1 - (1 - cs) ** (2 * self._count))
                   / self._chi_n < 1.4 + 2 / (n + 1))
        self._pc = ((1 - cc) * self._pc
                    + h_sigma * math.sqrt(cc * (2 - cc) * self._mueff) * y_w)
        y = self._y[best]
        c1, cmu = self._c1, self._cmu
        self._C = ((1 - c1 - cmu) * self._C
                   + c1 * (np.outer(self._pc, self._pc)
                           + (1 - h_sigma) * cc * (2 - cc) * self._C)
                   + cmu * (y.T * w) @ y)
        self.sigma *= math.exp((cs / self._damps) * (norm_ps / self._chi_n - 1))
        if (self._count - self._eigen_at
                > self.population_size / (c1 + cmu) / n / 10):
            self._eigen_at = self._count
            self._C = np.triu(self._C) + np.triu(self._C, 1).T
            d, self._B = np.linalg.eigh(self._C)
            self._D = np.sqrt(np.maximum(d, 1e-20 * d.max()))
