"""One image record in, one example of the common schema out.

The per-example code of every builder, shared by the plain generator and the
Apache Beam pipeline so both write identical examples. It reads as the
pipeline: the image (read, checked, measured), the objects (class, geometry,
mask, box, area), the semantic mask, the example. Every per-item problem is
a `SkippableError`, turned into one report entry here (or raised, when
strict).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import NamedTuple

import numpy as np
import tensorflow_datasets as tfds

from tfds_builders.core import (geometry, images, mask_files, masks,
                                 object_masks, report, tfrecords)
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.exportfs import read_file, read_head
from tfds_builders.core.labels import BACKGROUND, ClassList
from tfds_builders.core.example_proto import Example
from tfds_builders.core.records import (ImageRecord, ObjectAnnotation,
                                        RecordSlice)


@dataclasses.dataclass(frozen=True)
class EncodeOptions:
  instance_masks: bool = True
  # Objects with only a box: paint the box with the class in the semantic
  # mask (True) or mark it 255 "unknown" (False). Outside every box stays 0.
  box_masks: bool = False
  strict: bool = False
  max_instance_mask_pixels: int = masks.MAX_INSTANCE_MASK_PIXELS
  # `check`: the same validation without the costs of storing: image
  # headers instead of full decodes, no PNG encoding, no example returned.
  check_only: bool = False


class KeptObject(NamedTuple):
  annotation: ObjectAnnotation
  bbox: tfds.features.BBox
  label: int
  mask: masks.Mask | None  # None: the export gave no usable mask
  area: float


def encode_record(record: ImageRecord, split: str, classes: ClassList,
                  options: EncodeOptions):
  """Returns `(key, example or None, ExampleSummary)` for one image."""
  issues: list[report.Issue] = []
  derived = 0  # objects found in an instance file, not listed in the export
  try:
    image = _load_image(record, issues, options.check_only)
    width, height = image.width, image.height
    kept = _encode_objects(record, width, height, classes, options, issues)
    semantic = None
    if record.semantic_mask is not None:
      semantic = _read_semantic_mask(record, width, height, classes)
    if record.instance_objects is not None:
      found, derived = _instance_objects(record, semantic, width, height,
                                         classes, options, issues)
      kept += found
    _check_mask_budget(kept, width, height, options, record)
    if semantic is None and not options.check_only:
      semantic = _paint_semantic_mask(kept, width, height, options)
  except SkippableError as e:
    if options.strict:
      raise
    # One entry for the whole image: its objects are all lost with it.
    issue = report.Issue.from_error(e, report.SKIPPED_IMAGE,
                                    len(record.objects), file=record.filename)
    return record.image_id, None, report.ExampleSummary(
        split, False, [], [issue], record.image_id)
  summary = report.ExampleSummary(
      split, True, [classes.names[k.label] for k in kept], issues,
      record.image_id,
      '' if options.check_only else hashlib.sha256(image.encoded).hexdigest(),
      [[round(float(v), 6) for v in k.bbox] for k in kept], derived)
  if options.check_only:
    return record.image_id, None, summary
  objects = {
      'bbox': [k.bbox for k in kept],
      'label': [k.label for k in kept],
      'is_crowd': [k.annotation.is_crowd for k in kept],
      'is_difficult': [k.annotation.is_difficult for k in kept],
      'is_truncated': [k.annotation.is_truncated for k in kept],
      'area': [np.float32(k.area) for k in kept],
      'has_mask': [k.mask is not None for k in kept],
  }
  if options.instance_masks:
    objects['mask'] = [
        masks.encode_png(k.mask.full(height, width)) if k.mask is not None
        else masks.zeros_png(height, width) for k in kept]
  example = {
      'image': image.encoded,
      'image/filename': record.filename,
      'image/id': record.image_id,
      'objects': objects,
      'segmentation_mask': masks.encode_png(semantic),
  }
  return record.image_id, example, summary


# The image.


def _load_image(record: ImageRecord, issues,
                check_only: bool = False) -> images.CheckedImage:
  data = record.image_bytes
  if record.image_in_record is not None:
    data = _image_in_record(record.image_in_record)
  if not data:
    if not record.image_path:
      raise SkippableError(
          f'image file not found: {record.missing_image or "no file named"}.',
          file=record.filename, item=f'listed in {record.annotation_file}',
          fix='Put the image in the export or fix its file name.')
    data = (read_head(record.image_path, file=record.filename) if check_only
            else read_file(record.image_path, file=record.filename))
  image = (images.check_header(data, file=record.filename) if check_only
           else images.check_image(data, file=record.filename))
  if image.repair:
    issues.append(report.Issue(record.filename, '', image.repair,
                               report.REPAIRED))
  declared = record.declared_size
  turn = (images.turned_header if check_only  # `check` stores no pixels
          else images.apply_exif_orientation)
  if record.exif_frame and image.exif_orientation > 1:
    image = turn(image, record.filename)
    issues.append(report.Issue(
        record.filename, '', f'EXIF orientation {image.exif_orientation}:'
        ' the annotations use the frame viewers show, so the pixels are'
        ' stored turned that way (as PNG)', report.REPAIRED))
  elif declared and declared != (image.width, image.height):
    if image.exif_rotated and declared == (image.height, image.width):
      image = turn(image, record.filename)
      issues.append(report.Issue(
          record.filename, '', 'EXIF orientation turns the stored'
          f' {declared[1]}x{declared[0]} pixels; the annotations use the'
          ' turned frame', report.REPAIRED))
    else:
      issues.append(report.Issue(
          record.annotation_file, f'image size ({record.image_id})',
          f'annotation says {declared[0]}x{declared[1]} but the image is'
          f' {image.width}x{image.height}; the image size is used',
          report.WARNING))
  return image


def _image_in_record(where: RecordSlice) -> bytes:
  body = tfrecords.read_record_at(where.path, where.offset, file=where.file,
                                  item=where.item)
  values = Example.FromString(body).features.feature[where.key].bytes_list
  return values.value[0] if values.value else b''


# The objects.


def _encode_objects(record: ImageRecord, width: int, height: int,
                    classes: ClassList, options: EncodeOptions, issues):
  kept = []
  mask_cache = object_masks.MaskFiles(width, height, options.check_only)
  mask_cache.pair_instances(record, issues)
  for obj in record.objects:
    try:
      kept.append(_encode_object(obj, width, height, classes, record,
                                 mask_cache, issues))
    except SkippableError as e:
      if options.strict:
        raise
      issues.append(report.Issue.from_error(
          e, report.SKIPPED_OBJECT, 1, file=record.annotation_file,
          item=obj.where))
  return kept


def _encode_object(obj: ObjectAnnotation, width: int, height: int,
                   classes: ClassList, record: ImageRecord,
                   mask_cache: object_masks.MaskFiles, issues) -> KeptObject:
  file, item = record.annotation_file, obj.where
  label = _label(obj, classes, file, item)
  mask, extent = object_masks.object_mask(obj, width, height, file, item, mask_cache)
  box = _given_box(obj, width, height, file, item)
  if mask is not None and mask.area == 0:
    if box is None:
      raise SkippableError('mask is empty and there is no box.', file=file,
                           item=item, fix='Redraw or delete the annotation.')
    issues.append(report.Issue(
        file, item, 'mask is empty (it lies outside the image or its pixels'
        ' are missing); the object keeps its box, without a mask',
        report.WARNING, fix='Redraw the mask.'))
    mask = None
  if mask is not None:
    if box is None:
      box = extent
    elif geometry.disagree(box, extent):
      issues.append(report.Issue(
          file, item, f'box {geometry.format_box(box)} disagrees with the'
          f' extent {geometry.format_box(extent)} of its own segmentation'
          f' (IoU {geometry.iou(box, extent):.2f}); the extent is used',
          report.REPAIRED, fix='Redraw the box or re-export it.'))
      box = extent
  if box is None:
    raise SkippableError('object has no box, polygon or mask.', file=file,
                         item=item, fix='Add a geometry or delete it.')
  bbox, clipped = geometry.to_relative_bbox(box, width, height, file=file,
                                            item=item)
  if clipped:
    issues.append(report.Issue(
        file, item, f'box {geometry.format_box(box)} reaches outside the'
        f' {width}x{height} image; clipped to the image', report.REPAIRED))
  return KeptObject(obj, bbox, label, mask, _area(obj, mask, bbox, width,
                                                  height))


def _label(obj: ObjectAnnotation, classes: ClassList, file: str,
           item: str) -> int:
  if not obj.label or not obj.label.strip():
    raise SkippableError('object has no class name.', file=file, item=item,
                         fix='Name the object in the labelling tool.')
  if obj.label == BACKGROUND:
    raise SkippableError(
        f'object is labelled {BACKGROUND!r}, which is what segmentation'
        ' value 0 means (pixels outside every object), not a class.',
        file=file, item=item, fix='Relabel the object, or delete it.')
  if obj.unsupported_geometry:
    raise SkippableError(
        f'{obj.unsupported_geometry} geometry has no box or mask.',
        file=file, item=item,
        fix='Only boxes, polygons and masks go into this dataset.')
  return classes.index(obj.label)


def _given_box(obj: ObjectAnnotation, width: int, height: int, file: str,
               item: str):
  if obj.box is not None:
    return obj.box
  if obj.relative_box is not None:
    return geometry.box_from_relative(obj.relative_box, width, height)
  return None


def _area(obj: ObjectAnnotation, mask: masks.Mask | None, bbox, width: int,
          height: int) -> float:
  """The export's area when it gives a usable one (COCO evaluation uses
  it), else the mask's pixels, else the box's."""
  if obj.area is not None and np.isfinite(obj.area) and obj.area > 0:
    return float(obj.area)
  if mask is not None:
    return float(mask.area)
  return (bbox.xmax - bbox.xmin) * width * (bbox.ymax - bbox.ymin) * height


def _check_mask_budget(kept, width: int, height: int, options: EncodeOptions,
                       record: ImageRecord) -> None:
  if not options.instance_masks:
    return
  with_masks = sum(k.mask is not None for k in kept)
  total = with_masks * width * height
  if total > options.max_instance_mask_pixels:
    raise SkippableError(
        f'its {with_masks} instance masks of {width}x{height} would hold'
        f' {total:,} pixels, more than max_instance_mask_pixels'
        f' ({options.max_instance_mask_pixels:,}).', file=record.filename,
        fix='Build the `boxes` config (no instance masks), or raise'
        ' max_instance_mask_pixels in a custom config.')


# The semantic mask.


def _read_semantic_mask(record: ImageRecord, width: int, height: int,
                        classes: ClassList) -> np.ndarray:
  ref = record.semantic_mask
  data = ref.data if ref.data is not None else read_file(ref.path,
                                                         file=ref.file)
  return mask_files.read_semantic_mask(data, ref.value_map, classes,
                                       file=ref.file, height=height,
                                       width=width)


def _paint_semantic_mask(kept, width: int, height: int,
                         options: EncodeOptions) -> np.ndarray:
  """Objects painted in order: boxes, then masks, then crowds as void."""
  box_value = None if options.box_masks else masks.IGNORE
  boxes_first = [(_box_slices(k.bbox, width, height),
                  k.label + 1 if box_value is None else box_value)
                 for k in kept
                 if k.mask is None and not k.annotation.is_crowd]
  precise = [(k.mask, k.label + 1) for k in kept
             if k.mask is not None and not k.annotation.is_crowd]
  crowds = [(k.mask if k.mask is not None else _box_slices(
      k.bbox, width, height), masks.IGNORE) for k in kept
            if k.annotation.is_crowd]
  return masks.paint_semantic(height, width, boxes_first + precise + crowds)


def _instance_objects(record: ImageRecord, semantic, width: int, height: int,
                      classes: ClassList, options: EncodeOptions, issues):
  """`(kept objects, count)` of an instance file's instances, each labelled
  by the class most of its pixels have in the class mask."""
  ref = record.instance_objects
  if semantic is None:
    raise SkippableError(
        'instance masks without a class mask: their classes are unknown.',
        file=ref.file, fix='Export SegmentationClass/ with SegmentationObject/.')
  kept = []
  instances = object_masks.MaskFiles(width, height).instances(ref)
  for value, mask in sorted(instances.items()):
    where = f'instance {value}'
    classes_under = semantic[mask.region()][mask.pixels]
    classes_under = classes_under[(classes_under > 0)
                                  & (classes_under != masks.IGNORE)]
    if not classes_under.size:
      error = SkippableError(
          'the class mask has no class under this instance.', file=ref.file,
          item=where, fix='Re-export the class and instance masks together.')
      if options.strict:
        raise error
      issues.append(report.Issue.from_error(error, report.SKIPPED_OBJECT, 1))
      continue
    label = int(np.bincount(classes_under).argmax()) - 1
    obj = ObjectAnnotation(classes.names[label], where)
    bbox, _ = geometry.to_relative_bbox(mask.box(), width, height,
                                        file=ref.file, item=where)
    kept.append(KeptObject(obj, bbox, label, mask, float(mask.area)))
  return kept, len(instances)


def _box_slices(bbox, width: int, height: int) -> tuple[slice, slice]:
  return (slice(_edge(bbox.ymin * height, np.floor),
                _edge(bbox.ymax * height, np.ceil)),
          slice(_edge(bbox.xmin * width, np.floor),
                _edge(bbox.xmax * width, np.ceil)))


def _edge(pixels: float, outward) -> int:
  """A box edge in whole pixels, rounded outward (`np.floor` / `np.ceil`).

  Relative boxes scaled back come out a hair off whole pixels (27 / 42 * 42
  is 27.000000000000004): those snap to the whole pixel rather than grow
  the box by one.
  """
  nearest = round(pixels)
  return int(nearest if abs(pixels - nearest) < 1e-6 else outward(pixels))
