"""The problems of the benchmark suite, family by family, and the rescaling.

Every problem exposes ``n``, ``x0``, ``f_star`` (None when unknown: the
report then measures against the best value any method found, as Moré and
Wild do), ``fun(x)``, ``gap(x)`` (``fun(x) - f_star``, or ``fun(x)`` when
``f_star`` is None; computed for the record, never counted),
``surrogate_grad`` (a callable, or None for the no-surrogate family),
``grad`` (the true gradient, or None where it does not exist),
``x_scale`` (the stated per-coordinate scale of ``x0 - x*``, from which
every peer's initial step size is derived: CMA-ES's sigma0 is a tenth of
it), ``reset_noise()`` and ``describe()``.

`Rescaled` turns a problem ``f`` into ``g(x) = c f(x / s)``: its optimum,
``x0`` and ``x_scale`` are multiplied by ``s``, its values by ``c``, its
true and surrogate gradients are ``(c / s)`` times those of ``f`` at
``x / s`` (the same noise stream).
"""

import os
import sys

import numpy as np

from ._problems import BiasedLogistic, FastQuadratic

__all__ = ["Sphere", "RotatedQuadratic", "Rosenbrock", "L1Distance", "MaxDistance",
           "LeastAbsoluteDeviations", "Rescaled", "SignNetwork",
           "Unrolled", "AttackImage", "attack_models", "surrogate_cosine"]

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples")


def _examples():
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)


def _unit(rng, n):
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


def surrogate_cosine(problem, x=None):
    """Cosine of one surrogate call with the true gradient at `x` (default x0).

    Draws from the problem's noise stream, so the stream is reset afterwards.
    """
    if problem.surrogate_grad is None or problem.grad is None:
        return float("nan")
    x = problem.x0 if x is None else x
    g, s = problem.grad(x), problem.surrogate_grad(x)
    problem.reset_noise()
    d = np.linalg.norm(g) * np.linalg.norm(s)
    return float(g @ s / d) if d > 0 else float("nan")


class _Smooth:
    """A smooth test function with surrogate ``grad + (b bias + e noise) |grad|``.

    ``bias`` is a fixed random unit vector; ``noise`` a fresh random unit
    vector per call, from the stream ``default_rng([seed, 1])``.
    ``bias_scale=None`` means no surrogate at all.
    """

    x_scale = 1.0

    def __init__(self, n, seed, bias_scale, noise_scale):
        self.n, self.seed = int(n), seed
        self.bias_scale, self.noise_scale = bias_scale, noise_scale
        rng = np.random.default_rng([seed, 11])
        self._setup(rng)
        self.bias = _unit(rng, self.n)
        self.f_star = 0.0
        self.reset_noise()
        if bias_scale is None:
            self.surrogate_grad = None

    def reset_noise(self):
        self._noise = np.random.default_rng([self.seed, 1])

    def gap(self, x):
        return self.fun(x)

    def surrogate_grad(self, x):
        g = self.grad(x)
        noise = _unit(self._noise, self.n)
        return g + (self.bias_scale * self.bias + self.noise_scale * noise) * np.linalg.norm(g)

    def _surrogate_text(self):
        if self.bias_scale is None:
            return "no surrogate"
        return f"surrogate grad + ({self.bias_scale:g} bias + {self.noise_scale:g} noise) |grad|"


class Sphere(_Smooth):
    """``f(x) = |x - x*|^2 / 2``, ``x* ~ N(0, I)``, ``x0 = 0``."""

    def _setup(self, rng):
        self.x_star = rng.standard_normal(self.n)
        self.x0 = np.zeros(self.n)

    def fun(self, x):
        d = x - self.x_star
        return 0.5 * float(d @ d)

    def grad(self, x):
        return x - self.x_star

    def describe(self):
        return f"sphere, n = {self.n}; {self._surrogate_text()}"


