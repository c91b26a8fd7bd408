"""The model of the scikit-learn estimators and its surrogate gradient.

A model is a stack of layers ``(W_l, b_l)`` acting on standardised inputs:
every layer but the last is followed by a non-differentiable activation
('sign' or 'step'); the last is linear and gives the *raw output* ``Z``
(shape ``(n_samples, n_outputs)``): the decision function of a classifier
(one column for two classes, one per class otherwise) or the standardised
prediction of a regressor. With no hidden layer the model is linear.

All parameters live in one flat vector ``theta`` (layer after layer, each
``W`` row-major then ``b``), the ``x`` that Guided ES moves.

The surrogate gradient is the gradient of a smooth proxy loss plus an L2
penalty on the weights (not the intercepts). Through a sign or step layer it
is the straight-through estimator [1]_: back-propagation uses the derivative
of the hard tanh, ``1{|a| <= 1}``, in place of the zero derivative of
``sign`` (half of it for ``step = (1 + sign) / 2``).

The inputs are standardised once per fit (`standardisation`,
`standardise`); a sparse matrix stays sparse, its standardisation applied
through the products (`SparseStandardised`). `forward_many` computes the
outputs of many parameter vectors with one product of the inputs.

Nothing here touches scikit-learn.

References
----------
.. [1] Y. Bengio, N. Leonard and A. Courville, "Estimating or propagating
   gradients through stochastic neurons for conditional computation",
   arXiv:1308.3432, 2013.
"""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from .._steps import Adam

__all__ = [
    "ACTIVATIONS", "CLASSIFICATION_LOSSES", "REGRESSION_LOSSES",
    "layer_shapes", "n_parameters", "unpack", "pack", "forward", "reduce_last",
    "softmax_parts",
    "init_random", "penalty", "surrogate_loss_grad", "fold_scaling",
    "unfold_scaling", "forward_many", "standardisation", "indicator_scale",
    "standardise",
    "SparseStandardised", "Surrogate", "minimize_surrogate",
    "straight_through_descent",
]

ACTIVATIONS = ("sign", "step")
CLASSIFICATION_LOSSES = ("log_loss", "hinge", "squared_hinge")
REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber")
#: Half-width, in standard deviations of the target, of the quadratic part
#: of the quantile surrogate loss.
QUANTILE_SMOOTHING = 0.05
HUBER_DELTA = 1.0  # in units of the standardised target
#: Iterations of L-BFGS when minimising the surrogate loss of a linear model.
INIT_MAXITER = 500
#: Steps of straight-through Adam that initialise a network.
INIT_NETWORK_STEPS = 200
INIT_NETWORK_LEARNING_RATE = 0.01


