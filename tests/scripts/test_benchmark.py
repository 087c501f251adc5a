"""scripts/benchmarks at a tiny size, so the benchmark does not rot."""

import json
import subprocess
import sys

import pytest
import tensorflow as tf

from scripts.benchmarks import bench_export, bench_tasks
from tests.paths import PROJECT

SIZE = 12


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """One quick run: VOC only, no Beam, one read round of one epoch."""
  tmp = tmp_path_factory.mktemp('benchmark')
  markdown = tmp / 'BENCHMARKS.md'
  markdown.write_text('# Benchmarks\n\n## Training\n\nkept as is\n\n'
                      '<!-- build-read:start -->\nold\n'
                      '<!-- build-read:end -->\n\n## After\n')
  result = subprocess.run(
      [sys.executable, '-m', 'scripts.benchmarks.benchmark', '--sizes', str(SIZE),
       '--skip_beam', '--skip_default_config', '--skip_coco',
       '--read_rounds', '1', '--read_epochs', '1', '--work_dir',
       str(tmp / 'work'), '--json', str(tmp / 'results.json'),
       '--write_markdown', str(markdown)],
      capture_output=True, text=True, timeout=300, check=False, cwd=PROJECT)
  assert result.returncode == 0, result.stderr[-4000:]
  return tmp


def test_measures_every_contender(run):
  results = json.loads((run / 'results.json').read_text())
  size = results['sizes'][str(SIZE)]
  assert size['voc_loop']['images'] == SIZE
  build = size['voc_boxes_plain']
  assert build['images'] == SIZE and build['nothing_lost']
  assert build['peak_rss_mb'] >= build['rss_after_imports_mb'] > 0
  # JPEGs pass through: the shards are the images plus a few KB each.
  assert size['source_image_bytes'] < build['shard_bytes'] < (
      1.2 * size['source_image_bytes'])
  for pipeline in ('shards', 'decode_only', 'loose_files'):
    assert results['reads'][pipeline]['images'] == 32  # one batch at least
    assert results['reads'][pipeline]['images_per_s'] > 0
  goals = {g['goal'] for g in results['goals']}
  assert any('hand-written loop' in g for g in goals)
  assert any('decode-only bound' in g for g in goals)
  stages = results['stages']['voc']
  assert stages['images'] == SIZE
  assert 0 < stages['stage_seconds']['masks: PNG encode'] < (
      stages['stage_seconds']['encode_record, all of it'] < stages['seconds'])
  assert results['machine']['cores'] >= 1


def test_markdown_replaces_only_its_section(run):
  text = (run / 'BENCHMARKS.md').read_text()
  assert text.startswith('# Benchmarks\n\n## Training\n\nkept as is\n\n')
  assert text.endswith('<!-- build-read:end -->\n\n## After\n')
  assert '\nold\n' not in text and text.count('build-read:start') == 1
  assert '| N | export | hand-written loop |' in text
  assert '| **whole build** |' in text
  assert f'--sizes {SIZE}' in text


def test_export_is_photo_like_and_the_baseline_keeps_its_boxes(run):
  work = run / 'work'
  sizes = [p.stat().st_size
           for p in (work / f'voc_{SIZE}' / 'images').iterdir()]
  assert len(sizes) == SIZE and 50_000 < min(sizes) and max(sizes) < 160_000
  # Same seed, same bytes; image i does not depend on the export size.
  tiles = bench_export.texture_tiles(0)
  first, objects = bench_export.image_and_objects(0, 0, tiles)
  assert first == (work / 'image_pool' / 'img_000000.jpg').read_bytes()
  bench_export.write_coco(work / 'coco', work / 'image_pool',
                          [objects] * 3)
  output = work / 'loop_coco.tfrecord'
  args = type('Args', (), {'manual_dir': str(work / 'coco'),
                           'output': str(output)})
  assert bench_tasks.loop_coco(args)['images'] == 3
  record = next(iter(tf.data.TFRecordDataset(str(output))))
  features = tf.train.Example.FromString(record.numpy()).features.feature
  xmin = features['image/object/bbox/xmin'].float_list.value
  expected = [box[0] / bench_export.WIDTH for _, box, _ in objects]
  assert xmin == pytest.approx(expected, abs=1e-6)
  assert features['image/encoded'].bytes_list.value[0] == first
