"""Property-based fuzzing, shared: settings, a valid image, one harness.

Every fuzz test runs `FUZZ_EXAMPLES` examples (60 by default, which keeps CI
within its budget). A longer run is one command:

  FUZZ_EXAMPLES=2000 bash scripts/test.sh -k fuzz
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile

from hypothesis import HealthCheck, settings, strategies as st

from tests.fixtures.writers import image_bytes
from tfds_builders.core import encode
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import first_seen, resolve_classes

FUZZ = settings(max_examples=int(os.environ.get('FUZZ_EXAMPLES', '60')),
                deadline=None, suppress_health_check=[HealthCheck.too_slow])
JPEG = image_bytes()

# Arbitrary JSON values, with the keys annotation files use.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 50) | st.floats(-5, 50) |
    st.text(max_size=6),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(['id', 'image_id', 'category_id', 'bbox', 'area',
                         'segmentation', 'iscrowd', 'counts', 'size',
                         'file_name', 'width', 'height', 'name']),
        children, max_size=6),
    max_leaves=20)


@contextlib.contextmanager
def written(files: dict[str, bytes]):
  """`files` (relative path -> bytes) written to a temporary export, as the
  ExportFiles a parser reads."""
  with tempfile.TemporaryDirectory() as tmp:
    root = pathlib.Path(tmp)
    for name, data in files.items():
      (root / name).parent.mkdir(parents=True, exist_ok=True)
      (root / name).write_bytes(data)
    yield ExportFiles(root)


def parse_and_encode(files: dict[str, bytes], parse_export) -> None:
  """Runs a format's parser (given the ExportFiles) and the shared encoder
  over `files`: every outcome is an example, a reported skip or an
  ExportError, never another exception."""
  with written(files) as export:
    try:
      parsed = parse_export(export)
      found = first_seen((o.label, r.annotation_file)
                         for r in parsed.records for o in r.objects)
      classes = resolve_classes(parsed.classes, found)
      for record in parsed.records:
        _, example, summary = encode.encode_record(
            record, 'train', classes, encode.EncodeOptions())
        assert (example is None) == (not summary.included)
    except ExportError:
      pass
