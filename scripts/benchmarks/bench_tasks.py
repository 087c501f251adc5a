"""One benchmark measurement, run in a fresh process by `benchmark.py`.

  python scripts/benchmarks/bench_tasks.py TASK --result OUT.json [task flags]

Every task imports what it needs first (TensorFlow, TFDS, Beam...) and only
then starts the clock, so interpreter and import time is left out for every
contender alike. The result JSON holds the seconds, the images handled,
the resident memory after the imports and the peak (`VmHWM`) of this
process and of its children (Beam's workers).

Tasks:
  build        `tfds_builders` build of --name from --manual_dir (--beam: the
               DirectRunner with 2 worker processes; --workers N: that many
               encoding processes, 1 = none).
  naive_voc    a minimal TFDS builder of the same VOC export that only
               yields image bytes and boxes (what a first TFDS builder of a
               user would do): the cost of TFDS itself.
  build_stages a plain build with a timer around each of its stages.
  loop_voc     the hand-written converter a user would otherwise write, in
  loop_coco    the style of the TF Object Detection API's
               `create_pascal_tf_record.py` / `create_coco_tf_record.py`.
  read_shards  training input pipeline over the built shards.
  read_memory  the same decode + resize + batch on image bytes in memory.
  read_loose   the loose files, parsing the XML every epoch.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pathlib
import resource
import time

import numpy as np
from PIL import Image
import tensorflow as tf

BATCH = 32
RESIZE = 512
BEAM_FLAGS = dict(runner='DirectRunner',
                  direct_running_mode='multi_processing', direct_num_workers=2)


def _status_mb(field: str) -> float:
  for line in pathlib.Path('/proc/self/status').read_text().splitlines():
    if line.startswith(field + ':'):
      return int(line.split()[1]) / 1024
  return float('nan')


def _rss_mb() -> float:
  return _status_mb('VmRSS')


def _peaks() -> dict:
  # VmHWM, not ru_maxrss: Linux carries the parent's peak across fork and
  # exec into ru_maxrss, so this process would report at least the driver's.
  return {
      'peak_rss_mb': _status_mb('VmHWM'),
      'peak_child_rss_mb':
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


# Builds.


def build(args) -> dict:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  import tfds_builders  # pylint: disable=g-import-not-at-top,unused-import
  kwargs = {}
  if args.beam:
    import apache_beam as beam  # pylint: disable=g-import-not-at-top
    kwargs['beam_options'] = beam.options.pipeline_options.PipelineOptions(
        flags=[], **BEAM_FLAGS)
  builder = tfds.builder(args.name, data_dir=args.data_dir)
  if args.workers is not None:
    import dataclasses  # pylint: disable=g-import-not-at-top
    config = dataclasses.replace(
        builder.builder_config, workers=args.workers,
        name=f'{builder.builder_config.name}_w{args.workers}')
    builder = tfds.builder(args.name.split('/')[0], data_dir=args.data_dir,
                           config=config)
  config = tfds.download.DownloadConfig(manual_dir=args.manual_dir, **kwargs)
  rss = _rss_mb()
  start = time.perf_counter()
  builder.download_and_prepare(download_config=config)
  seconds = time.perf_counter() - start
  report = json.loads(
      (pathlib.Path(builder.data_dir) / 'build_report.json').read_text())
  return {'seconds': seconds, 'images': report['dataset_totals']['images'],
          'nothing_lost': report['nothing_lost'], 'rss_after_imports_mb': rss,
          'version_dir': builder.data_dir}


def build_stages(args) -> dict:
  """A plain build with timers around its stages: where the time goes.

  Wraps module functions by name (stages that no longer exist are left
  out), so it measures the code as it is, with no profiler overhead.
  """
  # pylint: disable=g-import-not-at-top,unused-import
  import tensorflow_datasets as tfds
  from tensorflow_datasets.core import writer
  import tfds_builders
  from tfds_builders.core import builder as core_builder
  from tfds_builders.core import encode, images, manifest, masks, serialize
  # pylint: enable=g-import-not-at-top,unused-import
  import dataclasses  # pylint: disable=g-import-not-at-top
  builder = tfds.builder(args.name, data_dir=args.data_dir)
  # One process, one thread: the stage timers see every call.
  builder = tfds.builder(args.name.split('/')[0], data_dir=args.data_dir,
                         config=dataclasses.replace(
                             builder.builder_config, workers=0,
                             name=builder.builder_config.name + '_stages'))
  stages = {}

  def timed(owner, attribute, label):
    if not hasattr(owner, attribute):
      return
    function = getattr(owner, attribute)

    def wrapper(*a, **k):
      start = time.perf_counter()
      try:
        return function(*a, **k)
      finally:
        stages[label] = stages.get(label, 0) + time.perf_counter() - start
    setattr(owner, attribute, wrapper)

  timed(core_builder.ExportBuilder, 'prepare_export',
        'parse the export, classes, splits')
  timed(images, 'check_image', 'image: read header, decode check')
  timed(images, '_check_jpeg_scans', 'image: JPEG scans decoded (part of it)')
  timed(encode, '_encode_objects', 'objects: boxes, masks')
  timed(encode, '_paint_semantic_mask', 'segmentation_mask: paint')
  timed(masks, 'encode_png', 'masks: PNG encode')
  timed(encode, 'encode_record', 'encode_record, all of it')
  timed(serialize, 'serialize', 'serialize the example')
  timed(writer.Writer, 'write', 'TFDS: shuffle buffer')
  timed(writer.Writer, 'finalize', 'TFDS: shuffle, write shards')
  timed(manifest, 'build_manifest', 'source manifest')
  start = time.perf_counter()
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=args.manual_dir))
  seconds = time.perf_counter() - start
  report = json.loads(
      (pathlib.Path(builder.data_dir) / 'build_report.json').read_text())
  return {'seconds': seconds, 'images': report['dataset_totals']['images'],
          'stage_seconds': stages}


# The hand-written baselines.


def naive_voc(args) -> dict:
  """A first TFDS builder: parse each XML, yield the image bytes and boxes;
  no checks, no masks, no report."""
  from lxml import etree  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  root = pathlib.Path(args.manual_dir)
  annotations = next(root.rglob('[Aa]nnotations'))
  image_dir = next(p for p in (annotations.parent / 'images',
                               annotations.parent / 'JPEGImages')
                   if p.is_dir())

  class NaiveVoc(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    VERSION = tfds.core.Version('1.0.0')

    def _info(self):
      return tfds.core.DatasetInfo(
          builder=self, features=tfds.features.FeaturesDict({
              'image': tfds.features.Image(shape=(None, None, 3)),
              'objects': tfds.features.Sequence({
                  'bbox': tfds.features.BBoxFeature(),
                  'label': tfds.features.ClassLabel(names=['raccoon'])})}))

    def _split_generators(self, dl_manager):
      return {'train': self._generate_examples()}

    def _generate_examples(self):
      for xml_path in sorted(annotations.glob('*.xml')):
        data = _recursive_parse_xml_to_dict(
            etree.fromstring(xml_path.read_bytes()))['annotation']
        width = float(data['size']['width'])
        height = float(data['size']['height'])
        boxes = [tfds.features.BBox(
            ymin=min(float(o['bndbox']['ymin']) / height, 1),
            xmin=min(float(o['bndbox']['xmin']) / width, 1),
            ymax=min(float(o['bndbox']['ymax']) / height, 1),
            xmax=min(float(o['bndbox']['xmax']) / width, 1))
                 for o in data.get('object', [])]
        yield xml_path.stem, {
            'image': (image_dir / data['filename']).read_bytes(),
            'objects': {'bbox': boxes, 'label': [0] * len(boxes)}}

  builder = NaiveVoc(data_dir=args.data_dir)
  start = time.perf_counter()
  builder.download_and_prepare()
  seconds = time.perf_counter() - start
  return {'seconds': seconds,
          'images': builder.info.splits['train'].num_examples}


def _bytes_feature(values):
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def _float_feature(values):
  return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _int_feature(values):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _od_api_example(encoded, filename, source_id, width, height, objects):
  """`objects`: (xmin, ymin, xmax, ymax relative, name, label, flags...)."""
  image = Image.open(io.BytesIO(encoded))
  if image.format != 'JPEG':
    raise ValueError('Image format not JPEG')
  key = hashlib.sha256(encoded).hexdigest()

  def column(i):
    return [o[i] for o in objects]

  return tf.train.Example(features=tf.train.Features(feature={
      'image/height': _int_feature([height]),
      'image/width': _int_feature([width]),
      'image/filename': _bytes_feature([filename.encode('utf8')]),
      'image/source_id': _bytes_feature([str(source_id).encode('utf8')]),
      'image/key/sha256': _bytes_feature([key.encode('utf8')]),
      'image/encoded': _bytes_feature([encoded]),
      'image/format': _bytes_feature([b'jpeg']),
      'image/object/bbox/xmin': _float_feature(column(0)),
      'image/object/bbox/xmax': _float_feature(column(2)),
      'image/object/bbox/ymin': _float_feature(column(1)),
      'image/object/bbox/ymax': _float_feature(column(3)),
      'image/object/class/text': _bytes_feature(
          [n.encode('utf8') for n in column(4)]),
      'image/object/class/label': _int_feature(column(5)),
      'image/object/difficult': _int_feature(column(6)),
      'image/object/truncated': _int_feature(column(7)),
  }))


def _recursive_parse_xml_to_dict(xml):
  """As in the OD API's `dataset_util`."""
  if not len(xml):  # pylint: disable=g-explicit-length-test
    return {xml.tag: xml.text}
  result = {}
  for child in xml:
    child_result = _recursive_parse_xml_to_dict(child)
    if child.tag != 'object':
      result[child.tag] = child_result[child.tag]
    else:
      result.setdefault(child.tag, []).append(child_result[child.tag])
  return {xml.tag: result}


