"""hhnb.io.tables: the plain-text tables of the command line, character for character."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hhnb.io.tables import samples_table, text_table
from hhnb.toy.generate import Written


def test_text_table_aligns_numbers_right_and_text_left():
    df = pd.DataFrame({"sample": ["hh", "qcd_4b"], "events": [1200, 35], "yield": [12.3456789, 0.5]})
    assert text_table(df).splitlines() == [
        "sample  events  yield",
        "------  ------  -----",
        "hh        1200  12.35",  # floats as .4g
        "qcd_4b      35    0.5",
    ]


def test_text_table_float_format_and_numeric_strings():
    df = pd.DataFrame({"a": [1.0, np.float64(2.5e-7)], "b": ["x", "-3"]})
    assert text_table(df).splitlines() == ["a        b ", "-------  --", "      1  x ", "2.5e-07  -3"]
    assert text_table(pd.DataFrame({"z": [np.pi]}), ".2f").splitlines()[-1] == "3.14"


def test_empty_table():
    assert text_table(pd.DataFrame()) == "(no rows)"
    assert text_table(pd.DataFrame({"a": []})) == "(no rows)"


def test_samples_table_names_the_luminosity_and_the_files():
    written = [Written("resolved", "hh", Path("/d/resolved/hh.root"), 1200, 5000, 12.3456789),
               Written("boosted", "ttbar", Path("/d/boosted/ttbar.root"), 40, 5000, 1234567.0)]
    assert samples_table(written, 3000.0).splitlines() == [
        "analysis  sample  events  yield (3000 fb^-1)  file                 ",
        "--------  ------  ------  ------------------  ---------------------",
        "resolved  hh        1200             12.3457  /d/resolved/hh.root  ",
        "boosted   ttbar       40         1.23457e+06  /d/boosted/ttbar.root",
    ]
    only = samples_table(written[:1], 300.0, columns=("sample", "yield_"))
    assert only.splitlines() == ["sample  yield (300 fb^-1)", "------  -----------------", "hh" + " " * 16 + "12.3457"]
