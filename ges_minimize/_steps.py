"""Step rules: what to do with a gradient estimate.

Each rule is a small object with two methods, in the manner of optax:

- ``init(x) -> state``: the rule's state for parameters shaped like ``x``;
- ``update(g, state) -> (delta, state)``: the increment to *add* to the
  parameters for the gradient estimate ``g``, and the new state.

The state is a small ``NamedTuple`` of arrays and numbers, so a rule and its
state pickle, and a checkpointed run resumes exactly. A user may pass any
object with these two methods as ``step``.
"""

from typing import NamedTuple

import numpy as np

from ._validation import check_int, check_real

__all__ = ["SGD", "Momentum", "Adam", "make_step"]


class SGDState(NamedTuple):
    """SGD keeps no state."""


class SGD:
    """Plain gradient descent, ``delta = -learning_rate * g`` (the paper's rule).

    Parameters
    ----------
    learning_rate : float, default 0.2
        Step size; 0.2 is the paper's setting for the perturbed quadratic.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import SGD
    >>> rule = SGD(0.5)
    >>> state = rule.init(np.zeros(2))
    >>> delta, state = rule.update(np.array([1.0, -2.0]), state)
    >>> delta
    array([-0.5,  1. ])
    """

    def __init__(self, learning_rate=0.2):
        self.learning_rate = check_real(learning_rate, "learning_rate",
                                        low=0, low_open=True)

    def init(self, x):
        return SGDState()

    def update(self, g, state):
        return -self.learning_rate * g, state

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate!r})"


class MomentumState(NamedTuple):
    """Velocity of the heavy ball."""

    velocity: np.ndarray


class Momentum:
    """Heavy-ball momentum: ``v <- mass * v + g``, ``delta = -learning_rate * v``.

    Parameters
    ----------
    learning_rate : float, default 0.02
        Step size. With ``mass = 0.9`` the steady-state step for a constant
        gradient is ``learning_rate / (1 - mass) = 0.2`` times it, the same
        as the default of `SGD`.
    mass : float, default 0.9
        Momentum coefficient in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import Momentum
    >>> rule = Momentum(0.1, mass=0.5)
    >>> state = rule.init(np.zeros(1))
    >>> for _ in range(2):
    ...     delta, state = rule.update(np.array([1.0]), state)
    >>> delta                     # v = 0.5 * 1 + 1
    array([-0.15])
    """

    def __init__(self, learning_rate=0.02, mass=0.9):
        self.learning_rate = check_real(learning_rate, "learning_rate",
                                        low=0, low_open=True)
        self.mass = check_real(mass, "mass", low=0, high=1, high_open=True)

    def init(self, x):
        return MomentumState(np.zeros_like(x, dtype=float))

    def update(self, g, state):
        velocity = self.mass * state.velocity + g
        return -self.learning_rate * velocity, MomentumState(velocity)

    def __repr__(self):
        return f"Momentum(learning_rate={self.learning_rate!r}, mass={self.mass!r})"


class AdamState(NamedTuple):
    """Moment estimates and the number of updates made."""

    count: int
    mu: np.ndarray
    nu: np.ndarray


