"""``hhnb check``: every file, tree, branch, selection and lambda of a configuration, checked up front.

Training, apply and the sweep stop at the first bad input; ``check`` opens everything a
configuration names and lists every problem at once, or a table of what it found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis, Config, Sample
from hhnb.errors import ExpressionError, HHNBError, InputFileError
from hhnb.io import expressions, ntuples


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found: every problem (empty when all is well) and one row per sample and lambda."""

    problems: tuple[str, ...]
    table: pd.DataFrame
    #: one row per (file, variation) of the analyses' ``systematics`` section: what was found up and down
    systematics: pd.DataFrame = field(default_factory=pd.DataFrame)

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


@dataclass(frozen=True)
class FileFacts:
    """What one file holds for a sample: entries, its trees, those that carry the network's inputs, and the
    generator weights (sum and count of negative ones over every entry, before the selection)."""

    entries: int = 0
    trees: tuple[str, ...] = ()
    trees_with_inputs: tuple[str, ...] = ()
    weight_sum: float = 0.0
    negative: int = 0


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _trees_with_inputs(f, trees: list[str], wanted: list[str]) -> tuple[str, ...]:
    out = []
    for name in trees:
        try:
            if not ntuples.missing_branches(f[name], wanted):
                out.append(name)
        except Exception:  # noqa: BLE001, S112 - an unreadable side tree carries no inputs; the main one is checked
            continue
    return tuple(out)


def check_file(analysis: Analysis, sample: Sample, path: str) -> tuple[FileFacts, list[str]]:
    """One file's facts and problems: unreadable, missing tree, missing branches, expressions or selection that
    cannot be evaluated (tried on the first 100 events), unusable weights."""
    try:
        f, trees = ntuples.open_file(path)
        t = ntuples.get_tree(f, path, sample.tree, trees)
    except HHNBError as exc:
        return FileFacts(), [str(exc)]
    where = f"file {path}, tree {sample.tree!r}"
    problems = []
    wanted = _branches(analysis)
    missing = ntuples.missing_branches(t, wanted)
    if missing:
        problems.append(f"{where}: missing branch(es) {'; '.join(missing)}")
    cut = ntuples.selection(analysis, sample)
    facts = FileFacts(int(t.num_entries), tuple(trees), _trees_with_inputs(f, trees, wanted))
    if missing:
        return facts, problems
    keys = expressions.keys(t)
    try:
        expressions.needed_branches([cut] if cut else [], keys, where, "selection")
    except ExpressionError as exc:
        return facts, [*problems, str(exc)]
    features = [*analysis.features, *analysis.masses.values()]
    try:
        branches = expressions.needed_branches([*features, *([cut] if cut else [])], keys, where)
        for arrays, _, _ in expressions.iterate(t, branches, min(t.num_entries, 100) or 1):
            expressions.mask(cut, arrays, where)
            expressions.evaluate(features, arrays, analysis.feature_pads(), where, analysis.pad)
            break
    except ExpressionError as exc:
        problems.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - uproot's read errors come in many kinds
        problems.append(f"{where}: the inputs cannot be read: {_first_line(exc)}")
    if analysis.weight and not problems:
        total, negative = 0.0, 0
        try:
            for arrays, _, _ in expressions.iterate(t, expressions.needed_branches([analysis.weight], keys, where)):
                w = expressions.evaluate([analysis.weight], arrays, where=where)[analysis.weight]
                total += float(w.sum())
                negative += int((w < 0).sum())
        except HHNBError as exc:
            problems.append(str(exc))
        facts = FileFacts(facts.entries, facts.trees, facts.trees_with_inputs, total, negative)
    return facts, problems


