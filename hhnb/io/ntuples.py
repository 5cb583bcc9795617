"""Reading ntuples: uproot in chunks, selection, class labels, weights and a train/test split.

The split is by event number (``event % 5 == 0`` is the 20 % test set), so every
later step (apply, evaluation) knows which events a network never saw.
"""

from __future__ import annotations

import difflib
import glob
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import uproot

from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis, Sample
from hhnb.errors import ExpressionError, InputFileError, MissingInputFile, UserArgumentError
from hhnb.io import expressions

log = logging.getLogger(__name__)

TEST_MODULUS = 5  # event % 5 == 0 -> test set (20 %)
META = ("sample", "label", "weight", "event", "is_test")
#: the classes of the keys hhnb reads events from: ROOT's TTree and its RNTuple (ROOT 6.34 and later)
TREE_CLASSES = ("TTree", "TNtuple", "ROOT::RNTuple", "ROOT::Experimental::RNTuple")
RNTUPLE_CLASSES = TREE_CLASSES[2:]



def default_data_dir() -> Path:
    """The project's ``data/`` folder."""

    return layout.data_dir()


def is_test(event: np.ndarray) -> np.ndarray:
    """True for the events held out for testing (never trained on)."""
    return (np.asarray(event) % TEST_MODULUS) == 0


def sample_files(sample: Sample, data_dir: str | Path, kl: float | None = None) -> list[str]:
    """Expand a sample's file patterns ({data_dir}, {tag} in the sample's tag format, globs) into files, or raise."""
    tag = sample.tag_format.format(kl) if kl is not None else None
    out: list[str] = []
    for pattern in sample.files:
        if "{tag}" in pattern and tag is None:
            raise InputFileError(f"sample {sample.name!r}: files {pattern!r} need a lambda value")
        text = pattern.replace("{data_dir}", str(data_dir)).replace("{tag}", tag or "")
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else ([text] if Path(text).exists() else [])
        if not matches:
            raise MissingInputFile(
                f"sample {sample.name!r}: no file matches {text!r}"
                + (" (glob)" if glob.has_magic(text) else "")
            )
        out.extend(matches)
    return out


def open_file(path: str):
    """Open a ROOT file with uproot; a missing, truncated or corrupt file is a one-line error naming it."""
    try:
        f = uproot.open(path)
        trees = [k.split(";")[0] for k, c in f.classnames().items() if c in TREE_CLASSES]
    except FileNotFoundError:
        raise MissingInputFile(f"file {path} does not exist") from None
    except Exception as exc:  # uproot raises many kinds on bad bytes
        raise InputFileError(f"file {path} is not a readable ROOT file (corrupt or truncated?): {_short(exc)}") from None
    _check_length(path, f)
    return f, sorted(set(trees))


def _check_length(path: str, f) -> None:
    """A local file shorter than its header's end-of-file offset was cut short (an interrupted copy)."""
    local = Path(path)
    end = getattr(getattr(f, "file", None), "fEND", None)
    if end is not None and "://" not in str(path) and local.is_file() and local.stat().st_size < end:
        raise InputFileError(f"file {path} is not a readable ROOT file: truncated ({local.stat().st_size} of "
                             f"{end} bytes)")


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def get_tree(f, path: str, tree: str, trees: list[str]):
    """The tree ``tree`` of an open file, or an error listing the trees that are there."""
    if tree not in trees:
        raise InputFileError(f"file {path} has no tree {tree!r}; trees in the file: {', '.join(trees) or 'none'}")
    try:
        t = f[tree]
        t.keys()
    except Exception as exc:
        raise InputFileError(f"file {path}, tree {tree!r} cannot be read (corrupt or truncated?): {_short(exc)}") from None
    return t


_NAME = re.compile(r"[\w.]+")  # a branch name that is no Python expression (a score branch with "2.0" in it)


def missing_branches(t, branches: list[str]) -> list[str]:
    """The wanted branches a tree lacks, each with the closest names it has (for the error message).

    An expression (``Jet_pt[:, 0]``, ``sum(Jet_pt[Jet_pt > 30])``) is checked through the branches it reads.
    """
    keys = set(t.keys())
    out = []
    for b in branches:
        if b in keys:
            continue
        if expressions.is_branch(b) or _NAME.fullmatch(b):
            close = difflib.get_close_matches(b, sorted(keys), n=3, cutoff=0.6)
            out.append(f"{b!r}" + (f" (close: {', '.join(close)})" if close else ""))
            continue
        try:
            expressions.needed_branches([b], keys, "")
        except ExpressionError as exc:
            out.append(str(exc).removeprefix(": "))
    return out


def open_tree(path: str, tree: str, branches: list[str]):
    """Open ``path`` and return its tree (TTree or RNTuple) after checking what ``branches`` read exists."""
    f, trees = open_file(path)
    t = get_tree(f, path, tree, trees)
    missing = missing_branches(t, branches)
    if missing:
        raise InputFileError(f"file {path}, tree {tree!r}: missing branch(es) {'; '.join(missing)}")
    return t


