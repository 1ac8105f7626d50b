"""Browser tests: the example apps driven through Debian's chromium by Playwright.

The fixtures (``conftest.py``) and helpers (``helpers.py``, ``server.py``) are shared by
every browser test; docs/browser-tests.md says how to run them. Only tests that drive a
browser live here: Playwright runs for as long as this package's tests do.
"""
