"""Writes the tiny fixture exports under dummy_data/ (run once, committed).

Deterministic: same bytes every run, so fixture changes show up in review.
  python scripts/make_dummy_data.py [--only voc|coco|tfod|labelbox]
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


def png_rgb(width: int, height: int, seed: int) -> bytes:
  rng = np.random.default_rng(seed)
  pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format='PNG')
  return buffer.getvalue()


def mask_png(mask: np.ndarray) -> bytes:
  buffer = io.BytesIO()
  Image.fromarray(mask.astype(np.uint8)).save(buffer, format='PNG')
  return buffer.getvalue()


def od_example(image: bytes, filename: str, width: int, height: int,
               objects: list[tuple], *, source_id: str | None = None,
               image_format: str = 'jpeg', text: bool = True,
               label: bool = True, extra: dict | None = None) -> bytes:
  """A serialized TF Object Detection API example.

  `objects` are `(class name, label id, (xmin, ymin, xmax, ymax) in pixels)`.
  """
  import hashlib  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  feature = tf.train.Feature
  bytes_list = lambda v: feature(bytes_list=tf.train.BytesList(value=v))
  int_list = lambda v: feature(int64_list=tf.train.Int64List(value=v))
  float_list = lambda v: feature(float_list=tf.train.FloatList(value=v))
  features = {
      'image/encoded': bytes_list([image]),
      'image/format': bytes_list([image_format.encode()]),
      'image/filename': bytes_list([filename.encode()]),
      'image/key/sha256': bytes_list(
          [hashlib.sha256(image).hexdigest().encode() if image else b'']),
      'image/height': int_list([height]),
      'image/width': int_list([width]),
  }
  if source_id is not None:
    features['image/source_id'] = bytes_list([source_id.encode()])
  if objects:
    boxes = np.asarray([box for _, _, box in objects], np.float64)
    for i, key in enumerate(('xmin', 'ymin', 'xmax', 'ymax')):
      size = width if key[0] == 'x' else height
      features[f'image/object/bbox/{key}'] = float_list(boxes[:, i] / size)
    if text:
      features['image/object/class/text'] = bytes_list(
          [name.encode() for name, _, _ in objects])
    if label:
      features['image/object/class/label'] = int_list(
          [label_id for _, label_id, _ in objects])
  for key, values in (extra or {}).items():
    if isinstance(values[0], bytes):
      features[key] = bytes_list(values)
    elif isinstance(values[0], (float, np.floating)):
      features[key] = float_list(values)
    else:
      features[key] = int_list(values)
  example = tf.train.Example(features=tf.train.Features(feature=features))
  return example.SerializeToString(deterministic=True)


def write_records(path: pathlib.Path, examples: list[bytes]) -> None:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  path.parent.mkdir(parents=True, exist_ok=True)
  with tf.io.TFRecordWriter(str(path)) as writer:
    for example in examples:
      writer.write(example)


CVAT_LABEL_MAP = "item {\n\tid: 1\n\tname: 'cat'\n}\n\nitem {\n\tid: 2\n\tname: 'dog'\n}\n\n"
ROBOFLOW_LABEL_MAP = """item {
    name: "cat",
    id: 1,
    display_name: "cat"
}
item {
    name: "dog",
    id: 2,
    display_name: "dog"
}
"""
# Hand-written, as OD API users do: comments, `item: {`, `<...>`, `;`/`,`,
# both quote styles, ids out of order, WordNet ids as names.
SHARDED_LABEL_MAP = """# Pets, by WordNet id.
item: {
  id: 2;
  name: "n02121808"  # domestic cat
  display_name: 'cat'
}
item <
  display_name: "dog", name: 'n02084071', id: 1
