"""Pixel masks: polygons, COCO RLE, palette PNGs and the semantic mask.

Polygons are rasterised with Pillow, RLE is decoded with pycocotools, palette
PNGs are read with Pillow in mode `P` (their pixel values are class indices;
`tf.io.decode_png` would expand them to palette colours).
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as coco_mask

from tfds_builders.core.errors import ExportError, SkippableError

IGNORE = 255  # "void" in segmentation masks, ignored by losses and metrics
_SUPERSAMPLE = 4
# Pillow rounds vertices to the sub-pixel grid and fills boundary sub-pixels
# too, which grows every polygon by about half a sub-pixel. Asking for 10 of
# the 16 sub-samples instead of 8 cancels that: on random polygons the mean
# area error against pycocotools is below 0.1% (tests/test_core.py).
_MIN_SUBSAMPLES = 10


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
                       width: int) -> np.ndarray:
  """Rasterises polygons `[[x0, y0, x1, y1, ...], ...]` into a 0/1 mask.

  Pixel (i, j) covers the square [j, j+1) x [i, i+1). Each part is drawn on a
  4x supersampled canvas the size of its bounding box; a pixel is set when
  most of its sub-samples are inside. When a part would vanish entirely (a
  sliver thinner than a pixel), the pixels it touches are kept instead, so
  thin structures never disappear.
  """
  s = _SUPERSAMPLE
  mask = np.zeros((height, width), np.uint8)
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
    mask[y0:y1, x0:x1] |= part_mask.astype(np.uint8)
  return mask


def decode_coco_segmentation(segmentation, height: int, width: int, *,
                             file: str, item: str) -> np.ndarray:
  """Decodes a COCO `segmentation` (polygons, RLE or compressed RLE).

  Returns a 0/1 uint8 mask of the real image size. An RLE whose `size`
  disagrees with the image cannot be placed and raises an error.
  """
  try:
    if isinstance(segmentation, list):
      polygons = [p for p in segmentation if len(p) >= 6]
      if not polygons:
        raise SkippableError(
            'segmentation has no polygon with at least 3 points.', file=file,
            item=item, fix='Redraw the polygon or delete the annotation.')
      rle = coco_mask.merge(coco_mask.frPyObjects(polygons, height, width))
    elif isinstance(segmentation, dict) and 'counts' in segmentation:
      size = [int(v) for v in segmentation.get('size', ())]
      if size != [height, width]:
        raise ExportError(
            f'RLE size {size} (height, width) disagrees with the image, which'
            f' is {height}x{width}.', file=file, item=item,
            fix='Re-export the annotation against this image.')
      rle = segmentation
      if isinstance(rle['counts'], list):
        rle = coco_mask.frPyObjects(rle, height, width)
      elif isinstance(rle['counts'], str):
        rle = dict(rle, counts=rle['counts'].encode('ascii'))
    else:
      raise SkippableError(
          f'segmentation of type {type(segmentation).__name__} is neither'
          ' polygons nor RLE.', file=file, item=item,
          fix='Export polygons or RLE.')
    mask = coco_mask.decode(rle)
  except (ExportError, SkippableError):
    raise
  except Exception as e:  # pycocotools raises bare TypeError/ValueError.
    raise SkippableError(f'segmentation could not be decoded ({e}).',
                         file=file, item=item,
                         fix='Re-export the annotation.') from e
  if mask.ndim == 3:
    mask = mask.max(axis=2)
  return mask.astype(np.uint8)


def read_index_png(data: bytes, *, file: str) -> np.ndarray:
  """Reads a single-channel index PNG (palette `P` or grayscale `L`).

  Returns the raw indices as an (H, W) uint8 array. Pillow keeps palette
  indices in mode `P`; converting to RGB would lose them.
  """
  try:
    with Image.open(io.BytesIO(data)) as im:
      if im.mode not in ('P', 'L'):
        raise ExportError(
            f'mask PNG is in mode {im.mode}, expected a palette (P) or'
            ' grayscale (L) image of class indices.', file=file,
            fix='Export masks as indexed PNGs (VOC SegmentationClass style).')
      return np.asarray(im, np.uint8).copy()
  except ExportError:
    raise
  except Exception as e:
    raise SkippableError(f'mask PNG could not be read ({e}).', file=file,
                         fix='Re-export the mask.') from e


def encode_png(mask: np.ndarray) -> bytes:
  """Encodes an (H, W) uint8 array as a single-channel PNG with Pillow.

  Pillow is used instead of the TFDS default (a TF graph per call) because it
  is several times faster for the many small per-object masks.
  """
  buffer = io.BytesIO()
  Image.fromarray(np.ascontiguousarray(mask, np.uint8)).save(buffer, format='PNG', compress_level=1)
  return buffer.getvalue()


def paint_semantic(height: int, width: int, layers) -> np.ndarray:
  """Builds the semantic mask from `(mask, value)` layers painted in order.

  A mask is an (H, W) array, or a box as a `(rows, columns)` tuple of slices.
  """
  semantic = np.zeros((height, width), np.uint8)
  for mask, value in layers:
    if isinstance(mask, tuple):
      semantic[mask] = value
      continue
    np.copyto(semantic, value, casting='unsafe',
              where=mask if mask.dtype == bool else mask.astype(bool))
  return semantic
