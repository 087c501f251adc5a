"""Where a name written in a YOLO export points, looked for inside the export.

YOLO exports name folders and files relative to places that are not the
export: Roboflow's `../train/images` (one level above where the export is
unpacked), Darknet's `data/train.txt` (relative to the darknet folder, whose
`data/` the export is), list entries as absolute paths of the machine that
wrote them (`/content/ds/images/train/a.jpg`). Each name is tried, the first
found wins:

  1. relative to each base folder in order (the YAML's `path`, the list's
     folder, the export root);
  2. without a leading prefix the tools are known to add (`data/` for
     Darknet, `../` as Ultralytics itself drops it), then (YAML entries)
     relative to the export root;
  3. by its trailing path, when exactly one file or folder of the export
     ends so (`/content/ds/valid/images` -> `valid/images`); an image, by
     its trailing path from the export root, then by its base name alone.

Nothing outside the export is ever looked at: candidates that climb out with
`..` are dropped and only names in the export's index (`ExportFiles`, which
leaves out symlinks leading out) or the `ImageLookup` can be found. What was
found in steps 2 (when it is a repair) and 3 comes with a `note` that the
caller reports.
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import Iterable

from tfds_builders.core.lookup import ImageLookup

# (prefix, note): a note of '' means the prefix is the convention, not a fix.
DARKNET_PREFIXES = (('data/', ''),)
ULTRALYTICS_PREFIXES = (
    ('../', 'without its leading "../", as Ultralytics reads it'),)


@dataclasses.dataclass(frozen=True)
class Resolved:
  name: str | None  # relative to the export root ('' is the root itself)
  note: str = ''  # how it was found, when not as written
  problem: str = ''  # why it was not found
  guesses: tuple[str, ...] = ()  # where it would be inside the export


def clean(entry: str) -> str:
  """A name as written, trimmed, with Windows separators made '/'."""
  return entry.strip().replace('\\', '/')


def is_outside(entry: str) -> bool:
  """An absolute, home or drive path: never relative to the export."""
  return entry.startswith(('/', '~')) or (len(entry) > 1 and entry[1] == ':')


def join_inside(base: str, entry: str) -> str | None:
  """`base/entry` normalised, or None when it climbs out of the export."""
  joined = posixpath.normpath(posixpath.join(base, entry) if base else entry)
  if joined == '.':
    return ''
  if joined == '..' or joined.startswith(('../', '/')):
    return None
  return joined


def _candidates(entry: str, bases: Iterable[str],
                prefixes: tuple[tuple[str, str], ...]
                ) -> list[tuple[str, str]]:
  if is_outside(entry):
    return []
  bases = list(dict.fromkeys(bases))
  as_written = [(c, '') for c in (join_inside(b, entry) for b in bases)
                if c is not None]
  conventions, repairs = [], []
  for prefix, note in prefixes:
    if entry.startswith(prefix) and entry[len(prefix):]:
      rest = entry[len(prefix):]
      (repairs if note else conventions).extend(
          (c, note and f'read as {c!r} ({note})')
          for c in (join_inside(b, rest) for b in bases) if c is not None)
  # A conventional prefix (darknet's data/) is what the name means: first.
  return list(dict.fromkeys(conventions + as_written + repairs))


def _tails(entry: str) -> list[str]:
  """Trailing paths of `entry`, longest first."""
  parts = [p for p in entry.split('/') if p not in ('', '.', '..', '~')]
  if parts and len(parts[0]) == 2 and parts[0][1] == ':':
    parts = parts[1:]  # C:
  return ['/'.join(parts[i:]) for i in range(len(parts))]


def _unusable(entry: str) -> str:
  if '\0' in entry:
    return 'contains a NUL byte'
  if not clean(entry):
    return 'is empty'
  return ''


def resolve(entry: str, bases: Iterable[str], known: set[str], *,
            prefixes: tuple[tuple[str, str], ...] = (),
            fallback: str | None = None) -> Resolved:
  """A folder or file (`known`: the export's folders and files).

  `fallback`: a base tried after the prefixes, as a repair (the export root,
  for names that are relative to it rather than to the YAML).
  """
  problem = _unusable(entry)
  if problem:
    return Resolved(None, problem=problem)
  entry = clean(entry)
  candidates = _candidates(entry, bases, prefixes)
  if fallback is not None and not is_outside(entry):
    joined = join_inside(fallback, entry)
    if joined is not None:
      candidates.append((joined, f'read as {joined!r}, relative to'
                         f' {fallback or "the export root"}'))
  for candidate, note in candidates:
    if candidate in known:
      return Resolved(candidate, note)
  for tail in _tails(entry):
    ends = [k for k in known if k == tail or k.endswith('/' + tail)]
    if len(ends) == 1:
      return Resolved(ends[0], f'found as {ends[0]!r}, the one place in the'
                      f' export whose path ends in {tail!r}')
    if ends:
      shown = ', '.join(sorted(ends)[:4])
      return Resolved(None, problem=f'is not in the export as written, and'
                      f' {len(ends)} places end in {tail!r} ({shown})')
  return Resolved(None, problem=_not_found(entry, candidates))


def find_image(entry: str, bases: Iterable[str], lookup: ImageLookup, *,
               prefixes: tuple[tuple[str, str], ...] = ()) -> Resolved:
  """An image a list names, through the export's `ImageLookup` (which
  claims what it finds)."""
  problem = _unusable(entry)
  if problem:
    return Resolved(None, problem=problem)
  entry = clean(entry)
  candidates = _candidates(entry, bases, prefixes)
  for candidate, note in candidates:
    found = _find(lookup, candidate, anywhere=False)
    if found:
      return Resolved(found, note)
  tails = _tails(entry)
  for tail in tails:
    found = _find(lookup, tail, anywhere=False)
    if found:
      return Resolved(found, f'found as {found!r} by its trailing path')
  base = tails[-1] if tails else ''
  found = _find(lookup, base, anywhere=True) if base else None
  if found:
    return Resolved(found, f'found as {found!r}, the one image of that name')
  return Resolved(None, problem=_not_found(entry, candidates),
                  guesses=tuple(c for c, _ in candidates if c))


def _find(lookup: ImageLookup, name: str, anywhere: bool) -> str | None:
  if not name:
    return None
  return lookup.find(name, anywhere=anywhere).name  # None: not found, or
  # a name leading out of the export (never looked up)


def _not_found(entry: str, candidates: list[tuple[str, str]]) -> str:
  if not candidates:
    return ('is a path outside the export (absolute, or climbing out with'
            ' ".."), and nothing in the export matches its trailing path')
  tried = ', '.join(repr(c or '.') for c, _ in candidates[:4])
  return f'is not in the export (looked for {tried} and its trailing path)'
