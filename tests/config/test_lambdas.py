"""hhnb.config.lambdas: parsing kappa_lambda values and tags, rejected values, lists and the grid."""

import pytest

from hhnb.config import lambdas


@pytest.mark.parametrize("value,kl,tag", [
    (1, 1.0, "1.0"), (-5, -5.0, "m5.0"), ("m5.0", -5.0, "m5.0"), ("-5", -5.0, "m5.0"), (0.5, 0.5, "0.5"),
    ("m0.5", -0.5, "m0.5"), ("10.0", 10.0, "10.0"), (2.45, 2.45, "2.45"), ("lambda10.0", 10.0, "10.0"), (0, 0.0, "0.0"),
])
def test_parse_and_tag(value, kl, tag):
    assert lambdas.parse(value) == kl
    assert lambdas.tag(value) == tag


@pytest.mark.parametrize("bad", ["ten", "", None, True, float("nan"), [1]])
def test_parse_rejects(bad):
    with pytest.raises(ValueError, match="lambda"):
        lambdas.parse(bad)


def test_parse_list():
    assert lambdas.parse_list("1, m5.0,10") == [1.0, -5.0, 10.0]
    assert lambdas.parse_list("all") == list(lambdas.GRID)
    assert len(lambdas.GRID) == 15
    with pytest.raises(ValueError, match="empty"):
        lambdas.parse_list("")
