"""``make bench-demo``: wall time of ``make demo`` in a fresh clone (venv set up from the pip cache included).

Clones the committed HEAD into a temporary folder, runs ``make demo`` there and stores the wall time
with its date in ``benchmarks/stored/demo.json`` (shown by ``make bench``). Minutes; not part of ``make bench``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import store  # noqa: E402

OUT = HERE / "stored" / "demo.json"
BUDGET_S = 600.0


def main() -> int:
    repo = HERE.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                            check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="hhnb-demo-clone-") as tmp:
        clone = Path(tmp) / "hhnb"
        subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("HHNB_HOME", "VIRTUAL_ENV")}
        t0 = time.perf_counter()
        setup = subprocess.run(["make", "-s", ".venv/.installed-" + subprocess.run(
            "cat pyproject.toml | cksum | cut -d' ' -f1", shell=True, cwd=clone, capture_output=True, text=True,
            check=True).stdout.strip()], cwd=clone, env=env, capture_output=True, text=True)
        t_setup = time.perf_counter() - t0
        demo = subprocess.run(["make", "demo"], cwd=clone, env=env, capture_output=True, text=True)
        total = time.perf_counter() - t0
        if setup.returncode or demo.returncode:
            print((setup.stderr + demo.stdout + demo.stderr)[-3000:])
            return 1
    row = {"benchmark": f"make demo from a fresh clone ({os.cpu_count()} cores, commit {commit}; "
                        f"venv setup {t_setup:.0f} s of it)",
           "hhnb": total, "peer": "budget", "reference": BUDGET_S, "unit": "s", "ratio": total / BUDGET_S,
           "goal": "<= 1 (10 min)", "met": total <= BUDGET_S, "lower_is_better": True}
    store(OUT, "make bench-demo", [row])
    return 0


if __name__ == "__main__":
    sys.exit(main())
