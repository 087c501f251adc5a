"""labelbox_export media downloads, against a real HTTP server on 127.0.0.1.

The bounds are set small in the builder config (`download_deadline_s`,
`max_download_bytes`), so a server that drips or streams forever is cut off
within seconds.
"""

import json
import re
import socket
import time

import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds

from tests.builds import examples, read_report
from tests.http_server import serve
from tests.paths import DUMMY_DATA
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.labelbox import download, media
from tfds_builders.labelbox.builder import LabelboxConfig

NDJSON = DUMMY_DATA / 'labelbox_export' / 'ndjson'
SIGNED = '?X-Goog-Signature=secret'


def row(base: str, row_id: str, name: str, objects) -> str:
  return json.dumps({
      'data_row': {'id': row_id, 'global_key': name,
                   'row_data': f'{base}/{name}{SIGNED}'},
      'media_attributes': {'width': 40, 'height': 30,
                           'mime_type': 'image/jpeg'},
      'projects': {'p': {'labels': [{'annotations': {'objects': objects}}]}}})


BOX = {'name': 'car', 'bounding_box': {'top': 1, 'left': 1, 'height': 5,
                                       'width': 5}}


def write_export(folder, base: str, names) -> None:
  """The first row has the served image and a served mask; the others a
  box each, on images named `names`."""
  mask = {'name': 'car', 'feature_id': 'fmask',
          'mask': {'url': f'{base}/mask/fmask'}}
  folder.mkdir(parents=True)
  (folder / 'export.ndjson').write_text('\n'.join(
      [row(base, 'crow1', 'served.jpg', [mask, BOX])]
      + [row(base, f'crow{i + 2}', name, [BOX])
         for i, name in enumerate(names)]) + '\n')


def build_into(export, data_dir, download_dir, **config):
  """All images in train (test_fraction 0), with `config`'s bounds."""
  builder = tfds.builder('labelbox_export', data_dir=str(data_dir),
                         config=LabelboxConfig(name='bounded',
                                               test_fraction=0.0, **config))
  builder.download_and_prepare(
      download_dir=str(download_dir),
      download_config=tfds.download.DownloadConfig(manual_dir=str(export)))
  return builder


@pytest.fixture
def remote(tmp_path):
  folder = tmp_path / 'remote'
  (folder / 'mask').mkdir(parents=True)
  (folder / 'served.jpg').write_bytes(
      (NDJSON / 'images' / 'a.jpg').read_bytes())
  (folder / 'mask' / 'fmask').write_bytes(
      (NDJSON / 'masks' / 'fmaska.png').read_bytes())
  return folder


def test_media_are_downloaded_cached_and_failures_reported(
    tmp_path, remote, monkeypatch):
  monkeypatch.setenv(download.API_KEY_ENV, 'sekret')
  with serve(remote, slow_paths={f'/slow.jpg{SIGNED}'}) as (base, seen):
    write_export(tmp_path / 'export', base,
                 ['missing.jpg', 'slow.jpg', 'expired.jpg'])
    builder = build_into(tmp_path / 'export', tmp_path / 'data',
                         tmp_path / 'downloads', download_deadline_s=1.0)
    got = {ex['image/id'].decode(): ex for ex in examples(
        builder, 'train', decoders={'image': tfds.decode.SkipDecoding()})}
    assert sorted(got) == ['crow1']
    ex = got['crow1']
    assert ex['image'] == (NDJSON / 'images' / 'a.jpg').read_bytes()
    assert ex['image/filename'] == b'served.jpg'
    with Image.open(NDJSON / 'masks' / 'fmaska.png') as png:
      np.testing.assert_array_equal(ex['objects']['mask'][0][:, :, 0],
                                    np.asarray(png) > 0)
    report = read_report(builder)
    assert report['nothing_lost']
    looked = ('image file not found: looked for {0}, crow{1}.(jpg|jpeg|png|'
              'webp|bmp|tif|tiff) in images/, ./; download of {2}/{0} ')
    by_file = {i['file']: i['problem'] for i in report['issues']}
    assert by_file['missing.jpg'] == looked.format(
        'missing.jpg', 2, base) + 'failed (HTTP 404).'
    assert by_file['slow.jpg'] == looked.format('slow.jpg', 3, base) + (
        'was cut off at the 1 s deadline (download_deadline_s) after 0'
        ' bytes.')
    assert by_file['expired.jpg'] == looked.format('expired.jpg', 4, base) + (
        'failed (HTTP 403); signed URLs expire: export again, or set'
        ' LABELBOX_API_KEY for Labelbox-hosted media.')
    assert 'secret' not in json.dumps(report)  # signed URL query left out
    # The key is for Labelbox hosts only, never sent to 127.0.0.1.
    assert all(auth is None for _, auth in seen)
    cache = tmp_path / 'downloads' / download.CACHE_DIR
    assert len((cache / download.CHECKSUMS).read_text().splitlines()) == 2
    assert sorted(p.suffix for p in cache.iterdir()) == ['', '.jpg', '.tsv']
    # A second build from the same download folder fetches nothing again...
    before = len(seen)
    build_into(tmp_path / 'export', tmp_path / 'data2',
               tmp_path / 'downloads', download_deadline_s=1.0)
    assert {p for p, _ in seen[before:]} == {
        f'/missing.jpg{SIGNED}', f'/slow.jpg{SIGNED}', f'/expired.jpg{SIGNED}'}
    # ...unless a cached file no longer matches its checksum.
    for path in cache.glob('*.jpg'):
      path.write_bytes(b'corrupt')
    before = len(seen)
    build_into(tmp_path / 'export', tmp_path / 'data3',
               tmp_path / 'downloads', download_deadline_s=1.0)
    assert f'/served.jpg{SIGNED}' in {p for p, _ in seen[before:]}


