"""The single owner of every on-disk name, branch name and plot label of hhnb.

Everything else asks this module: the project folder and its sub-folders, model /
card / scores files, run folders, executed notebook copies, the run record and the
Optuna study, the score branches (built here and parsed back here), the default
tree name and the experiment label on every plot.

Paths live under the *project folder*: ``$HHNB_HOME`` when set, else the nearest
parent of the current directory that holds ``notebooks/`` and ``pyproject.toml``
(a checkout), else the current directory. Never the installed package.

Two later features are foreseen: k-fold networks (``fold=k`` gives per-fold model
names) and a network parameterised in kappa_lambda (``kl=PARAM`` gives the tag
``param`` instead of a number).
"""

from __future__ import annotations

import importlib.resources
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hhnb.config import lambdas as _lambdas
from hhnb.errors import UserArgumentError

#: Tree name of the toy ntuples and the default of ``--tree`` options.
DEFAULT_TREE = "preselection"
#: Centre-of-mass energy of the HL-LHC in TeV (docs/physics.md section 1).
ENERGY_TEV = 14.0
#: Tag of a network parameterised in kappa_lambda (one network for all lambdas).
PARAM = "param"
#: Name of the extra (last) input of a parameterised network: kappa_lambda, in its card and ONNX metadata.
PARAM_INPUT = "kappa_lambda"

_SCORE_PREFIX = "nnscore_"
_SCORE_RE = re.compile(r"^nnscore_(?P<analysis>.+)_SlfCoup_(?P<tag>[^_]+)_(?P<output>[A-Za-z0-9]+)$")


# -- the project folder ---------------------------------------------------------------------------------

def project_dir(start: str | Path | None = None) -> Path:
    """The hhnb project folder: $HHNB_HOME, else the nearest checkout above the cwd, else the cwd."""
    env = os.environ.get("HHNB_HOME")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "notebooks").is_dir() and (p / "pyproject.toml").is_file():
            return p
    return here


def resolve(path: str | Path | None, default: str) -> Path:
    """A user path as given (relative to the cwd), or ``<project>/<default>`` when None or empty."""
    if path is None or str(path) == "":
        return project_dir() / default
    return Path(path).expanduser().resolve()


def data_dir(path: str | Path | None = None) -> Path:
    """``<project>/data``: the toy ntuples (or ``path`` when given)."""
    return resolve(path, "data")


def models_dir(path: str | Path | None = None) -> Path:
    """``<project>/models``: networks, cards and scores (or ``path`` when given)."""
    return resolve(path, "models")


def comparison_models_dir(path: str | Path | None = None) -> Path:
    """``<project>/models/param_comparison``: the networks of the parameterised-vs-dedicated notebook."""
    return resolve(path, "models/param_comparison")


def decorrelation_models_dir(setting: str, path: str | Path | None = None) -> Path:
    """``<project>/models/decorrelation/<setting>``: one network of the decorrelation notebook's trade-off
    (``setting`` from :func:`decorrelation_setting`)."""
    return resolve(path, "models/decorrelation") / setting


def decorrelation_setting(method: str, strength: float = 0.0) -> str:
    """The folder name of a decorrelated training: ``plain``, ``flat`` or ``disco<strength>``.

    >>> decorrelation_setting("none"), decorrelation_setting("disco", 10.0), decorrelation_setting("disco", 0.5)
    ('plain', 'disco10', 'disco0.5')
    """
    return {"none": "plain", "flat": "flat"}.get(method, f"disco{float(strength):g}")


def runs_dir(path: str | Path | None = None) -> Path:
    """``<project>/runs``: per-network outputs, the run record and the Optuna study."""
    return resolve(path, "runs")


def bench_dir(path: str | Path | None = None) -> Path:
    """``<project>/runs/bench``: the ``make bench`` table as CSV and Markdown."""
    return Path(path) if path else runs_dir() / "bench"


# -- shipped files (package data, read through importlib.resources) ----------------------------------------

def notebooks_dir() -> Path:
    """The shipped notebooks: ``notebooks/`` of a checkout, installed as the data package ``hhnb.notebooks``."""

    return Path(str(importlib.resources.files("hhnb.notebooks")))


