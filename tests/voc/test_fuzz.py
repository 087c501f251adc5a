"""Fuzzing the VOC parser: arbitrary or mutated XML gives examples,
reported skips or ExportError, never another exception."""

from __future__ import annotations

from hypothesis import given, strategies as st

from tests.fuzzing import FUZZ, JPEG, parse_and_encode
from tests.fixtures.writers import box_xml
from tfds_builders.voc import parse


def _voc_parse(files):
  return parse.parse_export(files)


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
