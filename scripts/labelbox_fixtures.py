"""The Labelbox fixture exports under dummy_data/ (called by make_dummy_data.py).

  dummy_data/labelbox_export/ndjson/        export v2, every geometry and the
                                            ways rows go wrong
  dummy_data/labelbox_export/v1_json/       the legacy JSON export
  dummy_data/labelbox_export/tfrecord/      the legacy TFRecord export
  dummy_data/labelbox_export/same_as_coco/  two images as NDJSON and as COCO
  dummy_data/labelbox_cars/                 5 sample images (make_sample_export)

What each row exercises is listed in tests/test_labelbox_export.py.
"""

from __future__ import annotations

import io
import json
import pathlib
import shutil

import numpy as np
from PIL import Image

import make_sample_export
from make_dummy_data import jpeg, write

PROJECT = 'cprojectfixture0000000000'


def png(array: np.ndarray, mode: str | None = None) -> bytes:
  buffer = io.BytesIO()
  Image.fromarray(array.astype(np.uint8), mode).save(buffer, format='PNG')
  return buffer.getvalue()


def points(*xy) -> list[dict]:
  """Labelbox polygon points, first point repeated at the end."""
  pts = [{'x': x, 'y': y} for x, y in xy]
  return pts + [pts[0]]


def v2_object(name: str, feature_id: str, **geometry) -> dict:
  kinds = {'bounding_box': 'ImageBoundingBox', 'polygon': 'ImagePolygon',
           'mask': 'ImageSegmentationMask', 'point': 'ImagePoint',
           'line': 'ImagePolyline', 'composite_mask': 'ImageSegmentationMask'}
  return {'feature_id': feature_id, 'feature_schema_id': f'schema_{name}',
          'name': name, 'value': name.lower().replace(' ', '_'),
          'annotation_kind': kinds[next(iter(geometry))],
          'classifications': [], **geometry}


def v2_row(row_id: str, objects: list | None, *, global_key=None,
           external_id=None, row_data=None, size=(40, 30),
           mime='image/jpeg', labels: list | None = None,
           split: str | None = None) -> str:
  if labels is None:
    labels = [] if objects is None else [objects]
  row = {
      'data_row': {'id': row_id, 'global_key': global_key,
                   'external_id': external_id, 'row_data': row_data},
      'media_attributes': {'width': size[0], 'height': size[1],
                           'mime_type': mime},
      'projects': {PROJECT: {'name': 'fixture', 'labels': [
          {'id': f'label_{row_id}_{i}', 'annotations': {
              'objects': objs, 'relationships': [],
              'classifications': [
                  {'name': 'weather', 'radio_answer': {'name': 'sunny'}},
                  {'name': 'tags', 'checklist_answers': [{'name': 'a'}]},
                  {'name': 'note', 'text_answer': {'content': 'hi'}}]}}
          for i, objs in enumerate(labels)]}} if labels else {}}
  if split:
    row['experiments'] = {'cmodel': {'runs': {'crun': {'split': split}}}}
  return json.dumps(row)


