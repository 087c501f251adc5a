"""Building a dataset from an export in a test, the way a user would."""

import json
import pathlib
import subprocess
import sys

import tensorflow_datasets as tfds

import tfds_builders  # pylint: disable=unused-import  (registers builders)


def build(name: str, manual_dir, data_dir, file_format=None,
          **download_kwargs):
  """Builds `name` (e.g. 'voc_export/boxes') and returns the builder."""
  builder = tfds.builder(name, data_dir=str(data_dir))
  builder.download_and_prepare(
      file_format=file_format,
      download_config=tfds.download.DownloadConfig(
          manual_dir=str(manual_dir), **download_kwargs))
  return builder


def read_report(builder) -> dict:
  return json.loads(
      (pathlib.Path(builder.data_dir) / 'build_report.json').read_text())


def examples(builder, split: str, **as_dataset_kwargs) -> list[dict]:
  """All examples of a split as numpy, keyed in file order."""
  ds = builder.as_dataset(split=split, shuffle_files=False,
                          **as_dataset_kwargs)
  return list(tfds.as_numpy(ds))


TFDS_CLI = str(pathlib.Path(sys.executable).parent / 'tfds')


def tfds_build(name: str, manual_dir, data_dir, *extra, check=True):
  """Runs the real `tfds build` command line; asserts it succeeded."""
  result = subprocess.run(
      [TFDS_CLI, 'build', name, '--imports', 'tfds_builders', '--manual_dir',
       str(manual_dir), '--data_dir', str(data_dir), *extra],
      capture_output=True, text=True, timeout=600, check=False)
  if check:
    assert result.returncode == 0, result.stderr[-4000:]
  return result


def build_report(name: str, export, tmp_path: pathlib.Path):
  """Builds and returns (report, builder); the accounting must balance."""
  builder = build(name, export, tmp_path / 'data')
  report = read_report(builder)
  assert report['nothing_lost'], report
  return report, builder


def only_issue(report: dict) -> dict:
  assert len(report['issues']) == 1, report['issues']
  return report['issues'][0]


def all_examples(builder) -> dict[str, dict]:
  """image id -> example, over all splits."""
  return {ex['image/id'].decode(): ex for split in builder.info.splits
          for ex in examples(builder, split)}


def shard_bytes(version_dir: pathlib.Path) -> dict[str, bytes]:
  """The bytes of every shard of a built dataset folder, by file name."""
  return {p.name: p.read_bytes() for p in sorted(version_dir.iterdir())
          if '.tfrecord' in p.name or '.array_record' in p.name}


# The peak resident memory of a child Python process, in KiB, as an expression
# to print from the child's script. Not `resource.getrusage().ru_maxrss`:
# Linux carries the parent's peak across fork and exec into the child's, so a
# child of a pytest process that has grown to 2 GB reports at least 2 GB.
# VmHWM belongs to the child's own address space, made new at exec.
CHILD_PEAK_RSS_KIB = (
    "int(next(line for line in open('/proc/self/status')"
    " if line.startswith('VmHWM:')).split()[1])")
