"""``hhnb apply`` throughput and memory, side by side with a plain uproot copy, Keras in memory and per-event scoring.

Everything runs on synthetic ntuples with the toy ``resolved`` layout (42 flat branches) and
networks of the default architecture (200, 200), untrained: scoring cost does not depend on the weights.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import uproot

ROOT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT_DIR))

from hhnb import layout  # noqa: E402
from hhnb.config import analyses as config  # noqa: E402
from hhnb.config import lambdas  # noqa: E402
from hhnb.io import artifacts  # noqa: E402
from hhnb.nn import apply as A  # noqa: E402
from hhnb.nn import onnx as O  # noqa: E402

TREE = layout.DEFAULT_TREE
EVENTS = 200_000
SINGLE_CALLS = 100
RSS_SIZES = tuple(int(v) for v in os.environ.get("HHNB_BENCH_RSS_SIZES", "100000,400000").split(","))
RSS_NETWORKS = 15
RSS_STEP = 100_000  # chunk size of the RSS runs: the small file is one chunk, the large one several
EXTRA = ["h1_j1_Pt", "h1_j1_Eta", "h1_j1_Phi", "h1_j1_M", "h2_j1_Pt", "h2_j1_Eta", "h2_j1_Phi", "h2_j1_M",
         "h1_j2_Pt", "h1_j2_Eta", "h1_j2_Phi", "h1_j2_M", "h2_j2_Pt", "h2_j2_Eta", "h2_j2_Phi", "h2_j2_M",
         "dEta_hh", "nBTags", "nLargeR", "nJets"]


def _schema() -> dict[str, np.dtype]:
    names = list(config.analysis("resolved").features) + EXTRA
    out = {}
    for n in names:
        out[n] = np.dtype(np.int32) if ("BTag" in n or n.startswith("n")) else np.dtype(np.float32)
    out["eventNumber"], out["weight"] = np.dtype(np.int64), np.dtype(np.float64)
    return out


def make_file(path: Path, events: int, seed: int = 1, step: int = 200_000) -> Path:
    """A synthetic ntuple in chunks (flat memory), toy-resolved branch names and dtypes."""
    rng = np.random.default_rng(seed)
    schema = _schema()
    with uproot.recreate(path) as f:
        f.mktree(TREE, schema)
        for start in range(0, events, step):
            n = min(step, events - start)
            chunk = {k: (rng.integers(0, 3, n).astype(t) if t == np.int32 else rng.normal(100, 30, n).astype(t))
                     for k, t in schema.items()}
            chunk["eventNumber"] = np.arange(start, start + n, dtype=np.int64)
            f[TREE].extend(chunk)
    return path


def make_networks(models_dir: Path, count: int) -> list[Path]:
    """``count`` networks (200, 200) of the resolved analysis at different lambdas, with their cards."""
    from hhnb.config.training import HyperParameters
    from hhnb.nn.network import build
    from hhnb.nn.saving import save

    ana = config.analysis("resolved")
    rng = np.random.default_rng(2)
    x = rng.normal(100, 30, (1000, len(ana.features))).astype(np.float32)
    model = build(x, 3, HyperParameters())
    paths = []
    for kl in lambdas.GRID[:count]:
        mp = save(model, layout.model_path(models_dir, "resolved", kl))
        artifacts.write_card(layout.card_path(models_dir, "resolved", kl), {
            "analysis": "resolved", "lambda": kl, "features": list(ana.features), "classes": list(ana.classes),
            "score_branches": layout.score_branches("resolved", kl, ana.classes), "tree": TREE,
            "event_branch": "eventNumber"})
        paths.append(mp)
    return paths


def make_kfold(models_dir: Path, folds: int = 3, onnx: bool = False) -> Path:
    """A k-fold set of (200, 200) networks of the resolved analysis at lambda 1 (card + one file per fold)."""
    from hhnb.config.training import HyperParameters
    from hhnb.nn.network import build
    from hhnb.nn.saving import save

    ana = config.analysis("resolved")
    x = np.random.default_rng(2).normal(100, 30, (1000, len(ana.features))).astype(np.float32)
    names = []
    for i in range(folds):
        path = save(build(x, 3, HyperParameters()), layout.fold_model_path(models_dir, "resolved", 1.0, i, folds))
        names.append(path.name)
    card = artifacts.write_card(layout.card_path(models_dir, "resolved", 1.0), {
        "analysis": "resolved", "lambda": 1.0, "features": list(ana.features), "classes": list(ana.classes),
        "score_branches": layout.score_branches("resolved", 1.0, ana.classes), "tree": TREE,
        "event_branch": "eventNumber", "folds": folds, "fold_models": names})
    if onnx:
        O.export([models_dir / n for n in names], list(ana.features), list(ana.classes))
    return card


def plain_copy(src: Path, dst: Path, step: int = A.STEP) -> float:
    """Seconds for an uproot read + write of every branch, chunk by chunk, no scoring (the reference)."""
    t0 = time.perf_counter()
    with uproot.open(src) as fin, uproot.recreate(dst) as fout:
        tree = fin[TREE]
        fout.mktree(TREE, {k: tree[k].interpretation.to_dtype for k in tree.keys()})
        for chunk in tree.iterate(library="np", step_size=step):
            fout[TREE].extend(chunk)
    return time.perf_counter() - t0


# VmHWM (the peak resident memory of this process image), not getrusage's ru_maxrss: Linux keeps ru_maxrss
# across exec, so a child started from a parent holding TensorFlow would report the parent's size at fork
_RSS_SCRIPT = """
import re, sys, json
from hhnb.nn import apply as A
nets = A.networks("resolved", "all", sys.argv[2])
r = A.apply_file(sys.argv[1], nets, sys.argv[3], force=True, step=int(sys.argv[4]))
with open("/proc/self/status") as f:
    hwm_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", f.read()).group(1))
