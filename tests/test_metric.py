"""The metric learnt from curvature (``metric='full'``)."""

import pickle

import numpy as np
import pytest

from ges_minimize import GuidedES, minimize_guided_es
from ges_minimize import _metric
from ges_minimize._metric import METRIC_MAX_DIM, Metric


def rotated_quadratic(n, cond, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    H = (Q * np.geomspace(1.0, cond, n)) @ Q.T
    x_star = rng.standard_normal(n)

    def f(x):
        d = x - x_star
        return 0.5 * float(d @ H @ d)

    return f, H, x_star


def run(es, f, iterations, surrogate=None):
    for _ in range(iterations):
        if surrogate is not None:
            es.add_surrogate_grad(surrogate(es.x))
        points = es.ask()
        es.tell([f(p) for p in points])
    return es


@pytest.mark.parametrize("kwargs, expected", [
    (dict(), "full"),
    (dict(metric="auto"), "full"),
    (dict(metric="none"), "none"),
    (dict(step="sgd"), "none"),
    (dict(bounds=[(-5, 5)] * 10), "none"),
])
def test_auto_resolves_to_full_only_for_the_adaptive_unbounded_step(kwargs, expected):
    es = GuidedES(np.zeros(10), rng=0, **kwargs)
    assert es.metric == expected
    assert (es._metric is not None) == (expected == "full")


def test_auto_is_none_above_the_largest_dimension():
    assert GuidedES(np.zeros(METRIC_MAX_DIM), rng=0).metric == "full"
    assert GuidedES(np.zeros(METRIC_MAX_DIM + 1), rng=0).metric == "none"


def test_auto_is_none_where_there_is_nothing_to_learn():
    assert GuidedES(np.zeros(1), rng=0).metric == "none"
    assert GuidedES(np.zeros(5), n_pairs=1, rng=0).metric == "none"


def test_more_pairs_than_dimensions_learn_from_the_first_n():
    f, H, _ = rotated_quadratic(3, 100.0, 6)
    es = run(GuidedES(np.zeros(3), n_pairs=5, rng=6), f, 200)
    assert es._metric.n_updates > 0
    assert np.linalg.cond(es._metric.A.T @ H @ es._metric.A) < 20


@pytest.mark.parametrize("kwargs, match", [
    (dict(metric="diagonal"), r"metric must be 'auto', 'full' or 'none', got 'diagonal'"),
    (dict(metric=True), r"metric must be .* got True"),
    (dict(metric="full", step="sgd"), r"metric='full' needs step='auto' and no bounds, got step='sgd'"),
    (dict(metric="full", bounds=[(-1, 1)] * 3), r"bounds given"),
])
def test_bad_metric_is_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GuidedES(np.zeros(3), rng=0, **kwargs)


def test_full_metric_evaluates_the_centre_at_every_iteration():
    f, _, _ = rotated_quadratic(8, 10.0, 0)
    es = GuidedES(np.zeros(8), rng=0)
    for i in range(5):
        points = es.ask()
        assert points.shape == (2 * es.n_pairs + 1, 8)
        np.testing.assert_array_equal(points[-1], es.x)
        es.tell([f(p) for p in points])
    assert es.nfev == 5 * (2 * es.n_pairs + 1)
    es = GuidedES(np.zeros(8), rng=0, metric="none")
    run(es, f, 1)
    assert es.ask().shape == (2 * es.n_pairs, 8)   # no step taken back


def test_metric_learns_the_inverse_hessian():
    f, H, _ = rotated_quadratic(20, 1e3, 1)
    es = run(GuidedES(np.zeros(20), rng=1), f, 1500)
    A = es._metric.A
    assert abs(np.linalg.det(A) - 1.0) < 1e-6
    np.testing.assert_allclose(A @ es._metric.A_inv, np.eye(20), atol=1e-8)
    assert np.linalg.cond(A.T @ H @ A) < 1e3 / 20


def test_metric_beats_no_metric_on_an_ill_conditioned_quadratic():
    f, H, x_star = rotated_quadratic(20, 1e4, 2)
    gaps = {}
    for metric in ("full", "none"):
        res = minimize_guided_es(f, np.zeros(20), lambda x: H @ (x - x_star),
                                 maxfev=4000, rng=2, metric=metric)
        gaps[metric] = res.fun
    assert gaps["full"] < 0.1 * gaps["none"]


def test_metric_update_ignores_curvature_it_cannot_trust():
    metric = Metric(3)
    e = np.array([[0.1, 0.0, 0.0], [0.0, 0.1, 0.0]])
    # negative curvature along the second pair: nothing learnt
    assert not metric.update(e, np.array([1.02, 0.99]), np.array([1.02, 0.99]), 1.0)
    # differences below the values' precision: nothing learnt
    assert not metric.update(e, np.array([1.0, 1.0]), np.array([1.0, 1.0]), 1.0)
    # second differences (0.04 and 0.01) not above the noise given: nothing
    assert not metric.update(e, np.array([1.02, 1.005]), np.array([1.02, 1.005]),
                             1.0, noise=0.02)
    np.testing.assert_array_equal(metric.A, np.eye(3))
    assert metric.n_updates == 0
    # curvature 4 along e_1 and 1 along e_2: e_1 shrinks, e_2 grows, det 1
    assert metric.update(e, np.array([1.02, 1.005]), np.array([1.02, 1.005]), 1.0)
    q = 4.0 ** (-0.5 * _metric.METRIC_RATE / 2)
    np.testing.assert_allclose(np.diag(metric.A), [q, 1 / q, 1.0])
    np.testing.assert_allclose(metric.A @ metric.A_inv, np.eye(3), atol=1e-14)


def test_step_curvature_stretches_along_the_step_at_determinant_one():
    metric = Metric(3)
    e = np.array([[0.1, 0.0, 0.0], [0.0, 0.1, 0.0]])
    f = np.array([1.005, 1.005])             # curvature 1 along both pairs
    delta = np.array([0.0, 0.0, 2.0])
    assert metric.update(e, f, f, 1.0, step=(delta, 4.0 * 4.0))   # curvature 4
    qs = 4.0 ** (-0.5 * _metric.METRIC_STEP_RATE)
    c = qs ** (-1.0 / 3.0)
    np.testing.assert_allclose(metric.A, np.diag([c, c, c * qs]), atol=1e-14)
    np.testing.assert_allclose(metric.A_inv, np.diag([1 / c, 1 / c, 1 / (c * qs)]),
                               atol=1e-14)
    assert abs(np.linalg.det(metric.A) - 1.0) < 1e-14


def test_metric_condition_is_capped():
    metric = Metric(2)
    e = np.array([[1.0, 0.0], [0.0, 1.0]])
    for _ in range(200):
        metric.update(e, np.array([1e6, 1.0]), np.array([1e6, 1.0]), 0.0)
    bound = np.linalg.norm(metric.A) * np.linalg.norm(metric.A_inv) / 2
    assert bound <= _metric.METRIC_MAX_COND
    assert np.linalg.cond(metric.A) > 100


def test_resume_from_a_pickle_is_exact_with_a_metric():
    f, H, x_star = rotated_quadratic(12, 100.0, 3)
    grad = lambda x: H @ (x - x_star) + 0.3
    es = run(GuidedES(np.zeros(12), rng=3), f, 40, grad)
    copy = pickle.loads(pickle.dumps(es))
    run(es, f, 60, grad)
    run(copy, f, 60, grad)
    np.testing.assert_array_equal(es.x, copy.x)
    np.testing.assert_array_equal(es._metric.A, copy._metric.A)
    assert es.nfev == copy.nfev


def test_an_error_in_tell_leaves_the_metric_as_it_was(monkeypatch):
    f, _, _ = rotated_quadratic(6, 100.0, 4)
    es = run(GuidedES(np.zeros(6), rng=4), f, 30)
    before = es._metric.A.copy(), es._metric.n_updates, es.x, es.nfev

    def broken(self, *args, **kwargs):
        self.A = np.zeros_like(self.A)
        self.n_updates += 1
        raise RuntimeError("interrupted")

    monkeypatch.setattr(Metric, "update", broken)
    points = es.ask()
    with pytest.raises(RuntimeError, match="interrupted"):
        es.tell([f(p) for p in points])
    np.testing.assert_array_equal(es._metric.A, before[0])
    assert es._metric.n_updates == before[1]
    np.testing.assert_array_equal(es.x, before[2])
    assert es.nfev == before[3]


def test_metric_run_is_invariant_to_a_scaling_of_f():
    # powers of two scale every floating-point operation exactly: a method
    # that uses only ratios of values repeats its run bit for bit
    f, H, x_star = rotated_quadratic(15, 1e3, 5)
    grad = lambda x: H @ (x - x_star)
    runs = [minimize_guided_es(lambda x: a * f(x), np.zeros(15),
                               lambda x: a * grad(x), maxfev=800, rng=5)
            for a in (1.0, 2.0 ** 10, 2.0 ** -10)]
    for res in runs[1:]:
        np.testing.assert_array_equal(res.x, runs[0].x)
        assert res.nfev == runs[0].nfev and res.nit == runs[0].nit
