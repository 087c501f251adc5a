"""The goals of issue 7 and the "Build and read" section of BENCHMARKS.md,
from the results `benchmark.py` measured."""

from __future__ import annotations

import json
import pathlib

START_MARKER = '<!-- build-read:start -->'
END_MARKER = '<!-- build-read:end -->'

# Goals of issue 7.
GOAL_PLAIN_VS_LOOP = 1.0
GOAL_BEAM_VS_PLAIN = 1.6
GOAL_READ_VS_BOUND = 0.85
GOAL_MEMORY_GROWTH = 1.3
GOAL_DISK_VS_IMAGES = 1.05


def ratio(a: float, b: float) -> float:
  return a / b if b else float('nan')


def goals(results: dict) -> list[dict]:
  """Each goal of issues 7 and 13 with the measured figure and whether it is met."""
  sizes, fmts = results['sizes'], results['settings']['formats']
  out = []

  def add(name, value, target, at_most=False):
    met = value <= target if at_most else value >= target
    out.append({'goal': name, 'value': round(value, 3), 'target': target,
                'met': bool(met)})

  for size, r in sizes.items():
    for fmt in fmts:
      plain = r[f'{fmt}_boxes_plain']['images_per_s']
      add(f'{fmt}_export/boxes plain / hand-written loop, N={size}',
          ratio(plain, r[f'{fmt}_loop']['images_per_s']), GOAL_PLAIN_VS_LOOP)
      if f'{fmt}_boxes_beam' in r:
        add(f'{fmt}_export/boxes Beam (2 workers) / plain, N={size}',
            ratio(r[f'{fmt}_boxes_beam']['images_per_s'], plain),
            GOAL_BEAM_VS_PLAIN)
  reads = results['reads']
  add(f'read from shards / decode-only bound, N={reads["size"]}',
      ratio(reads['shards']['images_per_s'],
            reads['decode_only']['images_per_s']), GOAL_READ_VS_BOUND)
  ordered = sorted(sizes, key=int)
  if len(ordered) > 1:
    # Issue 13 states the growth from 2,000 to 10,000 images.
    base = '2000' if '2000' in ordered[:-1] else ordered[0]
    small, large = sizes[base], sizes[ordered[-1]]
    for fmt in fmts:
      add(f'{fmt}_export/boxes peak RSS at N={ordered[-1]} / at'
          f' N={base}',
          ratio(large[f'{fmt}_boxes_plain']['peak_rss_mb'],
                small[f'{fmt}_boxes_plain']['peak_rss_mb']),
          GOAL_MEMORY_GROWTH, at_most=True)
  for size, r in sizes.items():
    for fmt in fmts:
      add(f'{fmt}_export/boxes shards / source image bytes, N={size}',
          ratio(r[f'{fmt}_boxes_plain']['shard_bytes'],
                r['source_image_bytes']), GOAL_DISK_VS_IMAGES, at_most=True)
  return out


def _row(cells) -> str:
  return '| ' + ' | '.join(str(c) for c in cells) + ' |'


