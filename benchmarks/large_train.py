"""``make bench-large``, training rows: the default network trained on 5 million toy events (resolved, kl = 1).

Measured, in one run, at 5M and at 200k selected events (the same code path and settings):

* peak memory (VmHWM of a fresh process that runs :func:`hhnb.nn.training.train` as a notebook does:
  TensorFlow, reading the ntuples, the arrays, the fit, scoring every event, writing model, card, scores);
* events x epochs per second of the fit (training events x epochs / seconds of
  :func:`hhnb.nn.fit.fit`), and the steady rate per epoch (the epochs after the first, no graph tracing),
  with the CPU seconds the fit obtained per wall second (the machine is shared).

The network is hhnb's default (``HyperParameters.scaled(analysis learning rate)``, what ``train`` uses when
given no hyper-parameters) with one change, a fixed number of epochs (:data:`EPOCHS`, both sizes) instead of
up to 50: this is a throughput and memory measurement. Early stopping cannot end either training early: its
patience (10, the default) exceeds the epochs, and the child checks that every epoch ran. One network
(``folds=1``: 80 % of the events outside the test set, 10 % of those for early stopping), seed 1.
The events are held in memory as three tensors (``hhnb.nn.loop``), not streamed.

The toy events: the resolved category of the toy generator (:mod:`hhnb.toy.generate`, same samples, slices,
importance sampling, weights and event shares as ``hhnb generate``), written by :func:`generate_resolved`:
nominal tree only, and the generation of a sample's slice stops when its resolved events are there (``hhnb
generate`` writes the three HH categories and four variation trees, and keeps generating until the rare
boosted category is full: about 1.8 CPU hours for 5M selected resolved events, measured at 1/240 of that;
this takes 13 CPU minutes, 141M generated events, 2.9 GB peak). Kept in a temporary directory deleted at the
end (``--keep DIR``: kept and reused, its ``generation.json`` records how long it took).

    .venv/bin/python benchmarks/large_train.py [--events 5000000] [--small 200000] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT_DIR = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT_DIR))

from common import store  # noqa: E402

from hhnb.toy import generate as gen  # noqa: E402

OUT = HERE / "stored" / "large_train.json"
EPOCHS = 3
#: selected resolved events (kl = 1) per unit of the generator's ``events``, measured at events = 5000
#: (20650 selected of 25006 written); the sets are generated 3 % larger so that they hold at least the number asked
SELECTED_PER_EVENT = 4.13
MEMORY_GOAL_MB = 4000.0
RATE_GOAL = 0.8
BATCH = 50_000


def generate_resolved(data_dir: Path, events: int, seed: int = 42, kl: float = 1.0) -> dict[str, dict]:
    """The resolved files of the toy at ``events`` (the ``events`` of ``hhnb generate``): nominal tree only.

    Per sample and pT slice the same events targets as :func:`hhnb.toy.generate.generate_sample` (its
    ``_slice_targets``, resolved column), batches from the same generator functions, weight sigma x L /
    generated x accepted / kept as there. Returns per sample the events written and generated, and the seconds.
    """
    out = {}
    for sample in ("hh", *gen.HH_BACKGROUNDS):
        t0 = time.perf_counter()
        n = max(1, round(events * gen.EVENT_SHARE.get(sample, 1.0)))
        pieces = gen._slices(sample, kl)
        rng = gen._seed(seed, sample, "resolved-only", kl)
        targets = gen._slice_targets(sample, kl, pieces, len(gen.toy_hh.CATEGORIES), n, rng, True)[:, 0]
        merged, offset = [], 0
        for (pt_slice, xsec), target in zip(pieces, targets):
            kept, accepted, generated = [], 0, 0
            while accepted < target and generated < 200 * target:
                b = gen._batch(sample, kl, pt_slice, BATCH, rng, True)
                sel = b["category"] == 0
                b["eventNumber"] = np.arange(generated, generated + BATCH, dtype=np.int64) + offset
                kept.append({k: v[sel] for k, v in b.items()})
                accepted += int(sel.sum())
                generated += BATCH
            arrays = {k: np.concatenate([d[k] for d in kept]) for k in kept[0]}
            del kept
            keep = min(accepted, int(target))
            arrays = {k: v[:keep] for k, v in arrays.items()}
            merged.append(gen._weights(arrays, xsec * gen.LUMINOSITY / generated * accepted / keep))
            offset += generated
        arrays = {k: np.concatenate([d[k] for d in merged]) for k in merged[0]}
        del merged
        info = (f"hhnb toy (benchmarks/large_train.py, resolved only, nominal tree): sample={sample} kl={kl} "
                f"seed={seed} bias=True toy={gen.toy_version()} generated={offset}")
        gen._write(data_dir / "resolved" / gen.file_name(sample, kl), arrays, info)
        out[sample] = {"written": len(arrays["weight"]), "generated": offset,
                       "seconds": round(time.perf_counter() - t0, 1)}
        print(f"  generated {sample}: {out[sample]}", flush=True)
    return out


# The training in a fresh process: VmHWM of its own image (see bench_apply's note on ru_maxrss). fit and
# training_arrays are wrapped (same functions, called by train as usual) to time the fit and its CPU.
_CHILD = r"""
import json, os, re, sys, time
def status(key):
    with open("/proc/self/status") as f:
        return int(re.search(key + r":\s+(\d+) kB", f.read()).group(1)) / 1024
