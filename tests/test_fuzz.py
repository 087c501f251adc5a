"""Property tests: arbitrary or mutated annotation files give valid examples
or our ExportError, never another exception."""

from __future__ import annotations

import json
import pathlib
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.bad_inputs.exports import box_xml, image_bytes
from tfds_builders.core import encode
from tfds_builders.core.errors import ExportError
from tfds_builders.core.labels import resolve_classes

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
JPEG = image_bytes()


def parse_and_encode(files: dict[str, bytes], parse_export) -> None:
  """Runs a format's parser and the shared encoder over `files`."""
  with tempfile.TemporaryDirectory() as tmp:
    root = pathlib.Path(tmp)
    for name, data in files.items():
      (root / name).parent.mkdir(parents=True, exist_ok=True)
      (root / name).write_bytes(data)
    try:
      parsed = parse_export(root)
      found = {o.label: r.annotation_file for r in parsed.records
               for o in r.objects}
      classes = resolve_classes(parsed.classes, found)
      for record in parsed.records:
        _, example, summary = encode.encode_record(
            record, 'train', classes, encode.EncodeOptions())
        assert (example is None) == (not summary.included)
    except ExportError:
      pass


def _voc_parse(root):
  from tfds_builders.voc import parse  # pylint: disable=g-import-not-at-top
  return parse.parse_export(root)


VALID_VOC = box_xml('a.jpg', [('cat', (2, 3, 20, 25)), ('dog', (5, 5, 9, 9))])


@FUZZ
@given(st.binary(max_size=400))
def test_voc_arbitrary_bytes(data):
  parse_and_encode({'images/a.jpg': JPEG, 'annotations/a.xml': data},
                   _voc_parse)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID_VOC)),
                          st.integers(0, 12),
                          st.text(alphabet=st.characters(
                              codec='utf-8', exclude_categories=['Cs']),
                                  max_size=8)), max_size=4))
def test_voc_mutated_xml(edits):
  xml = VALID_VOC
  for position, cut, insert in edits:
    position = min(position, len(xml))
    xml = xml[:position] + insert + xml[position + cut:]
  parse_and_encode({'images/a.jpg': JPEG,
                    'annotations/a.xml': xml.encode('utf-8')}, _voc_parse)


@FUZZ
@given(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-10**6,
                                                                 10**6),
                          st.text(max_size=5)), min_size=4, max_size=4))
def test_voc_arbitrary_coordinates(values):
  xml = box_xml('a.jpg', [('cat', tuple(values))])
  parse_and_encode({'images/a.jpg': JPEG,
                    'annotations/a.xml': xml.encode('utf-8', 'replace')},
                   _voc_parse)


# COCO JSON.

def _coco_parse(root):
  from tfds_builders.coco import parse  # pylint: disable=g-import-not-at-top
  return parse.parse_export(root)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 50) | st.floats(-5, 50) |
    st.text(max_size=6),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(['id', 'image_id', 'category_id', 'bbox', 'area',
                         'segmentation', 'iscrowd', 'counts', 'size',
                         'file_name', 'width', 'height', 'name']),
        children, max_size=6),
    max_leaves=20)


@FUZZ
@given(images=_JSON, annotations=_JSON, categories=_JSON)
def test_coco_arbitrary_structures(images, annotations, categories):
  data = {'images': images, 'annotations': annotations,
          'categories': categories}
  parse_and_encode({'images/a.jpg': JPEG,
                    'instances.json': json.dumps(data).encode()}, _coco_parse)


@FUZZ
@given(st.fixed_dictionaries({
    'id': _JSON, 'image_id': st.sampled_from([1, 2, '1', None]),
    'category_id': st.sampled_from([1, 2, 0, None]), 'bbox': _JSON,
    'segmentation': _JSON, 'iscrowd': _JSON, 'area': _JSON}))
def test_coco_mutated_annotation(annotation):
  data = {'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 40,
                      'height': 30}],
          'annotations': [annotation],
          'categories': [{'id': 1, 'name': 'cat'}, {'id': 2, 'name': 'dog'}]}
  parse_and_encode({'images/a.jpg': JPEG,
                    'instances.json': json.dumps(data).encode()}, _coco_parse)


# label_map.pbtxt.

VALID_PBTXT = ('item {\n  id: 1\n  name: "cat"\n  display_name: "Cat"\n}\n'
               "item: { name: 'dog'; id: 2 }\n")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID_PBTXT)),
                          st.integers(0, 6), st.text(max_size=6)),
                max_size=4))
def test_label_map_mutated_text(edits):
  from tfds_builders.tfod import label_map  # pylint: disable=g-import-not-at-top
  text = VALID_PBTXT
  for position, cut, insert in edits:
    text = text[:position] + insert + text[position + cut:]
  try:
    parsed = label_map.parse_label_map(text)
  except ExportError:
    return
  assert parsed.classes.names and len(set(parsed.classes.names)) == len(
      parsed.classes.names)


# Labelbox NDJSON.

def _labelbox_parse(root):
  from tfds_builders.labelbox import parse  # pylint: disable=g-import-not-at-top
  return parse.parse_export(root, dl_manager=None)


_OBJECT = st.fixed_dictionaries({
    'name': st.sampled_from(['car', '', None, 3]),
    'bounding_box': _JSON,
}, optional={'polygon': _JSON, 'point': _JSON, 'line': _JSON,
             'mask': _JSON, 'annotation_kind': _JSON})


@FUZZ
@given(objects=st.lists(_OBJECT, max_size=3),
       attributes=_JSON, data_row=_JSON)
def test_ndjson_mutated_rows(objects, attributes, data_row):
  good = {'data_row': {'id': 'a', 'global_key': 'a.jpg'},
          'media_attributes': {'width': 40, 'height': 30},
          'projects': {'p': {'labels': [{'annotations': {
              'objects': objects}}]}}}
  odd = {'data_row': data_row, 'media_attributes': attributes,
         'projects': {'p': {'labels': [{'annotations': {
             'objects': objects}}]}}}
  lines = '\n'.join(json.dumps(r) for r in (good, odd)).encode()
  parse_and_encode({'images/a.jpg': JPEG, 'export.ndjson': lines},
                   _labelbox_parse)


@FUZZ
@given(st.binary(max_size=300))
def test_ndjson_arbitrary_bytes(data):
  parse_and_encode({'images/a.jpg': JPEG, 'export.ndjson': data},
                   _labelbox_parse)