def make_ndjson(out: pathlib.Path) -> None:
  mask = np.zeros((30, 40), np.uint8)
  mask[18:26, 2:14] = 255
  composite = np.zeros((30, 40, 3), np.uint8)
  composite[18:26, 18:30] = (123, 103, 152)
  composite[18:26, 32:38] = (10, 200, 10)
  write(out / 'images' / 'a.jpg', jpeg(40, 30, 1))
  write(out / 'images' / 'ext_b.jpg', jpeg(40, 30, 2))
  write(out / 'crowc0000000000000000000c.png', png(
      np.random.default_rng(3).integers(0, 255, (30, 40, 3))))
  write(out / 'images' / 'f.jpg', jpeg(40, 30, 6))
  write(out / 'images' / 'g.jpg', jpeg(40, 30, 7))
  write(out / 'masks' / 'fmaska.png', png(mask))
  write(out / 'masks' / 'ccompositea.png', png(composite))
  composite_url = ('https://api.labelbox.com/api/v1/tasks/t/masks/'
                   'ccompositea/index/1')
  rows = [
      # Every geometry; media_attributes says 400x300 (the image is 40x30);
      # the external id tries to climb out of the export.
      v2_row('crowa0000000000000000000a', [
          v2_object('car', 'fboxa', bounding_box={
              'top': 2, 'left': 2, 'height': 10, 'width': 12}),
          v2_object('person', 'fpolya', polygon=points(
              (18, 2), (30, 2), (30, 14), (18, 14))),
          v2_object('car', 'fmaska', mask={
              'url': f'https://api.labelbox.com/api/v1/projects/{PROJECT}/'
                     'annotations/fmaska/index/1/mask'}),
          v2_object('person', 'fcompa1', composite_mask={
              'url': composite_url, 'color_rgb': [123, 103, 152]}),
          v2_object('person', 'fcompa2', composite_mask={
              'url': composite_url, 'color_rgb': [10, 200, 10]}),
          v2_object('car', 'fpointa', point={'x': 5, 'y': 5}),
          v2_object('person', 'flinea', line=[{'x': 1, 'y': 1},
                                              {'x': 9, 'y': 9}]),
      ], global_key='a.jpg', external_id='street/a original.jpg',
             row_data='https://example.invalid/a.jpg', size=(400, 300)),
      # Found by external id; a model-run data split.
      v2_row('crowb0000000000000000000b', [
          v2_object('car', 'fboxb', bounding_box={
              'top': 3.5, 'left': 4.25, 'height': 20, 'width': 30})],
             external_id='ext_b.jpg', split='validation'),
      # Found by data row id next to the export file.
      v2_row('crowc0000000000000000000c', [
          v2_object('car', 'fpolyc', polygon=points((5, 5), (35, 5),
                                                    (20, 25)))]),
      # Not labelled yet.
      v2_row('crowd0000000000000000000d', None, global_key='d.jpg'),
      # Image nowhere: not local, and not an http(s) URL.
      v2_row('crowe0000000000000000000e', [
          v2_object('car', 'fboxe', bounding_box={
              'top': 1, 'left': 1, 'height': 5, 'width': 5})],
             global_key='e.jpg', row_data='gs://bucket/e.jpg'),
      # Two labels (consensus): the first is used.
      v2_row('crowf0000000000000000000f', None, global_key='f.jpg', labels=[
          [v2_object('car', 'fboxf1', bounding_box={
              'top': 1, 'left': 1, 'height': 8, 'width': 8})],
          [v2_object('car', 'fboxf2', bounding_box={
              'top': 1, 'left': 1, 'height': 9, 'width': 9}),
           v2_object('car', 'fboxf3', bounding_box={
               'top': 10, 'left': 10, 'height': 9, 'width': 9})]]),
      # A mask that is nowhere.
      v2_row('crowg0000000000000000000g', [
          v2_object('car', 'fmaskg', mask={'url': 's3://bucket/m.png'}),
          v2_object('car', 'fboxg', bounding_box={
              'top': 0, 'left': 0, 'height': 30, 'width': 40})],
             global_key='g.jpg'),
      # A video.
      v2_row('crowh0000000000000000000h', [], global_key='h.mp4',
             mime='video/mp4'),
  ]
  write(out / 'export.ndjson', '\n'.join(rows) + '\n')


def make_v1(out: pathlib.Path) -> None:
  mask = np.zeros((30, 40), np.uint8)
  mask[20:28, 20:36] = 255
  write(out / 'images' / 'v1a.jpg', jpeg(40, 30, 11))
  write(out / 'images' / 'v1d.png', png(
      np.random.default_rng(14).integers(0, 255, (30, 40, 3))))
  write(out / 'images' / 'v1e.jpg', jpeg(40, 30, 15))
  write(out / 'masks' / 'fv1mask.png', png(mask))
  uri = 'https://api.labelbox.com/masks/feature/{}?token=secret'

  def row(row_id, label, external_id=None, **extra):
    return {'ID': f'label_{row_id}', 'DataRow ID': row_id,
            'Labeled Data': f'https://example.invalid/{external_id}',
            'External ID': external_id, 'Label': label,
            'Created By': 'labeler@example.com', 'Skipped': False,
            'Media Attributes': {'width': 40, 'height': 30,
                                 'mimeType': 'image/jpeg'}, **extra}

  rows = [
      row('cv1a', {'objects': [
          {'featureId': 'fv1box', 'title': 'car', 'value': 'car',
           'bbox': {'top': 2, 'left': 3, 'height': 10, 'width': 12},
           'instanceURI': uri.format('fv1box')},
          {'featureId': 'fv1poly', 'title': 'person', 'value': 'person',
           'polygon': [{'x': 20, 'y': 2}, {'x': 36, 'y': 2},
                       {'x': 36, 'y': 16}]},
          {'featureId': 'fv1mask', 'title': 'car', 'value': 'car',
           'instanceURI': uri.format('fv1mask')},
          {'featureId': 'fv1point', 'title': 'car', 'value': 'car',
           'point': {'x': 3, 'y': 3}}],
          'classifications': [{'title': 'weather', 'answer': {
              'title': 'sunny'}}]}, 'v1a.jpg', **{'Data Split': 'training'}),
      row('cv1b', {}, 'v1b.jpg', Skipped=True),
      row('cv1c', {}, 'v1c.jpg'),
      row('cv1d', {'objects': [
          {'featureId': 'fv1d', 'title': 'car', 'bbox': {
              'top': 0, 'left': 0, 'height': 30, 'width': 40}}]}, 'v1d.png',
          **{'Data Split': 'test'}),
      row('cv1e', {'objects': [
          {'featureId': 'fv1e', 'title': 'person', 'bbox': {
              'top': 5, 'left': 5, 'height': 10, 'width': 10}}]}, 'v1e.jpg',
          **{'Data Split': 'holdout'}),
  ]
  write(out / 'export.json', json.dumps(rows, indent=1) + '\n')


