"""Reading a whole COCO export: every instance file, merged into one set of
image records.

`layout.py` finds the instance files, their splits and image folders,
`reader.py` reads one file, `categories.py` makes the class list. This
module puts them together.

Several instance files about the same images. The official release has
`instances_train2017.json`, `person_keypoints_train2017.json` and
`stuff_train2017.json` for the same images; the keypoints file repeats the
person annotations of the instances file under the same ids. All of them
are read. Within a split, records naming the same image file are one
example: the first file's record (instances_ first, see
`layout.TASK_PREFIXES`) with the annotations of the others added, except an
annotation that repeats one already there (same annotation id and
category), which is counted once. Each file that shares images is reported
once, with how many images and repeated annotations. So no image is doubled
and no annotation is lost or doubled; the export totals in the build report
count each image and each annotation once. One file listing the same image
file under two ids is merged the same way, with a warning per image.

Image ids: the COCO id as text. When two records share an id (Roboflow
numbers each split from 0), every id becomes `<split>/<id>`; if two files
of one split still share one, that split's ids become
`<split>/<file>/<id>`.
"""

from __future__ import annotations

import collections
import dataclasses
import posixpath

from tfds_builders.coco import categories, layout, reader
from tfds_builders.core import report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import ImageLookup
from tfds_builders.core.records import ImageRecord, ParsedExport


@dataclasses.dataclass
class CocoParsedExport(ParsedExport):
  # [{'id', 'name', 'supercategory', 'label'}] in id order, for metadata.
  categories: list[dict] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Entry:
  group: str  # the split, or the name of the files hashed together
  file: str
  record: ImageRecord
  # Identities (`reader.identity`) of its objects, once another record of
  # the same image is merged into it.
  seen: set | None = None


def parse_export(files: ExportFiles,
                 split_by_hash: bool = False) -> CocoParsedExport:
  names, issues = layout.candidate_files(files)
  lookup = ImageLookup(files)
  table = categories.CategoryTable()
  folders = files.folders()
  read: list[reader.FileRecords] = []
  for name in names:
    data = files.read_json(name)
    problem = layout.instance_file_problem(data)
    if problem:
      issues.append(report.Issue(
          name, '', f'not an instance file ({problem})',
          report.NOT_INCLUDED, fix='Nothing to do if it is not meant to be'
          ' part of the dataset.'))
      continue
    file_categories = categories.read_categories(data, name)
    table.add_file(file_categories)
    context = reader.Context(files, lookup, table,
                             layout.image_folders(name, folders),
                             layout.subset(name))
    read.append(reader.read_file(name, data, file_categories, context))
    del data  # the records hold what is needed; let the rest go
  if not read:
    raise ExportError(
        'no COCO instance file found: ' + '; '.join(
            f'{i.file}: {i.problem}' for i in issues), file=str(files.root),
        fix='Point --manual_dir at a COCO export (JSON with "images",'
        ' "annotations" with boxes or segmentations, and "categories").')
  instance_files = [f.name for f in read]
  classes, metadata, category_issues = table.resolve(instance_files)
  entries, merge_issues, merged_images, repeats = _merge_same_images(
      read, layout.assign_splits(instance_files, split_by_hash))
  _make_ids_unique(entries)
  for file in read:
    issues += file.issues
  issues += merge_issues + category_issues
  issues += lookup.unclaimed_issues('no instance file lists this image')
  shown = ', '.join(instance_files[:3]) + (
      f' and {len(instance_files) - 3} more' if len(instance_files) > 3
      else '')
  return CocoParsedExport(
      f'COCO ({shown})', [e.record for e in entries], classes,
      sum(f.images for f in read) - merged_images,
      sum(f.annotations for f in read) - repeats, issues,
      source_files=[files.path(n) for n in instance_files],
      categories=metadata)


def _merge_same_images(read: list[reader.FileRecords],
                       splits: dict[str, layout.SplitOfFile]):
  """One entry per image file and split (see the module doc).

  Returns the entries, report entries, the number of image entries merged
  into another and of annotations counted once.
  """
  first: dict[tuple[str, str], _Entry] = {}
  entries: list[_Entry] = []
  issues: list[report.Issue] = []
  merged_images = repeats = 0
  for file in read:
    split = splits[file.name]
    shared, repeated = collections.Counter(), collections.Counter()
    for record in file.records:
      record.split, record.split_source = split.split, split.source
      key = (split.group, record.filename)
      base = first.get(key)
      if base is None:
        first[key] = _Entry(split.group, file.name, record)
        entries.append(first[key])
        continue
      merged_images += 1
      again = _add_objects(base, record, file.name)
      repeated[base.file] += again
      if base.file != file.name:
        shared[base.file] += 1
        continue
      issues.append(report.Issue(
          file.name, f'image id {record.image_id}', 'names the same image'
          f' file as image id {base.record.image_id}; one example with the'
          ' annotations of both' + (f' ({again} repeated annotation(s)'
                                    ' counted once)' if again else ''),
          report.WARNING, fix='List each image once.'))
    repeats += sum(repeated.values())
    for base_file, count in shared.items():
      again = (f'; {repeated[base_file]} of their annotations repeat one of'
               f' {base_file} (same id, category and box) and are counted once'
               if repeated[base_file] else '')
      issues.append(report.Issue(
          file.name, '', f'{count} of its images are also in {base_file}'
          f' (split {split.group}); each is one example with the annotations'
          f' of both files{again}', report.WARNING))
  return entries, issues, merged_images, repeats


def _add_objects(base: _Entry, record: ImageRecord, file: str) -> int:
  """Adds `record`'s objects to `base`'s but those it already has (same
  annotation id, class and box); returns how many it had."""
  if base.seen is None:  # only images that are merged pay for this set
    base.seen = {reader.identity(o) for o in base.record.objects} - {None}
  again = 0
  for obj in record.objects:
    identity = reader.identity(obj)
    if identity is not None and identity in base.seen:
      again += 1
      continue
    if identity is not None:
      base.seen.add(identity)
    if base.file != file:  # say where it came from in the report
      obj = dataclasses.replace(obj, where=f'{obj.where} of {file}')
    base.record.objects.append(obj)
  return again


def _make_ids_unique(entries: list[_Entry]) -> None:
  """Prefixes ids with their split, then file, where records share ids."""
  if len({e.record.image_id for e in entries}) == len(entries):
    return
  prefixed = collections.Counter(f'{e.group}/{e.record.image_id}'
                                 for e in entries)
  clashing = {key.split('/', 1)[0] for key, n in prefixed.items() if n > 1}
  for entry in entries:
    file = posixpath.splitext(entry.file)[0]
    entry.record.image_id = (
        f'{entry.group}/{file}/{entry.record.image_id}'
        if entry.group in clashing else
        f'{entry.group}/{entry.record.image_id}')