def notebook(name: str) -> Path:
    """The shipped notebook ``<name>.ipynb``."""
    return notebooks_dir() / f"{name}.ipynb"


def default_config() -> Path:
    """The shipped ``analyses.yaml`` (the toy analyses)."""

    return Path(str(importlib.resources.files("hhnb.config") / "analyses.yaml"))


# -- lambda tags ------------------------------------------------------------------------------------------

def tag(kl: object) -> str:
    """The tag of a network in file and branch names: ``1.0``, ``m5.0`` ... or ``param``.

    >>> tag(-5), tag("10"), tag(PARAM)
    ('m5.0', '10.0', 'param')
    """
    return PARAM if kl == PARAM else _lambdas.tag(kl)


def param_sample(sample: str, kl: object) -> str:
    """The name of one lambda's signal sample in a parameterised network's events: ``<sample>_SlfCoup_<tag>``.

    >>> param_sample("hh", -5)
    'hh_SlfCoup_m5.0'
    """
    return f"{sample}_SlfCoup_{tag(kl)}"


def is_param(kl: object) -> bool:
    """True for the tag (or card ``lambda``) of a network parameterised in kappa_lambda."""
    return isinstance(kl, str) and kl.strip().lower() == PARAM


# -- networks: model, card, scores ------------------------------------------------------------------------

def network_stem(analysis: str, kl: object, fold: int | None = None, folds: int | None = None) -> str:
    """``nn_<analysis>_SlfCoup_<tag>`` (``_fold<i>of<k>`` appended for network i of a k-fold set).

    >>> network_stem("resolved", -5), network_stem("boosted", 1, fold=2, folds=3)
    ('nn_resolved_SlfCoup_m5.0', 'nn_boosted_SlfCoup_1.0_fold2of3')
    """
    stem = f"nn_{analysis}_SlfCoup_{tag(kl)}"
    if fold is None:
        return stem
    return f"{stem}_fold{int(fold)}" + (f"of{int(folds)}" if folds else "")


def model_path(models: str | Path, analysis: str, kl: object, fold: int | None = None,
               folds: int | None = None) -> Path:
    """``<models>/nn_<analysis>_SlfCoup_<tag>.keras`` (``..._fold<i>of<k>.keras`` for one fold of a set)."""
    return Path(models) / f"{network_stem(analysis, kl, fold, folds)}.keras"


def fold_model_path(models: str | Path, analysis: str, kl: object, fold: int, folds: int) -> Path:
    """Network ``fold`` of a k-fold set: ``nn_<analysis>_SlfCoup_<tag>_fold<i>of<k>.keras``."""
    return model_path(models, analysis, kl, fold, folds)


def onnx_path(model: str | Path) -> Path:
    """``<model>.onnx`` beside a ``.keras`` file (one per network, one per fold of a k-fold set)."""
    return Path(model).with_suffix(".onnx")


def card_path(models: str | Path, analysis: str, kl: object, fold: int | None = None) -> Path:
    """``<models>/nn_<analysis>_SlfCoup_<tag>.json``: the model card beside the network."""
    return Path(models) / f"{network_stem(analysis, kl, fold)}.json"


def scores_path(models: str | Path, analysis: str, kl: object) -> Path:
    """``<models>/nn_<analysis>_SlfCoup_<tag>_scores.parquet``: every event's scores."""
    return Path(models) / f"{network_stem(analysis, kl)}_scores.parquet"


def card_paths(models: str | Path, analysis: str) -> list[Path]:
    """Every model card of one analysis in ``models`` (sorted)."""
    return sorted(Path(models).glob(f"{network_stem(analysis, 0.0).rsplit('_', 1)[0]}_*.json"))


# -- folders of one network's outputs ---------------------------------------------------------------------

def _lambda_folder(kl: object) -> str:
    return f"lambda{tag(kl)}"


def run_dir(analysis: str, kl: object, root: str | Path | None = None) -> Path:
    """``runs/<analysis>/lambda<tag>/``: plots and tables of one network."""
    return Path(root or runs_dir()) / analysis / _lambda_folder(kl)


def decorrelation_dir(analysis: str, kl: object, root: str | Path | None = None) -> Path:
    """``runs/<analysis>/lambda<tag>/decorrelation/``: the decorrelation notebook's table and figure."""
    return run_dir(analysis, kl, root) / "decorrelation"


