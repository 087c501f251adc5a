"""One image record in, one example of the common schema out.

This is the per-example code shared by every builder and by both the plain
generator and the Apache Beam pipeline, so both paths produce identical
examples. Per-item problems become report entries (or errors when strict).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pathlib
from typing import NamedTuple

import numpy as np
import tensorflow_datasets as tfds
from PIL import Image, ImageOps

from tfds_builders.core import geometry, images, masks, report
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.labels import ClassList
from tfds_builders.core.records import ImageRecord, MaskRef, ObjectAnnotation


class KeptObject(NamedTuple):
  annotation: ObjectAnnotation
  bbox: tfds.features.BBox
  label: int
  pixel_mask: np.ndarray | None  # None: the export gave only a box
  area: float


@dataclasses.dataclass(frozen=True)
class EncodeOptions:
  instance_masks: bool = True
  # Objects with only a box: paint the box with the class in the semantic
  # mask (True) or mark it 255 "unknown" (False). Outside every box stays 0.
  box_masks: bool = False
  strict: bool = False


def encode_record(record: ImageRecord, split: str, classes: ClassList,
                  options: EncodeOptions):
  """Returns `(key, example or None, ExampleSummary)` for one image."""
  issues: list[report.Issue] = []
  try:
    image = _load_image(record, issues)
    width, height = image.width, image.height
    kept = _encode_objects(record, width, height, classes, options, issues)
    semantic = _semantic_mask(record, kept, width, height, classes, options)
  except SkippableError as e:
    if options.strict:
      raise
    # One entry for the whole image: its objects are all lost with it.
    issue = report.Issue(e.file or record.filename, e.item or '', _why(e),
                         report.SKIPPED_IMAGE, len(record.objects))
    return record.image_id, None, report.ExampleSummary(split, False, [],
                                                        [issue])
  objects = {
      'bbox': [k.bbox for k in kept],
      'label': [k.label for k in kept],
      'is_crowd': [k.annotation.is_crowd for k in kept],
      'is_difficult': [k.annotation.is_difficult for k in kept],
      'is_truncated': [k.annotation.is_truncated for k in kept],
      'area': [np.float32(k.area) for k in kept],
  }
  if options.instance_masks:
    objects['mask'] = [
        masks.encode_png(_instance_mask(k, width, height))
        for k in kept]
  example = {
      'image': image.encoded,
      'image/filename': record.filename,
      'image/id': record.image_id,
      'objects': objects,
      'segmentation_mask': masks.encode_png(semantic),
  }
  labels = [classes.names[k.label] for k in kept]
  return record.image_id, example, report.ExampleSummary(
      split, True, labels, issues, record.image_id,
      hashlib.sha256(image.encoded).hexdigest())


def _encode_objects(record: ImageRecord, width: int, height: int,
                    classes: ClassList, options: EncodeOptions, issues):
  kept = []
  for obj in record.objects:
    try:
      kept.append(_encode_object(obj, width, height, classes, record,
                                 issues))
    except SkippableError as e:
      if options.strict:
        raise
      issues.append(report.Issue(e.file or record.annotation_file,
                                 e.item or obj.where, _why(e),
                                 report.SKIPPED_OBJECT, 1))
  return kept


def _why(e: ExportError) -> str:
  return e.problem + (f' Fix: {e.fix}' if e.fix else '')


def _load_image(record: ImageRecord, issues) -> images.CheckedImage:
  data = record.image_bytes
  if not data:
    path = pathlib.Path(record.image_path or '')
    if not record.image_path or not path.is_file():
      raise SkippableError(
          'image file not found.', file=record.filename,
          item=f'listed in {record.annotation_file}',
          fix='Put the image in the export or fix its file name.')
    data = path.read_bytes()
  image = images.check_image(data, file=record.filename)
  if image.repair:
    issues.append(report.Issue(record.filename, '', image.repair,
                               report.REPAIRED))
  declared = record.declared_size
  if declared and declared != (image.width, image.height):
    if image.exif_rotated and declared == (image.height, image.width):
      image = _apply_exif_rotation(image, record.filename)
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


def _apply_exif_rotation(image: images.CheckedImage,
                         file: str) -> images.CheckedImage:
  """Stores the pixels the way the annotation tool showed them."""
  with Image.open(io.BytesIO(image.encoded)) as im:
    turned = ImageOps.exif_transpose(im).convert('RGB')
  buffer = io.BytesIO()
  turned.save(buffer, format='PNG')
  return images.CheckedImage(buffer.getvalue(), turned.width, turned.height,
                             'png', repair=f'applied EXIF rotation to {file}')


def _encode_object(obj: ObjectAnnotation, width: int, height: int,
                   classes: ClassList, record: ImageRecord, issues):
  file, item = record.annotation_file, obj.where
  if obj.unsupported_geometry:
    raise SkippableError(
        f'{obj.unsupported_geometry} geometry has no box or mask.',
        file=file, item=item,
        fix='Only boxes, polygons and masks go into this dataset.')
  label = classes.index(obj.label)
  pixel_mask = _pixel_mask(obj, width, height, file, item)
  box = obj.box
  if box is None and obj.relative_box is not None:
    box = geometry.box_from_relative(obj.relative_box, width, height)
  if box is None and obj.polygons:
    flat = [p for part in obj.polygons for p in part]
    box = geometry.box_from_points(flat[0::2], flat[1::2])
  if box is None and pixel_mask is not None:
    box = geometry.box_from_mask(pixel_mask)
    if box is None:
      raise SkippableError('mask is empty.', file=file, item=item,
                           fix='Redraw or delete the annotation.')
  if box is None:
    raise SkippableError('object has no box, polygon or mask.', file=file,
                         item=item, fix='Add a geometry or delete it.')
  bbox, clipped = geometry.to_relative_bbox(box, width, height, file=file,
                                            item=item)
  if clipped:
    issues.append(report.Issue(
        file, item, f'box {geometry.format_box(box)} reaches outside the'
        f' {width}x{height} image; clipped to the image', report.REPAIRED))
  if obj.area is not None and np.isfinite(obj.area):
    area = float(obj.area)
  elif pixel_mask is not None:
    area = float(pixel_mask.sum())
  else:
    area = (bbox.xmax - bbox.xmin) * width * (bbox.ymax - bbox.ymin) * height
  return KeptObject(obj, bbox, label, pixel_mask, area)


def _pixel_mask(obj: ObjectAnnotation, width: int, height: int, file: str,
                item: str) -> np.ndarray | None:
  if obj.coco_segmentation is not None:
    return masks.decode_coco_segmentation(obj.coco_segmentation, height,
                                          width, file=file, item=item)
  if obj.polygons:
    for part in obj.polygons:
      if len(part) < 6 or len(part) % 2:
        raise SkippableError(
            f'polygon has {len(part) / 2:g} points; at least 3 are needed.',
            file=file, item=item, fix='Redraw the polygon or delete it.')
      if not np.all(np.isfinite(part)):
        raise SkippableError('polygon has a non-finite coordinate.',
                             file=file, item=item, fix='Redraw the polygon.')
    return masks.rasterize_polygons(obj.polygons, height, width)
  if obj.mask is not None:
    return _load_mask(obj.mask, width, height, file, item)
  return None


def _load_mask(ref: MaskRef, width: int, height: int, file: str,
               item: str) -> np.ndarray:
  where = ref.path or file
  if ref.array is not None:
    pixels = np.asarray(ref.array)
  else:
    try:
      data = ref.data if ref.data is not None else pathlib.Path(
          ref.path).read_bytes()
      with Image.open(io.BytesIO(data)) as im:
        rgb = isinstance(ref.value, tuple)
        pixels = np.asarray(im.convert('RGB') if rgb else im)
    except OSError as e:
      raise SkippableError(f'mask could not be read ({e}).', file=where,
                           item=item, fix='Re-export the mask.') from e
  if pixels.shape[:2] != (height, width):
    raise SkippableError(
        f'mask is {pixels.shape[1]}x{pixels.shape[0]} but the image is'
        f' {width}x{height}.', file=where, item=item,
        fix='Re-export the mask for this image.')
  if ref.value is None:
    mask = pixels.reshape(height, width, -1)[:, :, 0] > 0
  elif isinstance(ref.value, tuple):
    mask = np.all(pixels[:, :, :3] == np.asarray(ref.value, pixels.dtype),
                  axis=-1)
  else:
    mask = pixels == ref.value
  return mask.astype(np.uint8)


def _instance_mask(kept: KeptObject, width: int, height: int) -> np.ndarray:
  if kept.pixel_mask is not None:
    return kept.pixel_mask
  return _box_region(kept.bbox, width, height).astype(np.uint8)


def _box_region(bbox, width: int, height: int) -> np.ndarray:
  region = np.zeros((height, width), bool)
  region[_box_slices(bbox, width, height)] = True
  return region


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


def _semantic_mask(record: ImageRecord, kept, width: int, height: int,
                   classes: ClassList, options: EncodeOptions) -> np.ndarray:
  if record.semantic_mask is not None or record.semantic_mask_bytes:
    return _read_semantic(record, width, height, classes)
  box_value = None if options.box_masks else masks.IGNORE
  boxes_first = [(_box_slices(k.bbox, width, height),
                  k.label + 1 if box_value is None else box_value)
                 for k in kept
                 if k.pixel_mask is None and not k.annotation.is_crowd]
  precise = [(k.pixel_mask, k.label + 1) for k in kept
             if k.pixel_mask is not None and not k.annotation.is_crowd]
  crowds = [(_instance_mask(k, width, height), masks.IGNORE) for k in kept
            if k.annotation.is_crowd]
  return masks.paint_semantic(height, width, boxes_first + precise + crowds)


def _read_semantic(record: ImageRecord, width: int, height: int,
                   classes: ClassList) -> np.ndarray:
  ref = record.semantic_mask
  file = ref.path if ref else record.filename
  data = record.semantic_mask_bytes or pathlib.Path(ref.path).read_bytes()
  mapping = ref.mapping if ref else None
  if mapping and isinstance(next(iter(mapping)), tuple):
    pixels = _rgb_to_values(data, mapping, file)
  else:
    pixels = masks.read_index_png(data, file=file)
    if mapping:
      pixels = _map_values(pixels, mapping, file)
  if pixels.shape != (height, width):
    raise SkippableError(
        f'segmentation mask is {pixels.shape[1]}x{pixels.shape[0]} but the'
        f' image is {width}x{height}.', file=file,
        fix='Re-export the mask for this image.')
  bad = np.setdiff1d(np.unique(pixels),
                     [*range(len(classes.names) + 1), masks.IGNORE])
  if bad.size:
    raise SkippableError(
        f'segmentation mask has values {bad.tolist()} beyond the'
        f' {len(classes.names)} classes (+1 for background, 255 void).',
        file=file, fix='List all classes in labels.txt/labelmap.txt in'
        ' palette order.')
  return pixels


def _map_values(pixels: np.ndarray, mapping: dict, file: str) -> np.ndarray:
  lut = np.full(256, -1, np.int16)
  for source, value in mapping.items():
    lut[source] = value
  lut[masks.IGNORE] = masks.IGNORE if lut[masks.IGNORE] < 0 else lut[
      masks.IGNORE]
  mapped = lut[pixels]
  if (mapped < 0).any():
    unknown = sorted(set(np.unique(pixels[mapped < 0]).tolist()))
    raise SkippableError(f'mask values {unknown} are not in the legend.',
                         file=file, fix='Add them to the legend.')
  return mapped.astype(np.uint8)


def _rgb_to_values(data: bytes, mapping: dict, file: str) -> np.ndarray:
  with Image.open(io.BytesIO(data)) as im:
    rgb = np.asarray(im.convert('RGB'), np.uint32)
  packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
  out = np.full(packed.shape, -1, np.int16)
  for (r, g, b), value in mapping.items():
    out[packed == ((r << 16) | (g << 8) | b)] = value
  if (out < 0).any():
    unknown = np.unique(packed[out < 0])[:5]
    colours = [((int(c) >> 16) & 255, (int(c) >> 8) & 255, int(c) & 255)
               for c in unknown]
    raise SkippableError(f'mask colours {colours} are not in the label map.',
                         file=file, fix='Add them to labelmap.txt.')
  return out.astype(np.uint8)