print(json.dumps({"status": r.status, "error": r.error, "seconds": r.seconds, "networks": len(nets),
                  "rss_mb": hwm_kb / 1024}))
"""


def peak_rss(src: Path, models_dir: Path, dst: Path) -> dict:
    """Peak RSS (MB) and time of ``apply_file`` in a fresh process (TensorFlow included)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT_DIR)}
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(src), str(models_dir), str(dst), str(RSS_STEP)],
                         capture_output=True, text=True, env=env, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["status"] != "written":
        raise RuntimeError(f"apply failed in the RSS measurement: {res['error']}")
    return res


def rows() -> list[dict]:
    from hhnb.nn.predict import predict
    from hhnb.nn.saving import load

    with tempfile.TemporaryDirectory(prefix="hhnb-bench-apply-") as tmp:
        tmp = Path(tmp)
        src = make_file(tmp / "events.root", EVENTS)
        one = tmp / "one"
        make_networks(one, 1)
        nets = A.networks("resolved", "all", one)
        A.apply_file(make_file(tmp / "warm.root", 1000), nets, tmp / "warm_out.root")  # TF import, model load
        t_copy = min(plain_copy(src, tmp / "copy.root") for _ in range(2))
        t_apply = min(A.apply_file(src, nets, tmp / "out.root", force=True).seconds for _ in range(2))
        t_kfold = min(A.apply_file(src, A.networks("resolved", "all", make_kfold(tmp / "kfold").parent), tmp / "kf.root",
                                   force=True).seconds for _ in range(2))
        O.export([nets[0].model_path], nets[0].features, nets[0].classes)  # the single network as ONNX
        onnx_nets = [A.network(nets[0].model_path, "onnx")]
        A.apply_file(tmp / "warm.root", onnx_nets, tmp / "warm_onnx.root", force=True)
        t_onnx = min(A.apply_file(src, onnx_nets, tmp / "onnx.root", force=True).seconds for _ in range(2))
        model = load(nets[0].model_path)
        with uproot.open(src) as f:
            x = np.column_stack([f[TREE][b].array(library="np") for b in nets[0].features]).astype(np.float32)
        t0 = time.perf_counter()
        model.predict(x, batch_size=65536, verbose=0)
        t_keras = time.perf_counter() - t0
        t0 = time.perf_counter()
        predict(model, x)
        t_hhnb_mem = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(SINGLE_CALLS):
            model.predict(x[i:i + 1], verbose=0)
        per_event = (time.perf_counter() - t0) / SINGLE_CALLS
        many = tmp / "many"
        make_networks(many, RSS_NETWORKS)
        rss = {}
        for n in RSS_SIZES:
            big = make_file(tmp / f"big_{n}.root", n, seed=3)
            rss[n] = peak_rss(big, many, tmp / f"big_{n}_out.root")
            big.unlink()
            (tmp / f"big_{n}_out.root").unlink()

    r_apply, r_copy = EVENTS / t_apply, EVENTS / t_copy
    small, large = RSS_SIZES
    return [
        {"benchmark": f"apply 3-fold set (each event scored once) vs 1 net ({EVENTS // 1000}k ev)", "hhnb": EVENTS / t_kfold,
         "peer": "apply, 1 net", "reference": r_apply, "unit": "events/s", "ratio": t_apply / t_kfold, "goal": ">= 0.8",
         "met": t_apply / t_kfold >= 0.8},
        {"benchmark": f"apply --backend onnx (onnxruntime) vs keras, 1 net ({EVENTS // 1000}k ev)",
         "hhnb": EVENTS / t_onnx, "peer": "apply, keras backend", "reference": r_apply, "unit": "events/s",
         "ratio": t_apply / t_onnx,
         "goal": "(for scale)"},
        {"benchmark": f"apply 1 net vs plain uproot copy ({EVENTS // 1000}k ev, 42 branches)", "hhnb": r_apply,
         "peer": "uproot read + write", "reference": r_copy, "unit": "events/s", "ratio": r_apply / r_copy,
         "goal": ">= 0.5", "met": r_apply / r_copy >= 0.5},
        {"benchmark": "apply 1 net (file to file) vs keras predict in memory", "hhnb": r_apply,
         "peer": "keras predict", "reference": EVENTS / t_keras, "unit": "events/s", "ratio": t_keras / t_apply,
         "goal": "(for scale)"},
        {"benchmark": "hhnb.nn.predict.predict vs keras predict, in memory", "hhnb": EVENTS / t_hhnb_mem,
         "peer": "keras predict", "reference": EVENTS / t_keras, "unit": "events/s", "ratio": t_keras / t_hhnb_mem,
         "goal": "(for scale)"},
        {"benchmark": f"apply 1 net vs one event per predict call ({SINGLE_CALLS} calls, extrapolated)",
         "hhnb": r_apply, "peer": "predict, one event per call", "reference": 1.0 / per_event, "unit": "events/s",
         "ratio": r_apply * per_event, "goal": ">= 100", "met": r_apply * per_event >= 100},
        {"benchmark": f"apply peak RSS, {RSS_NETWORKS} nets, {large // 1000}k vs {small // 1000}k events, "
                      f"({rss[large]['seconds']:.0f} s vs {rss[small]['seconds']:.0f} s)",
         "hhnb": rss[large]["rss_mb"], "peer": "same apply, fewer events", "reference": rss[small]["rss_mb"],
         "unit": "MB", "ratio": rss[large]["rss_mb"] / rss[small]["rss_mb"], "goal": "<= 1500 MB; ratio ~1 (flat)",
         "met": rss[large]["rss_mb"] <= 1500 and rss[large]["rss_mb"] / rss[small]["rss_mb"] <= 1.2},
    ]


if __name__ == "__main__":
    import pandas as pd

    from hhnb.io.tables import text_table

    t0 = time.perf_counter()
    print(text_table(pd.DataFrame(rows())))
    print(f"{time.perf_counter() - t0:.0f} s")
