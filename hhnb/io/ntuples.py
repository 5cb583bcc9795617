"""Reading ntuples: uproot in chunks, selection, class labels, weights and a train/test split.

The split is by event number (``event % 5 == 0`` is the 20 % test set), so every
later step (apply, evaluation) knows which events a network never saw.
"""

from __future__ import annotations

import difflib
import glob
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import uproot

from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis, Sample

log = logging.getLogger(__name__)

TEST_MODULUS = 5  # event % 5 == 0 -> test set (20 %)
META = ("sample", "label", "weight", "event", "is_test")


class InputError(ValueError):
    """An input file, tree, branch or value that hhnb cannot use as it is."""


def default_data_dir() -> Path:
    """The project's ``data/`` folder (found from the current directory upwards)."""
    from hhnb.layout import project_dir

    return project_dir() / "data"


def is_test(event: np.ndarray) -> np.ndarray:
    """True for the events held out for testing (never trained on)."""
    return (np.asarray(event) % TEST_MODULUS) == 0


def sample_files(sample: Sample, data_dir: str | Path, kl: float | None = None) -> list[str]:
    """Expand a sample's file patterns ({data_dir}, {tag}, globs) into existing files, or raise."""
    tag = _lambdas.tag(kl) if kl is not None else None
    out: list[str] = []
    for pattern in sample.files:
        if "{tag}" in pattern and tag is None:
            raise InputError(f"sample {sample.name!r}: files {pattern!r} need a lambda value")
        text = pattern.replace("{data_dir}", str(data_dir)).replace("{tag}", tag or "")
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else ([text] if Path(text).exists() else [])
        if not matches:
            raise FileNotFoundError(
                f"sample {sample.name!r}: no file matches {text!r}"
                + (" (glob)" if glob.has_magic(text) else "")
            )
        out.extend(matches)
    return out


def open_tree(path: str, tree: str, branches: list[str]):
    """Open ``path`` and return its tree after checking that every branch exists (clear errors)."""
    try:
        f = uproot.open(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"file {path} does not exist") from None
    except Exception as exc:  # uproot raises many kinds on bad bytes
        raise InputError(f"file {path} is not a readable ROOT file (corrupt or truncated?): {exc}") from None
    try:
        trees = [k.split(";")[0] for k, c in f.classnames().items() if c in ("TTree", "TNtuple")]
    except Exception as exc:
        raise InputError(f"file {path} is not a readable ROOT file (corrupt or truncated?): {exc}") from None
    if tree not in trees:
        raise InputError(
            f"file {path} has no tree {tree!r}; trees in the file: {', '.join(sorted(set(trees))) or 'none'}"
        )
    try:
        t = f[tree]
        keys = set(t.keys())
    except Exception as exc:
        raise InputError(f"file {path}, tree {tree!r} cannot be read (corrupt or truncated?): {exc}") from None
    missing = [b for b in branches if b not in keys]
    if missing:
        hints = []
        for b in missing:
            close = difflib.get_close_matches(b, sorted(keys), n=3, cutoff=0.6)
            hints.append(f"{b!r}" + (f" (close: {', '.join(close)})" if close else ""))
        raise InputError(f"file {path}, tree {tree!r}: missing branch(es) {'; '.join(hints)}")
    return t


def _selection(analysis: Analysis, sample: Sample) -> str | None:
    parts = [s for s in (analysis.selection, sample.selection) if s]
    return " & ".join(f"({p})" for p in parts) if parts else None


def _check_finite(df: pd.DataFrame, columns: list[str], where: str) -> None:
    values = df[columns].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        counts = bad.sum(axis=0)
        detail = ", ".join(f"{c}: {int(n)}" for c, n in zip(columns, counts) if n)
        raise InputError(f"{where}: NaN or infinite values in {int(bad.any(axis=1).sum())} events ({detail})")


