"""The cluster tests need the one-node Slurm of tests/cluster/slurm-up.sh: ``make test-cluster`` runs them."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("HHNB_TEST_SLURM") == "1":
        return
    skip = pytest.mark.skip(reason="needs the test Slurm: run `make test-cluster`")
    for item in items:
        if "tests/cluster" in str(item.fspath):
            item.add_marker(skip)
