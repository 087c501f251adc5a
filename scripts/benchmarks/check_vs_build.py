"""`python -m tfds_builders check` against `tfds build`, side by side.

Writes a photo-like labelImg VOC export of N images (`bench_export`: 640x480
JPEGs of 60-150 KB, 1-5 objects each, a third with a polygon), then times,
each in a fresh process, in alternating rounds (median of `--rounds`):

  * check:          python -m tfds_builders check EXPORT
  * build boxes:    tfds build voc_export --config boxes ...
  * build default:  tfds build voc_export --config default ...

End to end is the wall time of the process. Each process also reports when
its imports are done (a two-line launcher runs the same entry point as
`python -m tfds_builders` / the `tfds` script after timing the imports), so
"work" is that run's end to end minus that run's own imports: on a shared
machine the import time of a separate process varies too much to subtract.
Once per size, `check --json` and the build's `build_report.json` must agree
on every split's images and objects.

  python -m scripts.benchmarks.check_vs_build [--sizes 2000,10000]
      [--rounds 3] [--seed 0] [--work_dir DIR]
      [--write_markdown docs/BENCHMARKS.md] [--json FILE]

`--write_markdown` replaces only the text between the check markers
(appended at the end the first time).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from scripts.benchmarks import bench_export
from scripts.benchmarks import bench_report
from scripts.benchmarks.benchmark import load, machine

PROJECT = pathlib.Path(__file__).resolve().parents[2]
TFDS = str(pathlib.Path(sys.executable).parent / 'tfds')
START_MARKER = '<!-- check:start -->'
END_MARKER = '<!-- check:end -->'
GOAL = 5.0  # check at least this many times faster than a build
# Each command as its entry point runs it, after timing its imports; the
# seconds go to the file named by $IMPORT_SECONDS_FILE.
_LAUNCH = (
    'import os, sys, time; start = time.perf_counter()\n'
    '{imports}\n'
    'open(os.environ["IMPORT_SECONDS_FILE"], "w").write('
    'str(time.perf_counter() - start))\n'
    '{run}\n')
LAUNCHERS = {
    # python -m tfds_builders, after its imports.
    'check': _LAUNCH.format(imports='import runpy, tfds_builders.cli.main',
                            run='runpy.run_module("tfds_builders",'
                            ' run_name="__main__", alter_sys=True)'),
    # .venv/bin/tfds; --imports tfds_builders then finds it imported.
    'build': _LAUNCH.format(
        imports='from tensorflow_datasets.scripts.cli.main import launch_cli;'
        ' import tfds_builders',
        run='sys.argv[0] = "tfds"; sys.exit(launch_cli())'),
}


def commands(export: pathlib.Path, data_dir: pathlib.Path) -> dict:
  build = [sys.executable, '-c', LAUNCHERS['build'], 'build', 'voc_export',
           '--imports', 'tfds_builders', '--manual_dir', str(export),
           '--data_dir', str(data_dir)]
  return {
      'check': [sys.executable, '-c', LAUNCHERS['check'], 'check',
                str(export)],
      'build boxes': build + ['--config', 'boxes'],
      'build default': build + ['--config', 'default'],
  }


def timed(command: list[str], data_dir: pathlib.Path) -> tuple[float, float]:
  """(end to end, imports) seconds of one run in a fresh process."""
  shutil.rmtree(data_dir, ignore_errors=True)  # a fresh build every time
  with tempfile.TemporaryDirectory() as tmp:
    seconds_file = pathlib.Path(tmp) / 'imports'
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True,
                          cwd=PROJECT, check=False,
                          env={**os.environ,
                               'IMPORT_SECONDS_FILE': str(seconds_file)})
    seconds = time.perf_counter() - start
    if done.returncode:
      raise RuntimeError(f'{command[3:]} exited {done.returncode}:\n'
                         f'{done.stdout[-2000:]}\n{done.stderr[-4000:]}')
    return seconds, float(seconds_file.read_text())


# Where check's time goes, timed in one more fresh process: the steps of
# `check.check`, one after the other.
_STAGES = """
import json, sys, tempfile, time
import tensorflow_datasets as tfds
from tfds_builders.cli import check, detect
from tfds_builders.core import pipeline
from tfds_builders.core.exportfs import ExportFiles
seconds, start = {}, time.perf_counter()
def lap(name):
  global start
  seconds[name] = time.perf_counter() - start
  start = time.perf_counter()