def read_sample(analysis: Analysis, sample: Sample, files: list[str], columns: list[str],
                step_size: str | int = "200 MB") -> pd.DataFrame:
    """Read one sample's columns in chunks, apply the selection, attach weight and event number."""
    selection = _selection(analysis, sample)
    needed = list(dict.fromkeys(columns + [b for b in (analysis.weight, analysis.event) if b]))
    total_entries = 0
    chunks = []
    for path in files:
        t = open_tree(path, sample.tree, needed)
        try:
            # the selection is evaluated as an alias (uproot's expression language) so that
            # entry numbers stay known: they are the event numbers when there is no event branch
            expressions = needed + (["_hhnb_pass"] if selection else [])
            aliases = {"_hhnb_pass": selection} if selection else None
            for chunk, report in t.iterate(expressions=expressions, aliases=aliases, step_size=step_size,
                                           library="pd", report=True):
                if analysis.event is None:
                    chunk["_entry"] = np.arange(report.tree_entry_start, report.tree_entry_stop) + total_entries
                if selection:
                    chunk = chunk[chunk.pop("_hhnb_pass").to_numpy(bool)]
                chunks.append(chunk)
        except Exception as exc:
            raise InputError(
                f"file {path}, tree {sample.tree!r}: reading failed"
                + (f" with selection {selection!r}" if selection else "") + f": {exc}"
            ) from None
        total_entries += t.num_entries
    df = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=needed)
    if len(df) == 0:
        raise InputError(
            f"sample {sample.name!r} is empty after the selection {selection!r} (files: {', '.join(files)})"
        )
    _check_finite(df, columns, f"sample {sample.name!r} ({', '.join(files)})")
    if analysis.weight:
        weight = df[analysis.weight].to_numpy(dtype=np.float64)
    else:
        weight = np.full(len(df), sample.cross_section * analysis.luminosity / total_entries)
    event = df[analysis.event].to_numpy(np.int64) if analysis.event else df["_entry"].to_numpy(np.int64)
    out = df[columns].copy()
    out["weight"] = weight
    out["event"] = event
    return out


def columns_for(analysis: Analysis) -> list[str]:
    """Features plus mass variables: what every notebook needs from the ntuples."""
    return list(dict.fromkeys(list(analysis.features) + list(analysis.masses.values())))


def ensure_signal(analysis: Analysis, kl: float, data_dir: str | Path, events: int | None = None,
                  seed: int | None = None) -> None:
    """Check that the signal at ``kl`` exists; for toy analyses generate whatever toy file is missing."""
    from hhnb.config import defaults

    events = events or defaults.EVENTS
    seed = defaults.SEED if seed is None else seed
    if analysis.toy:
        for sample in analysis.samples:
            if sample.klass == analysis.signal_class:
                continue
            try:
                sample_files(sample, data_dir)
            except FileNotFoundError:
                from hhnb.toy.generate import generate_sample

                log.info("generating the toy sample %s in %s", sample.name, data_dir)
                generate_sample(data_dir, sample.name, 1.0, events=events, seed=seed, progress=False)
    for sample in analysis.samples_of(analysis.signal_class):
        if sample.lambdas is not None and not any(abs(kl - v) < 1e-9 for v in sample.lambdas):
            raise InputError(
                f"analysis {analysis.name!r}: sample {sample.name!r} provides lambda "
                f"{', '.join(_lambdas.tag(v) for v in sample.lambdas)} only, not {_lambdas.tag(kl)}"
            )
        try:
            sample_files(sample, data_dir, kl)
        except FileNotFoundError as exc:
            if not analysis.toy:
                raise InputError(
                    f"analysis {analysis.name!r}: no signal sample for lambda {_lambdas.tag(kl)} ({exc}); "
                    f"config {analysis.source}"
                ) from None
            from hhnb.toy.generate import generate_sample

            log.info("generating the toy signal at lambda %s in %s", _lambdas.tag(kl), data_dir)
            generate_sample(data_dir, "hh", kl, events=events, seed=seed, progress=False)


def load(analysis: Analysis, kl: float | str, data_dir: str | Path | None = None, n_classes: int | None = None,
         step_size: str | int = "200 MB", generate_missing: bool = True) -> pd.DataFrame:
    """Read every sample of an analysis at one lambda: features, masses, sample, label, weight, event, is_test.

    ``label`` is the class index: the analysis classes in order, or signal = 0 /
    background = 1 when ``n_classes == 2``.
    """
    kl = _lambdas.parse(kl)
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    n_classes = n_classes or len(analysis.classes)
    if n_classes not in (2, len(analysis.classes)):
        raise ValueError(
            f"analysis {analysis.name!r} has classes {list(analysis.classes)}: n_classes must be 2 or "
            f"{len(analysis.classes)}, got {n_classes}"
        )
    if generate_missing:
        ensure_signal(analysis, kl, data_dir)
    columns = columns_for(analysis)
    frames = []
    for sample in analysis.samples:
        files = sample_files(sample, data_dir, kl if sample.is_lambda_dependent else None)
        df = read_sample(analysis, sample, files, columns, step_size=step_size)
        k = analysis.classes.index(sample.klass)
        df["label"] = np.int32(k if n_classes == len(analysis.classes) else min(k, 1))
        df["sample"] = sample.name
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["is_test"] = is_test(out["event"].to_numpy())
    out["sample"] = out["sample"].astype("category")
    return out
