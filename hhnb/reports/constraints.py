"""The constraints notebook's report: m_hh templates after the network cut, chi2 and pyhf scans of kappa_lambda,
the 68 % and 95 % CL intervals beside the published ones, and the likelihood with the systematic variations
(``hhnb.studies.systematics``): the interval in three rows (statistics only, + MC statistics, + all
systematics) and the impact ranking. ``hhnb demo`` ends with ``ConstraintsReport.combined_with_systematics()``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import analyses as config_mod
from hhnb.config.training import HyperParameters
from hhnb.errors import UserArgumentError
from hhnb.io import artifacts
from hhnb.nn import apply
from hhnb.nn.training import train
from hhnb.studies import background as cr_background
from hhnb.studies import basis, constraints
from hhnb.studies import constraint_inputs as inputs
from hhnb.studies import systematics as syst_lh  # the name ``systematics`` is make()'s list of f values
from hhnb.toy import ondemand


@dataclass
class NetworkScorer:
    """p_sig of one saved network trained at ``kl`` (loaded on first use): a scorer of
    :mod:`hhnb.studies.constraint_inputs`."""

    models_dir: Path
    analysis: str
    kl: float
    parameterised: bool = False
    _model: Any = field(default=None, repr=False)

    def __call__(self, frame: pd.DataFrame, kl: float | None = None) -> np.ndarray:
        """p_sig of every event; for a k-fold set each event is scored by the network blind to its fold."""
        if self._model is None:
            self._model = apply.network(layout.card_path(self.models_dir, self.analysis, self.kl))
        return apply.score_events(self._model, frame)[self._model.branches[0]]


def ensure_network(analysis: str, kl: float, data_dir: Path, models_dir: Path, epochs: int | None = None,
                   max_events: int | None = 2000, seed: int = 1) -> bool:
    """Train the network at ``kl`` when its scores are missing (one train/test split, ``epochs`` epochs; None: the
    training default); True if it trained."""
    if layout.scores_path(models_dir, analysis, kl).exists():
        return False
    train(analysis, kl, data_dir=data_dir, models_dir=models_dir, seed=seed, max_events=max_events, generate=True,
          folds=1, hyper=HyperParameters.scaled(None, epochs=epochs))
    return True


@dataclass(frozen=True)
class ConstraintsReport:
    """Templates per (network kl, category); scans per (network kl, f, category or 'combined'); interval tables."""

    analyses: tuple[str, ...]
    networks: tuple[float, ...]
    templates: dict[tuple[float, str], constraints.Templates]
    chi2: dict[tuple[float, float, str], constraints.Scan]
    pyhf: dict[tuple[float, float, str], constraints.Scan]
    notes: tuple[str, ...]  # what was trained or generated on demand, which bins were merged
    #: per network kl: the categories' templates with their variations (empty when systematics=False)
    varied: dict[float, tuple[Any, ...]] = field(default_factory=dict)
    #: per (network kl, level of syst_lh.LEVELS): scans of each category and the combination
    levels: dict[tuple[float, str], list[constraints.Scan]] = field(default_factory=dict)
    #: per network kl: the impacts on the fitted kl (Asimov data at kl = 1)
    impacts: dict[float, syst_lh.Impacts] = field(default_factory=dict)
    #: per network kl: the scans with all systematics and the background from control regions (the headline)
    levels_cr: dict[float, list[constraints.Scan]] = field(default_factory=dict)
    #: per network kl: the impacts with the background from control regions
    impacts_cr: dict[float, syst_lh.Impacts] = field(default_factory=dict)

    @property
    def groups(self) -> list[str]:
        return [*self.analyses, "combined"]

    def intervals(self, method: str = "chi2", cl: float = constraints.CLS[0], f: float = 0.0) -> pd.DataFrame:
        """The interval table of one method at one CL, laid out like the published one (published beside at 68 %)."""
        scans = self.chi2 if method == "chi2" else self.pyhf
        ivs = {(f"kl = {net:g}", c): scans[(net, f, c)].interval(cl) for net in self.networks for c in self.groups
               if (net, f, c) in scans}
        published = {f"kl = {k:g}": v for k, v in constraints.PUBLISHED.items()} if cl < 0.9 else None
        return constraints.interval_table(ivs, published)

    def template_table(self) -> pd.DataFrame:
        """One row per (network, category, m_hh bin): background yield, its simulated events, the SM signal yield."""
        rows = []
        for (net, name), t in self.templates.items():
            signal = t.signal_at(1.0)[0]
            for i, label in enumerate(t.bin_labels()):
                rows.append({"network kl": net, "category": name, "m_hh bin [GeV]": label,
                             "background": round(float(t.background[i]), 1), "background MC events": int(t.background_mc[i]),
                             "SM signal": round(float(signal[i]), 2)})
        return pd.DataFrame(rows)

    def merged_bins(self) -> list[str]:
        """The notes that say which empty-background bins were merged into a neighbour."""
        return [note for note in self.notes if "merged" in note]

    def systematics_table(self, net: float | None = None, cl: float = constraints.CLS[0]) -> pd.DataFrame:
        """The interval per category and combined in three rows (statistics only, + MC statistics, + all
        systematics) with the simulated background, and a fourth with all systematics and the background from
        control regions (``CR_ROW``), for network ``net`` (default the first); the paper's combined [-0.8, 6.6]
        (f = 0.3 %) beside."""
        net = self.networks[0] if net is None else net
        rows = {f"{name}, MC bkg": self.levels[(net, name)] for name, _, _ in syst_lh.LEVELS
                if (net, name) in self.levels}
        if net in self.levels_cr:
            rows[CR_ROW] = self.levels_cr[net]
        return syst_lh.interval_rows(rows, cl)

    def impact_table(self, net: float | None = None, top: int | None = None, digits: int = 3,
                     background: str = "cr") -> pd.DataFrame:
        """Nuisance parameters ranked by their impact on the fitted kl (post-fit +- 1 sigma, others profiled), with
        the background from control regions (``background="cr"``, when built) or from simulation (``"mc"``)."""
        net = self.networks[0] if net is None else net
        source = self.impacts_cr if background == "cr" and net in self.impacts_cr else self.impacts
        t = source[net].table
        return (t if top is None else t.head(top)).round(digits)

    def combined_with_systematics(self, net: float | None = None, cl: float = constraints.CLS[0]) -> str:
        """One line: the combined interval with all systematics, and without them (what ``hhnb demo`` prints)."""
        net = self.networks[0] if net is None else net
        if (net, syst_lh.ALL) not in self.levels:
            raise UserArgumentError(f"no scans with systematics for the network at kl = {net:g}: "
                                    "make(..., with_systematics=True)")
        full = self.levels[(net, syst_lh.ALL)][-1].interval(cl)
        stat = self.levels[(net, syst_lh.LEVELS[0][0])][-1].interval(cl)
        lo, hi = constraints.PUBLISHED_COMBINED_F003
        head = f"kappa_lambda {100 * cl:.0f} % CL, combined, network kl = {net:g}, with all systematics: "
        mc = f"{full} with the simulated background ({stat} statistics only)"
        if net in self.levels_cr:
            mc = f"{self.levels_cr[net][-1].interval(cl)} with the background from control regions; {mc}"
        return f"{head}{mc}; published [{lo:g}, {hi:g}] with f = 0.3 %"

    def by_systematic(self, net: float | None = None, cl: float = constraints.CLS[0]) -> pd.DataFrame:
        """The combined chi2 interval for each background systematic f (network ``net``, default the first)."""
        net = self.networks[0] if net is None else net
        fs = sorted({f for (n, f, c) in self.chi2 if n == net and c == "combined"})
        return pd.DataFrame({"f": [f"{100 * f:g} %" for f in fs],
                             "interval": [str(self.chi2[(net, f, "combined")].interval(cl)) for f in fs]})


#: the headline row of the systematics table: all systematics, the background estimated from control regions
CR_ROW = "+ all systematics, bkg from CRs"


def make(analyses: Sequence[str] = ("resolved", "intermediate", "boosted"), networks: Sequence[float] = (1.0, 5.0),
         config: str | Path | None = None, data_dir: str | Path | None = None, models_dir: str | Path | None = None,
         basis_points: Sequence[float] = basis.DEFAULT_BASIS, basis_events: int = 2000, cut: float = constraints.CUT,
         systematics: Sequence[float] = constraints.SYSTEMATICS, pyhf_systematics: Sequence[float] = (0.0,),
         points: int = 201, pyhf_points: int = 201, empty_bins: str = "merge", train_epochs: int | None = None,
         train_max_events: int = 2000, with_systematics: bool = False, log: Callable[[str], None] = print
         ) -> ConstraintsReport:
    """Build the templates of every (network, category), scan kappa_lambda over [-20, 20] with chi2 and pyhf.

    A network that is missing is trained (``train_epochs``; None: the training default) and ``log`` says so; a
    basis sample that is missing is generated (``basis_events`` per sample), said on stdout. pyhf scans use
    ``pyhf_points`` points (each one profile fit of the combination, ``constraints.category_scans``), chi2 ``points``.

    ``with_systematics`` (off by default: the summary and decorrelation reports call this in loops): also the
    templates of every systematic variation of the analyses (each variation's
    events scored by the network, ``constraint_inputs.varied_templates``), the three-level scans with
    ``pyhf_points`` points and the impacts (``hhnb.studies.systematics``).
    """
    data, models = layout.data_dir(data_dir), layout.models_dir(models_dir)
    notes: list[str] = []
    templates: dict[tuple[float, str], constraints.Templates] = {}
    frames: dict[tuple[float, str], pd.DataFrame] = {}
    for net in networks:
        for name in analyses:
            ana = config_mod.analysis(name, config)
            if ensure_network(name, net, data, models, epochs=train_epochs, max_events=train_max_events):
                notes.append(f"trained the missing {name} network at kl = {net:g} "
                             f"({train_epochs or HyperParameters.epochs} epochs, "
                             f"at most {train_max_events} events per sample)")
                log(notes[-1])
            scorer = NetworkScorer(models, name, net)
            bkg = inputs.background(artifacts.read_scores(models, name, net))
            for kl in basis_points:  # toy analyses: the basis samples that are missing (one line each on stdout)
                ondemand.generate_missing(ana, kl, data, events=basis_events)
            sig = inputs.signal_samples(ana, basis_points, data, trained_on=[net])
            t = inputs.templates_at(ana, scorer, net, bkg, sig, basis_points, cut=cut, empty=empty_bins)
            templates[(net, name)] = t
            frames[(net, name)] = bkg
            if t.merged:
                notes.append(f"kl = {net:g} {name}: merged empty background bins {', '.join(t.merged)}")
    kl_chi2, kl_pyhf = np.linspace(-20, 20, points), np.linspace(-20, 20, pyhf_points)
    chi2: dict[tuple[float, float, str], constraints.Scan] = {}
    pyhf: dict[tuple[float, float, str], constraints.Scan] = {}
    for net in networks:
        cats = [templates[(net, a)] for a in analyses]
        for f in systematics:
            for t in cats:
                chi2[(net, f, t.category)] = constraints.chi2_scan([t], kl_chi2, f=f)
            chi2[(net, f, "combined")] = constraints.chi2_scan(cats, kl_chi2, f=f, name="combined")
        for f in pyhf_systematics:
            for scan in constraints.category_scans(cats, kl_pyhf, f=f, combined="combined"):
                pyhf[(net, f, scan.category)] = scan
    varied: dict[float, tuple[Any, ...]] = {}
    levels: dict[tuple[float, str], list[constraints.Scan]] = {}
    impacts: dict[float, syst_lh.Impacts] = {}
    levels_cr: dict[float, list[constraints.Scan]] = {}
    impacts_cr: dict[float, syst_lh.Impacts] = {}
    if with_systematics:
        for net in networks:
            vs, vs_cr = [], []
            for name in analyses:
                ana = config_mod.analysis(name, config)
                v = inputs.varied_templates(ana, NetworkScorer(models, name, net), net, data, cut=cut,
                                            basis=basis_points, trained_on=[net])
                vs.append(syst_lh.merge_empty(v, empty_bins))
                crt = cr_background.cr_templates(templates[(net, name)], frames[(net, name)], cut=cut)
                v_cr = syst_lh.with_cr_background(syst_lh.rebin_to(v, crt.mc.edges), crt.estimated,
                                                  crt.estimated_var, crt.nonclosure)
                vs_cr.append(syst_lh.merge_empty(v_cr, empty_bins))
            varied[net] = tuple(vs)
            model = syst_lh.CompiledModel.from_spec(syst_lh.workspace_spec(vs))
            for name, _, _ in syst_lh.LEVELS:
                levels[(net, name)] = syst_lh.level_scans(vs, kl_pyhf, name, model=model)
            impacts[net] = syst_lh.impacts(model)
            model_cr = syst_lh.CompiledModel.from_spec(syst_lh.workspace_spec(vs_cr))
            levels_cr[net] = [replace(scan, method=f"pyhf, {CR_ROW}")
                              for scan in syst_lh.level_scans(vs_cr, kl_pyhf, syst_lh.ALL, model=model_cr)]
            impacts_cr[net] = syst_lh.impacts(model_cr)
    return ConstraintsReport(tuple(analyses), tuple(float(n) for n in networks), templates, chi2, pyhf, tuple(notes),
                             varied, levels, impacts, levels_cr, impacts_cr)
