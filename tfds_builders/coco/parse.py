"""COCO instance-annotation exports: the official release, Roboflow, CVAT,
Datumaro, Labelbox.

Annotation files are looked for in this order:
  * `annotations/*.json` (official COCO, CVAT "COCO 1.0", Datumaro): only the
    `instances_*.json` files when there are any; the others there (captions,
    person_keypoints, panoptic...) are listed in the report as not included.
  * otherwise every `*.json` at the export root and one folder down
    (Roboflow's `train/_annotations.coco.json`, a single `instances.json`).
  A JSON file without an `images` list is not a COCO file: it is reported as
  not included, or is an error when no COCO file is left.

Split rule (one split per annotation file):
  * The split is the first split word in the file's name, else in the name of
    its folder. Names are cut into words at `_`, `-`, `.` and `/`, and digits
    at the end of a word are dropped: `train`/`training` -> train,
    `val`/`valid`/`validation`/`minival` -> validation, `test` -> test.
    `annotations/instances_train2017.json` -> train,
    `valid/_annotations.coco.json` -> validation,
    `annotations/image_info_test-dev2017.json` -> test.
  * A single file with no split word (`instances.json`,
    `_annotations.coco.json` at the root, CVAT's `instances_default.json`)
    gets the deterministic 80/20 train/test split of the image ids
    (`core.splits`). The `split_by_hash` config option does that for any
    export, whatever its files are called.
  * With several files, one without a split word is a split named after the
    file (`instances_default.json` -> `default`, `extra/_annotations.coco.json`
    -> `extra`). Two files landing in the same split are an error.

Images: `file_name` is looked up beside the JSON, beside the `annotations/`
folder and at the export root, in each of those directly, in `images/`, in
`images/<subset>/` (Datumaro) and in `<subset>/` (COCO's `train2017/`), where
`<subset>` is the file name without `instances_` (`train2017`). A `file_name`
that is absolute, climbs out with `../` or is a symlink leading out of the
export stops the build with an error. Images on disk that no file lists are reported as not included.

Image ids: the COCO id as text. When two files use the same id (Roboflow
numbers each split from 0), every id becomes `<split>/<id>`.

Memory: a file is parsed once; its `images` and `annotations` lists are
emptied while the records are built, so the export is never held twice.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

from tfds_builders.core import report, values
from tfds_builders.core import splits as splits_table
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.geometry import box_from_xywh
from tfds_builders.core.labels import BACKGROUND, ClassList
from tfds_builders.core.lookup import ImageLookup
from tfds_builders.core.records import (ImageRecord, ObjectAnnotation,
                                        ParsedExport)

_GENERIC_WORDS = ('instances', 'annotations', 'coco', 'json')


@dataclasses.dataclass
class CocoParsedExport(ParsedExport):
  # [{'id', 'name', 'supercategory', 'label'}] in label order, for metadata.
  categories: list[dict] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Category:
  name: str
  supercategory: str | None
  file: str  # where it was first defined, for conflict messages


def parse_export(export: ExportFiles,
                 split_by_hash: bool = False) -> CocoParsedExport:
  root = export.root
  lookup = ImageLookup(export)
  files, issues = find_annotation_files(export)
  categories: dict[int, _Category] = {}
  records_by_file: dict[pathlib.Path, list[ImageRecord]] = {}
  export_images = export_objects = 0
  for path in files:
    where = relative_name(root, path)
    data = export.read_json(where)
    problem = _not_coco(data)
    if problem:
      issues.append(report.Issue(where, '', f'not a COCO instances file'
                                 f' ({problem})', report.NOT_INCLUDED))
      continue
    names = _read_categories(data, where, categories)
    parsed = _FileParser(export, lookup, path, where, names)
    records_by_file[path] = parsed.read(data)
    del data  # the records hold what is needed; let the rest go
    export_images += parsed.export_images
    export_objects += parsed.export_objects
    issues += parsed.issues
  if not records_by_file:
    raise ExportError(
        'no COCO instances file found: ' + '; '.join(
            f'{i.file}: {i.problem}' for i in issues), file=str(root),
        fix='Point --manual_dir at a COCO export (JSON with "images",'
        ' "annotations" and "categories").')
  read_files = [relative_name(root, p) for p in records_by_file]
  if not categories:
    raise ExportError('no file has a "categories" list, so there is no class'
                      ' list.', file=read_files[0],
                      fix='Export the annotations with their categories.')
  _assign_splits(root, records_by_file, split_by_hash)
  records = [r for file_records in records_by_file.values()
             for r in file_records]
  issues += lookup.unclaimed_issues('image is in no annotation file')
  ordered = sorted(categories.items())
  source = 'COCO categories of ' + (', '.join(read_files) if len(
      read_files) < 4 else f'{len(read_files)} annotation files')
  return CocoParsedExport(
      'COCO', records, ClassList(tuple(c.name for _, c in ordered), source),
      export_images, export_objects, issues,
      source_files=list(records_by_file),
      categories=[{'id': i, 'name': c.name, 'supercategory': c.supercategory,
                   'label': label}
                  for label, (i, c) in enumerate(ordered)])


def _assign_splits(root: pathlib.Path,
                   records_by_file: dict[pathlib.Path, list[ImageRecord]],
                   split_by_hash: bool) -> None:
  """Sets each record's split from its file's name (see the module doc) and
  makes image ids unique across files (`<split>/<id>`) when files share ids,
  as Roboflow's do."""
  splits = split_names(root, list(records_by_file))
  seen, clash = set(), False
  for records in records_by_file.values():
    ids = {r.image_id for r in records}
    clash = clash or bool(seen & ids)
    seen |= ids
  for path, records in records_by_file.items():
    for record in records:
      if clash:
        record.image_id = f'{splits[path]}/{record.image_id}'
      record.split = None if split_by_hash else splits[path]
      record.split_source = f'annotation file {relative_name(root, path)}'


