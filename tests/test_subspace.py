"""The optimizer's incremental guiding buffer against the direct QR basis."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose

from ges_minimize import subspace_basis
from ges_minimize._subspace import GuideBuffer


def _projector(U):
    return U @ U.T


def _pushed(vectors, maxlen):
    buf = GuideBuffer(vectors.shape[1], maxlen)
    for v in vectors:
        buf.push(v)
    return buf


@pytest.mark.parametrize("n, k, pushes", [(30, 1, 4), (30, 4, 3), (30, 4, 11), (200, 10, 25)])
def test_span_is_that_of_the_k_latest(n, k, pushes):
    rng = np.random.default_rng(n + k + pushes)
    vectors = rng.standard_normal((pushes, n)) * rng.uniform(0.1, 10, (pushes, 1))
    buf = _pushed(vectors, k)
    latest = vectors[-k:].T
    assert buf.size == min(k, pushes) and buf.rank == min(k, pushes)
    U = buf.basis()
    assert_allclose(U.T @ U, np.eye(U.shape[1]), atol=1e-12)
    assert_allclose(_projector(U), _projector(subspace_basis(latest)), atol=1e-10)


def test_implicit_operations_match_the_explicit_basis():
    rng = np.random.default_rng(1)
    buf = _pushed(rng.standard_normal((7, 50)), 5)
    U = buf._rows[:5].T @ buf._coef      # the basis the operations imply
    assert_allclose(U.T @ U, np.eye(5), atol=1e-12)
    z = rng.standard_normal((3, 5))
    out = rng.standard_normal((3, 50))
    expected = out + z @ U.T
    buf.add_combination(out, z)
    assert_allclose(out, expected, atol=1e-12)
    assert_allclose(buf.project(out), out @ U, atol=1e-12)


def test_collinear_and_nearly_collinear_directions():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 40))
    # exact multiples add nothing; a 1e-6 relative change is below the
    # rank tolerance (singular value ratio 1e-4); 1e-2 is kept
    assert _pushed(np.array([a, 3 * a, -a]), 4).rank == 1
    assert _pushed(np.array([a, a + 1e-6 * b]), 4).rank == 1
    buf = _pushed(np.array([a, a + 1e-2 * b]), 4)
    assert buf.rank == 2
    assert_allclose(_projector(buf.basis()),
                    _projector(subspace_basis(np.column_stack([a, b]))), atol=1e-8)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_extreme_magnitudes(scale):
    rng = np.random.default_rng(3)
    buf = _pushed(scale * rng.standard_normal((3, 10)), 3)
    assert buf.rank == 3
    assert np.isfinite(buf.basis()).all()


def test_pickles_and_keeps_updating_alike():
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((9, 20))
    buf = _pushed(vectors[:5], 3)
    copy = pickle.loads(pickle.dumps(buf))
    for v in vectors[5:]:
        buf.push(v)
        copy.push(v)
    np.testing.assert_array_equal(buf.basis(), copy.basis())


def test_basis_is_the_same_whether_read_after_each_push_or_after_several():
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((8, 30))
    eager, lazy = GuideBuffer(30, 4), GuideBuffer(30, 4)
    for v in vectors:
        eager.push(v)
        eager.rank                       # C computed after every push
        lazy.push(v)                     # C computed once, when read
    np.testing.assert_array_equal(eager._coef, lazy._coef)
    np.testing.assert_array_equal(eager.basis(), lazy.basis())


def test_a_buffer_pickled_with_its_coefficients_stored_loads():
    rng = np.random.default_rng(6)
    buf = _pushed(rng.standard_normal((5, 12)), 3)
    buf.rank                             # C up to date, as it always was then
    state = dict(buf.__dict__)
    state["_coef"] = state.pop("_coef_now")      # the earlier layout
    state.pop("_stale", None)
    old = GuideBuffer.__new__(GuideBuffer)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.basis(), buf.basis())
