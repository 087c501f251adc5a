"""PASCAL VOC XML exports: VOCdevkit, flat Annotations/JPEGImages, labelImg.

Layouts found, in this order:
  * `VOCdevkit/VOC20xx/` (or the `VOC20xx/` folder itself): `Annotations/`,
    `JPEGImages/`, `ImageSets/Main/*.txt` split lists, `SegmentationClass/`,
    `SegmentationObject/` (also CVAT's "PASCAL VOC 1.1" export).
  * `annotations/` + `images/` (labelImg, Roboflow "Pascal VOC"), either case.
  * XML files next to their images anywhere under the root (labelImg's default).

Coordinates are used as written, as the TF Object Detection API's
`create_pascal_tf_record.py` does (`xmin / width`).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib

from lxml import etree

from tfds_builders.core import report
from tfds_builders.core.images import IMAGE_SUFFIXES, image_files
from tfds_builders.core.builder import ParsedExport
from tfds_builders.core.errors import ExportError
from tfds_builders.core.labels import ClassList, read_label_file
from tfds_builders.core.paths import relative_name, resolve_inside
from tfds_builders.core.records import (ImageRecord, MaskRef, ObjectAnnotation,
                                        SemanticMaskRef)

SPLIT_NAMES = {'train': 'train', 'val': 'validation', 'valid': 'validation',
               'validation': 'validation', 'test': 'test',
               'trainval': 'trainval'}
# Entity expansion and network access off: no XXE, no billion laughs.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True,
                              load_dtd=False, huge_tree=False)


@dataclasses.dataclass
class Layout:
  name: str
  dataset_dir: pathlib.Path  # where labelmap.txt / ImageSets live
  annotations_dir: pathlib.Path
  images_dir: pathlib.Path | None  # None: images next to their XML
  segmentation_class_dir: pathlib.Path | None = None
  segmentation_object_dir: pathlib.Path | None = None


def find_layout(root: pathlib.Path) -> Layout:
  """Works out which VOC layout `root` holds, or says clearly it holds none."""
  candidates = [root] + sorted(p for p in root.glob('VOC*') if p.is_dir()) + \
      sorted(p for p in root.glob('VOCdevkit/VOC*') if p.is_dir())
  for folder in candidates:
    annotations = _child(folder, 'Annotations', 'annotations')
    images = _child(folder, 'JPEGImages', 'images', 'Images')
    if annotations and (images or any(annotations.rglob('*.xml'))):
      name = ('VOCdevkit' if (folder / 'ImageSets').is_dir() else
              'labelImg annotations/ + images/' if annotations.name ==
              'annotations' else 'flat Annotations/ + JPEGImages/')
      return Layout(name, folder, annotations, images,
                    _child(folder, 'SegmentationClass'),
                    _child(folder, 'SegmentationObject'))
  if any(root.rglob('*.xml')):
    return Layout('XML next to images', root, root, None)
  raise ExportError(
      'no PASCAL VOC export found: no Annotations/ or annotations/ folder and'
      ' no *.xml files.', file=str(root),
      fix='Point --manual_dir at the folder holding Annotations/ (or'
      ' VOCdevkit/).')


def _child(folder: pathlib.Path, *names: str) -> pathlib.Path | None:
  for name in names:
    if (folder / name).is_dir():
      return folder / name
  return None


def parse_export(root: pathlib.Path) -> ParsedExport:
  root = root.resolve()
  layout = find_layout(root)
  split_of = _read_split_lists(layout.dataset_dir / 'ImageSets')
  classes = read_label_file(root) or read_label_file(layout.dataset_dir)
  records, issues, seen_images, unreadable_stems = [], [], {}, set()
  export_objects = export_images = 0
  xml_files = sorted(layout.annotations_dir.rglob('*.xml'))
  for xml_path in xml_files:
    export_images += 1
    where = relative_name(root, xml_path)
    try:
      record = parse_annotation(xml_path, root, layout, classes)
    except _BadXml as e:
      export_objects += e.objects
      issues.append(report.Issue(where, e.item, e.problem,
                                 report.SKIPPED_IMAGE, e.objects))
      unreadable_stems.add(
          xml_path.relative_to(layout.annotations_dir).with_suffix('').as_posix())
      continue
    export_objects += len(record.objects)
    if record.image_path in seen_images:
      issues.append(report.Issue(
          where, '<filename>', f'names the same image as'
          f' {seen_images[record.image_path]}; only the first file is used.'
          ' Fix: merge the two annotation files', report.SKIPPED_IMAGE,
          len(record.objects)))
      continue
    if record.image_path:
      seen_images[record.image_path] = where
    if split_of is not None:
      record.split = split_of.get(record.image_id)
      if record.split is None:
        issues.append(report.Issue(
            where, '', 'image is in no ImageSets/Main split list',
            report.NOT_INCLUDED, len(record.objects)))
        continue
    records.append(record)
  if export_images == 0:
    raise ExportError('the annotations folder holds no *.xml files.',
                      file=relative_name(root, layout.annotations_dir) or '.',
                      fix='Export annotations in PASCAL VOC XML format.')
  issues += _unlisted_images(root, layout, seen_images, unreadable_stems)
  label_files = [p for p in (root / 'labels.txt', root / 'labelmap.txt')
                 if p.is_file()]
  return ParsedExport(f'PASCAL VOC ({layout.name})', records, classes,
                      export_images, export_objects, issues,
                      source_files=label_files + xml_files)


class _BadXml(Exception):

  def __init__(self, problem: str, item: str = '', objects: int = 0):
    super().__init__(problem)
    self.problem, self.item, self.objects = problem, item, objects


def parse_annotation(xml_path: pathlib.Path, root: pathlib.Path,
                     layout: Layout, classes: ClassList | None) -> ImageRecord:
  """One VOC XML file -> ImageRecord (image and masks located, not read)."""
  where = relative_name(root, xml_path)
  try:
    tree = etree.parse(str(xml_path), _XML_PARSER).getroot()
  except etree.XMLSyntaxError as e:
    raw = xml_path.read_bytes()
    raise _BadXml(f'malformed XML ({e}); fix or re-export the file',
                  objects=raw.count(b'<object>') + raw.count(b'<object ')) from e
  if tree.tag != 'annotation':
    raise _BadXml(f'root element is <{tree.tag}>, not <annotation>',
                  objects=len(tree.findall('.//object')))
  object_elements = tree.findall('object')
  stem = xml_path.relative_to(layout.annotations_dir).with_suffix('')
  image_id = stem.as_posix()
  filename = _text(tree, 'filename') or ''
  image_path = _find_image(filename, stem, xml_path, root, layout, where)
  seg_object = _mask_file(layout.segmentation_object_dir, stem)
  objects = [
      _parse_object(element, i, seg_object)
      for i, element in enumerate(object_elements)]
  record = ImageRecord(
      image_id=image_id,
      filename=relative_name(root, image_path) if image_path else filename,
      annotation_file=where,
      image_path=str(image_path) if image_path else None,
      objects=objects,
      declared_size=_declared_size(tree))
  seg_class = _mask_file(layout.segmentation_class_dir, stem)
  if seg_class:
    record.semantic_mask = SemanticMaskRef(str(seg_class),
                                           _colour_mapping(seg_class, classes))
  return record


def _parse_object(element, index: int,
                  seg_object: pathlib.Path | None) -> ObjectAnnotation:
  item = f'object #{index + 1}'
  name = (_text(element, 'name') or '').strip()
  obj = ObjectAnnotation(
      label=name, where=f'{item} ({name or "no name"})',
      is_difficult=_flag(element, 'difficult'),
      is_truncated=_flag(element, 'truncated'))
  if not name:
    obj.unsupported_geometry = 'an object without <name>'
  bndbox = element.find('bndbox')
  if bndbox is not None:
    obj.box = tuple(_number(bndbox, tag)
                    for tag in ('xmin', 'ymin', 'xmax', 'ymax'))
  polygon = element.find('polygon')
  if polygon is not None:
    obj.polygons = [_polygon_points(polygon)]
  if seg_object is not None:
    obj.mask = MaskRef(path=str(seg_object), value=index + 1)
  return obj


def _polygon_points(polygon) -> list[float]:
  """`<pt><x/><y/></pt>...` (LabelMe, Labelbox) or `<x1/><y1/>...` (CVAT)."""
  points = polygon.findall('pt') or polygon.findall('point')
  if points:
    return [v for pt in points for v in (_number(pt, 'x'), _number(pt, 'y'))]
  coords, i = [], 1
  while polygon.find(f'x{i}') is not None:
    coords += [_number(polygon, f'x{i}'), _number(polygon, f'y{i}')]
    i += 1
  return coords


def _text(element, tag: str) -> str | None:
  child = element.find(tag)
  return child.text.strip() if child is not None and child.text else None


def _number(element, tag: str) -> float:
  """A coordinate; missing or non-numeric text becomes NaN (then reported)."""
  try:
    return float(_text(element, tag))
  except (TypeError, ValueError):
    return math.nan


def _flag(element, tag: str) -> bool:
  """`<difficult>1</difficult>`; missing tags and junk default to False."""
  value = (_text(element, tag) or '0').lower()
  return value in ('1', 'true', 'yes')


def _declared_size(tree) -> tuple[int, int] | None:
  size = tree.find('size')
  if size is None:
    return None
  width, height = _number(size, 'width'), _number(size, 'height')
  if not (width > 0 and height > 0):  # also catches NaN
    return None
  return int(width), int(height)


def _find_image(filename: str, stem: pathlib.Path, xml_path: pathlib.Path,
                root: pathlib.Path, layout: Layout,
                where: str) -> pathlib.Path | None:
  """The image file of an annotation, looked up the ways tools write it."""
  folders = []
  if layout.images_dir:
    folders += [layout.images_dir / stem.parent, layout.images_dir]
  folders.append(xml_path.parent)
  names = [filename] if filename else []
  if filename and '.' not in filename:
    names += [filename + s for s in IMAGE_SUFFIXES]
  names += [stem.name + s for s in IMAGE_SUFFIXES]
  for folder in folders:
    for name in names:
      relative = (pathlib.PurePosixPath(relative_name(root, folder)) / name)
      candidate = resolve_inside(root, relative.as_posix(), file=where,
                                 item='<filename>')
      if candidate.is_file():
        return candidate
  return None


def _mask_file(folder: pathlib.Path | None,
               stem: pathlib.Path) -> pathlib.Path | None:
  if folder is None:
    return None
  path = folder / stem.with_suffix('.png')
  return path if path.is_file() else None


def _colour_mapping(mask_path: pathlib.Path,
                    classes: ClassList | None) -> dict | None:
  """None for palette PNGs (indices are the values); colours for RGB ones."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  with Image.open(mask_path) as im:
    if im.mode in ('P', 'L'):
      return None
  if classes is not None and classes.colors:
    table = classes.color_to_pixel()
  else:
    names = classes.names if classes else ()
    table = {voc_colour(i + 1): i + 1 for i in range(max(len(names), 20))}
    table[(0, 0, 0)] = 0
  table[(224, 224, 192)] = 255  # VOC's void/boundary colour
  return table


