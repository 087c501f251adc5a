"""Synthetic VOC and COCO exports of photo-like JPEGs, for the benchmark.

Images are 640x480 JPEGs of 60-150 KB, like phone photos: a smooth
multi-scale colour field (the 1/f look of natural scenes), a few textured
objects, and sensor grain. Pure noise would compress badly (300+ KB) and flat
colour far too well (5 KB), and either would skew decode and I/O costs.

Each image has 1-5 objects, with a box each and a polygon outline for about
a third of them. The VOC export is labelImg style (`annotations/*.xml` +
`images/`), the COCO export CVAT style (`annotations/instances_default.json`
+ `images/`); both hard-link the same image files and, having no split lists,
get the builders' 80/20 hashed train/test split.

Deterministic: image i depends only on the seed and i, not on N.
"""

from __future__ import annotations

import io
import json
import math
import multiprocessing
import os
import pathlib
import shutil

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 640, 480
CLASSES = ('person', 'car', 'dog', 'bicycle', 'chair')
_TILE = 1024


def image_and_objects(seed: int, index: int, tiles):
  """Returns (JPEG bytes, objects); objects are (class, box, polygon|None).

  `tiles` (from `texture_tiles`) holds shared texture and grain, cropped at a
  random offset per image: cheap, and every image still differs.
  """
  rng = np.random.default_rng([seed, index])
  small = np.zeros((120, 160, 3), np.float32)
  for cells, weight in ((4, 1.0), (12, 0.5), (40, 0.3)):
    octave = rng.uniform(-1, 1, (cells * 3 // 4, cells, 1)) * (
        1 + rng.uniform(-0.3, 0.3, (1, 1, 3)))  # mostly luminance
    small += weight * np.asarray(Image.fromarray(
        ((octave + 1) * 127.5).clip(0, 255).astype(np.uint8)).resize(
            (160, 120), Image.BICUBIC), np.float32)
  tint = rng.uniform(60, 200, 3)
  small = tint + (small / 1.8 - 127.5) * rng.uniform(0.6, 1.2)
  canvas = Image.fromarray(small.clip(0, 255).astype(np.uint8)).resize(
      (WIDTH, HEIGHT), Image.BICUBIC)
  draw = ImageDraw.Draw(canvas)
  objects = []
  for _ in range(int(rng.integers(1, 6))):
    cx, cy = rng.uniform(60, WIDTH - 60), rng.uniform(60, HEIGHT - 60)
    rx, ry = rng.uniform(20, 150), rng.uniform(20, 120)
    angles = np.sort(rng.uniform(0, 2 * math.pi, int(rng.integers(6, 13))))
    radii = rng.uniform(0.6, 1.0, angles.size)
    xs = np.clip(cx + rx * radii * np.cos(angles), 0, WIDTH - 1).round(1)
    ys = np.clip(cy + ry * radii * np.sin(angles), 0, HEIGHT - 1).round(1)
    points = [(float(x), float(y)) for x, y in zip(xs, ys)]
    colour = rng.integers(30, 226, 3)
    draw.polygon(points, fill=tuple(int(c) for c in colour))
    for _ in range(6):  # some structure inside the object
      x, y = points[int(rng.integers(len(points)))]
      shade = np.clip(colour + rng.integers(-50, 50, 3), 0, 255)
      draw.line([(x, y), (cx, cy)], fill=tuple(int(c) for c in shade),
                width=int(rng.integers(2, 7)))
    box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    polygon = [v for p in points for v in p] if rng.uniform() < 0.35 else None
    objects.append((CLASSES[int(rng.integers(len(CLASSES)))], box, polygon))
  texture, grain = tiles
  y0 = int(rng.integers(0, _TILE - HEIGHT))
  x0 = int(rng.integers(0, _TILE - WIDTH))
  detail = (rng.uniform(0.7, 2.4) * texture[y0:y0 + HEIGHT, x0:x0 + WIDTH] +
            rng.uniform(0.5, 1.5) * grain[y0:y0 + HEIGHT, x0:x0 + WIDTH])
  pixels = np.asarray(canvas, np.int16) + detail.astype(np.int16)
  buffer = io.BytesIO()
  Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
      buffer, format='JPEG', quality=90)
  return buffer.getvalue(), objects


def texture_tiles(seed: int):
  """Mid-frequency texture and pixel grain, (TILE, TILE, 1) float32 each."""
  rng = np.random.default_rng([seed, 1 << 16])
  noise = rng.uniform(0, 255, (_TILE, _TILE)).astype(np.uint8)
  blurred = np.asarray(Image.fromarray(noise).filter(
      ImageFilter.GaussianBlur(1.5)), np.float32)
  texture = (blurred - blurred.mean()) * (10 / blurred.std())
  grain = rng.standard_normal((_TILE, _TILE), np.float32) * 3
  return texture[..., None], grain[..., None]


