"""hhnb.nn.saving: atomic .keras files, loaded in safe mode with hhnb's own layers registered."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.config.training import HyperParameters
from hhnb.errors import MissingArtifactError
from hhnb.nn import network, saving
from hhnb.nn.predict import predict


def test_save_then_load_scores_the_same(tmp_path):
    rng = np.random.default_rng(4)
    x = np.c_[rng.exponential(50, 200), rng.normal(size=200), rng.uniform(-5, 10, 200)].astype(np.float32)
    for head in ("dense", "morphing"):
        model = network.build(x, 3, HyperParameters(widths=(8,)), head=head)
        path = saving.save(model, tmp_path / f"{head}.keras")
        assert path.exists() and not list(tmp_path.glob(".*tmp*"))  # written under a temporary name, renamed
        assert np.allclose(predict(saving.load(path), x), predict(model, x), atol=1e-6)


def test_missing_file_is_one_user_error(tmp_path):
    with pytest.raises(MissingArtifactError, match=r"model file .*nope.keras does not exist"):
        saving.load(tmp_path / "nope.keras")