files = ExportFiles(sys.argv[1]); files.files(); lap('walk the export')
detect.detect(files); lap('detect the format')
with tempfile.TemporaryDirectory() as scratch:
  builder = tfds.builder('voc_export/default', data_dir=scratch)
  prepared = builder.prepare_export(files); lap('parse (voc_export) and split')
  summaries = check._encode_in_batches(
      prepared, builder.encode_options(check_only=True))
  lap('check every image (core.encode, check_only)')
  pipeline.make_report(prepared, 'x', summaries).to_json(); lap('report')
print(json.dumps(seconds))
"""


def stages(export: pathlib.Path) -> dict:
  done = subprocess.run([sys.executable, '-c', _STAGES, str(export)],
                        capture_output=True, text=True, cwd=PROJECT,
                        check=True)
  return json.loads(done.stdout.splitlines()[-1])


def agree(export: pathlib.Path, data_dir: pathlib.Path) -> dict:
  """check --json and the last build's report: the same splits and counts."""
  done = subprocess.run(
      [sys.executable, '-m', 'tfds_builders', 'check', str(export), '--json'],
      capture_output=True, text=True, cwd=PROJECT, check=True)
  checked = json.loads(done.stdout)['splits']
  built = json.loads(next(data_dir.rglob('build_report.json')).read_text())
  if checked != built['splits']:
    raise AssertionError(f'check and build disagree:\n{checked}\n'
                         f'{built["splits"]}')
  return {s: {'images': v['images'], 'objects': v['objects']}
          for s, v in checked.items()}


def measure(size: int, export: pathlib.Path, work: pathlib.Path,
            rounds: int) -> dict:
  data_dir = work / f'data_{size}'
  runs = commands(export, data_dir)
  seconds = {name: [] for name in runs}
  imports = {name: [] for name in runs}
  for round_index in range(rounds):
    # Alternate: every contender once per round, the order turned each round
    # so that none always runs after the same neighbour.
    names = list(runs)[round_index % len(runs):] + list(runs)[
        :round_index % len(runs)]
    for name in names:
      total, imported = timed(runs[name], data_dir)
      seconds[name].append(total)
      imports[name].append(imported)
      print(f'  N={size} {name}: {total:.1f} s ({imported:.1f} s imports)',
            flush=True)
  timed(runs['build default'], data_dir)  # leave one report to compare
  counts = agree(export, data_dir)
  shutil.rmtree(data_dir, ignore_errors=True)
  result = {'images': size, 'splits': counts, 'all_seconds': seconds,
            'all_import_seconds': imports, 'check_stages_s': stages(export)}
  for name in runs:
    work_s = statistics.median(t - i for t, i in zip(seconds[name],
                                                     imports[name]))
    result[name] = {'end_to_end_s': statistics.median(seconds[name]),
                    'imports_s': statistics.median(imports[name]),
                    'work_s': work_s, 'images_per_s': size / work_s}
  for name in ('build boxes', 'build default'):
    result[f'{name} / check'] = {
        'end_to_end': result[name]['end_to_end_s'] /
                      result['check']['end_to_end_s'],
        'work': result[name]['work_s'] / result['check']['work_s']}
  return result


