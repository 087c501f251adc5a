"""The one confined way to list and read the files of an export.

Every file a build reads (annotations, label maps, split lists, masks,
records, images) is found through `ExportFiles` and read with `read_file`:
  * names from annotations must be relative: no `..`, no absolute or drive
    path, no `~`, no NUL byte;
  * the file must lie inside the export (or a trusted folder such as the
    download dir) once symlinks are resolved, and be a regular file (a FIFO
    would hang the build, a directory or device is not data);
  * reads are size-capped, so a hostile file cannot exhaust memory.
The export is walked once. Symlinks leading out, special files and
unreadable folders are left out of the index and reported as not included;
hidden files and folders (`.git`, `.DS_Store`, macOS `__MACOSX/` resource
forks) are not data and are not indexed.

Text is decoded in one place too: a UTF-8 BOM is accepted, UTF-16 with a
BOM is read, other bytes that are not UTF-8 are read as Windows-1252 with a
reported warning. JSON must be UTF-8/16/32 and is refused with its byte
offset otherwise; nesting is limited by Python's recursion limit.
"""

from __future__ import annotations

import codecs
import collections
import hashlib
import json
import os
import pathlib
import stat
from typing import Iterable

from tfds_builders.core import report
from tfds_builders.core.errors import ExportError, SkippableError

MAX_TEXT_BYTES = 256 << 20  # XML, label lists, split lists, label maps
MAX_JSON_BYTES = 16 << 30  # COCO files of real exports reach a few GB
MAX_MEDIA_BYTES = 1 << 30  # one image, mask or record file read whole
_IGNORED_FOLDERS = ('__MACOSX',)


class UnreadableFile(SkippableError):
  """A file that may not or cannot be read (outside, special, too big)."""


def check_name(name: str, *, file: str | None = None,
               item: str | None = None) -> pathlib.PurePosixPath:
  """A name from an annotation as a relative path, or an ExportError.

  Backslashes count as separators (Windows tools write them).
  """
  if not isinstance(name, str) or not name:
    raise ExportError(f'path {name!r} is empty or not text.', file=file,
                      item=item, fix='Name the file in the annotation.')
  if '\0' in name:
    raise ExportError(f'path {name!r} contains a NUL byte.', file=file,
                      item=item, fix='Fix the file name in the annotation.')
  normalized = name.replace('\\', '/')
  candidate = pathlib.PurePosixPath(normalized)
  if is_absolute_name(name):
    raise ExportError(
        f'path {name!r} is absolute; annotation paths must be relative to the'
        ' export folder.', file=file, item=item,
        fix='Re-export with relative paths or edit the annotation.')
  if '..' in candidate.parts:
    raise ExportError(
        f'path {name!r} climbs out of the export folder with "..".',
        file=file, item=item, fix='Keep every file inside the export folder.')
  return candidate


def is_absolute_name(name: str) -> bool:
  """`/a/b.jpg`, `~/b.jpg` or `C:\\a\\b.jpg` (backslashes as separators)."""
  normalized = name.replace('\\', '/')
  return normalized.startswith(('/', '~')) or (
      len(normalized) > 1 and normalized[1] == ':')


def open_regular(path: os.PathLike | str, *, file: str | None = None,
                 item: str | None = None):
  """A binary file object for a regular file, for reading in a stream.

  `path` must already be confined (from `ExportFiles`): its last component
  is not followed if it is a symlink, and a FIFO is opened without blocking
  and refused.
  """
  shown = file or str(path)
  try:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                 | getattr(os, 'O_CLOEXEC', 0))
  except OSError as e:
    raise UnreadableFile(f'file cannot be opened ({e.strerror}).', file=shown,
                         item=item, fix='Check that the file exists and is'
                         ' readable.') from None
  f = os.fdopen(fd, 'rb')
  if not stat.S_ISREG(os.fstat(fd).st_mode):
    f.close()
    raise UnreadableFile('is not a regular file.', file=shown, item=item,
                         fix='Replace it with the file itself.')
  return f


def read_file(path: os.PathLike | str, *, limit: int = MAX_MEDIA_BYTES,
              file: str | None = None, item: str | None = None) -> bytes:
  """The bytes of a confined regular file no larger than `limit`."""
  shown = file or str(path)
  with open_regular(path, file=file, item=item) as f:
    size = os.fstat(f.fileno()).st_size
    if size > limit:
      raise UnreadableFile(
          f'file is {size:,} bytes, more than the {limit:,} allowed.',
          file=shown, item=item, fix='Check the file; if it is genuine, raise'
          ' the limit in tfds_builders.core.exportfs.')
    data = f.read(limit + 1)
  if len(data) > limit:  # grew while being read
    raise UnreadableFile(f'file is more than the {limit:,} bytes allowed.',
                         file=shown, item=item)
  return data