# -- parameters ----------------------------------------------------------------
def layer_shapes(n_features, hidden_layer_sizes, n_outputs):
    """Shapes ``(fan_in, fan_out)`` of the weight matrices, input to output."""
    sizes = (n_features, *hidden_layer_sizes, n_outputs)
    return [(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]


def n_parameters(shapes):
    """Length of ``theta`` for layers of the given shapes."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in shapes)


def unpack(theta, shapes):
    """Views ``[(W_1, b_1), ...]`` into the flat vector `theta`."""
    layers, start = [], 0
    for fan_in, fan_out in shapes:
        W = theta[start:start + fan_in * fan_out].reshape(fan_in, fan_out)
        start += fan_in * fan_out
        b = theta[start:start + fan_out]
        start += fan_out
        layers.append((W, b))
    return layers


def pack(layers):
    """The flat vector of layers ``[(W_1, b_1), ...]`` (a new array)."""
    return np.concatenate([np.concatenate([np.ravel(W), np.ravel(b)])
                           for W, b in layers])


def init_random(shapes, rng):
    """Glorot-uniform weights and zero intercepts, as a flat vector."""
    layers = []
    for fan_in, fan_out in shapes:
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        layers.append((rng.uniform(-bound, bound, (fan_in, fan_out)),
                       np.zeros(fan_out)))
    return pack(layers)


# -- the model -----------------------------------------------------------------
def _activate(A, activation):
    if activation == "sign":
        return np.where(A > 0, 1.0, -1.0)
    return (A > 0).astype(float)


def _activation_surrogate_derivative(A, activation):
    """Straight-through derivative: that of hard tanh (halved for 'step')."""
    inside = (np.abs(A) <= 1.0).astype(float)
    return inside if activation == "sign" else 0.5 * inside


def forward(layers, X, activation, return_hidden=False):
    """Raw output ``Z`` of the model at inputs `X`.

    Parameters
    ----------
    layers : list of (W, b)
    X : ndarray, shape (n_samples, n_features)
    activation : {'sign', 'step'}
        Activation of the hidden layers (unused without hidden layers).
    return_hidden : bool
        Also return the inputs ``H_l`` and pre-activations ``A_l`` of every
        hidden layer, for back-propagation.

    Returns
    -------
    Z : ndarray, shape (n_samples, n_outputs)
    cache : list of (H, A), only with ``return_hidden=True``
    """
    H, cache = X, []
    for W, b in layers[:-1]:
        A = H @ W + b
        cache.append((H, A))
        H = _activate(A, activation)
    W, b = layers[-1]
    Z = H @ W + b
    return (Z, cache + [(H, None)]) if return_hidden else Z


def forward_many(thetas, shapes, X, activation):
    """Raw outputs of the parameter vectors `thetas` (one per row) at `X`.

    One product of `X` with the first layers of all the vectors stacked side
    by side; the layers above are batched products. Returns ``Z`` of shape
    ``(n_vectors, n_samples, n_outputs)``.
    """
    n_vectors, start = thetas.shape[0], 0
    H = None
    for depth, (fan_in, fan_out) in enumerate(shapes):
        W = thetas[:, start:start + fan_in * fan_out].reshape(
            n_vectors, fan_in, fan_out)
        start += fan_in * fan_out
        b = thetas[:, None, start:start + fan_out]
        start += fan_out
        if depth == 0:
            stacked = W.transpose(1, 0, 2).reshape(fan_in, n_vectors * fan_out)
            A = np.asarray(X @ stacked).reshape(-1, n_vectors, fan_out)
            A = A.transpose(1, 0, 2) + b
        else:
            A = H @ W + b
        H = A if depth == len(shapes) - 1 else _activate(A, activation)
    return H


def penalty(layers, l2):
    """``l2 / 2`` times the squared norm of the weights (not intercepts)."""
    return 0.5 * l2 * sum(float(np.vdot(W, W)) for W, _ in layers)


# -- surrogate losses ------------------------------------------------------------
def reduce_last(ufunc, M):
    """``ufunc.reduce(M, axis=-1)``, the same numbers: for fewer than 8
    entries along the last axis (where numpy adds left to right; from 8 on
    it sums pairwise) as a loop over them, several times faster than
    numpy's reduction along a short last axis."""
    if M.shape[-1] >= 8:
        return ufunc.reduce(M, axis=-1)
    out = M[..., 0].copy()
    for k in range(1, M.shape[-1]):
        ufunc(out, M[..., k], out=out)
    return out


def softmax_parts(Z):
    """``(top, E, total)`` along the last axis of raw outputs `Z`: the
    largest entry, ``exp(Z - top)`` and its sum, the reductions a class at
    a time (`reduce_last`). ``E / total`` is the softmax and
    ``top + log(total)`` the log-sum-exp, the numbers of scipy's functions
    from one exponential."""
    top = reduce_last(np.maximum, Z)
    E = np.exp(Z - top[..., None])
    return top, E, reduce_last(np.add, E)


def _loss_and_dZ(loss, Z, Y, with_values=True):
    """Per-sample loss and its derivative with respect to the raw output.

    ``Y`` encodes the target: for one output column, a float column (0/1
    labels for classification, the standardised target for regression); for
    several columns (multiclass), the one-hot matrix of the labels. With
    ``with_values=False`` the log loss skips its values (returned as None),
    which cost more than its derivative; other losses return both.
    """
    if loss == "log_loss" and Z.shape[1] == 1:
        z, y = Z[:, 0], Y[:, 0]
        dZ = (expit(z) - y)[:, None]
        if not with_values:
            return None, dZ
        return -(y * log_expit(z) + (1.0 - y) * log_expit(-z)), dZ
    if loss == "log_loss":
        # log-sum-exp and softmax from one exponential (scipy's functions
        # compute it twice, with more overhead than arithmetic at this size)
        top, E, total = softmax_parts(Z)
        dZ = E / total[:, None] - Y
        if not with_values:
            return None, dZ
        return top + np.log(total) - reduce_last(np.add, Z * Y), dZ
    if loss in ("hinge", "squared_hinge") and Z.shape[1] == 1:
        s = 2.0 * Y[:, 0] - 1.0                      # labels as -1 / +1
        margin = np.maximum(0.0, 1.0 - s * Z[:, 0])
        if loss == "hinge":
            return margin, (-s * (margin > 0))[:, None]
        return margin ** 2, (-2.0 * s * margin)[:, None]
    if loss in ("hinge", "squared_hinge"):
        # Crammer-Singer: 1 + best wrong score - true score, if positive.
        true_score = np.sum(Z * Y, axis=1)
        rival = np.argmax(np.where(Y > 0, -np.inf, Z), axis=1)
        rows = np.arange(Z.shape[0])
        margin = np.maximum(0.0, 1.0 + Z[rows, rival] - true_score)
        slope = (margin > 0).astype(float) if loss == "hinge" else 2.0 * margin
        dZ = -slope[:, None] * Y
        dZ[rows, rival] += slope
        return (margin if loss == "hinge" else margin ** 2), dZ
    r = Z - Y
    if loss == "squared_error":
        return 0.5 * np.sum(r ** 2, axis=1), r
    if isinstance(loss, tuple) and loss[0] == "quantile":
        # twice the pinball loss of level q (the absolute error at q = 0.5),
        # quadratic within QUANTILE_SMOOTHING of the target so that its
        # minimiser is unique and L-BFGS converges to it
        q, d = loss[1], QUANTILE_SMOOTHING
        r = r[:, 0]
        inner = np.abs(r) <= d
        values = np.where(r > 0, (1.0 - q) * r, -q * r)
        values[inner] = r[inner] ** 2 / (4 * d) + (0.5 - q) * r[inner] + d / 4
        slopes = np.where(r > 0, 1.0 - q, -q)
        slopes[inner] = r[inner] / (2 * d) + 0.5 - q
        return 2.0 * values, 2.0 * slopes[:, None]
    if loss == "absolute_error":
        return np.sum(np.abs(r), axis=1), np.sign(r)
    if loss == "huber":
        small = np.abs(r) <= HUBER_DELTA
        values = np.where(small, 0.5 * r ** 2,
                          HUBER_DELTA * (np.abs(r) - 0.5 * HUBER_DELTA))
        return np.sum(values, axis=1), np.where(small, r, HUBER_DELTA * np.sign(r))
    raise ValueError(f"unknown surrogate loss {loss!r}")


def surrogate_loss_grad(theta, shapes, activation, X, Y, weights, loss, l2,
                        with_value=True):
    """Surrogate loss and its (straight-through) gradient at `theta`.

    Parameters
    ----------
    theta : ndarray, shape (n_params,)
    shapes : list of (fan_in, fan_out)
        From `layer_shapes`.
    activation : {'sign', 'step'}
    X : ndarray, shape (n_samples, n_features)
        Standardised inputs.
    Y : ndarray, shape (n_samples, n_outputs)
        Encoded targets (see `_loss_and_dZ`).
    weights : ndarray, shape (n_samples,)
        Sample weights summing to one.
    loss : str or tuple
        One of `CLASSIFICATION_LOSSES` or `REGRESSION_LOSSES`, or
        ``('quantile', q)``: twice the pinball loss of level ``q``.
    l2 : float
        Strength of the L2 penalty on the weights.
    with_value : bool, default=True
        False skips the loss value (returned as None) where that saves
        work: the climbs need the gradient only.

    Returns
    -------
    value : float or None
        ``sum_i weights_i loss_i + l2 / 2 |W|^2``.
    grad : ndarray, shape (n_params,)
        Its gradient; exact for a linear model, the straight-through
        estimator through hidden sign or step layers.
    """
    layers = unpack(theta, shapes)
    Z, cache = forward(layers, X, activation, return_hidden=True)
    values, dZ = _loss_and_dZ(loss, Z, Y, with_value)
    value = (float(weights @ values) + penalty(layers, l2)
             if with_value else None)
    delta = dZ * weights[:, None]                 # d value / d Z
    grads = []
    for (W, b), (H, _), below in zip(layers[::-1], cache[::-1],
                                     [c[1] for c in cache[-2::-1]] + [None]):
        grads.append((H.T @ delta + l2 * W, delta.sum(axis=0)))
        if below is not None:                      # back through the activation
            delta = (delta @ W.T) * _activation_surrogate_derivative(below, activation)
    return value, pack(grads[::-1])


# -- standardisation -------------------------------------------------------------
def fold_scaling(layers, x_mean, x_scale, y_mean=0.0, y_scale=1.0):
    """Layers acting on raw inputs (and giving raw outputs) from standardised ones.

    For ``X_std = (X - x_mean) / x_scale`` and ``out = y_mean + y_scale * Z``,
    the returned layers compute ``out`` from ``X`` directly.
    """
    W, b = layers[0]
    W = W / x_scale[:, None]
    b = b - x_mean @ W
    folded = [(W, b)] + [(Wl.copy(), bl.copy()) for Wl, bl in layers[1:]]
    W, b = folded[-1]
    folded[-1] = (W * y_scale, b * y_scale + y_mean)
    return folded


def unfold_scaling(layers, x_mean, x_scale, y_mean=0.0, y_scale=1.0):
    """Inverse of `fold_scaling`."""
    W, b = layers[-1]
    unfolded = [(Wl.copy(), bl.copy()) for Wl, bl in layers[:-1]]
    unfolded.append(((W / y_scale), (b - y_mean) / y_scale))
    W, b = unfolded[0]
    unfolded[0] = (W * x_scale[:, None], b + x_mean @ W)
    return unfolded


# -- standardisation -------------------------------------------------------------
def _robust_moments(X, w):
    """Weighted mean and standard deviation of the columns of `X`.

    Computed on the columns divided by their largest magnitude, so that
    neither squares of huge values overflow nor squares of tiny ones
    underflow; a sparse `X` stays sparse.
    """
    if sp.issparse(X):
        peak = np.asarray(abs(X).max(axis=0).todense()).ravel()
    else:
        peak = np.max(np.abs(X), axis=0)
    peak = np.where(peak > 0, peak, 1.0)
    if sp.issparse(X):
        Xc = X @ sp.diags(1.0 / peak)
        mean = np.asarray(Xc.T @ w).ravel()
        second = np.asarray(Xc.multiply(Xc).T @ w).ravel()
        var = np.maximum(second - mean ** 2, 0.0)
    else:
        Xc = X / peak
        mean = w @ Xc
        var = w @ (Xc - mean) ** 2
    return mean, np.sqrt(var), peak


def standardisation(X, weights):
    """``(mean, scale)`` of the columns of `X` under `weights`.

    A column whose spread is below 1e-12 of its magnitude (constant) gets
    scale 1. Exact for columns of any finite magnitude (1e-300 or 1e300).
    """
    w = weights / weights.sum()
    mean, sd, peak = _robust_moments(X, w)
    constant = sd <= 1e-12 * np.maximum(np.abs(mean), 1e-300)
    constant |= sd == 0
    return mean * peak, np.where(constant, 1.0, sd * peak)


def indicator_scale(X, scale):
    """`scale` with a two-valued column's spread ``high - low`` instead.

    The model sees its inputs centred and scaled, and its L2 penalty acts on
    the coefficients of the scaled columns. For a column that takes two
    values only (a one-hot indicator, a 0/1 flag), scaling by the standard
    deviation is not what scikit-learn's `LogisticRegression` and `Ridge`
    see in the usual pipeline (numeric columns standardised, indicators
    left as 0/1): a rare category's indicator, whose deviation is small,
    would be stretched, its coefficient barely penalised and overfitted, and
    the search's perturbations of it would be as large. Scaled by its
    range instead, the indicator keeps its 0/1 steps, and the penalty of its
    coefficient is that pipeline's. Other columns (constant ones included)
    keep `scale`, `standardisation`'s on the same rows.
    """
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        low = np.asarray(X.min(axis=0).todense()).ravel()
        high = np.asarray(X.max(axis=0).todense()).ravel()
        column = np.repeat(np.arange(X.shape[1]), np.diff(X.indptr))
        other = (X.data != low[column]) & (X.data != high[column])
        two = np.bincount(column[other], minlength=X.shape[1]) == 0
        # implicit zeros must be one of the two values too
        has_zeros = np.diff(X.indptr) < X.shape[0]
        two &= ~has_zeros | (low == 0) | (high == 0)
    else:
        low, high = X.min(axis=0), X.max(axis=0)
        two = np.all((X == low) | (X == high), axis=0)
    two &= high > low
    return np.where(two, high - low, scale)


def standardise(X, mean, scale):
    """The standardised inputs: an array, or `SparseStandardised` for sparse X."""
    if sp.issparse(X):
        return SparseStandardised(sp.csr_matrix(X), mean, scale)
    return (X - mean) / scale


class SparseStandardised:
    """``(X - mean) / scale`` for a sparse `X`, kept sparse.

    Supports what the model needs: ``Xs @ W`` (``X @ (W / scale) - (mean /
    scale) @ W``), ``Xs.T @ delta`` and row selection with `take`.
    """

    def __init__(self, X, mean, scale):
        self.X, self.mean, self.scale = X, mean, scale
        self.shift = mean / scale
        self.shape = X.shape

    def __matmul__(self, W):
        return np.asarray(self.X @ (W / self.scale[:, None])) - self.shift @ W

    @property
    def T(self):
        return _SparseStandardisedT(self)

    def take(self, rows):
        return SparseStandardised(self.X[rows], self.mean, self.scale)

    def __getitem__(self, rows):
        return self.take(rows)


class _SparseStandardisedT:
    def __init__(self, parent):
        self.parent = parent

    def __matmul__(self, delta):
        p = self.parent
        return (np.asarray(p.X.T @ delta) / p.scale[:, None]
                - np.outer(p.shift, delta.sum(axis=0)))


# -- the surrogate and the start -------------------------------------------------
class Surrogate:
    """``surrogate(theta, data) -> (loss, gradient)`` on the standardised data.

    The penalised mean surrogate loss under the data's weights (sample
    weights times class weights).
    """

    def __init__(self, shapes, activation, loss, l2):
        self.shapes, self.activation = shapes, activation
        self.loss, self.l2 = loss, l2

    def __call__(self, theta, data, with_value=True):
        w = data.weights / data.weights.sum()
        return surrogate_loss_grad(theta, self.shapes, self.activation,
                                   data.Xs, data.Ys, w, self.loss, self.l2,
                                   with_value)

    def gradient(self, theta, data):
        """The gradient alone (the same numbers as ``self(theta, data)[1]``)."""
        return self(theta, data, with_value=False)[1]


def minimize_surrogate(surrogate, theta0, data):
    """Minimiser of the penalised surrogate loss (L-BFGS)."""
    result = minimize(surrogate, theta0, args=(data,), jac=True,
                      method="L-BFGS-B",
                      options={"maxiter": INIT_MAXITER, "maxfun": 2 * INIT_MAXITER,
                               "gtol": 1e-10, "ftol": 1e-14})
    return result.x


def straight_through_descent(surrogate, theta0, data):
    """Adam on the straight-through gradient of the surrogate loss."""
    rule = Adam(INIT_NETWORK_LEARNING_RATE)
    theta, state = theta0, rule.init(theta0)
    for _ in range(INIT_NETWORK_STEPS):
        delta, state = rule.update(surrogate.gradient(theta, data), state)
        theta = theta + delta
    return theta
