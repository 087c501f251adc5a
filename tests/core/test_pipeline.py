"""tfds_builders.core.pipeline: classes, splits and checks before encoding."""

import json

import pytest

from tests.builds import build
from tests.fixtures.writers import box_xml, good_voc, image_bytes
from tfds_builders.core import encode, pipeline, report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.voc import parse


def prepare(export, **kwargs):
  return pipeline.prepare(ExportFiles(export), parse.parse_export, **kwargs)


def test_prepare_settles_classes_splits_and_sources(tmp_path):
  export = good_voc(tmp_path, **{
      'annotations/b.xml': box_xml('b.jpg', [('dog', (1, 1, 9, 9))])})
  prepared = prepare(export, test_fraction=0.0)
  assert prepared.classes.names == ('cat', 'dog')
  assert {k: [r.image_id for r in v] for k, v in prepared.by_split.items()} == {
      'train': ['a', 'b']}
  assert prepared.split_sources == {'train': {'hash of the image id': 2}}


def test_fixed_classes_and_strict(tmp_path):
  export = good_voc(tmp_path, **{'annotations/b.xml': '<annotation'})
  with pytest.raises(ExportError, match=r'strict mode; 1 item\(s\)'):
    prepare(export, strict=True)
  with pytest.raises(ExportError, match="not in the class list from the cars"
                     r" builder: 'cat' \(first in annotations/a.xml"):
    prepare(export, fixed_classes=('car',), fixed_source='the cars builder')


def test_all_media_missing_is_one_clear_error(tmp_path):
  export = good_voc(tmp_path, **{'images/a.jpg': None, 'images/b.jpg': None})
  with pytest.raises(ExportError, match=r"no media found: none of the 2"
                     r" images .* \(the first, 'a.jpg': looked for"):
    prepare(export)


def test_check_only_encodes_nothing_but_reports_the_same(tmp_path):
  export = good_voc(tmp_path, **{
      'images/b.jpg': image_bytes()[:-300],  # truncated
      'annotations/b.xml': box_xml('b.jpg', [('cat', (-5, 2, 10, 10))])})
  prepared = prepare(export)
  checked = [r for _, r in pipeline.encode_all(
      prepared, encode.EncodeOptions(check_only=True))]
  built = [r for _, r in pipeline.encode_all(prepared, encode.EncodeOptions())]
  assert all(example is None for _, example, _ in checked)
  assert [s.included for _, _, s in checked] == [True, True]
  # The header check passes the truncated JPEG; the build's decode does not.
  assert [s.included for _, _, s in built] == [True, False]
  assert checked[0][2].boxes == built[0][2].boxes


def test_every_build_writes_an_image_index(tmp_path):
  builder = build('voc_export/boxes', good_voc(tmp_path), tmp_path / 'data')
  lines = (builder.data_path / report.INDEX_FILENAME).read_text().splitlines()
  rows = [json.loads(line) for line in lines]
  assert [r['id'] for r in rows] == ['a', 'b']
  assert rows[0]['objects'] == [['cat', 0.1, 0.05, 0.833333, 0.5]]
  assert len(rows[0]['sha256']) == 64 and rows[0]['split'] in ('train',
                                                               'test')


def test_nothing_left_says_what_was_skipped(tmp_path):
  """Every object skipped must not read as an export without objects."""
  xml = box_xml('a.jpg').replace('<xmin>2</xmin>', '<xmin>1_0</xmin>')
  export = tmp_path / 'export'
  (export / 'images').mkdir(parents=True)
  (export / 'images' / 'a.jpg').write_bytes(image_bytes())
  (export / 'a.xml').write_text(xml)
  with pytest.raises(ExportError) as raised:
    prepare(export)
  assert raised.value.problem == (
      'the export has no labelled objects, so there is no class list; 1'
      ' image(s) or object(s) were skipped, the first: a.xml: object #1'
      " (cat): <xmin> '1_0' is not a decimal number.")
  assert raised.value.fix.startswith('Fix what was skipped, or: Add labels')
