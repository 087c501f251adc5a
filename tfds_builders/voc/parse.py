"""Reading PASCAL VOC XML files into image records.

`layout.py` says which XML files there are and what surrounds them; this
module reads each one. Coordinates are used as written, as the TF Object
Detection API's `create_pascal_tf_record.py` does (`xmin / width`); every
number goes through `core.values`, so `1_0`, `nan` or `1e400` skip the
object with a report instead of becoming a coordinate.

Splits, first that applies: the group's `ImageSets` lists (an XML in no list
is reported as not included; an image listed without XML is kept without
objects), a split folder in the XML's path (`train/`, `images/test/`,
`annotations/valid/`), else the builder's hash split.

Classes and masks: a class file (`labels.txt`, `labelmap.txt`) at the root or
in a dataset folder gives the class list and what mask values mean; an
export with `SegmentationClass/` masks and no class file uses the VOC
devkit's 20 classes and colour map. `SegmentationObject/` instance i is the
i-th `<object>` of the XML in the devkit (palette index i, or VOC colour i in
RGB files); CVAT and Datumaro number instances by z-order instead, so the
encoder pairs instances with objects by box when the order does not fit.
"""

from __future__ import annotations

import dataclasses
import posixpath

from tfds_builders.core import parallel, record_store, report, splits, values
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import ImageLookup
from tfds_builders.core.mask_files import ValueMap
from tfds_builders.core.records import (ImageRecord, MaskRef, ParsedExport,
                                        SemanticMaskRef)
from tfds_builders.voc import class_list, objects, xml_file
from tfds_builders.voc.layout import MASK_FOLDERS, Group, find_groups

# XML files read in worker processes from this many on (fewer: this one).
PARALLEL_FROM = 256  # VOC files are a few KB; lxml needs ~10x in memory


def parse_export(files: ExportFiles) -> ParsedExport:
  groups = find_groups(files)
  lookup = ImageLookup(files, ignore_folders=MASK_FOLDERS)
  class_issues: list[report.Issue] = []
  classes, value_map = class_list.read(files, groups, class_issues)
  reader = _Reader(files, lookup, value_map, prefix_ids=sum(
      g.annotations is not None or g.masks_only for g in groups) > 1)
  reader.issues += class_issues
  _read_all(reader, groups)
  for group in groups:
    if group.masks_only:
      reader.read_masks_only(group)
    else:
      reader.add_listed_without_xml(group)
  reader.issues += lookup.unclaimed_issues()
  reader.issues += reader.unused_masks(groups)
  label_files = class_list.class_files(files, groups)
  return ParsedExport(
      'PASCAL VOC (' + '; '.join(g.name for g in groups) + ')',
      reader.records, classes, reader.export_images, reader.export_objects,
      reader.issues, source_files=[files.path(n) for n in label_files + [
          x for g in groups for x in g.xml_files]])


