"""An object's mask as the export gives it, cropped (`masks.Mask`).

Polygons (VOC, Labelbox, YOLO segments) are rasterised here, COCO polygons
and RLE are decoded by pycocotools after `core.masks` checked them, and
mask files are read once per image (`MaskFiles`): one-object masks, colour
masks (Labelbox composites) and instance-id files, whose instances are paired
with the objects (VOC `SegmentationObject`).
"""

from __future__ import annotations

import numpy as np

from tfds_builders.core import geometry, mask_files, masks, report, values
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.exportfs import read_file
from tfds_builders.core.records import ImageRecord, MaskRef, ObjectAnnotation


def object_mask(obj: ObjectAnnotation, width: int, height: int, file: str,
                 item: str, mask_cache: 'MaskFiles'):
  """`(mask, extent)` as the export gives them, or `(None, None)` (box only).

  The extent of a polygon is that of its vertices (sub-pixel, may reach past
  the image, then clipped); that of any other mask is its pixels' box.
  """
  mask = parts = None  # parts: the checked polygons, for the extent
  outline_only = mask_cache.check_only  # `check`: polygons are not drawn
  if isinstance(obj.coco_segmentation, list) and obj.coco_segmentation:
    parts = masks.coco_polygons(obj.coco_segmentation, height, width,
                                file=file, item=item)
  if parts:
    mask = (masks.outline(parts, height, width) if outline_only
            else masks.coco_polygons_mask(parts, height, width))
  elif obj.coco_segmentation is not None:
    mask = masks.decode_coco_segmentation(obj.coco_segmentation, height,
                                          width, file=file, item=item)
  elif obj.polygons or obj.relative_polygons:
    polygons = obj.polygons or [
        [v * (width if i % 2 == 0 else height) for i, v in enumerate(p)]
        for p in obj.relative_polygons]
    parts = _checked_parts(polygons, width, height, file, item)
    mask = (masks.outline(parts, height, width) if outline_only
            else masks.rasterize_polygons(parts, height, width))
  elif obj.mask is not None:
    mask = mask_cache.mask(obj.mask, item)
  if mask is None:  # also: an instance file with no instance for it
    return None, None
  if parts and mask.area:
    flat = np.concatenate([np.asarray(p, np.float64) for p in parts])
    return mask, geometry.box_from_points(flat[0::2], flat[1::2])
  return mask, mask.box()


def _checked_parts(polygons, width: int, height: int, file: str,
                   item: str) -> list:
  parts = []
  for part in polygons:
    checked = values.check_coordinates(part, width, height, 'polygon',
                                       file=file, item=item)
    if checked.size < 6:
      raise SkippableError(
          f'polygon has {checked.size // 2} points; at least 3 are needed.',
          file=file, item=item, fix='Redraw the polygon or delete it.')
    parts.append(checked)
  return parts


class MaskFiles:
  """Reads each mask file of an image once, whatever its number of objects."""

  def __init__(self, width: int, height: int, check_only: bool = False):
    self._width, self._height = width, height
    self.check_only = check_only
    self._ids: dict[str, dict[int, masks.Mask]] = {}
    self._paired: dict[int, masks.Mask | None] = {}  # id(MaskRef) -> mask

  def mask(self, ref: MaskRef, item: str) -> masks.Mask | None:
    if ref.mask is not None:
      return ref.mask
    if ref.pair_by_box:
      if id(ref) not in self._paired:
        self._instances(ref)  # the file's error, reported for this object
      return self._paired.get(id(ref))
    file = ref.file or ref.path or 'mask'
    if isinstance(ref.value, tuple):
      return masks.Mask.from_full(mask_files.read_colour_mask(
          self._data(ref, file), ref.value, file=file, height=self._height,
          width=self._width))
    if ref.value is None:
      return masks.Mask.from_full(mask_files.read_binary_mask(
          self._data(ref, file), file=file, height=self._height,
          width=self._width))
    return self._instances(ref).get(ref.value, _EMPTY)

  def pair_instances(self, record: ImageRecord, issues) -> None:
    """Pairs the instances of each `pair_by_box` file with its objects.

    The devkit numbers instance i after the i-th object; CVAT and Datumaro
    number them by z-order. The order is kept when every object's box agrees
    with its instance's extent; otherwise instances go to the boxes they
    overlap most (IoU >= 0.5), greedily. Objects and instances left without
    a partner are reported: the objects keep their box, without a mask.
    """
    by_file: dict[str, list[ObjectAnnotation]] = {}
    for obj in record.objects:
      if obj.mask is not None and obj.mask.pair_by_box:
        by_file.setdefault(obj.mask.path, []).append(obj)
    for objects in by_file.values():
      ref = objects[0].mask
      try:
        instances = self._instances(ref)
      except SkippableError:
        continue  # raised again, per object, when the object is encoded
      pairs = _pairs_in_order(objects, instances) or _pairs_by_box(
          objects, instances)
      for obj in objects:
        value = pairs.get(id(obj))
        self._paired[id(obj.mask)] = instances.get(value)
        if value is None:
          issues.append(report.Issue(
              record.annotation_file, obj.where, f'no instance in'
              f' {ref.file} matches its box; kept without a mask',
              report.WARNING, fix='Re-export the instance masks.'))
      for value in sorted(set(instances) - set(pairs.values())):
        issues.append(report.Issue(
            ref.file, f'instance {value}', 'matches no object of'
            f' {record.annotation_file}; not used', report.WARNING,
            fix='Give every instance mask an object in the annotation.'))

  def instances(self, ref: MaskRef) -> dict[int, masks.Mask]:
    """Every instance (ids 1..254) of an instance-id file, cropped."""
    return self._instances(ref)

  def _instances(self, ref: MaskRef) -> dict[int, masks.Mask]:
    key = ref.path or str(id(ref.data))
    if key not in self._ids:
      file = ref.file or ref.path or 'mask'
      ids = mask_files.read_instance_ids(
          self._data(ref, file), file=file, height=self._height,
          width=self._width)
      self._ids[key] = masks.masks_of_labels(ids, range(1, masks.IGNORE))
    return self._ids[key]

  @staticmethod
  def _data(ref: MaskRef, file: str) -> bytes:
    return ref.data if ref.data is not None else read_file(ref.path,
                                                           file=file)


_EMPTY = masks.Mask(0, 0, np.zeros((0, 0), bool))


def _pairs_in_order(objects, instances) -> dict[int, int] | None:
  """{id(object): its instance number} when the order fits every box."""
  pairs = {}
  for obj in objects:
    found = instances.get(obj.mask.value)
    if found is None or (obj.box is not None and geometry.disagree(
        obj.box, found.box())):
      return None
    pairs[id(obj)] = obj.mask.value
  return pairs


def _pairs_by_box(objects, instances) -> dict[int, int]:
  scored = sorted(
      ((geometry.iou(obj.box, mask.box()), value, id(obj))
       for obj in objects if obj.box is not None
       for value, mask in instances.items()), reverse=True)
  pairs, taken = {}, set()
  for score, value, obj_id in scored:
    if score < 0.5:
      break
    if obj_id not in pairs and value not in taken:
      pairs[obj_id] = value
      taken.add(value)
  return pairs
