"""A synthetic Labelbox export (export v2 NDJSON) of Model 3 cars.

The sample the demo builds `labelbox_cars` from, offline: side views of cars
(body, glass, wheels, lights) in several colours on textured backgrounds
(noise, gradients, stripes, clouds) with clutter shapes that are not cars.
0-3 cars an image, 35-62% of its width, never overlapping. Most cars are
labelled with a polygon, some with a box, a few with a mask PNG; all media are
local (`images/`, `masks/`), so the build needs no network.

  python scripts/make_sample_export.py --output sample_export [--num_images
      300] [--seed 0]

(`scripts/make_sample_export.py` is the command; this module is the code,
so tests and fixtures import it like any other part of the package.)

Deterministic: the same seed gives the same bytes, and image i does not
depend on how many images are written.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import pathlib

import numpy as np
from PIL import Image, ImageDraw

PROJECT_ID = 'csampleproject0000000000'
CLASS_NAME = 'Model 3'
# Tesla paint colours: Pearl White, Solid Black, Midnight Silver, Deep Blue,
# Red Multi-Coat, Quicksilver.
COLOURS = [(236, 236, 232), (22, 22, 24), (92, 96, 102), (28, 58, 128),
           (172, 20, 28), (170, 172, 176)]
KINDS = ('polygon', 'box', 'mask')
KIND_WEIGHTS = (0.80, 0.12, 0.08)
CAR_COUNT_WEIGHTS = (0.10, 0.45, 0.30, 0.15)  # 0, 1, 2, 3 cars


def cuid(*parts) -> str:
  """A Labelbox-like 25-character id, derived from `parts`."""
  return 'c' + hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


# The car, facing right, in fractions of its length (x) and height (y).
_ROOF = [(0.985, 0.50), (0.72, 0.40), (0.53, 0.04), (0.38, 0.0),
         (0.22, 0.12), (0.07, 0.36), (0.0, 0.44), (0.0, 0.72)]
_GLASS = [(0.68, 0.41), (0.52, 0.09), (0.39, 0.07), (0.25, 0.17),
          (0.15, 0.38)]
_WHEELS = (0.19, 0.79)  # centres along the length


def car_shape(x0: float, y0: float, length: float, height: float,
              facing_right: bool):
  """Silhouette polygon, glass polygon and wheel circles of one car."""
  radius = 0.075 * length
  centre_y = y0 + height - radius
  bottom = y0 + 0.80 * height

  def point(fx, fy):
    fx = fx if facing_right else 1 - fx
    return (x0 + fx * length, y0 + fy * height)

  # Bottom edge from rear to front, dipping round the lower part of each
  # wheel; then the roof line from the front back to the rear bumper.
  outline = [point(0.03, 0.80)]
  for centre in _WHEELS:
    cx = point(centre, 0)[0]
    dip = math.acos(min(1.0, (bottom - centre_y) / radius))
    for k in range(13):
      a = -dip + 2 * dip * k / 12
      s = math.sin(a) if facing_right else -math.sin(a)
      outline.append((cx + s * radius, centre_y + math.cos(a) * radius))
  outline += [point(0.975, 0.80), point(1.0, 0.62)]
  outline += [point(fx, fy) for fx, fy in _ROOF]
  glass = [point(fx, fy) for fx, fy in _GLASS]
  wheels = [(point(c, 0)[0], centre_y, radius) for c in _WHEELS]
  return outline, glass, wheels


def draw_car(draw: ImageDraw.ImageDraw, colour, shape, facing_right: bool):
  outline, glass, wheels = shape
  xs, ys = zip(*outline)
  length = max(xs) - min(xs)
  draw.polygon(outline, fill=colour)
  draw.polygon(glass, fill=(38, 46, 58))
  for cx, cy, r in wheels:
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(18, 18, 18))
    draw.ellipse([cx - 0.55 * r, cy - 0.55 * r, cx + 0.55 * r,
                  cy + 0.55 * r], fill=(150, 152, 158))
  front = max(xs) if facing_right else min(xs)
  rear = min(xs) if facing_right else max(xs)
  light_y = min(ys) + 0.55 * (max(ys) - min(ys))
  w = 0.05 * length
  sign = 1 if facing_right else -1
  draw.ellipse(sorted_box(front - sign * 2.2 * w, light_y - 0.4 * w,
                          front - sign * 0.6 * w, light_y + 0.3 * w),
               fill=(250, 246, 220))
  draw.rectangle(sorted_box(rear + sign * 0.2 * w, light_y - 0.6 * w,
                            rear + sign * 1.4 * w, light_y),
                 fill=(200, 16, 20))


def sorted_box(x0, y0, x1, y1):
  return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def background(rng: np.random.Generator, width: int, height: int):
  """A textured background: noise, a gradient, stripes or clouds."""
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
  a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
  kind = rng.integers(4)
  if kind == 0:  # gradient at a random angle
    angle = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(angle) + yy * np.sin(angle)
    t = (t - t.min()) / (np.ptp(t) + 1e-6)
  elif kind == 1:  # stripes
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 30)
    t = (np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi /
                period) > 0).astype(np.float32)
  elif kind == 2:  # clouds: upsampled coarse noise
    coarse = rng.random((4 + rng.integers(6), 4 + rng.integers(6)))
    t = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize(
        (width, height), Image.BICUBIC), np.float32) / 255
  else:  # plain, with strong noise added below
    t = np.zeros((height, width), np.float32)
  pixels = a + (b - a) * t[..., None]
  pixels += rng.normal(0, rng.uniform(4, 30), pixels.shape)
  return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def clutter(rng: np.random.Generator, draw: ImageDraw.ImageDraw, width: int,
            height: int) -> None:
  """Shapes that are not cars: discs, rectangles, triangles, lines."""
  for _ in range(rng.integers(2, 9)):
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    x, y = rng.uniform(0, width), rng.uniform(0, height)
    size = rng.uniform(0.05, 0.3) * width
    kind = rng.integers(4)
    if kind == 0:
      draw.ellipse([x, y, x + size, y + size * rng.uniform(0.5, 1.5)],
                   fill=colour)
    elif kind == 1:
      draw.rectangle([x, y, x + size * rng.uniform(0.3, 1), y + size],
                     fill=colour)
    elif kind == 2:
      draw.polygon([(x, y), (x + size, y + rng.uniform(-1, 1) * size),
                    (x + rng.uniform(0, 1) * size, y + size)], fill=colour)
    else:
      draw.line([(x, y), (x + size * rng.uniform(-1, 1), y + size)],
                fill=colour, width=int(rng.integers(1, 5)))


def place_cars(rng: np.random.Generator, width: int, height: int,
               max_width: float):
  """Up to 3 non-overlapping (x0, y0, length, height, facing_right)."""
  count = rng.choice(4, p=CAR_COUNT_WEIGHTS)
  cars, boxes = [], []
  for _ in range(count):
    for _ in range(20):
      length = rng.uniform(0.35, max_width) * width
      car_height = length * rng.uniform(0.29, 0.36)
      x0 = rng.uniform(1, width - length - 1)
      y0 = rng.uniform(1, height - car_height - 1)
      box = (x0 - 2, y0 - 2, x0 + length + 2, y0 + car_height + 2)
      if all(box[2] < b[0] or b[2] < box[0] or box[3] < b[1] or b[3] < box[1]
             for b in boxes):
        boxes.append(box)
        cars.append((x0, y0, length, car_height, bool(rng.integers(2))))
        break
  return cars


def make_image(seed: int, index: int, min_width: int, max_width: int,
               kinds=None):
  """(JPEG bytes, width, height, objects, mask PNGs) of image `index`."""
  rng = np.random.default_rng([seed, index])
  width = int(rng.integers(min_width, max_width + 1))
  height = round(width * 3 / 4)
  image = background(rng, width, height)
  draw = ImageDraw.Draw(image)
  clutter(rng, draw, width, height)
  objects, mask_files = [], {}
  for n, (x0, y0, length, car_h, right) in enumerate(
      place_cars(rng, width, height, 0.62 if width >= 120 else 0.45)):
    shape = car_shape(x0, y0, length, car_h, right)
    shadow_y = y0 + car_h
    draw.ellipse([x0 + 0.05 * length, shadow_y - 0.04 * car_h,
                  x0 + 0.95 * length, shadow_y + 0.08 * car_h],
                 fill=(30, 30, 30))
    draw_car(draw, COLOURS[rng.integers(len(COLOURS))], shape, right)
    mask = Image.new('L', (width, height), 0)
    mask_draw = ImageDraw.Draw(mask)
    mask_draw.polygon(shape[0], fill=255)
    for cx, cy, r in shape[2]:
      mask_draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    kind = (kinds[(index + n) % len(kinds)] if kinds else
            KINDS[rng.choice(len(KINDS), p=KIND_WEIGHTS)])
    feature_id = cuid(seed, index, n, 'feature')
    obj = {'feature_id': feature_id, 'feature_schema_id': cuid('schema'),
           'name': CLASS_NAME, 'value': 'model_3', 'classifications': []}
    if kind == 'polygon':
      obj['annotation_kind'] = 'ImagePolygon'
      points = [{'x': round(x, 2), 'y': round(y, 2)} for x, y in shape[0]]
      obj['polygon'] = points + [points[0]]
    elif kind == 'box':
      cols = np.flatnonzero(np.asarray(mask).any(axis=0))
      rows = np.flatnonzero(np.asarray(mask).any(axis=1))
      obj['annotation_kind'] = 'ImageBoundingBox'
      obj['bounding_box'] = {
          'top': int(rows[0]), 'left': int(cols[0]),
          'height': int(rows[-1] + 1 - rows[0]),
          'width': int(cols[-1] + 1 - cols[0])}
    else:
      obj['annotation_kind'] = 'ImageSegmentationMask'
      obj['mask'] = {'url': f'https://api.labelbox.com/api/v1/projects/'
                            f'{PROJECT_ID}/annotations/{feature_id}/index/1/'
                            'mask'}
      mask_files[f'{feature_id}.png'] = png(mask)
    objects.append(obj)
  pixels = np.asarray(image, np.float32)
  pixels += rng.normal(0, 3, pixels.shape)
  buffer = io.BytesIO()
  Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
      buffer, format='JPEG', quality=90)
  return buffer.getvalue(), width, height, objects, mask_files


def png(image: Image.Image) -> bytes:
  buffer = io.BytesIO()
  image.save(buffer, format='PNG')
  return buffer.getvalue()


def export_row(seed: int, index: int, width: int, height: int,
               objects: list) -> dict:
  name = f'car_{index:04d}.jpg'
  return {
      'data_row': {'id': cuid(seed, index), 'global_key': name,
                   'external_id': name,
                   'row_data': f'https://example.com/labelbox-sample/{name}'},
      'media_attributes': {'height': height, 'width': width,
                           'asset_type': 'image', 'mime_type': 'image/jpeg'},
      'projects': {PROJECT_ID: {
          'name': 'Model 3 cars (synthetic sample)',
          'labels': [{
              'id': cuid(seed, index, 'label'), 'label_kind': 'Default',
              'version': '1.0.0',
              'annotations': {
                  'objects': objects, 'relationships': [],
                  'classifications': [{
                      'feature_id': cuid(seed, index, 'weather'),
                      'name': 'weather', 'value': 'weather',
                      'radio_answer': {'name': 'sunny', 'value': 'sunny',
                                       'classifications': []}}]}}]}}}


def write_export(output: pathlib.Path, num_images: int, seed: int,
                 min_width: int = 160, max_width: int = 256,
                 kinds=None) -> dict:
  """Writes `export.ndjson`, `images/`, `masks/`; returns counts."""
  (output / 'images').mkdir(parents=True, exist_ok=True)
  (output / 'masks').mkdir(exist_ok=True)
  lines, cars = [], 0
  for index in range(num_images):
    jpeg, width, height, objects, mask_files = make_image(
        seed, index, min_width, max_width, kinds)
    (output / 'images' / f'car_{index:04d}.jpg').write_bytes(jpeg)
    for name, data in mask_files.items():
      (output / 'masks' / name).write_bytes(data)
    lines.append(json.dumps(export_row(seed, index, width, height, objects),
                            separators=(',', ':')))
    cars += len(objects)
  (output / 'export.ndjson').write_text('\n'.join(lines) + '\n')
  return {'images': num_images, 'cars': cars}
