"""labelbox_export media downloads, against a real HTTP server on 127.0.0.1."""

import json

import numpy as np
from PIL import Image
import pytest

from tests.builds import examples, read_report
from tests.http_server import serve
from tests.paths import DUMMY_DATA
import tensorflow_datasets as tfds
from tfds_builders.labelbox import media

NDJSON = DUMMY_DATA / 'labelbox_export' / 'ndjson'


def write_export(folder, base: str) -> None:
  """Image + mask served; images that 404, time out, and are refused."""
  def row(row_id, name, objects):
    return json.dumps({
        'data_row': {'id': row_id, 'global_key': name,
                     'row_data': f'{base}/{name}?X-Goog-Signature=secret'},
        'media_attributes': {'width': 40, 'height': 30,
                             'mime_type': 'image/jpeg'},
        'projects': {'p': {'labels': [{'annotations': {'objects': objects}}]}}
    })
  mask = {'name': 'car', 'feature_id': 'fmask',
          'mask': {'url': f'{base}/mask/fmask'}}
  box = {'name': 'car', 'bounding_box': {'top': 1, 'left': 1, 'height': 5,
                                         'width': 5}}
  folder.mkdir(parents=True)
  (folder / 'export.ndjson').write_text('\n'.join([
      row('crow1', 'served.jpg', [mask, box]),
      row('crow2', 'missing.jpg', [box]),
      row('crow3', 'slow.jpg', [box]),
      row('crow4', 'expired.jpg', [box])]) + '\n')


@pytest.fixture
def served(tmp_path):
  remote = tmp_path / 'remote'
  (remote / 'mask').mkdir(parents=True)
  (remote / 'served.jpg').write_bytes((NDJSON / 'images' / 'a.jpg').read_bytes())
  (remote / 'slow.jpg').write_bytes((NDJSON / 'images' / 'f.jpg').read_bytes())
  (remote / 'mask' / 'fmask').write_bytes(
      (NDJSON / 'masks' / 'fmaska.png').read_bytes())
  with serve(remote, slow_paths={'/slow.jpg?X-Goog-Signature=secret'}) as (
      base, seen):
    write_export(tmp_path / 'export', base)
    yield tmp_path, base, seen


def build_into(export, data_dir, download_dir):
  builder = tfds.builder('labelbox_export', data_dir=str(data_dir))
  builder.download_and_prepare(
      download_dir=str(download_dir),
      download_config=tfds.download.DownloadConfig(manual_dir=str(export)))
  return builder


def test_media_are_downloaded_cached_and_failures_reported(
    served, monkeypatch):
  tmp_path, base, seen = served
  monkeypatch.setattr(media, 'TIMEOUT_S', (1, 1))
  monkeypatch.setenv(media.API_KEY_ENV, 'sekret')
  builder = build_into(tmp_path / 'export', tmp_path / 'data',
                       tmp_path / 'downloads')
  got = {ex['image/id'].decode(): ex for split in builder.info.splits
         for ex in examples(builder, split, decoders={
             'image': tfds.decode.SkipDecoding()})}
  assert sorted(got) == ['crow1']
  ex = got['crow1']
  assert ex['image'] == (NDJSON / 'images' / 'a.jpg').read_bytes()
  assert ex['image/filename'] == b'served.jpg'
  with Image.open(NDJSON / 'masks' / 'fmaska.png') as png:
    np.testing.assert_array_equal(ex['objects']['mask'][0][:, :, 0],
                                  np.asarray(png) > 0)
  report = read_report(builder)
  assert report['nothing_lost']
  problems = {i['item']: i['problem'] for i in report['issues']}
  assert problems['line 2 (data row crow2)'].endswith(
      f'in images/, ./; download of {base}/missing.jpg failed (HTTP 404)')
  assert problems['line 3 (data row crow3)'].endswith(
      f'download of {base}/slow.jpg failed (ReadTimeout)')
  assert problems['line 4 (data row crow4)'].endswith(
      f'download of {base}/expired.jpg failed (HTTP 403); signed URLs expire:'
      ' export again, or set LABELBOX_API_KEY for Labelbox-hosted media')
  assert 'secret' not in json.dumps(report)  # signed URL query left out
  # The key is for Labelbox hosts only, never sent to 127.0.0.1.
  assert all(auth is None for _, auth in seen)
  cache = tmp_path / 'downloads' / media.CACHE_DIR
  assert len((cache / 'labelbox_media.tsv').read_text().splitlines()) == 2
  # A second build from the same download folder fetches nothing again...
  before = len(seen)
  build_into(tmp_path / 'export', tmp_path / 'data2', tmp_path / 'downloads')
  assert {p for p, _ in seen[before:]} == {
      '/missing.jpg?X-Goog-Signature=secret',
      '/slow.jpg?X-Goog-Signature=secret',
      '/expired.jpg?X-Goog-Signature=secret'}
  # ...unless a cached file no longer matches its checksum.
  for path in cache.glob('*.jpg'):
    path.write_bytes(b'corrupt')
  before = len(seen)
  build_into(tmp_path / 'export', tmp_path / 'data3', tmp_path / 'downloads')
  assert '/served.jpg?X-Goog-Signature=secret' in {p for p, _ in seen[before:]}


def test_api_key_is_sent_as_bearer_token_to_labelbox_hosts(
    served, monkeypatch):
  tmp_path, _, seen = served
  monkeypatch.setattr(media, 'API_KEY_HOSTS', ('127.0.0.1',))
  monkeypatch.setattr(media, 'TIMEOUT_S', (1, 1))
  monkeypatch.setenv(media.API_KEY_ENV, 'sekret')
  build_into(tmp_path / 'export', tmp_path / 'data', tmp_path / 'downloads')
  assert seen and all(auth == 'Bearer sekret' for _, auth in seen)


def test_only_http_urls_are_fetched(tmp_path):
  finder = media.MediaFinder(tmp_path, tmp_path / 'downloads')
  for url in ('file:///etc/passwd', 'ftp://example.com/a.jpg',
              'gs://bucket/a.jpg'):
    found = finder.find(media.Media(('a.jpg',), url), file='export.ndjson')
    assert found.path is None and 'not an http(s) URL' in found.problem
  assert not (tmp_path / 'downloads').exists()


def test_names_from_the_export_never_leave_it(tmp_path):
  (tmp_path / 'export' / 'images').mkdir(parents=True)
  (tmp_path / 'secret.jpg').write_bytes(b'x')
  finder = media.MediaFinder(tmp_path / 'export', None)
  for name in ('../secret.jpg', '../../secret.jpg', str(tmp_path /
                                                         'secret.jpg')):
    assert finder.find_local(media.Media((name,)), file='e.ndjson') is None