class RotatedQuadratic(_Smooth):
    """``f(x) = (x - x*)^T Q diag(h) Q^T (x - x*) / 2``, ``h`` log-spaced in
    ``[1, cond]``, ``Q`` a random orthogonal matrix, ``x* ~ N(0, I)``, ``x0 = 0``."""

    def __init__(self, n, seed, bias_scale, noise_scale, cond=1e3):
        self.cond = float(cond)
        super().__init__(n, seed, bias_scale, noise_scale)

    def _setup(self, rng):
        Q, R = np.linalg.qr(rng.standard_normal((self.n, self.n)))
        Q *= np.sign(np.diag(R))
        h = np.geomspace(1.0, self.cond, self.n)
        self.H = (Q * h) @ Q.T
        self.x_star = rng.standard_normal(self.n)
        self.x0 = np.zeros(self.n)

    def fun(self, x):
        d = x - self.x_star
        return 0.5 * float(d @ (self.H @ d))

    def grad(self, x):
        return self.H @ (x - self.x_star)

    def describe(self):
        return (f"rotated quadratic, condition {self.cond:.0e}, n = {self.n}; "
                f"{self._surrogate_text()}")


class Rosenbrock(_Smooth):
    """``f(x) = sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2``, ``x0 = 0``, ``x* = 1``."""

    def _setup(self, rng):
        self.x_star = np.ones(self.n)
        self.x0 = np.zeros(self.n)

    def fun(self, x):
        return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))

    def grad(self, x):
        g = np.zeros_like(x)
        t = x[1:] - x[:-1] ** 2
        g[:-1] = -400.0 * x[:-1] * t - 2 * (1 - x[:-1])
        g[1:] += 200.0 * t
        return g

    def describe(self):
        return f"Rosenbrock, n = {self.n}; {self._surrogate_text()}"


class _Distance(_Smooth):
    """A distance to ``x* ~ N(0, I)`` from ``x0 = 0``."""

    def _setup(self, rng):
        self.x_star = rng.standard_normal(self.n)
        self.x0 = np.zeros(self.n)


class L1Distance(_Distance):
    """``f(x) = |x - x*|_1``: a kink along every coordinate; ``grad`` is the
    subgradient ``sign(x - x*)``."""

    def fun(self, x):
        return float(np.sum(np.abs(x - self.x_star)))

    def grad(self, x):
        return np.sign(x - self.x_star)

    def describe(self):
        return f"L1 distance, n = {self.n}; {self._surrogate_text()}"


class MaxDistance(_Distance):
    """``f(x) = max_i |x_i - x*_i|``: the Chebyshev distance,
    non-differentiable wherever two coordinates tie; ``grad`` is the
    subgradient along the largest coordinate."""

    def fun(self, x):
        return float(np.max(np.abs(x - self.x_star)))

    def grad(self, x):
        d = x - self.x_star
        i = int(np.argmax(np.abs(d)))
        g = np.zeros(self.n)
        g[i] = np.sign(d[i])
        return g

    def describe(self):
        return f"max distance, n = {self.n}; {self._surrogate_text()}"


