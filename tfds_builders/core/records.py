"""What a format parser hands to the shared encoder: one record per image.

Parsers only read their format; they never open images or draw masks. All
coordinates are in pixels of the annotation's frame and were validated by
`core.values` on the way in. The shared encoder (`encode.py`) turns a record
into an example of the common schema, so every format gets the same checks,
clipping, masks and report entries.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Sequence

from tfds_builders.core import report
from tfds_builders.core.geometry import PixelBox
from tfds_builders.core.labels import ClassList
from tfds_builders.core.mask_files import ValueMap
from tfds_builders.core.masks import Mask


@dataclasses.dataclass
class MaskRef:
  """An object's mask: in a mask file, in encoded bytes, or decoded.

  `value=None` means any non-zero pixel is in the mask; an int means the
  pixels of that instance id (VOC SegmentationObject: palette index, or the
  VOC colour of that index in RGB files); an RGB tuple means the pixels of
  that colour (Labelbox composite masks).
  """
  path: str | None = None  # a confined real path (from ExportFiles)
  data: bytes | None = None
  mask: Mask | None = None  # already decoded and cropped
  value: int | tuple[int, int, int] | None = None
  file: str = ''  # the mask file's name in messages
  # An instance-id file whose ids may not follow the objects' order (CVAT
  # and Datumaro number instances by z-order): instances are paired with
  # the objects by box when the order does not fit (core.encode).
  pair_by_box: bool = False


@dataclasses.dataclass
class ObjectAnnotation:
  label: str
  where: str  # e.g. 'object #2 (dog)', for the report
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
  # Polygons given as fractions of the image size instead of `polygons`
  # (YOLO segments): [[x0, y0, ...], ...], scaled at encode time like
  # `relative_box`.
  relative_polygons: Sequence[Sequence[float]] = ()


@dataclasses.dataclass
class SemanticMaskRef:
  """A whole-image class mask and the map that says what its values mean."""
  file: str  # for messages: relative to the export root, or the record
  value_map: ValueMap
  path: str | None = None  # a confined real path
  data: bytes | None = None


@dataclasses.dataclass(frozen=True)
class RecordSlice:
  """Where a TFRecord export holds an image: read when it is encoded, so a
  build never holds every image of the export in memory."""
  path: str  # a confined real path to an uncompressed TFRecord file
  offset: int  # of the record's header
  file: str  # for messages
  item: str
  key: str = 'image/encoded'  # the bytes feature holding the image


@dataclasses.dataclass
class ImageRecord:
  image_id: str
  filename: str  # relative to the export root, forward slashes
  annotation_file: str  # where the record came from, for the report
  image_path: str | None = None  # a confined real path to read
  image_bytes: bytes | None = None  # or the bytes themselves (TFRecords)
  image_in_record: RecordSlice | None = None  # or where a record holds them
  objects: list[ObjectAnnotation] = dataclasses.field(default_factory=list)
  semantic_mask: SemanticMaskRef | None = None
  declared_size: tuple[int, int] | None = None  # (width, height) in the file
  split: str | None = None  # from the export; None = assign by hashing the id
  split_source: str = ''  # what stated the split ('folder valid/', ...)
  # What the hash split uses instead of the id, when the id is not stable
  # (COCO: ids are renumbered per file and renamed when files share them;
  # the image's file name is neither, and Roboflow's copies of one photo
  # share it but for their `_jpg.rf.<hash>` part).
  split_key: str | None = None
  # Why the image's file could not be found, when it could not.
  missing_image: str = ''
  # The objects are the instances of this instance-id file, each labelled
  # by the class mask under it (VOC masks without XML: CVAT "Segmentation
  # mask", Datumaro voc_segmentation); derived at encode time.
  instance_objects: MaskRef | None = None
  # The annotations use the frame viewers show (EXIF orientation applied),
  # as YOLO tools do: the pixels are stored turned that way.
  exif_frame: bool = False
  extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ParsedExport:
  """What a format parser found in the export folder."""
  export_format: str  # e.g. 'PASCAL VOC (labelImg layout)'
  records: list[ImageRecord]
  classes: ClassList | None  # the list the export names, if it names one
  export_images: int  # images the annotations list, including unreadable
  export_objects: int  # annotations in the files, including unusable
  issues: list[report.Issue] = dataclasses.field(default_factory=list)
  # Annotation files read (for the source manifest), absolute paths.
  source_files: list[pathlib.Path] = dataclasses.field(default_factory=list)
