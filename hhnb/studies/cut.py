"""Cut on a score branch and count weighted yields per sample (what the older loadNN.py did).

Events pass when ``score >= cut`` (the convention of ``hhnb.studies.metrics.significance_scan``,
whose best cut is the low edge of the first kept bin).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.errors import MissingArtifactError, UserArgumentError
from hhnb.io import ntuples as data
from hhnb.io import record
from hhnb.studies import stats

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
    asimov_z: float


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
                 step: int) -> dict[str, float]:
    test_branch = layout.istest_branch(*parse_branch(branch))
    needed = [branch] + ([weight] if weight else []) + ([test_branch] if test_only else [])
    t = data.open_tree(str(path), tree, needed)
    events = passed = 0
    total = total_passed = used = 0.0
    for chunk in t.iterate(needed, step_size=step, library="np"):
        score = chunk[branch]
        w = chunk[weight].astype(np.float64) if weight else np.ones(len(score))
        if not np.isfinite(score).all():
            raise data.InputError(f"file {path}: branch {branch!r} has NaN or infinite values")
        total += float(w.sum())
        keep = np.ones(len(score), bool)
        if test_only:
            keep = chunk[test_branch].astype(bool)
        used += float(w[keep].sum())
        sel = keep & (score >= cut)
        events += int(keep.sum())
        passed += int(sel.sum())
        total_passed += float(w[sel].sum())
    scale = total / used if test_only and used > 0 else 1.0  # test events stand for the whole sample
    return {"events": events, "passed": passed, "yield": total, "yield_passed": total_passed * scale}


def cut(files: Iterable[str | Path], branch: str, cut_value: float, signal: Iterable[str] = DEFAULT_SIGNAL,
        weight: str = "weight", tree: str = layout.DEFAULT_TREE, test_only: bool = False,
        step: int = 500_000) -> CutResult:
    """Weighted yields per file (sample) before and after ``branch >= cut_value``, nsig, nbkg and Z."""
    from hhnb.nn.apply import expand

    patterns = list(signal)
    rows = []
    for path in expand(files):
        y = _file_yields(path, tree, branch, weight, cut_value, test_only, step)
        rows.append({"sample": sample_name(path), "signal": is_signal(path, patterns), "file": path.name, **y})
    table = pd.DataFrame(rows)
    if not table["signal"].any():
        raise UserArgumentError(f"no input file is a signal sample (patterns {', '.join(patterns)}): use --signal")
    if table["signal"].all():
        raise UserArgumentError(f"every input file matches the signal patterns {', '.join(patterns)}: give backgrounds too")
    s = float(table.loc[table["signal"], "yield_passed"].sum())
    b = float(table.loc[~table["signal"], "yield_passed"].sum())
    return CutResult(branch, float(cut_value), table, s, b, float(stats.s_over_sqrt_b(s, b)),
                     float(stats.asimov_z(s, b)))


def summary(result: CutResult) -> pd.DataFrame:
    """The per-sample table with a signal / background / significance footer, for printing and CSV."""
    t = result.table.copy()
    foot = pd.DataFrame([
        {"sample": "nsig", "yield_passed": result.nsig}, {"sample": "nbkg", "yield_passed": result.nbkg},
        {"sample": "s/sqrt(b)", "yield_passed": result.s_over_sqrt_b},
        {"sample": "asimov_z", "yield_passed": result.asimov_z},
    ])
    out = pd.concat([t, foot], ignore_index=True)
    for col in ("events", "passed"):
        out[col] = out[col].astype("Int64")
    out.insert(0, "cut", f"{result.branch} >= {result.cut:g}")
    return out
