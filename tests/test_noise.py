"""The adaptive mode on noisy objectives: the estimate of the noise of f from
values measured twice at one point, and what the step rule does with it."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.special import expit

from ges_minimize import GuidedES, Status, minimize_guided_es


def noisy_sphere(n, noise, seed):
    """``|x - 1|^2 / 2`` plus Gaussian noise of standard deviation `noise`,
    the noise-free f, and a biased surrogate."""
    rng = np.random.default_rng([seed, 5])
    bias = rng.standard_normal(n)
    bias /= np.linalg.norm(bias)
    true = lambda x: 0.5 * float(np.sum((x - 1.0) ** 2))
    fun = lambda x: true(x) + noise * rng.standard_normal()
    surrogate = lambda x: (x - 1.0) + 0.5 * bias * np.linalg.norm(x - 1.0)
    return fun, true, surrogate, rng


def test_two_values_at_one_point_give_the_noise():
    es = GuidedES(np.zeros(3), rng=0)
    x, other = np.zeros(3), np.ones(3)
    es._note_exact(x, 1.0)
    es._note_exact(other, 5.0)
    assert es.noise == 0.0                  # no point measured twice yet
    es._note_exact(x, 1.2)
    assert es.noise == pytest.approx(np.sqrt(0.5 * 0.2 ** 2), rel=1e-12)
    es._note_exact(other, 5.0)              # equal values: a sample of zero
    assert es.noise == pytest.approx(np.sqrt(0.5 * 0.2 ** 2 / 2), rel=1e-12)
    es._note_exact(x, np.nan)               # a non-finite value is no sample
    assert len(es._noise_samples) == 2


def test_the_line_search_of_unjudged_steps_runs_on_discounted_sums():
    es = GuidedES(np.zeros(3), rng=0)
    es._eta = 1.0
    # slope -1, curvature 0.5 per unit step squared: the best step twice as
    # long (the largest change allowed)
    assert es._noisy_line_search(-1.0, 0.5) == 2.0
    assert es._noisy_ls == (1.0, 0.5)
    # curvature 4: the sums (0.9 * 1 + 1, 0.9 * 0.5 + 4) put the best step
    # at 1.9 / 4.45 of a unit step, halved at most
    assert es._noisy_line_search(-1.0, 4.0) == 0.5
    es._eta = 0.5
    s_slope, s_curvature = 0.9 * 1.9 + 0.5 / 0.5, 0.9 * 4.45 + 0.2 / 0.25
    assert es._noisy_line_search(-0.5, 0.2) == pytest.approx(
        s_slope / s_curvature / 0.5, rel=1e-12)
    es._noisy_ls = (1.0, -1.0)             # no curvature seen: longer
    assert es._noisy_line_search(-0.5, 0.0) == 2.0


def test_the_pairs_measure_the_curvature_and_correct_the_mean_of_their_values():
    # f = 1.5 |x|^2: every pair's second difference over |e|^2 is 3
    es = GuidedES(np.zeros(3), rng=0)
    f = lambda x: 1.5 * float(x @ x)
    x = np.array([0.3, -0.2, 0.1])
    e = np.array([[1.0, 0.0, 2.0], [0.0, -0.5, 0.0]])
    f_plus = np.array([f(x + r) for r in e])
    f_minus = np.array([f(x - r) for r in e])
    assert es._track_curvature(e, f_plus, f_minus, f(x), f(x)) == f(x)
    assert es._pair_curvature == pytest.approx(3.0, rel=1e-12)
    es._track_curvature(e, f_plus + [0.3, 0.0], f_minus, f(x), f(x))
    assert es._pair_curvature == pytest.approx(
        0.9 * 3.0 + 0.1 * (3.0 + 0.5 * 0.3 / 5.0), rel=1e-12)
    es._pair_curvature = 3.0
    # the centre not evaluated: the pairs' mean, less 3 / 2 of the mean |e|^2
    mean = float(np.mean(0.5 * (f_plus + f_minus)))
    assert es._track_curvature(e, f_plus, f_minus, None, mean) == pytest.approx(
        f(x), rel=1e-12)
    assert es._pair_curvature == 3.0


def test_a_deterministic_objective_has_no_noise():
    f = lambda x: 0.5 * float(np.sum((x - 1.0) ** 2))
    es = GuidedES(np.zeros(10), rng=0)
    for _ in range(300):
        es.add_surrogate_grad(es.x - 1.0 + 0.3)
        es.tell([f(p) for p in es.ask()])
    assert es._noise_samples and es.noise == 0.0   # measured twice, equal


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_noise_estimate_is_the_standard_deviation_of_one_value(seed):
    fun, _, surrogate, _ = noisy_sphere(20, 0.01, seed)
    es = GuidedES(np.zeros(20), rng=seed)
    for _ in range(400):
        es.add_surrogate_grad(surrogate(es.x))
        es.tell([fun(p) for p in es.ask()])
    assert len(es._noise_samples) == 10
    assert 0.005 < es.noise < 0.02


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_far_above_the_first_steps_is_no_false_convergence(seed):
    # noise of 10% of f(x0): pairs at the initial sigma do not resolve the
    # gradient. Without the noise estimate sigma collapsed and the run
    # stopped as converged near f(x0) on every seed here (the gap at 0.74
    # to 0.99 of the start); now sigma grows until the pairs resolve it
    # (measured: 0.03 to 0.11).
    fun, true, surrogate, _ = noisy_sphere(20, 1.0, seed)
    res = minimize_guided_es(fun, np.zeros(20), surrogate, maxfev=4000, rng=seed)
    assert true(res.x) < 0.25 * true(np.zeros(20))
    assert res.status != Status.CONVERGED or true(res.x) < 0.01 * true(np.zeros(20))


@pytest.mark.parametrize("seed", range(3))
def test_noise_in_proportion_to_f_is_followed_down_to_float_precision(seed):
    # multiplicative noise of 10%: the noise estimate shrinks with f, and so
    # do the thresholds it sets (the code before the estimate stopped as
    # converged near f(x0))
    _, true, surrogate, _ = noisy_sphere(50, 0.0, seed)
    rng = np.random.default_rng([seed, 9])
    f = lambda x: true(x) * (1 + 0.1 * rng.standard_normal())
    res = minimize_guided_es(f, np.zeros(50), surrogate, maxfev=10_000, rng=seed)
    assert true(res.x) < 1e-20 * true(np.zeros(50))


@pytest.mark.parametrize("noise, doublings", [(0.01, 20), (0.0, 10)])
def test_noise_alone_is_flat_after_twenty_doublings_of_sigma(noise, doublings):
    # a plateau is flat after 10 doublings; values that are noise only,
    # after 20 (the first steps, made before the noise was known, may have
    # shrunk sigma far below the scale the pairs need)
    rng = np.random.default_rng(0)
    f = lambda x: 1.0 + noise * rng.standard_normal()
    es = GuidedES(np.zeros(5), rng=0)
    sigmas = [es.sigma]
    while not es.converged and es.nit < 500:
        es.tell([f(p) for p in es.ask()])
        sigmas.append(es.sigma)
    assert es.converged == "flat" and es._flat_run == doublings
    assert sigmas[-1] == 2.0 ** doublings * sigmas[-doublings - 1]
    assert (es.noise > 0) == (noise > 0)


def test_scaling_a_noisy_f_by_a_power_of_two_repeats_the_run():
    def run(scale):
        fun, _, surrogate, _ = noisy_sphere(10, 0.01, 3)
        return minimize_guided_es(lambda x: scale * fun(x), np.zeros(10),
                                  lambda x: scale * surrogate(x), maxfev=2000,
                                  rng=4)

    ref, res = run(1.0), run(2.0 ** 10)
    assert_array_equal(res.x, ref.x)
    assert (res.nfev, res.status) == (ref.nfev, ref.status)


def test_resume_from_a_pickle_repeats_a_noisy_run():
    fun, _, surrogate, rng = noisy_sphere(10, 0.01, 6)
    es = GuidedES(np.zeros(10), rng=7)

    def advance(es, rng, iterations):
        for _ in range(iterations):
            es.add_surrogate_grad(es.x - 1.0)
            es.tell([0.5 * float(np.sum((p - 1.0) ** 2)) + 0.01 * rng.standard_normal()
                     for p in es.ask()])
        return es

    advance(es, rng, 150)
    assert es.noise > 0
    copy, copy_rng = pickle.loads(pickle.dumps((es, rng)))
    advance(es, rng, 100)
    advance(copy, copy_rng, 100)
    assert_array_equal(es.x, copy.x)
    assert (es.noise, es.sigma, es.nfev) == (copy.noise, copy.sigma, copy.nfev)


def test_a_pickle_from_before_the_noise_estimate_resumes_without_noise():
    es = GuidedES(np.zeros(3), rng=0)
    state = dict(es.__dict__)
    names = ("_exact_values", "_noise_samples", "_noise", "_noisy_ls",
             "_noise_sigma", "_pair_curvature")
    for name in names:
        del state[name]
    old = GuidedES.__new__(GuidedES)
    old.__setstate__(state)
    assert [getattr(old, name) for name in names] == [[], [], 0.0, (0.0, 0.0), 0.0, 0.0]
    assert old.noise == 0.0


def test_a_pickle_that_stored_the_noise_as_noise_resumes_with_it():
    es = GuidedES(np.zeros(3), rng=0)
    state = dict(es.__dict__)
    state["noise"] = state.pop("_noise") + 0.25
    del state["_value_exponent"]          # (added later still: unscaled)
    old = GuidedES.__new__(GuidedES)
    old.__setstate__(state)
    assert old.noise == 0.25 and old._value_exponent == 0


def test_error_in_tell_leaves_the_noise_estimate_unchanged():
    es = GuidedES(np.zeros(3), rng=0)
    f = lambda x: float(np.sum((x - 1.0) ** 2))
    es.tell([f(p) for p in es.ask()])
    before = (list(es._exact_values), list(es._noise_samples), es.noise)
    points = es.ask()
    with pytest.raises(FloatingPointError, match="overflowed"):
        es.tell([1e308, 1e308, -1e308, -1e308] + [0.0] * (len(points) - 4))
    assert es._noise_samples == before[1] and es.noise == before[2]
    assert len(es._exact_values) == len(before[0])
    for (x_a, f_a), (x_b, f_b) in zip(es._exact_values, before[0]):
        assert_array_equal(x_a, x_b) and f_a == f_b


def minibatch_logistic(batch, seed, n=10, rows=400):
    """A logistic regression whose f is the loss on `batch` rows drawn
    afresh at each call and whose surrogate is the gradient on another
    draw; also the full-data loss."""
    rng = np.random.default_rng([seed, 8])
    A = rng.standard_normal((rows, n))
    y = np.where(A @ rng.standard_normal(n) + rng.standard_normal(rows) > 0, 1.0, -1.0)
    draw = np.random.default_rng([seed, 9])

    def loss(x, i):
        return float(np.mean(np.logaddexp(0.0, -y[i] * (A[i] @ x))))

    def grad(x):
        i = draw.integers(0, rows, batch)
        return A[i].T @ (-y[i] * expit(-y[i] * (A[i] @ x))) / batch

    return (lambda x: loss(x, draw.integers(0, rows, batch)), grad,
            lambda x: loss(x, np.arange(rows)))


def test_a_noisy_run_returns_the_lower_of_its_last_and_best_centres():
    # minibatch losses (20 rows of 400): the centre drifts on noisy
    # comparisons (on some seeds far above the start), the best centre by
    # the estimates much less; each gets ten fresh values at the end,
    # counted within the budget, and res.x is one of the two with res.fun
    # the mean of its ten values
    gaps = []
    for seed in range(6):
        fun, grad, full = minibatch_logistic(20, seed)
        points, values = [], []

        def counted(x):
            points.append(x.copy())
            values.append(fun(x))
            return values[-1]

        res = minimize_guided_es(counted, np.zeros(10), grad, maxfev=3000, rng=seed)
        assert res.nfev == len(points) <= 3000
        # the last ten values are at one point (the best centre, or the last
        # centre alone when the two coincide); res.x is that point or the
        # point of the ten values before them
        assert all(np.array_equal(p, points[-1]) for p in points[-10:])
        first = len(points) - 10
        if not np.array_equal(res.x, points[-1]):
            first -= 10
            assert all(np.array_equal(p, res.x) for p in points[first:first + 10])
        assert res.fun == pytest.approx(np.mean(values[first:first + 10]), rel=1e-12)
        gaps.append(full(res.x) / full(np.zeros(10)))
    # most runs end far below the start, a few near or above it (the drift
    # of the noisy mode on small minibatches, which the final choice limits
    # without removing; how far a seed drifts depends on the rounding of the
    # machine's BLAS): the median is judged
    assert np.median(gaps) < 0.8


@pytest.mark.parametrize("seed", range(3))
def test_the_noisy_final_choice_keeps_the_last_centre_unless_clearly_worse(seed):
    # a noisy sphere converges far below its noise: the best centre by the
    # estimates is no clearly lower mean, and the last centre is kept; the
    # run ends with ten values at each of the two
    fun, true, surrogate, _ = noisy_sphere(10, 1e-3, seed)
    points, last = [], {}
    recorded = lambda x: points.append(x.copy()) or fun(x)

    def callback(intermediate_result):
        last["x"] = intermediate_result.x.copy()

    res = minimize_guided_es(recorded, np.zeros(10), surrogate, maxfev=4000,
                             rng=seed, callback=callback)
    assert_array_equal(res.x, last["x"])
    assert true(res.x) < 1e-6 * true(np.zeros(10))
    assert res.nfev == len(points)
    assert all(np.array_equal(p, res.x) for p in points[-20:-10])
    assert not any(np.array_equal(p, res.x) for p in points[-10:])