def read_head(path: os.PathLike | str, size: int = 1 << 18, *,
              file: str | None = None, item: str | None = None) -> bytes:
  """The first `size` bytes of a confined regular file: all an image header
  needs (`check` reads no pixels)."""
  with open_regular(path, file=file, item=item) as f:
    return f.read(size)


def decode_text(data: bytes, *, file: str) -> tuple[str, str | None]:
  """`(text, warning or None)`: UTF-8 (BOM or not), UTF-16 with a BOM, else
  Windows-1252 (then Latin-1), which never fails, with a warning."""
  if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
    try:
      return data.decode('utf-16'), None
    except UnicodeDecodeError as e:
      raise ExportError(f'invalid UTF-16 text at byte {e.start}.', file=file,
                        fix='Save the file as UTF-8.') from None
  try:
    return data.decode('utf-8-sig'), None
  except UnicodeDecodeError as e:
    bad = data[e.start]
    fallback = 'cp1252'
    try:
      text = data.decode(fallback)
    except UnicodeDecodeError:
      fallback = 'latin-1'
      text = data.decode(fallback)
    return text, (f'not UTF-8 (byte 0x{bad:02x} at offset {e.start}); read as'
                  f' {"Windows-1252" if fallback == "cp1252" else "Latin-1"}')


def parse_json(data: bytes, *, file: str):
  """JSON from bytes with errors that name the file and the place."""
  fix = 'Re-export the file; it may be cut short or edited by hand.'
  if data.startswith(codecs.BOM_UTF8):
    data = data[len(codecs.BOM_UTF8):]
  try:
    return json.loads(data)
  except UnicodeDecodeError as e:
    raise ExportError(f'JSON is not UTF-8 text ({e.reason} at byte {e.start}'
                      ').', file=file, fix='Save the file as UTF-8.') from None
  except json.JSONDecodeError as e:
    raise ExportError(f'not valid JSON ({e.msg} at line {e.lineno}, column'
                      f' {e.colno}, byte {e.pos}).', file=file, fix=fix) from None
  except RecursionError:
    raise ExportError('JSON is nested too deeply (Python reads about 1,000'
                      ' levels; annotation files need fewer than 10).',
                      file=file, fix=fix) from None
  except ValueError as e:  # integers of more than 4,300 digits
    raise ExportError(f'JSON holds a value Python refuses ({e}).', file=file,
                      fix=fix) from None


