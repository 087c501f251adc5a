"""Instance masks: cropped to their extent, from polygons, RLE or mask files.

An object's mask is held as a `Mask`: the pixels of its extent and where
that extent sits in the image, never a full-size array per object (an
export with thousands of objects per image would need gigabytes). Full-size
arrays exist one at a time, while a PNG is encoded.

Polygons are rasterised with Pillow, COCO polygons and RLE with pycocotools,
after every coordinate and count was checked (`core.values`): pycocotools
reads uninitialised memory for RLE counts that do not cover the image and
crashes on NaN vertices. Mask files are read in `core.mask_files`.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
from typing import Sequence
import zlib

import numpy as np
from isal import isal_zlib
from PIL import Image, ImageDraw
from pycocotools import mask as coco_mask
from scipy import ndimage

from tfds_builders.core import schema, values
from tfds_builders.core.errors import SkippableError

IGNORE = schema.VOID
# More mask pixels than this in one image's instance masks (objects with a
# mask x image pixels) is refused: encoding them would take minutes and
# the dataset gigabytes. The `boxes` configs store no instance masks.
MAX_INSTANCE_MASK_PIXELS = 1 << 31
_SUPERSAMPLE = 4
# Pillow rounds vertices to the sub-pixel grid and fills boundary sub-pixels
# too, which grows every polygon by about half a sub-pixel. Asking for 10 of
# the 16 sub-samples instead of 8 cancels that: on random polygons the mean
# area error against pycocotools is below 0.1% (tests/core/test_masks.py).
_MIN_SUBSAMPLES = 10


@dataclasses.dataclass(frozen=True)
class Mask:
  """A 0/1 mask: `pixels` (bool, h x w) placed at (`top`, `left`)."""
  top: int
  left: int
  pixels: np.ndarray

  @classmethod
  def from_full(cls, full: np.ndarray) -> 'Mask':
    """Crops a full-size mask (any non-zero pixel is in) to its extent."""
    full = np.asarray(full) != 0
    rows, cols = np.flatnonzero(full.any(axis=1)), np.flatnonzero(
        full.any(axis=0))
    if rows.size == 0:
      return cls(0, 0, np.zeros((0, 0), bool))
    return cls(int(rows[0]), int(cols[0]),
               full[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy())

  @property
  def area(self) -> int:
    return int(np.count_nonzero(self.pixels))

  def box(self) -> tuple[float, float, float, float] | None:
    """Tight pixel box `(x0, y0, x1 + 1, y1 + 1)`, or None when empty."""
    tight = Mask.from_full(self.pixels)
    if tight.pixels.size == 0:
      return None
    height, width = tight.pixels.shape
    x0, y0 = self.left + tight.left, self.top + tight.top
    return (float(x0), float(y0), float(x0 + width), float(y0 + height))

  def region(self) -> tuple[slice, slice]:
    height, width = self.pixels.shape
    return (slice(self.top, self.top + height),
            slice(self.left, self.left + width))

  def full(self, height: int, width: int) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    self.paint(canvas, 1)
    return canvas

  def paint(self, canvas: np.ndarray, value: int) -> None:
    canvas[self.region()][self.pixels] = value


def masks_of_labels(labelled: np.ndarray, ids: Sequence[int]
                    ) -> dict[int, Mask]:
  """`{id: Mask of labelled == id}` for the ids present, in one pass.

  For instance-id images (VOC SegmentationObject) and connected regions,
  where comparing the whole image once per object would cost objects x
  pixels.
  """
  result = {}
  wanted = set(int(i) for i in ids)
  top = max(wanted, default=0)
  if top <= 0:
    return result
  clipped = np.where(labelled <= top, labelled, 0).astype(np.int64)
  for index, found in enumerate(ndimage.find_objects(clipped), 1):
    if found is not None and index in wanted:
      result[index] = Mask(found[0].start, found[1].start,
                           clipped[found] == index)
  return result


def _block_average(covered: int) -> int:
  """What `Image.reduce` makes of a block with `covered` sub-samples at 255.

  The 17 possible averages are distinct and increasing, so thresholding the
  reduced image counts sub-samples exactly, in C instead of a numpy sum.
  """
  block = np.zeros(_SUPERSAMPLE * _SUPERSAMPLE, np.uint8)
  block[:covered] = 255
  return int(np.asarray(Image.fromarray(block.reshape(
      _SUPERSAMPLE, _SUPERSAMPLE)).reduce(_SUPERSAMPLE))[0, 0])


_MIN_AVERAGE = _block_average(_MIN_SUBSAMPLES)


def rasterize_polygons(parts: Sequence[Sequence[float]], height: int,
                       width: int) -> Mask:
  """Rasterises checked polygons `[[x0, y0, x1, y1, ...], ...]`.

  Pixel (i, j) covers the square [j, j+1) x [i, i+1). Each part is drawn on a
  4x supersampled canvas the size of its bounding box; a pixel is set when
  most of its sub-samples are inside. When a part would vanish entirely (a
  sliver thinner than a pixel), the pixels it touches are kept instead, so
  thin structures never disappear.
  """
  s = _SUPERSAMPLE
  pieces = []
  for part in parts:
    xs, ys = np.asarray(part[0::2], float), np.asarray(part[1::2], float)
    if len(xs) < 3:
      continue
    x0 = int(np.clip(np.floor(xs.min()), 0, width))
    y0 = int(np.clip(np.floor(ys.min()), 0, height))
    x1 = int(np.clip(np.ceil(xs.max()) + 1, 0, width))
    y1 = int(np.clip(np.ceil(ys.max()) + 1, 0, height))
    if x1 <= x0 or y1 <= y0:
      continue
    points = list(zip((xs - x0) * s - 0.5, (ys - y0) * s - 0.5))
    canvas = Image.new('L', ((x1 - x0) * s, (y1 - y0) * s), 0)
    ImageDraw.Draw(canvas).polygon(points, fill=255, outline=255)
    coverage = np.asarray(canvas.reduce(s))  # block averages, see above
    part_mask = coverage >= _MIN_AVERAGE
    if not part_mask.any():
      part_mask = coverage > 0
    pieces.append(Mask(y0, x0, part_mask))
  return union(pieces)


def union(pieces: Sequence[Mask]) -> Mask:
  """One mask covering every piece (each already inside the image)."""
  if not pieces:
    return Mask(0, 0, np.zeros((0, 0), bool))
  if len(pieces) == 1:
    return pieces[0]
  top = min(p.top for p in pieces)
  left = min(p.left for p in pieces)
  bottom = max(p.top + p.pixels.shape[0] for p in pieces)
  right = max(p.left + p.pixels.shape[1] for p in pieces)
  canvas = np.zeros((bottom - top, right - left), bool)
  for p in pieces:
    Mask(p.top - top, p.left - left, p.pixels).paint(canvas, True)
  return Mask(top, left, canvas)


def decode_coco_segmentation(segmentation, height: int, width: int, *,
                             file: str, item: str) -> Mask:
  """Decodes a COCO `segmentation`: polygons, RLE or compressed RLE.

  Everything pycocotools will read is checked first; a segmentation that
  fails a check raises SkippableError naming what is wrong.
  """
  if isinstance(segmentation, list):
    return coco_polygons_mask(
        coco_polygons(segmentation, height, width, file=file, item=item),
        height, width)
  if isinstance(segmentation, dict) and 'counts' in segmentation:
    return _decoded(_checked_rle(segmentation, height, width, file, item))
  raise SkippableError(
      f'segmentation of type {type(segmentation).__name__} is neither'
      ' polygons nor RLE.', file=file, item=item,
      fix='Export polygons or RLE.')


def coco_polygons_mask(parts: list[list[float]], height: int,
                       width: int) -> Mask:
  """pycocotools' mask of polygon parts already checked (`coco_polygons`)."""
  return _decoded(coco_mask.merge(coco_mask.frPyObjects(parts, height,
                                                        width)))