class _Reader:
  """Reads the XML files of one export, collecting records and issues."""

  def __init__(self, files: ExportFiles, lookup: ImageLookup,
               value_map: ValueMap | None, prefix_ids: bool):
    self.files, self.lookup, self.value_map = files, lookup, value_map
    self.prefix_ids = prefix_ids
    self.records = record_store.new_list()
    self.issues: list[report.Issue] = []
    self.export_images = self.export_objects = 0
    self._by_image: dict[str, str] = {}  # image file -> its XML
    self._ids: dict[str, set[str]] = {}  # group folder -> ids read
    self._used_masks: set[str] = set()
    # (group folder, its Annotations/) -> image id -> XML file
    self._xml_by_id: dict[tuple, dict[str, str]] = {}
    self.groups: list[Group] = []  # what the workers' tasks index

  def read_part(self, group: Group, name: str) -> '_Read':
    """What one XML file says, with nothing shared changed: the part that
    worker processes run (`parse_export` merges the parts in order)."""
    local_id = group.image_id(name)
    read = _Read(local_id)
    saved, self.issues = self.issues, read.file_issues
    try:
      try:
        tree = xml_file.read_annotation(self.files, name, self.issues)
      except SkippableError as e:
        read.lost = getattr(e, 'objects', 0)
        read.error = report.Issue.from_error(e, report.SKIPPED_IMAGE,
                                             read.lost, file=name)
        # Its image is reported with it, not again as named by nothing.
        record = ImageRecord(local_id, '', name)
        self._find_image(record, group, None, name, local_id)
        read.image = record.filename if record.image_path else None
        return read
      elements = tree.findall('object')
      read.elements = len(elements)
      self.issues = read.record_issues
      record = read.record = ImageRecord(
          image_id=self._image_id(group, local_id), filename='',
          annotation_file=name, declared_size=self._declared_size(tree, name))
      self._find_image(record, group, tree, name, local_id)
      read.image = record.filename if record.image_path else None
      seg_object = self._mask_file(group.segmentation_object, local_id)
      seg_path = self.files.real_path(seg_object) if seg_object else None
      for index, element in enumerate(elements):
        try:
          obj = objects.parse_object(element, index, name)
          if seg_object:
            obj.mask = MaskRef(path=seg_path, value=index + 1,
                               file=seg_object, pair_by_box=True)
          record.objects.append(obj)
          self._report_parts(element, index, name)
        except SkippableError as e:
          self.issues.append(report.Issue.from_error(
              e, report.SKIPPED_OBJECT, 1, file=name,
              item=f'object #{index + 1}'))
      return read
    finally:
      self.issues = saved
      read.digest = self.files.digests.get(name)

  def _report_parts(self, element, index: int, name: str) -> None:
    """The devkit's person layout (`<part>`: head, hand, foot boxes inside
    a person) has no place in the common schema: listed, not dropped
    unsaid."""
    parts = [objects.text(part, 'name') or 'no name'
             for part in element.findall('part')]
    if parts:
      self.issues.append(report.Issue(
          name, f'object #{index + 1}', f'its {len(parts)} <part> box(es)'
          f' ({", ".join(parts)}) are not kept: the dataset has no part'
          ' boxes; the object itself is kept', report.WARNING,
          fix='Make the parts <object>s of their own to keep them.'))

  def merge(self, group: Group, name: str, read: '_Read') -> None:
    """Adds one file's part to the export, in file order."""
    self.export_images += 1
    self._ids.setdefault(group.folder, set()).add(read.local_id)
    if read.digest:
      self.files.digests[name] = read.digest
    if read.image:
      self.lookup.claim(read.image)
    self.issues += read.file_issues
    if read.error is not None:
      self.issues.append(read.error)
      self.export_objects += read.lost
      return
    self.export_objects += read.elements
    record = read.record
    split, source = self._split(group, read.local_id, name)
    if split is False:  # every object is lost with it: none reported apart
      self.issues.append(report.Issue(
          name, '', 'the image is in none of the split lists in'
          f' {group.folder or "."}/ImageSets', report.NOT_INCLUDED,
          read.elements, fix='Add it to ImageSets/Main/<split>.txt.'))
      return
    if record.image_path and record.filename in self._by_image:
      self.issues.append(report.Issue(
          name, '<filename>', f'names the same image as'
          f' {self._by_image[record.filename]}; only the first file is used',
          report.SKIPPED_IMAGE, read.elements, fix='Merge the two files.'))
      return
    self.issues += read.record_issues
    record.split, record.split_source = split, source
    self._by_image[record.filename] = name
    self._mask_file(group.segmentation_object, read.local_id)  # used
    self._add_semantic_mask(record, group, read.local_id)
    self.records.append(record)

  def add_listed_without_xml(self, group: Group) -> None:
    """Images a split list names that have no XML: kept, without objects."""
    read = self._ids.get(group.folder, set())
    for local_id, (split, source) in sorted((group.lists or {}).items()):
      if local_id in read:
        continue
      if self._leads_out(local_id, source):
        self.export_images += 1
        continue
      record = ImageRecord(image_id=self._image_id(group, local_id),
                           filename='', annotation_file=source, split=split,
                           split_source=source)
      self._find_image(record, group, None, source, local_id)
      if record.image_path and record.filename in self._by_image:
        self.issues.append(report.Issue(
            source, local_id, f'names the image of'
            f' {self._by_image[record.filename]}, which is used; this line'
            ' adds nothing', report.WARNING,
            fix='List each image once, by its id.'))
        continue  # the same image, counted with its XML
      self.export_images += 1
      self._by_image[record.filename] = source
      self.issues.append(report.Issue(
          source, local_id, 'listed in a split but has no annotation file;'
          ' kept as an image without objects', report.WARNING,
          fix='Add its XML if it has objects.'))
      self._add_semantic_mask(record, group, local_id)
      self.records.append(record)

  def read_masks_only(self, group: Group) -> None:
    """A group of masks without XML: one record per listed image (or per
    class mask), whose objects are its instances (derived at encode time)."""
    stems = [posixpath.splitext(n[len(group.segmentation_class) + 1:])[0]
             for n in self.files.files(group.segmentation_class, ('.png',))]
    ids = sorted(group.lists) if group.lists is not None else stems
    for local_id in ids:
      self.export_images += 1
      if group.lists is not None and self._leads_out(
          local_id, group.lists[local_id][1]):
        continue
      mask_name = f'{group.segmentation_class}/{local_id}.png'
      if group.lists is not None:
        split, source = group.lists[local_id]
      else:
        found = splits.split_from_folders(local_id.split('/')[:-1])
        split, source = (found[0], f'folder {found[1]}/') if found else (
            None, '')
      record = ImageRecord(image_id=self._image_id(group, local_id),
                           filename='', annotation_file=mask_name,
                           split=split, split_source=source)
      self._find_image(record, group, None, mask_name, local_id)
      self._add_semantic_mask(record, group, local_id)
      seg_object = self._mask_file(group.segmentation_object, local_id)
      if seg_object:
        record.instance_objects = MaskRef(
            path=self.files.real_path(seg_object), file=seg_object)
      if record.semantic_mask is None:
        self.issues.append(report.Issue(
            source or mask_name, local_id, 'listed, but has no class mask;'
            ' kept as an image without objects', report.WARNING,
            fix='Export its masks if it has objects.'))
      self.records.append(record)

  def _leads_out(self, local_id: str, listed_in: str) -> bool:
    """A split-list id that is a path leading out of its folder: reported
    as a skipped image (its files are never looked up)."""
    if not (local_id.startswith('/') or '..' in local_id.split('/')):
      return False
    self.issues.append(report.Issue(
        listed_in, local_id, 'is not an image id of this export (a path'
        ' leading out of its folder)', report.SKIPPED_IMAGE,
        fix='List each image by its file name without suffix.'))
    return True

  def unused_masks(self, groups: list[Group]) -> list[report.Issue]:
    unused = [n for g in groups for folder in (g.segmentation_class,
                                               g.segmentation_object)
              if folder for n in self.files.files(folder)
              if n not in self._used_masks]
    return [report.Issue(n, '', 'mask of no annotated or listed image',
                         report.NOT_INCLUDED) for n in sorted(set(unused))]

  # Helpers.

  def _split(self, group: Group, local_id: str, name: str):
    """(split, source); split False: the lists leave the image out."""
    if group.lists is not None:
      if local_id not in group.lists:
        return False, ''
      split, source = group.lists[local_id]
      return split, source
    folders = name.split('/')[:-1]
    found = splits.split_from_folders(folders)
    return (found[0], f'folder {found[1]}/') if found else (None, '')

  def _image_id(self, group: Group, local_id: str) -> str:
    """The local id; with several dataset folders, prefixed by the folder
    (loose XML ids are relative to the root already: unique)."""
    in_dataset = group.annotations is not None or group.masks_only
    if self.prefix_ids and in_dataset and group.folder:
      return f'{group.folder}/{local_id}'
    return local_id

  def _declared_size(self, tree, name: str) -> tuple[int, int] | None:
    size = tree.find('size')
    if size is None:
      return None
    try:
      return values.image_size(
          objects.text(size, 'width'), objects.text(size, 'height'), '<size>',
          text=True, file=name, item='<size>')
    except SkippableError as e:
      self.issues.append(report.Issue.from_error(
          e, report.WARNING, file=name, item='<size>'))
      return None

  def _find_image(self, record: ImageRecord, group: Group, tree, name: str,
                  local_id: str) -> None:
    # The devkit mirrors Annotations/<id>.xml as JPEGImages/<id>.jpg, sub-
    # folders included (annotations/test/a.xml -> images/test/a.jpg).
    folder = posixpath.dirname(local_id)
    mirrored = (posixpath.join(group.images, folder)
                if group.images and folder else None)
    near = tuple(f for f in (mirrored, group.images, posixpath.dirname(name),
                             group.folder) if f is not None)
    split_folder = splits.split_from_folders(name.split('/')[:-1])
    given = (objects.text(tree, 'filename') or '') if tree is not None else ''
    stem = local_id.rsplit('/', 1)[-1]
    order = [(given, False), (stem, False), (given, True), (stem, True)]
    other = self._annotation_of(group, given, local_id)
    if other:  # a copied or renamed XML: its own name is more likely right
      order = [(stem, False), (given, False), (stem, True), (given, True)]
    first = None
    for candidate, anywhere in order:
      if not candidate:
        continue
      found = self.lookup.find(
          candidate, near=near, file=name, item='<filename>',
          split_folder=split_folder[1] if split_folder else None,
          anywhere=anywhere)
      if found.name:
        record.filename = found.name
        record.image_path = self.files.real_path(found.name)
        if other and candidate == stem:
          self.issues.append(report.Issue(
              name, '<filename>', f'names {given!r}, the image of {other};'
              f' {found.name} (the name of this file) is used instead',
              report.REPAIRED, fix='Correct <filename> (was the XML copied'
              ' or its image renamed?).'))
        return
      if anywhere and first is None:
        first = found  # what the XML names is what the report explains
    record.filename = given or local_id
    record.missing_image = first.problem if first else 'no file name'

  def _annotation_of(self, group: Group, given: str, local_id: str
                     ) -> str | None:
    """Another XML of the group whose own name is `given`'s (`b.xml` for
    `<filename>b.jpg` in `a.xml`), if any."""
    stem = posixpath.splitext(posixpath.basename(given))[0]
    if not stem or stem == local_id.rsplit('/', 1)[-1]:
      return None
    key = (group.folder, group.annotations)
    if key not in self._xml_by_id:
      self._xml_by_id[key] = {group.image_id(x): x for x in group.xml_files}
    return self._xml_by_id[key].get(
        posixpath.join(posixpath.dirname(local_id), stem))

  def _mask_file(self, folder: str | None, local_id: str) -> str | None:
    if folder is None:
      return None
    name = f'{folder}/{local_id}.png'
    if not self.files.has(name):
      return None
    self._used_masks.add(name)
    return name

  def _add_semantic_mask(self, record: ImageRecord, group: Group,
                         local_id: str) -> None:
    name = self._mask_file(group.segmentation_class, local_id)
    if name and self.value_map is not None:
      record.semantic_mask = SemanticMaskRef(
          name, self.value_map, path=self.files.real_path(name))


