"""Finding the images and masks a Labelbox export points to.

Exports name media by URL and by keys (global key, external id, data row
id; masks by feature id). Each file is looked for in the export folder first
(`images/`, `masks/` or next to the export file, by each key), through
`ExportFiles`, so nothing outside the export is read; only what is not there
is downloaded (`download.py`: http(s) only, bounded in time and size).

Keys are user data, not paths: an external id may be an absolute path on the
labeller's machine (`C:\\photos\\a.jpg`), hold `..`, or a NUL byte. Such a
key is never looked up as a file (the other keys and the URL still are), and
a report that the image was not found says so.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import posixpath
import urllib.parse

from tfds_builders.core import report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles, check_name
from tfds_builders.labelbox import download

SUFFIXES = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff')
IMAGE_FOLDERS = ('images', '')  # relative to the export root; '' = root
MASK_FOLDERS = ('masks', '')


@dataclasses.dataclass(frozen=True)
class Media:
  """A file of the export: local names to try, then the URL to fetch."""
  names: tuple[str, ...]  # candidate file names, relative to a folder
  url: str | None = None
  folders: tuple[str, ...] = IMAGE_FOLDERS  # searched in order
  refused: tuple[str, ...] = ()  # keys that are no file name (see above)


@dataclasses.dataclass(frozen=True)
class Found:
  path: pathlib.Path | None  # the real path to read
  problem: str = ''  # why it is missing: places looked, download error
  name: str | None = None  # relative to the export root, when it is there


class MediaFinder:
  """Locates media in the export and downloads the rest."""

  def __init__(self, files: ExportFiles,
               download_dir: os.PathLike | str | None, *,
               deadline_s: float = download.DEADLINE_S,
               max_bytes: int = download.MAX_BYTES):
    self._files = files
    self._downloader = download.Downloader(
        download_dir, deadline_s=deadline_s, max_bytes=max_bytes)
    self._claimed: set[str] = set()
    self._owners: dict[str, Media] = {}  # image file -> the media it is
    self._shared: list[report.Issue] = []
    self._warned: set[tuple[str, Media]] = set()

  def find_local(self, media: Media, *, file: str) -> str | None:
    """The file of `media` in the export folder (its relative name), if it
    is there; it is claimed (see `unclaimed_issues`)."""
    for folder in media.folders:
      for name in media.names:
        try:  # a URL's last component may still be odd
          found = self._files.confine(posixpath.join(folder, name), file=file)
        except ExportError:
          continue
        if found:
          self._claimed.add(found)
          self._note_owner(found, media, file)
          return found
    return None

  def _note_owner(self, name: str, media: Media, file: str) -> None:
    """Two data rows found one file (by a URL's last component, or keys
    that differ only in their folders): both use it, and it is said."""
    if media.folders != IMAGE_FOLDERS:
      return
    first = self._owners.setdefault(name, media)
    if first != media and (name, media) not in self._warned:
      self._warned.add((name, media))  # find_local runs twice per media
      self._shared.append(report.Issue(
          name, f'named in {file}', f'is the local file of two data rows'
          f' (as {first.names[0]!r} and as {media.names[0]!r}); both use it,'
          ' though they may be two images of one name',
          report.WARNING, fix='Keep the images in the folders their external'
          ' ids or global keys name, or give them unique names.'))

  def download_all(self, media: list[tuple[Media, str]]) -> None:
    """Fetches the URLs of the `(media, export file)` not in the export."""
    self._downloader.fetch_all(
        m.url for m, file in media
        if m.url and self.find_local(m, file=file) is None)

  def find(self, media: Media, *, file: str) -> Found:
    """Local file or downloaded copy (after `download_all`), or why not."""
    name = self.find_local(media, file=file)
    if name is not None:
      return Found(pathlib.Path(self._files.real_path(name)), name=name)
    looked = _looked(media)
    if not media.url:
      return Found(None, f'{looked}; the export gives no URL')
    path, problem = self._downloader.fetch(media.url)
    real = self._files.trusted_file(path) if path else None
    if real is None:
      return Found(None, f'{looked}; {problem or "not in the download dir"}')
    return Found(pathlib.Path(real))

  def unclaimed_issues(self) -> list[report.Issue]:
    """Files two data rows share (see `_note_owner`), then images and masks
    in `images/`, `masks/` or at the root that no data row and no object
    named: not in the dataset, so reported."""
    folders = {f for f in IMAGE_FOLDERS + MASK_FOLDERS if f}
    return self._shared + [report.Issue(
        name, '', 'no data row names this file (by global key, external id or'
        ' data row id) and no object names it as its mask', report.NOT_INCLUDED,
        fix='Name it by a data row\'s global key, external id or id, or'
        ' delete it.')
            for name in self._files.files(suffixes=SUFFIXES)
            if name not in self._claimed and (
                '/' not in name or name.split('/', 1)[0] in folders)]


def _looked(media: Media) -> str:
  """'looked for a.jpg, <id>.(jpg|png|...) in images/, ./' for a report."""
  stems = []
  for name in media.names:
    stem, suffix = posixpath.splitext(name)
    if suffix.lower() in SUFFIXES and stem + '.tiff' in media.names:
      name = stem + '.(' + '|'.join(s[1:] for s in SUFFIXES) + ')'
    if name not in stems:
      stems.append(name)
  folders = ', '.join(f + '/' if f else './' for f in media.folders)
  looked = f'looked for {", ".join(stems) or "no name"} in {folders}'
  if media.refused:
    looked += ' (not for ' + ', '.join(
        repr(k) for k in media.refused) + ', which is not a relative file' \
        ' name)'
  return looked


def media_for(*keys, url: str | None = None,
              folders: tuple[str, ...] = IMAGE_FOLDERS) -> Media:
  """The `Media` of a data row (global key, external id, data row id) or a
  mask (feature id): the file names to try for each key that is a safe
  relative name, then the last component of the URL path."""
  names: list[str] = []
  refused: list[str] = []
  for key in keys:
    if key is None or key == '':
      continue
    key = str(key)
    try:
      check_name(key)
    except ExportError:
      refused.append(key)
      continue
    if pathlib.PurePosixPath(key).suffix.lower() in SUFFIXES:
      names.append(key)
    else:
      names += [key + s for s in SUFFIXES]
  if isinstance(url, str) and url:
    base = pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).name
    if pathlib.PurePosixPath(base).suffix.lower() in SUFFIXES:
      names.append(urllib.parse.unquote(base))
  else:
    url = None
  return Media(tuple(dict.fromkeys(names)), url, folders, tuple(refused))