def correlations_dir(analysis: str, kl: object, root: str | Path | None = None) -> Path:
    """``correlation_plots/<analysis>/lambda<tag>/``: score-vs-mass outputs."""
    return Path(root or project_dir() / "correlation_plots") / analysis / _lambda_folder(kl)


def shap_dir(analysis: str, kl: object, root: str | Path | None = None) -> Path:
    """``shap_values/<analysis>/lambda<tag>/``: SHAP importance outputs."""
    return Path(root or project_dir() / "shap_values") / analysis / _lambda_folder(kl)


def kinematics_dir(analysis: str, kl: object, root: str | Path | None = None) -> Path:
    """``runs/<analysis>/lambda<tag>/kinematics/``."""
    return run_dir(analysis, kl, root) / "kinematics"


def notebook_copy(project: str | Path, notebook: str, analysis: str, kl: object) -> Path:
    """Where a sweep writes its executed copy of ``notebook`` (the older repository's names).

    >>> str(notebook_copy("p", "shap", "boosted", 10))
    'p/shap_values/shap_plots-boosted-lambda10.0.ipynb'
    >>> str(notebook_copy("p", "train", "boosted", -5))
    'p/runs/boosted/lambdam5.0/train.ipynb'
    """
    project = Path(project)
    if notebook == "shap":
        return project / "shap_values" / f"shap_plots-{analysis}-{_lambda_folder(kl)}.ipynb"
    if notebook == "correlations":
        return project / "correlation_plots" / f"score_vs_mass-{analysis}-{_lambda_folder(kl)}.ipynb"
    return run_dir(analysis, kl, project / "runs") / f"{notebook}.ipynb"


def summary_dir(root: str | Path | None = None) -> Path:
    """``runs/summary``: the summary notebook's figures and table."""
    return Path(root) if root else runs_dir() / "summary"


def summary_notebook(project: str | Path) -> Path:
    """``runs/summary.ipynb``: the executed summary notebook of a demo."""
    return Path(project) / "runs" / "summary.ipynb"


# -- toy ntuples -----------------------------------------------------------------------------------------

def toy_file_name(sample: str, kl: object | None = None) -> str:
    """A toy file: ``hh_SlfCoup_<tag>.root`` for the HH signal, ``<sample>.root`` otherwise.

    >>> toy_file_name("hh", -5), toy_file_name("qcd_4b")
    ('hh_SlfCoup_m5.0.root', 'qcd_4b.root')
    """
    return f"hh_SlfCoup_{tag(kl)}.root" if sample == "hh" else f"{sample}.root"


# -- systematic variations (issue 25) ---------------------------------------------------------------------

#: the toy's tree variations (jets shifted or smeared, everything derived recomputed) and weight variations
TOY_TREE_SYSTEMATICS = ("JES", "JER")
TOY_WEIGHT_SYSTEMATICS = ("btag",)
DIRECTIONS = ("up", "down")


