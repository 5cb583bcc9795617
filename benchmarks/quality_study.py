"""The study behind benchmarks/bench_quality.py: network variants against the tuned boosted trees (issue 28, item 2).

Every variant is trained on the bench's split (``training_arrays(..., folds=1)``) of resolved kl=1, boosted kl=10
and tthh kl=1 with training seeds 1-3 (1-6 where an ensemble of two seeds is formed: seeds (1, 4), (2, 5),
(3, 6) are its three "training seeds"); each fit's validation and test scores are kept under
``benchmarks/results/quality/`` so the table can be printed again without training. A variant is chosen on the
weighted validation AUC (mean over its three seeds) only; the test AUC is reported beside it.

    python benchmarks/quality_study.py train VARIANT [VARIANT ...] [--seeds 1 2 3] [--analyses resolved ...]
    python benchmarks/quality_study.py table
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality as bq  # noqa: E402
from common import data_dir  # noqa: E402

from hhnb.config import analyses as config  # noqa: E402
from hhnb.config.training import LEARNING_RATE, HyperParameters  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "quality"


def gauss_rank(x_train: np.ndarray, x: np.ndarray, n_quantiles: int = 1000) -> np.ndarray:
    """Each column mapped through its training quantiles onto a standard normal (Gaussian-rank transform).

    Columns with few distinct values (counts, b-tag flags) keep their order; ties take the mean rank.

    >>> xt = np.arange(11, dtype=float)[:, None]
    >>> [round(float(v), 2) for v in gauss_rank(xt, np.array([[0.0], [5.0], [10.0]]), 11)[:, 0]]
    [-1.69, 0.0, 1.69]
    """
    from scipy.special import ndtri  # noqa: PLC0415

    q = np.linspace(0.0, 1.0, n_quantiles)
    out = np.empty(x.shape, np.float32)
    eps = 0.5 / n_quantiles  # the outermost quantiles end at about +-3.3 sigma for 1000
    for j in range(x.shape[1]):
        ref = np.quantile(x_train[:, j], q)
        # interpolate forward and backward and average: ties (repeated quantiles) get their middle rank
        u = 0.5 * (np.interp(x[:, j], ref, q) + 1 - np.interp(-x[:, j], -ref[::-1], 1 - q[::-1]))
        out[:, j] = ndtri(np.clip(u, eps, 1 - eps))
    return out


#: name -> (HyperParameters changes, input transform); ensembles ("+ens2") are formed from the saved scores
VARIANTS: dict[str, tuple[dict, str]] = {
    "defaults": ({}, "raw"),
    "gaussrank": ({"log_inputs": False}, "gaussrank"),
    "deep3": ({"widths": (200, 200, 200)}, "raw"),
    "wide300_d02": ({"widths": (300, 300), "dropout": 0.2}, "raw"),
    "lr_x2": ({"lr_factor": 2.0}, "raw"),
    "lr_x0.5": ({"lr_factor": 0.5}, "raw"),
    "gaussrank_deep3": ({"log_inputs": False, "widths": (200, 200, 200)}, "gaussrank"),
    "batch500": ({"batch_size": 500}, "raw"),
    "patience20": ({"patience": 20}, "raw"),
    # weights averaged over epochs 10-30 (stochastic weight averaging, Izmailov et al. 2018, arXiv:1803.05407):
    # a fixed 30 epochs, no early stop
    "swa30": ({"epochs": 30, "patience": 100, "average_from": 10}, "raw"),
    # the defaults' training and early stop, then the weights averaged over the second half of its epochs
    "swa_half": ({"average_from": "half"}, "raw"),
    # the defaults' training and early stop, then the weights averaged over the epochs best - 5 ... best + 5
    # (best: the lowest validation loss, the epoch the defaults restore)
    "swa_best5": ({"average_from": "best5"}, "raw"),
}


@contextlib.contextmanager
def weight_averaging(start: int | str):
    """Within the block, every hhnb fit ends with its weights averaged over the epochs from ``start`` on (SWA);
    ``start="half"``: over the second half of the epochs the fit ran (early stopping decides how many);
    ``start="best5"``: over the epochs within 5 of the one of lowest validation loss.

    The study's stand-in for a training option: a Keras callback added to :func:`hhnb.nn.loop.train`'s list.
    """
    from hhnb.nn import backend, loop  # noqa: PLC0415

    k = backend.keras()

    class Average(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.kept, self.losses = [], []

        def on_epoch_end(self, epoch, logs=None):
            if isinstance(start, str) or epoch >= start:
                self.kept.append(self.model.get_weights())
                self.losses.append(float((logs or {}).get("val_loss", np.nan)))

        def on_train_end(self, logs=None):
            best = int(np.nanargmin(self.losses)) if self.losses else 0
            kept = (self.kept[len(self.kept) // 2:] if start == "half" else
                    self.kept[max(0, best - 5):best + 6] if start == "best5" else self.kept)
            if kept:
                self.model.set_weights([np.mean(ws, axis=0) for ws in zip(*kept)])

    original = loop.train

    def train(model, *args, callbacks, **kwargs):
        return original(model, *args, callbacks=[*callbacks, Average()], **kwargs)

    loop.train = train
    try:
        yield
    finally:
        loop.train = original


def train_variant(s: bq.Split, variant: str, seed: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(validation p_sig, test p_sig, events x epochs, fit seconds) of one training."""
    from hhnb.nn.fit import fit  # noqa: PLC0415
    from hhnb.nn.predict import predict  # noqa: PLC0415

    changes, transform = VARIANTS[variant]
    changes = dict(changes)
    factor = changes.pop("lr_factor", 1.0)
    average_from = changes.pop("average_from", None)
    ana = config.analysis(s.analysis)
    hyper = HyperParameters.scaled((ana.learning_rate or LEARNING_RATE) * factor, **changes)
    x = gauss_rank(s.x[s.train], s.x) if transform == "gaussrank" else s.x
    tr, va, te = s.train, s.val, s.test
    if average_from is None:
        res = fit(x[tr], s.y[tr], s.sw[tr], x[va], s.y[va], s.sw[va], len(s.classes), hyper, seed=seed)
    else:
        with weight_averaging(average_from):
            res = fit(x[tr], s.y[tr], s.sw[tr], x[va], s.y[va], s.sw[va], len(s.classes), hyper, seed=seed,
                      restore_best=False)
    return (predict(res.model, x[va])[:, 0], predict(res.model, x[te])[:, 0], int(tr.sum()) * res.epochs_run,
            res.train_time_s)


