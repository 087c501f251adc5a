"""Downloading the media a Labelbox export points to: bounded, cached, checked.

Downloads do not go through `dl_manager.download`: TFDS's downloader (4.9,
`downloader._open_with_requests`) can neither send a header nor set a
timeout, and private Labelbox media (mask URLs on api.labelbox.com) need the
API key as a bearer token, while a stalled server must not hang a build. So
files are fetched with `requests` (a TFDS dependency), over http(s) only,
into the download manager's `download_dir`, under `labelbox_media/`, named by
the sha256 of their URL, with their size and sha256 kept in
`labelbox_media.tsv` there and checked on reuse. (TFDS's per-dataset URL
checksum files would not help: signed media URLs change with every export.)

Every file is bounded (the builder config's `download_deadline_s` and
`max_download_bytes`; the defaults are `DEADLINE_S` and `MAX_BYTES`):
  * in time: a total deadline per file. Each read waits at most the read
    timeout or what is left of the deadline, and returns as soon as any
    bytes arrive, so a server that trickles a byte every few seconds is cut
    off at the deadline as surely as one that goes silent;
  * in size: a declared Content-Length above the cap is refused before
    reading; a body that grows past it (counted after gzip decoding, so a
    compression bomb stops too) is cut off. Bodies stream to disk.
A host that cannot be reached at all (its name does not resolve, it refuses
or does not answer the connection) is tried once: the other URLs on it fail
at once with the same reason, so an export of expired or unreachable URLs
fails in seconds, not once per file.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import pathlib
import threading
import time
import urllib.parse

import requests
from urllib3 import exceptions as urllib3_errors

API_KEY_ENV = 'LABELBOX_API_KEY'
# The key is only ever sent to Labelbox itself, never to the image hosts
# (S3, GCS...) that exports also point to.
API_KEY_HOSTS = ('labelbox.com',)
TIMEOUT_S = (10, 60)  # connect, and each read (both within the deadline)
DEADLINE_S = 120.0  # one file, from the request to the last byte
MAX_BYTES = 256 << 20  # one file; real images and masks are a few MB
MAX_PARALLEL_DOWNLOADS = 8
CACHE_DIR = 'labelbox_media'
CHECKSUMS = 'labelbox_media.tsv'
_CHUNK = 1 << 16
_SUFFIXES = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff')


class _Failed(Exception):
  """Why a download gave no file: the end of 'download of URL ...'."""


class Downloader:
  """Fetches URLs into the cache folder, a few at a time."""

  def __init__(self, download_dir: os.PathLike | str | None, *,
               deadline_s: float = DEADLINE_S, max_bytes: int = MAX_BYTES):
    self.cache = pathlib.Path(download_dir) / CACHE_DIR if (
        download_dir) else None
    self.deadline_s, self.max_bytes = float(deadline_s), int(max_bytes)
    self._checksums = _read_checksums(self.cache)
    self._lock = threading.Lock()
    self._done: dict[str, tuple[pathlib.Path | None, str]] = {}
    self._unreachable: dict[str, str] = {}  # host -> why

  def fetch_all(self, urls) -> None:
    """Fetches `urls` on a few threads: first one URL per server (the
    first given), then the rest of those that could be reached."""
    todo = [u for u in dict.fromkeys(urls) if u not in self._done]
    firsts = list({_server(u): u for u in reversed(todo)}.values())
    rest = [u for u in todo if u not in set(firsts)]
    with concurrent.futures.ThreadPoolExecutor(MAX_PARALLEL_DOWNLOADS) as pool:
      for batch in (firsts, rest):
        for url, result in zip(batch, pool.map(self._fetch, batch)):
          self._done[url] = result

  def fetch(self, url: str) -> tuple[pathlib.Path | None, str]:
    """`(cached file, '')`, or `(None, why not)`."""
    if url not in self._done:
      self._done[url] = self._fetch(url)
    return self._done[url]

  def _fetch(self, url: str) -> tuple[pathlib.Path | None, str]:
    shown = without_query(url)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ('http', 'https'):
      return None, f'{shown} is not an http(s) URL, so it is not downloaded'
    if self.cache is None:
      return None, f'no download folder to fetch {shown} into'
    with self._lock:
      unreachable = self._unreachable.get(_server(url))
    if unreachable:
      return None, (f'download of {shown} not tried: {_host(url)} could not'
                    f' be reached for another file ({unreachable})')
    self.cache.mkdir(parents=True, exist_ok=True)
    path = self.cache / cache_name(url)
    if path.is_file() and self._checksum_ok(path):
      return path, ''
    tmp = path.with_name(
        f'{path.name}.tmp{os.getpid()}.{threading.get_ident()}')
    try:
      size, digest = self._download(url, tmp)
    except _Failed as e:
      tmp.unlink(missing_ok=True)
      return None, f'download of {shown} {e}'
    tmp.replace(path)
    self._record_checksum(path.name, f'{size}\t{digest}')
    return path, ''

  def _download(self, url: str, tmp: pathlib.Path) -> tuple[int, str]:
    """Streams `url` into `tmp` within the bounds; `(size, sha256)`."""
    deadline = time.monotonic() + self.deadline_s
    connect, read = (min(t, self.deadline_s) for t in TIMEOUT_S)
    size, digest = 0, hashlib.sha256()
    try:
      with requests.get(url, headers=_headers(url), timeout=(connect, read),
                        stream=True) as response:
        if response.status_code != 200:
          raise _Failed(f'failed (HTTP {response.status_code})'
                        f'{_hint(response)}')
        declared = response.headers.get('Content-Length', '')
        if declared.isdigit() and int(declared) > self.max_bytes:
          raise _Failed(f'was refused: its Content-Length is {int(declared):,}'
                        f' bytes, more than the {self.max_bytes:,} allowed'
                        ' (max_download_bytes)')
        with open(tmp, 'wb') as out:
          while True:
            left = deadline - time.monotonic()
            if left <= 0:
              raise _Failed(self._cut_off(size))
            _set_read_timeout(response, min(read, left))
            chunk = response.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
              return size, digest.hexdigest()
            size += len(chunk)
            if size > self.max_bytes:
              raise _Failed(f'was cut off at {self.max_bytes:,} bytes, the'
                            ' most allowed for one file (max_download_bytes)')
            digest.update(chunk)
            out.write(chunk)
    except (requests.RequestException, urllib3_errors.HTTPError,
            OSError) as e:
      if time.monotonic() >= deadline - 0.01:  # the read waited the rest
        raise _Failed(self._cut_off(size)) from None
      unreachable = _unreachable(e, url)
      if unreachable:
        with self._lock:
          self._unreachable.setdefault(_server(url), unreachable)
        raise _Failed(f'failed ({unreachable})') from None
      if isinstance(e, (requests.Timeout, urllib3_errors.TimeoutError,
                        TimeoutError)):
        raise _Failed(f'failed (no data for {read:g} s)') from None
      raise _Failed(f'failed ({type(e).__name__})') from None

  def _cut_off(self, size: int) -> str:
    return (f'was cut off at the {self.deadline_s:g} s deadline'
            f' (download_deadline_s) after {size:,} bytes')

  def _record_checksum(self, name: str, entry: str) -> None:
    with self._lock:
      self._checksums[name] = entry
      with (self.cache / CHECKSUMS).open('a', encoding='utf-8') as f:
        f.write(f'{name}\t{entry}\n')

  def _checksum_ok(self, path: pathlib.Path) -> bool:
    """Whether a cached file still has the size and sha256 it was saved
    with (hashed in blocks: a file may be up to the size cap)."""
    digest, size = hashlib.sha256(), 0
    with open(path, 'rb') as f:
      for block in iter(lambda: f.read(1 << 20), b''):
        digest.update(block)
        size += len(block)
    with self._lock:
      expected = self._checksums.get(path.name)
    return expected == f'{size}\t{digest.hexdigest()}'


def _set_read_timeout(response: requests.Response, seconds: float) -> None:
  """The next read waits at most `seconds`: what is left of the deadline."""
  connection = getattr(response.raw, 'connection', None)
  sock = getattr(connection, 'sock', None)
  if sock is not None:
    sock.settimeout(max(seconds, 0.001))


def _unreachable(error: BaseException, url: str) -> str | None:
  """Why the host could not be reached at all, or None (it answered)."""
  seen = 0
  while error is not None and seen < 8:
    if isinstance(error, urllib3_errors.NameResolutionError):
      return f'its name {_host(url)} does not resolve'
    if isinstance(error, urllib3_errors.NewConnectionError):
      return f'{_host(url)} refuses the connection'
    if isinstance(error, urllib3_errors.ConnectTimeoutError):
      return f'{_host(url)} does not answer the connection'
    error = getattr(error, 'reason', None) or next(
        (a for a in getattr(error, 'args', ()) if isinstance(a,
                                                              BaseException)),
        None)
    seen += 1
  return None


def _hint(response: requests.Response) -> str:
  if response.status_code not in (401, 403):
    return ''
  if 'Authorization' in response.request.headers:
    return '; check LABELBOX_API_KEY'
  return (f'; signed URLs expire: export again, or set {API_KEY_ENV} for'
          ' Labelbox-hosted media')


def _headers(url: str) -> dict[str, str]:
  """The bearer token, for Labelbox hosts only.

  `requests` drops the Authorization header itself when a redirect leaves the
  host (signed storage URLs reject a second credential anyway).
  """
  key = os.environ.get(API_KEY_ENV)
  host = _host(url)
  if key and any(host == h or host.endswith('.' + h) for h in API_KEY_HOSTS):
    return {'Authorization': f'Bearer {key}'}
  return {}


def _host(url: str) -> str:
  return (urllib.parse.urlsplit(url).hostname or '').lower()


def _server(url: str) -> str:
  """host:port, what one connection reaches."""
  parts = urllib.parse.urlsplit(url)
  try:
    port = parts.port
  except ValueError:  # a port that is no number: requests will say so
    port = None
  return f'{_host(url)}:{port or parts.scheme}'


def without_query(url: str) -> str:
  """The URL without its query: signed URLs carry credentials there."""
  parts = urllib.parse.urlsplit(url)
  return urllib.parse.urlunsplit(parts._replace(query='', fragment=''))


def cache_name(url: str) -> str:
  suffix = pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).suffix
  suffix = suffix.lower() if suffix.lower() in _SUFFIXES else ''
  return hashlib.sha256(url.encode('utf-8')).hexdigest()[:32] + suffix


def _read_checksums(cache: pathlib.Path | None) -> dict[str, str]:
  """file name -> 'size<TAB>sha256' of the cached files (last entry wins)."""
  table = cache / CHECKSUMS if cache else None
  if table is None or not table.is_file():
    return {}
  entries = {}
  for line in table.read_text(encoding='utf-8').splitlines():
    name, _, entry = line.partition('\t')
    entries[name] = entry
  return entries
