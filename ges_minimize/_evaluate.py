"""Evaluation of the objective at a batch of points."""

import numpy as np

__all__ = ["evaluate_batch", "as_scalar"]


def as_scalar(value, index=None):
    """The float in a value returned by ``fun``, or a clear error."""
    where = "" if index is None else f" at point {index} of the batch"
    try:
        arr = np.asarray(value)
    except Exception:  # pragma: no cover - exotic objects
        arr = None
    if arr is None or arr.dtype.kind not in "biuf" or arr.size != 1:
        shape = getattr(arr, "shape", None)
        raise ValueError(
            f"fun must return a real scalar{where}, got {type(value).__name__}"
            f"{'' if shape in (None, ()) else f' of shape {shape}'}: "
            f"{value!r:.80}")
    return float(arr.reshape(()))


def _note(exc, text):
    if hasattr(exc, "add_note"):
        exc.add_note(text)


def evaluate_batch(fun, points, args=()):
    """``fun(p, *args)`` for each row ``p`` of `points`, serially.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``.
    points : ndarray, shape (S, n)
    args : tuple

    Returns
    -------
    values : ndarray, shape (S,)

    Raises
    ------
    ValueError
        If `fun` returns something other than a real scalar.
    Exception
        Whatever `fun` raises, unchanged but for a note naming the point.
    """
    values = np.empty(len(points))
    for i, point in enumerate(points):
        try:
            value = fun(point, *args)
        except Exception as exc:
            _note(exc, f"raised by fun at point {i} of the batch: "
                       f"{np.array2string(point, threshold=8)}")
            raise
        values[i] = as_scalar(value, i)
    return values


class BatchEvaluator:
    """Evaluates ``fun`` at batches of points; one object per run.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``.
    args : tuple
        Extra arguments of `fun`.
    n_jobs : int or None
        Number of parallel workers (not implemented yet: only ``None`` and
        ``1``, which evaluate serially).
    vectorized : bool
        Not implemented yet; must be False.

    Use as a context manager; calling it with an array of shape (S, n)
    returns the S values.
    """

    def __init__(self, fun, args=(), *, n_jobs=None, vectorized=False):
        if n_jobs not in (None, 1) or vectorized:
            raise NotImplementedError("parallel and vectorized evaluation")
        self.fun = fun
        self.args = args

    def __call__(self, points):
        return evaluate_batch(self.fun, points, self.args)

    def close(self):
        """Release workers (nothing to release when serial)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
