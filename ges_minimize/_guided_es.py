"""The ask/tell Guided ES optimizer."""

import collections

import numpy as np

from ._core import antithetic_estimate, sample_perturbations, subspace_basis
from ._steps import make_step
from ._validation import (check_bounds, check_int, check_real, check_rng,
                          check_vector, check_x0)

__all__ = ["GuidedES"]


class GuidedES:
    """Guided Evolutionary Strategies as an ask/tell optimizer.

    Each iteration asks for ``f`` at ``2P`` points ``x +/- eps_i`` drawn
    from a Gaussian elongated along the span of the ``k`` most recent
    surrogate gradients, and moves the centre ``x`` with a step rule applied
    to the antithetic gradient estimate.

    Parameters
    ----------
    x0 : array_like, shape (n,)
        Starting centre; finite, inside `bounds`.
    sigma : float, default 0.1
        Scale of the perturbations, > 0.
    alpha : float, default 0.5
        Share of the search variance spent on the full space, in [0, 1]:
        ``alpha = 1`` is vanilla ES, ``alpha = 0`` searches only inside the
        guiding subspace.
    beta : float, default 2.0
        Scale of the gradient estimate, > 0.
    n_pairs : int, default 1
        Number ``P`` of antithetic pairs per iteration, >= 1.
    subspace_dim : int, default 1
        Number ``k`` of recent surrogate gradients kept, in [1, n].
    step : {'sgd', 'momentum', 'adam'} or object, default 'sgd'
        Step rule, or an object with methods ``init(x) -> state`` and
        ``update(g, state) -> (delta, state)`` (see `make_step`).
    learning_rate : float, optional
        Step size of a named rule (defaults: 0.2 'sgd', 0.02 'momentum',
        0.01 'adam').
    bounds : None, sequence of (min, max) pairs, or scipy.optimize.Bounds
        Box constraints; ``None`` entries mean unbounded. No point asked for
        ever leaves the box and the centre is projected back onto it.
    rng : None, int or numpy.random.Generator
        Source of all randomness; a fixed seed repeats a run exactly.

    Attributes
    ----------
    x : ndarray, shape (n,)
        Current centre (a copy).
    nit : int
        Number of updates made (calls of `tell`).
    nfev : int
        Number of function values received by `tell` (``2P`` per call).
    njev : int
        Number of surrogate gradients received.
    n_valid_pairs : int
        Pairs with two finite values in the last update.
    fun_estimate : float
        Mean of the finite values of the last update (``nan`` if none), a
        cheap stand-in for ``f(x)`` that costs no evaluation.
    step_norm : float
        Euclidean length of the last move of the centre.

    Notes
    -----
    **Order of a surrogate gradient.** In the paper's Algorithm 1 the
    surrogate gradient at ``x_t`` shapes the perturbations drawn around
    ``x_t``. Give it with `add_surrogate_grad` before `ask` to follow that
    order exactly (as `minimize_guided_es` does). Giving it to `tell`
    instead adds it to the buffer after the update, so it shapes the next
    iteration; this suits loops where the surrogate comes out of the same
    computation as the values.

    **Subspace.** The guiding basis ``U`` spans the non-zero gradients in the
    buffer (see `subspace_basis`); with ``r < k`` independent directions so
    far, the subspace share of the variance is spread over those ``r``
    (``(1 - alpha) / r`` each). With an empty buffer the perturbations are
    those of vanilla ES.

    **Bounds.** ``x + eps`` and ``x - eps`` are clipped to the box. For a
    clipped pair the estimate uses the half-chord ``(x_plus - x_minus) / 2``
    in place of ``eps``: a central difference along the direction that was
    actually probed, exact for linear ``f``.

    **Non-finite values.** A pair with a NaN or infinite value is left out of
    the estimate, which then averages over the remaining pairs. When no pair
    is finite the centre and the step rule's state do not move. The centre
    never becomes non-finite.

    **Checkpoints.** The object pickles (a custom step rule must too); a run
    resumed from a pickle taken after any `tell` repeats the uninterrupted
    run bit for bit.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.

    Examples
    --------
    >>> import numpy as np
    >>> from ges_minimize import GuidedES
    >>> f = lambda x: 0.5 * np.sum(x ** 2)
    >>> es = GuidedES(np.ones(5), sigma=0.1, learning_rate=0.2, n_pairs=2, rng=0)
    >>> for _ in range(300):
    ...     es.add_surrogate_grad(es.x + 0.3)       # a biased gradient
    ...     points = es.ask()                        # shape (4, 5)
    ...     es.tell([f(p) for p in points])
    >>> bool(f(es.x) < 1e-3), es.nit, es.nfev
    (True, 300, 1200)
    """

    def __init__(self, x0, *, sigma=0.1, alpha=0.5, beta=2.0, n_pairs=1,
                 subspace_dim=1, step="sgd", learning_rate=None, bounds=None,
                 rng=None):
        x = check_x0(x0)
        n = x.size
        self.n = n
        self.sigma = check_real(sigma, "sigma", low=0, low_open=True)
        self.alpha = check_real(alpha, "alpha", low=0, high=1)
        self.beta = check_real(beta, "beta", low=0, low_open=True)
        self.n_pairs = check_int(n_pairs, "n_pairs", low=1)
        self.subspace_dim = check_int(subspace_dim, "subspace_dim", low=1, high=n)
        self.step = make_step(step, learning_rate)
        self.bounds = check_bounds(bounds, n)
        if self.bounds is not None:
            lb, ub = self.bounds
            outside = np.flatnonzero((x < lb) | (x > ub))
            if outside.size:
                i = outside[0]
                raise ValueError(
                    f"x0 must lie inside bounds: x0[{i}] = {float(x[i])!r} is "
                    f"outside [{float(lb[i])!r}, {float(ub[i])!r}]")
        self.rng = check_rng(rng)
        self._x = x
        self._step_state = self.step.init(x)
        self._buffer = collections.deque(maxlen=self.subspace_dim)
        self._U = np.zeros((n, 0))
        self._pending = None
        self.nit = 0
        self.nfev = 0
        self.njev = 0
        self.n_valid_pairs = 0
        self.fun_estimate = np.nan
        self.step_norm = np.nan

    # -- state -------------------------------------------------------------
    @property
    def x(self):
        """Current centre (a copy)."""
        return self._x.copy()

    @property
    def basis(self):
        """Orthonormal basis ``U`` (n x r) of the guiding subspace (a copy)."""
        return self._U.copy()

    # -- surrogate gradients -------------------------------------------------
    def add_surrogate_grad(self, surrogate_grad):
        """Add a surrogate gradient to the guiding buffer.

        Parameters
        ----------
        surrogate_grad : array_like, shape (n,)
            A surrogate gradient, finite. The oldest one in the buffer drops
            out once `subspace_dim` are held. An all-zero vector is counted
            in `njev` but adds no direction.

        Notes
        -----
        Points already asked for and not yet told keep their perturbations;
        the new basis applies from the next `ask`.
        """
        g = check_vector(surrogate_grad, "surrogate_grad", self.n)
        self.njev += 1
        if not np.any(g):
            return
        self._buffer.append(g.copy())
        self._U = subspace_basis(np.column_stack(self._buffer)
                                 if self.subspace_dim > 1 else g[:, None])

    # -- ask / tell ----------------------------------------------------------
    def ask(self):
        """The ``2P`` points to evaluate next.

        Returns
        -------
        points : ndarray, shape (2P, n)
            Rows ``0 .. P-1`` are ``x + eps_i`` and rows ``P .. 2P-1`` are
            ``x - eps_i`` (clipped to the bounds). Asking again before `tell`
            returns the same points.
        """
        if self._pending is None:
            eps = sample_perturbations(self._U, self.n_pairs, self.sigma,
                                       self.alpha, self.rng, n=self.n)
            points = np.concatenate([self._x + eps, self._x - eps])
            if self.bounds is not None:
                np.clip(points, *self.bounds, out=points)
                half = self.n_pairs
                eps = 0.5 * (points[:half] - points[half:])
            self._pending = (eps, points)
        return self._pending[1].copy()

    def tell(self, values, surrogate_grad=None):
        """Make one update from the values at the points of the last `ask`.

        Parameters
        ----------
        values : array_like, shape (2P,)
            ``f`` at the rows of the last `ask`, in the same order. NaN and
            infinite values are allowed (see Notes of the class).
        surrogate_grad : array_like, shape (n,), optional
            The surrogate gradient at the centre the points were asked
            around. It joins the buffer after this update and so guides the
            next `ask` (see the class Notes for the alternative order).

        Raises
        ------
        RuntimeError
            If `ask` was not called since the last `tell`.
        ValueError
            For values or a surrogate gradient of the wrong shape, or a
            non-finite surrogate gradient. The state is then unchanged.
        """
        if self._pending is None:
            raise RuntimeError("tell() called without a pending ask(); call ask() first")
        f = self._check_values(values)
        if surrogate_grad is not None:
            surrogate_grad = check_vector(surrogate_grad, "surrogate_grad", self.n)
        eps, _ = self._pending
        half = self.n_pairs
        f_plus, f_minus = f[:half], f[half:]
        valid = np.isfinite(f_plus) & np.isfinite(f_minus)
        n_valid = int(np.count_nonzero(valid))
        if n_valid:
            if n_valid < half:
                eps, f_plus, f_minus = eps[valid], f_plus[valid], f_minus[valid]
            g = antithetic_estimate(eps, f_plus, f_minus, self.sigma, self.beta)
            delta, step_state = self.step.update(g, self._step_state)
            x_new = self._x + delta
            if self.bounds is not None:
                np.clip(x_new, *self.bounds, out=x_new)
            if not np.isfinite(x_new).all():
                raise FloatingPointError(
                    "the update produced a non-finite centre; the step rule "
                    f"{self.step!r} returned a non-finite step")
            self.step_norm = float(np.linalg.norm(x_new - self._x))
            self._x, self._step_state = x_new, step_state
        else:
            self.step_norm = 0.0
        finite = f if n_valid == half else f[np.isfinite(f)]
        self.fun_estimate = float(finite.mean()) if finite.size else np.nan
        self.n_valid_pairs = n_valid
        self.nit += 1
        self.nfev += 2 * half
        self._pending = None
        if surrogate_grad is not None:
            self.add_surrogate_grad(surrogate_grad)

    def _check_values(self, values):
        try:
            f = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                f"values must be an array of {2 * self.n_pairs} real numbers, "
                f"got {values!r:.80}") from None
        if f.shape != (2 * self.n_pairs,):
            raise ValueError(
                f"values must have shape ({2 * self.n_pairs},), one per point "
                f"of ask(), got shape {f.shape}")
        return f
