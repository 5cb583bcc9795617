"""``hhnb check``: every file, tree, branch, selection and lambda of a configuration, checked up front.

Training, apply and the sweep stop at the first bad input; ``check`` opens everything a
configuration names and lists every problem at once, or a table of what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis, Config, Sample
from hhnb.errors import HHNBError, InputFileError
from hhnb.io import ntuples


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found: every problem (empty when all is well) and one row per sample and lambda."""

    problems: tuple[str, ...]
    table: pd.DataFrame

    @property
    def ok(self) -> bool:
        return not self.problems


def lambdas_to_check(analysis: Analysis, kl: float | None) -> list[float]:
    """``kl`` when given, else every lambda the signal samples declare (1.0 if none declares any)."""
    if kl is not None:
        return [kl]
    declared = sorted({v for s in analysis.samples_of(analysis.signal_class) for v in (s.lambdas or ())})
    return declared or [1.0]


def _branches(analysis: Analysis) -> list[str]:
    wanted = list(analysis.features) + list(analysis.masses.values()) + [analysis.weight, analysis.event]
    return list(dict.fromkeys(b for b in wanted if b))


def check_file(analysis: Analysis, sample: Sample, path: str) -> tuple[int, list[str]]:
    """Entries of one file and its problems: unreadable, missing tree, missing branches, bad selection."""
    try:
        f, trees = ntuples.open_file(path)
        t = ntuples.get_tree(f, path, sample.tree, trees)
    except HHNBError as exc:
        return 0, [str(exc)]
    problems = []
    missing = ntuples.missing_branches(t, _branches(analysis))
    if missing:
        problems.append(f"file {path}, tree {sample.tree!r}: missing branch(es) {'; '.join(missing)}")
    cut = ntuples.selection(analysis, sample)
    if cut and not missing:
        try:
            t.arrays(["_hhnb_pass"], aliases={"_hhnb_pass": cut}, entry_stop=min(t.num_entries, 100), library="np")
        except Exception as exc:  # noqa: BLE001 - uproot's formula errors come in many kinds
            problems.append(f"file {path}, tree {sample.tree!r}: selection {cut!r} cannot be evaluated: "
                            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
    return int(t.num_entries), problems


def check_analysis(analysis: Analysis, data_dir: str | Path, kl: float | None = None) -> CheckReport:
    """Check one analysis at ``kl`` (or every lambda its signal samples declare)."""
    problems: list[str] = []
    rows = []
    seen: set[tuple[str, str]] = set()
    for value in lambdas_to_check(analysis, kl):
        try:
            samples = analysis.samples_at(value)
        except HHNBError as exc:
            problems.append(str(exc))
            continue
        for sample in samples:
            sample_kl = value if sample.is_lambda_dependent else None
            try:
                files = ntuples.sample_files(sample, data_dir, sample_kl)
            except HHNBError as exc:
                problems.append(f"analysis {analysis.name!r}: {exc}")
                continue
            events = 0
            for path in files:
                if (sample.name, path) in seen:
                    continue
                seen.add((sample.name, path))
                n, found = check_file(analysis, sample, path)
                events += n
                problems += found
            if events:
                rows.append({"analysis": analysis.name, "sample": sample.name, "class": sample.klass,
                             "lambda": _lambdas.tag(value) if sample_kl is not None else "any",
                             "files": len(files), "events": events})
    return CheckReport(tuple(problems), pd.DataFrame(rows))


def check(config: Config, data_dir: str | Path, analyses: list[str] | None = None,
          kl: object | None = None) -> CheckReport:
    """Check every analysis of ``config`` (or the named ones) and merge what was found."""
    value = _lambdas.parse(kl) if kl is not None else None
    reports = [check_analysis(config.analysis(name), data_dir, value) for name in (analyses or list(config.analyses))]
    frames = [r.table for r in reports if len(r.table)]
    return CheckReport(tuple(p for r in reports for p in r.problems),
                       pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def require(analysis: Analysis, data_dir: str | Path, kl: float, allow_missing: bool = False) -> None:
    """Raise the first problem of ``analysis`` at ``kl`` as an InputFileError (the sweep's pre-flight).

    ``allow_missing`` skips files that do not exist yet (toy files a notebook will generate).
    """
    report = check_analysis(analysis, data_dir, kl)
    problems = [p for p in report.problems if not (allow_missing and "no file matches" in p)]
    if problems:
        more = f" (and {len(problems) - 1} more: hhnb check)" if len(problems) > 1 else ""
        raise InputFileError(problems[0] + more)
