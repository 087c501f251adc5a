"""Writes the tiny fixture exports under dummy_data/ (run once, committed).

Deterministic: same bytes every run, so fixture changes show up in review.
  python scripts/make_dummy_data.py [--only voc|coco]
"""

from __future__ import annotations

import argparse
import io
import json
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


def coco_json(images, annotations, categories) -> str:
  return json.dumps({'info': {'description': 'tfds_builders fixture'},
                     'images': images, 'annotations': annotations,
                     'categories': categories}, indent=1) + '\n'


def coco_image(image_id, file_name: str, width: int = 40,
               height: int = 30) -> dict:
  return {'id': image_id, 'file_name': file_name, 'width': width,
          'height': height}


def coco_ann(ann_id: int, image_id, category_id: int, bbox, segmentation,
             area=None, iscrowd: int = 0) -> dict:
  ann = {'id': ann_id, 'image_id': image_id, 'category_id': category_id,
         'bbox': bbox, 'segmentation': segmentation, 'iscrowd': iscrowd}
  if area is not None:
    ann['area'] = area
  return ann


def compressed_rle(mask: np.ndarray) -> dict:
  from pycocotools import mask as coco_mask  # pylint: disable=g-import-not-at-top
  rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
  return {'size': list(rle['size']), 'counts': rle['counts'].decode('ascii')}


def uncompressed_rle(mask: np.ndarray) -> dict:
  """COCO's list RLE: run lengths in column-major order, zeros first."""
  flat = mask.astype(np.uint8).flatten(order='F')
  changes = np.flatnonzero(np.diff(flat)) + 1
  runs = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
  if flat[0]:
    runs = [0] + runs
  return {'size': list(mask.shape), 'counts': runs}