class LeastAbsoluteDeviations(_Smooth):
    """``f(x) = mean_j |a_j . x - b_j|`` (median regression), ``A`` (m, n)
    standard Gaussian, ``b = A w + e`` with ``w ~ N(0, I)`` and Laplace
    noise ``e`` of scale 0.5, ``x0 = 0``; ``f*`` and ``x*`` from the linear
    programme (scipy's HiGHS). ``grad`` is the subgradient
    ``A^T sign(A x - b) / m``."""

    def __init__(self, n, seed, bias_scale, noise_scale, m=None):
        self.m = 3 * int(n) if m is None else int(m)
        super().__init__(n, seed, bias_scale, noise_scale)
        self.f_star = self._f_star

    def _setup(self, rng):
        from scipy.optimize import linprog
        n, m = self.n, self.m
        self.A = rng.standard_normal((m, n))
        self.b = self.A @ rng.standard_normal(n) + rng.laplace(scale=0.5, size=m)
        # min mean(t) subject to -t <= A x - b <= t
        cost = np.r_[np.zeros(n), np.full(m, 1.0 / m)]
        eye = np.eye(m)
        res = linprog(cost, A_ub=np.block([[self.A, -eye], [-self.A, -eye]]),
                      b_ub=np.r_[self.b, -self.b],
                      bounds=[(None, None)] * n + [(0, None)] * m, method="highs")
        self.x_star = res.x[:n]
        self.x0 = np.zeros(n)
        # the value at the LP's solution, as fun computes it
        self._f_star = float(np.mean(np.abs(self.A @ self.x_star - self.b)))

    def fun(self, x):
        return float(np.mean(np.abs(self.A @ x - self.b)))

    def gap(self, x):
        return self.fun(x) - self.f_star

    def grad(self, x):
        return self.A.T @ np.sign(self.A @ x - self.b) / self.m

    def describe(self):
        return (f"least absolute deviations, n = {self.n}, m = {self.m}; "
                f"{self._surrogate_text()}")


class Rescaled:
    """``g(x) = c f(x / s)`` for a problem ``f``, everything transformed consistently.

    Parameters
    ----------
    problem : object
        A problem of this module.
    c : float
        Value scale (``c > 0``).
    s : float
        x scale (``s > 0``): the optimum, ``x0`` and ``x_scale`` are multiplied by it.
    """

    def __init__(self, problem, c, s):
        if not (c > 0 and s > 0):
            raise ValueError(f"c and s must be > 0, got {c!r}, {s!r}")
        self.base, self.c, self.s = problem, float(c), float(s)
        self.n = problem.n
        self.x0 = self.s * problem.x0
        self.x_scale = self.s * problem.x_scale
        self.f_star = None if problem.f_star is None else self.c * problem.f_star
        x_star = getattr(problem, "x_star", None)
        self.x_star = None if x_star is None else self.s * x_star
        if problem.surrogate_grad is None:
            self.surrogate_grad = None
        if problem.grad is None:
            self.grad = None

    def fun(self, x):
        return self.c * self.base.fun(np.asarray(x, dtype=float) / self.s)

    def gap(self, x):
        return self.c * self.base.gap(np.asarray(x, dtype=float) / self.s)

    def grad(self, x):
        return (self.c / self.s) * self.base.grad(np.asarray(x, dtype=float) / self.s)

    def surrogate_grad(self, x):
        return (self.c / self.s) * self.base.surrogate_grad(np.asarray(x, dtype=float)
                                                            / self.s)

    def reset_noise(self):
        self.base.reset_noise()

    def describe(self):
        return f"{self.base.describe()}, f x {self.c:g}, x x {self.s:g}"


class Uninformative:
    """A smooth problem whose surrogate carries no information on the gradient.

    The surrogate is ``|grad| u`` with ``u`` a fresh random unit vector per
    call (stream ``default_rng([seed, 2])``): of the gradient's size, but
    independent of its direction. Everything else is the wrapped problem's.
    It measures what a useless surrogate costs against running without one.
    """

    def __init__(self, problem):
        self.base = problem
        for name in ("n", "seed", "x0", "x_scale", "f_star", "x_star"):
            setattr(self, name, getattr(problem, name))
        self.reset_noise()

    def fun(self, x):
        return self.base.fun(x)

    def gap(self, x):
        return self.base.gap(x)

    def grad(self, x):
        return self.base.grad(x)

    def surrogate_grad(self, x):
        return _unit(self._noise, self.n) * np.linalg.norm(self.base.grad(x))

    def reset_noise(self):
        self.base.reset_noise()
        self._noise = np.random.default_rng([self.seed, 2])

    def describe(self):
        text = self.base.describe()
        return text[:text.rindex(";")] + "; surrogate |grad| times a random unit vector"


