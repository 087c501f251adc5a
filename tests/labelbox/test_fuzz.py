"""Fuzzing the Labelbox NDJSON reader with mutated rows and bytes."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from tests.fuzzing import FUZZ, JPEG, JSON_VALUES, parse_and_encode
from tfds_builders.labelbox import parse


def _labelbox_parse(files):
  return parse.parse_export(files, dl_manager=None)


_OBJECT = st.fixed_dictionaries({
    'name': st.sampled_from(['car', '', None, 3]),
    'bounding_box': JSON_VALUES,
}, optional={'polygon': JSON_VALUES, 'point': JSON_VALUES, 'line': JSON_VALUES,
             'mask': JSON_VALUES, 'annotation_kind': JSON_VALUES})


@FUZZ
@given(objects=st.lists(_OBJECT, max_size=3),
       attributes=JSON_VALUES, data_row=JSON_VALUES)
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
