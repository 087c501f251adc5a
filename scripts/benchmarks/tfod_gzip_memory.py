"""Peak memory of a plain `tfod_export` build of one gzip'ed record file,
as the file grows: records in a gzip'ed file cannot be read again at an
offset, so each image record carries its image, and the build must not
hold them all (`core.record_store`).

  python -m scripts.benchmarks.tfod_gzip_memory [--images 400,800]
      [--work_dir /tmp/bench/tfod_gz]

The images are one 900x900 noise JPEG (about 0.9 MB, so gzip cannot shrink
it) under N names. Each build runs in a fresh process; it prints the peak
resident memory (`VmHWM`) and the growth over the memory right after the
imports.
"""

from __future__ import annotations

import argparse
import io
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

_BUILD = """
import json, sys, time
import tensorflow as tf
import tensorflow_datasets as tfds
import tfds_builders
def status_mb(field):
  for line in open('/proc/self/status'):
    if line.startswith(field + ':'):
      return int(line.split()[1]) / 1024
rss = status_mb('VmRSS')
builder = tfds.builder('tfod_export/boxes', data_dir=sys.argv[2])
start = time.perf_counter()
builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
    manual_dir=sys.argv[1]))
print(json.dumps({'seconds': time.perf_counter() - start,
                  'rss_after_imports_mb': rss, 'peak_mb': status_mb('VmHWM')}))
"""


def write_export(folder: pathlib.Path, images: int) -> int:
  """A gzip'ed OD API record file of `images` records, written with the
  package's own OD API writer (`tfod.writer`); returns the image bytes."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tfds_builders.tfod import label_map, writer  # pylint: disable=g-import-not-at-top
  pixels = np.random.default_rng(0).integers(0, 255, (900, 900, 3),
                                             dtype=np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format='JPEG', quality=95)
  image = buffer.getvalue()
  shutil.rmtree(folder, ignore_errors=True)
  folder.mkdir(parents=True)
  label_map.write_label_map(folder / 'label_map.pbtxt', ['cat'])
  objects = {'bbox': [[0.1, 0.1, 0.5, 0.5]], 'label': [0],
             'is_difficult': [0], 'is_truncated': [0], 'is_crowd': [0],
             'area': [129600.0]}
  with tf.io.TFRecordWriter(str(folder / 'train.record.gz'),
                            options='GZIP') as records:
    for i in range(images):
      example = {'image': image, 'image/filename': f'{i}.jpg'.encode(),
                 'image/id': str(i).encode(), 'objects': objects}
      records.write(writer.tf_example(example, ['cat'], masks=False)
                    .SerializeToString())
  return images * len(image)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--images', default='400,800')
  parser.add_argument('--work_dir', default='/tmp/bench/tfod_gz')
  args = parser.parse_args(argv)
  work = pathlib.Path(args.work_dir)
  print('| images | image bytes (MB) | build (s) | RSS after imports (MB) |'
        ' peak RSS (MB) | growth (MB) |')
  print('| --- | --- | --- | --- | --- | --- |')
  for n in map(int, args.images.split(',')):
    export = work / f'export_{n}'
    image_bytes = write_export(export, n)
    data = work / f'data_{n}'
    shutil.rmtree(data, ignore_errors=True)
    result = subprocess.run([sys.executable, '-c', _BUILD, str(export),
                             str(data)], capture_output=True, text=True,
                            check=True)
    r = json.loads(result.stdout.strip().splitlines()[-1])
    print(f'| {n} | {image_bytes / 2**20:.0f} | {r["seconds"]:.1f} |'
          f' {r["rss_after_imports_mb"]:.0f} | {r["peak_mb"]:.0f} |'
          f' {r["peak_mb"] - r["rss_after_imports_mb"]:.0f} |')


if __name__ == '__main__':
  main()