def _write_one(args):
  seed, index, folder = args
  data, objects = image_and_objects(seed, index, _write_one.tiles)
  (pathlib.Path(folder) / image_name(index)).write_bytes(data)
  return index, objects


def _init_worker(seed: int):
  _write_one.tiles = texture_tiles(seed)


def image_name(index: int) -> str:
  return f'img_{index:06d}.jpg'


def write_image_pool(folder: pathlib.Path, count: int, seed: int,
                     workers: int = 2) -> list:
  """Writes images 0..count-1 into `folder` (reusing a complete earlier run)
  and returns their objects."""
  done = folder / f'objects_{count}_{seed}.json'
  if done.is_file():
    return json.loads(done.read_text())
  folder.mkdir(parents=True, exist_ok=True)
  jobs = [(seed, i, str(folder)) for i in range(count)]
  with multiprocessing.get_context('fork').Pool(
      workers, _init_worker, (seed,)) as pool:
    results = sorted(pool.imap_unordered(_write_one, jobs, chunksize=16))
  objects = [o for _, o in results]
  done.write_text(json.dumps(objects))
  return objects


def _link_images(pool: pathlib.Path, images_dir: pathlib.Path, count: int):
  images_dir.mkdir(parents=True, exist_ok=True)
  for i in range(count):
    target = images_dir / image_name(i)
    if not target.exists():
      try:
        os.link(pool / image_name(i), target)
      except OSError:  # another filesystem: copy instead
        shutil.copyfile(pool / image_name(i), target)


def write_voc(root: pathlib.Path, pool: pathlib.Path, objects: list) -> None:
  _link_images(pool, root / 'images', len(objects))
  (root / 'annotations').mkdir(parents=True, exist_ok=True)
  for i, image_objects in enumerate(objects):
    parts = [f'<annotation><folder>images</folder><filename>{image_name(i)}'
             f'</filename><size><width>{WIDTH}</width><height>{HEIGHT}'
             '</height><depth>3</depth></size><segmented>0</segmented>']
    for name, (x0, y0, x1, y1), polygon in image_objects:
      parts.append(
          f'<object><name>{name}</name><pose>Unspecified</pose>'
          '<truncated>0</truncated><difficult>0</difficult><bndbox>'
          f'<xmin>{x0:g}</xmin><ymin>{y0:g}</ymin><xmax>{x1:g}</xmax>'
          f'<ymax>{y1:g}</ymax></bndbox>')
      if polygon:
        parts.append('<polygon>' + ''.join(
            f'<pt><x>{x:g}</x><y>{y:g}</y></pt>'
            for x, y in zip(polygon[0::2], polygon[1::2])) + '</polygon>')
      parts.append('</object>')
    parts.append('</annotation>\n')
    (root / 'annotations' / f'img_{i:06d}.xml').write_text(''.join(parts))


def write_coco(root: pathlib.Path, pool: pathlib.Path, objects: list) -> None:
  _link_images(pool, root / 'images', len(objects))
  images, annotations = [], []
  for i, image_objects in enumerate(objects):
    images.append({'id': i + 1, 'file_name': image_name(i), 'width': WIDTH,
                   'height': HEIGHT})
    for name, (x0, y0, x1, y1), polygon in image_objects:
      annotations.append({
          'id': len(annotations) + 1, 'image_id': i + 1,
          'category_id': CLASSES.index(name) + 1,
          'bbox': [x0, y0, round(x1 - x0, 1), round(y1 - y0, 1)],
          'area': round((x1 - x0) * (y1 - y0), 1), 'iscrowd': 0,
          'segmentation': [polygon] if polygon else []})
  categories = [{'id': i + 1, 'name': n, 'supercategory': ''}
                for i, n in enumerate(CLASSES)]
  (root / 'annotations').mkdir(parents=True, exist_ok=True)
  (root / 'annotations' / 'instances_default.json').write_text(json.dumps(
      {'images': images, 'annotations': annotations,
       'categories': categories}))


def make_exports(work_dir: pathlib.Path, sizes: list[int], seed: int,
                 workers: int = 2) -> dict[int, dict[str, pathlib.Path]]:
  """Writes the VOC and COCO exports of every size; returns their paths."""
  pool = work_dir / 'image_pool'
  objects = write_image_pool(pool, max(sizes), seed, workers)
  exports = {}
  for size in sizes:
    voc, coco = work_dir / f'voc_{size}', work_dir / f'coco_{size}'
    if not (voc / 'annotations').is_dir():
      write_voc(voc, pool, objects[:size])
    if not (coco / 'annotations').is_dir():
      write_coco(coco, pool, objects[:size])
    exports[size] = {'voc': voc, 'coco': coco}
  return exports


def image_bytes(export: pathlib.Path) -> int:
  return sum(p.stat().st_size for p in (export / 'images').iterdir())
