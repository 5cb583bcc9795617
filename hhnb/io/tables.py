"""Plain-text tables printed by the command line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd


def text_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """Render a DataFrame as an aligned text table (no index)."""
    if df.empty:
        return "(no rows)"
    cols = list(df.columns)
    cells = [[_fmt(v, floatfmt) for v in row] for row in df.itertuples(index=False)]
    widths = [max(len(str(c)), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    line = "  ".join(str(c).ljust(w) for c, w in zip(cols, widths))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join([line, rule, *body])


def _numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _fmt(v: object, floatfmt: str) -> str:
    if isinstance(v, float):
        return format(v, floatfmt)
    return str(v)


def samples_table(written: Iterable[object], luminosity: float,
                  columns: Sequence[str] = ("analysis", "sample", "events", "yield_", "path")) -> str:
    """Per-sample table: events, weighted yield at ``luminosity`` (fb^-1), file."""
    rows = [{c: getattr(w, c) for c in columns} for w in written]
    df = pd.DataFrame(rows).rename(columns={"yield_": f"yield ({luminosity:g} fb^-1)", "path": "file"})
    if "file" in df:
        df["file"] = df["file"].astype(str)
    return text_table(df, ".6g")
