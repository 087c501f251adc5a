"""Finding the images and masks a Labelbox export points to.

Exports name media by URL. Each file is looked for in the export folder first
(by global key, external id or data row id, in `images/`, `masks/` or next to
the export file); only what is not there is downloaded, over http(s) only.

Downloads do not go through `dl_manager.download`: TFDS's downloader (4.9,
`downloader._open_with_requests`) can neither send a header nor set a
timeout, and private Labelbox media (mask URLs on api.labelbox.com) need the
API key as a bearer token, while a stalled server must not hang a build. So
files are fetched with `requests` (a TFDS dependency) into the download
manager's `download_dir`, under `labelbox_media/`, named by the sha256 of
their URL, with their sha256 and size kept in `labelbox_media.tsv` there and
checked on reuse. TFDS's per-dataset URL checksum files would not help here:
signed media URLs change with every export.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import os
import pathlib
import posixpath
import threading
import urllib.parse

import requests

from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles, check_name

API_KEY_ENV = 'LABELBOX_API_KEY'
# The key is only ever sent to Labelbox itself, never to the image hosts
# (S3, GCS...) that exports also point to.
API_KEY_HOSTS = ('labelbox.com',)
TIMEOUT_S = (10, 60)  # connect, read
MAX_PARALLEL_DOWNLOADS = 8
CACHE_DIR = 'labelbox_media'
_CHECKSUMS = 'labelbox_media.tsv'
_SUFFIXES = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff')
IMAGE_FOLDERS = ('images', '')  # relative to the export root; '' = root
MASK_FOLDERS = ('masks', '')


@dataclasses.dataclass(frozen=True)
class Media:
  """A file of the export: local names to try, then the URL to fetch."""
  names: tuple[str, ...]  # candidate file names, relative to a folder
  url: str | None = None
  folders: tuple[str, ...] = IMAGE_FOLDERS  # searched in order


@dataclasses.dataclass(frozen=True)
class Found:
  path: pathlib.Path | None  # the real path to read
  problem: str = ''  # why it is missing: places looked, download error
  name: str | None = None  # relative to the export root, when it is there


class MediaFinder:
  """Locates media locally and downloads the rest, in parallel."""

  def __init__(self, files: ExportFiles, download_dir: os.PathLike | None):
    self._files = files
    self._cache = pathlib.Path(download_dir) / CACHE_DIR if (
        download_dir) else None
    self._checksums = _read_checksums(self._cache)
    self._lock = threading.Lock()
    self._downloaded: dict[str, Found] = {}

  def find_local(self, media: Media, *, file: str) -> str | None:
    """The file of `media` in the export folder (its relative name), if it
    is there."""
    for folder in media.folders:
      for name in media.names:
        try:  # an external id may hold '..' or an absolute path
          found = self._files.confine(posixpath.join(folder, name), file=file)
        except ExportError:
          continue
        if found:
          return found
    return None

  def download_all(self, urls: set[str]) -> None:
    """Fetches `urls` (those not cached already) with a few threads."""
    todo = sorted(u for u in urls if u not in self._downloaded)
    if not todo:
      return
    with concurrent.futures.ThreadPoolExecutor(MAX_PARALLEL_DOWNLOADS) as pool:
      for url, found in zip(todo, pool.map(self._fetch, todo)):
        self._downloaded[url] = found

  def find(self, media: Media, *, file: str) -> Found:
    """Local file or downloaded copy (after `download_all`), or why not."""
    name = self.find_local(media, file=file)
    if name is not None:
      return Found(pathlib.Path(self._files.real_path(name)), name=name)
    looked = _looked(media)
    if not media.url:
      return Found(None, f'{looked}; the export gives no URL')
    found = self._downloaded.get(media.url)
    if found is None:
      found = self._fetch(media.url)
    if found.path is None:
      return Found(None, f'{looked}; {found.problem}')
    return found

  def _fetch(self, url: str) -> Found:
    shown = _without_query(url)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ('http', 'https'):
      return Found(None, f'{shown} is not an http(s) URL, so it is not'
                   ' downloaded')
    if self._cache is None:
      return Found(None, f'no download folder to fetch {shown} into')
    self._cache.mkdir(parents=True, exist_ok=True)
    path = self._cache / _cache_name(url)
    if path.is_file() and self._checksum_ok(path):
      return Found(path)
    try:
      with requests.get(url, headers=_headers(url), timeout=TIMEOUT_S,
                        stream=True) as response:
        if response.status_code != 200:
          return Found(None, f'download of {shown} failed (HTTP'
                       f' {response.status_code}){_hint(response)}')
        data = b''.join(response.iter_content(1 << 16))
    except requests.RequestException as e:
      return Found(None, f'download of {shown} failed ({type(e).__name__})')
    tmp = path.with_name(path.name + f'.tmp{os.getpid()}')
    tmp.write_bytes(data)
    tmp.replace(path)
    self._record_checksum(path, data)
    return Found(path)

  def _record_checksum(self, path: pathlib.Path, data: bytes) -> None:
    entry = f'{len(data)}\t{hashlib.sha256(data).hexdigest()}'
    with self._lock:
      self._checksums[path.name] = entry
      with (self._cache / _CHECKSUMS).open('a', encoding='utf-8') as f:
        f.write(f'{path.name}\t{entry}\n')

  def _checksum_ok(self, path: pathlib.Path) -> bool:
    """Whether a cached file still has the size and sha256 it was saved with."""
    data = path.read_bytes()
    with self._lock:
      expected = self._checksums.get(path.name)
    return expected == f'{len(data)}\t{hashlib.sha256(data).hexdigest()}'


def _looked(media: Media) -> str:
  """'looked for a.jpg, <id>.(jpg|png|...) in images/, ./' for a report."""
  stems = []
  for name in media.names:
    stem, suffix = posixpath.splitext(name)
    if suffix.lower() in _SUFFIXES and stem + '.tiff' in media.names:
      name = stem + '.(' + '|'.join(s[1:] for s in _SUFFIXES) + ')'
    if name not in stems:
      stems.append(name)
  folders = ', '.join(f + '/' if f else './' for f in media.folders)
  return f'looked for {", ".join(stems) or "no name"} in {folders}'


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
  host = (urllib.parse.urlsplit(url).hostname or '').lower()
  if key and any(host == h or host.endswith('.' + h) for h in API_KEY_HOSTS):
    return {'Authorization': f'Bearer {key}'}
  return {}


def _without_query(url: str) -> str:
  """The URL without its query: signed URLs carry credentials there."""
  parts = urllib.parse.urlsplit(url)
  return urllib.parse.urlunsplit(parts._replace(query='', fragment=''))


def _cache_name(url: str) -> str:
  suffix = pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).suffix
  suffix = suffix.lower() if suffix.lower() in _SUFFIXES else ''
  return hashlib.sha256(url.encode('utf-8')).hexdigest()[:32] + suffix


def _read_checksums(cache: pathlib.Path | None) -> dict[str, str]:
  """file name -> 'size<TAB>sha256' of the cached files (last entry wins)."""
  table = cache / _CHECKSUMS if cache else None
  if table is None or not table.is_file():
    return {}
  entries = {}
  for line in table.read_text(encoding='utf-8').splitlines():
    name, _, entry = line.partition('\t')
    entries[name] = entry
  return entries


def check_keys(*keys: str | None, file: str, item: str) -> None:
  """Global keys and external ids are looked up as file names in the export:
  one that is absolute or climbs out with `..` is refused with an error."""
  for key in keys:
    if isinstance(key, str) and key:
      check_name(key, file=file, item=f'{item}: {key!r}')


def local_names(*keys: str | None, url: str | None = None) -> tuple[str, ...]:
  """File names to try for the given keys (global key, external id, ids).

  A key with an image suffix is tried as is, others with each suffix; the
  last component of the URL path comes last.
  """
  names: list[str] = []
  for key in keys:
    if not key:
      continue
    key = str(key)
    if pathlib.PurePosixPath(key).suffix.lower() in _SUFFIXES:
      names.append(key)
    else:
      names += [key + s for s in _SUFFIXES]
  if url:
    base = pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).name
    if pathlib.PurePosixPath(base).suffix.lower() in _SUFFIXES:
      names.append(urllib.parse.unquote(base))
  return tuple(dict.fromkeys(names))
