"""Test-only harnesses that let the Linux test-suite run real third-party code.

* :mod:`tests.support.xlwings_remote` -- run our Excel macros (functions taking an
  ``xlwings.Book``) against xlwings' own *remote* engine, fed with the JSON that the
  xlwings Office.js client would send for an ``.xlsx`` file, and apply the returned
  actions back to the file with openpyxl.
* :mod:`tests.support.xlwings_udfs` -- call our ``@xw.func`` custom functions through
  ``xlwings.server.custom_functions_call`` exactly like the Excel custom-functions
  runtime does.
* :mod:`tests.support.libreoffice` -- use LibreOffice (headless) as an independent
  spreadsheet program: recalculate workbooks and render them to PNG.

Nothing in here is production code.  The xlwings PRO pieces used by the first two
harnesses run under xlwings' PolyForm *noncommercial* licence, which is why the key
``XLWINGS_LICENSE_KEY=noncommercial`` is only ever set here, for tests.
"""

from __future__ import annotations

import os

__all__ = ["enable_xlwings_server_mode"]


def enable_xlwings_server_mode() -> None:
    """Make ``import xlwings`` behave like it does on an xlwings Server.

    Sets (if not already set) ``XLWINGS_LICENSE_KEY=noncommercial`` and
    ``XLWINGS_ON_SERVER=true``.  Both variables are read by xlwings *at import time*:

    * the licence decides whether the PRO engines (``remote`` for ``xw.Book(json=...)``
      and ``officejs`` for custom functions) are registered;
    * ``XLWINGS_ON_SERVER`` decides whether ``xw.func`` / ``xw.arg`` / ``xw.ret`` /
      ``xw.script`` are the Office.js decorators (which record ``__xlfunc__`` metadata)
      or the no-op stand-ins that xlwings uses on Linux otherwise.

    The best place to set them is before anything imports xlwings (e.g. at the top of
    ``tests/conftest.py``).  If xlwings was already imported without them, this function
    repairs the process: it registers the ``remote``/``officejs`` engines and swaps the
    decorators on the ``xlwings`` module.  Modules that were *already imported* with the
    no-op decorators must be re-imported; :func:`tests.support.xlwings_udfs.load_udf_module`
    does that.
    """
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    os.environ.setdefault("XLWINGS_ON_SERVER", "true")

    import xlwings as xw

    names = [engine.name for engine in xw.engines]
    if "remote" not in names or "officejs" not in names:
        from xlwings.main import Engine
        from xlwings.pro import _xlofficejs, _xlremote

        if "remote" not in names:
            xw.engines.add(Engine(impl=_xlremote.engine))
        if "officejs" not in names:
            xw.engines.add(Engine(impl=_xlofficejs.engine))

    if not getattr(xw, "on_server", False):
        import xlwings.server as xw_server

        xw.func = xw_server.func
        xw.arg = xw_server.arg
        xw.ret = xw_server.ret
        xw.script = xw_server.script
        xw.on_server = True
