"""Fuzzing the COCO parser: arbitrary structures and annotations, category
lists, and files about the same images. Beyond "no exception but
ExportError", the accounting must balance: every annotation of the export is
kept or reported lost, ids are unique, and an image file is one example."""

from __future__ import annotations

import collections
import json

from hypothesis import given, strategies as st

from tests.fuzzing import written, FUZZ, JPEG, JSON_VALUES, parse_and_encode
from tfds_builders.coco import parse
from tfds_builders.core import encode
from tfds_builders.core.errors import ExportError
from tfds_builders.core.labels import BACKGROUND, first_seen, resolve_classes


def _coco_parse(files):
  return parse.parse_export(files)


@FUZZ
@given(images=JSON_VALUES, annotations=JSON_VALUES, categories=JSON_VALUES)
def test_coco_arbitrary_structures(images, annotations, categories):
  data = {'images': images, 'annotations': annotations,
          'categories': categories}
  parse_and_encode({'images/a.jpg': JPEG,
                    'instances.json': json.dumps(data).encode()}, _coco_parse)


@FUZZ
@given(st.fixed_dictionaries({
    'id': JSON_VALUES, 'image_id': st.sampled_from([1, 2, '1', None]),
    'category_id': st.sampled_from([1, 2, 0, None]), 'bbox': JSON_VALUES,
    'segmentation': JSON_VALUES, 'iscrowd': JSON_VALUES, 'area': JSON_VALUES}))
def test_coco_mutated_annotation(annotation):
  data = {'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 40,
                      'height': 30}],
          'annotations': [annotation],
          'categories': [{'id': 1, 'name': 'cat'}, {'id': 2, 'name': 'dog'}]}
  _check_accounting({'images/a.jpg': JPEG,
                     'instances.json': json.dumps(data).encode()})


_IDS = st.sampled_from([0, 1, 2, 3, 'a'])
_CATEGORY = st.fixed_dictionaries({
    'id': _IDS, 'name': st.sampled_from(['cat', 'dog', 'pets', BACKGROUND]),
    'supercategory': st.sampled_from(['none', 'pets', 'cat', None])})


@FUZZ
@given(categories=st.lists(_CATEGORY, min_size=1, max_size=5),
       used=st.lists(_IDS, max_size=4))
def test_coco_category_lists(categories, used):
  data = {'images': [{'id': 1, 'file_name': 'a.jpg'}],
          'annotations': [{'id': i, 'image_id': 1, 'category_id': c,
                           'bbox': [2, 2, 10, 10]}
                          for i, c in enumerate(used)],
          'categories': categories}
  parsed = _check_accounting({'images/a.jpg': JPEG,
                              'instances.json': json.dumps(data).encode()})
  if parsed is None:
    return
  names = parsed.classes.names
  assert len(set(names)) == len(names) and BACKGROUND not in names
  for category in parsed.categories:
    assert names[category['label']] == category['name']
  assert {c['label'] for c in parsed.categories} == set(range(len(names)))
  for obj in parsed.records[0].objects:
    assert obj.label in names or obj.label == BACKGROUND


_IMAGE = st.sampled_from(['a.jpg', 'b.jpg', 'c.jpg'])


def _file(images, annotations):
  return json.dumps({
      'images': [{'id': i, 'file_name': name} for i, name in images],
      'annotations': [{'id': a, 'image_id': i, 'category_id': c,
                       'bbox': [1, 1, 8, 8]} for a, i, c in annotations],
      'categories': [{'id': 1, 'name': 'person'},
                     {'id': 2, 'name': 'dog'}]}).encode()


@FUZZ
@given(st.lists(st.tuples(st.integers(1, 3), _IMAGE), max_size=4),
       st.lists(st.tuples(st.integers(1, 3), _IMAGE), max_size=4),
       st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3),
                          st.integers(1, 2)), max_size=5),
       st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3),
                          st.integers(1, 2)), max_size=5))
def test_coco_files_about_the_same_images(images_a, images_b, anns_a,
                                          anns_b):
  parsed = _check_accounting({
      'images/a.jpg': JPEG, 'images/b.jpg': JPEG,
      'annotations/instances_val.json': _file(images_a, anns_a),
      'annotations/person_keypoints_val.json': _file(images_b, anns_b)})
  if parsed is not None:
    per_file = collections.Counter((r.split, r.filename)
                                   for r in parsed.records)
    assert max(per_file.values(), default=1) == 1


def _check_accounting(files: dict[str, bytes]):
  """Parses and encodes `files`; returns the parsed export, or None when it
  is refused with an ExportError. Every annotation is kept or reported."""
  with written(files) as export:
    try:
      parsed = parse.parse_export(export)
      classes = resolve_classes(parsed.classes, first_seen(
          (o.label, r.annotation_file) for r in parsed.records
          for o in r.objects))
      kept = lost = 0
      for record in parsed.records:
        _, example, summary = encode.encode_record(
            record, 'train', classes, encode.EncodeOptions(
                instance_masks=False))
        assert (example is None) == (not summary.included)
        kept += len(summary.labels)
        lost += sum(i.objects_lost for i in summary.issues)
    except ExportError:
      return None
  lost += sum(i.objects_lost for i in parsed.issues)
  assert parsed.export_objects == kept + lost, parsed.issues
  ids = [r.image_id for r in parsed.records]
  assert len(set(ids)) == len(ids)
  return parsed