from hhnb.config import analyses
from hhnb.config.training import HyperParameters
from hhnb.nn import training
data_dir, models_dir, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
info = {"rss_start_mb": status("VmRSS")}
from hhnb.nn import loop
arrays_fn, fit_fn, loop_fn = training.training_arrays, training.fit, loop.train
def arrays(*a, **k):
    t0 = time.perf_counter()
    r = arrays_fn(*a, **k)
    info.update(read_s=time.perf_counter() - t0, events=len(r.x), hwm_after_read_mb=status("VmHWM"),
                rss_after_read_mb=status("VmRSS"))
    return r
def fit(*a, **k):
    c0, t0 = sum(os.times()[:2]), time.perf_counter()
    r = fit_fn(*a, **k)
    info.update(fit_wall_s=time.perf_counter() - t0, fit_cpu_s=sum(os.times()[:2]) - c0, train_events=len(a[0]),
                train_time_s=r.train_time_s, epoch_ends_s=list(r.epoch_ends_s), epochs_run=r.epochs_run,
                hwm_after_fit_mb=status("VmHWM"))
    return r
def train_loop(*a, **k):
    c0, t0 = sum(os.times()[:2]), time.perf_counter()
    r = loop_fn(*a, **k)
    info.update(loop_wall_s=time.perf_counter() - t0, loop_cpu_s=sum(os.times()[:2]) - c0)
    return r
training.training_arrays, training.fit, loop.train = arrays, fit, train_loop
ana = analyses.analysis("resolved")
t0 = time.perf_counter()
run = training.train("resolved", 1.0, data_dir=data_dir, models_dir=models_dir, folds=1, seed=1,
                     hyper=HyperParameters.scaled(ana.learning_rate, epochs=epochs))
info.update(total_s=time.perf_counter() - t0, hwm_mb=status("VmHWM"), test_auc=run.card["metrics"]["test_auc"],
            hyper=run.card["hyperparameters"])
