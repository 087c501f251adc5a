"""tfod_export on real records other tools wrote (../shared/data/conformance).

`tfod_pikachu`: records from a raccoon-style `generate_tfrecord.py`
(`data/train.record`, `data/test.record`) and `training/object-detection.pbtxt`
(CRLF, no final newline). It builds exactly as its MANIFEST.md section says.
Skipped when ../shared is absent.
"""

import tensorflow_datasets as tfds

from tests.builds import build, examples, read_report
from tests.paths import shared_export
from tfds_builders.core import tfrecords
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.tfod import example, layout


def test_pikachu_builds_as_the_manifest_says(tmp_path):
  export = shared_export('conformance/tfod_pikachu')
  builder = build('tfod_export/boxes', export, tmp_path)
  report = read_report(builder)
  assert builder.info.features['objects']['label'].names == ['pikachu']
  assert report['class_source'] == 'training/object-detection.pbtxt'
  assert report['splits'] == {
      'test': {'images': 8, 'objects': 8, 'objects_per_class': {'pikachu': 8}},
      'train': {'images': 22, 'objects': 22,
                'objects_per_class': {'pikachu': 22}}}
  assert report['split_sources'] == {'test': {'file name test.record': 8},
                                     'train': {'file name train.record': 22}}
  assert report['nothing_lost'] and report['skipped'] == {'images': 0,
                                                         'objects': 0}
  # Record `1.png` holds RGBA PNG bytes while its format says 'jpg': both
  # are reported (the schema's images are RGB, so that one is converted).
  assert [(i['file'], i['item'], i['problem'], i['action'])
          for i in report['issues']] == [
              ('data/train.record record 0', 'image/format',
               "image/format says 'jpg' but the bytes are PNG; read as PNG",
               'warning'),
              ('1.png', '', 'converted PNG RGBA to 8-bit RGB PNG',
               'repaired')]
  skip = {'image': tfds.decode.SkipDecoding()}
  train = {ex['image/filename'].decode(): ex
           for ex in examples(builder, 'train', decoders=skip)}
  png = train['1.png']
  assert png['image'].startswith(b'\x89PNG\r\n\x1a\n')
  assert png['image/id'] == b'1.png'
  assert all(ex['image'].startswith(b'\xff\xd8') for name, ex in train.items()
             if name != '1.png')


def test_pikachu_bytes_and_boxes_are_the_records_own(tmp_path):
  """Every stored JPEG is the record's `image/encoded` byte for byte (the
  RGBA PNG is converted to RGB), every box its relative coordinates
  (float32-exact)."""
  export = shared_export('conformance/tfod_pikachu')
  files = ExportFiles(export)
  expected = {}
  for record_file in layout.find_record_files(files):
    for index, raw in tfrecords.read_records(record_file.path,
                                             file=record_file.name):
      feature = example.parse_example(raw, record_file.name,
                                      index).features.feature
      box = [feature[f'image/object/bbox/{k}'].float_list.value[0]
             for k in ('ymin', 'xmin', 'ymax', 'xmax')]
      expected[feature['image/filename'].bytes_list.value[0].decode()] = (
          feature['image/encoded'].bytes_list.value[0], box)
  assert len(expected) == 30
  builder = build('tfod_export/boxes', export, tmp_path)
  seen = 0
  for split in ('train', 'test'):
    for ex in examples(builder, split,
                       decoders={'image': tfds.decode.SkipDecoding()}):
      image, box = expected[ex['image/filename'].decode()]
      assert (ex['image'] == image) == (ex['image/filename'] != b'1.png')
      assert ex['objects']['bbox'].tolist() == [box]
      seen += 1
  assert seen == 30
