"""``hhnb samples``: the samples of an analysis with events, weighted yield and files."""

from __future__ import annotations

import argparse

import pandas as pd

from hhnb import layout as paths
from hhnb.config import analyses as _config
from hhnb.config import lambdas
from hhnb.io import expressions
from hhnb.io import ntuples as data
from hhnb.io.tables import text_table


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--analysis", default="all", help="analysis name or 'all'")
    p.add_argument("--lambda", dest="kl", default="1", help="kappa_lambda of the signal (default 1)")
    p.add_argument("--config", help="your analyses YAML (default: the shipped toy analyses)")
    p.add_argument("--data-dir", help="data folder (default <project>/data)")


def sample_rows(analysis, kl: float, data_dir) -> list[dict]:
    """Per sample: entries in the files, weighted yield before selection (normalised by the sum of generator
    weights when the sample says where it is), files."""
    rows = []
    needed = data.columns_for(analysis) + [b for b in (analysis.weight, analysis.event) if b]
    for s in analysis.samples_at(kl):
        files = data.sample_files(s, data_dir, kl if s.is_lambda_dependent else None)
        n, y = 0, 0.0
        for f in files:
            t = data.open_tree(f, s.tree, needed)
            n += t.num_entries
            if analysis.weight:
                where = f"file {f}, tree {s.tree!r}"
                for arrays, _, _ in expressions.iterate(t, expressions.needed_branches([analysis.weight], t.keys(),
                                                                                      where)):
                    y += float(expressions.evaluate([analysis.weight], arrays, where=where)[analysis.weight].sum())
        if analysis.weight and s.sum_of_weights:
            y *= s.cross_section * analysis.luminosity / data.sum_of_weights(s, files)
        if not analysis.weight:
            y = (s.cross_section or 0.0) * analysis.luminosity
        rows.append({"analysis": analysis.name, "sample": s.name, "class": s.klass, "events": n,
                     f"yield ({analysis.luminosity:g} fb^-1)": y, "files": ", ".join(files)})
    return rows


def run(args: argparse.Namespace) -> int:
    cfg = _config.load(args.config)
    names = list(cfg.analyses) if args.analysis == "all" else [args.analysis]
    data_dir = paths.data_dir(args.data_dir)
    rows = []
    for name in names:
        rows += sample_rows(cfg.analysis(name), lambdas.parse(args.kl), data_dir)
    print(text_table(pd.DataFrame(rows), ".6g"))
    return 0
