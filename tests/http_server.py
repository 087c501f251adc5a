"""A real HTTP server on 127.0.0.1 for download tests (no mocks).

Besides the files of a folder it serves the ways servers go wrong:
  * `slow_paths`: no answer for 2 s, then the connection is closed;
  * `drip_paths`: a 200 with a 1 MiB Content-Length, then one byte every
    `drip_interval` seconds (a server that never times a read out);
  * `endless_paths`: a 200 that streams zeros until the client hangs up;
    the value is the Content-Length to declare, or None for none;
  * `/expired...`: 403, as expired signed URLs answer.
"""

import contextlib
import http.server
import threading
import time

_BLOCK = bytes(1 << 16)


@contextlib.contextmanager
def serve(folder, slow_paths=(), drip_paths=(), endless_paths=None,
          drip_interval=0.2):
  """Serves `folder`; yields (base URL, requests seen as (path, auth))."""
  seen = []
  stop = threading.Event()
  endless_paths = dict(endless_paths or {})

  class Handler(http.server.SimpleHTTPRequestHandler):

    def __init__(self, *args, **kwargs):
      super().__init__(*args, directory=str(folder), **kwargs)

    def do_GET(self):  # pylint: disable=invalid-name
      seen.append((self.path, self.headers.get('Authorization')))
      if self.path in slow_paths:
        time.sleep(2)  # longer than the client waits; then hang up
        return
      if self.path in drip_paths:
        self._stream(b'\xff', 1 << 20, drip_interval)
        return
      if self.path in endless_paths:
        self._stream(_BLOCK, endless_paths[self.path], 0)
        return
      if self.path.startswith('/expired'):
        self.send_error(403)
        return
      super().do_GET()

    def _stream(self, block: bytes, length, interval: float) -> None:
      self.send_response(200)
      self.send_header('Content-Type', 'image/jpeg')
      if length is not None:
        self.send_header('Content-Length', str(length))
      self.end_headers()
      while not stop.is_set():
        try:
          self.wfile.write(block)
          self.wfile.flush()
        except OSError:  # the client hung up: what a bounded client does
          return
        if interval:
          stop.wait(interval)

    def log_message(self, *args):
      del args

  server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield f'http://127.0.0.1:{server.server_address[1]}', seen
  finally:
    stop.set()
    server.shutdown()
    server.server_close()
