"""Reading a YOLO export into image records.

`layout.py` says which images there are, in which split, and what the classes
are; this module finds each image's label file, reads its lines
(`lines.py`) and accounts for everything else:

  * an image without a label file is an image without objects (YOLO writes
    no file, or an empty one, for negatives);
  * an image nothing states, in an export that states its splits, is
    reported as not included, with the objects of its label file;
  * a label file whose image is missing is a skipped image, with its objects;
  * an image whose label file the export's walk refused (a symlink leading
    out) is skipped, not kept as a negative;
  * a listed image that is not in the export is kept as a record without
    image, which the encoder reports as skipped (with its label's objects).

A label file belongs to an image as Ultralytics finds it (`img2label_paths`:
the last `images/` folder of the image's path becomes `labels/`, the suffix
`.txt`), else beside the image (Darknet, CVAT "YOLO 1.1", labelImg). The
`labels/*.cache` files Ultralytics leaves beside the labels are pickles and
are never read.
"""

from __future__ import annotations

import collections
import posixpath

from tfds_builders.core import record_store, report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import IMAGE_SUFFIXES, ImageLookup
from tfds_builders.core.records import ImageRecord, ParsedExport
from tfds_builders.yolo import config, lines
from tfds_builders.yolo.layout import Layout, find_layout
from tfds_builders.yolo.placing import Missing, Placement

MAX_LABEL_BYTES = 64 << 20  # a label file is a few hundred bytes per image
# Text files that are not label files, wherever they lie, by the name before
# the first dot (Roboflow writes README.roboflow.txt and README.dataset.txt;
# license_plate_001.txt is a label file).
_NOT_LABELS = frozenset(('readme', 'license', 'licence', 'notes',
                         'changelog'))


def label_for(image: str, labels: dict[str, list[str]]) -> str | None:
  """The label file of `image` (`labels`: `by_lower_case` of the names).

  The name in the image's own case first (Linux tells `A.txt` from `a.txt`,
  as Ultralytics does there); another case only when it is the one file of
  that name (exports made on Windows or macOS mix cases freely).
  """
  parts = image.split('/')
  text_name = posixpath.splitext(parts[-1])[0] + '.txt'
  candidates = []
  for i in range(len(parts) - 2, -1, -1):
    if parts[i].lower() == 'images':
      candidates.append('/'.join(parts[:i] + ['labels'] + parts[i + 1:-1]
                                 + [text_name]))
      break
  candidates.append('/'.join(parts[:-1] + [text_name]))
  for candidate in candidates:
    found = labels.get(candidate.lower(), [])
    if candidate in found:
      return candidate
    if len(found) == 1:
      return found[0]
  return None


def by_lower_case(names) -> dict[str, list[str]]:
  index: dict[str, list[str]] = {}
  for name in names:
    index.setdefault(name.lower(), []).append(name)
  return index


def parse_export(files: ExportFiles) -> ParsedExport:
  lookup = ImageLookup(files)
  layout = find_layout(files, lookup)
  reader = _Reader(files, layout)
  for image, placement in layout.images.items():
    reader.add_image(image, placement)
  for missing in layout.missing:
    reader.add_missing(missing)
  if layout.stated:
    for image in lookup.unclaimed():
      reader.not_included(image)
  reader.report_orphans()
  reader.report_dropped_values()
  return ParsedExport(
      f'YOLO ({layout.kind})', reader.records, layout.classes.class_list,
      reader.export_images, reader.export_objects,
      layout.issues + reader.issues,
      source_files=[files.path(n) for n in layout.config_files
                    + sorted(reader.claimed)])