def find_annotation_files(
    export: ExportFiles) -> tuple[list[pathlib.Path], list[report.Issue]]:
  """The annotation files to read, and report entries for those left out."""
  root = export.root
  all_json = export.files(suffixes=('.json',))
  in_folder = [root / n for n in all_json
               if n.count('/') == 1 and n.split('/')[0] == 'annotations']
  outside = [root / n for n in all_json if n.count('/') == 0] + [
      root / n for n in all_json
      if n.count('/') == 1 and n.split('/')[0] != 'annotations']
  if not in_folder:
    if not outside:
      raise ExportError(
          'no COCO annotation file: no annotations/*.json, no *.json at the'
          ' root or one folder down.', file=str(root),
          fix='Point --manual_dir at the folder holding the COCO export.')
    return outside, []
  instances = [p for p in in_folder if p.name.startswith('instances_')]
  files = instances or in_folder
  left_out = [(p, 'not an instances_*.json file (captions, keypoints,'
               ' panoptic...)') for p in in_folder if p not in files]
  left_out += [(p, 'not read: the annotation files are in annotations/')
               for p in outside]
  return files, [report.Issue(relative_name(root, p), '', why,
                              report.NOT_INCLUDED) for p, why in left_out]


def split_names(root: pathlib.Path,
                files: list[pathlib.Path]) -> dict[pathlib.Path, str | None]:
  """Annotation file -> split name (None: hash the image ids 80/20)."""
  splits = {p: _split_word(p, root) for p in files}
  if len(files) == 1:
    return splits
  by_split: dict[str, pathlib.Path] = {}
  for path in files:
    split = splits[path] or _name_from_file(path, root)
    if split in by_split:
      raise ExportError(
          f'annotation files {relative_name(root, by_split[split])} and'
          f' {relative_name(root, path)} both map to split {split!r}.',
          file=relative_name(root, path),
          fix='Keep one annotation file per split, or name the files after'
          ' their split (train, val, test).')
    by_split[split] = path
    splits[path] = split
  return splits


def _folder_name(path: pathlib.Path, root: pathlib.Path) -> str:
  """The annotation file's folder name; '' at the root, whose name is the
  user's choice (`coco_val2017_sample/` holds no validation split)."""
  return path.parent.name if path.parent != root else ''


def _split_word(path: pathlib.Path, root: pathlib.Path) -> str | None:
  for text in (path.stem, _folder_name(path, root)):
    split = splits_table.split_word(text) if text else None
    if split:
      return split
  return None


def _name_from_file(path: pathlib.Path, root: pathlib.Path) -> str:
  words = [w for w in re.split(r'[^a-z0-9]+', path.stem.lower())
           if w and w not in _GENERIC_WORDS]
  if not words:
    words = [w for w in re.split(r'[^a-z0-9]+',
                                 _folder_name(path, root).lower()) if w]
  return '_'.join(words) or 'export'


