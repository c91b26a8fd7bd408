"""The optimal mixing alpha* of Guided ES over (rho, k/n) and (rho, P).

Drawn at build time by the matplotlib plot directive from
`ges_minimize.theory.optimal_hyperparameters`; the dashed lines are the two
phase boundaries rho^2 = k/n and rho^2 = (k + 2(P+1)) / (n + 2(P+1)).
"""

import matplotlib.pyplot as plt
import numpy as np

from ges_minimize import optimal_hyperparameters

N = 100
RHO = np.linspace(0.0, 1.0, 201)


def alpha_star(n, k, P):
    return optimal_hyperparameters(RHO, n, k, P).alpha


fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.6),
                                  constrained_layout=True)
levels = np.linspace(0.0, 1.0, 11)

# Left: alpha* against rho and the subspace fraction k / n, one pair.
ks = np.arange(1, N)
grid = np.array([alpha_star(N, int(k), 1) for k in ks])
image = left.contourf(RHO, ks / N, grid, levels=levels, cmap="viridis")
left.plot(np.sqrt(ks / N), ks / N, "w--", lw=1.2)
left.plot(np.sqrt((ks + 4) / (N + 4)), ks / N, "w:", lw=1.2)
left.set_xlabel(r"correlation $\rho = |U^\top \nabla f| / |\nabla f|$")
left.set_ylabel(r"subspace fraction $k / n$")
left.set_title(rf"$n = {N}$, $P = 1$")
for ax in (left, right):
    ax.text(0.04, 0.9, r"$\alpha^* = 1$: vanilla ES", color="k",
            transform=ax.transAxes)
    ax.text(0.96, 0.06, r"$\alpha^* = 0$: subspace only", color="w",
            ha="right", transform=ax.transAxes)

# Right: alpha* against rho and the number of pairs P, k = 1.
pairs = np.unique(np.round(np.logspace(0, 3, 60)).astype(int))
grid = np.array([alpha_star(N, 1, int(P)) for P in pairs])
right.contourf(RHO, np.log10(pairs) / 3, grid, levels=levels, cmap="viridis")
right.plot(np.sqrt((1 + 2 * (pairs + 1)) / (N + 2 * (pairs + 1))),
           np.log10(pairs) / 3, "w:", lw=1.2)
right.axvline(np.sqrt(1 / N), color="w", ls="--", lw=1.2)
right.set_yticks(np.log10([1, 10, 100, 1000]) / 3, ["1", "10", "100", "1000"])
right.set_xlabel(r"correlation $\rho$")
right.set_ylabel(r"antithetic pairs $P$")
right.set_title(rf"$n = {N}$, $k = 1$")

fig.colorbar(image, ax=[left, right], label=r"optimal $\alpha^*$")