class _Reader:
  """Reads the label files of one export, collecting records and issues."""

  def __init__(self, files: ExportFiles, layout: Layout):
    self.files, self.layout = files, layout
    self.records = record_store.new_list()
    self.issues: list[report.Issue] = []
    self.export_images = self.export_objects = 0
    used = set(layout.config_files)
    self.label_files = [n for n in files.files(suffixes=('.txt',))
                        if n not in used and not config.is_class_file(n)]
    self.labels = by_lower_case(self.label_files)
    self.claimed: dict[str, str] = {}  # label file -> its image
    # Files the export's walk refused (symlinks leading out, special files):
    # an image whose label file is one of them is not a negative.
    self.refused = by_lower_case(i.file for i in files.issues
                                 if i.action == report.NOT_INCLUDED)
    self._scores, self._keypoints = _Tally(), _Tally()
    self._stems: collections.Counter | None = None  # image stems, counted

  def add_image(self, image: str, placement: Placement) -> None:
    self.export_images += 1
    label = self._claim(image, image)
    refused = None if label else label_for(image, self.refused)
    if refused:
      self.issues.append(report.Issue(
          image, '', f'its label file {refused} was refused (see its entry);'
          ' the image is left out rather than kept without its objects',
          report.SKIPPED_IMAGE, fix='Copy the label file itself into the'
          ' export.'))
      return
    record = ImageRecord(
        image_id=self._image_id(image), filename=image,
        annotation_file=label or placement.named_by or image,
        image_path=self.files.real_path(image), split=placement.split,
        split_source=placement.source if placement.split else '',
        exif_frame=True)  # Ultralytics, CVAT and Label Studio label it so
    if label is None or self._read_objects(record, label):
      self.records.append(record)

  def add_missing(self, missing: Missing) -> None:
    """A listed image that is not in the export: a record without image."""
    self.export_images += 1
    name, label = missing.guesses[0] if missing.guesses else missing.entry, None
    for guess in missing.guesses:
      label = self._claim(guess, missing.entry)
      if label:
        name = guess
        break
    placement = missing.placement
    record = ImageRecord(
        image_id=posixpath.splitext(name)[0], filename=name,
        annotation_file=f'{missing.file}: {missing.item}',
        split=placement.split,
        split_source=placement.source if placement.split else '',
        missing_image=f'{missing.entry!r} {missing.problem}')
    if label is None or self._read_objects(record, label):
      self.records.append(record)

  def not_included(self, image: str) -> None:
    label = self._claim(image, image)
    lost = self._count(label) if label else 0
    if label:
      self.export_images += 1
      self.export_objects += lost
    held = f'; its label file {label} holds {lost} object(s)' if label else ''
    self.issues.append(report.Issue(
        image, '', f'in none of the splits {self.layout.states} states{held}',
        report.NOT_INCLUDED, lost, fix='Add it to a split, or delete it.'))

  def report_orphans(self) -> None:
    """Label files whose image is missing: skipped, with their objects."""
    image_folders = {posixpath.dirname(n) for n in self.files.files(
        suffixes=IMAGE_SUFFIXES)}
    for name in sorted(self.label_files):
      key = name.lower()
      folder = posixpath.dirname(name)
      base = posixpath.basename(key)
      if name in self.claimed or base.split('.')[0] in _NOT_LABELS or not (
          folder in image_folders or 'labels' in key.split('/')[:-1]):
        continue
      lost = self._count(name)
      self.export_images += 1
      self.export_objects += lost
      self.issues.append(report.Issue(
          name, '', f'label file of no image (no image named'
          f' {posixpath.splitext(posixpath.basename(name))[0]}.* where'
          ' Ultralytics or Darknet would look for it)', report.SKIPPED_IMAGE,
          lost, fix='Put its image in the export, or delete the label file.'))

  def report_dropped_values(self) -> None:
    shape = self.layout.kpt_shape
    for tally, what in (
        (self._scores, 'carry a 6th value, a confidence score (as `yolo'
         ' predict save_conf=True` writes); the boxes are kept, the scores'
         ' are not'),
        (self._keypoints, f'carry keypoints (kpt_shape {shape}); the boxes'
         ' are kept, the keypoints are not (the schema has no keypoints)')):
      if tally.objects:
        self.issues.append(report.Issue(
            tally.first, '', f'{tally.objects} object(s) in {tally.files}'
            f' label file(s) {what}', report.WARNING))

  # Helpers.

  def _image_id(self, image: str) -> str:
    """The image's path without its suffix, as Ultralytics pairs it with its
    label file; the whole path when another image shares that stem (`a.jpg`
    and `a.png`: two images, which Ultralytics trains on both)."""
    stem = posixpath.splitext(image)[0]
    if self._stems is None:
      self._stems = collections.Counter(
          posixpath.splitext(i)[0] for i in self.layout.images)
    return image if self._stems[stem] > 1 else stem

  def _claim(self, image: str, named: str) -> str | None:
    label = label_for(image, self.labels)
    if label is None:
      return None
    if label in self.claimed:
      self.issues.append(report.Issue(
          label, '', f'is the label file of {self.claimed[label]} and of'
          f' {named}; both get its objects', report.WARNING,
          fix='Give images that differ only in suffix different names.'))
    self.claimed.setdefault(label, named)
    return label

  def _read_text(self, label: str) -> str:
    return self.files.read_text(label, limit=MAX_LABEL_BYTES)

  def _count(self, label: str) -> int:
    try:
      return lines.count_objects(self._read_text(label))
    except ExportError:
      return self._count_raw(label)

  def _count_raw(self, label: str) -> int:
    try:
      data = self.files.read_bytes(label, limit=MAX_LABEL_BYTES)
    except ExportError:
      return 0
    return sum(1 for line in data.splitlines() if line.strip())

  def _read_objects(self, record: ImageRecord, label: str) -> bool:
    """Fills `record.objects` from its label file; False (reported) when
    the file cannot be read, which skips the image."""
    try:
      text = self._read_text(label)
    except ExportError as e:
      lost = self._count_raw(label)
      self.export_objects += lost
      self.issues.append(report.Issue.from_error(
          e, report.SKIPPED_IMAGE, lost, file=label))
      return False
    parsed = lines.parse_label_text(text, label, self.layout.classes,
                                    self.layout.kpt_shape)
    self.export_objects += parsed.count
    self.issues += parsed.issues
    record.objects = parsed.objects
    self._scores.add(parsed.scores, label)
    self._keypoints.add(parsed.keypoints, label)
    return True


class _Tally:
  """Objects (and files) whose extra values were dropped, for one report
  entry per export instead of one per file."""

  def __init__(self):
    self.objects = self.files = 0
    self.first = ''

  def add(self, objects: int, file: str) -> None:
    if objects:
      self.objects += objects
      self.files += 1
      self.first = self.first or file