class PaperQuadratic(FastQuadratic):
    """The paper's perturbed quadratic, with the suite's interface."""

    def __init__(self, n=1000, m=2000, seed=0):
        super().__init__(n=n, m=m, seed=seed)
        #: E|x*|^2 = tr((A^T A)^-1) ~ n / (m - n) for Gaussian A and b
        self.x_scale = 1.0 / np.sqrt(m - n)


class Logistic(BiasedLogistic):
    """The logistic-regression family, with the suite's interface."""

    def __init__(self, n=100, m=1000, seed=0):
        super().__init__(n=n, m=m, seed=seed)
        #: the coordinates of the true weights have standard deviation 3 / sqrt(n)
        self.x_scale = 3.0 / np.sqrt(n)


class SignNetwork:
    """Training cross-entropy of a sign-activation network on digits.

    A ``64-h-10`` network ``softmax(W2 sign(W1 x + b1) + b2)`` on the
    training part (70%, split with ``random_state=0``) of scikit-learn's
    digits, pixels scaled to [0, 1]. The loss is piecewise constant in the
    first layer's weights (the gradient there is zero almost everywhere);
    the surrogate is the straight-through gradient (back-propagating
    through ``sign`` as if it were the hard tanh). ``x0`` is a Glorot-uniform
    draw from the seed; ``x_scale`` is the root mean square of the first
    layer's initial weights. ``f*`` is unknown.
    """

    f_star = None
    grad = None

    def __init__(self, hidden=32, seed=0, n_samples=None):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        X, y = load_digits(return_X_y=True)
        X_tr, _, y_tr, _ = train_test_split(X / 16.0, y, test_size=0.3, stratify=y,
                                            random_state=0)
        if n_samples is not None:
            X_tr, y_tr = X_tr[:n_samples], y_tr[:n_samples]
        self.X, self.y, self.h, self.seed = X_tr, y_tr, int(hidden), seed
        self.Y = np.eye(10)[y_tr]
        self.shapes = [(64, self.h), (self.h, 10)]
        self.n = 64 * self.h + self.h + self.h * 10 + 10
        rng = np.random.default_rng([seed, 21])
        parts = []
        for fan_in, fan_out in self.shapes:
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            parts += [rng.uniform(-bound, bound, fan_in * fan_out), np.zeros(fan_out)]
        self.x0 = np.concatenate(parts)
        self.x_scale = float(np.sqrt(6.0 / (64 + self.h) / 3.0))

    def _unpack(self, w):
        h = self.h
        i = 64 * h
        W1, b1 = w[:i].reshape(64, h), w[i:i + h]
        W2 = w[i + h:i + h + 10 * h].reshape(h, 10)
        b2 = w[i + h + 10 * h:]
        return W1, b1, W2, b2

    def _forward(self, w):
        W1, b1, W2, b2 = self._unpack(w)
        A = self.X @ W1 + b1
        H = np.where(A > 0, 1.0, -1.0)
        Z = H @ W2 + b2
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        return A, H, P

    def fun(self, w):
        _, _, P = self._forward(np.asarray(w, dtype=float))
        return float(-np.mean(np.log(np.maximum(P[np.arange(len(self.y)), self.y],
                                                1e-300))))

    gap = fun

    def error(self, w):
        """Training error rate (for the report)."""
        _, _, P = self._forward(np.asarray(w, dtype=float))
        return float(np.mean(P.argmax(axis=1) != self.y))

    def surrogate_grad(self, w):
        W1, b1, W2, b2 = self._unpack(np.asarray(w, dtype=float))
        A, H, P = self._forward(w)
        m = len(self.y)
        dZ = (P - self.Y) / m
        dW2, db2 = H.T @ dZ, dZ.sum(axis=0)
        dA = (dZ @ W2.T) * (np.abs(A) <= 1.0)
        dW1, db1 = self.X.T @ dA, dA.sum(axis=0)
        return np.concatenate([dW1.ravel(), db1, dW2.ravel(), db2])

    def reset_noise(self):
        """Deterministic; nothing to reset."""

    def describe(self):
        return (f"sign network 64-{self.h}-10 on digits ({len(self.y)} training "
                f"images), n = {self.n}; surrogate the straight-through gradient")