>
"""


def make_tfod() -> None:
  """TFRecord exports; what each holds is checked in tests/test_tfod_export.py."""
  out = ROOT / 'tfod_export'
  shutil.rmtree(out, ignore_errors=True)
  cat, dog = ('cat', 1, (4, 5, 20, 25)), ('dog', 2, (22.5, 3.5, 39, 29))
  # 1. CVAT "TFRecord 1.0" (Datumaro): default.tfrecord + label_map.pbtxt,
  #    empty source_id, a frame without objects; frame 4 hashes into test.
  frames = [[cat, dog], [dog], [], [cat], [dog, cat]]
  write(out / 'cvat' / 'label_map.pbtxt', CVAT_LABEL_MAP)
  write_records(out / 'cvat' / 'default.tfrecord', [
      od_example(jpeg(40, 30, 200 + i), f'frame_{i:06d}.jpg', 40, 30,
                 objects, source_id='')
      for i, objects in enumerate(frames)])
  # 2. CVAT without images: empty image/encoded, the files in images/.
  no_images = out / 'cvat_no_images'
  write(no_images / 'label_map.pbtxt', CVAT_LABEL_MAP)
  names = ['frame_000000.jpg', 'sub/frame_000001.jpg']
  for i, name in enumerate(names):
    write(no_images / 'images' / name, jpeg(40, 30, 210 + i))
  write_records(no_images / 'default.tfrecord', [
      od_example(b'', name, 40, 30, [cat, dog], source_id='',
                 image_format='') for name in names])
  # 3. Roboflow: train/ valid/ test/ with <name>.tfrecord and
  #    <name>_label_map.pbtxt, no source_id, format 'jpg'.
  for split, count in (('train', 3), ('valid', 1), ('test', 1)):
    folder = out / 'roboflow' / split
    write(folder / 'pets_label_map.pbtxt', ROBOFLOW_LABEL_MAP)
    write_records(folder / 'pets.tfrecord', [
        od_example(jpeg(40, 30, 220 + i + 10 * len(split)),
                   f'{split}_{i}_jpg.rf.{i:08x}.jpg', 40, 30, [cat, dog],
                   image_format='jpg') for i in range(count)])
  # 4. OD API create_*_tf_record.py: sharded records, numeric source ids,
  #    PNG and dense instance masks, flags and areas, text by `name` or by
  #    `display_name`, or only the label id.
  sharded = out / 'sharded'
  write(sharded / 'pet_label_map.pbtxt', SHARDED_LABEL_MAP)
  cat_mask = np.zeros((30, 40), np.uint8)
  cat_mask[5:25, 4:20] = 1
  cat_mask[10:12, 8:10] = 0  # a hole: 316 pixels
  dog_mask = np.zeros((30, 40), np.uint8)
  dog_mask[4:29, 23:39] = 1
  cat_n, dog_n = ('n02121808', 2, cat[2]), ('n02084071', 1, dog[2])
  cat_id, dog_id = ('', 2, cat[2]), ('', 1, dog[2])
  flags = {'image/object/difficult': [0, 1], 'image/object/truncated': [1, 0],
           'image/object/is_crowd': [0, 0],
           'image/object/area': [316.0, 400.0],
           'image/object/mask': [mask_png(cat_mask), mask_png(dog_mask)]}
  train = [
      od_example(jpeg(40, 30, 240), 'pets/1.jpg', 40, 30, [cat_n, dog_n],
                 source_id='1', extra=flags),
      od_example(png_rgb(40, 30, 241), 'pets/2.png', 40, 30, [cat, dog],
                 source_id='2', image_format='png', label=False),
      od_example(jpeg(40, 30, 242), 'pets/3.jpg', 40, 30, [dog_id, cat_id],
                 source_id='3', text=False),
  ]
  write_records(sharded / 'pets_train.record-00000-of-00002', train[0::2])
  write_records(sharded / 'pets_train.record-00001-of-00002', train[1::2])
  small = np.zeros((2, 12, 16), np.float32)
  small[0, 2:6, 1:5] = 1.0
  small[1, 6:12, 8:16] = 1.0
  write_records(sharded / 'pets_val.record-00000-of-00001', [
      od_example(jpeg(16, 12, 243), 'pets/4.jpg', 16, 12,
                 [('cat', 2, (1, 2, 5, 6)), ('dog', 1, (8, 6, 16, 12))],
                 source_id='4', image_format='jpg',
                 extra={'image/object/mask': list(small.ravel())})])


def make_labelbox() -> None:
  """Labelbox exports (v2 NDJSON, v1 JSON, TFRecord) and labelbox_cars."""
  import labelbox_fixtures  # pylint: disable=g-import-not-at-top
  labelbox_fixtures.make_all(ROOT)


if __name__ == '__main__':
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--only', choices=['voc', 'coco', 'tfod', 'labelbox'],
                      default=None)
  args = parser.parse_args()
  if args.only in (None, 'voc'):
    make_voc()
  if args.only in (None, 'coco'):
    make_coco()
  if args.only in (None, 'tfod'):
    make_tfod()
  if args.only in (None, 'labelbox'):
    make_labelbox()
