"""labelbox_export on a real export v2 (../shared/data/conformance).

`labelbox_ndjson_zealot`: 30 rows of `export-result.ndjson` whose images are
signed storage.labelbox.com URLs that expired long ago (and are unreachable
from the test machines). As it is, the build must fail at once with "no
media found", naming the first image and where it looked; with its images
in `images/` (named by external id, spaces and all) it builds exactly as
its MANIFEST.md section says. Skipped when ../shared is absent.
"""

import json
import re
import shutil
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tests.builds import build, examples, read_report
from tests.fixtures.writers import jpeg
from tests.paths import shared_export
from tfds_builders.core.errors import ExportError

ZEALOT = 'conformance/labelbox_ndjson_zealot'
NDJSON = 'export-result.ndjson'


def test_zealot_without_images_fails_fast_with_no_media_found(tmp_path):
  export = shared_export(ZEALOT)
  start = time.monotonic()
  with pytest.raises(ExportError) as raised:
    build('labelbox_export', export, tmp_path / 'data')
  # One attempt on the unreachable (or refusing) host, not 30 timeouts.
  assert time.monotonic() - start < 60
  assert raised.value.file == NDJSON
  first = 'cligp2u4d04zj072a36275s1x%2F4e688fae-f3e5-1e62-a180-308240f09a19'
  assert re.fullmatch(
      re.escape(
          "no media found: none of the 30 images the annotations name is in"
          " the export (the first, '2023-06-04 09-31-34_71.jpg': looked for"
          ' 2023-06-04 09-31-34_71.jpg, cligsj8b315wb07488ba0gdh2.(jpg|jpeg|'
          'png|webp|bmp|tif|tiff), cligp2u4d04zj072a36275s1x/4e688fae-f3e5-'
          '1e62-a180-308240f09a19-2023-06-04 09-31-34_71.jpg in images/, ./;'
          f' download of https://storage.labelbox.com/{first}-2023-06-04%20'
          '09-31-34_71.jpg ') + r'(failed|was cut off) .*\)\.',
      raised.value.problem), raised.value.problem
  assert 'Signature' not in str(raised.value)  # the signed query is left out
  assert raised.value.fix.startswith('Put the images in the export folder')


@pytest.fixture(scope='module')
def zealot_with_images(tmp_path_factory):
  """The NDJSON beside a 720x375 JPEG per row, named by external id."""
  export = tmp_path_factory.mktemp('zealot') / 'export'
  export.mkdir()
  shutil.copyfile(shared_export(ZEALOT) / NDJSON, export / NDJSON)
  rows = [json.loads(line) for line in (export / NDJSON).read_text(
      encoding='utf-8').splitlines()]
  for seed, row in enumerate(rows):
    name = row['data_row']['external_id']
    (export / 'images').mkdir(exist_ok=True)
    (export / 'images' / name).write_bytes(jpeg(720, 375, seed))
  data = tmp_path_factory.mktemp('zealot_data')
  return rows, build('labelbox_export/boxes', export, data)


def test_zealot_builds_as_the_manifest_says(zealot_with_images):
  rows, builder = zealot_with_images
  report = read_report(builder)
  assert builder.info.features['objects']['label'].names == ['Zealot']
  assert report['export'] == {'images': 30, 'objects': 46}
  assert report['dataset_totals'] == {'images': 30, 'objects': 46}
  assert report['nothing_lost'] and report['issues'] == []
  assert {name: sources for name, sources in report['split_sources'].items()
          } == {name: {'hash of the image id': split['images']}
                for name, split in report['splits'].items()}
  assert sum(s['objects_per_class']['Zealot']
             for s in report['splits'].values()) == 46


def test_zealot_rows_without_objects_are_kept_as_negatives(zealot_with_images):
  """The 8 rows whose label has no objects were looked at and hold no
  Zealot: kept as images without objects (nothing is lost silently)."""
  rows, builder = zealot_with_images
  skip = {'image': tfds.decode.SkipDecoding()}
  got = {ex['image/id'].decode(): ex for split in builder.info.splits
         for ex in examples(builder, split, decoders=skip)}
  assert sorted(got) == sorted(r['data_row']['id'] for r in rows)
  empty = [row_id for row_id, ex in got.items()
           if len(ex['objects']['label']) == 0]
  assert len(empty) == 8
  first = got['cligsj8b315wb07488ba0gdh2']
  assert first['image/filename'] == b'images/2023-06-04 09-31-34_71.jpg'
  # {top 167, left 350, height 34, width 14} on 720x375, as ymin, xmin...
  np.testing.assert_allclose(first['objects']['bbox'][0], [
      167 / 375, 350 / 720, 201 / 375, 364 / 720], rtol=1e-6)
