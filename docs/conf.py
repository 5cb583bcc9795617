"""Sphinx configuration of the hhnb documentation site (``make docs``: offline, warnings are errors).

Sphinx with MyST-NB, as pyhf and cabinetry do: the existing Markdown pages are read as they are (MyST), the
committed notebooks are rendered with their committed outputs (never executed here), and autodoc reads the API
reference off the docstrings. ``_ext/hhnb_docs.py`` writes the generated pages (CLI, configuration, API, bench).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

project = "hhnb"
author = "the hhnb developers"
copyright = "the hhnb developers, BSD-3-Clause"  # noqa: A001 - Sphinx's name
version = release = "0.1.0"

extensions = [
    "myst_nb",  # Markdown pages (MyST) and notebooks
    "sphinx.ext.autodoc",
    "hhnb_docs",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "_ext", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]

# notebooks: the committed outputs, never re-executed (make notebooks makes them)
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = [
    "myst.header",  # the pages moved from the README start at any heading level
]

# API: what the docstrings say, in source order, with type hints in the signature. The docstrings are prose with
# ``literals`` and doctests, no Google/NumPy sections: no napoleon (it reads "text: ``literal``" as a type)
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": False}

# offline: no intersphinx (no network); the theme ships its own fonts and scripts
html_theme = "furo"
html_title = "hhnb"
html_static_path: list[str] = []