def _decoded(rle) -> Mask:
  full = coco_mask.decode(rle)
  return Mask.from_full(full.max(axis=2) if full.ndim == 3 else full)


def coco_polygons(segmentation: list, height: int, width: int, *, file: str,
                  item: str) -> list[list[float]]:
  """The checked parts of a COCO polygon segmentation (those with at least
  3 points), or a SkippableError."""
  parts = [values.check_coordinates(p, width, height, 'polygon', file=file,
                                    item=item)
           if isinstance(p, list) else _not_polygon(p, file, item)
           for p in segmentation]
  parts = [p.tolist() for p in parts if p.size >= 6]
  if not parts:
    raise SkippableError(
        'segmentation has no polygon with at least 3 points.', file=file,
        item=item, fix='Redraw the polygon or delete the annotation.')
  return parts


def outline(parts, height: int, width: int) -> Mask:
  """What `check` keeps of a polygon mask: one pixel when it reaches into
  the image (the rasteriser then always draws at least the pixels it
  touches), none when it lies outside. Its extent is the vertices'."""
  flat = np.concatenate([np.asarray(p, np.float64) for p in parts])
  xs, ys = flat[0::2], flat[1::2]
  inside = (xs.max() > 0 and ys.max() > 0 and xs.min() < width
            and ys.min() < height)
  return Mask(0, 0, np.ones((1, 1) if inside else (0, 0), bool))


def _not_polygon(part, file: str, item: str):
  raise SkippableError(f'polygon {str(part)[:40]!r} is not a list of'
                       ' coordinates.', file=file, item=item,
                       fix='Export polygons as [x0, y0, x1, y1, ...].')