print(json.dumps(info))
"""


def train_child(data_dir: Path, models_dir: Path, epochs: int) -> dict:
    """Train in a fresh process (nice'd as the caller is); its timings, CPU and VmHWM."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT_DIR)}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, str(data_dir), str(models_dir), str(epochs)],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"training child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t0
    if res["epochs_run"] != epochs:
        raise RuntimeError(f"training ran {res['epochs_run']} epochs, not {epochs}: early stopping cut it")
    return res


def rates(res: dict) -> dict:
    """Events x epochs per second: the whole fit, and the steady epochs (after the first, median)."""
    ends = np.asarray(res["epoch_ends_s"])
    steady = float(np.median(np.diff(ends))) if len(ends) > 1 else float("nan")
    done = res["train_events"] * res["epochs_run"]
    return {"fit": done / res["train_time_s"], "epoch": res["train_events"] / steady,
            "cpu": res["loop_cpu_s"] / res["loop_wall_s"], "per_cpu_s": done / res["loop_cpu_s"]}


def _generate(d: Path, n: int) -> dict:
    """The resolved toy set of at least ``n`` selected events in ``d`` (kept when there): its generation figures."""
    record = d / "generation.json"
    if (d / "resolved" / "ttbar.root").exists() and record.exists():
        return {**json.loads(record.read_text()), "reused": True}
    print(f"generating the resolved toy for {n} events ...", flush=True)
    t0, c0 = time.perf_counter(), sum(os.times()[:2])
    per = generate_resolved(d, int(np.ceil(n / SELECTED_PER_EVENT * 1.03)))
    info = {"wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(sum(os.times()[:2]) - c0, 1),
            "generated": sum(v["generated"] for v in per.values()),
            "written": sum(v["written"] for v in per.values()), "samples": per}
    record.write_text(json.dumps(info) + "\n")
    return info


def rows(res: dict, small: int, big: int, epochs: int) -> list[dict]:
    """The three stored rows: peak memory at 5M, events x epochs/s (whole fit, steady epochs) 5M against 200k."""
    b, s = res[big], res[small]
    rb, rs = b["rates"], s["rates"]
    sizes = (f"{b['events'] / 1e6:.2f}M vs {s['events'] / 1e3:.0f}k resolved events ({b['train_events'] / 1e6:.2f}M "
             f"vs {s['train_events'] / 1e3:.0f}k trained)")
    how = (f"default network (lr {b['hyper']['learning_rate']:.4g} at batch {b['hyper']['batch_size']}), "
           f"{epochs} epochs fixed for both (patience {b['hyper']['patience']} > epochs: no early stop), folds=1, "
           f"events in memory as three tensors (not streamed)")
    cpu = f"loop: {rb['cpu']:.2f} vs {rs['cpu']:.2f} cores of 2 shared"
    per_cpu = (f"events x epochs per CPU second of the loop {rb['per_cpu_s']:.0f} vs {rs['per_cpu_s']:.0f} "
               f"(ratio {rb['per_cpu_s'] / rs['per_cpu_s']:.2f})")
    return [
        {"benchmark": f"train peak memory (VmHWM of the whole train() process, {b['total_s']:.0f} s), "
                      f"{b['events'] / 1e6:.2f}M resolved events ({b['train_events'] / 1e6:.2f}M trained); {how}; "
                      f"at {s['events'] / 1e3:.0f}k: {s['hwm_mb']:.0f} MB",
         "hhnb": b["hwm_mb"], "peer": f"goal {MEMORY_GOAL_MB:.0f} MB", "reference": MEMORY_GOAL_MB, "unit": "MB",
         "ratio": b["hwm_mb"] / MEMORY_GOAL_MB, "goal": f"<= {MEMORY_GOAL_MB:.0f} MB",
         "met": b["hwm_mb"] <= MEMORY_GOAL_MB, "lower_is_better": True, "cpu": cpu},
        {"benchmark": f"train events x epochs/s, steady epochs (after the first), {sizes}, {epochs} epochs each; "
                      f"the median of {epochs - 1} epoch times each",
         "hhnb": rb["epoch"], "peer": f"same training, {s['events'] / 1e3:.0f}k events", "reference": rs["epoch"],
         "unit": "events x epochs/s", "ratio": rb["epoch"] / rs["epoch"], "goal": f">= {RATE_GOAL} (cost linear)",
         "met": rb["epoch"] / rs["epoch"] >= RATE_GOAL, "cpu": cpu},
        {"benchmark": f"train events x epochs/s, whole fit (first epoch's graph tracing included), {sizes}, "
                      f"{epochs} epochs each; {per_cpu}",
         "hhnb": rb["fit"], "peer": f"same training, {s['events'] / 1e3:.0f}k events", "reference": rs["fit"],
         "unit": "events x epochs/s", "ratio": rb["fit"] / rs["fit"], "goal": f">= {RATE_GOAL} (cost linear)",
         "met": rb["fit"] / rs["fit"] >= RATE_GOAL, "cpu": cpu},
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5_000_000, help="selected events of the large set")
    p.add_argument("--small", type=int, default=200_000, help="selected events of the reference set")
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--keep", type=Path, default=None,
                   help="generate the toy sets into this folder and keep them (reused when there) instead of a "
                        "temporary folder")
    args = p.parse_args(argv)
    t_all = time.perf_counter()
    res, gen_info = {}, {}
    with tempfile.TemporaryDirectory(prefix="hhnb-bench-large-train-") as tmp:
        base = args.keep or Path(tmp)
        for n in (args.small, args.events):
            d = base / f"data_{n}"
            gen_info[n] = _generate(d, n)
            print(f"  toy set for {n}: {json.dumps({k: v for k, v in gen_info[n].items() if k != 'samples'})}",
                  flush=True)
            print(f"training on the {n}-event set ...", flush=True)
            res[n] = train_child(d, Path(tmp) / f"models_{n}", args.epochs)
            res[n]["rates"] = rates(res[n])
            print(json.dumps(res[n]), flush=True)
    total = time.perf_counter() - t_all
    out = rows(res, args.small, args.events, args.epochs)
    store(OUT, "make bench-large", out, extra={
        "epochs": args.epochs, "wall_s": round(total, 1), "runs": {str(k): v for k, v in res.items()},
        "generation": {str(k): v for k, v in gen_info.items()}})
    for row in out[1:]:
        print(json.dumps(row, indent=1))
    print(f"bench-large training rows: {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
