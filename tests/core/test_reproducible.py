"""Reproducible builds: same bytes twice, Beam = plain, killed builds, formats."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import tensorflow_datasets as tfds

from tests.builds import build, shard_bytes, tfds_build
from tests.paths import DUMMY_DATA
from tfds_builders.voc import VocExport

VOC_VERSION = str(VocExport.VERSION)

BEAM_OPTIONS = ('runner=DirectRunner,direct_running_mode=multi_processing,'
                'direct_num_workers=2')
# Fields TFDS stamps at build time; everything else must be identical.
_TIME_FIELDS = ('releaseDate', 'downloadSize', 'moduleName')


def stable_info(version_dir: pathlib.Path) -> dict:
  info = json.loads((version_dir / 'dataset_info.json').read_text())
  return {k: v for k, v in info.items() if k not in _TIME_FIELDS}


def test_two_builds_in_two_processes_are_byte_identical(tmp_path):
  export = DUMMY_DATA / 'voc' / 'vocdevkit'
  dirs = []
  for run in ('first', 'second'):
    tfds_build('voc_export', export, tmp_path / run, '--config', 'default')
    dirs.append(tmp_path / run / 'voc_export' / 'default' / VOC_VERSION)
  first, second = (shard_bytes(d) for d in dirs)
  assert first and first == second
  assert stable_info(dirs[0]) == stable_info(dirs[1])
  for name in ('features.json', 'metadata.json', 'objects-label.labels.txt'):
    assert (dirs[0] / name).read_bytes() == (dirs[1] / name).read_bytes()


def test_beam_and_plain_builds_write_the_same_examples(tmp_path):
  export = DUMMY_DATA / 'voc' / 'labelimg'
  tfds_build('voc_export', export, tmp_path / 'plain', '--config', 'default')
  result = tfds_build('voc_export', export, tmp_path / 'beam', '--config',
                      'default', f'--beam_pipeline_options={BEAM_OPTIONS}')
  assert 'train: 5 images, 10 objects' in result.stdout  # report merged
  plain = tmp_path / 'plain' / 'voc_export' / 'default' / VOC_VERSION
  beam = tmp_path / 'beam' / 'voc_export' / 'default' / VOC_VERSION
  assert shard_bytes(plain) == shard_bytes(beam)
  report = json.loads((beam / 'build_report.json').read_text())
  assert report['nothing_lost'] and len(report['issues']) == 1
  assert not (beam / '_summaries').exists()


def test_array_record_build_gives_random_access(tmp_path):
  export = DUMMY_DATA / 'voc' / 'vocdevkit'
  tfds_build('voc_export', export, tmp_path, '--config', 'boxes',
             '--file_format', 'array_record')
  source = tfds.data_source('voc_export/boxes', data_dir=str(tmp_path),
                            split='train')
  assert len(source) == 2
  ids = sorted(source[i]['image/id'].decode() for i in (1, 0))
  assert ids == ['2007_000001', '2007_000002']
  assert source[0]['image'].shape == (30, 40, 3)


def _children(pid: int) -> list[int]:
  children = []
  for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
    try:
      fields = stat.read_text().rsplit(')', 1)[1].split()
    except OSError:
      continue
    if int(fields[1]) == pid:
      children.append(int(stat.parent.name))
  return children


def _alive(pid: int) -> bool:
  try:
    state = pathlib.Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1]
  except OSError:
    return False
  return state.split()[0] != 'Z'


def test_killed_build_leaves_nothing_loadable_and_next_build_works(tmp_path):
  export = DUMMY_DATA / 'voc' / 'labelimg'
  # A build slowed down inside example generation, then SIGKILLed there.
  slow = (
      'import sys, time, tfds_builders.core.encode as e\n'
      'real = e.encode_record\n'
      'def slow(*a, **k):\n'
      '  open(sys.argv[1], "w").close(); time.sleep(60); return real(*a, **k)\n'
      'e.encode_record = slow\n'
      'import tfds_builders.core.builder as b; b.encode.encode_record = slow\n'
      'import tensorflow_datasets as tfds\n'
      'tfds.builder("voc_export/boxes", data_dir=sys.argv[2])'
      '.download_and_prepare(download_config=tfds.download.DownloadConfig('
      'manual_dir=sys.argv[3]))\n')
  started = tmp_path / 'generating'
  data_dir = tmp_path / 'data'
  proc = subprocess.Popen([sys.executable, '-c', slow, str(started),
                           str(data_dir), str(export)])
  deadline = time.time() + 120
  while not started.exists() and time.time() < deadline:
    time.sleep(0.2)
  assert started.exists(), 'the build never reached example generation'
  workers = _children(proc.pid)
  assert workers  # it encodes in worker processes
  os.kill(proc.pid, signal.SIGKILL)
  proc.wait()
  # Its workers die with it (they used to wait on their queue forever).
  deadline = time.time() + 10
  while any(_alive(w) for w in workers) and time.time() < deadline:
    time.sleep(0.1)
  assert not [w for w in workers if _alive(w)]
  builder = tfds.builder('voc_export/boxes', data_dir=str(data_dir))
  assert not builder.is_prepared()
  with pytest.raises(AssertionError, match='could not find data'):
    tfds.load('voc_export/boxes', data_dir=str(data_dir), download=False)
  build('voc_export/boxes', export, data_dir)
  ds = tfds.load('voc_export/boxes', data_dir=str(data_dir), split='train',
                 download=False)
  assert len(list(ds)) == 5


def test_rebuilding_a_version_from_another_export_warns(tmp_path):
  data_dir = tmp_path / 'data'
  tfds_build('voc_export', DUMMY_DATA / 'voc' / 'flat', data_dir, '--config',
             'boxes')
  again = tfds_build('voc_export', DUMMY_DATA / 'voc' / 'labelimg', data_dir,
                     '--config', 'boxes', '--overwrite')
  assert f'version {VOC_VERSION} was built before from a different export' in (
      again.stdout + again.stderr)
  assert 'bump VERSION' in again.stdout
  meta = json.loads((data_dir / 'voc_export' / 'boxes' / VOC_VERSION /
                     'metadata.json').read_text())
  assert 'annotations/photo_0.xml' in meta['source_manifest'][
      'annotation_files']
