"""Which images are in the dataset, and in which split: what the layouts of
`layout.py` state, recorded in one place.

Images come from a folder (a YAML split key: every image below it), from a
list file (one image path per line; `./` lines are relative to the list, as
Ultralytics reads them), or, when the export states no splits, from every
image of the export, split by its folders (`images/train/`, `valid/`) or
else by hashing. An image named twice is used once, where first named, and
that is reported; a listed image that is not in the export is kept as
`Missing` (parse.py makes it a record that the encoder reports).
"""

from __future__ import annotations

import dataclasses
import posixpath

from tfds_builders.core import report, splits
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import ImageLookup
from tfds_builders.yolo import paths


@dataclasses.dataclass(frozen=True)
class Placement:
  split: str | None  # None: the builder's hash split
  source: str  # what stated the split ('' when nothing did)
  named_by: str  # the file naming the image ('' when none: bare layouts)


@dataclasses.dataclass(frozen=True)
class Missing:
  """A listed image that is not in the export."""
  entry: str
  file: str
  item: str
  problem: str
  placement: Placement
  guesses: tuple[str, ...]  # where it would be, to find its label file


class Placer:
  """Places images in splits; collects list files read and issues."""

  def __init__(self, files: ExportFiles, lookup: ImageLookup,
               issues: list[report.Issue]):
    self.files, self.lookup, self.issues = files, lookup, issues
    self.images: dict[str, Placement] = {}
    self.missing: list[Missing] = []
    self.lists: list[str] = []
    self._repeated: dict[str, list] = {}  # source -> [count, image, file]

  def read_list(self, name: str, placement: Placement, bases: list[str],
                prefixes: tuple[tuple[str, str], ...] = ()) -> None:
    """The images a list file names, each looked for relative to `bases`
    in order (see `paths.find_image`)."""
    self.lists.append(name)
    list_folder = posixpath.dirname(name)
    repaired: list[tuple[int, str, str]] = []
    for line_no, raw in enumerate(self.files.read_text(name).splitlines(), 1):
      entry = raw.strip()
      if not entry or entry.startswith('#'):
        continue
      order = [list_folder] + bases if entry.startswith('./') else bases
      found = paths.find_image(entry, order, self.lookup, prefixes=prefixes)
      if found.name:
        self.place(found.name, placement)
        if found.note:
          repaired.append((line_no, entry, found.note))
      else:
        self.missing.append(Missing(entry, name, f'line {line_no}',
                                    found.problem, placement, found.guesses))
    if repaired:
      line_no, entry, note = repaired[0]
      self.issues.append(report.Issue(
          name, f'line {line_no}', f'{len(repaired)}'
          f' {"entry" if len(repaired) == 1 else "entries"} named no image of'
          ' the export as written; matched inside the export'
          f' (the first, {entry!r}, {note})', report.REPAIRED,
          fix='Write image paths relative to the export.'))

  def place_folder(self, folder: str, placement: Placement) -> None:
    """Every image below `folder` ('' is the root), at any depth."""
    prefix = folder + '/' if folder else ''
    for image in self.lookup.unclaimed(folder) + [
        i for i in self.images if i.startswith(prefix)]:
      self.lookup.claim(image)
      self.place(image, placement)

  def place_all(self) -> None:
    """Every image nothing placed: split by its folders, else hashed."""
    for image in self.lookup.unclaimed():
      self.lookup.claim(image)
      found = splits.split_from_folders(image.split('/')[:-1])
      self.place(image, Placement(found[0], f'folder {found[1]}/', '')
                 if found else Placement(None, '', ''))

  def place(self, image: str, placement: Placement) -> None:
    if image in self.images:
      repeat = self._repeated.setdefault(
          placement.source, [0, image, placement.named_by])
      repeat[0] += 1
      return
    self.images[image] = placement

  def report_repeats(self) -> None:
    for source, (count, image, named_by) in self._repeated.items():
      first = self.images[image]
      self.issues.append(report.Issue(
          named_by or image, source, f'{count} image(s) named again (the'
          f' first, {image}, is already in {first.split or "the dataset"}'
          f' by {first.source or first.named_by or "its folder"}); each image'
          ' is used once, where first named', report.WARNING,
          fix='Name each image in one split only.'))
