"""A real HTTP server on 127.0.0.1 for download tests (no mocks)."""

import contextlib
import http.server
import threading
import time


@contextlib.contextmanager
def serve(folder, slow_paths=()):
  """Serves `folder`; returns (base URL, requests seen as (path, auth))."""
  seen = []

  class Handler(http.server.SimpleHTTPRequestHandler):

    def __init__(self, *args, **kwargs):
      super().__init__(*args, directory=str(folder), **kwargs)

    def do_GET(self):  # pylint: disable=invalid-name
      seen.append((self.path, self.headers.get('Authorization')))
      if self.path in slow_paths:
        time.sleep(2)  # longer than the client waits; then hang up
        return
      if self.path.startswith('/expired'):
        self.send_error(403)
        return
      super().do_GET()

    def log_message(self, *args):
      del args

  server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield f'http://127.0.0.1:{server.server_address[1]}', seen
  finally:
    server.shutdown()
    server.server_close()
