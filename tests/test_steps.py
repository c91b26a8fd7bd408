"""Step rules: exact first updates, convergence with exact gradients, errors."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import rosen, rosen_der

from ges_minimize import SGD, Adam, Momentum, make_step


def _descend(rule, grad, x0, steps):
    x, state = np.asarray(x0, float), rule.init(np.asarray(x0, float))
    for _ in range(steps):
        delta, state = rule.update(grad(x), state)
        x = x + delta
    return x


def test_sgd_update_is_minus_lr_g():
    delta, _ = SGD(0.3).update(np.array([1.0, -2.0]), SGD(0.3).init(np.zeros(2)))
    assert_allclose(delta, [-0.3, 0.6])


def test_momentum_accumulates_velocity():
    rule = Momentum(0.1, mass=0.9)
    state = rule.init(np.zeros(1))
    deltas = []
    for _ in range(3):
        delta, state = rule.update(np.array([1.0]), state)
        deltas.append(delta[0])
    assert_allclose(deltas, [-0.1, -0.19, -0.271])


def test_adam_matches_hand_computation():
    rule = Adam(0.1, b1=0.5, b2=0.75, eps=1e-300)
    state = rule.init(np.zeros(1))
    _, state = rule.update(np.array([2.0]), state)
    delta, state = rule.update(np.array([-1.0]), state)
    mu = 0.5 * (0.5 * 2.0) + 0.5 * -1.0          # 0
    nu = 0.75 * (0.25 * 4.0) + 0.25 * 1.0         # 1.0
    expected = -0.1 * (mu / (1 - 0.25)) / np.sqrt(nu / (1 - 0.5625))
    assert_allclose(delta, [expected], atol=1e-15)
    assert state.count == 2


def test_adam_warmup_scales_its_first_updates_only():
    rng = np.random.default_rng(0)
    gradients = rng.normal(size=(8, 3))
    plain, warm = Adam(0.1), Adam(0.1, warmup=4)
    s_plain, s_warm = plain.init(np.zeros(3)), warm.init(np.zeros(3))
    for k, g in enumerate(gradients, start=1):
        d_plain, s_plain = plain.update(g, s_plain)
        d_warm, s_warm = warm.update(g, s_warm)
        assert_allclose(d_warm, d_plain * min(1.0, k / 4), rtol=1e-15)
        assert_array_equal(s_warm.mu, s_plain.mu)       # the moments are Adam's
    assert_array_equal(d_warm, d_plain)                 # full size from update 4 on
    assert repr(warm) == "Adam(learning_rate=0.1, b1=0.9, b2=0.999, eps=1e-08, warmup=4)"
    assert repr(plain) == "Adam(learning_rate=0.1, b1=0.9, b2=0.999, eps=1e-08)"


def test_adam_pickled_without_warmup_loads_as_no_warmup():
    rule = Adam(0.1)
    del rule.__dict__["warmup"]           # as pickled before the parameter existed
    old = pickle.loads(pickle.dumps(rule))
    assert old.warmup == 0
    g = np.ones(2)
    assert_array_equal(old.update(g, old.init(g))[0], Adam(0.1).update(g, old.init(g))[0])


@pytest.mark.parametrize("rule, steps", [(SGD(0.2), 200), (Momentum(0.05), 300),
                                         (Adam(0.05), 1000)])
def test_rules_converge_on_parabola(rule, steps):
    c = np.array([1.0, -2.0, 3.0])
    x = _descend(rule, lambda x: 2.0 * (x - c), np.zeros(3), steps)
    assert_allclose(x, c, atol=1e-3)


@pytest.mark.parametrize("rule, steps", [(SGD(1e-3), 40_000),
                                         (Momentum(2e-4), 10_000),
                                         (Adam(2e-3), 10_000)])
def test_rules_converge_on_rosenbrock(rule, steps):
    x = _descend(rule, rosen_der, np.array([-1.2, 1.0]), steps)
    assert rosen(x) < 1e-4
    assert_allclose(x, [1.0, 1.0], atol=2e-2)


def test_make_step_names_and_defaults():
    assert make_step("sgd").learning_rate == 0.2
    assert make_step("SGD", 0.5).learning_rate == 0.5
    assert isinstance(make_step("momentum"), Momentum)
    assert isinstance(make_step("adam"), Adam)


class _Halving:
    def init(self, x):
        return 0

    def update(self, g, state):
        return -0.5 * g, state + 1


def test_custom_rule_object_is_accepted():
    rule = _Halving()
    assert make_step(rule) is rule


def test_rules_and_states_pickle():
    rule = Adam(0.1)
    state = rule.init(np.zeros(3))
    _, state = rule.update(np.ones(3), state)
    rule2, state2 = pickle.loads(pickle.dumps((rule, state)))
    d1, _ = rule.update(np.ones(3), state)
    d2, _ = rule2.update(np.ones(3), state2)
    np.testing.assert_array_equal(d1, d2)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(step="newton"), ValueError, "step must be one of"),
    (dict(step=42), TypeError, r"init\(x\) and update"),
    (dict(step="sgd", learning_rate=0.0), ValueError, "learning_rate"),
    (dict(step="adam", learning_rate=-1.0), ValueError, "learning_rate"),
    (dict(step="sgd", learning_rate=np.nan), ValueError, "learning_rate"),
    (dict(step="sgd", learning_rate="big"), TypeError, "learning_rate"),
    (dict(step=_Halving(), learning_rate=0.1), ValueError, "learning_rate"),
])
def test_make_step_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_step(**kwargs)


@pytest.mark.parametrize("make, error, match", [
    (lambda: Momentum(0.1, mass=1.0), ValueError,
     r"mass must be a finite number in \[0, 1\), got 1.0"),
    (lambda: Momentum(0.1, mass=-0.1), ValueError, r"mass .* got -0.1"),
    (lambda: Momentum(0.1, mass=np.nan), ValueError, r"mass .* got nan"),
    (lambda: Adam(0.1, b2=1.5), ValueError,
     r"b2 must be a finite number in \[0, 1\), got 1.5"),
    (lambda: Adam(0.1, b1=1.0), ValueError, r"b1 must be .* got 1.0"),
    (lambda: Adam(0.1, warmup=-1), ValueError, "warmup must be an integer >= 0, got -1"),
    (lambda: Adam(0.1, warmup=2.5), TypeError, "warmup must be an integer, got 2.5"),
    # Not numbers: a TypeError naming the parameter, not a failed comparison.
    (lambda: Momentum(mass="x"), TypeError,
     "mass must be a real number, got 'x'"),
    (lambda: Adam(b1="x"), TypeError, "b1 must be a real number, got 'x'"),
    (lambda: Adam(b2=None), TypeError, "b2 must be a real number, got None"),
    (lambda: Adam(b1=0.5 + 0j), TypeError, "b1 must be a real number"),
    (lambda: Momentum(mass=True), TypeError, "mass must be a real number"),
])
def test_bad_rule_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_rule_parameters_accept_numpy_and_integer_reals():
    assert Momentum(0.1, mass=np.float32(0.5)).mass == 0.5
    assert Momentum(0.1, mass=0).mass == 0.0
    rule = Adam(0.1, b1=np.float64(0.8), b2=0)
    assert (rule.b1, rule.b2) == (0.8, 0.0)
    assert type(rule.b1) is float and type(rule.b2) is float