def variation_suffix(syst: str, direction: str) -> str:
    """``<SYST>__1up`` / ``<SYST>__1down``: the production convention for a one-sigma variation.

    >>> variation_suffix("JES", "down")
    'JES__1down'
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r}: expected up or down")
    return f"{syst}__1{direction}"


def variation_tree(nominal: str, syst: str, direction: str) -> str:
    """The tree of a tree variation beside the nominal one: ``<nominal>__<SYST>__1up``.

    >>> variation_tree(DEFAULT_TREE, "JES", "up")
    'preselection__JES__1up'
    """
    return f"{nominal}__{variation_suffix(syst, direction)}"


def weight_variation_branch(weight: str, syst: str, direction: str) -> str:
    """The event-weight branch of a weight variation: ``<weight>_<syst>__1up`` (the full weight, not a ratio).

    >>> weight_variation_branch("weight", "btag", "down")
    'weight_btag__1down'
    """
    return f"{weight}_{variation_suffix(syst, direction)}"


# -- ntuples with score branches --------------------------------------------------------------------------

#: Suffix of the copies ``hhnb apply`` writes: ``<stem>_withNNs.root``.
APPLIED_SUFFIX = "_withNNs"


def applied_path(path: str | Path, outdir: str | Path | None = None) -> Path:
    """``<outdir>/<stem>_withNNs.root`` (default: beside the input).

    >>> str(applied_path("d/qcd.root", "out"))
    'out/qcd_withNNs.root'
    """
    path = Path(path)
    return (Path(outdir) if outdir is not None else path.parent) / f"{path.stem}{APPLIED_SUFFIX}.root"


def applied_sample(path: str | Path) -> str:
    """The sample of an (applied or original) ntuple: its stem without the apply suffix."""
    return Path(path).stem.removesuffix(APPLIED_SUFFIX)


# -- record and Optuna study ------------------------------------------------------------------------------

def record_path(path: str | Path | None = None) -> Path:
    """``<project>/runs/record.sqlite``: the run record (or ``path`` when given)."""
    return resolve(path, "runs/record.sqlite")


def optuna_path() -> Path:
    """``<project>/runs/optuna.sqlite``: the Optuna study storage."""
    return runs_dir() / "optuna.sqlite"


def optuna_url() -> str:
    """``sqlite:///<project>/runs/optuna.sqlite``."""
    return f"sqlite:///{optuna_path()}"


def study_name(analysis: str, kl: object) -> str:
    """``<analysis>_lambda<tag>``: the Optuna study of one network."""
    return f"{analysis}_{_lambda_folder(kl)}"


# -- score branches ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScoreBranch:
    """What a score branch name says: the analysis, kappa_lambda and network output."""

    analysis: str
    kl: float
    output: str


def _score_base(analysis: str, kl: object) -> str:
    return f"{_SCORE_PREFIX}{analysis}_SlfCoup_{tag(kl)}"


def score_branches(analysis: str, kl: object, classes: list[str] | tuple[str, ...]) -> list[str]:
    """``nnscore_<analysis>_SlfCoup_<tag>_sig`` (+ ``_<class>`` for the other classes of a multi-class net).

    >>> score_branches("boosted", 10, ["hh", "qcd", "top"])
    ['nnscore_boosted_SlfCoup_10.0_sig', 'nnscore_boosted_SlfCoup_10.0_qcd', 'nnscore_boosted_SlfCoup_10.0_top']
    """
    base = _score_base(analysis, kl)
    return [f"{base}_sig"] + ([f"{base}_{c}" for c in classes[1:]] if len(classes) > 2 else [])


def istest_branch(analysis: str, kl: object) -> str:
    """``nnscore_<analysis>_SlfCoup_<tag>_istest``: 1 for events the network never trained on."""
    return f"{_score_base(analysis, kl)}_istest"


def fold_branch(analysis: str, kl: object) -> str:
    """``nnscore_<analysis>_SlfCoup_<tag>_fold``: which fold (= which blind network) scored the event."""
    return f"{_score_base(analysis, kl)}_fold"


def parse_score_branch(branch: str) -> ScoreBranch:
    """Analysis, lambda and output of a score branch.

    >>> parse_score_branch("nnscore_resolved_SlfCoup_m5.0_sig")
    ScoreBranch(analysis='resolved', kl=-5.0, output='sig')
    """

    m = _SCORE_RE.match(branch)
    if not m:
        raise UserArgumentError(
            f"branch {branch!r} is not a score branch: expected {_SCORE_PREFIX}<analysis>_SlfCoup_<tag>_sig"
        )
    return ScoreBranch(m["analysis"], _lambdas.parse(m["tag"]), m["output"])


def is_score_branch(branch: str) -> bool:
    """True for a branch written by ``hhnb apply``."""
    return branch.startswith(_SCORE_PREFIX)


# -- plot label -------------------------------------------------------------------------------------------

def lumi_label(luminosity: float | None, energy_tev: float = ENERGY_TEV) -> str:
    """The text under every plot: ``√s = 14 TeV, 3000 fb^-1`` with the analysis' own luminosity.

    >>> lumi_label(300.0)
    '√s = 14 TeV, 300 fb$^{-1}$'
    """
    text = f"\u221as = {energy_tev:g} TeV"
    return text if luminosity is None else f"{text}, {luminosity:g} fb$^{{-1}}$"
