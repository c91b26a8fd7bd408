"""Checks of user input, each raising an error that names the argument,
the value received and what was expected."""

import numbers

import numpy as np
from scipy.optimize import Bounds

__all__ = ["check_x0", "check_bounds", "check_rng", "check_real",
           "check_int", "check_vector", "check_values"]


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_real(value, name, low=None, high=None, low_open=False,
               high_open=False):
    """A finite real number within [low, high] (ends open when asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_short(value)}")
    value = float(value)
    ok = np.isfinite(value)
    if low is not None:
        ok = ok and (value > low if low_open else value >= low)
    if high is not None:
        ok = ok and (value < high if high_open else value <= high)
    if not ok:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(
            f"{name} must be a finite number in {left}{lo}, {hi}{right}, "
            f"got {value!r}")
    return value


def check_int(value, name, low=None, high=None):
    """An integer within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_short(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            expected = f">= {low}"
        elif low is None:
            expected = f"<= {high}"
        else:
            expected = f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {expected}, got {value}")
    return value


def _real_array(value, name, expected):
    """`value` as a float array, refusing what float() would bend.

    NumPy turns the strings ``'1'`` into 1.0 and complex numbers into their
    real part (with only a ``ComplexWarning``); both are a TypeError here,
    naming `name`, the value and `expected`.
    """
    def refuse(what):
        return TypeError(f"{name} must be {expected}, got {what}: "
                         f"{_short(value)}")

    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):     # ragged nesting
        raise refuse("an object that is not an array of numbers") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise refuse("complex numbers")
    if kind in "USO":
        for index, item in enumerate(arr.ravel().tolist()):
            if isinstance(item, (str, bytes, complex, np.complexfloating,
                                 type(None))):
                where = "" if arr.ndim == 0 else f" at flat index {index}"
                raise refuse(f"{type(item).__name__} {_short(item, 20)}"
                             f"{where}")
    if kind not in "biufO":
        raise refuse(f"an array of dtype {arr.dtype}")
    try:
        return np.array(arr, dtype=float)
    except (TypeError, ValueError):
        raise refuse("entries that are not real numbers") from None


def check_x0(x0):
    """A finite 1-D float array (a copy)."""
    x = _real_array(x0, "x0", "a 1-D array of real numbers")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(
            f"x0 must be a non-empty 1-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be finite, got {_short(x0)}")
    return x


def check_vector(value, name, n):
    """A finite float array of shape (n,)."""
    v = _real_array(value, name, f"an array of shape ({n},) of real numbers")
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {v.shape}")
    if not np.isfinite(v).all():
        bad = np.flatnonzero(~np.isfinite(v))
        raise ValueError(
            f"{name} must be finite, got non-finite entries at indices "
            f"{bad[:5].tolist()}{'...' if bad.size > 5 else ''}")
    return v


def check_values(values, name, shape):
    """A float array of the given shape; NaN and infinite entries allowed.

    For function values, where NaN or inf mark a failed evaluation that the
    caller handles, but strings and complex numbers are mistakes.

    Parameters
    ----------
    values : array_like
    name : str
        Name of the argument, for error messages.
    shape : tuple of int
        The expected shape.

    Returns
    -------
    ndarray of float
        A new array (never a view of `values`).

    Raises
    ------
    TypeError
        If `values` holds anything but real numbers: complex numbers,
        strings (even ``'1.5'``), None.
    ValueError
        If its shape is not `shape`.
    """
    shape = tuple(shape)
    expected = ("an array of real numbers of shape "
                f"({', '.join(map(str, shape))}{',' if len(shape) == 1 else ''})")
    f = _real_array(values, name, expected)
    if f.shape != shape:
        raise ValueError(f"{name} must be {expected}, got shape {f.shape}")
    return f


def check_bounds(bounds, n):
    """Lower and upper bound arrays from any of scipy's forms.

    Accepts ``None``, a `scipy.optimize.Bounds`, or a sequence of ``n``
    ``(min, max)`` pairs in which ``None`` means unbounded. Returns
    ``None`` when no coordinate is bounded, else ``(lb, ub)``.
    """
    if bounds is None:
        return None
    if isinstance(bounds, Bounds):
        try:
            lb = np.broadcast_to(np.asarray(bounds.lb, dtype=float), (n,))
            ub = np.broadcast_to(np.asarray(bounds.ub, dtype=float), (n,))
        except ValueError:
            raise ValueError(
                f"bounds: Bounds.lb and Bounds.ub must broadcast to shape "
                f"({n},), got shapes {np.shape(bounds.lb)} and "
                f"{np.shape(bounds.ub)}") from None
        lb, ub = lb.copy(), ub.copy()
    else:
        try:
            pairs = list(bounds)
        except TypeError:
            raise TypeError(
                "bounds must be None, a scipy.optimize.Bounds or a sequence "
                f"of (min, max) pairs, got {_short(bounds)}") from None
        if len(pairs) != n:
            raise ValueError(
                f"bounds must have one (min, max) pair per coordinate: "
                f"expected {n} pairs, got {len(pairs)}")
        lb, ub = np.empty(n), np.empty(n)
        for i, pair in enumerate(pairs):
            try:
                lo, hi = pair
            except (TypeError, ValueError):
                raise ValueError(
                    f"bounds[{i}] must be a (min, max) pair, got "
                    f"{_short(pair)}") from None
            try:
                lb[i] = -np.inf if lo is None else float(lo)
                ub[i] = np.inf if hi is None else float(hi)
            except (TypeError, ValueError):
                raise TypeError(
                    f"bounds[{i}] must hold numbers or None, got "
                    f"{_short(pair)}") from None
    if np.any(np.isnan(lb)) or np.any(np.isnan(ub)):
        raise ValueError("bounds must not contain NaN")
    bad = np.flatnonzero(lb > ub)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"bounds: lower bound exceeds upper bound at index {i}: "
            f"{float(lb[i])!r} > {float(ub[i])!r}")
    if np.all(np.isneginf(lb)) and np.all(np.isposinf(ub)):
        return None
    return lb, ub


def check_rng(rng):
    """A ``numpy.random.Generator`` from anything `numpy.random.default_rng`
    accepts: None, an int or a sequence of ints, a SeedSequence, a
    BitGenerator or a Generator (returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, float, str, np.random.RandomState)):
        raise TypeError(
            "rng must be None, an int seed (or a sequence of them), a "
            f"SeedSequence or a numpy.random.Generator, got {_short(rng)}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            "rng must be None, an int seed (or a sequence of them), a "
            f"SeedSequence or a numpy.random.Generator, got {_short(rng)}: "
            f"{exc}") from None
