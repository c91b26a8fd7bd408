"""Benchmark problems: fast forms of the test problems, and a second family.

`FastQuadratic` is `ges_minimize.problems.PerturbedQuadratic` with the data
folded into ``H = A^T A / m`` once, so that each evaluation is one n x n
matrix-vector product instead of one m x n product and so that the gap
``f(x) - f*`` is computed without cancellation. It is the same function
and the same surrogate (same bias, same noise stream); `check_same` verifies
that against the library's class.

`BiasedLogistic` is the second family: an L2-regularised logistic-regression
loss whose surrogate gradient comes from somewhere else than the Guided ES
paper's artificial bias-plus-noise: it is the gradient of the loss on a fixed
quarter of the data, computed in half precision. It is biased (its zero is
the minimiser of the subsample's loss) and coarse (float16 rounding).

Every problem exposes ``n``, ``x0``, ``f_star``, ``fun(x)``,
``gap(x) = fun(x) - f_star`` (for measurement; not counted anywhere),
``surrogate_grad(x)``, ``reset_noise()`` and ``describe()``.
"""

import numpy as np
import scipy.optimize
from scipy.special import expit

from ges_minimize.problems import PerturbedQuadratic

__all__ = ["FastQuadratic", "BiasedLogistic", "check_same"]


class FastQuadratic(PerturbedQuadratic):
    """The perturbed quadratic of the paper, its value through ``H = A^T A / m``.

    ``f(x) = |A x - b|^2 / (2 m) = f* + (x - x*)^T H (x - x*) / 2`` because
    ``H x* = A^T b / m`` at the least-squares minimiser ``x*``. Gradient,
    surrogate (same bias, same noise stream) and ``H`` itself are those of
    `ges_minimize.problems.PerturbedQuadratic`; only the value differs in
    how it is computed.

    Parameters
    ----------
    n, m, bias_scale, noise_scale, seed
        As for `ges_minimize.problems.PerturbedQuadratic`.
    """

    def gap(self, x):
        d = x - self.x_star
        return 0.5 * float(d @ (self._H @ d))

    def fun(self, x):
        return self.f_star + self.gap(x)

    def describe(self):
        return (f"perturbed quadratic, n = {self.n}, m = {self.m}, bias "
                f"{self.bias_scale:g}, noise {self.noise_scale:g}")


def check_same(fast, n_points=3, atol=1e-9):
    """Assert that `fast` matches `PerturbedQuadratic` (value, gradient, surrogate)."""
    ref = PerturbedQuadratic(n=fast.n, m=fast.m, bias_scale=fast.bias_scale,
                             noise_scale=fast.noise_scale, seed=fast.seed)
    rng = np.random.default_rng(12345)
    fast.reset_noise()
    ref.reset_noise()
    for _ in range(n_points):
        x = fast.x_star + rng.standard_normal(fast.n) / np.sqrt(fast.n)
        np.testing.assert_allclose(fast.fun(x), ref.fun(x), rtol=0, atol=atol)
        np.testing.assert_allclose(fast.grad(x), ref.grad(x), rtol=0, atol=atol)
        np.testing.assert_allclose(fast.surrogate_grad(x), ref.surrogate_grad(x),
                                   rtol=0, atol=atol)
    fast.reset_noise()


def _half(a):
    """Round to float16 precision, keep float32 for the arithmetic."""
    return np.asarray(a).astype(np.float16).astype(np.float32)


class BiasedLogistic:
    """L2-regularised logistic regression with a subsampled float16 surrogate.

    ``f(w) = mean_i log(1 + exp(-y_i x_i^T w)) + lam / 2 |w|^2`` over ``m``
    samples with standard-normal features and labels drawn from a logistic
    model with weights ``w_true ~ N(0, (3 / sqrt(n))^2)`` (so that
    ``x^T w_true`` has standard deviation 3). The surrogate gradient is the
    gradient of the same loss on a fixed random ``subsample`` share of the
    rows, with the features, the weights and the whole computation in
    float16. ``x0 = 0``; ``f*`` is found by L-BFGS-B with the exact
    gradient followed by Newton steps.
    """

    def __init__(self, n=100, m=1000, lam=1e-2, subsample=0.5, seed=0):
        self.n, self.m, self.lam, self.seed = int(n), int(m), float(lam), seed
        self.subsample = float(subsample)
        rng = np.random.default_rng([seed, 7])
        self.X = rng.standard_normal((self.m, self.n))
        w_true = 3.0 * rng.standard_normal(self.n) / np.sqrt(self.n)
        p = expit(self.X @ w_true)
        self.y = np.where(rng.random(self.m) < p, 1.0, -1.0)
        rows = rng.choice(self.m, size=int(round(self.subsample * self.m)),
                          replace=False)
        # features stored in half precision (products taken in float32)
        self._yX16 = (self.y[rows, None] * self.X[rows]).astype(np.float16
                                                                ).astype(np.float32)
        self._yX = self.y[:, None] * self.X
        self.x0 = np.zeros(self.n)
        self.x_star = self._solve()
        self.f_star = self.fun(self.x_star)

    def fun(self, w):
        z = self._yX @ w
        return float(np.mean(np.logaddexp(0.0, -z)) + 0.5 * self.lam * (w @ w))

    def gap(self, w):
        return self.fun(w) - self.f_star

    def grad(self, w):
        z = self._yX @ w
        return -self._yX.T @ expit(-z) / self.m + self.lam * w

    def surrogate_grad(self, w):
        w16 = _half(w)
        r = _half(expit(-(self._yX16 @ w16)))
        return _half(-(self._yX16.T @ r) / len(r) + self.lam * w16).astype(float)

    def reset_noise(self):
        """The surrogate is deterministic; nothing to reset."""

    def _solve(self):
        res = scipy.optimize.minimize(self.fun, self.x0, jac=self.grad,
                                      method="L-BFGS-B",
                                      options={"gtol": 1e-12, "ftol": 0,
                                               "maxiter": 10_000})
        w = res.x
        for _ in range(3):                        # Newton polish
            s = expit(self._yX @ w)
            H = (self._yX.T * (s * (1 - s))) @ self._yX / self.m
            H[np.diag_indices_from(H)] += self.lam
            w = w - np.linalg.solve(H, self.grad(w))
        return w

    def surrogate_cosine(self, w):
        g, s = self.grad(w), self.surrogate_grad(w)
        return float(g @ s / (np.linalg.norm(g) * np.linalg.norm(s)))

    def describe(self):
        return (f"logistic regression, n = {self.n}, m = {self.m}, "
                f"lambda = {self.lam:g}; surrogate = float16 gradient on a fixed "
                f"{self.subsample:.0%} subsample")
