"""Toy ntuples generated on demand: the files a toy analysis needs at one lambda that are missing or stale.

The readers in :mod:`hhnb.io` never generate anything; the steps that offer ``generate=True`` (training,
the reports) call :func:`generate_missing` first, and it says on stdout what it writes.
"""

from __future__ import annotations

from pathlib import Path

from hhnb.config import defaults
from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis
from hhnb.errors import MissingInputFile
from hhnb.io.ntuples import sample_files
from hhnb.toy.generate import generate_sample, is_current


def missing_files(analysis: Analysis, kl: float, data_dir: str | Path) -> list[tuple[str, float]]:
    """(sample, lambda) of every toy file a network for ``kl`` needs that is not in ``data_dir`` yet, or that
    another version of the generator wrote (``hhnb.toy.generate.toy_version``): a toy cache never goes stale."""
    if not analysis.toy:
        return []
    out = []
    for sample in analysis.samples_at(kl):
        sample_kl = kl if sample.is_lambda_dependent else 1.0
        try:
            files = sample_files(sample, data_dir, sample_kl)
        except MissingInputFile:
            out.append((sample.name, sample_kl))
            continue
        if not all(is_current(f) for f in files):
            out.append((sample.name, sample_kl))
    return out


def generate_missing(analysis: Analysis, kl: float, data_dir: str | Path, events: int | None = None,
                     seed: int | None = None) -> list[tuple[str, float]]:
    """Generate the toy files a network for ``kl`` needs and that are missing; one line on stdout for each."""
    missing = missing_files(analysis, kl, data_dir)
    for name, sample_kl in missing:
        print(f"generating the toy sample {name} (lambda {_lambdas.tag(sample_kl)}) in {data_dir}", flush=True)
        generate_sample(data_dir, name, sample_kl, events=events or defaults.EVENTS,
                        seed=defaults.SEED if seed is None else seed, progress=False)
    return missing