def make_tfrecord(out: pathlib.Path) -> None:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def feature(value):
    if isinstance(value, int):
      return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

  def example(i: int, seg: bytes) -> bytes:
    return tf.train.Example(features=tf.train.Features(feature={
        'image/encoded': feature(jpeg(40, 30, 20 + i)),
        'image/filename': feature(f'tf{i}.jpg'.encode()),
        'image/ID': feature(f'ctfrow{i}'.encode()),
        'image/format': feature(b'jpeg'),
        'image/height': feature(30), 'image/width': feature(40),
        'image/channels': feature(3), 'image/colorspace': feature(b'RGB'),
        'image/segmentation/class/encoded': feature(seg),
        'image/segmentation/class/format': feature(b'png'),
    })).SerializeToString(deterministic=True)

  first = np.zeros((30, 40), np.uint8)
  first[2:10, 2:12] = 100  # car, region 1
  first[15:25, 20:35] = 100  # car, region 2
  first[20:28, 2:8] = 200  # person
  second = np.zeros((30, 40), np.uint8)
  second[5:20, 5:30] = 100
  maps = [png(first, 'L'), png(second, 'L'), png(np.zeros((30, 40)), 'L'),
          png(np.zeros((30, 40, 3)))]  # the last is RGB: not a class map
  path = out / 'tfrecords' / 'labels-00000-of-00001.tfrecord'
  path.parent.mkdir(parents=True, exist_ok=True)
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i, seg in enumerate(maps):
      writer.write(example(i, seg))
  write(out / 'export.json', json.dumps({
      'tfrecord_paths': ['tfrecords/labels-00000-of-00001.tfrecord'],
      'legend': {'person': 200, 'car': 100}}, indent=1) + '\n')


def make_same_as_coco(out: pathlib.Path) -> None:
  """Two images, the same boxes and polygons as NDJSON and as COCO JSON."""
  write(out / 'images' / 'one.jpg', jpeg(40, 30, 31))
  write(out / 'images' / 'two.jpg', jpeg(48, 32, 32))
  one = [('car', (3.5, 2.25, 12, 10), None),
         ('person', None, [(20, 2), (36.5, 2), (36.5, 18), (20, 18)])]
  two = [('car', (0, 0, 48, 32), None), ('car', (10, 4, 8.5, 6), None),
         ('person', None, [(30, 10), (44, 12), (40, 30)])]
  rows, images, annotations = [], [], []
  for image_id, (name, size, objects) in enumerate(
      [('one.jpg', (40, 30), one), ('two.jpg', (48, 32), two)], 1):
    lb_objects = []
    for k, (label, box, polygon) in enumerate(objects):
      if box:
        x, y, w, h = box
        lb_objects.append(v2_object(label, f'f{image_id}{k}', bounding_box={
            'top': y, 'left': x, 'height': h, 'width': w}))
        segmentation = []
      else:
        lb_objects.append(v2_object(label, f'f{image_id}{k}',
                                    polygon=points(*polygon)))
        xs, ys = zip(*polygon)
        box = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
        segmentation = [[v for xy in polygon for v in xy]]
      annotations.append({
          'id': len(annotations) + 1, 'image_id': image_id,
          'category_id': 1 if label == 'car' else 2, 'bbox': list(box),
          'segmentation': segmentation, 'iscrowd': 0})
    rows.append(v2_row(f'csame{image_id}', lb_objects, global_key=name,
                       size=size))
    images.append({'id': image_id, 'file_name': name, 'width': size[0],
                   'height': size[1]})
  write(out / 'export.ndjson', '\n'.join(rows) + '\n')
  write(out / 'annotations' / 'instances.json', json.dumps({
      'images': images, 'annotations': annotations, 'categories': [
          {'id': 1, 'name': 'car', 'supercategory': 'vehicle'},
          {'id': 2, 'name': 'person', 'supercategory': 'human'}]},
                                                           indent=1) + '\n')


def make_all(root: pathlib.Path) -> None:
  out = root / 'labelbox_export'
  shutil.rmtree(out, ignore_errors=True)
  make_ndjson(out / 'ndjson')
  make_v1(out / 'v1_json')
  make_tfrecord(out / 'tfrecord')
  make_same_as_coco(out / 'same_as_coco')
  cars = root / 'labelbox_cars'
  shutil.rmtree(cars, ignore_errors=True)
  make_sample_export.write_export(cars, num_images=5, seed=3, min_width=48,
                                  max_width=56,
                                  kinds=('polygon', 'box', 'mask'))