class Unrolled:
    """The meta-objective of ``examples/unrolled_optimization.py``.

    ``f(theta) = log(L(w_T) - L*)`` after ``T = 100`` steps of minibatch SGD
    (the example's `UnrolledRegression`, seed = the benchmark seed); the
    surrogate is back-propagation through the last ``K = 5`` steps; the true
    gradient back-propagates through all of them. A diverging inner run
    scores ``CAP = 1e3`` (the example returns inf) so that every peer sees a
    finite value. ``x0 = 0``; ``x_scale = 1`` (log learning rates);
    ``f*`` is unknown.
    """

    f_star = None
    x_scale = 1.0
    CAP = 1e3

    def __init__(self, seed=0, truncation=5):
        _examples()
        from unrolled_optimization import UnrolledRegression
        self.p = UnrolledRegression(seed=seed)
        self.n, self.K, self.seed = self.p.n, int(truncation), seed
        self.x0 = np.zeros(self.n)

    def fun(self, theta):
        return float(min(self.p.fun(np.asarray(theta, dtype=float)), self.CAP))

    gap = fun

    def surrogate_grad(self, theta):
        return self.p.fun_and_grad(np.asarray(theta, dtype=float), self.K)[1]

    def grad(self, theta):
        return self.p.fun_and_grad(np.asarray(theta, dtype=float), self.p.T)[1]

    def reset_noise(self):
        """Deterministic; nothing to reset."""

    def describe(self):
        return (f"unrolled optimisation (T = {self.p.T} inner SGD steps), n = {self.n}; "
                f"surrogate truncated back-propagation through K = {self.K} steps")


_MODELS = {}


def attack_models(seed=0):
    """The example's forest (target) and logistic regression (surrogate), cached."""
    if seed not in _MODELS:
        _examples()
        from blackbox_attack import Models
        _MODELS[seed] = Models(seed=seed)
    return _MODELS[seed]


class AttackImage:
    """One image of ``examples/blackbox_attack.py``'s attack, as a minimisation.

    ``f(x) = m(clip(x))``: the forest's probability margin ``p_y - max_{j != y}
    p_j`` at ``x`` clipped to the L-infinity ball of radius ``EPSILON`` around
    the image intersected with [0, 1], so that every method can be run
    unconstrained; the attack succeeds at the first query with ``f < 0``.
    Surrogate: the input gradient of the logistic regression's logit margin
    at the clipped point (the transfer gradient). ``x_scale`` is ``EPSILON``.
    """

    f_star = None
    grad = None

    def __init__(self, index, seed=0):
        _examples()
        from blackbox_attack import EPSILON, ball
        self.models = attack_models(seed)
        self.index, self.seed = int(index), seed
        self.image = self.models.X_test[index]
        self.label = int(self.models.y_test[index])
        self.lo, self.hi = ball(self.image, EPSILON)
        self.x0 = self.image.copy()
        self.n = self.x0.size
        self.x_scale = float(EPSILON)

    def fun(self, x):
        z = np.clip(x, self.lo, self.hi)
        return float(self.models.target_margin(z[None], np.array([self.label]))[0])

    gap = fun

    def surrogate_grad(self, x):
        return self.models.surrogate_grad(np.clip(x, self.lo, self.hi), self.label)

    def reset_noise(self):
        """Deterministic; nothing to reset."""

    def describe(self):
        return f"attack on test image {self.index} (label {self.label})"


def correctly_classified(n_images, seed=0):
    """Indices of the first `n_images` test images the forest classifies correctly."""
    m = attack_models(seed)
    ok = np.flatnonzero(m.target.predict(m.X_test) == m.y_test)
    return [int(i) for i in ok[:n_images]]