def voc_colour(index: int) -> tuple[int, int, int]:
  """Colour of palette entry `index` in the standard VOC colour map.

  Written out because no installed library exposes it; it is the bit
  interleaving from the VOC devkit's `labelcolormap.m`.
  """
  r = g = b = 0
  for shift in range(7, -1, -1):
    r |= ((index >> 0) & 1) << shift
    g |= ((index >> 1) & 1) << shift
    b |= ((index >> 2) & 1) << shift
    index >>= 3
  return r, g, b


def _read_split_lists(imagesets: pathlib.Path) -> dict[str, str] | None:
  """image id -> split from ImageSets/Main (or Segmentation) lists."""
  for sub in ('Main', 'Segmentation'):
    folder = imagesets / sub
    lists = {SPLIT_NAMES[p.stem]: p for p in sorted(folder.glob('*.txt'))
             if p.stem in SPLIT_NAMES} if folder.is_dir() else {}
    if 'train' in lists or 'validation' in lists:
      lists.pop('trainval', None)
    if not lists:
      continue
    split_of = {}
    for split, path in lists.items():
      for line in path.read_text().split('\n'):
        if line.strip():
          split_of.setdefault(line.split()[0], split)
    return split_of
  return None


def _unlisted_images(root: pathlib.Path, layout: Layout, used,
                     unreadable_stems: set[str]) -> list[report.Issue]:
  """Images on disk that no annotation uses (those of unreadable XML files
  are already reported with their XML)."""
  if layout.images_dir is None:
    return []
  return [report.Issue(relative_name(root, p), '', 'image has no annotation'
                       ' file', report.NOT_INCLUDED)
          for p in image_files(layout.images_dir)
          if str(p) not in used and p.relative_to(layout.images_dir).with_suffix('').as_posix()
          not in unreadable_stems]