def loop_voc(args) -> dict:
  from lxml import etree  # pylint: disable=g-import-not-at-top
  root = pathlib.Path(args.manual_dir)
  label_map = {}
  start = time.perf_counter()
  images = 0
  # labelImg's annotations/ + images/, or a VOCdevkit's Annotations/ +
  # JPEGImages/: what the script was written for is what it reads.
  annotations = next(root.rglob('[Aa]nnotations'))
  image_dir = next(p for p in (annotations.parent / 'images',
                               annotations.parent / 'JPEGImages')
                   if p.is_dir())
  with tf.io.TFRecordWriter(args.output) as writer:
    for xml_path in sorted(annotations.glob('*.xml')):
      data = _recursive_parse_xml_to_dict(
          etree.fromstring(xml_path.read_bytes()))['annotation']
      with open(image_dir / data['filename'], 'rb') as f:
        encoded = f.read()
      width, height = int(data['size']['width']), int(data['size']['height'])
      objects = []
      for obj in data.get('object', []):
        box = obj['bndbox']
        objects.append((
            float(box['xmin']) / width, float(box['ymin']) / height,
            float(box['xmax']) / width, float(box['ymax']) / height,
            obj['name'], label_map.setdefault(obj['name'], len(label_map) + 1),
            int(obj['difficult']), int(obj['truncated'])))
      example = _od_api_example(encoded, data['filename'], data['filename'],
                                width, height, objects)
      writer.write(example.SerializeToString())
      images += 1
  return {'seconds': time.perf_counter() - start, 'images': images,
          'output_bytes': os.path.getsize(args.output)}


