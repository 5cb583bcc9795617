"""kappa_lambda values and their tags in file and branch names.

The older scripts wrote kl = -5 as ``m5.0`` and kl = 1 as ``1.0``; hhnb keeps
that convention so that their files and branch names stay readable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from hhnb.errors import UserArgumentError

#: The kappa_lambda grid of arXiv:2004.04240 (docs/physics.md section 2).
GRID: tuple[float, ...] = (
    -20.0, -10.0, -7.0, -5.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0,
)


def parse(value: object) -> float:
    """Return kappa_lambda as a float from a number or a tag such as ``m5.0``.

    >>> parse(-5), parse("m5.0"), parse("10"), parse(0.5)
    (-5.0, -5.0, 10.0, 0.5)
    """
    if isinstance(value, bool):
        raise UserArgumentError(f"lambda must be a number or a tag like 'm5.0', got {value!r}")
    if isinstance(value, (int, float)):
        kl = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("lambda"):
            text = text[len("lambda"):]
        negative = text[:1] in ("m", "-")
        body = text[1:] if negative else text
        try:
            kl = -float(body) if negative else float(body)
        except ValueError:
            raise UserArgumentError(
                f"lambda {value!r} is not a number or a tag: expected e.g. 10, -5, 0.5, "
                "'m5.0' (m = minus) or '2.4'"
            ) from None
    else:
        raise UserArgumentError(
            f"lambda must be a number or a tag like 'm5.0', got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(kl):
        raise UserArgumentError(f"lambda must be finite, got {value!r}")
    return kl + 0.0  # turn -0.0 into 0.0


def tag(value: object) -> str:
    """Return the file/branch tag of a kappa_lambda value.

    >>> tag(1), tag(-5), tag("m0.5"), tag(2.45)
    ('1.0', 'm5.0', 'm0.5', '2.45')
    """
    kl = parse(value)
    text = repr(abs(kl))
    return ("m" + text) if kl < 0 else text


def parse_list(spec: str | Iterable[object]) -> list[float]:
    """Parse a list of lambdas: ``all`` (the grid), ``1,5,m5.0`` or an iterable.

    >>> parse_list("1,m5.0, 10")
    [1.0, -5.0, 10.0]
    >>> len(parse_list("all"))
    15
    """
    if isinstance(spec, str):
        if spec.strip().lower() == "all":
            return list(GRID)
        items: Iterable[object] = [s for s in spec.replace(" ", "").split(",") if s]
    else:
        items = spec
    values = [parse(item) for item in items]
    if not values:
        raise UserArgumentError(f"empty lambda list {spec!r}: expected 'all' or values like '1,5,m5.0'")
    return values
