"""What a Beam build's driver holds of an export, and what its pipeline
graph carries to the runner.

  python -m scripts.benchmarks.beam_driver /tmp/bench/big/voc_1000 \
      /tmp/bench/big/voc_10000 --format voc

The driver parses the export (classes and splits are settled from all of
it before any example is encoded); as the builder does, each image record
goes to a chunk file as it is read (`core.record_store`), and the pipeline
carries the chunk paths; workers read the records, then the images. For
each export, in a fresh process, this prints the driver's resident memory
before and after the parse and its peak, and the size of the pipeline graph
(what a runner ships to its service) with the chunk paths against a
`beam.Create` of the records themselves (the earlier design, whose driver
also held every record: `--in_memory` measures that driver). The
DirectRunner's own memory (it keeps every serialized example for the shard
grouping) is the Beam row of `benchmark.py`'s memory table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_PROBE = """
import contextlib, gc, json, sys, tempfile
import apache_beam as beam
from tfds_builders.core import beam_encode, encode, pipeline, record_store
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.{fmt} import parse

def status_mb(field):
  for line in open('/proc/self/status'):
    if line.startswith(field + ':'):
      return int(line.split()[1]) / 1024

def graph_bytes(transform):
  p = beam.Pipeline()
  _ = p | transform
  return len(p.to_runner_api().SerializeToString())

in_memory = sys.argv[2] == 'in_memory'
with tempfile.TemporaryDirectory() as folder:
  before = status_mb('VmRSS')
  with (contextlib.nullcontext() if in_memory
        else record_store.spilling_to(folder)):
    prepared = pipeline.prepare(ExportFiles(sys.argv[1]), parse.parse_export)
  if not in_memory:  # as the builder does: by_split holds the records
    prepared.parsed.records = []
  gc.collect()
  after_parse, peak = status_mb('VmRSS'), status_mb('VmHWM')
  images = sum(map(len, prepared.by_split.values()))
  new_graph = old_graph = 0
  for split, records in prepared.by_split.items():
    paths = record_store.chunk_paths(records, f'{{folder}}/{{split}}')
    new_graph += graph_bytes(beam_encode.EncodeRecords(
        split, paths, prepared.classes, encode.EncodeOptions(), folder))
    old_graph += graph_bytes(beam.Create(list(records)))
print(json.dumps({{
    'images': images, 'rss_before_mb': before,
    'rss_after_parse_mb': after_parse, 'peak_mb': peak,
    'graph_create_records': old_graph, 'graph_chunk_paths': new_graph}}))
"""


def measure(export: str, fmt: str, in_memory: bool = False) -> dict:
  result = subprocess.run(
      [sys.executable, '-c', _PROBE.format(fmt=fmt), export,
       'in_memory' if in_memory else 'spilled'],
      capture_output=True, text=True, check=True)
  return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('exports', nargs='+')
  parser.add_argument('--format', default='voc',
                      choices=('voc', 'coco', 'yolo', 'tfod'))
  parser.add_argument('--in_memory', action='store_true',
                      help='keep the records in memory (the earlier driver)')
  args = parser.parse_args(argv)
  print('| export | images | driver RSS before -> after parse (MB) |'
        ' driver peak (MB) | graph, Create(records) (KB) | graph, chunk'
        ' paths (KB) |')
  print('| --- | --- | --- | --- | --- | --- |')
  for export in args.exports:
    r = measure(export, args.format, args.in_memory)
    print(f'| {export} | {r["images"]} | {r["rss_before_mb"]:.0f} ->'
          f' {r["rss_after_parse_mb"]:.0f} | {r["peak_mb"]:.0f} |'
          f' {r["graph_create_records"] / 1024:.0f} |'
          f' {r["graph_chunk_paths"] / 1024:.0f} |')


if __name__ == '__main__':
  main()