def markdown(results: dict) -> str:
  """The build-read section of BENCHMARKS.md, markers included."""
  m, sizes, settings = results['machine'], results['sizes'], results[
      'settings']
  lines = [START_MARKER, '## Build and read', '',
           f'Measured {results["load_before"]["time"]} by'
           ' `python -m scripts.benchmarks.benchmark` (numbers below are written by it; do not'
           ' edit by hand):', '', '```', results['command'], '```', '',
           f'Machine: {m["cores"]} cores, {m["cpu"]}, {m["ram_gb"]} GB RAM;'
           f' commit {m["commit"]}. Versions: ' + ', '.join(
               f'{k} {v}' for k, v in m['versions'].items()) + '.', '',
           'Load: 1/5/15-min load average before'
           f' {results["load_before"]["loadavg_1_5_15"]}, after'
           f' {results["load_after"]["loadavg_1_5_15"]}. '
           + ('Other processes were busy during the run (before: '
              + ', '.join(results['load_before']['busy_processes'] or ['-'])
              + '; after: '
              + ', '.join(results['load_after']['busy_processes'] or ['-'])
              + '), so timings are noisy.'
              if max(results['load_before']['loadavg_1_5_15'][0],
                     results['load_after']['loadavg_1_5_15'][0]) > 0.5
              else 'The machine was otherwise idle.'), '',
           'Every build and read runs in a fresh process; the clock starts'
           ' after Python, TensorFlow, TFDS (and Beam) are imported, for all'
           ' contenders alike. Beam times include starting its 2 worker'
           ' processes. Images: 640x480 photo-like JPEGs, 1-5 objects each'
           ' (a third with a polygon), written by `scripts/benchmarks/bench_export.py`'
           f' with seed {results["seed"]}.', '',
           '### Build throughput (images/s)', '',
           f'Fastest of {settings["build_rounds"]} build(s) per contender,'
           ' contenders interleaved. The hand-written loop writes one'
           ' TFRecord with the OD API features (boxes, classes, sha256 key),'
           ' checking each image\'s header with Pillow; the builds also'
           ' decode every JPEG scan (a truncated or corrupt file is skipped,'
           ' not stored), compare the real size with the declared one, split,'
           ' write the `segmentation_mask` PNG, the report and the source'
           ' manifest. The plain builds encode on one worker process per'
           ' core (2 here).',
           '',
           _row(['N', 'export', 'hand-written loop', 'plain build',
                 'plain / loop', 'Beam, 2 workers', 'Beam / plain',
                 'default config (plain)']),
           _row(['---'] * 8)]
  for size, r in sizes.items():
    for fmt in settings['formats']:
      loop = r[f'{fmt}_loop']['images_per_s']
      plain = r[f'{fmt}_boxes_plain']['images_per_s']
      beam = r.get(f'{fmt}_boxes_beam', {}).get('images_per_s')
      default = r.get(f'{fmt}_default_plain', {}).get('images_per_s')
      lines.append(_row([
          size, f'{fmt}_export/boxes', f'{loop:.1f}', f'{plain:.1f}',
          f'{ratio(plain, loop):.2f}x', f'{beam:.1f}' if beam else '-',
          f'{ratio(beam, plain):.2f}x' if beam else '-',
          f'{default:.1f}' if default else '-']))
  ordered = sorted(sizes, key=int)
  if len(ordered) > 1:
    small, large = ordered[0], ordered[-1]
    lines += ['', f'Marginal throughput between N={small} and N={large}'
              ' (extra images / extra seconds), which leaves out fixed costs'
              ' such as starting Beam workers:', '',
              _row(['contender', 'images/s']), _row(['---'] * 2)]
    for key in sizes[small]:
      if key in sizes[large] and isinstance(sizes[large][key], dict):
        a, b = sizes[small][key], sizes[large][key]
        lines.append(_row([key.replace('_', ' '), '{:.1f}'.format(ratio(
            b['images'] - a['images'], b['seconds'] - a['seconds']))]))
  reads = results['reads']
  bound = reads['decode_only']['images_per_s']
  lines += ['', '### Read throughput (images/s)', '',
            f'N={reads["size"]} images, decode JPEG + resize to 512x512 +'
            ' batch 32 + prefetch, `map(num_parallel_calls=AUTOTUNE)`. Each'
            f' pipeline ran in {settings["read_rounds"]} fresh processes'
            ' (interleaved with the others), each reading the repeated'
            ' dataset through one iterator: a warm-up epoch, then'
            f' {settings["read_epochs"]} timed epochs; the fastest epoch is'
            ' shown (the others measured the load).', '',
            _row(['pipeline', 'images/s', 'vs decode-only bound']),
            _row(['---'] * 3)]
  for key, label in (
      ('shards', 'voc_export/boxes shards, `SkipDecoding()` +'
                 ' `tf.io.decode_jpeg`'),
      ('decode_only', 'decode-only bound: same bytes in memory,'
                      ' `from_tensor_slices`'),
      ('loose_files', 'loose files, XML parsed every epoch'
                      ' (`from_generator`)')):
    value = reads[key]['images_per_s']
    lines.append(_row([label, f'{value:.1f}', f'{ratio(value, bound):.2f}x']))
  lines += ['', '### Memory and disk', '',
            'Peak resident memory (`VmHWM` of the build process; Beam'
            ' column: its largest worker) and dataset shard bytes against'
            ' the source JPEG bytes.', '',
            _row(['N', 'build', 'RSS after imports (MB)', 'peak RSS (MB)',
                  'shards (MB)', 'shards / images']),
            _row(['---'] * 6)]
  for size, r in sizes.items():
    source = r['source_image_bytes']
    for key in ('voc_boxes_plain', 'voc_boxes_beam', 'coco_boxes_plain',
                'coco_boxes_beam', 'voc_default_plain'):
      if key not in r:
        continue
      b = r[key]
      peak = (f'{b["peak_rss_mb"]:.0f} (worker {b["peak_child_rss_mb"]:.0f})'
              if 'beam' in key else f'{b["peak_rss_mb"]:.0f}')
      lines.append(_row([size, key.replace('_', ' '),
                         f'{b["rss_after_imports_mb"]:.0f}', peak,
                         f'{b["shard_bytes"] / 1e6:.1f}',
                         f'{ratio(b["shard_bytes"], source):.3f}x']))
    lines.append(_row([size, 'source JPEGs', '', '', f'{source / 1e6:.1f}',
                       '1.000x']))
  if results.get('stages'):
    lines += ['', '### Where a plain build spends its time', '',
              f'N={results["stages_size"]}, one more plain build with a timer'
              ' around each stage (`bench_tasks.py build_stages`); indented'
              ' rows are part of the row above them.', '']
    lines += stage_table(results)
  lines += ['', '### Goals', '', _row(['goal', 'measured', 'target', 'met']),
            _row(['---'] * 4)]
  for g in results['goals']:
    sign = '<=' if 'RSS' in g['goal'] or 'bytes' in g['goal'] else '>='
    lines.append(_row([g['goal'], f'{g["value"]:.2f}',
                       f'{sign} {g["target"]}', 'yes' if g['met'] else 'NO']))
  lines += ['', END_MARKER]
  return '\n'.join(lines)


