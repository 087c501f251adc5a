"""What a format parser hands to the shared encoder: one record per image.

Parsers only read their format; they never open images or draw masks. All
coordinates are in pixels of the annotation's frame. The shared encoder
(`encode.py`) turns a record into an example of the common schema, so every
format gets the same validation, clipping, masks and report entries.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from tfds_builders.core.geometry import PixelBox


@dataclasses.dataclass
class MaskRef:
  """A mask in a local file, in encoded bytes, or as an array.

  `value=None` means any non-zero pixel is in the mask; otherwise the mask is
  `pixels == value` (VOC SegmentationObject instance ids) or, with an RGB
  `value`, pixels of that colour (Labelbox composite masks).
  """
  path: str | None = None
  data: bytes | None = None
  array: Any = None  # (H, W) numpy array
  value: int | tuple[int, int, int] | None = None


@dataclasses.dataclass
class ObjectAnnotation:
  label: str
  where: str  # e.g. 'annotations/a.xml: object #2', for the report
  box: PixelBox | None = None  # xmin, ymin, xmax, ymax
  polygons: Sequence[Sequence[float]] = ()  # [[x0, y0, x1, y1, ...], ...]
  coco_segmentation: Any = None  # COCO polygons/RLE, decoded by pycocotools
  mask: MaskRef | None = None
  is_crowd: bool = False
  is_difficult: bool = False
  is_truncated: bool = False
  area: float | None = None  # as given by the export, if any
  # Geometry that is kept out of masks (points, lines), reported not drawn.
  unsupported_geometry: str | None = None
  # A box given as fractions of the image size instead of `box` (TFRecords):
  # xmin, ymin, xmax, ymax, scaled by the real image size at encode time.
  relative_box: tuple[float, float, float, float] | None = None


@dataclasses.dataclass
class SemanticMaskRef:
  """A whole-image class mask: palette PNG indices or colours to map."""
  path: str
  # pixel value (index or RGB colour) -> segmentation value (label + 1), or
  # None when pixel values already are label + 1 (VOC palette indices).
  mapping: dict | None = None


@dataclasses.dataclass
class ImageRecord:
  image_id: str
  filename: str  # relative to the export root, forward slashes
  annotation_file: str  # where the record came from, for the report
  image_path: str | None = None  # local file to read
  image_bytes: bytes | None = None  # or the bytes themselves (TFRecords)
  objects: list[ObjectAnnotation] = dataclasses.field(default_factory=list)
  semantic_mask: SemanticMaskRef | None = None
  semantic_mask_bytes: bytes | None = None
  declared_size: tuple[int, int] | None = None  # (width, height) in the file
  split: str | None = None  # from the export; None = assign by hashing the id
  extra: dict = dataclasses.field(default_factory=dict)
