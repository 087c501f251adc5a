"""Build speed, side by side: tfds_builders against a hand-written loop and
peers, on real photos (issue 13).

The export is the 200 raccoon photos of `../shared/data/raccoon_voc`
(labelImg XML) replicated to N images (3,000 by default) as a VOCdevkit,
and the same images as a COCO export. Each contender runs in a fresh process
(`bench_tasks.py`), its clock started after its imports; the contenders run
in alternating rounds and each one's median is kept:

  loop_voc, loop_coco     the hand-written OD API converter a user writes
                          (lxml or json, a Pillow format check, sha256,
                          tf.train.Example, TFRecordWriter)
  voc/coco boxes|default  `tfds build` of voc_export / coco_export, with the
                          full image checks of issue 12 on
  voc boxes, 1 process    the same without worker processes
  naive TFDS builder      a minimal builder yielding image bytes and boxes
  Datumaro                `voc_detection` -> `tf_detection_api` (with
                          `--peer_python`, from scripts/benchmarks/peers.sh)

It also times, in this process, what the image checks cost per image (the
full decode check against reading the header only).

  python -m scripts.benchmarks.speed [--images 3000] [--rounds 3]
      [--peer_python .venv-peers/bin/python] [--work_dir DIR]
      [--write_markdown docs/BENCHMARKS.md] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from scripts.benchmarks import bench_report
from scripts.benchmarks.benchmark import load, machine, run_task

PROJECT = pathlib.Path(__file__).resolve().parents[2]
RACCOON = PROJECT.parent / 'shared' / 'data' / 'raccoon_voc'
START_MARKER = '<!-- speed:start -->'
END_MARKER = '<!-- speed:end -->'
GOAL_BOXES = 1.0  # voc/coco boxes against the loop
GOAL_DEFAULT = 0.6


def write_exports(work: pathlib.Path, images: int) -> dict[str, pathlib.Path]:
  """The raccoon photos as an N-image VOCdevkit and COCO export (images are
  hard links, so the two exports share them)."""
  voc = work / f'voc_{images}'
  coco = work / f'coco_{images}'
  if (voc / 'done').exists() and (coco / 'done').exists():
    return {'voc': voc, 'coco': coco}
  shutil.rmtree(voc, ignore_errors=True)
  shutil.rmtree(coco, ignore_errors=True)
  devkit = voc / 'VOCdevkit' / 'VOC2012'
  for folder in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
    (devkit / folder).mkdir(parents=True)
  (coco / 'annotations').mkdir(parents=True)
  (coco / 'images').mkdir()
  sources = sorted((RACCOON / 'annotations').glob('*.xml'))
  ids, coco_images, coco_annotations = [], [], []
  for i in range(images):
    xml = sources[i % len(sources)].read_text()
    original = re.search(r'<filename>(.*?)</filename>', xml).group(1)
    stem = f'{sources[i % len(sources)].stem}_{i // len(sources):03d}'
    xml = xml.replace(f'<filename>{original}</filename>',
                      f'<filename>{stem}.jpg</filename>')
    (devkit / 'Annotations' / f'{stem}.xml').write_text(xml)
    os.link(RACCOON / 'images' / original, devkit / 'JPEGImages' /
            f'{stem}.jpg')
    os.link(RACCOON / 'images' / original, coco / 'images' / f'{stem}.jpg')
    ids.append(stem)
    size = {k: int(re.search(f'<{k}>(\\d+)</{k}>', xml).group(1))
            for k in ('width', 'height')}
    coco_images.append({'id': i + 1, 'file_name': f'{stem}.jpg', **size})
    for box in re.findall(r'<bndbox>(.*?)</bndbox>', xml, re.S):
      x0, y0, x1, y1 = (float(re.search(f'<{k}>(.*?)</{k}>', box).group(1))
                        for k in ('xmin', 'ymin', 'xmax', 'ymax'))
      coco_annotations.append({
          'id': len(coco_annotations) + 1, 'image_id': i + 1,
          'category_id': 1, 'bbox': [x0, y0, x1 - x0, y1 - y0],
          'area': (x1 - x0) * (y1 - y0), 'iscrowd': 0, 'segmentation': []})
  # Datumaro reads only the labels a labelmap.txt declares (raccoon is not a
  # VOC class); the builder takes its class list from it too.
  (devkit / 'labelmap.txt').write_text('# label:color_rgb:parts:actions\n'
                                       'background:0,0,0::\n'
                                       'raccoon:128,0,0::\n')
  lists = devkit / 'ImageSets' / 'Main'
  (lists / 'train.txt').write_text(''.join(
      f'{s}\n' for k, s in enumerate(ids) if k % 5))
  (lists / 'val.txt').write_text(''.join(
      f'{s}\n' for k, s in enumerate(ids) if not k % 5))
  (coco / 'annotations' / 'instances_default.json').write_text(json.dumps({
      'images': coco_images, 'annotations': coco_annotations,
      'categories': [{'id': 1, 'name': 'raccoon'}]}))
  (voc / 'done').touch()
  (coco / 'done').touch()
  return {'voc': voc, 'coco': coco}


def contenders(exports: dict, work: pathlib.Path, peer_python: str | None):
  def build(name, export, **flags):
    def run():
      data_dir = work / 'builds' / name.replace('/', '_')
      shutil.rmtree(data_dir, ignore_errors=True)
      return run_task('build', name=name, manual_dir=exports[export],
                      data_dir=data_dir, **flags)
    return run

  runs = {
      'loop_voc': lambda: run_task('loop_voc', manual_dir=exports['voc'],
                                   output=work / 'loop_voc.tfrecord'),
      'voc_boxes': build('voc_export/boxes', 'voc'),
      'voc_default': build('voc_export/default', 'voc'),
      'voc_boxes_1_process': build('voc_export/boxes', 'voc', workers=1),
      'naive_tfds_voc': lambda: run_task(
          'naive_voc', manual_dir=exports['voc'],
          data_dir=_fresh(work / 'builds' / 'naive')),
      'loop_coco': lambda: run_task('loop_coco', manual_dir=exports['coco'],
                                    output=work / 'loop_coco.tfrecord'),
      'coco_boxes': build('coco_export/boxes', 'coco'),
      'coco_default': build('coco_export/default', 'coco'),
  }
  if peer_python:
    runs['datumaro'] = lambda: _peer(peer_python, exports['voc'], work)
  return runs


def _fresh(folder: pathlib.Path) -> pathlib.Path:
  shutil.rmtree(folder, ignore_errors=True)
  return folder


def _peer(python: str, export: pathlib.Path, work: pathlib.Path) -> dict:
  output, result = _fresh(work / 'datumaro'), work / 'datumaro.json'
  source = next(export.rglob('VOC2012'))
  done = subprocess.run(
      [python, str(PROJECT / 'scripts' / 'benchmarks' / 'peer_datumaro.py'),
       str(source), str(output), str(result)], capture_output=True,
      text=True, check=False)
  if done.returncode:
    raise RuntimeError(f'datumaro failed:\n{done.stderr[-3000:]}')
  data = json.loads(result.read_text())
  data['images_per_s'] = data['images'] / data['seconds']
  print(f'  datumaro: {data["images"]} images in {data["seconds"]:.1f} s ='
        f' {data["images_per_s"]:.1f} images/s', flush=True)
  return data


def check_costs(export: pathlib.Path, limit: int = 600) -> dict:
  """Milliseconds per image of the full check and of the header alone."""
  from tfds_builders.core import images  # pylint: disable=g-import-not-at-top
  files = sorted(export.rglob('*.jpg'))[:limit]
  data = [f.read_bytes() for f in files]
  costs = {}
  for name, check in (('full decode check', images.check_image),
                      ('header only', images.check_header)):
    start = time.perf_counter()
    for item in data:
      check(item, file='x')
    costs[name] = (time.perf_counter() - start) / len(data) * 1000
  return costs


def measure(args) -> dict:
  work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix='speed_'))
  work.mkdir(parents=True, exist_ok=True)
  exports = write_exports(work, args.images)
  runs = contenders(exports, work, args.peer_python)
  rates: dict[str, list[float]] = {k: [] for k in runs}
  details = {}
  for round_no in range(args.rounds):
    print(f'round {round_no + 1}', flush=True)
    for name, run in runs.items():
      result = run()
      rates[name].append(result['images_per_s'])
      details[name] = result
  return {
      'command': 'python -m scripts.benchmarks.speed ' + ' '.join(
          sys.argv[1:]),
      'images': args.images, 'rounds': args.rounds, 'machine': machine(),
      'load': load(),
      'median_images_per_s': {k: statistics.median(v)
                              for k, v in rates.items()},
      'all_images_per_s': rates,
      'peak_rss_mb': {k: d.get('peak_rss_mb') for k, d in details.items()},
      'check_ms_per_image': check_costs(exports['voc'])}


def goals(results: dict) -> list[dict]:
  rate = results['median_images_per_s']
  out = []
  for fmt in ('voc', 'coco'):
    loop = rate[f'loop_{fmt}']
    for config, target in (('boxes', GOAL_BOXES),
                           ('default', GOAL_DEFAULT)):
      value = rate[f'{fmt}_{config}'] / loop
      out.append({'goal': f'{fmt}_export/{config} / hand-written loop',
                  'value': round(value, 3), 'target': target,
                  'met': value >= target})
  return out


def markdown(results: dict) -> str:
  rate, m = results['median_images_per_s'], results['machine']
  loops = {'voc': rate['loop_voc'], 'coco': rate['loop_coco']}
  labels = {
      'loop_voc': 'hand-written loop (VOC)',
      'voc_boxes': '`voc_export/boxes`',
      'voc_default': '`voc_export/default`',
      'voc_boxes_1_process': '`voc_export/boxes`, no worker processes',
      'naive_tfds_voc': 'minimal TFDS builder (image bytes + boxes)',
      'datumaro': 'Datumaro, VOC -> TF Detection API',
      'loop_coco': 'hand-written loop (COCO)',
      'coco_boxes': '`coco_export/boxes`',
      'coco_default': '`coco_export/default`'}
  lines = [
      START_MARKER, '## Build speed against the hand-written loop and'
      ' peers', '',
      f'Measured {results["load"]["time"]} by:', '', '```',
      results['command'], '```', '',
      f'{results["images"]} images: the 200 raccoon photos replicated, as a'
      ' VOCdevkit and as a COCO export. Machine: '
      f'{m["cores"]} cores, {m["cpu"]}; commit {m["commit"]}; load average'
      f' {results["load"]["loadavg_1_5_15"]}. Each contender in a fresh'
      ' process, clock started after its imports, median of'
      f' {results["rounds"]} alternating rounds. Every build runs the full'
      ' image checks (every JPEG scan decoded, PNG CRCs and data).', '',
      '| contender | images/s | vs its loop | peak RSS MB | all rounds |',
      '|---|---|---|---|---|']
  for name, label in labels.items():
    if name not in rate:
      continue
    fmt = 'coco' if name.startswith(('coco', 'loop_coco')) else 'voc'
    lines.append(
        f'| {label} | {rate[name]:.0f} | {rate[name] / loops[fmt]:.2f}x |'
        f' {results["peak_rss_mb"].get(name) or 0:.0f} | ' + ', '.join(
            f'{v:.0f}' for v in results['all_images_per_s'][name]) + ' |')
  lines += ['', 'Goals:', '']
  for g in results['goals']:
    lines.append(f'- {g["goal"]}: {g["value"]:.2f} (target'
                 f' {g["target"]}): {"met" if g["met"] else "not met"}')
  costs = results['check_ms_per_image']
  lines += ['', 'What the image checks cost, per raccoon photo, in one'
            ' process: ' + ', '.join(f'{k} {v:.2f} ms' for k, v in
                                     costs.items()) + '.', '', END_MARKER]
  return '\n'.join(lines)


def write_markdown(path: pathlib.Path, section: str) -> None:
  bench_report.write_markdown(path, section, START_MARKER, END_MARKER)


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__.split('\n')[0],
      formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--images', type=int, default=3000)
  parser.add_argument('--rounds', type=int, default=3)
  parser.add_argument('--peer_python', help='a Python with Datumaro'
                      ' (scripts/benchmarks/peers.sh makes .venv-peers)')
  parser.add_argument('--work_dir')
  parser.add_argument('--write_markdown')
  parser.add_argument('--json')
  args = parser.parse_args(argv)
  if not RACCOON.is_dir():
    raise SystemExit(f'{RACCOON} is absent: the speed benchmark needs the'
                     ' raccoon photos.')
  results = measure(args)
  results['goals'] = goals(results)
  bench_report.publish(results, args.json, args.write_markdown,
                       markdown(results), START_MARKER, END_MARKER)
  return results


if __name__ == '__main__':
  main()