def is_rntuple(t) -> bool:
    """True for an RNTuple (ROOT's successor of TTree; uproot reads both)."""
    return not hasattr(t, "branches")


def selection(analysis: Analysis, sample: Sample) -> str | None:
    """The analysis and sample selections combined (uproot expression), or None."""
    parts = [s for s in (analysis.selection, sample.selection) if s]
    return " & ".join(f"({p})" for p in parts) if parts else None


def _check_finite(df: pd.DataFrame, columns: list[str], where: str) -> None:
    # column by column: no float64 copy of the whole table (a 5M-event read, benchmarks/large_train.py)
    if all(np.isfinite(df[c].to_numpy(dtype=float)).all() for c in columns):
        return
    bad = ~np.isfinite(df[columns].to_numpy(dtype=float))
    if bad.any():
        counts = bad.sum(axis=0)
        detail = ", ".join(f"{c}: {int(n)}" for c, n in zip(columns, counts) if n)
        raise InputFileError(f"{where}: NaN or infinite values in {int(bad.any(axis=1).sum())} events ({detail})")


def sum_of_weights(sample: Sample, files: list[str]) -> float:
    """The sum of generator weights of all events the sample's files were made from (before any selection).

    Read from a tree branch summed over the files (NanoAOD's ``Runs`` tree, ``genEventSumw``) or from a
    histogram bin (``metadata/sumOfWeights``, bin 1; bin 0 is the underflow, as in ROOT). A missing or zero
    source is a one-line error naming the file and the key.
    """
    spec = sample.sum_of_weights or {}
    total = 0.0
    for path in files:
        f, trees = open_file(path)
        if "tree" in spec:
            t = get_tree(f, path, spec["tree"], trees)
            missing = missing_branches(t, [spec["branch"]])
            if missing:
                raise InputFileError(f"file {path}, tree {spec['tree']!r}: sum_of_weights branch {missing[0]} "
                                     f"is missing (sample {sample.name!r})")
            total += float(np.sum(t[spec["branch"]].array(library="np"), dtype=np.float64))
        else:
            key = spec["histogram"]
            try:
                h = f[key]
                values = h.values(flow=True)
            except (KeyError, uproot.KeyInFileError):
                raise InputFileError(f"file {path}: no histogram {key!r} for the sum of weights of sample "
                                     f"{sample.name!r}") from None
            except AttributeError:
                raise InputFileError(f"file {path}: {key!r} is a {f.classname_of(key)}, not a histogram (sum of "
                                     f"weights of sample {sample.name!r})") from None
            b = int(spec.get("bin", 1))
            if b >= len(values):
                raise InputFileError(f"file {path}: histogram {key!r} has bins 0-{len(values) - 1} (with under- "
                                     f"and overflow), no bin {b} (sum of weights of sample {sample.name!r})")
            total += float(values[b])
    if not np.isfinite(total) or total == 0:
        where = f"tree {spec['tree']!r}, branch {spec['branch']!r}" if "tree" in spec else \
            f"histogram {spec['histogram']!r} bin {spec.get('bin', 1)}"
        raise InputFileError(f"sample {sample.name!r}: the sum of weights from {where} is {total} in "
                             f"{', '.join(files)}: expected a finite, non-zero number")
    return total


def _inputs(analysis: Analysis, columns: list[str]) -> list[str]:
    """The expressions a sample's events are read through: columns, then weight and event number."""
    return list(dict.fromkeys(columns + [b for b in (analysis.weight, analysis.event) if b]))


