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

  python -m scripts.benchmarks.benchmark [--sizes 2000,10000] [--seed 0]
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

from scripts.benchmarks import bench_export
from scripts.benchmarks import bench_report

SCRIPTS = pathlib.Path(__file__).resolve().parent
PROJECT = SCRIPTS.parents[1]
PACKAGES = ('tensorflow', 'tensorflow-datasets', 'apache-beam', 'pillow',
            'lxml', 'numpy', 'protobuf', 'pycocotools')

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


def warm_page_cache(folder: pathlib.Path) -> None:
  """Reads every file once, so that no contender pays for the disk: exports
  are reused across runs, and the first contender to read a cold export
  measured half its speed."""
  for path in folder.rglob('*'):
    if path.is_file():
      path.read_bytes()


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
  for export in exports.values():
    warm_page_cache(export)
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
  results = {}
  for fmt in formats(args):
    data_dir = work / f'stages_{fmt}'
    shutil.rmtree(data_dir, ignore_errors=True)  # else TFDS reuses it
    results[fmt] = run_task('build_stages', name=f'{fmt}_export/boxes',
                            manual_dir=exports[fmt], data_dir=data_dir)
  return results


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
  results = {'command': 'python -m scripts.benchmarks.benchmark ' + ' '.join(
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
  results['goals'] = bench_report.goals(results)
  bench_report.publish(results, args.json, args.write_markdown,
                       bench_report.markdown(results))
  return results


if __name__ == '__main__':
  main()
