"""Tests for ges_minimize.problems: gradients, optima, seeding, surrogate statistics."""
import pickle
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from ges_minimize.problems import PerturbedQuadratic, Rosenbrock, Sphere

# Small instances, cheap enough to build in every test.
SMALL = [
    lambda seed=0: PerturbedQuadratic(n=20, m=40, seed=seed),
    lambda seed=0: Rosenbrock(n=10, seed=seed),
    lambda seed=0: Sphere(n=10, seed=seed),
]
SMALL_IDS = ["quadratic", "rosenbrock", "sphere"]

N_CALLS = 200  # surrogate draws for the statistical tests


# The full-size fixtures run BLAS on one thread: on a busy machine a
# multi-threaded OpenBLAS spin-waits and is ~10x slower at these sizes.
@pytest.fixture(scope="module")
def paper():
    """The paper's default instance: n=1000, m=2000, bias 1, noise 1.5."""
    with threadpool_limits(limits=1, user_api="blas"):
        return PerturbedQuadratic()


@pytest.fixture(scope="module")
def surrogates_at_x0(paper):
    paper.reset_noise()
    with threadpool_limits(limits=1, user_api="blas"):
        s = np.array([paper.surrogate_grad(paper.x0) for _ in range(N_CALLS)])
    paper.reset_noise()
    return s


def central_diff(f, x, h):
    """Central finite-difference gradient, one coordinate at a time."""
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("make", SMALL, ids=SMALL_IDS)
def test_grad_matches_central_difference(make):
    # Central differences are exact for quadratics up to round-off
    # (~eps*|f|/h = 1e-11); for Rosenbrock on [-1.5, 1.5]^n the truncation
    # error h^2/6 |f'''| is below 1e-7 at h = 1e-5, against |grad| ~ 1e2.
    p = make()
    x = np.random.default_rng(42).uniform(-1.5, 1.5, p.n)
    assert_allclose(central_diff(p.fun, x, 1e-5), p.grad(x),
                    rtol=1e-6, atol=1e-6)


def test_grad_directional_derivatives_full_size(paper):
    # At n=1000 a full finite difference costs 2000 evaluations; three
    # random directional derivatives check the same thing.
    rng = np.random.default_rng(1)
    x = rng.standard_normal(paper.n) / np.sqrt(paper.n)
    g = paper.grad(x)
    for _ in range(3):
        v = rng.standard_normal(paper.n)
        h = 1e-4
        fd = (paper.fun(x + h * v) - paper.fun(x - h * v)) / (2 * h)
        assert_allclose(fd, g @ v, rtol=1e-6)


# ---------------------------------------------------------------- optimum

@pytest.mark.parametrize("make", SMALL, ids=SMALL_IDS)
def test_optimum_small(make):
    p = make()
    assert abs(p.fun(p.x_star) - p.f_star) < 1e-10
    assert np.linalg.norm(p.grad(p.x_star)) < 1e-10
    assert p.fun(p.x0) > p.f_star + 1e-3


def test_optimum_paper(paper):
    assert abs(paper.fun(paper.x_star) - paper.f_star) < 1e-10
    assert np.linalg.norm(paper.grad(paper.x_star)) < 1e-10
    # f_star is the least-squares residual: m > n, so it is well above 0.
    assert 0.1 < paper.f_star < paper.fun(paper.x0)
    assert_array_equal(paper.x0, np.zeros(1000))
    assert paper.A.shape == (2000, 1000) and paper.b.shape == (2000,)


def test_rosenbrock_and_sphere_known_values():
    r = Rosenbrock(n=4)
    assert_array_equal(r.x0, [-1.2, 1.0, -1.2, 1.0])
    assert_array_equal(r.x_star, np.ones(4))
    assert r.f_star == 0.0
    assert r.fun(r.x0) == pytest.approx(24.2 + 484.0 + 24.2)
    s = Sphere(n=5)
    assert s.fun(s.x0) == pytest.approx(0.5 * s.c @ s.c)
    assert_array_equal(s.x_star, s.c)


def test_rosenbrock_needs_two_dimensions():
    with pytest.raises(ValueError, match="n >= 2"):
        Rosenbrock(n=1)


# ---------------------------------------------------------------- seeding

def test_documented_draw_order():
    p = PerturbedQuadratic(n=6, m=9, seed=3)
    rng = np.random.default_rng(3)
    assert_array_equal(p.A, rng.standard_normal((9, 6)))
    assert_array_equal(p.b, rng.standard_normal(9))
    v = rng.standard_normal(6)
    assert_array_equal(p.bias, v / np.linalg.norm(v))
    assert np.linalg.norm(p.bias) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("make", SMALL, ids=SMALL_IDS)
def test_same_seed_same_problem_and_surrogates(make):
    p, q = make(seed=7), make(seed=7)
    assert_array_equal(p.bias, q.bias)
    if isinstance(p, PerturbedQuadratic):
        assert_array_equal(p.A, q.A)
        assert_array_equal(p.b, q.b)
    x = p.x0
    seq_p = [p.surrogate_grad(x) for _ in range(5)]
    seq_q = [q.surrogate_grad(x) for _ in range(5)]
    assert_array_equal(seq_p, seq_q)
    # Fresh noise at every call: consecutive surrogates differ.
    assert not np.array_equal(seq_p[0], seq_p[1])
    # reset_noise restarts the stream.
    p.reset_noise()
    assert_array_equal([p.surrogate_grad(x) for _ in range(5)], seq_p)


@pytest.mark.parametrize("make", SMALL, ids=SMALL_IDS)
def test_different_seeds_differ(make):
    p, q = make(seed=0), make(seed=1)
    assert not np.allclose(p.bias, q.bias)
    assert not np.allclose(p.surrogate_grad(p.x0), q.surrogate_grad(q.x0))
    if isinstance(p, PerturbedQuadratic):
        assert not np.allclose(p.A, q.A)