def publish(results: dict, json_path: str | None, markdown_path: str | None,
            section: str, start: str = START_MARKER,
            end: str = END_MARKER) -> None:
  """Prints each of `results['goals']` met or not, and writes the raw
  results (`--json`) and the markdown section (`--write_markdown`)."""
  for g in results['goals']:
    print(f'{"met" if g["met"] else "NOT MET"}: {g["goal"]}: {g["value"]:.2f}'
          f' (target {g["target"]})')
  if json_path:
    pathlib.Path(json_path).write_text(json.dumps(results, indent=1) + '\n')
  if markdown_path:
    write_markdown(pathlib.Path(markdown_path), section, start, end)


def write_markdown(path: pathlib.Path, section: str,
                   start: str = START_MARKER, end: str = END_MARKER) -> None:
  """Replaces the section between `start` and `end` (the section holds the
  markers), or appends it; other text is kept. Every benchmark writes its
  own section of BENCHMARKS.md this way."""
  text = path.read_text() if path.is_file() else '# Benchmarks\n'
  if start in text and end in text:
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    text = head + section + tail
  else:
    text = text.rstrip('\n') + '\n\n' + section + '\n'
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(text)


STAGE_ROWS = (
    ('parse the export, classes, splits', 'parse the export, classes, splits'),
    ('encode_record, all of it',
     'per-image encode (`encode_record`), of which:'),
    ('image: read header, decode check',
     '- image: header, full decode check'),
    ('image: JPEG scans decoded (part of it)',
     '  - of which JPEG scans decoded (libjpeg-turbo, strict)'),
    ('objects: boxes, masks', '- objects: boxes, masks'),
    ('segmentation_mask: paint', '- `segmentation_mask`: paint'),
    ('masks: PNG encode', '- masks: PNG encode'),
    ('serialize the example', 'serialize the example'),
    ('TFDS: shuffle buffer', 'TFDS: shuffle buffer'),
    ('TFDS: shuffle, write shards', 'TFDS: shuffle, write shards'),
    ('source manifest', 'source manifest (sha256 of annotation files)'))
_TOP_LEVEL = ('parse the export, classes, splits', 'encode_record, all of it',
              'serialize the example', 'TFDS: shuffle buffer',
              'TFDS: shuffle, write shards', 'source manifest')


def stage_table(results: dict) -> list[str]:
  stages = results['stages']
  fmts = list(stages)
  size = str(results['stages_size'])

  def ms(seconds, fmt):
    return f'{seconds / stages[fmt]["images"] * 1e3:.2f}'

  lines = [_row(['stage (ms per image)'] + [f'{f}_export/boxes' for f in fmts]),
           _row(['---'] * (len(fmts) + 1))]
  for key, label in STAGE_ROWS:
    lines.append(_row([label] + [ms(stages[f]['stage_seconds'].get(key, 0), f)
                                 for f in fmts]))
  other = {f: stages[f]['seconds'] - sum(stages[f]['stage_seconds'].get(k, 0)
                                         for k in _TOP_LEVEL) for f in fmts}
  lines.append(_row(['everything else (TFDS set-up, report, metadata)'] +
                    [ms(other[f], f) for f in fmts]))
  lines.append(_row(['**whole build**'] + [ms(stages[f]['seconds'], f)
                                           for f in fmts]))
  lines.append(_row(['hand-written loop, same export, whole run'] + [
      ms(results['sizes'][size][f'{f}_loop']['seconds'], f) for f in fmts]))
  return lines