def _not_coco(data) -> str | None:
  """Why `data` is not a COCO instances file, or None when it is one."""
  if not isinstance(data, dict):
    return f'the top level is a JSON {type(data).__name__}, not an object'
  if not isinstance(data.get('images'), list):
    return 'no "images" list'
  if not isinstance(data.get('annotations', []), list):
    return '"annotations" is not a list'
  if data.get('annotations') and not isinstance(data.get('categories'), list):
    return 'annotations but no "categories" list'
  return None


def _read_categories(data: dict, where: str,
                     known: dict[int, _Category]) -> dict[int, str]:
  """Category id -> name of one file, checked against the other files'."""
  names: dict[int, str] = {}
  for index, category in enumerate(data.get('categories') or []):
    item = f'category #{index + 1}'
    if not isinstance(category, dict):
      raise ExportError('category is not a JSON object.', file=where,
                        item=item, fix='Re-export the annotations.')
    cat_id, name = category.get('id'), category.get('name')
    item = f'category id {cat_id}'
    if not isinstance(cat_id, int) or isinstance(cat_id, bool):
      raise ExportError(f'category id {cat_id!r} is not an integer.',
                        file=where, item=f'category #{index + 1}',
                        fix='Give every category an integer id.')
    if not isinstance(name, str) or not name.strip():
      raise ExportError('category has no name.', file=where, item=item,
                        fix='Name every category.')
    if name == BACKGROUND:
      raise ExportError(
          f'category name {BACKGROUND!r} is reserved for segmentation value'
          ' 0 (pixels outside every object).', file=where, item=item,
          fix='Rename the category, or delete it if it labels nothing.')
    if cat_id in names:
      raise ExportError(f'category id {cat_id} is listed twice.', file=where,
                        item=item, fix='Give each category its own id.')
    if name in names.values():
      other = next(i for i, n in names.items() if n == name)
      raise ExportError(
          f'category name {name!r} is used by ids {other} and {cat_id}.',
          file=where, item=item, fix='Rename one of them or merge them into'
          ' one category in the labelling tool.')
    names[cat_id] = name
    _merge_category(known, cat_id, name, category.get('supercategory'), where)
  return names


def _merge_category(known: dict[int, _Category], cat_id: int, name: str,
                    supercategory, where: str) -> None:
  seen = known.get(cat_id)
  if seen is not None and seen.name != name:
    raise ExportError(
        f'category id {cat_id} is {name!r} here but {seen.name!r} in'
        f' {seen.file}.', file=where, item=f'category id {cat_id}',
        fix='Export every split with the same category list.')
  for other_id, other in known.items():
    if other.name == name and other_id != cat_id:
      raise ExportError(
          f'category {name!r} has id {cat_id} here but {other_id} in'
          f' {other.file}.', file=where, item=f'category id {cat_id}',
          fix='Export every split with the same category list.')
  if seen is None:
    known[cat_id] = _Category(name, supercategory if isinstance(
        supercategory, str) else None, where)