class ExportFiles:
  """The files of one export: walked once, listed, looked up, read."""

  def __init__(self, root: os.PathLike | str,
               trusted: Iterable[os.PathLike | str] = ()):
    given = pathlib.Path(root)
    if not given.is_dir():
      raise ExportError(
          'the export folder is missing or is not a folder.', file=str(root),
          fix='Pass the folder that holds the export with --manual_dir.')
    self.root = given.resolve()
    # Folders outside the export whose files may be read (the download dir).
    self._trusted = [pathlib.Path(t).resolve() for t in trusted if t]
    self.issues: list[report.Issue] = []  # refused files, encoding fallbacks
    # sha256 of every file read through this object (annotations, lists,
    # label maps): the source manifest takes them from here, not a re-read.
    self.digests: dict[str, str] = {}
    self._files: dict[str, str] | None = None  # relative name -> real path
    self._by_name: dict[str, list[str]] | None = None

  # Listing.

  def files(self, under: str = '', suffixes: tuple[str, ...] = ()
            ) -> list[str]:
    """Relative names (forward slashes, sorted) of the regular files under
    folder `under` ('' = everywhere), optionally by lower-case suffix."""
    prefix = under.strip('/') + '/' if under.strip('/') else ''
    return [name for name in self._index() if name.startswith(prefix) and (
        not suffixes or os.path.splitext(name)[1].lower() in suffixes)]

  def named(self, basename: str) -> list[str]:
    """Files anywhere in the export with this base name (case-insensitive)."""
    if self._by_name is None:
      self._by_name = collections.defaultdict(list)
      for name in self._index():
        self._by_name[name.rsplit('/', 1)[-1].lower()].append(name)
    return list(self._by_name.get(basename.lower(), ()))

  def has(self, name: str) -> bool:
    return name in self._index()

  def folders(self) -> set[str]:
    """Every folder that holds an indexed file ('' for the root)."""
    result = {''}
    for name in self._index():
      parts = name.split('/')[:-1]
      result.update('/'.join(parts[:i + 1]) for i in range(len(parts)))
    return result

  def real_path(self, name: str) -> str:
    """The real (symlink-free) path of an indexed file, for reading."""
    return self._index()[name]

  def path(self, name: str) -> pathlib.Path:
    """The file as a path under the export root (for names and ids)."""
    return self.root.joinpath(*name.split('/'))

  def relative(self, path: os.PathLike | str) -> str:
    return pathlib.Path(path).relative_to(self.root).as_posix()

  # Reading.

  def confine(self, name: str, *, base: str = '', file: str | None = None,
              item: str | None = None) -> str | None:
    """The indexed file that `name` (relative to folder `base`) names, or
    None when there is none. `..`, absolute names and names leading through
    a symlink out of the export are an ExportError."""
    relative = check_name(name, file=file, item=item)
    joined = pathlib.PurePosixPath(base) / relative if base else relative
    key = joined.as_posix()
    if key in self._index():
      return key
    real = os.path.realpath(self.root.joinpath(*joined.parts))
    if not self._inside(real):
      raise ExportError(
          f'path {name!r} leads outside the export folder (to {real}).',
          file=file, item=item,
          fix='Copy the file into the export instead of linking to it.')
    return None

  def read_bytes(self, name: str, *, limit: int = MAX_MEDIA_BYTES,
                 item: str | None = None) -> bytes:
    data = read_file(self.real_path(name), limit=limit, file=name, item=item)
    self.digests[name] = hashlib.sha256(data).hexdigest()
    return data

  def read_text(self, name: str, *, limit: int = MAX_TEXT_BYTES) -> str:
    """A text file, decoded (see the module doc); a fallback is reported."""
    text, warning = decode_text(self.read_bytes(name, limit=limit), file=name)
    if warning:
      self.issues.append(report.Issue(name, '', warning, report.WARNING,
                                      fix='Save the file as UTF-8.'))
    return text

  def read_json(self, name: str, *, limit: int = MAX_JSON_BYTES):
    return parse_json(self.read_bytes(name, limit=limit), file=name)

  def trusted_file(self, path: os.PathLike | str) -> str | None:
    """The real path of a file in a trusted folder (downloads), or None."""
    real = os.path.realpath(path)
    if any(_is_within(real, t) for t in self._trusted) and os.path.isfile(
        real):
      return real
    return None

  # The walk.

  def _inside(self, real: str) -> bool:
    return _is_within(real, self.root)

  def _index(self) -> dict[str, str]:
    if self._files is None:
      self._files = self._walk()
    return self._files

  def _walk(self) -> dict[str, str]:
    files: dict[str, str] = {}
    root = str(self.root)
    for folder, dirnames, filenames in os.walk(
        root, followlinks=False, onerror=self._unreadable_folder):
      base = os.path.relpath(folder, root)
      base = '' if base == '.' else base.replace(os.sep, '/') + '/'
      kept = []
      for dirname in sorted(dirnames):
        if _hidden(dirname):
          continue
        if os.path.islink(os.path.join(folder, dirname)):
          self._refuse(base + dirname, 'a symlinked folder is not followed')
        else:
          kept.append(dirname)
      dirnames[:] = kept
      for filename in sorted(filenames):
        if _hidden(filename):
          continue
        name = base + filename
        path = os.path.join(folder, filename)
        real = os.path.realpath(path) if os.path.islink(path) else path
        if not self._inside(real):
          self._refuse(name, f'symlink leading outside the export (to {real})')
          continue
        try:
          mode = os.stat(real).st_mode
        except OSError as e:
          self._refuse(name, f'cannot be read ({e.strerror})')
          continue
        if not stat.S_ISREG(mode):
          self._refuse(name, 'not a regular file')
          continue
        files[name] = real
    return dict(sorted(files.items()))

  def _refuse(self, name: str, why: str) -> None:
    self.issues.append(report.Issue(
        name, '', f'{why}; not read', report.NOT_INCLUDED,
        fix='Copy the file itself into the export folder.'))

  def _unreadable_folder(self, error: OSError) -> None:
    name = os.path.relpath(error.filename, self.root) if error.filename else '?'
    self._refuse(name, f'folder cannot be listed ({error.strerror})')


def _hidden(name: str) -> bool:
  return name.startswith('.') or name in _IGNORED_FOLDERS


def _is_within(real: str, folder: pathlib.Path) -> bool:
  folder_text = str(folder)
  return real == folder_text or real.startswith(folder_text.rstrip(os.sep)
                                                + os.sep)
