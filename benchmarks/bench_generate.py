"""Issue 2: toy generation rate, and hhnb's ntuple reading against a plain uproot.iterate."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import uproot  # noqa: E402
from common import data_dir  # noqa: E402

from hhnb import layout  # noqa: E402
from hhnb.config import analyses as config
from hhnb.io import ntuples as data  # noqa: E402
from hhnb.toy.generate import generate_sample  # noqa: E402


def _best_of(fn, n=3):
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


#: events the generator draws for ``make demo``'s toy set (resolved + boosted, lambdas 1 and 10, 5000 per sample;
#: docs/toy.md "Generation time")
DEMO_SET_EVENTS = 3.78e6


def rows() -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        written = generate_sample(tmp, "qcd_4b", events=20000, seed=1, progress=False)
        dt = time.perf_counter() - t0
    gen = written[0].generated
    need = DEMO_SET_EVENTS / 60.0  # the demo's toy set in at most a minute
    out.append({"benchmark": "toy generation (qcd_4b, 3 categories written)", "hhnb": gen / dt,
                "peer": f"demo set ({DEMO_SET_EVENTS / 1e6:.1f} M generated events) in 60 s", "reference": need,
                "unit": "generated events/s", "ratio": gen / dt / need, "goal": ">= 1 (demo set in <= 60 s)",
                "met": gen / dt >= need})

    d = data_dir()
    ana = config.analysis("resolved")
    columns = data.columns_for(ana) + ["weight", "eventNumber"]
    files = {str(f): layout.DEFAULT_TREE for s in ana.samples for f in data.sample_files(s, d, 1.0)}
    n_events = sum(uproot.open(f)[layout.DEFAULT_TREE].num_entries for f in files)

    def plain():
        return sum(len(c) for c in uproot.iterate(files, expressions=columns, cut=ana.selection, library="pd",
                                                  step_size="200 MB"))

    def hhnb_load():
        return len(data.load(ana, 1.0, d))

    t_plain, n_plain = _best_of(plain)
    t_hhnb, n_hhnb = _best_of(hhnb_load)
    assert n_plain == n_hhnb, (n_plain, n_hhnb)
    out.append({"benchmark": f"read + select resolved kl=1 ({n_events} events, {len(files)} files)",
                "hhnb": n_events / t_hhnb, "peer": "uproot.iterate", "reference": n_events / t_plain,
                "unit": "events/s (vs uproot.iterate)", "ratio": t_plain / t_hhnb,
                "goal": ">= 0.8 (checks, labels, split cost little)", "met": t_plain / t_hhnb >= 0.8})
    return out
