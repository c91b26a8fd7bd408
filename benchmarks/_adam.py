"""Adam (Kingma and Ba, ICLR 2015), the step rule of the benchmark's own peers.

Used by the descent-on-the-surrogate row and by the gradient estimators
written for the benchmark (`benchmarks.prgf`, `benchmarks.sges`), always with
the usual constants ``beta1 = 0.9, beta2 = 0.999, eps = 1e-8`` and a learning
rate fixed by a stated rule (a hundredth of the problem's x scale), never
tuned per problem.

References
----------
.. [1] D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization",
   ICLR 2015, arXiv:1412.6980.
"""

import numpy as np

__all__ = ["Adam"]


class Adam:
    """Adam step: ``x <- x - lr * m_hat / (sqrt(v_hat) + eps)``.

    Parameters
    ----------
    learning_rate : float
        Step length (in units of x).
    beta1, beta2, eps : float
        The usual constants of Kingma and Ba.

    Examples
    --------
    >>> import numpy as np
    >>> adam = Adam(0.1)
    >>> x = np.array([1.0, -2.0])
    >>> x = adam.step(x, np.array([3.0, -0.5]))   # first step: lr * sign(g)
    >>> np.round(x, 6)
    array([ 0.9, -1.9])
    """

    def __init__(self, learning_rate, beta1=0.9, beta2=0.999, eps=1e-8):
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
        self.learning_rate, self.beta1, self.beta2 = float(learning_rate), beta1, beta2
        self.eps = eps
        self.m = self.v = None
        self.t = 0

    def step(self, x, g):
        """Return the new point after one step along the gradient estimate `g`."""
        g = np.asarray(g, dtype=float)
        if self.m is None:
            self.m, self.v = np.zeros_like(g), np.zeros_like(g)
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g * g
        m_hat = self.m / (1 - self.beta1 ** self.t)
        v_hat = self.v / (1 - self.beta2 ** self.t)
        return x - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)
