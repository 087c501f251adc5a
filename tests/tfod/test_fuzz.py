"""Fuzzing the label map parser with mutated text."""

from __future__ import annotations

from hypothesis import given, strategies as st

from tests.fuzzing import FUZZ
from tfds_builders.core.errors import ExportError
from tfds_builders.tfod import label_map

VALID_PBTXT = ('item {\n  id: 1\n  name: "cat"\n  display_name: "Cat"\n}\n'
               "item: { name: 'dog'; id: 2 }\n")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID_PBTXT)),
                          st.integers(0, 6), st.text(max_size=6)),
                max_size=4))
def test_label_map_mutated_text(edits):
  text = VALID_PBTXT
  for position, cut, insert in edits:
    text = text[:position] + insert + text[position + cut:]
  try:
    parsed = label_map.parse_label_map(text)
  except ExportError:
    return
  assert parsed.classes.names and len(set(parsed.classes.names)) == len(
      parsed.classes.names)
