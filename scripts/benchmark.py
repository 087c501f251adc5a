"""Build and read benchmark: tfds_builders against the hand-written loop.

Writes synthetic VOC and COCO exports of N photo-like 640x480 JPEGs
(`bench_export.py`), then measures, each in a fresh process
(`bench_tasks.py`, clock started after the imports):
  * build throughput of `voc_export` and `coco_export` (`boxes` config, plain
    and Beam with 2 workers; `voc_export/default` too) and of the OD API style
    hand-written converter on the same export;
  * read throughput of the training input pipeline from the shards, of the
    same decode + resize + batch on bytes in memory (the bound), and of
    loose files with the XML parsed every epoch;
  * peak resident memory of the builds at every size, and dataset bytes on
    disk against the source image bytes.

  python scripts/benchmark.py [--sizes 2000,10000] [--seed 0]
      [--work_dir DIR] [--skip_beam] [--skip_default_config] [--skip_coco]
      [--skip_stages]
      [--build_rounds 1] [--read_rounds 2] [--read_epochs 3]
      [--write_markdown docs/BENCHMARKS.md]
      [--json docs/benchmark_results.json]

`--write_markdown` replaces only the text between the build-read markers.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import importlib.metadata
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import bench_export

SCRIPTS = pathlib.Path(__file__).resolve().parent
PROJECT = SCRIPTS.parent
START_MARKER = '<!-- build-read:start -->'
END_MARKER = '<!-- build-read:end -->'
PACKAGES = ('tensorflow', 'tensorflow-datasets', 'apache-beam', 'pillow',
            'lxml', 'numpy', 'protobuf', 'pycocotools')
# Goals of issue 7.
GOAL_PLAIN_VS_LOOP = 1.0
GOAL_BEAM_VS_PLAIN = 1.6
GOAL_READ_VS_BOUND = 0.85
GOAL_MEMORY_GROWTH = 1.3
GOAL_DISK_VS_IMAGES = 1.05


def run_task(task: str, **flags) -> dict:
  """Runs one `bench_tasks.py` task in a fresh interpreter."""
  with tempfile.TemporaryDirectory() as tmp:
    result = pathlib.Path(tmp) / 'result.json'
    command = [sys.executable, str(SCRIPTS / 'bench_tasks.py'), task,
               '--result', str(result)]
    for flag, value in flags.items():
      if value is True:
        command.append(f'--{flag}')
      elif value not in (None, False):
        command += [f'--{flag}', str(value)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True,
                          check=False, cwd=PROJECT)
    if done.returncode:
      raise RuntimeError(f'{task} {flags} failed:\n{done.stderr[-4000:]}')
    data = json.loads(result.read_text())
  data['process_seconds'] = time.perf_counter() - start
  data['images_per_s'] = data['images'] / data['seconds']
  label = ' '.join(str(part) for part in (
      task, flags.get('name'), 'beam' if flags.get('beam') else None) if part)
  print(f'  {label.strip()}: {data["images"]} images in {data["seconds"]:.1f}'
        f' s = {data["images_per_s"]:.1f} images/s, peak RSS'
        f' {data["peak_rss_mb"]:.0f} MB', flush=True)
  return data


def shard_bytes(version_dir: pathlib.Path) -> int:
  return sum(p.stat().st_size for p in version_dir.iterdir()
             if '.tfrecord' in p.name)


def build(name: str, export: pathlib.Path, data_dir: pathlib.Path,
          beam: bool = False) -> dict:
  shutil.rmtree(data_dir, ignore_errors=True)  # else TFDS reuses it
  result = run_task('build', name=name, manual_dir=export, data_dir=data_dir,
                    beam=beam)
  result['shard_bytes'] = shard_bytes(pathlib.Path(result['version_dir']))
  return result


def best_of(rounds: int, contenders: dict) -> dict:
  """Runs every contender `rounds` times, interleaved so that they share the
  machine's load alike, and keeps each one's fastest run."""
  best = {}
  for _ in range(rounds):
    for key, run in contenders.items():
      result = run()
      rates = best.get(key, {}).get('all_images_per_s', [])
      if key not in best or result['images_per_s'] > best[key]['images_per_s']:
        best[key] = result
      best[key]['all_images_per_s'] = rates + [result['images_per_s']]
  return best


def formats(args) -> list[str]:
  return ['voc'] if args.skip_coco else ['voc', 'coco']


def measure_size(size: int, exports: dict, work: pathlib.Path, args) -> dict:
  """Every build of one export size, contenders back to back."""
  contenders = {}
  for fmt in formats(args):
    export = exports[fmt]
    contenders[f'{fmt}_loop'] = functools.partial(
        run_task, f'loop_{fmt}', manual_dir=export,
        output=work / f'loop_{fmt}_{size}.tfrecord')
    contenders[f'{fmt}_boxes_plain'] = functools.partial(
        build, f'{fmt}_export/boxes', export,
        work / f'{fmt}_boxes_plain_{size}')
    if not args.skip_beam:
      contenders[f'{fmt}_boxes_beam'] = functools.partial(
          build, f'{fmt}_export/boxes', export,
          work / f'{fmt}_boxes_beam_{size}', beam=True)
  if not args.skip_default_config:
    contenders['voc_default_plain'] = functools.partial(
        build, 'voc_export/default', exports['voc'],
        work / f'voc_default_{size}')
  results = best_of(args.build_rounds, contenders)
  results['source_image_bytes'] = bench_export.image_bytes(exports['voc'])
  return results


def measure_reads(size: int, exports: dict, version_dir: str, args) -> dict:
  results = best_of(args.read_rounds, {
      'shards': functools.partial(run_task, 'read_shards',
                                  version_dir=version_dir,
                                  epochs=args.read_epochs),
      'decode_only': functools.partial(run_task, 'read_memory',
                                       manual_dir=exports['voc'],
                                       epochs=args.read_epochs),
      'loose_files': functools.partial(run_task, 'read_loose',
                                       manual_dir=exports['voc'],
                                       epochs=args.read_epochs)})
  results['size'] = size
  return results


def measure_stages(exports: dict, work: pathlib.Path, args) -> dict:
  return {fmt: run_task('build_stages', name=f'{fmt}_export/boxes',
                        manual_dir=exports[fmt],
                        data_dir=work / f'stages_{fmt}')
          for fmt in formats(args)}


STAGE_ROWS = (
    ('parse the export', 'parse the export'),
    ('encode_record, all of it',
     'per-image encode (`encode_record`), of which:'),
    ('read image, check header', '- read image, check its header (Pillow)'),
    ('objects: boxes, polygon masks', '- objects: boxes, polygon rasterising'),
    ('segmentation_mask: paint', '- `segmentation_mask`: paint'),
    ('segmentation_mask: PNG encode', '- `segmentation_mask`: PNG encode'),
    ('TFDS: encode features, serialize', 'TFDS: encode features, serialize'),
    ('TFDS: shuffle, write shards', 'TFDS: shuffle, write shards'),
    ('source manifest', 'source manifest (sha256 of annotation files)'))
_TOP_LEVEL = ('parse the export', 'encode_record, all of it',
              'TFDS: encode features, serialize', 'TFDS: shuffle, write shards',
              'source manifest')


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


# Machine, versions, load.


def machine() -> dict:
  cpuinfo = pathlib.Path('/proc/cpuinfo').read_text()
  model = next((line.split(':', 1)[1].strip()
                for line in cpuinfo.splitlines()
                if line.startswith('model name')), 'unknown')
  meminfo = pathlib.Path('/proc/meminfo').read_text().split()
  ram_gb = int(meminfo[meminfo.index('MemTotal:') + 1]) / 1024**2
  versions = {'python': sys.version.split()[0]}
  for package in PACKAGES:
    try:
      versions[package] = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
      versions[package] = 'absent'
  commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=PROJECT,
                          capture_output=True, text=True, check=False)
  return {'cores': os.cpu_count(), 'cpu': model, 'ram_gb': round(ram_gb, 1),
          'versions': versions, 'commit': commit.stdout.strip()}


def load() -> dict:
  """Load average and the busiest processes (other people's work too)."""
  top = subprocess.run(['top', '-bn1', '-w', '200'], capture_output=True,
                       text=True, check=False).stdout.splitlines()
  header = next((i for i, line in enumerate(top) if 'PID' in line), len(top))
  busy = [line.split() for line in top[header + 1:header + 8]]
  busy = [f'{p[11][:20]} {p[8]}%' for p in busy
          if len(p) > 11 and float(p[8].replace(',', '.')) >= 5]
  return {'time': datetime.datetime.now().isoformat(timespec='seconds'),
          'loadavg_1_5_15': [round(v, 2) for v in os.getloadavg()],
          'busy_processes': busy}


# Summary, goals and markdown.


def ratio(a: float, b: float) -> float:
  return a / b if b else float('nan')


def goals(results: dict) -> list[dict]:
  """Each goal of issue 7 with the measured figure and whether it is met."""
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
    small, large = sizes[ordered[0]], sizes[ordered[-1]]
    for fmt in fmts:
      add(f'{fmt}_export/boxes peak RSS at N={ordered[-1]} / at'
          f' N={ordered[0]}',
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
           ' `scripts/benchmark.py` (numbers below are written by it; do not'
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
           ' (a third with a polygon), written by `scripts/bench_export.py`'
           f' with seed {results["seed"]}.', '',
           '### Build throughput (images/s)', '',
           f'Fastest of {settings["build_rounds"]} build(s) per contender,'
           ' contenders interleaved. The hand-written loop writes one'
           ' TFRecord with the OD API features (boxes, classes, sha256 key),'
           ' checking each image with Pillow; the builds also validate and'
           ' size every image from its header, split, write the'
           ' `segmentation_mask` PNG, the report and the source manifest.',
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
            'Peak resident memory (`ru_maxrss` of the build process; Beam'
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


def write_markdown(path: pathlib.Path, section: str) -> None:
  """Replaces the marked section, or appends it; other text is kept."""
  text = path.read_text() if path.is_file() else '# Benchmarks\n'
  if START_MARKER in text and END_MARKER in text:
    head, rest = text.split(START_MARKER, 1)
    tail = rest.split(END_MARKER, 1)[1]
    text = head + section + tail
  else:
    text = text.rstrip('\n') + '\n\n' + section + '\n'
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(text)


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__.split('\n')[0],
      formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--sizes', default='2000,10000',
                      help='export sizes N, comma separated')
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--work_dir', help='exports and builds go here (kept;'
                      ' exports are reused by later runs). Default: a'
                      ' temporary folder, deleted afterwards.')
  parser.add_argument('--skip_beam', action='store_true')
  parser.add_argument('--skip_default_config', action='store_true')
  parser.add_argument('--skip_stages', action='store_true',
                      help='no per-stage timing of the plain builds')
  parser.add_argument('--skip_coco', action='store_true',
                      help='VOC only (the quick test uses this)')
  parser.add_argument('--build_rounds', type=int, default=1,
                      help='builds per contender; the fastest is kept')
  parser.add_argument('--read_rounds', type=int, default=2,
                      help='read processes per pipeline; the fastest is kept')
  parser.add_argument('--read_epochs', type=int, default=3,
                      help='timed epochs per read process (after a warm-up'
                      ' epoch); the fastest is kept')
  parser.add_argument('--write_markdown', help='e.g. docs/BENCHMARKS.md')
  parser.add_argument('--json', help='raw results, e.g.'
                      ' docs/benchmark_results.json')
  args = parser.parse_args(argv)
  sizes = [int(s) for s in args.sizes.split(',')]
  work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix='benchmark_'))
  work.mkdir(parents=True, exist_ok=True)
  results = {'command': 'python scripts/benchmark.py ' + ' '.join(
      sys.argv[1:] if argv is None else argv), 'seed': args.seed,
             'machine': machine(), 'load_before': load(), 'sizes': {},
             'settings': {'formats': formats(args), **{
                 k: getattr(args, k) for k in (
                     'build_rounds', 'read_rounds', 'read_epochs')}}}
  try:
    start = time.perf_counter()
    exports = bench_export.make_exports(work, sizes, args.seed)
    results['export_seconds'] = time.perf_counter() - start
    print(f'exports ready in {results["export_seconds"]:.0f} s', flush=True)
    for size in sizes:
      print(f'N={size}', flush=True)
      results['sizes'][str(size)] = measure_size(size, exports[size], work,
                                                 args)
    read_size = sizes[0]
    print(f'reads, N={read_size}', flush=True)
    results['reads'] = measure_reads(
        read_size, exports[read_size],
        results['sizes'][str(read_size)]['voc_boxes_plain']['version_dir'],
        args)
    if not args.skip_stages:
      print(f'stages, N={read_size}', flush=True)
      results['stages_size'] = read_size
      results['stages'] = measure_stages(exports[read_size], work, args)
  finally:
    if not args.work_dir:
      shutil.rmtree(work, ignore_errors=True)
  results['load_after'] = load()
  results['goals'] = goals(results)
  for g in results['goals']:
    print(f'{"met" if g["met"] else "NOT MET"}: {g["goal"]}: {g["value"]:.2f}'
          f' (target {g["target"]})')
  if args.json:
    pathlib.Path(args.json).write_text(json.dumps(results, indent=1) + '\n')
  if args.write_markdown:
    write_markdown(pathlib.Path(args.write_markdown), markdown(results))
  return results


if __name__ == '__main__':
  main()
