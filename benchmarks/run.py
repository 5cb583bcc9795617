"""``make bench``: run every ``benchmarks/bench_*.py`` and print one table of side-by-side ratios.

Each module defines ``rows() -> list[dict]`` with keys: ``benchmark``, ``hhnb`` (value),
``reference`` (value of the thing compared against), ``unit``, ``ratio`` (hhnb / reference,
>1 = better unless the row says otherwise) and ``goal`` (text).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hhnb.io.tables import text_table  # noqa: E402


def main(names: list[str]) -> int:
    rows = []
    for path in sorted(HERE.glob("bench_*.py")):
        if names and path.stem.removeprefix("bench_") not in names:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        t0 = time.perf_counter()
        print(f"running {path.name} ...", flush=True)
        for row in mod.rows():
            rows.append({"file": path.stem, **row})
        print(f"  {path.name}: {time.perf_counter() - t0:.1f} s", flush=True)
    df = pd.DataFrame(rows)
    cols = ["benchmark", "hhnb", "reference", "unit", "ratio", "goal"]
    print()
    print(text_table(df[[c for c in cols if c in df.columns]], ".4g"))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    df.to_csv(out / "latest.csv", index=False)
    print(f"\nwritten {out / 'latest.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