class _FileParser:
  """Turns one COCO file into records, emptying its lists as it goes."""

  def __init__(self, export: ExportFiles, lookup: ImageLookup,
               path: pathlib.Path, where: str,
               category_names: dict[int, str]):
    self.export, self.lookup, self.where = export, lookup, where
    self.root = export.root
    self.category_names = category_names
    self.image_dirs = _image_dirs(export.root, path)
    stem = path.stem
    self.subset = stem[len('instances_'):] if stem.startswith(
        'instances_') else None
    self.export_images = self.export_objects = 0
    self.issues: list[report.Issue] = []

  def read(self, data: dict) -> list[ImageRecord]:
    images = data.pop('images')
    annotations = data.pop('annotations', None) or []
    self.export_images, self.export_objects = len(images), len(annotations)
    by_id: dict = {}
    for index, image in _drain(images):
      record = self._record(index, image, by_id)
      if record is not None:
        by_id[image['id']] = record
    for index, annotation in _drain(annotations):
      self._add_annotation(index, annotation, by_id)
    return list(by_id.values())

  def _record(self, index: int, image, by_id: dict) -> ImageRecord | None:
    item = f'image #{index + 1}'
    if not isinstance(image, dict) or not isinstance(
        image.get('id'), (int, str)) or isinstance(image.get('id'), bool):
      self._skip_image(item, 'image entry has no integer or text "id"')
      return None
    image_id = image['id']
    item = f'image id {image_id}'
    if image_id in by_id:
      self._skip_image(item, 'image id is listed twice; the later entry is'
                       f' left out (file {image.get("file_name")!r}) and'
                       ' annotations of this id go to the first')
      return None
    file_name = image.get('file_name')
    if not isinstance(file_name, str) or not file_name:
      self._skip_image(item, 'image entry has no "file_name"; its'
                       ' annotations are reported as unknown image_id')
      return None
    found = self.lookup.find(
        file_name, near=tuple(relative_name(self.root, d)
                              for d in self.image_dirs),
        split_folder=self.subset, file=self.where, item=f'{item}: file_name')
    try:
      declared = values.image_size(image.get('width'), image.get('height'),
                                   'image', file=self.where, item=item)
    except SkippableError as e:
      self.issues.append(report.Issue.from_error(e, report.WARNING))
      declared = None
    return ImageRecord(
        image_id=str(image_id), filename=found.name or file_name,
        annotation_file=self.where,
        image_path=self.export.real_path(found.name) if found.name else None,
        missing_image=found.problem, declared_size=declared)

  def _skip_image(self, item: str, problem: str) -> None:
    self.issues.append(report.Issue(self.where, item, problem,
                                    report.SKIPPED_IMAGE))

  def _skip_object(self, item: str, problem: str) -> None:
    self.issues.append(report.Issue(self.where, item, problem,
                                    report.SKIPPED_OBJECT, 1))

  def _add_annotation(self, index: int, annotation, by_id: dict) -> None:
    if not isinstance(annotation, dict):
      self._skip_object(f'annotation #{index + 1}',
                        'annotation is not a JSON object')
      return
    ann_id = annotation.get('id')
    item = (f'annotation id {ann_id}' if ann_id is not None else
            f'annotation #{index + 1}')
    category_id = annotation.get('category_id')
    name = self.category_names.get(category_id) if isinstance(
        category_id, int) else None
    if name is None:
      known = sorted(self.category_names)
      raise ExportError(
          f'category_id {category_id!r} is not among the categories (ids'
          f' {_short(known)}).', file=self.where, item=item,
          fix='Add the category to "categories" or fix the annotation.')
    record = by_id.get(annotation.get('image_id'))
    if record is None:
      self._skip_object(item, f'image_id {annotation.get("image_id")!r} is'
                        ' not in "images"')
      return
    box = annotation.get('bbox') or None  # `[]`: take the box from the mask
    try:
      if box is not None:
        if not (isinstance(box, list) and len(box) == 4):
          self._skip_object(item, f'bbox {box!r} is not [x, y, width, height]')
          return
        box = box_from_xywh(*(values.number(v, f'bbox[{i}]', file=self.where,
                                            item=item)
                              for i, v in enumerate(box)))
      area = annotation.get('area')
      area = None if area is None else values.number(
          area, 'area', file=self.where, item=item, limit=float('inf'))
      is_crowd = values.flag(annotation.get('iscrowd'), 'iscrowd',
                             file=self.where, item=item)
    except SkippableError as e:
      self.issues.append(report.Issue.from_error(e, report.SKIPPED_OBJECT, 1))
      return
    record.objects.append(ObjectAnnotation(
        label=name, where=item, box=box,
        coco_segmentation=_segmentation(annotation.get('segmentation')),
        is_crowd=is_crowd, area=area))


def _drain(items: list):
  """Yields `(index, item)` in order while emptying the list, so each item
  can be freed as soon as it has been turned into a record."""
  items.reverse()
  index = 0
  while items:
    yield index, items.pop()
    index += 1


def _image_dirs(root: pathlib.Path, path: pathlib.Path) -> list[pathlib.Path]:
  """Folders that may hold the images of annotation file `path`."""
  stem = path.stem
  subset = stem[len('instances_'):] if stem.startswith('instances_') else stem
  bases = [path.parent]
  if path.parent.name == 'annotations':
    bases.append(path.parent.parent)
  bases.append(root)
  folders = []
  for base in bases:
    for folder in (base, base / 'images', base / 'images' / subset,
                   base / subset):
      if folder not in folders and folder.is_dir():
        folders.append(folder)
  return folders


def _segmentation(segmentation):
  """The raw COCO segmentation, or None when it is absent or empty.

  Detection exports (Roboflow, CVAT boxes) write `[]` or `[[]]` for box-only
  objects; those stay boxes instead of becoming undecodable masks.
  """
  if not segmentation:
    return None
  if isinstance(segmentation, list) and not any(segmentation):
    return None
  return segmentation


def _short(items: list, limit: int = 10) -> str:
  text = ', '.join(str(v) for v in items[:limit])
  return text + (', ...' if len(items) > limit else '') if text else 'none'


def relative_name(root: pathlib.Path, path: pathlib.Path) -> str:
  return pathlib.Path(path).relative_to(root).as_posix()