def read_sample(analysis: Analysis, sample: Sample, files: list[str], columns: list[str],
                step_size: str | int = "200 MB", tree: str | None = None,
                weights: dict[str, str] | None = None) -> pd.DataFrame:
    """Read one sample's columns in chunks, apply the selection, attach weight and event number.

    Columns, weight and selection may be expressions over jagged branches (:mod:`hhnb.io.expressions`).
    The weight is the ``weight`` expression as it is, or cross section x luminosity x weight / sum of
    generator weights (``sum_of_weights``), or cross section x luminosity / entries without a weight.
    Negative weights are kept with their sign.

    ``tree``: read this tree instead of the sample's (a systematic variation tree: the same branches, its
    own events and selection). ``weights``: further weights, column name -> expression (a weight variation:
    the full event weight under it), normalised as the nominal weight is.
    """
    cut = selection(analysis, sample)
    weights = dict(weights or {})
    if weights and not analysis.weight:
        raise UserArgumentError(f"analysis {analysis.name!r}: weight variations need the analysis 'weight'")
    wanted = _inputs(analysis, columns) + [w for w in weights.values() if w not in columns]
    tree = tree or sample.tree
    total_entries = 0
    parts: list[dict[str, np.ndarray]] = []
    for path in files:
        t = open_tree(path, tree, wanted)
        where = f"file {path}, tree {tree!r}"
        keys = expressions.keys(t)
        try:
            branches = expressions.needed_branches(wanted, keys, where)
            branches += expressions.needed_branches([cut] if cut else [], keys, where, "selection")
            for arrays, start, stop in expressions.iterate(t, branches, step_size):
                keep = expressions.mask(cut, arrays, where)
                exprs = list(dict.fromkeys(columns + ([analysis.weight] if analysis.weight else []) + list(weights.values())))
                values = expressions.evaluate(exprs, arrays, analysis.feature_pads(), where, analysis.pad)
                part = {c: v[keep] for c, v in values.items()}
                if analysis.event:
                    part["_event"] = expressions.event_numbers(arrays, analysis.event, where)[keep]
                else:  # entry numbers are the event numbers when there is no event branch
                    part["_event"] = (np.arange(start, stop) + total_entries)[keep]
                parts.append(part)
        except ExpressionError:
            raise
        except Exception as exc:
            raise InputFileError(f"{where}: reading failed" + (f" with selection {cut!r}" if cut else "")
                             + f": {_short(exc)}") from None
        total_entries += t.num_entries
    names = list(dict.fromkeys(columns + ([analysis.weight] if analysis.weight else []) + list(weights.values())))
    names += ["_event"]
    # each column joined while its chunks are let go, and the frame made on those arrays (no copy): the read's
    # peak memory is about one copy of the sample's values (benchmarks/large_train.py, 5M events)
    values = {c: np.concatenate([p.pop(c) for p in parts]) if parts else np.zeros(0) for c in names}
    del parts
    df = pd.DataFrame(values, copy=False)
    if len(df) == 0:
        raise InputFileError(
            f"sample {sample.name!r} is empty after the selection {cut!r} (files: {', '.join(files)})"
        )
    _check_finite(df, columns, f"sample {sample.name!r} ({', '.join(files)})")
    scale = 1.0
    if analysis.weight and sample.sum_of_weights:
        scale = sample.cross_section * analysis.luminosity / sum_of_weights(sample, files)
        weight = df[analysis.weight].to_numpy(dtype=np.float64) * scale
    elif analysis.weight:
        weight = df[analysis.weight].to_numpy(dtype=np.float64)
    else:
        weight = np.full(len(df), sample.cross_section * analysis.luminosity / total_entries)
    out = pd.DataFrame({c: values[c] for c in columns}, copy=False)
    out["weight"] = weight
    out["event"] = df["_event"].to_numpy(np.int64)
    for name, expr in weights.items():
        out[name] = df[expr].to_numpy(dtype=np.float64) * scale
    return out


def columns_for(analysis: Analysis) -> list[str]:
    """Features plus mass variables: what every notebook needs from the ntuples."""
    return list(dict.fromkeys(list(analysis.features) + list(analysis.masses.values())))


def _missing_hint(analysis: Analysis, kl: float, sample: Sample, exc: Exception) -> InputFileError:
    if analysis.toy:
        return MissingInputFile(
            f"{exc}: generate the toy ntuples first (hhnb generate --analyses {analysis.name} --lambdas "
            f"{_lambdas.tag(kl)}), or pass generate=True to generate missing toy files"
        )
    what = "no signal sample" if sample.klass == analysis.signal_class else "a background sample is missing"
    return MissingInputFile(f"analysis {analysis.name!r}: {what} for lambda {_lambdas.tag(kl)} ({exc}); "
                            f"config {analysis.source}")


def load(analysis: Analysis, kl: float | str, data_dir: str | Path | None = None, n_classes: int | None = None,
         step_size: str | int = "200 MB", signal_only: bool = False) -> pd.DataFrame:
    """Read every sample of an analysis at one lambda: features, masses, sample, label, weight, event, is_test.

    Only the signal sample(s) that provide ``kl`` are read (``signal_only``: nothing else). ``label`` is the class index:
    the analysis classes in order, or signal = 0 / background = 1 when ``n_classes == 2``.
    A missing file is an error naming it and the command that makes it (toy files are generated on demand by
    :func:`hhnb.toy.ondemand.generate_missing`, which the steps offering ``generate=True`` call first).
    """
    kl = _lambdas.parse(kl)
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    n_classes = n_classes or len(analysis.classes)
    if n_classes not in (2, len(analysis.classes)):
        raise UserArgumentError(
            f"analysis {analysis.name!r} has classes {list(analysis.classes)}: n_classes must be 2 or "
            f"{len(analysis.classes)}, got {n_classes}"
        )
    samples = [s for s in analysis.samples_at(kl) if not signal_only or s.klass == analysis.signal_class]
    columns = columns_for(analysis)
    frames = []
    for sample in samples:
        try:
            files = sample_files(sample, data_dir, kl if sample.is_lambda_dependent else None)
        except MissingInputFile as exc:
            raise _missing_hint(analysis, kl, sample, exc) from None
        df = read_sample(analysis, sample, files, columns, step_size=step_size)
        k = analysis.classes.index(sample.klass)
        df["label"] = np.int32(k if n_classes == len(analysis.classes) else min(k, 1))
        df["sample"] = sample.name
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["is_test"] = is_test(out["event"].to_numpy())
    out["sample"] = out["sample"].astype("category")
    return out
