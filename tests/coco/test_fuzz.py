"""Fuzzing the COCO parser with arbitrary structures and annotations."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from tests.fuzzing import FUZZ, JPEG, JSON_VALUES, parse_and_encode
from tfds_builders.coco import parse


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
  parse_and_encode({'images/a.jpg': JPEG,
                    'instances.json': json.dumps(data).encode()}, _coco_parse)