def _checked_rle(rle: dict, height: int, width: int, file: str,
                 item: str) -> dict:
  size = rle.get('size')
  if not (isinstance(size, list) and len(size) == 2):
    raise SkippableError(f'RLE size {size!r} is not [height, width].',
                         file=file, item=item, fix='Re-export the mask.')
  size = [values.integer(v, 'RLE size', file=file, item=item) for v in size]
  if size != [height, width]:
    raise SkippableError(
        f'RLE size {size} (height, width) disagrees with the image, which'
        f' is {height}x{width}.', file=file, item=item,
        fix='Re-export the annotation against this image.')
  counts = rle['counts']
  if isinstance(counts, list):
    runs = [values.integer(c, 'RLE count', high=height * width, file=file,
                           item=item) for c in counts]
    encoded = None
  elif isinstance(counts, (str, bytes)):
    encoded = counts.encode('ascii', 'replace') if isinstance(
        counts, str) else counts
    runs = compressed_rle_counts(encoded, file=file, item=item)
  else:
    raise SkippableError(f'RLE counts of type {type(counts).__name__}.',
                         file=file, item=item, fix='Re-export the mask.')
  if sum(runs) != height * width:
    raise SkippableError(
        f'RLE counts cover {sum(runs)} pixels, but the image has'
        f' {height}x{width} = {height * width}.', file=file, item=item,
        fix='Re-export the mask; the counts are cut short or too long.')
  if encoded is None:
    return coco_mask.frPyObjects({'size': size, 'counts': runs}, height,
                                 width)
  return {'size': size, 'counts': encoded}


def compressed_rle_counts(encoded: bytes, *, file: str, item: str
                          ) -> list[int]:
  """The run lengths of COCO's compressed RLE string, checked.

  A Python copy of `rleFrString` in pycocotools' maskApi.c, which reads
  past the end of a malformed string instead of failing: characters are
  6-bit groups offset by 48, 0x20 continues a number, 0x10 in the last group
  is the sign, and counts after the second are deltas to the one two back.
  """
  def bad(why: str) -> SkippableError:
    return SkippableError(f'compressed RLE counts do not decode ({why}).',
                          file=file, item=item, fix='Re-export the mask.')
  counts: list[int] = []
  value = shift = 0
  more = False
  for position, char in enumerate(encoded):
    group = char - 48
    if not 0 <= group < 64:
      raise bad(f'byte {char!r} at position {position}')
    value |= (group & 0x1f) << shift
    shift += 5
    more = bool(group & 0x20)
    if more:
      if shift > 60:
        raise bad(f'a number too long at position {position}')
      continue
    if group & 0x10:
      value |= -1 << shift
    if len(counts) > 2:
      value += counts[-2]
    if value < 0:
      raise bad(f'a negative run at position {position}')
    counts.append(value)
    value = shift = 0
  if more:
    raise bad('the string ends inside a number')
  return counts


def encode_png(mask: np.ndarray) -> bytes:
  """An (H, W) uint8 array as a single-channel 8-bit PNG.

  Written directly rather than with Pillow: no per-row filter search, one
  deflate call, with ISA-L's deflate (python-isal), which compresses masks
  (mostly zeros) 5x faster than zlib at level 1 into a standard zlib stream
  (0.15 ms instead of 0.70 ms for 640x480, docs/BENCHMARKS.md). An all-zero
  mask of a size is encoded once (`zeros_png`).
  """
  mask = np.ascontiguousarray(mask, np.uint8)
  height, width = mask.shape
  if not mask.any():
    return zeros_png(height, width)
  rows = np.zeros((height, width + 1), np.uint8)  # filter byte 0 per row
  rows[:, 1:] = mask
  return _png(width, height, isal_zlib.compress(rows.tobytes(), 1))


@functools.lru_cache(maxsize=64)
def zeros_png(height: int, width: int) -> bytes:
  """The PNG of an all-zero mask (box-only objects store one)."""
  return _png(width, height, zlib.compress(bytes(height * (width + 1)), 9))


def _png(width: int, height: int, idat: bytes) -> bytes:
  def chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack('>I', len(data)) + kind + data
            + struct.pack('>I', zlib.crc32(kind + data)))
  header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)  # 8-bit grey
  return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header)
          + chunk(b'IDAT', idat) + chunk(b'IEND', b''))


def paint_semantic(height: int, width: int, layers) -> np.ndarray:
  """Builds the semantic mask from `(mask, value)` layers painted in order.

  A mask is a `Mask`, or a box as a `(rows, columns)` tuple of slices.
  """
  semantic = np.zeros((height, width), np.uint8)
  for mask, value in layers:
    if isinstance(mask, tuple):
      semantic[mask] = value
    else:
      mask.paint(semantic, value)
  return semantic