def loop_coco(args) -> dict:
  root = pathlib.Path(args.manual_dir)
  start = time.perf_counter()
  with open(root / 'annotations' / 'instances_default.json') as f:
    groundtruth = json.load(f)
  names = {c['id']: c['name'] for c in groundtruth['categories']}
  by_image = {}
  for annotation in groundtruth['annotations']:
    by_image.setdefault(annotation['image_id'], []).append(annotation)
  images = 0
  with tf.io.TFRecordWriter(args.output) as writer:
    for image in groundtruth['images']:
      with open(root / 'images' / image['file_name'], 'rb') as f:
        encoded = f.read()
      width, height = image['width'], image['height']
      objects = []
      for annotation in by_image.get(image['id'], []):
        x, y, w, h = annotation['bbox']
        if w <= 0 or h <= 0 or x + w > width or y + h > height:
          continue
        objects.append((x / width, y / height, (x + w) / width,
                        (y + h) / height, names[annotation['category_id']],
                        annotation['category_id'], 0, annotation['iscrowd']))
      example = _od_api_example(encoded, image['file_name'], image['id'],
                                width, height, objects)
      writer.write(example.SerializeToString())
      images += 1
  return {'seconds': time.perf_counter() - start, 'images': images,
          'output_bytes': os.path.getsize(args.output)}


# Reading.


def decode_and_resize(encoded):
  image = tf.io.decode_jpeg(encoded, channels=3)
  return tf.image.resize(image, (RESIZE, RESIZE))