@dataclasses.dataclass
class _Read:
  """One XML file read (`_Reader.read_part`), waiting to be merged."""
  local_id: str
  error: report.Issue | None = None  # the file could not be used
  lost: int = 0  # its objects, when it could not
  elements: int = 0  # its <object>s
  record: ImageRecord | None = None
  image: str | None = None  # the image it names, found
  file_issues: list = dataclasses.field(default_factory=list)
  record_issues: list = dataclasses.field(default_factory=list)
  digest: str | None = None  # sha256 of the file, for the manifest


# The reader the forked workers read with (`_read_in_worker`).
_WORKER_READER = None


def _read_in_worker(task: tuple[int, str]) -> _Read:
  group_index, name = task
  return _WORKER_READER.read_part(_WORKER_READER.groups[group_index], name)


def _read_all(reader: '_Reader', groups: list[Group]) -> None:
  """Every group's XML files read, on every core when there are many, and
  merged in file order: the same records and report whatever the workers."""
  global _WORKER_READER
  tasks = [(i, name) for i, g in enumerate(groups) if not g.masks_only
           for name in g.xml_files]
  workers = (None if len(tasks) >= PARALLEL_FROM else 0)
  reader.groups, _WORKER_READER = groups, reader
  try:
    reads = parallel.in_order(_read_in_worker, tasks, workers=workers,
                              chunk=64)
    for (i, name), read in zip(tasks, reads):
      reader.merge(groups[i], name, read)
  finally:
    _WORKER_READER = None

