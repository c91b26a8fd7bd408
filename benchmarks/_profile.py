"""Data profiles (Moré and Wild 2009) over the (problem, seed) pairs of the suite.

For a pair ``p`` with start value ``f0`` and reference ``fL``, a method
*solves* ``p`` to tolerance ``tau`` after the first recorded evaluation
count at which its value ``v`` satisfies ``v - fL <= tau (f0 - fL)``
(Moré and Wild's convergence test ``f(x0) - f(x) >= (1 - tau) (f(x0) -
fL)``). ``fL`` is the known ``f*`` where there is one, else the smallest
value any method recorded on that pair (their convention). The data profile
of a method is the fraction of the pairs it was run on that it solved
within ``kappa (n_p + 1)`` evaluations, as a function of ``kappa``.

References
----------
.. [1] J. J. Moré, S. M. Wild, "Benchmarking derivative-free optimization
   algorithms", SIAM J. Optim. 20(1), 172-191, 2009.
"""

import numpy as np

__all__ = ["solve_counts", "data_profile"]


def solve_counts(pairs, tau):
    """Evaluations each method needed to solve each pair (inf: never).

    Parameters
    ----------
    pairs : list of dict
        Each with ``n`` (dimension), ``f0`` (value at the start), ``fL``
        (reference value, or None to take the best recorded by any method)
        and ``traces`` (method label -> object with arrays ``evals`` and
        ``gap``, the recorded values, increasing ``evals``).
    tau : float
        Tolerance, a fraction of the initial gap.

    Returns
    -------
    dict
        method label -> list of ``(pair index, evaluations / (n + 1))``.
    """
    out = {}
    for i, pair in enumerate(pairs):
        fL = pair["fL"]
        if fL is None:
            fL = min(float(np.min(t.gap)) for t in pair["traces"].values())
        f0 = pair["f0"]
        if not f0 > fL:
            continue                  # nothing to gain: the pair is left out
        level = fL + tau * (f0 - fL)
        for label, t in pair["traces"].items():
            hit = np.flatnonzero(np.asarray(t.gap) <= level)
            need = t.evals[hit[0]] / (pair["n"] + 1) if hit.size else np.inf
            out.setdefault(label, []).append((i, float(need)))
    return out


def data_profile(pairs, taus, kappas):
    """Fraction of pairs solved within ``kappa (n + 1)`` evaluations.

    Parameters
    ----------
    pairs : list of dict
        As for `solve_counts`.
    taus : sequence of float
    kappas : array_like
        Budgets in units of ``n + 1`` evaluations.

    Returns
    -------
    profiles : dict
        method label -> array of shape ``(len(taus), len(kappas))``.
    counts : dict
        method label -> number of pairs the method was run on.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace as T
    >>> pairs = [dict(n=1, f0=1.0, fL=0.0, traces={
    ...     "a": T(evals=np.array([0, 2, 4]), gap=np.array([1.0, 0.05, 1e-4]))})]
    >>> prof, counts = data_profile(pairs, [1e-1, 1e-3], [1, 2])
    >>> prof["a"].tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    kappas = np.asarray(kappas, dtype=float)
    profiles, counts = {}, {}
    for j, tau in enumerate(taus):
        for label, needs in solve_counts(pairs, tau).items():
            need = np.array([v for _, v in needs])
            prof = profiles.setdefault(label, np.zeros((len(taus), kappas.size)))
            prof[j] = (need[:, None] <= kappas[None, :]).mean(axis=0)
            counts[label] = need.size
    return profiles, counts
