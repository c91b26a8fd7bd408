"""Checks of user input: complex numbers and strings are refused, not bent.

NumPy turns ``'1'`` into 1.0 and ``1 + 2j`` into 1.0 (with only a
``ComplexWarning``); every check here must refuse both with a TypeError
naming the argument and the value, and accept every real input unchanged.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import minimize

from ges_minimize import GuidedES, minimize_guided_es
from ges_minimize._evaluate import as_scalar
from ges_minimize._validation import check_values, check_vector, check_x0


def quad(x):
    return float(np.sum(x ** 2))


NOT_REAL = [
    ([1j, 0.0, 0.0], "complex numbers"),
    (np.array([1.0, 0.0, 0.0], dtype=complex), "complex numbers"),
    (np.array([1.0, 2.0, 3.0], dtype=np.complex64), "complex numbers"),
    (["1", "2", "3"], "str '1' at flat index 0"),
    (np.array(["1.5", "2", "3"]), "str '1.5' at flat index 0"),
    ([b"1", b"2", b"3"], "bytes b'1' at flat index 0"),
    ([1.0, "2", 3.0], "str '1.0' at flat index 0"),   # numpy makes all str
    (np.array([1.0, 2j, 3.0], dtype=object), "complex 2j at flat index 1"),
    ([1.0, None, 3.0], "NoneType None at flat index 1"),
    ("123", "str '123'"),
    (np.array(["2020-01-01"] * 3, dtype="M8[D]"), "an array of dtype datetime64[D]"),
]


@pytest.mark.parametrize("value, what", NOT_REAL)
def test_x0_refuses_what_is_not_real(value, what):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no ComplexWarning either
        with pytest.raises(TypeError, match=r"x0 must be a 1-D array of real "
                           r"numbers, got " + _escape(what)):
            check_x0(value)


@pytest.mark.parametrize("value, what", NOT_REAL)
def test_vectors_refuse_what_is_not_real(value, what):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match=r"surrogate_grad must be an array "
                           r"of shape \(3,\) of real numbers, got "
                           + _escape(what)):
            check_vector(value, "surrogate_grad", 3)


@pytest.mark.parametrize("value, what", NOT_REAL)
def test_values_refuse_what_is_not_real(value, what):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match=r"values must be an array of real "
                           r"numbers of shape \(3,\), got " + _escape(what)):
            check_values(value, "values", (3,))


def _escape(text):
    import re
    return re.escape(text)


@pytest.mark.parametrize("value", [
    [1, 2, 3], [1.5, -2.0, 0.0], np.arange(3), np.arange(3, dtype=np.int8),
    np.float32([0.5, 1.5, 2.5]), [True, False, True],
    [Fraction(1, 2), 1, 2.0], np.array([1, 2, 3], dtype=object),
])
def test_real_input_is_accepted_as_float(value):
    expected = np.array([float(v) for v in np.asarray(value).tolist()])
    for out in (check_x0(value), check_vector(value, "g", 3),
                check_values(value, "values", (3,))):
        assert out.dtype == float
        np.testing.assert_array_equal(out, expected)


def test_checks_return_copies():
    value = np.array([1.0, 2.0, 3.0])
    for out in (check_x0(value), check_vector(value, "g", 3),
                check_values(value, "values", (3,))):
        out[0] = 99.0
    assert value[0] == 1.0


def test_values_keep_nan_and_inf_and_check_the_shape():
    out = check_values([np.nan, np.inf, -np.inf, 1.0], "values", (4,))
    np.testing.assert_array_equal(out, [np.nan, np.inf, -np.inf, 1.0])
    with pytest.raises(ValueError, match=r"values must be an array of real "
                       r"numbers of shape \(4,\), got shape \(3,\)"):
        check_values([1.0, 2.0, 3.0], "values", (4,))
    with pytest.raises(ValueError, match=r"of shape \(2, 2\), got shape \(4,\)"):
        check_values([1.0, 2.0, 3.0, 4.0], "values", (2, 2))
    with pytest.raises(TypeError, match="got an object that is not an array"):
        check_values([[1.0], [1.0, 2.0]], "values", (2,))


# -- through the public API ------------------------------------------------------

@pytest.mark.parametrize("x0", [np.array([1.0 + 0j, 2.0]), [1j, 2.0],
                                ["1", "2"]])
def test_minimize_refuses_complex_or_string_x0(x0):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="x0 must be a 1-D array of real"):
            minimize_guided_es(quad, x0, maxiter=2, rng=0)
        # scipy.optimize.minimize hands a list over as a complex array.
        with pytest.raises(TypeError, match="x0 must be a 1-D array of real"):
            minimize(quad, x0, method=minimize_guided_es,
                     options={"maxiter": 2, "rng": 0})
        with pytest.raises(TypeError, match="x0 must be a 1-D array of real"):
            GuidedES(x0)


def test_complex_surrogate_gradient_is_refused_and_state_kept():
    es = GuidedES(np.zeros(3), n_pairs=2, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match=r"surrogate_grad must be .* got "
                           r"complex numbers"):
            es.add_surrogate_grad(np.array([1.0, 2.0, 3.0]) + 1j)
        with pytest.raises(TypeError, match=r"surrogate_grad must be .* got "
                           r"complex numbers"):
            minimize_guided_es(quad, np.zeros(3), lambda x: x + 0j,
                               maxiter=2, rng=0)
    twin = GuidedES(np.zeros(3), n_pairs=2, rng=0)
    np.testing.assert_array_equal(es.ask(), twin.ask())


@pytest.mark.parametrize("values, what", [
    (["1", "2", "3", "4"], "str '1'"),
    ([1j, 0.0, 0.0, 0.0], "complex numbers"),
])
def test_tell_refuses_strings_and_complex_values(values, what):
    es = GuidedES(np.zeros(3), n_pairs=2, rng=0)
    points = es.ask()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="values must be .*" + what):
            es.tell(values)
    np.testing.assert_array_equal(es.ask(), points)   # nothing was told
    assert es.nit == 0


@pytest.mark.parametrize("value, error, match", [
    ("0.5", TypeError, r"str: '0.5' \(x = \[0. 1.\]\)"),
    (1 + 2j, TypeError, r"complex: \(1\+2j\)"),
    (np.complex128(1.0), TypeError, "complex128"),
    (None, TypeError, "NoneType: None"),
    (np.array(["1"]), TypeError, "ndarray of dtype <U1"),
    (np.ones(2), ValueError, r"ndarray of shape \(2,\)"),
])
def test_fun_returning_a_non_real_names_fun_and_the_point(value, error, match):
    with pytest.raises(error, match="fun must return a real scalar at point 3 "
                       "of the batch, got " + match):
        as_scalar(value, 3, np.array([0.0, 1.0]))


def test_fun_returning_reals_of_any_kind():
    for value, expected in [(1, 1.0), (np.float32(0.5), 0.5), (True, 1.0),
                            (np.array([2.5]), 2.5), (Fraction(1, 4), 0.25)]:
        out = as_scalar(value)
        assert type(out) is float and out == expected
    assert np.isnan(as_scalar(np.nan))


def test_minimize_names_fun_returning_a_string():
    with pytest.raises(TypeError, match=r"fun must return a real scalar at "
                       r"point 0 of the batch, got str: '0.5' \(x = "):
        minimize_guided_es(lambda x: "0.5", np.zeros(3), maxiter=2, rng=0)