def make_coco() -> None:
  """COCO layouts; the masks are described in tests/test_coco_export.py."""
  out = ROOT / 'coco'
  shutil.rmtree(out, ignore_errors=True)
  # 1. Official: annotations/instances_*.json + train2017/ + val2017/;
  #    category ids with gaps, multi-part polygon, both RLE forms, a crowd,
  #    an image without annotations, a box-only object, two unusable boxes.
  official = out / 'official'
  categories = [{'id': 1, 'name': 'person', 'supercategory': 'human'},
                {'id': 3, 'name': 'car', 'supercategory': 'vehicle'},
                {'id': 7, 'name': 'dog', 'supercategory': 'animal'}]
  car = np.zeros((30, 40), np.uint8)
  car[15:25, 20:35] = 1
  car[18:20, 25:27] = 0  # a hole: 146 pixels
  crowd = np.zeros((30, 40), np.uint8)
  crowd[0:10, 0:10] = 1
  for i in (1, 2, 3, 99):
    write(official / 'train2017' / f'{i:012d}.jpg', jpeg(40, 30, 30 + i))
  train_images = [coco_image(i, f'{i:012d}.jpg') for i in (1, 2, 3)]
  train_annotations = [
      coco_ann(101, 1, 1, [2, 2, 14, 10],
               [[2, 2, 10, 2, 10, 12, 2, 12], [12, 2, 16, 2, 16, 6, 12, 6]],
               area=96.0),
      coco_ann(102, 1, 3, [20, 15, 15, 10], compressed_rle(car), area=146),
      coco_ann(201, 2, 1, [0, 0, 10, 10], uncompressed_rle(crowd), area=100,
               iscrowd=1),
      coco_ann(202, 2, 7, [20, 10, 15, 15], [[20, 10, 35, 10, 35, 25, 20, 25]]),
  ]
  write(official / 'annotations' / 'instances_train2017.json',
        coco_json(train_images, train_annotations, categories))
  for i in (10, 11):
    write(official / 'val2017' / f'{i:012d}.jpg', jpeg(40, 30, 30 + i))
  write(official / 'annotations' / 'instances_val2017.json', coco_json(
      [coco_image(i, f'{i:012d}.jpg') for i in (10, 11)],
      [coco_ann(1001, 10, 3, [5, 5, 10, 10], [], area=100),
       coco_ann(1002, 11, 7, [0, 0, 39, 29], [[0, 0, 39, 0, 39, 29]]),
       coco_ann(1003, 11, 1, [10, 10, 0, 0], [], area=0),
       coco_ann(1004, 11, 1, [100, 100, 5, 5], [], area=25)],
      categories))
  write(official / 'annotations' / 'captions_train2017.json', json.dumps(
      {'images': train_images,
       'annotations': [{'id': 1, 'image_id': 1, 'caption': 'A test.'}]}))
  # 2. Roboflow "COCO": one folder per split, JSON beside the images, image
  #    ids from 0 in every split, the workspace category 0 that labels nothing.
  roboflow = out / 'roboflow'
  categories = [{'id': 0, 'name': 'shapes', 'supercategory': 'none'},
                {'id': 1, 'name': 'circle', 'supercategory': 'shapes'},
                {'id': 2, 'name': 'square', 'supercategory': 'shapes'}]
  splits = {'train': ['a', 'b'], 'valid': ['c'], 'test': ['d']}
  for split, stems in splits.items():
    images, annotations = [], []
    for i, stem in enumerate(stems):
      name = f'{stem}_jpg.rf.{i:04d}.jpg'
      write(roboflow / split / name, jpeg(32, 24, ord(stem)))
      images.append(coco_image(i, name, 32, 24))
      annotations.append(coco_ann(2 * i, i, 1, [4, 4, 8, 8], [], area=64))
      annotations.append(coco_ann(2 * i + 1, i, 2, [16, 8, 10, 10],
                                  [[16, 8, 26, 8, 26, 18, 16, 18]], area=100))
    write(roboflow / split / '_annotations.coco.json',
          coco_json(images, annotations, categories))
  write(roboflow / 'README.roboflow.txt', 'Exported from roboflow.com\n')
  # 3. One JSON at the root + images/: category ids from 0 with gaps, a
  #    category nothing uses, a missing image file, an image not listed.
  single = out / 'single'
  categories = [{'id': 0, 'name': 'cat', 'supercategory': 'animal'},
                {'id': 2, 'name': 'dog', 'supercategory': 'animal'},
                {'id': 5, 'name': 'bird', 'supercategory': 'animal'}]
  images, annotations = [], []
  for i in range(6):
    name = f'img_{i}.jpg'
    if i != 5:
      write(single / 'images' / name, jpeg(24, 16, 70 + i))
    images.append(coco_image(100 + i, name, 24, 16))
    annotations.append(coco_ann(i, 100 + i, 0 if i % 2 else 2, [2, 2, 10, 8],
                                [[2, 2, 12, 2, 12, 10, 2, 10]], area=80))
  write(single / 'instances.json', coco_json(images, annotations, categories))
  write(single / 'images' / 'not_listed.jpg', jpeg(16, 16, 98))
  # 4. CVAT "COCO 1.0": annotations/instances_default.json + images/ with
  #    file names in sub-folders.
  cvat = out / 'cvat'
  for i in range(2):
    write(cvat / 'images' / 'job_1' / f'frame_{i:06d}.jpg',
          jpeg(32, 24, 80 + i))
  write(cvat / 'annotations' / 'instances_default.json', coco_json(
      [coco_image(i + 1, f'job_1/frame_{i:06d}.jpg', 32, 24) for i in range(2)],
      [coco_ann(i + 1, i + 1, 1, [1.5, 2.5, 20.25, 10.0], [], area=202.5)
       for i in range(2)],
      [{'id': 1, 'name': 'car', 'supercategory': ''}]))


if __name__ == '__main__':
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--only', choices=['voc', 'coco'], default=None)
  args = parser.parse_args()
  if args.only in (None, 'voc'):
    make_voc()
  if args.only in (None, 'coco'):
    make_coco()
