"""``-p lambda 10`` for papermill: rename Python keywords among the parameters.

``lambda`` is a Python keyword, so papermill's injected ``lambda = 10`` would be a
SyntaxError (and black, when installed, refuses it before the notebook runs).
hhnb declares a papermill engine entry point (``hhnb.workflow.papermill_engine``); papermill
imports every engine entry point when it starts, and that registers a Python
translator that writes ``lambda_ = 10`` instead. The parameter dict itself is
unchanged, so papermill's ``{lambda}`` output-path templating keeps working.

papermill is imported inside ``register`` only: importing any part of papermill runs
its entry points, which import this module again.
"""

from __future__ import annotations

import keyword

from papermill.translators import PythonTranslator, papermill_translators


def safe_name(name: str) -> str:
    """The Python name a notebook parameter is bound to: keywords get a trailing underscore.

    >>> safe_name("lambda"), safe_name("analysis")
    ('lambda_', 'analysis')
    """
    return name + "_" if keyword.iskeyword(name) else name


def register() -> None:
    """Make papermill use the keyword-safe translator for Python kernels (idempotent)."""

    current = papermill_translators._translators.get("python")
    if getattr(current, "hhnb_keyword_safe", False):
        return

    class KeywordSafePythonTranslator(PythonTranslator):
        """papermill's Python translator, with keyword parameter names made assignable."""

        hhnb_keyword_safe = True

        @classmethod
        def codify(cls, parameters, comment="Parameters"):
            return super().codify({safe_name(k): v for k, v in parameters.items()}, comment)

        @classmethod
        def inspect(cls, parameters_cell):
            params = super().inspect(parameters_cell)
            return [p._replace(name=p.name[:-1]) if p.name.endswith("_") and keyword.iskeyword(p.name[:-1]) else p
                    for p in params]

    papermill_translators.register("python", KeywordSafePythonTranslator)


register()
