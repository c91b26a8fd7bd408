"""Tests for ges_minimize.estimators._model: the surrogate gradients, the
standardisation (dense, sparse, extreme magnitudes) and the stacked forward pass."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from ges_minimize.estimators import _model


@pytest.mark.parametrize("loss, n_out", [("log_loss", 1), ("log_loss", 3), ("hinge", 1),
                                         ("hinge", 3), ("squared_hinge", 3),
                                         ("squared_error", 1), ("absolute_error", 1),
                                         ("huber", 1), (("quantile", 0.9), 1),
                                         (("quantile", 0.5), 1)])
def test_surrogate_gradient_of_linear_models_is_exact(loss, n_out):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(25, 4))
    if loss in _model.REGRESSION_LOSSES or isinstance(loss, tuple):
        Y = 2 * rng.normal(size=(25, 1))
    elif n_out == 1:
        Y = rng.integers(0, 2, (25, 1)).astype(float)
    else:
        Y = np.eye(3)[rng.integers(0, 3, 25)]
    shapes = _model.layer_shapes(4, (), n_out)
    theta = rng.normal(size=_model.n_parameters(shapes))
    w = np.full(25, 1 / 25)
    f = lambda t: _model.surrogate_loss_grad(t, shapes, "sign", X, Y, w, loss, 0.3)
    numeric = [(f(theta + 1e-6 * e)[0] - f(theta - 1e-6 * e)[0]) / 2e-6
               for e in np.eye(theta.size)]
    assert_allclose(f(theta)[1], numeric, atol=1e-6)


def test_quantile_loss_is_twice_the_pinball_loss_outside_its_band():
    d = _model.QUANTILE_SMOOTHING
    r = np.array([-3.0, -1.0, -d, -d / 2, 0.0, d / 3, d, 0.5, 2.0])[:, None]
    for q in (0.1, 0.5, 0.9):
        values, slopes = _model._loss_and_dZ(("quantile", q), r, np.zeros_like(r))
        pinball = np.where(r[:, 0] > 0, (1 - q) * r[:, 0], -q * r[:, 0])
        outside = np.abs(r[:, 0]) >= d
        assert_allclose(values[outside], 2 * pinball[outside], rtol=1e-15)
        # inside, above the pinball loss by at most d / 2, and continuous
        assert np.all(values >= 2 * pinball - 1e-15)
        assert np.all(values - 2 * pinball <= d / 2 + 1e-15)
        assert_allclose(slopes[[0, -1], 0], [-2 * q, 2 * (1 - q)])
    # at 0.5: the absolute error outside the band
    values, _ = _model._loss_and_dZ(("quantile", 0.5), r, np.zeros_like(r))
    abs_values, _ = _model._loss_and_dZ("absolute_error", r, np.zeros_like(r))
    assert_allclose(values[np.abs(r[:, 0]) >= d], abs_values[np.abs(r[:, 0]) >= d])


@pytest.mark.parametrize("n_classes", [3, 7, 8, 12])
def test_multiclass_log_loss_equals_its_definition(n_classes):
    # the column-by-column reductions (fewer than 8 classes) and numpy's
    # (8 and more) give the cross-entropy of the softmax and its gradient
    from scipy.special import logsumexp, softmax
    rng = np.random.default_rng(n_classes)
    Z = 20 * rng.normal(size=(50, n_classes))
    Y = np.eye(n_classes)[rng.integers(0, n_classes, 50)]
    values, dZ = _model._loss_and_dZ("log_loss", Z, Y)
    assert_allclose(values, logsumexp(Z, axis=1) - np.sum(Z * Y, axis=1),
                    rtol=1e-12, atol=1e-12)
    assert_allclose(dZ, softmax(Z, axis=1) - Y, rtol=1e-12, atol=1e-15)
    for ufunc in (np.add, np.maximum):
        assert_allclose(_model.reduce_last(ufunc, Z), ufunc.reduce(Z, axis=1),
                        rtol=1e-14, atol=1e-12)


@pytest.mark.parametrize("loss, n_outputs", [("log_loss", 1), ("log_loss", 4),
                                              ("hinge", 1), ("squared_error", 1)])
def test_gradient_alone_is_the_same_gradient(loss, n_outputs):
    # the climbs ask for the gradient only; it must be the very same numbers
    rng = np.random.default_rng(n_outputs)
    X = rng.normal(size=(40, 5))
    Y = (np.eye(n_outputs)[rng.integers(0, n_outputs, 40)] if n_outputs > 1
         else rng.integers(0, 2, (40, 1)).astype(float))
    shapes = _model.layer_shapes(5, (), n_outputs)
    theta = rng.normal(size=_model.n_parameters(shapes))
    surrogate = _model.Surrogate(shapes, "sign", loss, 0.1)
    data = type("D", (), {"Xs": X, "Ys": Y, "weights": rng.random(40)})()
    value, grad = surrogate(theta, data)
    assert np.isfinite(value) and surrogate(theta, data, with_value=False)[0] is None
    assert_array_equal(surrogate.gradient(theta, data), grad)


def test_straight_through_gradient():
    """Through one sign layer: the hard-tanh derivative replaces sign's."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    shapes = _model.layer_shapes(3, (2,), 1)
    theta = rng.normal(size=_model.n_parameters(shapes))
    (W1, b1), (W2, b2) = _model.unpack(theta, shapes)
    w = np.full(8, 1 / 8)
    _, grad = _model.surrogate_loss_grad(theta, shapes, "sign", X, Y, w,
                                          "squared_error", 0.0)
    A = X @ W1 + b1
    residual = np.sign(A) @ W2 + b2 - Y
    dA = (residual * w[:, None]) @ W2.T * (np.abs(A) <= 1)
    assert_allclose(_model.unpack(grad, shapes)[0][0], X.T @ dA)


