"""The parameterised network against the dedicated per-lambda networks: AUC and significance vs kappa_lambda."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hhnb.plots.style import figure, label


def versus_lambda(table: pd.DataFrame, names: tuple[str, str] = ("dedicated", "parameterised"),
                  lumi: float | None = None):
    """Two panels (weighted AUC, quoted Z) against kappa_lambda with bootstrap error bars.

    ``table``: rows of :func:`hhnb.studies.comparison.compare` with a ``lambda`` column and a
    ``held out`` flag (held-out lambdas drawn with open markers: there the dedicated network is the nearest one).
    """
    fig, axes = figure(1, 2, figsize=(13, 5.5))
    held = table["held out"].to_numpy(bool) if "held out" in table else np.zeros(len(table), bool)
    for ax, what, unit in zip(axes, ("AUC", "Z"), ("Weighted AUC (quote-on events)",
                                                   r"Maximum significance $Z_{A}$ (quoted) [$\sigma$]")):
        for j, (name, marker) in enumerate(zip(names, ("o", "s"))):
            for part, face in ((~held, None), (held, "none")):
                if not part.any():
                    continue
                shift = (j - 0.5) * 0.15
                ax.errorbar(table["lambda"].to_numpy()[part] + shift, table[f"{what} {name}"].to_numpy()[part],
                            yerr=table[f"{what} {name} error"].to_numpy()[part], ls="none", marker=marker,
                            color=f"C{j}", mfc=face,
                            label=name + ("" if not face else " at a held-out lambda" if j else
                                          " (nearest network) at a held-out lambda"))
        ax.set_xlabel(r"$\kappa_\lambda$")
        ax.set_ylabel(unit)
        ax.margins(x=0.06, y=0.15)
        ax.legend(loc="best", fontsize="small")
    label(axes[0], lumi)
    fig.tight_layout()
    return fig