def _path(analysis: str, variant: str, seed: int) -> Path:
    return OUT / f"{analysis}_{variant}_seed{seed}.npz"


def train(variants: list[str], seeds: list[int], analyses: list[str]) -> None:
    d = data_dir(lambdas=(1.0, 10.0), analyses=("resolved", "boosted", "tthh"))
    OUT.mkdir(parents=True, exist_ok=True)
    for analysis, kl in bq.CASES:
        if analysis not in analyses:
            continue
        s = bq.split(analysis, kl, d)
        for variant in variants:
            for seed in seeds:
                if _path(analysis, variant, seed).exists():
                    continue
                v, t, cost, secs = train_variant(s, variant, seed)
                np.savez(_path(analysis, variant, seed), val=v, test=t, cost=cost, seconds=secs)
                print(f"{analysis} {variant} seed {seed}: val {s.auc('val', v):.4f} test {s.auc('test', t):.4f} "
                      f"{cost / int(s.train.sum()):.0f} epochs {secs:.0f} s", flush=True)


def _fits(analysis: str, variant: str) -> dict[int, dict]:
    return {seed: dict(np.load(_path(analysis, variant, seed))) for seed in range(1, 7)
            if _path(analysis, variant, seed).exists()}


def table() -> None:
    """Per variant and analysis: validation and test AUC minus the best tuned peer's, per seed and mean."""
    d = data_dir(lambdas=(1.0, 10.0), analyses=("resolved", "boosted", "tthh"))
    lines = ["| variant | analysis | seeds | val AUC - peer (per seed) | val mean | test AUC - peer (per seed) | "
             "test mean +- boot | cost (events x epochs / default) | s a fit |", "|" + "---|" * 9]
    summary = {}
    for analysis, kl in bq.CASES:
        s = bq.split(analysis, kl, d)
        tuned = {p: bq.tune(s, p) for p in bq.PEERS}
        best = max(bq.PEERS, key=lambda p: tuned[p].val_auc)
        ref = tuned[best]
        print(f"{analysis}: best tuned peer {best} ({bq.describe(best, ref.config)}, {ref.rounds} rounds) "
              f"val {ref.val_auc:.4f} test {ref.test_auc:.4f}; " +
              ", ".join(f"{p} val {tuned[p].val_auc:.4f} test {tuned[p].test_auc:.4f} "
                        f"[{bq.describe(p, tuned[p].config)}]" for p in bq.PEERS), flush=True)
        base = _fits(analysis, "defaults")
        base_cost = np.mean([base[k]["cost"] for k in sorted(base)[:3]]) if base else np.nan
        cases = []  # (name, {seed: fit}, groups of seeds averaged)
        for variant in VARIANTS:
            fits = _fits(analysis, variant)
            cases.append((variant, fits, [[k] for k in (1, 2, 3) if k in fits]))
            if all(k in fits for k in range(1, 7)):
                cases.append((f"{variant}+ens2", fits, [[1, 4], [2, 5], [3, 6]]))
        mixed = {k: _fits(analysis, "defaults").get(k) for k in (1, 2, 3)}
        mixed.update({-k: _fits(analysis, "gaussrank").get(k) for k in (1, 2, 3)})
        if all(v is not None for v in mixed.values()):  # one raw-input and one Gaussian-rank network per seed
            cases.append(("defaults+gaussrank (same seed)", mixed, [[1, -1], [2, -2], [3, -3]]))
        for name, fits, grp in cases:
            if not grp:
                continue
            vals, tests, sig, costs, secs = [], [], [], [], []
            for g in grp:
                pv = np.mean([fits[k]["val"] for k in g], axis=0)
                pt = np.mean([fits[k]["test"] for k in g], axis=0)
                vals.append(s.auc("val", pv) - ref.val_auc)
                tests.append(s.auc("test", pt) - ref.test_auc)
                sig.append(bq.boot_sigma(s, pt, ref.test_scores))
                costs.append(sum(float(fits[k]["cost"]) for k in g) / base_cost)
                secs.append(sum(float(fits[k]["seconds"]) for k in g))
            summary[(name, analysis)] = (np.mean(vals), np.mean(tests))
            lines.append(f"| {name} | {analysis} | {','.join('+'.join(map(str, g)) for g in grp)} | "
                         f"{' / '.join(f'{v:+.4f}' for v in vals)} | {np.mean(vals):+.4f} | "
                         f"{' / '.join(f'{t:+.4f}' for t in tests)} | {np.mean(tests):+.4f} +- "
                         f"{np.sqrt(np.mean(np.square(sig))) / np.sqrt(len(sig)):.4f} | {np.mean(costs):.2f} | "
                         f"{np.mean(secs):.0f} |")
    print("\n".join(lines))
    print("\nmean over the three analyses (val / test, difference to the best tuned peer):")
    for name in dict.fromkeys(k[0] for k in summary):
        got = [summary[(name, a)] for a, _ in bq.CASES if (name, a) in summary]
        if len(got) == 3:
            print(f"  {name}: val {np.mean([g[0] for g in got]):+.4f} (worst {min(g[0] for g in got):+.4f}), "
                  f"test {np.mean([g[1] for g in got]):+.4f} (worst {min(g[1] for g in got):+.4f})")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("variants", nargs="+", choices=list(VARIANTS))
    t.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    t.add_argument("--analyses", nargs="+", default=[a for a, _ in bq.CASES])
    sub.add_parser("table")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    if args.command == "train":
        train(args.variants, args.seeds, args.analyses)
    else:
        table()
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