def test_scaling_folds_exactly():
    rng = np.random.default_rng(0)
    shapes = _model.layer_shapes(4, (5,), 2)
    layers = _model.unpack(rng.normal(size=_model.n_parameters(shapes)), shapes)
    mean, scale = rng.normal(size=4), rng.random(4) + 0.5
    X = rng.normal(size=(10, 4))
    folded = _model.fold_scaling(layers, mean, scale, 3.0, 2.0)
    assert_allclose(_model.forward(folded, X * scale + mean, "sign"),
                    3.0 + 2.0 * _model.forward(layers, X, "sign"))
    back = _model.unfold_scaling(folded, mean, scale, 3.0, 2.0)
    assert_allclose(_model.pack(back), _model.pack(layers))


def test_standardisation_is_exact_at_any_magnitude():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(50, 3))
    w = rng.random(50)
    mean, scale = _model.standardisation(X, w)
    assert_allclose(mean, np.average(X, axis=0, weights=w))
    assert_allclose(scale, np.sqrt(np.average((X - mean) ** 2, axis=0, weights=w)))
    for factor in (1e-300, 1e154, 1e300):
        m, s = _model.standardisation(X * factor, w)
        assert_allclose(m / factor, mean, rtol=1e-12)
        assert_allclose(s / factor, scale, rtol=1e-10)
    # a constant column gets scale 1
    assert _model.standardisation(np.full((5, 1), 7.0), np.ones(5))[1][0] == 1.0


def test_sparse_standardised_products_equal_dense():
    import scipy.sparse as sp
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4)) * (rng.random((30, 4)) < 0.4)
    mean, scale = _model.standardisation(X, np.ones(30))
    dense = _model.standardise(X, mean, scale)
    sparse = _model.standardise(sp.csr_matrix(X), mean, scale)
    W, delta = rng.normal(size=(4, 3)), rng.normal(size=(30, 3))
    assert_allclose(sparse @ W, dense @ W, atol=1e-12)
    assert_allclose(sparse.T @ delta, dense.T @ delta, atol=1e-12)
    assert_allclose(sparse.take([3, 1]) @ W, dense[[3, 1]] @ W, atol=1e-12)


@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
def test_forward_many_equals_forward_one_by_one(hidden):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 6))
    shapes = _model.layer_shapes(6, hidden, 3)
    thetas = rng.normal(size=(7, _model.n_parameters(shapes)))
    Z = _model.forward_many(thetas, shapes, X, "sign")
    for theta, Z_one in zip(thetas, Z):
        assert_allclose(Z_one, _model.forward(_model.unpack(theta, shapes), X, "sign"),
                        atol=1e-12)


def test_indicator_scale_is_the_range_of_two_valued_columns():
    import scipy.sparse as sp
    rng = np.random.default_rng(0)
    n = 200
    flag = (rng.random(n) < 0.1).astype(float)          # a rare 0/1 indicator
    pair = np.where(rng.random(n) < 0.5, 1.0, 3.0)      # two values, not 0/1
    X = np.column_stack([rng.normal(size=n), flag, pair, np.full(n, 2.0),
                         rng.integers(0, 3, n).astype(float)])
    w = rng.random(n) + 0.5
    _, scale = _model.standardisation(X, w)
    scaled = _model.indicator_scale(X, scale)
    assert_array_equal(scaled[1:3], [1.0, 2.0])         # high - low
    assert scale[1] < 0.4                               # its deviation: far smaller
    assert_array_equal(scaled[[0, 3, 4]], scale[[0, 3, 4]])   # continuous, constant, 3 values
    assert_array_equal(_model.indicator_scale(sp.csr_matrix(X), scale), scaled)
    # sparse: a column whose implicit zeros make a third value is not two-valued
    third = np.where(rng.random(n) < 0.5, 1.0, 3.0) * (rng.random(n) < 0.7)
    S = sp.csr_matrix(np.column_stack([third, flag]))
    _, s_scale = _model.standardisation(S, w)
    assert_array_equal(_model.indicator_scale(S, s_scale), [s_scale[0], 1.0])
