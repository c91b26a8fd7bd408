"""The guiding buffer of `GuidedES`, with its basis kept up to date incrementally.

`subspace_basis` recomputes a pivoted QR of the whole ``n x k`` buffer,
``O(n k^2)`` operations with level-2 BLAS, at every new gradient: at
``n = 10^6`` and ``k = 10`` that alone costs about twice as much as drawing the
iteration's random numbers. The optimizer instead keeps

- the buffer as ``k`` unit rows in a ring (a new gradient overwrites the
  oldest row in place: no stacking, no renormalising the others),
- their Gram matrix ``M = G G^T`` (``k x k``), of which only the new row and
  column change, at the cost of one ``k x n`` matrix-vector product,
- a ``k x r`` matrix ``C`` from the eigendecomposition ``M = V diag(lam) V^T``:
  ``C = V_r diag(lam_r)^(-1/2)`` over the ``r`` eigenvalues above
  ``RANK_TOL * lam_max``, so that ``U = G^T C`` has orthonormal columns and
  spans the buffer.

``U`` is never formed: a combination of its columns is ``(z C^T) G`` and a
projection on it ``(v G^T) C``, each one ``O(n k)`` product per row. A new
gradient therefore costs ``O(n k)`` instead of ``O(n k^2)``. ``C`` is
recomputed only when next used, so that the two directions pushed between
two iterations (a surrogate gradient and the method's own estimate) cost one
eigendecomposition, not two.

Accuracy. Working from the Gram matrix squares the buffer's condition
number: ``U^T U = I`` holds to about ``1e-16 lam_max / lam_min`` (at most about
``1e-8`` at the rank tolerance), which is immaterial for sampling; `basis`
re-orthonormalises when asked for ``U`` explicitly. A direction whose singular
value is below ``sqrt(RANK_TOL) = 1e-4`` times the largest is treated as
dependent (the pivoted QR of `subspace_basis` keeps directions down to about
``n * 1e-16``; the Gram matrix cannot resolve them).
"""

import math

import numpy as np
from scipy.linalg.blas import dgemm

__all__ = ["GuideBuffer"]

#: Eigenvalues of the Gram matrix below this fraction of the largest are
#: treated as zero: singular values below 1e-4 of the largest.
RANK_TOL = 1e-8


def prescaled(g):
    """``g`` and its norm; where the square of the norm would underflow or
    overflow, ``g`` is first divided by a power of two near its largest
    entry (exact, so that ``g / norm`` is the unit vector an ordinary size
    would give). ``g != 0``."""
    with np.errstate(over="ignore", under="ignore"):
        norm = float(np.linalg.norm(g))
    if not 1e-150 < norm < 1e150:
        g = np.ldexp(g, -math.frexp(float(np.max(np.abs(g))))[1])
        norm = float(np.linalg.norm(g))
    return g, norm


def _unit_into(g, out):
    """Write ``g / |g|`` into `out` without overflow or underflow; g != 0."""
    g, norm = prescaled(g)
    np.multiply(g, 1.0 / norm, out=out)


class GuideBuffer:
    """The ``maxlen`` most recent guiding directions and a basis of their span.

    Parameters
    ----------
    n : int
        Dimension.
    maxlen : int
        Number ``k`` of directions kept.

    Attributes
    ----------
    size : int
        Directions held (at most `maxlen`).
    rank : int
        Dimension ``r`` of their span.
    """

    #: Whether `_coef` is out of date (a direction was pushed since).
    _stale = False

    def __init__(self, n, maxlen):
        self.n = n
        self.maxlen = maxlen
        self._rows = np.empty((maxlen, n))
        self._gram = np.zeros((maxlen, maxlen))
        self._coef_now = np.zeros((0, 0))
        self._next = 0
        self.size = 0

    def __setstate__(self, state):
        if "_coef" in state:            # pickled before C was made lazy
            state["_coef_now"] = state.pop("_coef")
        self.__dict__.update(state)

    @property
    def rank(self):
        return self._coef.shape[1]

    @property
    def _coef(self):
        """``C`` (m x r), from the eigendecomposition of the Gram matrix."""
        if self._stale:
            lam, vec = np.linalg.eigh(self._gram[:self.size, :self.size])
            keep = lam > RANK_TOL * lam[-1]
            self._coef_now = vec[:, keep] / np.sqrt(lam[keep])
            self._stale = False
        return self._coef_now

    def push(self, g):
        """Add a finite, non-zero direction ``g`` (shape ``(n,)``), dropping
        the oldest once `maxlen` are held."""
        slot = self._next
        row = self._rows[slot]
        _unit_into(g, row)
        self._next = (slot + 1) % self.maxlen
        self.size = m = min(self.size + 1, self.maxlen)
        if m == 1:
            self._gram[slot, slot] = 1.0
            self._coef_now = np.ones((1, 1))
            self._stale = False
            return
        dots = self._rows[:m] @ row
        dots[slot] = 1.0
        self._gram[slot, :m] = dots
        self._gram[:m, slot] = dots
        self._stale = True

    def add_combination(self, out, z):
        """``out += z @ U^T`` in place, for `out` (P, n) C-contiguous and
        `z` (P, r)."""
        weights = z @ self._coef.T                      # (P, m)
        m = weights.shape[1]
        # out^T (n x P, Fortran order) += G^T (n x m) @ weights^T, in place
        res = dgemm(1.0, self._rows[:m].T, weights.T, beta=1.0, c=out.T,
                    overwrite_c=True)
        if not np.shares_memory(res, out):   # BLAS made a copy: write back
            out[...] = res.T

    def rows(self):
        """The unit directions held, shape (size, n) (a view)."""
        return self._rows[:self.size]

    def project(self, v):
        """``v @ U``, shape (P, r), for `v` of shape (P, n)."""
        return (v @ self._rows[:self._coef.shape[0]].T) @ self._coef

    def basis(self):
        """``U`` (n x r) with orthonormal columns spanning the directions."""
        U = self._rows[:self._coef.shape[0]].T @ self._coef
        if U.shape[1] > 1:
            U, R = np.linalg.qr(U)      # exact orthonormality, same span
            U *= np.sign(np.diag(R))    # and columns close to G^T C
        return U