def check_systematics(analysis: Analysis, sample: Sample, path: str) -> tuple[list[dict], list[str]]:
    """What one file holds of the analysis' systematic variations: for each tree variation whether its up and
    down trees are there and carry the inputs, for each weight variation whether its branches are there.

    One row per variation (``found up`` / ``found down``: ``ok`` or what is missing) and one line per problem
    naming the file, the tree and the branch.
    """
    syst = analysis.systematics
    if not (syst.trees or syst.weights):
        return [], []
    try:
        f, trees = ntuples.open_file(path)
    except HHNBError:
        return [], []  # check_file says why
    rows, problems = [], []
    wanted = _branches(analysis)
    for v in syst.trees:
        found = {}
        for direction in ("up", "down"):
            name = v.tree(sample.tree, direction)
            if name not in trees:
                found[direction] = f"missing tree {name}"
                problems.append(f"file {path}: tree variation {v.name!r} {direction}: no tree {name!r}; trees in "
                                f"the file: {', '.join(trees) or 'none'}")
                continue
            try:
                missing = ntuples.missing_branches(f[name], wanted)
            except Exception as exc:  # noqa: BLE001 - uproot's read errors come in many kinds
                missing = [f"unreadable ({_first_line(exc)})"]
            found[direction] = f"tree {name}" if not missing else f"tree {name} lacks {'; '.join(missing)}"
            if missing:
                problems.append(f"file {path}, tree {name!r}: tree variation {v.name!r} {direction}: missing "
                                f"branch(es) {'; '.join(missing)}")
        rows.append({"analysis": analysis.name, "sample": sample.name, "file": path, "variation": v.name,
                     "kind": "tree", "up": found["up"], "down": found["down"]})
    if syst.weights and sample.tree in trees:
        t = f[sample.tree]
        for v in syst.weights:
            found = {}
            for direction in ("up", "down"):
                missing = ntuples.missing_branches(t, [v.of(direction)])
                found[direction] = f"branch {v.of(direction)}" if not missing else f"missing {'; '.join(missing)}"
                if missing:
                    problems.append(f"file {path}, tree {sample.tree!r}: weight variation {v.name!r} {direction}: "
                                    f"missing branch {'; '.join(missing)}")
            rows.append({"analysis": analysis.name, "sample": sample.name, "file": path, "variation": v.name,
                         "kind": "weight", "up": found["up"], "down": found["down"]})
    return rows, problems


def _normalisation(sample: Sample, files: list[str]) -> tuple[float | None, list[str]]:
    if not sample.sum_of_weights:
        return None, []
    try:
        return ntuples.sum_of_weights(sample, files), []
    except HHNBError as exc:
        return None, [str(exc)]


def check_analysis(analysis: Analysis, data_dir: str | Path, kl: float | None = None) -> CheckReport:
    """Check one analysis at ``kl`` (or every lambda its signal samples declare).

    The table has one row per sample and lambda: files, events, the sum of generator weights that
    normalises it (``sum_of_weights``, when configured), the fraction of events with a negative weight,
    the trees of its files and those that carry the network's inputs (variation trees apply can score).
    """
    problems: list[str] = []
    rows, syst_rows = [], []
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
            events, negative, trees, with_inputs = 0, 0, {}, {}
            fresh = [p for p in files if (sample.name, p) not in seen]
            for path in fresh:
                seen.add((sample.name, path))
                facts, found = check_file(analysis, sample, path)
                variations, wrong = check_systematics(analysis, sample, path)
                syst_rows += variations
                found += wrong
                events += facts.entries
                negative += facts.negative
                trees.update(dict.fromkeys(facts.trees))
                with_inputs.update(dict.fromkeys(facts.trees_with_inputs))
                problems += found
            sumw, found = _normalisation(sample, fresh) if fresh else (None, [])
            problems += found
            if events:
                rows.append({"analysis": analysis.name, "sample": sample.name, "class": sample.klass,
                             "lambda": _lambdas.tag(value) if sample_kl is not None else "any",
                             "files": len(files), "events": events,
                             "sum_of_weights": f"{sumw:.6g}" if sumw is not None else "-",
                             "negative": f"{negative / events:.1%}" if analysis.weight else "-",
                             "trees": ", ".join(trees), "trees with inputs": ", ".join(with_inputs)})
                if analysis.systematics.normalisation:
                    size = analysis.systematics.normalisation.get(sample.name)
                    rows[-1]["normalisation"] = f"{size:.0%}" if size is not None else "-"
    return CheckReport(tuple(problems), pd.DataFrame(rows), pd.DataFrame(syst_rows))


def check(config: Config, data_dir: str | Path, analyses: list[str] | None = None,
          kl: object | None = None) -> CheckReport:
    """Check every analysis of ``config`` (or the named ones) and merge what was found."""
    value = _lambdas.parse(kl) if kl is not None else None
    reports = [check_analysis(config.analysis(name), data_dir, value) for name in (analyses or list(config.analyses))]
    frames = [r.table for r in reports if len(r.table)]
    syst = [r.systematics for r in reports if len(r.systematics)]
    return CheckReport(tuple(p for r in reports for p in r.problems),
                       pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(),
                       pd.concat(syst, ignore_index=True) if syst else pd.DataFrame())


def require(analysis: Analysis, data_dir: str | Path, kl: float, allow_missing: bool = False) -> None:
    """Raise the first problem of ``analysis`` at ``kl`` as an InputFileError (the sweep's pre-flight).

    ``allow_missing`` skips files that do not exist yet (toy files a notebook will generate).
    """
    report = check_analysis(analysis, data_dir, kl)
    problems = [p for p in report.problems if not (allow_missing and "no file matches" in p)]
    if problems:
        more = f" (and {len(problems) - 1} more: hhnb check)" if len(problems) > 1 else ""
        raise InputFileError(problems[0] + more)
