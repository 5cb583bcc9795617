"""``make bench-large``: peak memory of ``hhnb apply`` (15 networks) on a 5-million-event file.

Too slow for ``make bench``; the result goes to ``benchmarks/stored/large.json`` with its date and
``make bench`` shows it. The reference is the same apply on a 100k-event file (flat memory: ratio ~1).

    .venv/bin/python benchmarks/large.py [--events 5000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_apply import RSS_NETWORKS, make_file, make_networks, peak_rss  # noqa: E402
from common import store  # noqa: E402

OUT = HERE / "stored" / "large.json"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5_000_000)
    p.add_argument("--small", type=int, default=100_000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hhnb-bench-large-") as tmp:
        tmp = Path(tmp)
        models = tmp / "models"
        make_networks(models, RSS_NETWORKS)
        res = {}
        for n in (args.small, args.events):
            src = make_file(tmp / f"ev_{n}.root", n, seed=3)
            res[n] = peak_rss(src, models, tmp / f"ev_{n}_out.root")
            src.unlink()
            (tmp / f"ev_{n}_out.root").unlink()
    big, small = res[args.events], res[args.small]
    row = {"benchmark": f"apply peak RSS, {RSS_NETWORKS} nets, {args.events / 1e6:g}M vs {args.small // 1000}k events "
                        f"({big['seconds']:.0f} s vs {small['seconds']:.0f} s)",
           "hhnb": big["rss_mb"], "peer": f"same apply, {args.small // 1000}k events", "reference": small["rss_mb"],
           "unit": "MB", "ratio": big["rss_mb"] / small["rss_mb"], "goal": "<= 1500 MB; ratio ~1 (flat)",
           "met": big["rss_mb"] <= 1500 and big["rss_mb"] / small["rss_mb"] <= 1.2, "lower_is_better": True}
    store(OUT, "make bench-large", [row])
    return 0


if __name__ == "__main__":
    sys.exit(main())
