"""Boxes: pixel coordinates in, TFDS relative `[ymin, xmin, ymax, xmax]` out."""

from __future__ import annotations

import math
from typing import Sequence

import tensorflow_datasets as tfds

from tfds_builders.core.errors import SkippableError

PixelBox = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax


def box_from_xywh(x: float, y: float, w: float, h: float) -> PixelBox:
  return (x, y, x + w, y + h)


def box_from_relative(box: Sequence[float], width: int,
                      height: int) -> PixelBox:
  """Pixels from fractions `xmin, ymin, xmax, ymax` of the image size.

  In float64 `x * width / width == x` exactly for float32 fractions, so a
  relative box survives the trip through pixels bit for bit.
  """
  xmin, ymin, xmax, ymax = (float(v) for v in box)
  return (xmin * width, ymin * height, xmax * width, ymax * height)


def rotated_box(box: PixelBox, degrees: float) -> list[float]:
  """The corners `[x0, y0, ...]` of `box` turned by `degrees` (clockwise on
  screen, as CVAT's `rotation` attribute) around its centre."""
  xmin, ymin, xmax, ymax = box
  cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
  angle = math.radians(degrees)
  cos, sin = math.cos(angle), math.sin(angle)
  corners = ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax))
  return [v for x, y in corners for v in (
      cx + (x - cx) * cos - (y - cy) * sin,
      cy + (x - cx) * sin + (y - cy) * cos)]


def box_from_points(xs: Sequence[float], ys: Sequence[float]) -> PixelBox:
  return (min(xs), min(ys), max(xs), max(ys))


def to_relative_bbox(box: PixelBox, width: int, height: int, *, file: str,
                     item: str) -> tuple[tfds.features.BBox, bool]:
  """Converts a pixel box to a clipped relative `tfds.features.BBox`.

  Returns the box and whether clipping moved an edge by more than half a
  pixel. Raises SkippableError for
  boxes that cannot be repaired: non-finite, inverted, zero-area, or entirely
  outside the image.
  """
  xmin, ymin, xmax, ymax = (float(v) for v in box)
  if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
    raise SkippableError(f'box {box} has a non-finite coordinate.', file=file,
                         item=item, fix='Fix or delete the box in the tool.')
  if xmin > xmax or ymin > ymax:
    raise SkippableError(
        f'box is inverted (xmin={xmin:g}, xmax={xmax:g}, ymin={ymin:g},'
        f' ymax={ymax:g}).', file=file, item=item,
        fix='Swap the coordinates or redraw the box.')
  if xmax <= 0 or ymax <= 0 or xmin >= width or ymin >= height:
    raise SkippableError(
        f'box {format_box(box)} lies entirely outside the {width}x{height} image.',
        file=file, item=item, fix='Redraw the box inside the image.')
  clipped = (max(xmin, 0.0), max(ymin, 0.0), min(xmax, float(width)),
             min(ymax, float(height)))
  # Sub-pixel overshoot (float round-off, 1-based VOC maxima) is not news.
  changed = max(abs(a - b) for a, b in zip(clipped, (xmin, ymin, xmax,
                                                      ymax))) > 0.5
  if clipped[2] - clipped[0] <= 0 or clipped[3] - clipped[1] <= 0:
    raise SkippableError(f'box {format_box(box)} has zero area.', file=file,
                         item=item, fix='Redraw the box or delete it.')
  bbox = tfds.features.BBox(
      ymin=clipped[1] / height, xmin=clipped[0] / width,
      ymax=clipped[3] / height, xmax=clipped[2] / width)
  return bbox, changed


def iou(a: PixelBox, b: PixelBox) -> float:
  """Intersection over union of two pixel boxes."""
  inter_w = min(a[2], b[2]) - max(a[0], b[0])
  inter_h = min(a[3], b[3]) - max(a[1], b[1])
  inter = max(inter_w, 0.0) * max(inter_h, 0.0)
  union = ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
           - inter)
  return inter / union if union > 0 else 0.0


# A box and its own segmentation's extent disagree below this IoU...
DISAGREEING_IOU = 0.9
# ...unless no edge is further apart than this: a small object's box drawn
# a pixel wider than its mask (VOC masks leave out a boundary line) is not
# a disagreement, though its IoU can fall below 0.9.
AGREEING_EDGE_PIXELS = 2.0


def disagree(box: PixelBox, extent: PixelBox) -> bool:
  """Whether a given box and its segmentation's extent tell two stories."""
  if iou(box, extent) >= DISAGREEING_IOU:
    return False
  return max(abs(a - b) for a, b in zip(box, extent)) > AGREEING_EDGE_PIXELS


def format_box(box: PixelBox) -> str:
  return '[' + ', '.join(f'{v:g}' for v in box) + ']'
