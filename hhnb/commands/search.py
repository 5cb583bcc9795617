"""``hhnb search``: Optuna hyper-parameter search for one analysis and lambda (study in the project's runs/)."""

from __future__ import annotations

import argparse

import optuna

from hhnb import layout
from hhnb.config import lambdas
from hhnb.config.training import parse_decorrelation
from hhnb.errors import UserArgumentError
from hhnb.nn import search


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--analysis", default="resolved", help="analysis name (default resolved)")
    p.add_argument("--lambda", dest="kl", default="1", help="kappa_lambda value or tag (default 1)")
    p.add_argument("--trials", type=int, default=15, help="finished trials the study should hold (default 15)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per trial, with early stopping (default: the training default, hhnb.config.training)")
    p.add_argument("--sampler", choices=("random", "tpe"), default="random", help="random (default) or tpe")
    p.add_argument("--seed", type=int, default=1, help="sampler and training seed (default 1)")
    p.add_argument("--study", default=None, help=f"study name (default e.g. {layout.study_name('resolved', 1)})")
    p.add_argument("--storage", default="default",
                   help="Optuna storage URL (default sqlite:///<project>/runs/optuna.sqlite)")
    p.add_argument("--max-events", type=int, default=None, help="at most this many training events per sample")
    p.add_argument("--batch-sizes", default=None, help="comma list of batch sizes to try (default 64,...,1024)")
    p.add_argument("--config", default=None, help="analysis YAML (default the shipped analyses.yaml)")
    p.add_argument("--data-dir", default=None, help="ntuple folder (default <project>/data)")
    p.add_argument("--no-record", action="store_true", help="do not add the best combination to the run record")
    p.add_argument("--decorrelation", default="none",
                   help="train every trial decorrelated from the analysis' masses: none (default), disco:STRENGTH "
                        "(e.g. disco:10) or flat")


def run(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = search.Space()
    if args.batch_sizes:
        try:
            sizes = tuple(int(v) for v in args.batch_sizes.split(",") if v.strip())
        except ValueError:
            raise UserArgumentError(f"--batch-sizes {args.batch_sizes!r}: expected integers like 64,128,256") from None
        space = search.Space(batch_sizes=sizes)
    if args.trials < 1:
        raise UserArgumentError(f"--trials must be at least 1, got {args.trials}")
    kl = lambdas.parse(args.kl)
    dec = parse_decorrelation(getattr(args, "decorrelation", "none"))
    name = args.study or search.study_name(args.analysis, kl)
    print(f"study {name}: {args.analysis} lambda {lambdas.tag(kl)}, {args.trials} trials, {args.sampler} sampler")
    res = search.search(args.analysis, kl, trials=args.trials, epochs=args.epochs, sampler=args.sampler,
                        seed=args.seed, name=name, storage=args.storage, config=args.config,
                        data_dir=args.data_dir, max_events=args.max_events, space=space,
                        write_record=not args.no_record, decorrelation=dec)
    best = search.describe(res.best_params)
    print(f"best of {res.n_complete} trials: validation AUC {res.best_value:.4f} with {best}")
    if res.record_id is not None:
        print(f"added to the run record as row {res.record_id} (hhnb record)")
    return 0