class Adam:
    """Adam (Kingma and Ba, 2015) with bias-corrected moment estimates.

    Parameters
    ----------
    learning_rate : float, default 0.01
        Step size; each coordinate moves by about this much per update.
    b1, b2 : float, default 0.9, 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float, default 1e-8
        Added to the root of the second moment.
    warmup : int, default 0
        Number of updates over which the step grows linearly to its full
        size: update ``k`` is scaled by ``min(1, k / warmup)``. Adam's
        first updates move every coordinate by about `learning_rate`,
        however noisy the gradient estimate, since its second moment is
        estimated from one or a few samples; a warm-up keeps those steps
        short [2]_. 0 (no warm-up) is Adam as published.

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: a method for stochastic
       optimization", ICLR 2015. arXiv:1412.6980.
    .. [2] L. Liu, H. Jiang, P. He, W. Chen, X. Liu, J. Gao and J. Han, "On
       the variance of the adaptive learning rate and beyond", ICLR 2020.
       arXiv:1908.03265.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import Adam
    >>> rule = Adam(0.1)
    >>> state = rule.init(np.zeros(2))
    >>> delta, state = rule.update(np.array([4.0, -0.5]), state)
    >>> np.round(delta, 6)        # first step: learning_rate * sign(g)
    array([-0.1,  0.1])
    >>> warm = Adam(0.1, warmup=4)
    >>> delta, _ = warm.update(np.array([4.0, -0.5]), warm.init(np.zeros(2)))
    >>> np.round(delta, 6)        # a quarter of it
    array([-0.025,  0.025])
    """

    def __init__(self, learning_rate=0.01, b1=0.9, b2=0.999, eps=1e-8, warmup=0):
        self.learning_rate = check_real(learning_rate, "learning_rate",
                                        low=0, low_open=True)
        self.b1 = check_real(b1, "b1", low=0, high=1, high_open=True)
        self.b2 = check_real(b2, "b2", low=0, high=1, high_open=True)
        self.eps = check_real(eps, "eps", low=0, low_open=True)
        self.warmup = check_int(warmup, "warmup", low=0)

    def init(self, x):
        zeros = np.zeros_like(x, dtype=float)
        return AdamState(0, zeros, zeros.copy())

    def update(self, g, state):
        count = state.count + 1
        mu = self.b1 * state.mu + (1.0 - self.b1) * g
        nu = self.b2 * state.nu + (1.0 - self.b2) * g * g
        mu_hat = mu / (1.0 - self.b1**count)
        nu_hat = nu / (1.0 - self.b2**count)
        delta = -self.learning_rate * mu_hat / (np.sqrt(nu_hat) + self.eps)
        if count < self.warmup:
            delta = delta * (count / self.warmup)
        return delta, AdamState(count, mu, nu)

    def __setstate__(self, state):
        # an Adam pickled before `warmup` existed had none
        self.__dict__.update({"warmup": 0, **state})

    def __repr__(self):
        warmup = f", warmup={self.warmup!r}" if self.warmup else ""
        return (f"Adam(learning_rate={self.learning_rate!r}, b1={self.b1!r}, "
                f"b2={self.b2!r}, eps={self.eps!r}{warmup})")


_RULES = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_step(step="sgd", learning_rate=None):
    """Build a step rule from its name, or check a user's rule.

    Parameters
    ----------
    step : {'sgd', 'momentum', 'adam'} or object
        A rule name, or an object with methods ``init(x) -> state`` and
        ``update(g, state) -> (delta, state)``.
    learning_rate : float, optional
        Step size of a named rule; ``None`` takes the rule's default
        (0.2 for 'sgd', 0.02 for 'momentum', 0.01 for 'adam'). Must be left
        as ``None`` with a rule object, which carries its own.

    Returns
    -------
    rule : object
        The step rule.

    Examples
    --------
    >>> from ges_minimize import make_step
    >>> make_step("momentum", 0.05)
    Momentum(learning_rate=0.05, mass=0.9)
    """
    if isinstance(step, str):
        try:
            rule = _RULES[step.lower()]
        except KeyError:
            raise ValueError(
                f"step must be one of {sorted(_RULES)} or an object with "
                f"init and update methods, got {step!r}") from None
        return rule() if learning_rate is None else rule(learning_rate)
    if not (callable(getattr(step, "init", None))
            and callable(getattr(step, "update", None))):
        raise TypeError(
            "step must be one of 'sgd', 'momentum', 'adam' or an object with "
            f"methods init(x) and update(g, state), got {step!r}")
    if learning_rate is not None:
        raise ValueError(
            f"learning_rate={learning_rate!r} was given with a step rule "
            f"object {step!r}; set the rate on the object instead")
    return step

