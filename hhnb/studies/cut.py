"""Cut on a score branch and count weighted yields per sample (what the older loadNN.py did).

By default only the test events count (the ``_istest`` branch: never trained on, nor used to choose
a cut), their weights scaled per sample so the yields stay physical; a file scored by a k-fold set
(a ``_fold`` branch, no ``_istest``) counts every event, each scored by the network blind to it. The
analysis selection of the config is applied first. Events pass when ``score >= cut`` (the convention of
``hhnb.stats.significance.yields`` and ``metrics.significance_scan``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.errors import InputFileError, MissingArtifactError, UserArgumentError
from hhnb.io import ntuples as data
from hhnb.io import record
from hhnb.nn.apply import expand
from hhnb.stats import significance

DEFAULT_SIGNAL = ("hh_*", "tthh*")


@dataclass(frozen=True)
class CutResult:
    """Yields per sample after a cut, and the totals and significances."""

    branch: str
    cut: float
    table: pd.DataFrame  # sample, signal, file, events, passed, yield, yield_passed
    nsig: float
    nbkg: float
    s_over_sqrt_b: float
    asimov_z: float  # without any background uncertainty (labelled so in the printout)
    significance: significance.Significance | None = None  # Z with MC statistics in sigma_b, bootstrap errors
    test_only: bool = True
    selection: str | None = None


def parse_branch(branch: str) -> tuple[str, float]:
    """(analysis, lambda) of a score branch (the name is parsed by ``hhnb.layout``)."""
    parsed = layout.parse_score_branch(branch)
    return parsed.analysis, parsed.kl


def best_cut(branch: str, record_path: str | Path | None = None) -> float:
    """The best cut recorded for the branch's network (latest run-record row with a best_cut)."""
    analysis, kl = parse_branch(branch)
    df = record.read(record_path, analysis=analysis, kl=kl)
    df = df[df["best_cut"].notna()] if "best_cut" in df else df.iloc[0:0]
    if df.empty:
        where = record_path or record.default_path()
        raise MissingArtifactError(f"no best cut recorded for analysis {analysis!r} lambda {_lambdas.tag(kl)} in {where}: "
                         "evaluate the network first (notebooks/evaluate.ipynb), or give --cut")
    return float(df.iloc[-1]["best_cut"])


def is_signal(path: str | Path, patterns: Iterable[str] = DEFAULT_SIGNAL) -> bool:
    """Whether a file is a signal sample: its name (or stem) matches one of the glob patterns."""
    name = Path(path).name
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(Path(name).stem, p) for p in patterns)


def sample_name(path: str | Path) -> str:
    """The sample of a file: its stem without the suffix ``hhnb apply`` adds."""
    return layout.applied_sample(path)


def _file_yields(path: Path, tree: str, branch: str, weight: str, cut: float, test_only: bool,
                 step: int, selection: str | None) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    test_branch = layout.istest_branch(*parse_branch(branch))
    if test_only and _kfold_file(path, tree, branch):
        test_only = False  # a k-fold set's scores are all out-of-fold: every event is unseen, nothing to scale
    needed = [branch] + ([weight] if weight else []) + ([test_branch] if test_only else [])
    t = data.open_tree(str(path), tree, needed)
    expressions = needed + (["_hhnb_pass"] if selection else [])
    aliases = {"_hhnb_pass": selection} if selection else None
    events = passed = 0
    total = total_passed = used = 0.0
    w_pass, s_pass = [], []
    try:
        chunks = list(t.iterate(expressions, aliases=aliases, step_size=step, library="np"))
    except Exception as exc:  # uproot names the missing branch of the selection
        raise InputFileError(f"file {path}, tree {tree!r}: cannot evaluate the selection {selection!r}: {exc}") from None
    for chunk in chunks:
        score = chunk[branch]
        w = chunk[weight].astype(np.float64) if weight else np.ones(len(score))
        if not np.isfinite(score).all():
            raise InputFileError(f"file {path}: branch {branch!r} has NaN or infinite values")
        presel = chunk["_hhnb_pass"].astype(bool) if selection else np.ones(len(score), bool)
        total += float(w[presel].sum())
        keep = presel & (chunk[test_branch].astype(bool) if test_only else True)
        used += float(w[keep].sum())
        sel = keep & (score >= cut)
        events += int(keep.sum())
        passed += int(sel.sum())
        total_passed += float(w[sel].sum())
        w_pass.append(w[sel])
        s_pass.append(score[sel].astype(np.float64))
    if test_only and used == 0 and total != 0:
        raise InputFileError(f"file {path}: no test events ({test_branch} == 1) after the selection; "
                              "use --all-events to count every event")
    scale = total / used if test_only and used != 0 else 1.0  # test events stand for the whole sample
    wp = np.concatenate(w_pass) * scale if w_pass else np.zeros(0)
    sp = np.concatenate(s_pass) if s_pass else np.zeros(0)
    return ({"events": events, "passed": passed, "yield": total, "yield_passed": total_passed * scale,
             "scale": scale}, sp, wp)