def test_seed_none_is_recorded_and_repeatable():
    p = Sphere(n=4, seed=None)
    q = Sphere(n=4, seed=p.seed)
    assert_array_equal(p.c, q.c)
    assert_array_equal(p.surrogate_grad(p.x0), q.surrogate_grad(q.x0))


# ---------------------------------------------------------------- surrogate statistics

def test_mean_cosine_paper_defaults(paper, surrogates_at_x0):
    # With unit vectors gh = grad/|grad|, bias and noise u nearly orthogonal
    # in n = 1000 dimensions, cos ~ 1/sqrt(1 + 1 + 1.5^2) = 0.4851.
    # Derived tolerance: linearising cos in gh.bias ~ N(0, 1/n), the FIXED
    # bias of one seed shifts the mean by sd 0.485 * (1 - 1/4.25)/sqrt(n)
    # = 0.012, which averaging over calls does not remove; the fresh noise
    # adds sd ~0.018/sqrt(200) = 0.0013.  0.04 is about 3.4 sd.
    x = paper.x0
    g = paper.grad(x)
    cos = surrogates_at_x0 @ g / (
        np.linalg.norm(surrogates_at_x0, axis=1) * np.linalg.norm(g))
    assert paper.cosine(surrogates_at_x0[0], x) == pytest.approx(cos[0])
    assert abs(cos.mean() - 1 / np.sqrt(4.25)) < 0.04
    # Given this seed's gh.bias, the expected cosine is known to O(1/n);
    # only the noise remains, so the tolerance is ~5 sd of the mean.
    gb = g @ paper.bias / np.linalg.norm(g)
    expected = (1 + gb) / np.sqrt(1 + 1 + 1.5**2 + 2 * gb)
    assert abs(cos.mean() - expected) < 0.006


def test_surrogate_noise_has_zero_mean(paper, surrogates_at_x0):
    g = paper.grad(paper.x0)
    gnorm = np.linalg.norm(g)
    # Per call: (s - g)/|g| - bias_scale*bias is noise_scale times a unit vector.
    noise = (surrogates_at_x0 - g) / gnorm - paper.bias_scale * paper.bias
    assert_allclose(np.linalg.norm(noise, axis=1), paper.noise_scale,
                    rtol=1e-10)
    # Mean over N calls: each coordinate has sd noise_scale/sqrt(n N), so the
    # mean's norm is noise_scale/sqrt(N) = 0.106 to within ~2% (chi, n dof);
    # a biased or repeated noise would give a much larger norm.
    mean = noise.mean(axis=0)
    assert np.linalg.norm(mean) == pytest.approx(1.5 / np.sqrt(N_CALLS),
                                                 rel=0.15)
    # Its components along bias and along grad: sd 1.5/sqrt(n N) = 0.0034.
    assert abs(mean @ paper.bias) < 0.015
    assert abs(mean @ g / gnorm) < 0.015
    # Hence mean(surrogate - grad) ~ bias_scale * bias * |grad|.
    mean_diff = (surrogates_at_x0 - g).mean(axis=0)
    assert (mean_diff @ paper.bias) / gnorm == pytest.approx(1.0, abs=0.015)


def test_surrogate_scales_with_options():
    p = Sphere(n=50, bias_scale=0.0, noise_scale=0.0)
    assert_array_equal(p.surrogate_grad(p.x0), p.grad(p.x0))
    p = Sphere(n=50, bias_scale=2.0, noise_scale=0.0)
    g = p.grad(p.x0)
    assert_allclose(p.surrogate_grad(p.x0), g + 2 * p.bias * np.linalg.norm(g))
    # At the minimiser the surrogate vanishes with the gradient.
    assert_array_equal(p.surrogate_grad(p.x_star), np.zeros(50))


def test_cosine():
    p = Sphere(n=3)
    x = p.x0
    g = p.grad(x)
    assert p.cosine(g, x) == pytest.approx(1.0)
    assert p.cosine(-3 * g, x) == pytest.approx(-1.0)
    assert p.cosine(np.cross(g, p.bias), x) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(p.cosine(g, p.x_star))


# ---------------------------------------------------------------- interface

@pytest.mark.parametrize("make", SMALL, ids=SMALL_IDS)
def test_pickle_round_trip(make):
    p = make()
    x = np.random.default_rng(5).standard_normal(p.n)
    p.surrogate_grad(x)                      # advance the noise stream
    q = pickle.loads(pickle.dumps(p))
    assert q.fun(x) == p.fun(x)
    assert_array_equal(q.grad(x), p.grad(x))
    # The copy carries the noise state: both continue identically.
    assert_array_equal(q.surrogate_grad(x), p.surrogate_grad(x))


@pytest.mark.parametrize("make", SMALL, ids=SMALL_IDS)
def test_fun_returns_python_float_and_accepts_lists(make):
    p = make()
    value = p.fun(list(p.x0))
    assert type(value) is float
    assert value == p.fun(p.x0)


@pytest.mark.parametrize("make", SMALL, ids=SMALL_IDS)
@pytest.mark.parametrize("shape", [(3,), (11, 1), (), (1, 10)])
def test_wrong_shape_raises(make, shape):
    p = make()
    x = np.zeros(shape)
    msg = rf"x has shape {re.escape(str(shape))}, expected shape \({p.n},\)"
    for method in (p.fun, p.grad, p.surrogate_grad):
        with pytest.raises(ValueError, match=msg):
            method(x)
    with pytest.raises(ValueError, match=r"v has shape"):
        p.cosine(x, p.x0)