def test_a_dripping_server_is_cut_off_at_the_deadline(tmp_path, remote):
  """One byte every 0.2 s never trips a read timeout; the deadline does."""
  with serve(remote, drip_paths={f'/drip.jpg{SIGNED}'}) as (base, _):
    write_export(tmp_path / 'export', base, ['drip.jpg'])
    start = time.monotonic()
    builder = build_into(tmp_path / 'export', tmp_path / 'data',
                         tmp_path / 'downloads', download_deadline_s=1.5)
    # The download took the deadline, not the 1 MiB / 5 bytes per s.
    assert time.monotonic() - start < 30
  report = read_report(builder)
  [drip] = [i for i in report['issues'] if i['file'] == 'drip.jpg']
  assert (drip['action'], drip['objects_lost']) == ('skipped image', 1)
  assert re.fullmatch(
      r'image file not found: .* download of http://127\.0\.0\.1:\d+/drip\.jpg'
      r' was cut off at the 1\.5 s deadline \(download_deadline_s\) after'
      r' [5-9] bytes\.', drip['problem'])
  assert not list((tmp_path / 'downloads').rglob('*.tmp*'))  # nothing left


def test_an_endless_stream_stops_at_the_size_cap(tmp_path, remote):
  endless = {f'/endless.jpg{SIGNED}': None,  # no Content-Length
             f'/huge.jpg{SIGNED}': 10**12}  # one that says 1 TB
  with serve(remote, endless_paths=endless) as (base, _):
    write_export(tmp_path / 'export', base, ['endless.jpg', 'huge.jpg'])
    builder = build_into(tmp_path / 'export', tmp_path / 'data',
                         tmp_path / 'downloads', max_download_bytes=1 << 20)
  by_file = {i['file']: i['problem'] for i in read_report(builder)['issues']}
  assert by_file['endless.jpg'].endswith(
      '/endless.jpg was cut off at 1,048,576 bytes, the most allowed for one'
      ' file (max_download_bytes).')
  assert by_file['huge.jpg'].endswith(
      '/huge.jpg was refused: its Content-Length is 1,000,000,000,000 bytes,'
      ' more than the 1,048,576 allowed (max_download_bytes).')
  assert sorted(ex['image/id'] for ex in examples(builder, 'train')) == [
      b'crow1']
  assert not list((tmp_path / 'downloads').rglob('*.tmp*'))


def test_an_unreachable_host_is_tried_once(tmp_path):
  """A refused connection fails the host's other URLs at once (an expired
  export of 1,000 images on an unreachable host fails in seconds)."""
  with socket.socket() as probe:  # a port nothing listens on
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
  fetcher = download.Downloader(tmp_path / 'downloads')
  urls = [f'http://127.0.0.1:{port}/{i}.jpg' for i in range(20)]
  start = time.monotonic()
  fetcher.fetch_all(urls)
  assert time.monotonic() - start < 5
  results = [fetcher.fetch(url) for url in urls]
  assert results[0] == (None, f'download of {urls[0]} failed (127.0.0.1'
                              ' refuses the connection)')
  assert all(r == (None, f'download of {url} not tried: 127.0.0.1 could not'
                         ' be reached for another file (127.0.0.1 refuses the'
                         ' connection)')
             for url, r in zip(urls[1:], results[1:]))


def test_api_key_is_sent_as_bearer_token_to_labelbox_hosts(
    tmp_path, remote, monkeypatch):
  monkeypatch.setattr(download, 'API_KEY_HOSTS', ('127.0.0.1',))
  monkeypatch.setenv(download.API_KEY_ENV, 'sekret')
  with serve(remote) as (base, seen):
    write_export(tmp_path / 'export', base, [])
    build_into(tmp_path / 'export', tmp_path / 'data', tmp_path / 'downloads')
  assert len(seen) == 2 and all(auth == 'Bearer sekret' for _, auth in seen)


def test_only_http_urls_are_fetched(tmp_path):
  (tmp_path / 'export').mkdir()
  finder = media.MediaFinder(ExportFiles(tmp_path / 'export'),
                             tmp_path / 'downloads')
  for url in ('file:///etc/passwd', 'ftp://example.com/a.jpg',
              'gs://bucket/a.jpg'):
    found = finder.find(media.media_for('a.jpg', url=url),
                        file='export.ndjson')
    assert found.path is None
    assert found.problem == (f'looked for a.jpg in images/, ./;'
                             f' {url} is not an http(s) URL, so it is not'
                             ' downloaded')
  assert not (tmp_path / 'downloads').exists()


def test_names_from_the_export_never_leave_it(tmp_path):
  (tmp_path / 'export' / 'images').mkdir(parents=True)
  (tmp_path / 'secret.jpg').write_bytes(b'x')
  (tmp_path / 'export' / 'images' / 'link.jpg').symlink_to(
      tmp_path / 'secret.jpg')
  finder = media.MediaFinder(ExportFiles(tmp_path / 'export'), None)
  hostile = ('../secret.jpg', '../../secret.jpg', str(tmp_path / 'secret.jpg'),
             'C:\\secret.jpg', 'a\0.jpg', '~/secret.jpg')
  for name in hostile:
    assert finder.find_local(media.Media((name,)), file='e.ndjson') is None
    refused = media.media_for(name, 'crow1')
    assert refused.refused == (name,)
    assert name not in refused.names
  assert finder.find_local(media.Media(('link.jpg',)), file='e.ndjson') is None