def markdown(results: dict, command: str) -> str:
  m, before, after = results['machine'], results['load_before'], \
      results['load_after']
  lines = [
      START_MARKER, '## Check against build', '',
      f'Measured {results["time"]} with:', '', '```', command, '```', '',
      f'Machine: {m["cores"]} cores, {m["cpu"]}, {m["ram_gb"]} GB RAM;'
      f' commit {m["commit"]}. Load average before'
      f' {before["loadavg_1_5_15"]}, after {after["loadavg_1_5_15"]}'
      + (f' (busy: {", ".join(before["busy_processes"])})'
         if before['busy_processes'] else '') + '.', '',
      'Each command runs in a fresh process; median of'
      f' {results["rounds"]} alternating rounds. End to end is the wall time'
      ' of the process; "work" is each run\'s end to end minus the time its'
      ' own imports took (timed inside the process, which then runs the'
      ' command\'s entry point: `tfds_builders/__main__.py` for check,'
      ' `launch_cli` of the `tfds` script for the builds). Export:'
      ' labelImg-style VOC of photo-like 640x480 JPEGs, 1-5 objects each'
      f' (`bench_export`, seed {results["seed"]}). check and the build'
      ' report agree on every split\'s images and objects.', '',
      '| N | command | end to end (s) | imports (s) | work (s) | images/s'
      ' (work) | build / check, end to end | build / check, work |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |']
  for size, r in results['sizes'].items():
    for name in ('check', 'build boxes', 'build default'):
      row = r[name]
      ratios = r.get(f'{name} / check')
      lines.append(
          f'| {size} | {name} | {row["end_to_end_s"]:.1f} |'
          f' {row["imports_s"]:.1f} | {row["work_s"]:.1f} |'
          f' {row["images_per_s"]:.0f} |'
          + (f' {ratios["end_to_end"]:.1f}x | {ratios["work"]:.1f}x |'
             if ratios else ' | |'))
  lines += ['', results['verdict'], '',
            'Where check\'s work goes (one more run, in-process timers; ms per'
            ' image):', '',
            '| stage | ' + ' | '.join(f'N={n}' for n in results['sizes'])
            + ' |', '| --- |' + ' --- |' * len(results['sizes'])]
  first = next(iter(results['sizes'].values()))
  for stage in first['check_stages_s']:
    lines.append(f'| {stage} | ' + ' | '.join(
        f'{1000 * r["check_stages_s"][stage] / r["images"]:.2f}'
        for r in results['sizes'].values()) + ' |')
  lines += [
      '', 'What bounds check, from the rows above: check no longer imports'
      ' TensorFlow (`import tfds_builders` registers the builders lazily), reads'
      ' only each image\'s header (a build also decodes every JPEG scan) and'
      ' does not rasterise polygons (their outline gives the extent that'
      ' bbox/segmentation disagreement needs). What is left is the parse, which'
      ' check and build share and which is Python per object (`voc/objects.py`:'
      ' find each tag, validate each number), and reading and hashing every'
      ' file. A build spends its extra time on the full image decode check,'
      ' the masks, serialization and writing (the stage table under Build and'
      ' read), so the ratio is the build\'s per-image cost over the'
      ' parse\'s.', END_MARKER]
  return '\n'.join(lines)


def verdict(results: dict) -> str:
  ratios = [r[f'{name} / check'] for r in results['sizes'].values()
            for name in ('build boxes', 'build default')]
  work = min(r['work'] for r in ratios)
  end_to_end = min(r['end_to_end'] for r in ratios)
  return (f'Against either build, at every N, check does the work at least'
          f' {work:.1f}x faster (goal {GOAL:g}x: '
          f'{"met" if work >= GOAL else "not met"}); end to end, imports'
          f' included, at least {end_to_end:.1f}x.')


def write_markdown(path: pathlib.Path, section: str) -> None:
  bench_report.write_markdown(path, section, START_MARKER, END_MARKER)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
  parser.add_argument('--sizes', default='2000,10000')
  parser.add_argument('--rounds', type=int, default=3)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--work_dir', default=str(
      pathlib.Path(tempfile.gettempdir()) / 'tfds_builders_check_bench'),
                      help='exports go here and are reused (default: %('
                      'default)s)')
  parser.add_argument('--write_markdown')
  parser.add_argument('--json')
  args = parser.parse_args(argv)
  sizes = [int(s) for s in args.sizes.split(',')]
  work = pathlib.Path(args.work_dir)
  pool = work / 'image_pool'
  objects = bench_export.write_image_pool(pool, max(sizes), args.seed,
                                          workers=os.cpu_count() or 2)
  results = {'time': datetime.datetime.now().isoformat(timespec='seconds'),
             'machine': machine(), 'load_before': load(),
             'rounds': args.rounds, 'seed': args.seed, 'sizes': {}}
  for size in sizes:
    export = work / f'voc_{size}'
    if not (export / 'annotations').is_dir():
      bench_export.write_voc(export, pool, objects[:size])
    results['sizes'][size] = measure(size, export, work, args.rounds)
  results['load_after'] = load()
  results['verdict'] = verdict(results)
  print(results['verdict'])
  command = 'python -m scripts.benchmarks.check_vs_build ' + ' '.join(
      argv if argv is not None else sys.argv[1:])
  if args.write_markdown:
    write_markdown(pathlib.Path(args.write_markdown),
                   markdown(results, command.strip()))
  if args.json:
    pathlib.Path(args.json).write_text(json.dumps(results, indent=2) + '\n')


if __name__ == '__main__':
  main()