def _time_epochs(dataset, images_per_epoch: int, epochs: int) -> dict:
  """Times `epochs` windows of one epoch's worth of images each.

  One iterator over the repeated dataset, after a warm-up window (page
  cache, autotuning): tf.data's autotuner starts afresh with every new
  iterator, which on a busy machine made whole epochs run on one core. The
  fastest window is the figure; slower ones measure other people's jobs.
  """
  batches = max(1, images_per_epoch // BATCH)
  iterator = iter(dataset)

  def window() -> float:
    start = time.perf_counter()
    for _ in range(batches):
      next(iterator)
    return time.perf_counter() - start

  window()
  seconds = [window() for _ in range(epochs)]
  return {'seconds': min(seconds), 'images': batches * BATCH,
          'epoch_seconds': seconds}


def _finish_pipeline(dataset):
  return dataset.ragged_batch(BATCH).prefetch(tf.data.AUTOTUNE)


def read_shards(args) -> dict:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  builder = tfds.builder_from_directory(args.version_dir)
  dataset = builder.as_dataset(
      split='+'.join(builder.info.splits), shuffle_files=False,
      decoders={'image': tfds.decode.SkipDecoding(),
                'segmentation_mask': tfds.decode.SkipDecoding()})
  images = sum(split.num_examples for split in builder.info.splits.values())
  dataset = dataset.repeat().map(
      lambda ex: (decode_and_resize(ex['image']), ex['objects']['bbox'],
                  ex['objects']['label']),
      num_parallel_calls=tf.data.AUTOTUNE)
  return _time_epochs(_finish_pipeline(dataset), images, args.epochs)


def read_memory(args) -> dict:
  paths = sorted((pathlib.Path(args.manual_dir) / 'images').glob('*.jpg'))
  encoded = [p.read_bytes() for p in paths]
  dataset = tf.data.Dataset.from_tensor_slices(encoded).repeat().map(
      lambda e: (decode_and_resize(e),), num_parallel_calls=tf.data.AUTOTUNE)
  return _time_epochs(dataset.batch(BATCH).prefetch(tf.data.AUTOTUNE),
                      len(encoded), args.epochs)


def read_loose(args) -> dict:
  from lxml import etree  # pylint: disable=g-import-not-at-top
  root = pathlib.Path(args.manual_dir)
  xml_paths = sorted((root / 'annotations').glob('*.xml'))
  label_map = {}

  def parse_every_epoch():
    for xml_path in xml_paths:
      tree = etree.parse(str(xml_path)).getroot()
      width = float(tree.findtext('size/width'))
      height = float(tree.findtext('size/height'))
      boxes, labels = [], []
      for obj in tree.iter('object'):
        box = obj.find('bndbox')
        boxes.append([float(box.findtext('ymin')) / height,
                      float(box.findtext('xmin')) / width,
                      float(box.findtext('ymax')) / height,
                      float(box.findtext('xmax')) / width])
        labels.append(label_map.setdefault(obj.findtext('name'),
                                           len(label_map)))
      yield (str(root / 'images' / tree.findtext('filename')),
             np.asarray(boxes, np.float32).reshape(-1, 4),
             np.asarray(labels, np.int64))

  dataset = tf.data.Dataset.from_generator(
      parse_every_epoch, output_signature=(
          tf.TensorSpec((), tf.string), tf.TensorSpec((None, 4), tf.float32),
          tf.TensorSpec((None,), tf.int64)))
  dataset = dataset.repeat().map(
      lambda path, boxes, labels: (decode_and_resize(tf.io.read_file(path)),
                                   boxes, labels),
      num_parallel_calls=tf.data.AUTOTUNE)
  return _time_epochs(_finish_pipeline(dataset), len(xml_paths),
                      args.epochs)


TASKS = {'build': build, 'build_stages': build_stages, 'loop_voc': loop_voc,
         'naive_voc': naive_voc,
         'loop_coco': loop_coco,
         'read_shards': read_shards, 'read_memory': read_memory,
         'read_loose': read_loose}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('task', choices=sorted(TASKS))
  parser.add_argument('--result', required=True)
  parser.add_argument('--name', help='build: e.g. voc_export/boxes')
  parser.add_argument('--manual_dir')
  parser.add_argument('--data_dir')
  parser.add_argument('--beam', action='store_true')
  parser.add_argument('--workers', type=int, help='build: encoding processes')
  parser.add_argument('--output', help='loop_*: the TFRecord to write')
  parser.add_argument('--version_dir', help='read_shards: a built dataset')
  parser.add_argument('--epochs', type=int, default=3)
  args = parser.parse_args()
  result = TASKS[args.task](args)
  result.update(_peaks())
  pathlib.Path(args.result).write_text(json.dumps(result, indent=1))


if __name__ == '__main__':
  main()