def _kfold_file(path: Path, tree: str, branch: str) -> bool:
    """Whether ``hhnb apply`` wrote this file with a k-fold set: a fold branch and no test-flag branch."""
    analysis, kl = parse_branch(branch)
    f, trees = data.open_file(str(path))
    names = set(data.get_tree(f, str(path), tree, trees).keys())
    return layout.fold_branch(analysis, kl) in names and layout.istest_branch(analysis, kl) not in names


def cut(files: Iterable[str | Path], branch: str, cut_value: float, signal: Iterable[str] = DEFAULT_SIGNAL,
        weight: str = "weight", tree: str = layout.DEFAULT_TREE, test_only: bool = True,
        step: int = 500_000, selection: str | None = None, rel_unc: float = 0.0,
        n_boot: int = significance.DEFAULT_N_BOOT, seed: int = 1) -> CutResult:
    """Weighted yields per file (sample) before and after ``branch >= cut_value``, nsig, nbkg and Z.

    ``selection``: an uproot expression applied first (``analysis_selection`` gives the config's).
    ``test_only``: count only test events, scaled per file to the selected sample's yield.
    Z is quoted as evaluate does (``significance.quote``): MC statistics in sigma_b, bootstrap errors.
    """

    patterns = list(signal)
    rows, scores, weights, is_sig = [], [], [], []
    for path in expand(files):
        y, sp, wp = _file_yields(path, tree, branch, weight, cut_value, test_only, step, selection)
        sig = is_signal(path, patterns)
        rows.append({"sample": sample_name(path), "signal": sig, "file": path.name, **y})
        scores.append(sp)
        weights.append(wp)
        is_sig.append(np.full(len(sp), sig))
    table = pd.DataFrame(rows)
    if not table["signal"].any():
        raise UserArgumentError(f"no input file is a signal sample (patterns {', '.join(patterns)}): use --signal")
    if table["signal"].all():
        raise UserArgumentError(f"every input file matches the signal patterns {', '.join(patterns)}: give backgrounds too")
    s = float(table.loc[table["signal"], "yield_passed"].sum())
    b = float(table.loc[~table["signal"], "yield_passed"].sum())
    q = significance.quote(np.concatenate(scores), np.concatenate(is_sig), np.concatenate(weights), cut_value,
                    rel_unc=rel_unc, n_boot=n_boot, seed=seed)
    return CutResult(branch, float(cut_value), table.drop(columns="scale"), s, b, float(significance.s_over_sqrt_b(s, b)),
                     float(significance.asimov_z(s, b)), q, test_only, selection)


def analysis_selection(branch: str, config: str | Path | None = None) -> str | None:
    """The analysis selection of the config (``selection:``) for the network of a score branch."""

    analysis, _ = parse_branch(branch)
    return _config.analysis(analysis, config).selection


def summary(result: CutResult) -> pd.DataFrame:
    """The per-sample table with a signal / background / significance footer, for printing and CSV."""
    t = result.table.copy()
    rows = [
        {"sample": "nsig", "yield_passed": result.nsig}, {"sample": "nbkg", "yield_passed": result.nbkg},
        {"sample": "s/sqrt(b)", "yield_passed": result.s_over_sqrt_b},
    ]
    q = result.significance
    if q is not None:
        rows += [
            {"sample": "nsig error (bootstrap)", "yield_passed": q.s_error},
            {"sample": "nbkg error (bootstrap)", "yield_passed": q.b_error},
            {"sample": "nbkg MC error sqrt(sum w^2)", "yield_passed": q.b_mc_error},
            {"sample": "background simulated events", "yield_passed": q.n_bkg_mc},
            {"sample": "Z asimov (MC stat. in sigma_b)", "yield_passed": q.z},
            {"sample": "Z error (bootstrap)", "yield_passed": q.z_error},
            {"sample": "Z without MC stat.", "yield_passed": q.z_no_mc},
            {"sample": "Z without MC stat. error", "yield_passed": q.z_no_mc_error},
        ]
    rows.append({"sample": "asimov_z (no background uncertainty)", "yield_passed": result.asimov_z})
    foot = pd.DataFrame(rows)
    out = pd.concat([t, foot], ignore_index=True)
    for col in ("events", "passed"):
        out[col] = out[col].astype("Int64")
    out.insert(0, "cut", f"{result.branch} >= {result.cut:g}")
    return out
