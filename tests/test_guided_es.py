"""The ask/tell object: mechanics, checkpoints, bounds, non-finite values, errors."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import Bounds

from ges_minimize import GuidedES


def sphere(x):
    return 0.5 * float(x @ x)


def _step(es, surrogate=True):
    if surrogate:
        es.add_surrogate_grad(es.x + 0.5)
    points = es.ask()
    es.tell([sphere(p) for p in points])


def test_ask_shape_order_and_repeat():
    es = GuidedES(np.ones(4), n_pairs=3, step="sgd", rng=0)
    points = es.ask()
    assert points.shape == (6, 4)
    assert_allclose(points[:3] + points[3:], 2 * np.ones((3, 4)))  # x +/- eps
    assert_array_equal(es.ask(), points)          # same pending points
    es.tell(np.zeros(6))
    assert (es.nit, es.nfev, es.njev) == (1, 6, 0)
    assert not np.array_equal(es.ask(), points)


def test_adaptive_mode_asks_for_the_centre_when_it_needs_f_there():
    # first iteration and after a step taken back: a last row, the centre
    f = lambda x: float(np.sum((x - 1.0) ** 2)) + (100.0 if x[0] > 0.3 else 0.0)
    es = GuidedES(np.zeros(3), sigma=0.5, rng=1)
    rows, reverted = 0, []
    for _ in range(60):
        if es.nonsmooth_mode:
            break           # the jump handed the run to the search for kinks
        centre_row = es.evaluates_centre
        points = es.ask()
        assert len(points) == 2 * es.n_pairs + centre_row
        if centre_row:
            assert_array_equal(points[-1], es.x)
        rows += len(points)
        before = es.n_reverted
        es.tell([f(p) for p in points])
        reverted.append(es.n_reverted > before)
        if reverted[-1]:
            assert es.evaluates_centre       # f at the restored centre next
    assert any(reverted) and es.nfev == rows


def test_one_update_is_sgd_on_the_estimate():
    es = GuidedES(np.array([1.0, -2.0, 0.5]), sigma=0.1, beta=2.0,
                  learning_rate=0.3, n_pairs=2, rng=1)
    x0 = es.x
    points = es.ask()
    values = np.array([sphere(p) for p in points])
    eps = points[:2] - x0
    g = 2.0 / (2 * 0.01 * 2) * (values[:2] - values[2:]) @ eps
    es.tell(values)
    assert_allclose(es.x, x0 - 0.3 * g, rtol=1e-12)
    assert es.fun_estimate == pytest.approx(values.mean())
    assert es.step_norm == pytest.approx(np.linalg.norm(0.3 * g))


def test_pickle_resume_is_bit_identical():
    def run(n_iter, es):
        for _ in range(n_iter):
            _step(es)
        return es

    kwargs = dict(sigma=0.2, n_pairs=2, subspace_dim=3, step="adam",
                  learning_rate=0.05, rng=123)
    full = run(50, GuidedES(np.full(6, 2.0), **kwargs))
    part = run(20, GuidedES(np.full(6, 2.0), **kwargs))
    resumed = run(30, pickle.loads(pickle.dumps(part)))
    assert_array_equal(resumed.x, full.x)
    assert (resumed.nit, resumed.nfev, resumed.njev) == (50, 200, 50)
    assert_array_equal(resumed.ask(), full.ask())


def test_pickle_with_pending_ask_keeps_points():
    es = GuidedES(np.zeros(3), rng=0)
    points = es.ask()
    clone = pickle.loads(pickle.dumps(es))
    assert_array_equal(clone.ask(), points)


def test_surrogate_in_tell_equals_tell_then_add():
    a = GuidedES(np.ones(5), subspace_dim=2, rng=7)
    b = GuidedES(np.ones(5), subspace_dim=2, rng=7)
    for _ in range(10):
        g = a.x * 1.5 - 0.2
        a.tell([sphere(p) for p in a.ask()], surrogate_grad=g)
        b.tell([sphere(p) for p in b.ask()])
        b.add_surrogate_grad(g)
    assert_array_equal(a.x, b.x)
    assert a.njev == b.njev == 10


def test_buffer_keeps_k_most_recent():
    es = GuidedES(np.zeros(5), subspace_dim=2, rng=0)
    e = np.eye(5)
    for i in range(3):
        es.add_surrogate_grad(e[i])
    U = es.basis
    assert U.shape == (5, 2)
    assert_allclose(U @ U.T, np.diag([0, 1, 1, 0, 0]), atol=1e-12)


def test_zero_surrogate_adds_nothing_and_buffer_starts_empty():
    es = GuidedES(np.zeros(4), subspace_dim=2, rng=0)
    assert es.basis.shape == (4, 0)
    es.add_surrogate_grad(np.zeros(4))
    assert es.basis.shape == (4, 0) and es.njev == 1
    es.add_surrogate_grad(np.ones(4))
    es.add_surrogate_grad(2 * np.ones(4))           # collinear
    assert es.basis.shape == (4, 1)


def test_empty_buffer_samples_like_vanilla_es():
    guided = GuidedES(np.zeros(50), alpha=0.2, rng=3)
    vanilla = GuidedES(np.zeros(50), alpha=1.0, rng=3)
    assert_array_equal(guided.ask(), vanilla.ask())


@pytest.mark.parametrize("bounds", [
    [(-1.0, 1.0)] * 5,
    [(None, 0.05), (-0.05, None), (0.0, 0.0), (None, None), (-2, 2)],
    Bounds(-0.1, 0.1),
    Bounds([-1, -0.01, -1, -1, 0], [1, 0.01, 1, 1, 0.02]),
])
def test_no_point_leaves_the_box(bounds):
    es = GuidedES(np.zeros(5), sigma=0.5, learning_rate=0.1, n_pairs=2,
                  bounds=bounds, rng=0)
    lb, ub = es.bounds
    centres = []
    for _ in range(300):
        es.add_surrogate_grad(es.x - 3.0)
        points = es.ask()
        assert np.all(points >= lb) and np.all(points <= ub)
        es.tell([float(np.sum((p - 3.0) ** 2)) for p in points])
        assert np.all(es.x >= lb) and np.all(es.x <= ub)
        centres.append(es.x)
    # the minimiser of |x - 3|^2 in the box is its upper corner, where
    # finite; the centre hovers there, within the noise of the estimate
    mean_x = np.mean(centres[-100:], axis=0)
    finite = np.isfinite(ub)
    assert_allclose(mean_x[finite], ub[finite], atol=0.05)
    assert_allclose(mean_x[~finite], 3.0, atol=0.5)


def test_clipped_pair_uses_the_half_chord():
    # f linear: the estimate from a clipped pair is exact along the chord
    c = np.array([1.0, -2.0])
    es = GuidedES(np.array([0.0, 0.0]), sigma=1.0, beta=1.0, learning_rate=1.0,
                  bounds=[(0.0, 0.3), (-0.3, 0.3)], rng=0)
    points = es.ask()
    d = 0.5 * (points[0] - points[1])
    es.tell([c @ p for p in points])
    expected = np.clip(-1.0 / (2 * 1.0) * d * (2 * d @ c), [0, -0.3], [0.3, 0.3])
    assert_allclose(es.x, expected, atol=1e-14)


def test_nan_pairs_are_left_out():
    es = GuidedES(np.ones(3), n_pairs=3, step="sgd", rng=0)
    points = es.ask()
    values = np.array([sphere(p) for p in points])
    values[1] = np.nan           # pair 1 dropped
    values[5] = np.inf           # pair 2 dropped
    es.tell(values)
    assert es.n_valid_pairs == 1 and np.all(np.isfinite(es.x))
    # same as the estimate from pair 0 alone (averaged over the one pair)
    eps0 = points[0] - 1.0
    g = 2.0 / (2 * 0.01) * (values[0] - values[3]) * eps0
    assert_allclose(es.x, 1.0 - 0.2 * g, rtol=1e-12)
    assert es.fun_estimate == pytest.approx(np.mean(values[[0, 2, 3, 4]]))


def test_all_nan_values_leave_the_state_still():
    es = GuidedES(np.ones(3), step="momentum", rng=0)
    _step(es)
    x, state = es.x, es._step_state
    es.ask()
    es.tell([np.nan, np.inf])
    assert_array_equal(es.x, x)
    assert_array_equal(es._step_state.velocity, state.velocity)
    assert es.n_valid_pairs == 0 and es.nit == 2 and np.isnan(es.fun_estimate)


def test_tell_without_ask():
    es = GuidedES(np.ones(3), rng=0)
    with pytest.raises(RuntimeError, match="ask"):
        es.tell([1.0, 2.0])


@pytest.mark.parametrize("values, error, match", [
    ([1.0, 2.0, 3.0], ValueError, r"shape \(2,\)"),
    ([[1.0, 2.0]], ValueError, r"shape \(2,\)"),
    (["a", "b"], TypeError, "real numbers"),
])
def test_bad_values_leave_state_usable(values, error, match):
    es = GuidedES(np.ones(3), step="sgd", rng=0)
    points = es.ask()
    with pytest.raises(error, match=match):
        es.tell(values)
    assert_array_equal(es.ask(), points)
    es.tell([sphere(p) for p in points])
    assert es.nit == 1


@pytest.mark.parametrize("g, match", [
    (np.ones(4), r"shape \(3,\)"),
    (np.array([1.0, np.nan, 0.0]), "finite"),
    (np.array([1.0, np.inf, 0.0]), "finite"),
])
def test_bad_surrogate_is_rejected_before_any_change(g, match):
    es = GuidedES(np.ones(3), rng=0)
    points = es.ask()
    x = es.x
    with pytest.raises(ValueError, match=match):
        es.tell([sphere(p) for p in points], surrogate_grad=g)
    assert_array_equal(es.x, x)
    assert es.nit == 0
    with pytest.raises(ValueError, match="surrogate_grad"):
        es.add_surrogate_grad(g)
    assert es.njev == 0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x0=[1.0, np.nan]), ValueError, "x0 must be finite"),
    (dict(x0=np.ones((2, 2))), ValueError, "x0 must be a non-empty 1-D"),
    (dict(x0=[]), ValueError, "x0 must be a non-empty 1-D"),
    (dict(x0="abc"), TypeError, "x0"),
    (dict(alpha=1.5), ValueError, r"alpha must be a finite number in \[0, 1\], got 1.5"),
    (dict(alpha=-0.1), ValueError, "alpha"),
    (dict(sigma=0.0), ValueError, "sigma"),
    (dict(sigma=-1.0), ValueError, "sigma"),
    (dict(beta=0), ValueError, "beta"),
    (dict(learning_rate=-0.1), ValueError, "learning_rate"),
    (dict(n_pairs=0), ValueError, "n_pairs"),
    (dict(n_pairs=1.5), TypeError, "n_pairs must be an integer"),
    (dict(subspace_dim=0), ValueError, "subspace_dim"),
    (dict(subspace_dim=4), ValueError, r"subspace_dim must be an integer in \[1, 3\], got 4"),
    (dict(bounds=[(0, 1)] * 2), ValueError, "expected 3 pairs, got 2"),
    (dict(bounds=[(0, 1), (2, 1), (0, 1)]), ValueError, "index 1: 2.0 > 1.0"),
    (dict(bounds=[(0, 1), (0, 1), (0,)]), ValueError, r"bounds\[2\]"),
    (dict(bounds=[(0, 1), (0, "x"), (0, 1)]), TypeError, r"bounds\[1\]"),
    (dict(bounds=Bounds([0, 0], [1, 1])), ValueError, "broadcast"),
    (dict(bounds=[(0.5, 1)] * 3), ValueError, r"x0\[0\] = 0.1 is outside"),
    (dict(bounds=5), TypeError, "bounds"),
    (dict(rng="seed"), TypeError, "rng"),
    (dict(step="newton"), ValueError, r"step must be 'auto' \(the default\), one of 'sgd'"),
])
def test_bad_constructor_input(kwargs, error, match):
    kwargs = {"x0": [0.1, 0.2, 0.3], **kwargs}
    with pytest.raises(error, match=match):
        GuidedES(kwargs.pop("x0"), **kwargs)


def test_points_belong_to_the_caller():
    es = GuidedES(np.ones(3), n_pairs=2, rng=0)
    points = es.ask()
    expected = points.copy()
    points[:] = 123.0                       # the caller may write into them
    assert_array_equal(es.ask(), expected)
    es.tell([sphere(p) for p in expected])
    assert np.all(np.abs(es.x) < 10)
