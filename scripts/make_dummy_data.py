"""Writes the tiny fixture exports under dummy_data/ (run once, committed).

Deterministic: same bytes every run, so fixture changes show up in review.
  python scripts/make_dummy_data.py [--only voc]
"""

from __future__ import annotations

import argparse
import io
import pathlib
import shutil

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent / 'dummy_data'


def jpeg(width: int, height: int, seed: int) -> bytes:
  rng = np.random.default_rng(seed)
  pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format='JPEG', quality=70)
  return buffer.getvalue()


def palette_png(indices: np.ndarray) -> bytes:
  im = Image.fromarray(indices.astype(np.uint8), mode='P')
  palette = []
  for i in range(256):
    palette += [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256]
  im.putpalette(palette)
  buffer = io.BytesIO()
  im.save(buffer, format='PNG')
  return buffer.getvalue()


def voc_xml(filename: str, width: int, height: int, objects: list[str],
            folder: str = 'images') -> str:
  body = ''.join(objects)
  return (f'<annotation>\n  <folder>{folder}</folder>\n'
          f'  <filename>{filename}</filename>\n'
          f'  <size><width>{width}</width><height>{height}</height>'
          f'<depth>3</depth></size>\n{body}</annotation>\n')


def box_object(name: str, box, difficult: int | None = 0,
               truncated: int | None = 0) -> str:
  tags = ''
  if difficult is not None:
    tags += f'<difficult>{difficult}</difficult>'
  if truncated is not None:
    tags += f'<truncated>{truncated}</truncated>'
  xmin, ymin, xmax, ymax = box
  return (f'  <object><name>{name}</name><pose>Unspecified</pose>{tags}'
          f'<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax>'
          f'<ymax>{ymax}</ymax></bndbox></object>\n')


def polygon_object(name: str, points) -> str:
  pts = ''.join(f'<pt><x>{x}</x><y>{y}</y></pt>' for x, y in points)
  return f'  <object><name>{name}</name><polygon>{pts}</polygon></object>\n'


def write(path: pathlib.Path, data) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  if isinstance(data, str):
    path.write_text(data)
  else:
    path.write_bytes(data)


def make_voc() -> None:
  out = ROOT / 'voc'
  shutil.rmtree(out, ignore_errors=True)
  # 1. VOCdevkit with split lists and palette segmentation PNGs.
  voc = out / 'vocdevkit' / 'VOCdevkit' / 'VOC2012'
  for i, stem in enumerate(['2007_000001', '2007_000002', '2007_000003']):
    write(voc / 'JPEGImages' / f'{stem}.jpg', jpeg(40, 30, i))
    objects = [box_object('cat', (4, 5, 20, 25), difficult=i % 2),
               box_object('dog', (22.5, 3.5, 39, 29), truncated=1)]
    write(voc / 'Annotations' / f'{stem}.xml',
          voc_xml(f'{stem}.jpg', 40, 30, objects, folder='VOC2012'))
    classes = np.zeros((30, 40), np.uint8)
    classes[5:25, 4:20] = 1  # cat (index 1 in the sorted class list)
    classes[3:29, 23:39] = 2  # dog
    classes[4, 4:20] = 255  # a void boundary line
    write(voc / 'SegmentationClass' / f'{stem}.png', palette_png(classes))
    instances = np.zeros((30, 40), np.uint8)
    instances[5:25, 4:20] = 1
    instances[3:29, 23:39] = 2
    write(voc / 'SegmentationObject' / f'{stem}.png', palette_png(instances))
  write(voc / 'ImageSets' / 'Main' / 'train.txt', '2007_000001\n2007_000002\n')
  write(voc / 'ImageSets' / 'Main' / 'val.txt', '2007_000003\n')
  write(voc / 'ImageSets' / 'Main' / 'cat_train.txt', '2007_000001  1\n')
  # 2. Flat Annotations/ + JPEGImages/: odd file names and a sub-folder.
  flat = out / 'flat'
  names = ['street scene 1.jpg', 'frame.2020.01.01.jpg', 'sub/dir/img 3.jpg']
  for i, name in enumerate(names):
    write(flat / 'JPEGImages' / name, jpeg(32, 24, 10 + i))
    stem = name.rsplit('.', 1)[0]
    objects = [box_object('car', (2, 3, 30, 20), difficult=None,
                          truncated=None)]
    write(flat / 'Annotations' / f'{stem}.xml',
          voc_xml(name.split('/')[-1], 32, 24, objects))
  # 3. labelImg: annotations/ + images/, polygons, labels.txt, no splits.
  labelimg = out / 'labelimg'
  write(labelimg / 'labels.txt', 'person\nbicycle\n')
  for i in range(5):
    write(labelimg / 'images' / f'photo_{i}.jpg', jpeg(48, 32, 20 + i))
    objects = [box_object('person', (10, 4, 20, 30)),
               polygon_object('bicycle', [(24, 10), (44, 10), (44, 28),
                                          (24, 28)])]
    write(labelimg / 'annotations' / f'photo_{i}.xml',
          voc_xml(f'photo_{i}.jpg', 48, 32, objects))
  write(labelimg / 'images' / 'not_annotated.jpg', jpeg(16, 16, 99))


if __name__ == '__main__':
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--only', choices=['voc'], default=None)
  args = parser.parse_args()
  if args.only in (None, 'voc'):
    make_voc()
