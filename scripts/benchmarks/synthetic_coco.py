"""Writes a synthetic COCO export (tiny images, many annotations) and
measures the memory it takes to parse.

  python scripts/benchmarks/synthetic_coco.py /tmp/synthetic_coco --annotations 100000
  python scripts/benchmarks/synthetic_coco.py /tmp/synthetic_coco --measure

`--measure` runs, each in a fresh process after the same imports, (a) a bare
`json.load` of the file and (b) `coco.parse.parse_export` (the load plus the
image records), and prints the peak RSS of each above the imports: the
parser should cost little more than the JSON itself. The whole build is
measured with `/usr/bin/time -v tfds build coco_export ...`.
"""

from __future__ import annotations

import argparse
import io
import json
import pathlib
import subprocess
import sys

import numpy as np
from PIL import Image

_WIDTH, _HEIGHT = 64, 48
_CATEGORIES = [{'id': i, 'name': f'class_{i}', 'supercategory': 'thing'}
               for i in range(1, 81)]


def write_export(out: pathlib.Path, annotations: int, per_image: int) -> None:
  from pycocotools import mask as coco_mask  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  (out / 'images').mkdir(parents=True, exist_ok=True)
  jpegs = []
  for seed in range(8):
    buffer = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(
        0, 255, (_HEIGHT, _WIDTH, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format='JPEG', quality=70)
    jpegs.append(buffer.getvalue())
  n_images = -(-annotations // per_image)
  images = []
  for i in range(n_images):
    name = f'{i:08d}.jpg'
    (out / 'images' / name).write_bytes(jpegs[i % len(jpegs)])
    images.append({'id': i + 1, 'file_name': name, 'width': _WIDTH,
                   'height': _HEIGHT})
  anns = []
  for ann_id in range(1, annotations + 1):
    cx, cy = rng.uniform(8, _WIDTH - 8), rng.uniform(8, _HEIGHT - 8)
    crowd = ann_id % 10 == 0  # 1 in 10 is a crowd with compressed RLE
    if crowd:
      mask = np.zeros((_HEIGHT, _WIDTH), np.uint8, order='F')
      mask[int(cy) - 6:int(cy) + 6, int(cx) - 6:int(cx) + 6] = 1
      rle = coco_mask.encode(mask)
      segmentation = {'size': [_HEIGHT, _WIDTH],
                      'counts': rle['counts'].decode('ascii')}
      x0, y0, x1, y1 = int(cx) - 6, int(cy) - 6, int(cx) + 6, int(cy) + 6
    else:
      angles = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(8, 21)))
      radii = rng.uniform(3, 8, angles.size)
      xs = np.round(cx + radii * np.cos(angles), 2)
      ys = np.round(cy + radii * np.sin(angles), 2)
      segmentation = [np.column_stack([xs, ys]).ravel().tolist()]
      x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
    anns.append({'id': ann_id, 'image_id': (ann_id - 1) // per_image + 1,
                 'category_id': int(rng.integers(1, 81)),
                 'bbox': [float(x0), float(y0), float(x1 - x0),
                          float(y1 - y0)],
                 'area': float((x1 - x0) * (y1 - y0)), 'iscrowd': int(crowd),
                 'segmentation': segmentation})
  (out / 'instances.json').write_text(json.dumps(
      {'images': images, 'annotations': anns, 'categories': _CATEGORIES}))
  size = (out / 'instances.json').stat().st_size
  print(f'{out}: {n_images} images, {annotations} annotations,'
        f' instances.json {size / 1e6:.1f} MB')


_PROBE = """
import json, pathlib, sys
from tfds_builders.coco import parse
from tfds_builders.core.exportfs import ExportFiles
def status_mb(field):  # VmHWM: ru_maxrss would include the parent's peak
  for line in open('/proc/self/status'):
    if line.startswith(field + ':'):
      return int(line.split()[1]) / 1024
def rss_mb():
  return status_mb('VmRSS')
before = rss_mb()
root = pathlib.Path(sys.argv[2])
if sys.argv[1] == 'json':
  with open(root / 'instances.json') as f:
    kept = json.load(f)
else:
  kept = parse.parse_export(ExportFiles(root))
peak = status_mb('VmHWM')
print(f'{before:.0f} {peak:.0f} {rss_mb():.0f}')
"""


def measure(out: pathlib.Path) -> None:
  for what in ('json', 'parse'):
    result = subprocess.run([sys.executable, '-c', _PROBE, what, str(out)],
                            capture_output=True, text=True, check=True)
    before, peak, after = (float(v) for v in
                           result.stdout.split('\n')[-2].split())
    label = ('json.load alone' if what == 'json' else
             'parse_export (load + records)')
    print(f'{label:32s} peak RSS {peak:6.0f} MB = imports {before:4.0f} MB +'
          f' {peak - before:5.0f} MB; held after: {after - before:5.0f} MB')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('out', type=pathlib.Path)
  parser.add_argument('--annotations', type=int, default=100_000)
  parser.add_argument('--per_image', type=int, default=10)
  parser.add_argument('--measure', action='store_true',
                      help='measure an export written before')
  args = parser.parse_args()
  if not args.measure:
    write_export(args.out, args.annotations, args.per_image)
  else:
    measure(args.out)


if __name__ == '__main__':
  main()
