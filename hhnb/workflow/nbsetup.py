"""A scratch project for running the committed notebooks reproducibly (nbval, ``make notebooks``).

It holds toy ntuples generated with the notebook defaults and the default
network trained, so downstream notebooks have their inputs whatever order they run in.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hhnb.config import defaults


def prepare(home: str | Path | None = None) -> Path:
    """Create (or reuse) the scratch project and return its folder; the run record starts empty."""
    home = Path(home or Path(tempfile.gettempdir()) / f"hhnb-notebooks-{os.getuid()}")
    (home / "notebooks").mkdir(parents=True, exist_ok=True)
    os.environ["HHNB_HOME"] = str(home)
    from hhnb import layout
    from hhnb.toy.generate import generate

    generate(home / "data", lambdas=[1.0], events=defaults.EVENTS, seed=defaults.SEED, progress=False,
             skip_existing=True)
    layout.record_path().unlink(missing_ok=True)
    if not layout.scores_path(layout.models_dir(), "resolved", 1.0).exists():
        from hhnb.nn.model import HyperParameters
        from hhnb.nn.training import train

        train("resolved", 1.0, data_dir=layout.data_dir(), models_dir=layout.models_dir(),
              hyper=HyperParameters(epochs=defaults.EPOCHS, batch_size=defaults.BATCH_SIZE, learning_rate=5e-3),
              seed=defaults.TRAIN_SEED)
    return home
