"""Serving a WSGI app to the browser: 127.0.0.1, a free port, one thread per request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.types import WSGIApplication

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request; errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serving(app: WSGIApplication) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a port the OS picks, yielding the base URL
    (``http://127.0.0.1:<port>``); the server is shut down and its socket closed after.

    Threaded, because a page loads its assets in parallel and two actors' browser contexts
    may talk to the app at once. The app runs in the server's threads, never in the test's
    main thread, so Django's ORM there does not meet Playwright's asyncio loop.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="wsgi-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
