"""Bad TF Object Detection API records, continued: objects counted
whatever their lists hold, text that is not UTF-8, shard sets with files
missing (records from tests/fixtures/tfod_records.py).
"""

from tests.builds import build, examples, read_report
from tests.fixtures.tfod_records import GOOD, JPEG, example, export, issues
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.tfod import parse


def test_objects_without_float_boxes_are_counted_as_lost(tmp_path):
  """Objects count by their longest list, whatever its kind: int64 boxes
  and labels without boxes skip their record with every object counted."""
  int_boxes = example(JPEG, (), image__filename=[b'b.jpg'],
                       image__object__class__label=[1, 2],
                       **{f'image__object__bbox__{k}': [0, 1] for k in
                          ('xmin', 'ymin', 'xmax', 'ymax')})
  no_boxes = example(JPEG, (), image__filename=[b'c.jpg'],
                      image__object__class__text=[b'cat', b'dog'],
                      image__object__class__label=[1, 2])
  root = export(tmp_path, [GOOD, int_boxes, no_boxes])
  report = read_report(build('tfod_export/boxes', root, tmp_path / 'data'))
  assert report['export'] == {'images': 3, 'objects': 5}
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  assert report['nothing_lost'] and report['skipped']['objects'] == 4
  assert issues(report) == [
      ('train.record record 1', '', 'image/object/bbox/xmin holds'
       ' int64_list, expected float_list.', 'skipped image', 2),
      ('train.record record 2', '', 'the record lists 2 objects but no boxes'
       ' (image/object/bbox/*); they cannot be placed.', 'skipped image', 2)]


def test_dense_masks_do_not_count_as_objects(tmp_path):
  """A dense mask holds objects x height x width floats, not one per
  object: one box with a 40x30 dense mask is one object."""
  dense = example(JPEG, [(0.1, 0.1, 0.5, 0.5)], image__filename=[b'b.jpg'],
                   image__object__class__label=[1],
                   image__object__mask=[1.0] * (40 * 30))
  parsed = parse.parse_export(ExportFiles(export(tmp_path, [dense])))
  assert (parsed.export_objects, parsed.issues) == (1, [])
  assert len(parsed.records[0].objects) == 1


# Text that is not UTF-8: never a class, never two names made one.


def test_class_text_that_is_not_utf8_skips_its_object(tmp_path):
  boxes = [(0.1, 0.1, 0.5, 0.5), (0.5, 0.5, 0.9, 0.9)]
  no_map = export(tmp_path / 'a', [example(
      JPEG, boxes, image__filename=[b'b.jpg'],
      image__object__class__text=[b'\xff\xfecat', b'cat'])],
                   label_map_text=None)
  parsed = parse.parse_export(ExportFiles(no_map))
  assert [o.label for o in parsed.records[0].objects] == ['cat']
  assert [(i.file, i.item, i.problem, i.action, i.objects_lost)
          for i in parsed.issues] == [
      ('train.record record 0', 'object #1', "image/object/class/text"
       " b'\\xff\\xfecat' is not UTF-8 (byte 0xff at offset 0); the class"
       ' cannot be read.', 'skipped object', 1)]
  # With a label map, the label id still names the class (warned).
  mapped = export(tmp_path / 'b', [example(
      JPEG, boxes, image__filename=[b'b.jpg'],
      image__object__class__text=[b'\xffcat', b'\xffdog'],
      image__object__class__label=[2, 0])])
  report = read_report(build('tfod_export/boxes', mapped, tmp_path / 'data'))
  assert report['nothing_lost'] and report['skipped']['objects'] == 1
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  assert issues(report) == [
      ('train.record record 0', 'object #1', "image/object/class/text"
       " b'\\xffcat' is not UTF-8 (byte 0xff at offset 0); the class is label"
       " id 2 ('dog')", 'warning', 0),
      ('train.record record 0', 'object #2', "image/object/class/text"
       " b'\\xffdog' is not UTF-8 (byte 0xff at offset 0); the class cannot"
       ' be read.', 'skipped object', 1)]


def test_ids_that_are_not_utf8_stay_distinct(tmp_path):
  """b'\\xff\\xfe' and b'\\xfe\\xff' are two ids, not two U+FFFD pairs (one
  of them a "duplicate"): kept as backslash escapes, warned."""
  records = [example(JPEG, [(0.1, 0.1, 0.5, 0.5)], image__filename=[name],
                      image__source_id=[name[:2]],
                      image__object__class__label=[1])
             for name in (b'\xff\xfe.jpg', b'\xfe\xff.jpg')]
  root = export(tmp_path, records)
  builder = build('tfod_export/boxes', root, tmp_path / 'data')
  report = read_report(builder)
  assert report['dataset_totals'] == {'images': 2, 'objects': 2}
  assert report['nothing_lost']
  ids = sorted(ex['image/id'].decode() for split in builder.info.splits
               for ex in examples(builder, split))
  assert ids == ['\\xfe\\xff', '\\xff\\xfe']
  assert [(i[0], i[1], i[3]) for i in issues(report)] == [
      (f'train.record record {r}', key, 'warning') for r in (0, 1)
      for key in ('image/filename', 'image/source_id')]
  assert issues(report)[1][2] == (
      "image/source_id b'\\xff\\xfe' is not UTF-8 (byte 0xff at offset 0);"
      ' kept as "\\xff\\xfe" (backslash escapes)')


def test_image_filename_not_utf8_without_embedded_image(tmp_path):
  record = example(b'', [(0.1, 0.1, 0.5, 0.5)], image__filename=[b'\xff.jpg'],
                    image__object__class__label=[1])
  parsed = parse.parse_export(ExportFiles(export(tmp_path, [record])))
  assert parsed.records[0].filename == '\\xff.jpg'
  assert parsed.records[0].missing_image == (
      'image/filename is not UTF-8, so the image file it names cannot be'
      ' looked up')


# Shards: the ones present are built, the missing ones named.


def test_missing_and_mixed_shards_are_warned(tmp_path):
  root = export(tmp_path, [GOOD], name='train.record-00000-of-00003')
  export(tmp_path, [GOOD], name='train.record-00002-of-00003')
  export(tmp_path, [GOOD], name='val.record-00001-of-00002.gz')
  export(tmp_path, [GOOD], name='val.record-00000-of-00003.gz')
  export(tmp_path, [GOOD], name='test.record-00000-of-00001')
  parsed = parse.parse_export(ExportFiles(root))
  assert parsed.export_images == 5 and len(parsed.records) == 5
  assert [(i.file, i.item, i.problem, i.action) for i in parsed.issues] == [
      ('train.record-*-of-*', 'shard files', '1 shard file(s) missing:'
       ' train.record-00001-of-00003; the records of the 2 shard file(s)'
       ' present are built', 'warning'),
      ('val.record-*-of-*.gz', 'shard files', 'the shard files disagree on'
       ' the number of shards (val.record-00000-of-00003.gz says 3,'
       ' val.record-00001-of-00002.gz says 2); 3 shard file(s) missing:'
       ' val.record-00000-of-00002.gz, val.record-00001-of-00003.gz,'
       ' val.record-00002-of-00003.gz; the records of the 2 shard file(s)'
       ' present are built', 'warning')]
