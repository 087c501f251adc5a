"""What a Beam build's driver holds of an export before the pipeline runs.

  python -m scripts.benchmarks.beam_driver /tmp/bench/big/voc_1000 \
      /tmp/bench/big/voc_10000 --format voc

The driver parses the export (classes and splits are settled from all of
it before any example is encoded) and hands the image records to
`beam.Create`; workers read, check and encode the images. For each export,
in a fresh process, this prints the records' pickled size (what the
pipeline carries) and the driver's resident memory before and after the
parse. The DirectRunner's own memory (it keeps every serialized example for
the shard grouping) is the Beam row of `benchmark.py`'s memory table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_PROBE = """
import json, pickle, sys
from tfds_builders.core import pipeline
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.{fmt} import parse

def status_mb(field):
  for line in open('/proc/self/status'):
    if line.startswith(field + ':'):
      return int(line.split()[1]) / 1024

before = status_mb('VmRSS')
prepared = pipeline.prepare(ExportFiles(sys.argv[1]), parse.parse_export)
records = [r for split in prepared.by_split.values() for r in split]
print(json.dumps({{
    'images': len(records), 'pickled_mb': len(pickle.dumps(records)) / 2**20,
    'rss_before_mb': before, 'rss_after_mb': status_mb('VmRSS'),
    'peak_mb': status_mb('VmHWM')}}))
"""


def measure(export: str, fmt: str) -> dict:
  result = subprocess.run(
      [sys.executable, '-c', _PROBE.format(fmt=fmt), export],
      capture_output=True, text=True, check=True)
  return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('exports', nargs='+')
  parser.add_argument('--format', default='voc', choices=('voc', 'coco'))
  args = parser.parse_args(argv)
  print('| export | images | records pickled (MB) | bytes/image |'
        ' driver RSS before -> after parse (MB) |')
  print('| --- | --- | --- | --- | --- |')
  for export in args.exports:
    r = measure(export, args.format)
    print(f'| {export} | {r["images"]} | {r["pickled_mb"]:.1f} |'
          f' {r["pickled_mb"] * 2**20 / r["images"]:.0f} |'
          f' {r["rss_before_mb"]:.0f} -> {r["rss_after_mb"]:.0f} |')


if __name__ == '__main__':
  main()
