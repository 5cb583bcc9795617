"""papermill engine entry point ``hhnb``: loading it registers hhnb's keyword-safe translator.

papermill loads this module while ``papermill.engines`` is itself being imported, so
the engine class comes first and papermill's own engine is imported lazily.
"""

from __future__ import annotations


class HHNBEngine:
    """papermill's default nbclient engine under the name ``hhnb``."""

    @classmethod
    def execute_notebook(cls, *args, **kwargs):
        from papermill.engines import NBClientEngine  # deferred: papermill imports this entry point while papermill.engines loads

        return NBClientEngine.execute_notebook(*args, **kwargs)


from hhnb.workflow import papermill_lambda  # noqa: E402

papermill_lambda.register()
